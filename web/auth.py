"""Bearer-token authentication for ``/api`` (docs/design.md §5), and the request id.

Every ``/api`` request except the OpenAPI document needs
``Authorization: Bearer <token>``; without a valid one the answer is 401,
and a token offered in the URL (``?access_token=``) is refused the same way.
The authenticated user is ``g.user`` for the rest of the request, and the
audit trail records changes as theirs.

Every request has an id: the client's ``X-Request-ID`` when it is a sane
token, else a new one; it is echoed in the response's ``X-Request-ID`` and
recorded with every audited change.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, g, request

from db.audit import AuditContext, set_context
from db.models import User
from services import users
from workflow.errors import Unauthenticated

#: ``/api/public/``: what anyone may read without an account (docs/design.md §14).
PUBLIC_PREFIXES = ("/api/openapi.json", "/api/docs", "/api/public/")
#: Query parameters a client might put a token in: refused outright, even beside a good header.
URL_TOKEN_PARAMETERS = frozenset({"access_token", "api_token", "token", "apikey", "api_key"})
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def current_user() -> User:
    """The user of the current request."""
    return g.user


def is_public_path() -> bool:
    """True for paths anyone may request without a token and without a rate
    limit: health checks, the OpenAPI document and everything outside ``/api``."""
    return not request.path.startswith("/api") or request.path.startswith(PUBLIC_PREFIXES)


def bearer_token() -> str | None:
    """The token of the request's ``Authorization: Bearer <token>`` header
    (scheme in any case, surrounding blanks ignored), or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def init_request_ids(app: Flask) -> None:
    """Give every request an id (first of all, so every answer carries it)."""

    @app.before_request
    def assign_request_id() -> None:
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        set_context(AuditContext(request_id=g.request_id))

    @app.after_request
    def echo_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    @app.teardown_request
    def forget_audit_context(_error=None) -> None:
        # The context belongs to this request: work done later in the same
        # thread (a reused server thread, a benchmark, a test) must not be
        # recorded as this user's, whose row may be gone by then.
        set_context(AuditContext())


def init_app(app: Flask) -> None:
    """Authenticate every ``/api`` request."""

    @app.before_request
    def authenticate_request() -> None:
        if is_public_path():
            return
        if URL_TOKEN_PARAMETERS.intersection(request.args):
            raise Unauthenticated("an API token is never taken from a URL (it would leak into logs and "
                                  "histories): send it as 'Authorization: Bearer <token>'")
        token = bearer_token()
        if token is None:
            raise Unauthenticated("send your API token as 'Authorization: Bearer <token>'")
        g.user = users.authenticate(token)
        g.username = g.user.username  # for the logs, which must not load anything once the request ends
        set_context(AuditContext(actor_id=g.user.id, actor=g.user.username, request_id=g.request_id))
