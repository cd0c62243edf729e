"""What RQ (or the inline dispatcher) executes: ``run_job(job_id)``.

It marks the record started, runs the kind with its recorded arguments,
and records the result, or the error and whether a retry is left; the
exception is re-raised so RQ applies its ``Retry``.

A job runs in an app context: the caller's (the inline dispatcher's, a
scheduler's firing), or else the app its process's entry point handed in
(``use_app``: ``jobs.worker.build_worker`` and ``build_scheduler``, called by
``ppaflow worker`` and ``ppaflow scheduler`` with the app they built). The
jobs never build an app themselves: web imports jobs, not the other way
round (docs/design.md §1 "Direction of imports").

The job kinds are handed in too (``use_kinds(jobs.registry.KINDS)``, by
``web.create_app``): one kind, the lost-job sweep, dispatches jobs, which
run here, so the registry cannot be imported from here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, has_app_context
from rq import get_current_job

from db.audit import AuditContext, set_context
from services import job_records
from services.background import enqueue
from services.runtime import forget
from services.unit_of_work import transaction

log = logging.getLogger("ppaflow.jobs")

_app: Flask | None = None
_kinds: Mapping[str, Callable[..., Any]] = {}


def use_kinds(kinds: Mapping[str, Callable[..., Any]]) -> None:
    """Hand in the job kinds by name (``jobs.registry.KINDS``, the same
    mapping: what is added to it later is seen here)."""
    global _kinds
    _kinds = kinds


def kinds() -> Mapping[str, Callable[..., Any]]:
    """The job kinds handed in by ``use_kinds`` (empty before an app is built)."""
    return _kinds


def use_app(app: Flask) -> None:
    """Hand in the app jobs run in when no app context is pushed: a worker
    process's, built by its entry point (``ppaflow worker``; a forked work
    horse inherits it)."""
    global _app
    _app = app


def run_job(job_id: str) -> Any:
    """Run the recorded job ``job_id`` (in the current app context, or in
    the app handed in by ``use_app`` when there is none).

    Raises:
        RuntimeError: no app context and no app handed in (an RQ worker not
            started by ``ppaflow worker``).
    """
    return _in_app(_run, job_id)


def _in_app(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in the current app context, or in the app handed
    in by ``use_app`` when there is none. Either way it decides with the
    rule set active when it starts (``services.runtime.forget``: a worker's
    context outlives its jobs)."""
    if has_app_context():
        forget()
        return function(*args)
    if _app is None:
        raise RuntimeError("no app to run the job in: start workers with `ppaflow worker` "
                           "(jobs.worker.build_worker hands its app to jobs.runner.use_app)")
    with _app.app_context():
        return function(*args)


def _run(job_id: str) -> Any:
    kind, arguments = job_records.mark_started(job_id)
    set_context(AuditContext(actor=f"job:{kind}", request_id=job_id))
    try:
        result = _kinds[kind](**arguments)
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
    other job (so it is recorded and retried the same way), through the
    enqueue function the app was built with (``services.background``,
    ``jobs.queue.enqueue``). Returns its id."""

    def go() -> str:
        with transaction():
            return enqueue(kind).id

    return _in_app(go)
