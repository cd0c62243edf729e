"""Structured JSON logs (issue 6): one JSON object per line, each with the
process id and the request id of the request it belongs to, and one access
line per request (with the hash of the rule set it decided with, when it
read the rules: docs/design.md §13).

``configure()`` is called by the commands that run servers and workers, not
at import; tests and the demo keep Python's default logging.
"""

from __future__ import annotations

import logging
import sys
import time

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from services.runtime import request_runtime

access = logging.getLogger("ppaflow.access")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (and the user) to records made during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id")
            record.user = g.get("username")
        return True


def configure(level: str = "INFO") -> None:
    """Send every log record to stderr as JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def rules_hash(environ: dict) -> str | None:
    """The hash of the rule set the request decided with, ``None`` when it
    did not read the rules (``services.runtime.get_runtime``)."""
    runtime = request_runtime(environ)
    return runtime.rules.hash if runtime is not None else None


def init_app(app: Flask) -> None:
    """Time every request and log one access line when it ends."""

    @app.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def log_access(response):
        if access.isEnabledFor(logging.INFO):
            access.info("request", extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
                "rules_hash": rules_hash(request.environ)})
        return response
