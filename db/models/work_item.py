"""Work items: the nodes of a PPA's work-breakdown structure (docs/design.md §4)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db import db
from db.types import Money, UTCDateTime, utcnow
from workflow.vocabulary import PRIORITIES, WORK_TYPES, sql_in


class WorkItem(db.Model):
    """One node of a WBS: project, sub_project, activity, task or subtask.

    Every item of a tree carries ``root_id`` (the project's id; ``NULL`` on
    the project itself), so a whole tree loads in one indexed query. Only a
    root project links to a PPA (``ppa_id``, unique: at most one execution
    project per PPA). Money is PHP ``Decimal`` (centavos in the database);
    ``allocated_budget`` is ``None`` until something is allocated.
    """

    __tablename__ = "work_items"
    __table_args__ = (
        CheckConstraint(sql_in("work_type", WORK_TYPES), name="work_type"),
        CheckConstraint(sql_in("priority", PRIORITIES), name="priority"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint("allocated_budget IS NULL OR allocated_budget >= 0", name="allocation_not_negative"),
        CheckConstraint("actual_expenditure >= 0", name="expenditure_not_negative"),
        CheckConstraint("(parent_id IS NULL) = (root_id IS NULL)", name="root_iff_no_parent"),
        CheckConstraint("ppa_id IS NULL OR (parent_id IS NULL AND work_type = 'project')", name="only_root_links_ppa"),
        CheckConstraint("start_date IS NULL OR due_date IS NULL OR due_date >= start_date", name="dates_in_order"),
        Index("ix_work_items_parent_position", "parent_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    ppa_id: Mapped[int | None] = mapped_column(ForeignKey("ppas.id"), unique=True)
    work_type: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    priority: Mapped[str] = mapped_column(String(10), default="medium")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    allocated_budget: Mapped[Decimal | None] = mapped_column(Money)
    actual_expenditure: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    #: For a PPA in the money chain: the expenditure reported before it
    #: entered the chain (PHP); ``actual_expenditure`` is then this plus the
    #: disbursements charged to the item. ``None`` outside the chain, or until
    #: captured (services/expenditure.py).
    expenditure_opening_balance: Mapped[Decimal | None] = mapped_column(Money)
    budget_notes: Mapped[str] = mapped_column(Text, default="")
    budget_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: Stored rollups (docs/design.md §4 "Stored rollups", ``workflow.rollups``),
    #: maintained along the ancestor path by ``services.rollups``: the
    #: rolled-up expenditure (centavos), the exact rolled-up progress
    #: (``"38"`` or ``"800/21"``, percent) and the children's aggregate (JSON).
    rolled_expended: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    rolled_progress: Mapped[str] = mapped_column(Text, default="0", server_default="0")
    rollup: Mapped[str | None] = mapped_column(Text)
    #: On a root: the rules the tree's stored rollups were computed under
    #: (``workflow.rollups.Method.key``); ``None`` until first computed.
    rollup_key: Mapped[str | None] = mapped_column(String(80))
    #: On the root project only: counts the writes to any row of its tree
    #: (``services.trees.bump_tree_version``), so the cached budget tree is
    #: keyed by one column (docs/design.md §5, "The budget tree is cached").
    #: Not an ETag of the row; the other items keep 1.
    tree_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    @property
    def tree_id(self) -> int:
        """The id of the root project of this item's tree."""
        return self.root_id if self.root_id is not None else self.id

    @property
    def etag(self) -> str:
        """The entity tag of this version: ``"work-item-<id>-v<version>"``."""
        return f'"work-item-{self.id}-v{self.version}"'
