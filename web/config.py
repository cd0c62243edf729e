"""Configuration from the environment, overridable by ``create_app(config)``.

Keys (docs/design.md §1): ``DATABASE_URL`` (default: SQLite file under ``instance/``),
``DATABASE_OWNER_URL`` (the role that owns the schema and runs the
migrations, ``ppaflow init-db``; default: ``DATABASE_URL``),
``REDIS_URL`` (unset: jobs run inline), ``PPAFLOW_RULES_DIR`` (default: the
rule set shipped in ``rules/default/``), ``SECRET_KEY``, ``MAX_CONTENT_LENGTH`` (bytes a
request body may have, default 1 MiB), ``SMTP_URL`` (unset: notifications
stay in the outbox), ``RATE_LIMIT`` (per API token, default
``600 per minute``; Flask-Limiter notation), ``FAILED_AUTH_LIMIT`` (failed
authentications per client address, default ``60 per minute``; same
notation), ``TRUSTED_PROXIES`` (how many reverse proxies in front of the
app set ``X-Forwarded-For``; default 0: the header is ignored).
The web app (docs/design.md §11): ``SESSION_IDLE_MINUTES`` (a browser
session ends after this many minutes without a request, default 30),
``SESSION_COOKIE_SECURE`` (``1``: send the session cookie over HTTPS only;
set it whenever the app is served over HTTPS).
Supporting documents (docs/design.md §11): ``ATTACHMENTS_DIR`` (where
uploaded files are stored, outside the web root; default
``instance/attachments``), ``ATTACHMENT_MAX_BYTES`` (largest file, default
10 MiB; the upload requests may be that much larger than ``MAX_CONTENT_LENGTH``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from limits import parse_many

from db.urls import normalize_database_url

KEYS = ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "PPAFLOW_RULES_DIR", "SECRET_KEY", "MAX_CONTENT_LENGTH",
        "SMTP_URL", "RATE_LIMIT", "FAILED_AUTH_LIMIT", "TRUSTED_PROXIES", "SESSION_IDLE_MINUTES",
        "SESSION_COOKIE_SECURE", "ATTACHMENTS_DIR", "ATTACHMENT_MAX_BYTES")


class ConfigurationError(ValueError):
    """A setting has a value ppaflow cannot use; the message names it."""


def settings(instance_path: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The effective settings: defaults, then the environment, then ``overrides``.

    Returns:
        A dict with every key of ``KEYS`` (``None`` where unset), plus any
        other override passed through unchanged (e.g. ``TESTING``).

    Raises:
        ConfigurationError: a rate limit that is not in Flask-Limiter
            notation, or ``TRUSTED_PROXIES`` that is not a whole number >= 0.
    """
    values: dict[str, Any] = {key: os.environ.get(key) or None for key in KEYS}
    values.update(overrides or {})
    if not values["DATABASE_URL"]:
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        values["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "ppaflow.sqlite3")
    values["DATABASE_URL"] = normalize_database_url(values["DATABASE_URL"])
    values["DATABASE_OWNER_URL"] = normalize_database_url(values["DATABASE_OWNER_URL"] or values["DATABASE_URL"])
    values["SECRET_KEY"] = values["SECRET_KEY"] or "dev-only-secret-key"
    values["MAX_CONTENT_LENGTH"] = int(values["MAX_CONTENT_LENGTH"] or 1024 * 1024)
    values["RATE_LIMIT"] = _rate(values, "RATE_LIMIT", "600 per minute")
    values["FAILED_AUTH_LIMIT"] = _rate(values, "FAILED_AUTH_LIMIT", "60 per minute")
    values["TRUSTED_PROXIES"] = _proxy_hops(values["TRUSTED_PROXIES"])
    values["SESSION_IDLE_MINUTES"] = float(values["SESSION_IDLE_MINUTES"] or 30)
    values["SESSION_COOKIE_SECURE"] = str(values["SESSION_COOKIE_SECURE"] or "").lower() in ("1", "true", "yes", "on")
    values["ATTACHMENT_MAX_BYTES"] = _positive(values, "ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    return values


def _positive(values: Mapping[str, Any], key: str, default: int) -> int:
    """``values[key]`` as a whole number of at least 1 (unset: ``default``)."""
    try:
        number = int(values[key] or default)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise ConfigurationError(f"{key} must be a whole number of bytes, at least 1, not {values[key]!r}")
    return number


def _rate(values: Mapping[str, Any], key: str, default: str) -> str:
    """``values[key]`` or ``default``, checked to be rate limits in
    Flask-Limiter notation (``60 per minute``, ``10/second;100/hour``)."""
    value = values[key] or default
    try:
        parse_many(value)
    except ValueError:
        raise ConfigurationError(f"{key} must be a rate such as '60 per minute', not {value!r}") from None
    return value


def _proxy_hops(value: Any) -> int:
    """``TRUSTED_PROXIES`` as a number of proxy hops (unset: 0)."""
    try:
        hops = int(value or 0)
    except (TypeError, ValueError):
        hops = -1
    if not 0 <= hops <= 10:
        raise ConfigurationError("TRUSTED_PROXIES must be the number of reverse proxies in front of ppaflow "
                                 f"(0 to 10), not {value!r}")
    return hops
