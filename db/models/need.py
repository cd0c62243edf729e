"""Community needs, their votes and the PPAs that address them
(docs/design.md §14; issue 15 items 1-2).

A need's ``status`` is a stage of ``rules/default/workflows/need.yaml`` and
its category, urgency and submission type names of ``needs.yaml``: the
rules decide them, so the database checks only what never changes (one
vote per user per need, weights and amounts not negative).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.people import Organization
from db.models.versioned import Versioned
from db.types import Money, UTCDateTime, utcnow


class Need(Versioned, db.Model):
    """A community need: what, where (PSGC codes), for how many, how urgent,
    at what estimated cost (PHP, ``Decimal``; centavos in the database), how
    it came in and by whom, and where it is in its workflow.

    ``organization_id`` is the MOA it concerns (set when raised by a MOA or
    when forwarded); ``votes`` and ``vote_weight`` are kept by the vote use
    cases in the same transaction as the vote rows (their count and sum).
    ``budget_included_on`` is the day the first PPA addressing it was linked.
    ``consent_at`` (UTC) and ``privacy_notice_version`` record the consent
    of whoever raised it (issue 15 item 7; ``None``: raised before consent
    was asked). ``submitted_by_id`` becomes ``None`` when the person's link is
    erased or purged (``services.privacy``).
    """

    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint("population_affected IS NULL OR population_affected >= 0", name="population_not_negative"),
        CheckConstraint("estimated_cost IS NULL OR estimated_cost >= 0", name="cost_not_negative"),
        CheckConstraint("votes >= 0 AND vote_weight >= 0", name="votes_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40), index=True)
    urgency: Mapped[str] = mapped_column(String(40))
    submission_type: Mapped[str] = mapped_column(String(40), default="community_submission")
    province_code: Mapped[str | None] = mapped_column(String(10), index=True)
    municipality_code: Mapped[str | None] = mapped_column(String(10))
    barangay_code: Mapped[str | None] = mapped_column(String(10))
    population_affected: Mapped[int | None] = mapped_column(Integer)
    estimated_cost: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_on: Mapped[date] = mapped_column(Date)
    budget_included_on: Mapped[date | None] = mapped_column(Date)
    votes: Mapped[int] = mapped_column(Integer, default=0)
    vote_weight: Mapped[int] = mapped_column(Integer, default=0)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    privacy_notice_version: Mapped[str | None] = mapped_column(String(20))

    organization: Mapped[Organization | None] = relationship(lazy="joined")

    @property
    def created_by_id(self) -> int | None:
        """Who raised it (the workflow's preparer)."""
        return self.submitted_by_id


class NeedVote(db.Model):
    """One user's vote for one need (at most one: a unique constraint), with
    the weight of their stakeholder type when they voted (``needs.yaml``).

    ``user_id`` is ``None`` once the voter's link is erased or purged
    (``services.privacy``; issue 15 item 7): the row stays, so the need's
    counts still add up, and the unique constraint does not bind it (NULLs
    are distinct on PostgreSQL and SQLite)."""

    __tablename__ = "need_votes"
    __table_args__ = (
        UniqueConstraint("need_id", "user_id", name="uq_need_votes_need_user"),
        CheckConstraint("weight >= 1", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    stakeholder_type: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    need: Mapped[Need] = relationship(lazy="joined")


class PpaNeed(db.Model):
    """A PPA addresses a need (``needs_addressed``): who linked it, when."""

    __tablename__ = "ppa_needs"
    __table_args__ = (UniqueConstraint("ppa_id", "need_id", name="uq_ppa_needs_ppa_need"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id", ondelete="CASCADE"))
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
