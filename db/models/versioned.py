"""Columns shared by the rows that clients change with an ETag.

Every such row counts its changes in ``version`` (SQLAlchemy's
``version_id_col``: a stale write raises ``StaleDataError``) and is named
by ``etag`` (docs/design.md §5, HTTP API: a PATCH carries If-Match).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from db.types import UTCDateTime, utcnow


class Versioned:
    """Optimistic locking: ``version`` counts the row's changes, ``etag``
    names it; ``created_at`` / ``updated_at`` in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}

    @property
    def etag(self) -> str:
        """The entity tag of this version: ``"<table>-<id>-v<version>"``."""
        return f'"{self.__tablename__}-{self.id}-v{self.version}"'


class Authored(Versioned):
    """A versioned row that also keeps who made it (``created_by_id``)."""

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
