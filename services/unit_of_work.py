"""The transaction boundary of every use case.

``transaction()`` yields the session, commits when the block ends and rolls
everything back when it raises: one use case, one transaction, all or
nothing. Work registered with ``after_commit`` (enqueueing jobs) runs only
once the commit has succeeded, outside the transaction, and is dropped on
rollback. Database failures are translated into the errors of
``workflow.errors`` here, once, instead of in every service.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db import db
from workflow.errors import BudgetLimitExceeded, Conflict, Duplicate, ServiceUnavailable

log = logging.getLogger("ppaflow.services")

_PENDING = "ppaflow_after_commit"
_DEPTH = "ppaflow_transaction_depth"


@contextmanager
def transaction() -> Iterator[Session]:
    """Run the block in one database transaction.

    A ``transaction()`` opened inside another joins it: only the outermost
    commits.

    Raises:
        Conflict: another request changed the same row first
            (``concurrent_update``); nothing of this block was saved.
        ServiceUnavailable: the database could not be reached.
    """
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    if depth:
        session.info[_DEPTH] = depth + 1
        try:
            yield session
        finally:
            session.info[_DEPTH] = depth
        return
    session.info[_DEPTH] = 1
    session.info[_PENDING] = []
    try:
        yield session
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict("the record was changed by another request at the same time; read it again and retry",
                       code="concurrent_update") from None
    except IntegrityError as exc:
        session.rollback()
        raise integrity_problem(exc) from exc
    except (OperationalError, DBAPIError) as exc:
        session.rollback()
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            raise ServiceUnavailable("the database is not answering; retry shortly") from exc
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info[_DEPTH] = 0
        pending = session.info.pop(_PENDING, [])
    for callback in pending:  # committed: now dispatch, outside the transaction
        callback()


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
_UNIQUE_SQLITE = re.compile(r"UNIQUE constraint failed: (\w+\.\w+(?:, \w+\.\w+)*)")


def integrity_problem(exc: IntegrityError) -> Exception:
    """The domain error for a constraint the database refused: a budget
    limit (its trigger), a duplicate unique value; anything else is a bug
    and is returned unchanged."""
    message = str(exc.orig)
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
