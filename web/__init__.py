"""HTTP API (flask-smorest), authentication, errors and the command line.

``create_app(config=None)`` builds the Flask application.
"""

from web.app import create_app

__all__ = ["create_app"]
