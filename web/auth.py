"""Bearer-token authentication for ``/api`` (DESIGN §5).

Every ``/api`` request except the OpenAPI document needs
``Authorization: Bearer <token>``; without a valid one the answer is 401.
The authenticated user is ``g.user`` for the rest of the request.
"""

from __future__ import annotations

from flask import Flask, g, request

from db.models import User
from services import users
from workflow.errors import Unauthenticated

PUBLIC_PREFIXES = ("/api/openapi.json", "/api/docs")


def current_user() -> User:
    """The user of the current request."""
    return g.user


def init_app(app: Flask) -> None:
    """Authenticate every ``/api`` request before its view runs."""

    @app.before_request
    def authenticate_request() -> None:
        if not request.path.startswith("/api") or request.path.startswith(PUBLIC_PREFIXES):
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send your API token as 'Authorization: Bearer <token>'")
        g.user = users.authenticate(token.strip())
