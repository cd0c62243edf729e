"""Rate limiting per API token (issue 6), with Flask-Limiter.

Each bearer token (or, without one, each client address) may make
``RATE_LIMIT`` requests (default 600 per minute) to ``/api`` in all,
whatever the endpoints; beyond that the answer is 429 with ``Retry-After``.
Each client address may also fail authentication ``FAILED_AUTH_LIMIT``
times a minute; past that, its requests are refused until the minute is
over, so made-up tokens cannot flood the token lookups. Counters live in
Redis when ``REDIS_URL`` is set, so every worker process shares them;
otherwise, and whenever Redis does not answer, in the process's memory.
"""

from __future__ import annotations

import math
import time

from flask import Flask, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded

from services.users import hash_token
from web.auth import bearer_token, is_public_path
from web.errors import problem

FAILED_AUTH_LIMIT = "60 per minute"


def token_key() -> str:
    """The request's bearer token (hashed; however its header is spelt), or
    the client address when there is none."""
    token = bearer_token()
    if token is not None:
        return "token:" + hash_token(token)[:32]
    return address_key()


def address_key() -> str:
    """The client address."""
    return f"address:{request.remote_addr}"


def init_app(app: Flask) -> Limiter:
    """Limit every ``/api`` request by ``token_key`` and failed
    authentications by ``address_key``; answer 429 with
    ``Retry-After`` (seconds until the window frees a request) and the
    ``X-RateLimit-*`` headers."""
    redis_url = app.config.get("REDIS_URL")
    limiter = Limiter(
        token_key, app=app, application_limits=[
            ApplicationLimit(app.config["RATE_LIMIT"], key_function=token_key, exempt_when=is_public_path, scope="token",
                             error_message=f"more than {app.config['RATE_LIMIT']} for this API token"),
            ApplicationLimit(FAILED_AUTH_LIMIT, key_function=address_key, exempt_when=is_public_path, scope="failed-auth",
                             deduct_when=lambda response: response.status_code == 401,
                             error_message=f"more than {FAILED_AUTH_LIMIT} failed authentications from your "
                                           "address")],
        storage_uri=redis_url or "memory://", headers_enabled=False, in_memory_fallback_enabled=True,
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1} if redis_url else {},
        key_prefix="ppaflow")

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(error: RateLimitExceeded):
        current = limiter.current_limit
        reset_at = current.reset_at if current else time.time() + 60
        return problem(429, "too_many_requests", "Too many requests", f"{error.description}; slow down", headers={
                           "Retry-After": str(max(1, math.ceil(reset_at - time.time()))),
                           "X-RateLimit-Limit": str(current.limit.amount) if current else "",
                           "X-RateLimit-Reset": str(int(reset_at))})

    return limiter
