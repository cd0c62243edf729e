"""Rate limits (issues 6 and 10), with Flask-Limiter and its ``limits`` library.

Two limits, each answered with 429, ``Retry-After`` and the
``X-RateLimit-*`` headers:

- every bearer token (or, without one, each client address) may make
  ``RATE_LIMIT`` requests (default 600 per minute) to ``/api`` in all,
  whatever the endpoints;
- every client address may fail authentication ``FAILED_AUTH_LIMIT`` times
  (default 60 per minute). Only requests that fail authentication count,
  and only they are refused past the limit: the token is looked up first,
  so a valid token is never refused because of the address it comes from
  (behind a reverse proxy, everyone shares one address).

The client address is the peer's, unless ``TRUSTED_PROXIES`` says how many
reverse proxies stand in front (``web.app`` then applies werkzeug's
``ProxyFix``); without it ``X-Forwarded-For`` is ignored, so a forged header
cannot escape the limit. Counters live in Redis when ``REDIS_URL`` is set,
so every worker process shares them; otherwise, and whenever Redis does not
answer, in the process's memory.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded
from limits import parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from services.users import hash_token
from web.auth import bearer_token, is_public_path
from web.errors import domain_problem, problem
from workflow.errors import Unauthenticated

log = logging.getLogger("ppaflow.web")

REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def token_key() -> str:
    """The request's bearer token (hashed; however its header is spelt), or
    the client address when there is none."""
    token = bearer_token()
    if token is not None:
        return "token:" + hash_token(token)[:32]
    return address_key()


def address_key() -> str:
    """The client address (the peer, or what ``TRUSTED_PROXIES`` hops of
    ``X-Forwarded-For`` say it is)."""
    return f"address:{request.remote_addr}"


class FailedAuthentications:
    """Counts the requests of each client address that fail authentication,
    in fixed windows like Flask-Limiter's, in Redis when given, else (and
    while Redis does not answer) in this process.

    Args:
        limits: the limit in Flask-Limiter notation (``60 per minute``; several
            separated by ``;``).
        redis_url: where to share the counts, or ``None``.
    """

    def __init__(self, limits: str, redis_url: str | None):
        self.limits = parse_many(limits)
        self.description = limits
        self.local = FixedWindowRateLimiter(MemoryStorage())
        self.shared = (FixedWindowRateLimiter(storage_from_string(redis_url, **REDIS_OPTIONS)) if redis_url
                       else self.local)

    def count(self, address: str) -> float | None:
        """Count one failed authentication from ``address``.

        Returns:
            ``None`` while the address is within the limit, else the time
            (seconds since the epoch) when it may try again.
        """
        if self.shared is not self.local:
            try:
                return self._hit(self.shared, address)
            except Exception as exc:  # noqa: BLE001 - any storage failure: count locally (as Flask-Limiter does)
                log.warning("rate limit storage unreachable, counting failed authentications in memory: %s", exc)
        return self._hit(self.local, address)

    def _hit(self, strategy: FixedWindowRateLimiter, address: str) -> float | None:
        keys = ("ppaflow", "failed-auth", address)
        refused = [limit for limit in self.limits if not strategy.hit(limit, *keys)]
        if not refused:
            return None
        return max(strategy.get_window_stats(limit, *keys).reset_time for limit in refused)


def too_many(detail: str, reset_at: float, limit: int | str) -> Response:
    """A 429 problem telling the client when to come back."""
    return problem(429, "too_many_requests", "Too many requests", f"{detail}; slow down", headers={
        "Retry-After": str(max(1, math.ceil(reset_at - time.time()))),
        "X-RateLimit-Limit": str(limit), "X-RateLimit-Reset": str(int(reset_at))})


def init_app(app: Flask) -> Limiter:
    """Limit every ``/api`` request by ``token_key``, and the requests that
    fail authentication (``Unauthenticated``, raised by ``web.auth``) by
    ``address_key``."""
    redis_url = app.config.get("REDIS_URL")
    limiter = Limiter(
        token_key, app=app, application_limits=[
            ApplicationLimit(app.config["RATE_LIMIT"], key_function=token_key, exempt_when=is_public_path, scope="token",
                             error_message=f"more than {app.config['RATE_LIMIT']} for this API token")],
        storage_uri=redis_url or "memory://", headers_enabled=False, in_memory_fallback_enabled=True,
        storage_options=REDIS_OPTIONS if redis_url else {}, key_prefix="ppaflow")
    failures = FailedAuthentications(app.config["FAILED_AUTH_LIMIT"], redis_url)

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(error: RateLimitExceeded):
        current = limiter.current_limit
        return too_many(error.description, current.reset_at if current else time.time() + 60,
                        current.limit.amount if current else "")

    @app.errorhandler(Unauthenticated)
    def failed_authentication(error: Unauthenticated):
        retry_at = failures.count(request.remote_addr)
        if retry_at is None:
            return domain_problem(error)
        return too_many(f"more than {failures.description} failed authentications from your address", retry_at,
                        min(limit.amount for limit in failures.limits))

    return limiter
