"""The WSGI entry point for production servers: ``gunicorn web.wsgi:app``
(configuration from the environment; see ``web/gunicorn_conf.py``)."""

from web.app import create_app

app = create_app()
