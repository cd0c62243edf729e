"""Column types: exact money and timezone-aware UTC timestamps.

``Money`` stores PHP amounts as integer centavos (BIGINT) on every backend and
hands Python ``Decimal`` values quantized to 0.01 (docs/design.md §2); SQL sums over
it are exact integer sums. ``UTCDateTime`` always returns aware UTC datetimes,
also on SQLite, which keeps no zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

from workflow.money import from_centavos, to_centavos

MAX_ROW_ID = 2**31 - 1
"""Largest id a row can have: ids are PostgreSQL ``integer`` columns (db/models);
the URL converters and id fields (``web.parsing``) and paging (``web.pagination``) stop there."""


class Money(TypeDecorator):
    """PHP amount: ``Decimal`` in Python, integer centavos in the database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be a Decimal, got {type(value).__name__}")
        return to_centavos(value)

    def process_result_value(self, value: int | None, dialect) -> Decimal | None:
        if value is None:
            return None
        return from_centavos(int(value))


class UTCDateTime(TypeDecorator):
    """A point in time, stored in UTC, returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
