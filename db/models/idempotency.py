"""Stored responses of POST requests sent with an ``Idempotency-Key``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db import db
from db.types import UTCDateTime, utcnow


class IdempotencyKey(db.Model):
    """The first response to a (user, key): replayed to any retry.

    ``fingerprint`` is the SHA-256 of the method, path and body, so a key
    reused for a different request is refused. A row is ``pending`` while the
    first request runs (concurrent retries wait for it), ``committed`` once
    that request's transaction is saved, ``done`` with its response stored
    (``web/idempotency.py``).
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
                      CheckConstraint("status IN ('pending', 'committed', 'done')", name="status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
