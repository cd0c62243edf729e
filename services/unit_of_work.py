"""The transaction boundary of every use case.

``transaction()`` yields the session, commits when the block ends and rolls
everything back when it raises: one use case, one transaction, all or
nothing. Database failures are translated into the errors of
``workflow.errors`` here, once, instead of in every service.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db import db
from workflow.errors import Conflict, ServiceUnavailable


@contextmanager
def transaction() -> Iterator[Session]:
    """Run the block in one database transaction.

    Raises:
        Conflict: another request changed the same row first
            (``concurrent_update``); nothing of this block was saved.
        ServiceUnavailable: the database could not be reached.
    """
    session = db.session
    try:
        yield session
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict("the record was changed by another request at the same time; read it again and retry",
                       code="concurrent_update") from None
    except (OperationalError, DBAPIError) as exc:
        session.rollback()
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            raise ServiceUnavailable("the database is not answering; retry shortly") from exc
        raise
    except BaseException:
        session.rollback()
        raise
