"""Bookkeeping of background jobs: the ``jobs`` table (docs/design.md §7)."""

from __future__ import annotations

import json
import traceback
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from db import db
from db.models import JobRecord, User
from db.types import utcnow
from services.access import is_superuser, sees_all_organizations
from services.unit_of_work import transaction
from workflow.errors import NotFound


def new_record(job_id: str, kind: str, arguments: dict[str, Any], requested_by: User | None) -> JobRecord:
    """Add a queued job record to the current transaction."""
    record = JobRecord(id=job_id, kind=kind, arguments=json.dumps(arguments, sort_keys=True, default=str),
                       status="queued", requested_by_id=requested_by.id if requested_by else None,
                       organization_id=requested_by.organization_id if requested_by else None)
    db.session.add(record)
    return record


#: Statuses of a job waiting for a worker (first run, or a retry).
WAITING = ("queued", "retrying")


def waiting_since(before: datetime) -> list[tuple[str, datetime]]:
    """Jobs waiting (``queued`` or ``retrying``) since before ``before``.

    Returns:
        ``(job id, enqueued_at)`` per job, oldest first.
    """
    with transaction() as session:
        return [tuple(row) for row in session.execute(
            select(JobRecord.id, JobRecord.enqueued_at)
            .where(JobRecord.status.in_(WAITING), JobRecord.enqueued_at < before)
            .order_by(JobRecord.enqueued_at, JobRecord.id))]


def claim_redispatch(job_id: str, enqueued_at: datetime, note: str) -> bool:
    """Take a waiting job over for re-dispatch: it becomes ``queued`` again,
    enqueued now, with ``note`` saying why.

    The claim holds only if the record is still waiting and still as it was
    read (``enqueued_at``), so of two sweeps racing for one job exactly one
    wins; the other sees it enqueued just now and leaves it.

    Returns:
        Whether this caller won the job (and must dispatch it).
    """
    with transaction() as session:
        claimed = session.execute(
            update(JobRecord)
            .where(JobRecord.id == job_id, JobRecord.status.in_(WAITING), JobRecord.enqueued_at == enqueued_at)
            .values(status="queued", enqueued_at=utcnow(), note=note)
            .execution_options(synchronize_session=False)).rowcount
    return claimed == 1


def mark_started(job_id: str) -> tuple[str, dict[str, Any]]:
    """Record that a job started (one more attempt).

    Returns:
        ``(kind, arguments)``.

    Raises:
        NotFound: no such job record (its transaction never committed).
    """
    with transaction():
        record = db.session.get(JobRecord, job_id, with_for_update=True)
        if record is None:
            raise NotFound(f"job {job_id} has no record")
        record.status, record.started_at, record.ended_at = "started", utcnow(), None
        record.attempts += 1
        return record.kind, json.loads(record.arguments)


def mark_runner(job_id: str, runner: str, note: str | None = None) -> None:
    """Record who runs the job (``rq`` or ``inline``) and why, if unusual."""
    with transaction():
        record = db.session.get(JobRecord, job_id)
        if record is not None:
            record.runner = runner
            record.note = note


def mark_finished(job_id: str, result: Any) -> None:
    """Record a job's result (JSON)."""
    with transaction():
        record = db.session.get(JobRecord, job_id)
        record.status, record.ended_at = "finished", utcnow()
        record.result = json.dumps(result, default=str)
        record.error = None


def mark_failed(job_id: str, error: BaseException, *, final: bool) -> None:
    """Record a failed attempt; ``final`` when no retry is left."""
    db.session.rollback()
    with transaction():
        record = db.session.get(JobRecord, job_id)
        if record is None:
            return
        record.status, record.ended_at = ("failed" if final else "retrying"), utcnow()
        record.error = "".join(traceback.format_exception_only(type(error), error)).strip()[:4000]


PRIVATE_KINDS = frozenset({"generate_report"})
"""Jobs whose result is what their requester may see (a report workbook):
only the requester and superusers read them (issue 10, item 6)."""


def can_see_job(user: User, record: JobRecord) -> bool:
    """True when ``user`` may read the job record (and a report it wrote).

    A report job belongs to whoever asked for it: only they and superusers
    see it, never the rest of their organization nor reviewers, since the
    workbook holds what its requester may see. Any other job is visible to
    its requester, their organization and users who see all organizations.
    """
    if record.kind in PRIVATE_KINDS:
        return (record.requested_by_id is not None and record.requested_by_id == user.id) or is_superuser(user)
    return (sees_all_organizations(user) or record.requested_by_id == user.id
            or (record.organization_id is not None and record.organization_id == user.organization_id))


def get_job_or_raise(user: User, job_id: str) -> JobRecord:
    """A job record the user may see (``can_see_job``).

    Raises:
        NotFound: unknown, or not visible to ``user`` (the same answer, so
            job ids cannot be probed).
    """
    record = db.session.scalar(select(JobRecord).where(JobRecord.id == job_id))
    if record is None or not can_see_job(user, record):
        raise NotFound(f"job {job_id} not found")
    return record


def arguments_of(record: JobRecord) -> dict[str, Any]:
    """A job's recorded arguments (decoded JSON)."""
    return json.loads(record.arguments)


def result_of(record: JobRecord) -> Any:
    """A finished job's result (decoded JSON)."""
    return json.loads(record.result) if record.result else None


def recent_jobs(user: User, kind: str, limit: int = 10) -> list[JobRecord]:
    """The last ``limit`` jobs of ``kind`` that ``user`` asked for, newest first."""
    return list(db.session.scalars(select(JobRecord).where(JobRecord.requested_by_id == user.id,
                                                           JobRecord.kind == kind)
                                   .order_by(JobRecord.enqueued_at.desc()).limit(limit)))
