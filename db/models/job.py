"""The record of every background job (docs/design.md §7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db import db
from db.types import UTCDateTime, utcnow

JOB_STATUSES = ("queued", "started", "retrying", "finished", "failed")


class JobRecord(db.Model):
    """One enqueued job: what, with which arguments, how it went.

    ``arguments`` and ``result`` are JSON text; ``runner`` is ``rq`` when a
    worker runs it, ``inline`` when it ran in the enqueuing process (no
    ``REDIS_URL``, or Redis unreachable: ``note`` then says so).
    """

    __tablename__ = "jobs"
    __table_args__ = (CheckConstraint("status IN ('queued', 'started', 'retrying', 'finished', 'failed')",
                                      name="status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    arguments: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    runner: Mapped[str] = mapped_column(String(10), default="rq")
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
