"""Persistence: Flask-SQLAlchemy models (SQLAlchemy 2 typed), Alembic
migrations, database-level constraints and triggers.

``db`` is the Flask-SQLAlchemy extension; ``web.create_app`` calls
``db.init_app(app)``. Importing this package has no side effects.
"""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from flask_sqlalchemy import SQLAlchemy

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


db = SQLAlchemy(model_class=Base)
