"""The one place that enqueues jobs (docs/design.md §7).

``enqueue`` records the job in the caller's transaction and dispatches it
only after that transaction commits: to RQ on Redis when ``REDIS_URL`` is
set, inline (in this process, right after the commit) otherwise. A job
enqueued in a transaction that rolls back leaves no record and never runs.
If Redis cannot be reached at dispatch time, the job runs inline and its
record says so: the API keeps working without Redis.

``redispatch_lost`` finds jobs whose record waits but whose RQ job is gone
(Redis restarted without persistence, or flushed), or that an inline process
never ran (it died after the commit), and dispatches them again: at worker
and scheduler start and on the ``redispatch_lost_jobs`` schedule entry.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.job import Job

from db.models import JobRecord, User
from db.types import utcnow
from jobs.runner import kinds, run_job
from services import job_records
from services.runtime import get_runtime
from services.unit_of_work import after_commit

log = logging.getLogger("ppaflow.jobs")

QUEUE_NAME = "ppaflow"

#: A waiting job younger than this is never taken for lost: its dispatch may
#: still be on its way (the record commits first, then the job goes to Redis).
LOST_AFTER = timedelta(minutes=2)


def get_redis() -> Redis | None:
    """The app's Redis connection (one pool per app), or ``None`` without ``REDIS_URL``."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    cache = current_app.extensions.setdefault("ppaflow_redis", {})
    if url not in cache:
        cache[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)
    return cache[url]


def retry_policy() -> Retry | None:
    """RQ ``Retry`` from rules/default/schedule.yaml ``retry_intervals_seconds``."""
    intervals = list(get_runtime().rules.schedule.retry_intervals)
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def enqueue(kind: str, *, requested_by: User | None = None, **arguments: Any) -> JobRecord:
    """Record a job in the current transaction; dispatch it after the commit.

    Args:
        kind: a job kind of ``jobs.registry.KINDS`` (as handed to ``jobs.runner.use_kinds``).
        requested_by: the user asking (the job is visible to them and, for
            organization-scoped users, to their organization).
        arguments: plain, JSON-serialisable values (ids, dates as strings).

    Returns:
        The job record (status ``queued``); its ``id`` is the RQ job id.

    Raises:
        ValueError: unknown kind.
        RuntimeError: no ``transaction()`` is open.
    """
    if kind not in kinds():
        raise ValueError(f"unknown job kind {kind!r}")
    job_id = uuid.uuid4().hex
    record = job_records.new_record(job_id, kind, arguments, requested_by)
    after_commit(lambda: dispatch(job_id))
    return record


def dispatch(job_id: str, note: str | None = None) -> None:
    """Hand a committed job to RQ, or run it inline without Redis (``note``:
    why, kept on the record of an inline run)."""
    redis = get_redis()
    if redis is None:
        run_inline(job_id, note)
        return
    try:
        Queue(QUEUE_NAME, connection=redis).enqueue(
            "jobs.runner.run_job", job_id, job_id=job_id, retry=retry_policy(),
            result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600, job_timeout=3600)
    except RedisError as exc:
        log.warning("Redis unreachable (%s); running job %s inline", exc, job_id)
        run_inline(job_id, note=f"Redis was unreachable at dispatch ({exc.__class__.__name__}); ran inline")


def redispatch_lost(older_than: timedelta = LOST_AFTER) -> dict[str, int]:
    """Dispatch again every job whose record has waited (``queued`` or
    ``retrying``) longer than ``older_than`` while nothing will run it: with
    Redis, its RQ job no longer exists; without Redis, the process that was
    to run it inline ended first. A job whose RQ job still exists is left to
    RQ, so nothing is dispatched twice; two sweeps at once dispatch a lost
    job once (``job_records.claim_redispatch``).

    Returns:
        ``{"waiting": jobs looked at, "redispatched": jobs dispatched again}``.

    Raises:
        RedisError: Redis cannot be asked; the jobs not yet looked at are
            left to the next sweep.
    """
    redis = get_redis()
    waiting = job_records.waiting_since(utcnow() - older_than)
    redispatched = 0
    for job_id, enqueued_at in waiting:
        if redis is not None and Job.exists(job_id, connection=redis):
            continue
        why = "its RQ job was gone from Redis" if redis is not None else "no process ran it"
        note = f"re-dispatched {utcnow():%Y-%m-%d %H:%M} UTC: {why}; waiting since {enqueued_at:%Y-%m-%d %H:%M} UTC"
        if job_records.claim_redispatch(job_id, enqueued_at, note):
            log.warning("job %s: %s; dispatching it again", job_id, why)
            dispatch(job_id, note)
            redispatched += 1
    return {"waiting": len(waiting), "redispatched": redispatched}


def run_inline(job_id: str, note: str | None = None) -> None:
    """Run a job now, in this process; a failure is recorded, not raised."""
    job_records.mark_runner(job_id, "inline", note)
    try:
        run_job(job_id)
    except Exception:  # recorded on the job by run_job; the caller's work is already committed
        log.exception("inline job %s failed", job_id)
