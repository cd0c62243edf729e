"""``/healthz`` (the process answers) and ``/readyz`` (it can do its work:
the database answers, Redis answers when configured, the rules are loaded).
Both are public and not rate limited; ``/readyz`` is 503 when a check fails.
``/readyz`` also says which rule set this process decides with and whether
the files of ``PPAFLOW_RULES_DIR`` differ from it (docs/design.md §13)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from db import db
from jobs.queue import get_redis
from services import rule_sets
from services.runtime import get_runtime, runtimes

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """Every dependency answers: 200, else 503 with what failed."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means: not ready
        db.session.rollback()
        checks["database"] = f"error: {exc.__class__.__name__}"
    redis = get_redis()
    if redis is None:
        checks["redis"] = "not configured (jobs run inline)"
    else:
        try:
            redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # any failure means: not ready
            checks["redis"] = f"error: {exc.__class__.__name__}"
    try:
        in_force = get_runtime().rules.hash
    except Exception as exc:  # the active set could not be read or loaded: not ready
        db.session.rollback()
        checks["rules"] = f"error: {exc.__class__.__name__}"
        in_force = None
    else:
        checks["rules"] = f"loaded ({in_force[:12]})"
    on_disk = rule_sets.disk_hash(rule_sets.rules_dir(current_app.config["PPAFLOW_RULES_DIR"]))
    rules = {"active_hash": in_force, "stored": runtimes().stored,
             "disk_hash": on_disk, "disk_differs": on_disk != in_force}
    ready = not any(value.startswith("error") for value in checks.values())
    current_app.logger.debug("readiness %s", checks)
    return jsonify(status="ready" if ready else "unavailable", checks=checks, rules=rules), 200 if ready else 503
