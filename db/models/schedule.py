"""Earned value baselines and work item dependencies (issue 16 §3-4,
docs/design.md "Earned value and critical path")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db import db
from db.types import Money, UTCDateTime, utcnow


class EvBaseline(db.Model):
    """A PPA's earned value baseline: when it was captured, and whether late
    (``captured_late``: the PPA was enacted before baselines existed, so the
    WBS was captured as it stood at the first computation)."""

    __tablename__ = "ev_baselines"

    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id", ondelete="CASCADE"), primary_key=True)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    captured_late: Mapped[bool] = mapped_column(Boolean, default=False)


class EvBaselineItem(db.Model):
    """One work item as baselined: its parent, allocation (PHP) and dates."""

    __tablename__ = "ev_baseline_items"
    __table_args__ = (UniqueConstraint("ppa_id", "work_item_id", name="uq_ev_baseline_items_ppa_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ev_baselines.ppa_id", ondelete="CASCADE"), index=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(Integer)
    budget: Mapped[Decimal | None] = mapped_column(Money)
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)


class WorkItemDependency(db.Model):
    """Finish-to-start: ``successor`` starts at the earliest the day after
    ``predecessor`` finishes. Both are items of one WBS (``root_id``)."""

    __tablename__ = "work_item_dependencies"
    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id", name="uq_work_item_dependencies_pair"),
        CheckConstraint("predecessor_id <> successor_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"), index=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"))
    successor_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
