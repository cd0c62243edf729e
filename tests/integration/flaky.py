"""Job functions for the retry tests: they fail on purpose."""

from __future__ import annotations

from flask import current_app
from redis import Redis


class TransientFailure(RuntimeError):
    """A failure that goes away if you try again."""


def _attempt(key: str) -> int:
    return Redis.from_url(current_app.config["REDIS_URL"]).incr(f"flaky:{key}")


def fail_twice(key: str) -> dict:
    """Fails on the first two attempts, succeeds on the third."""
    attempt = _attempt(key)
    if attempt <= 2:
        raise TransientFailure(f"attempt {attempt} failed")
    return {"attempt": attempt}


def always_fail(key: str) -> dict:
    """Never succeeds."""
    _attempt(key)
    raise TransientFailure("still down")


def stall_first_attempt(key: str) -> dict:
    """Syncs the tracked PPAs; on the first attempt it then stalls (so the
    test can kill the process running it mid-job), on later ones it returns."""
    import os
    import time

    from services.sweeps import sync_tracked_ppas

    attempt = _attempt(key)
    result = sync_tracked_ppas()
    if attempt == 1:
        redis = Redis.from_url(current_app.config["REDIS_URL"])
        redis.set(f"flaky:{key}:pid", os.getpid())
        time.sleep(60)
    return {"attempt": attempt, "sync": result}
