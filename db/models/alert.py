"""Alerts and the notification outbox (docs/design.md §7)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.people import Organization, User
from db.types import UTCDateTime, utcnow


class Alert(db.Model):
    """A condition someone should look at: an item over its allocation, a
    blocked item, an overdue approval stage.

    ``subject`` names what it is about (``work_item:12``, ``ppa:3``); the
    database allows one open (unresolved) alert per type and subject. An
    alert resolves itself when the condition clears; acknowledging it only
    records that someone has seen it.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index("uq_alerts_open_subject", "type", "subject", unique=True,
              sqlite_where=text("resolved_at IS NULL"), postgresql_where=text("resolved_at IS NULL")),
        Index("ix_alerts_ppa_open", "ppa_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(60))
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id"))
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text, default="{}")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: the rule set whose variance bands and severities opened it (None: opened before migration 0025)
    rules_hash: Mapped[str | None] = mapped_column(String(64))

    organization: Mapped[Organization] = relationship(lazy="joined")
    acknowledged_by: Mapped[User | None] = relationship(lazy="joined")


class Notification(db.Model):
    """A message to one user, kept in the outbox and sent by SMTP when
    ``SMTP_URL`` is set. At most one per recipient, kind, PPA, stage and day."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("recipient_id", "kind", "ppa_id", "stage", "day", name="uq_notifications_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    ppa_id: Mapped[int | None] = mapped_column(ForeignKey("ppas.id"))
    stage: Mapped[str | None] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the recipient marked it read in the web app (``None``: unread).
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[User] = relationship(lazy="joined")
