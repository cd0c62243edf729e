"""The transaction boundary of every use case.

``transaction()`` yields the session, commits when the block ends and rolls
everything back when it raises: one use case, one transaction, all or
nothing. Work registered with ``after_commit`` (enqueueing jobs) runs only
once the commit has succeeded, outside the transaction, and is dropped on
rollback. Database failures are translated into the errors of
``workflow.errors`` here, once, instead of in every service.

A web request is itself one unit of work (``web.app``): the services it
calls join its transaction, and its response is built before the COMMIT,
so nothing the response needs is read after it (issue 10). What a failure
tells the client is therefore exact: ``ServiceUnavailable`` (503, retry)
only when nothing was committed; ``CommitOutcomeUnknown`` (500) when the
connection was lost during the COMMIT of a transaction that wrote.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.exc import StaleDataError

from db import db
from db.bulk import WROTE
from workflow.errors import (
    BudgetLimitExceeded,
    CommitOutcomeUnknown,
    Conflict,
    Duplicate,
    PostedRowImmutable,
    ServiceUnavailable,
)

log = logging.getLogger("ppaflow.services")

_PENDING = "ppaflow_after_commit"
_DEPTH = "ppaflow_transaction_depth"
_WROTE = WROTE  # set by the events below and by db.bulk.note_write


@contextmanager
def transaction() -> Iterator[Session]:
    """Run the block in one database transaction.

    A ``transaction()`` opened inside another joins it: only the outermost
    commits. An inner block flushes when it ends, so the database's
    refusals of its writes (a budget limit, a duplicate number) are raised
    in it, as the errors below, for the service that wrote them to handle;
    then it expires every loaded object, as a commit would, so that what is
    read next (a response, say) is read afresh in the same transaction.

    Raises:
        Conflict: another request changed the same row first
            (``concurrent_update``); nothing of this block was saved.
        BudgetLimitExceeded, Duplicate: the database refused a write.
        ServiceUnavailable: the database could not be reached; nothing was saved.
        CommitOutcomeUnknown: the connection was lost during the COMMIT;
            the work may or may not have been saved.
    """
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    if depth:
        session.info[_DEPTH] = depth + 1
        try:
            with _database_errors():
                yield session
                session.flush()
            session.expire_all()  # as a commit would: what the caller reads next comes from the database
        finally:
            session.info[_DEPTH] = depth
        return
    session.info[_DEPTH] = 1
    session.info[_PENDING] = []
    session.info[_WROTE] = False
    try:
        with _database_errors():
            yield session
            session.flush()
            _commit(session)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info[_DEPTH] = 0
        pending = session.info.pop(_PENDING, [])
    for callback in pending:  # committed: now dispatch, outside the transaction
        callback()


@contextmanager
def _database_errors() -> Iterator[None]:
    """Translate the database's refusals and failures into domain errors."""
    try:
        yield
    except StaleDataError:
        raise Conflict("the record was changed by another request at the same time; read it again and retry",
                       code="concurrent_update") from None
    except IntegrityError as exc:
        raise integrity_problem(exc) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            raise ServiceUnavailable("the database is not answering; retry shortly") from exc
        raise


def _commit(session: Session) -> None:
    """COMMIT (everything is flushed already). A connection lost while the
    COMMIT itself was under way (SQLAlchemy reports no statement for it)
    leaves its outcome unknown, if the transaction wrote anything."""
    try:
        session.commit()
    except DBAPIError as exc:
        lost = exc.connection_invalidated or isinstance(exc, OperationalError)
        if lost and exc.statement is None and session.info.get(_WROTE):
            raise CommitOutcomeUnknown(
                "the connection to the database was lost while the work was being committed: it may or may not "
                "have been saved. Read the record to find out before doing it again, or repeat the request with "
                "the same Idempotency-Key") from exc
        raise


def install() -> None:
    """Note in each session whether its transaction wrote anything, for
    ``_commit`` (once per process)."""
    if not event.contains(Session, "after_flush", _wrote_by_flush):
        event.listen(Session, "after_flush", _wrote_by_flush)
        event.listen(Session, "do_orm_execute", _wrote_by_statement)


def _wrote_by_flush(session: Session, _flush_context) -> None:
    session.info[_WROTE] = True


