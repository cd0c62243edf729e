"""Persistence: Flask-SQLAlchemy models (SQLAlchemy 2 typed), Alembic
migrations, database-level constraints and triggers.

``db`` is the Flask-SQLAlchemy extension; ``web.create_app`` calls
``db.init_app(app)``. Importing this package has no side effects.
"""

import logging

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

log = logging.getLogger(__name__)

#: Constraint names are deterministic so that migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every ppaflow model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Database(SQLAlchemy):
    """Flask-SQLAlchemy whose end-of-request clean-up survives the database
    going away.

    Removing the session rolls back its transaction; when the server has
    just closed the connection (a restart), that rollback fails although
    the response is ready. The connection is already invalidated, so the
    failure is logged and the session discarded instead of turning the
    response into a 500 (issue 6, faults).
    """

    def _teardown_session(self, exc: BaseException | None) -> None:
        try:
            self.session.remove()
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            log.warning("database connection lost while closing the session: %s", error.orig)
            self.session.registry.clear()


db = Database(model_class=Base)
