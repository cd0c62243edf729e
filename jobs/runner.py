"""What RQ (or the inline dispatcher) executes: ``run_job(job_id)``.

It marks the record started, runs the kind with its recorded arguments,
and records the result, or the error and whether a retry is left; the
exception is re-raised so RQ applies its ``Retry``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import has_app_context
from rq import get_current_job

from db.audit import AuditContext, set_context
from services import job_records
from services.unit_of_work import transaction

log = logging.getLogger("ppaflow.jobs")


def run_job(job_id: str) -> Any:
    """Run the recorded job ``job_id`` (in the current app context, or in a
    fresh app configured from the environment when there is none)."""
    return _in_app(_run, job_id)


def _in_app(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in the current app context, or in a fresh app
    configured from the environment (a worker, the scheduler) when there is none.
    Either way it decides with the rule set active when it starts
    (``services.runtime.forget``: a worker's context outlives its jobs)."""
    if has_app_context():
        from services.runtime import forget

        forget()
        return function(*args)
    from web.app import create_app

    with create_app().app_context():
        return function(*args)


def _run(job_id: str) -> Any:
    from jobs.registry import KINDS

    kind, arguments = job_records.mark_started(job_id)
    set_context(AuditContext(actor=f"job:{kind}", request_id=job_id))
    try:
        result = KINDS[kind](**arguments)
    except Exception as exc:
        final = _final_attempt()
        log.warning("job %s (%s) failed%s: %s", job_id, kind, "" if final else ", will retry", exc)
        job_records.mark_failed(job_id, exc, final=final)
        raise
    job_records.mark_finished(job_id, result)
    return result


def _final_attempt() -> bool:
    job = get_current_job()
    return job is None or not job.retries_left


def enqueue_scheduled(kind: str) -> str:
    """What the cron scheduler enqueues: record and enqueue ``kind`` like any
    other job (so it is recorded and retried the same way). Returns its id."""
    from jobs.queue import enqueue

    def go() -> str:
        with transaction():
            return enqueue(kind).id

    return _in_app(go)