def _wrote_by_statement(state: ORMExecuteState) -> None:
    if not state.is_select:  # INSERT, UPDATE, DELETE, or SQL text that may write
        state.session.info[_WROTE] = True


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current ``transaction()`` has committed
    (never if it rolls back).

    Raises:
        RuntimeError: no ``transaction()`` is open.
    """
    session = db.session
    if not session.info.get(_DEPTH):
        raise RuntimeError("after_commit needs an open services.unit_of_work.transaction()")
    session.info[_PENDING].append(callback)


_LIMIT = re.compile(r"ppaflow_limit:(\w+)")
_POSTED = re.compile(r"ppaflow_posted:(\w+):(\w+)")

#: What a posted row's correction is, by table (docs/design.md §12 "Posted rows never change").
_CORRECTIONS = {
    "allotments": "an allotment adjustment (reduction, withdrawal or augmentation) or a cancellation",
    "obligations": "a NORSA adjustment or a cancellation",
    "disbursements": "a void and a new DV",
    "allotment_adjustments": "a further allotment adjustment",
    "obligation_adjustments": "a further NORSA adjustment",
    "appropriation_adjustments": "a further appropriation adjustment",
    "sub_allotments": "a further sub-allotment or an allotment adjustment of the receiving allotment",
}


def posted_problem(table: str, field: str) -> PostedRowImmutable:
    """The 409 for a change the posted-row triggers refused, as a sentence
    that says what to do instead."""
    noun = table[:-1].replace("_", " ")
    correction = _CORRECTIONS.get(table, "a new row")
    if field == "delete":
        what = f"a posted {noun} is never deleted"
    elif field == "update":
        what = f"a posted {noun} never changes"
    elif field == "status":
        what = f"a posted {noun} cannot take that status: cancelled and voided are final"
    elif field in ("cancelled_on", "voided_on"):
        what = (f"a {noun}'s cancellation is dated on or after the {noun}'s own date, and once made "
                f"its date and reason never change")
    else:
        what = f"a posted {noun}'s {field.replace('_', ' ')} never changes"
    return PostedRowImmutable(f"{what}; correct it with {correction}", table=table, field=field)
_UNIQUE_SQLITE = re.compile(r"UNIQUE constraint failed: (\w+\.\w+(?:, \w+\.\w+)*)")


def integrity_problem(exc: IntegrityError) -> Exception:
    """The domain error for a constraint the database refused: a posted
    row changed (its trigger), a budget limit (its trigger), a duplicate unique value; anything else is a bug
    and is returned unchanged."""
    message = str(exc.orig)
    posted = _POSTED.search(message)
    if posted:
        return posted_problem(posted.group(1), posted.group(2))
    limit = _LIMIT.search(message)
    if limit:
        return BudgetLimitExceeded(f"the {limit.group(1)}s would exceed what the level above allows",
                                   level=limit.group(1))
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None) or ""
    sqlite = _UNIQUE_SQLITE.search(message)
    if sqlite or constraint.startswith("uq_"):
        # SQLite names the columns: the last is the field, any before it its scope
        # ("obligations.organization_id, obligations.ors_number": ors_number).
        field = sqlite.group(1).split(", ")[-1].split(".")[1] if sqlite else constraint.removeprefix("uq_")
        for table in ("allotments_", "obligations_", "disbursements_", "budget_proposals_", "program_budgets_",
                      "users_", "organizations_"):
            field = field.removeprefix(table)
        return Duplicate(f"{field} is already used by another record", field=field)
    return exc


@contextmanager
def rolled_back() -> Iterator[Session]:
    """Run the block as a dry run: inside the current ``transaction()`` (or a
    new one), in a SAVEPOINT that is always rolled back, so the block runs
    the real code (its flushes, the database's checks, the ids it would get)
    and leaves nothing behind: no row, no audit entry, no version bump, and
    none of its ``after_commit`` work (docs/design.md §6, "Dry runs").

    What the caller answers must be read inside the block; the objects the
    block created are gone after it, and those it changed are expired.
    """
    with transaction() as session:
        pending = session.info[_PENDING]
        queued = len(pending)
        savepoint = session.begin_nested()
        try:
            yield session
            session.flush()
        finally:
            savepoint.rollback()
            del pending[queued:]
