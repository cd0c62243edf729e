"""PPAs (the seeds' ``MonitoringEntry``) and their append-only approval history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.people import Organization, User
from db.types import Money, UTCDateTime, utcnow
from workflow.vocabulary import (
    APPROPRIATION_CLASSES,
    CATEGORIES,
    DISTRIBUTION_POLICIES,
    PPA_STATUSES,
    PRIORITIES,
    sql_in,
)


class Ppa(db.Model):
    """A Program, Project or Activity of a BARMM MOA (docs/design.md §3).

    ``budget_allocation`` is PHP (``Decimal``; centavos in the database).
    ``approval_status`` is a stage of the rules' workflows/approval.yaml; ``status`` is the
    implementation status. ``version`` increases with every write and is the
    ETag (optimistic concurrency).
    """

    __tablename__ = "ppas"
    __table_args__ = (
        CheckConstraint(sql_in("category", CATEGORIES), name="category"),
        CheckConstraint(sql_in("appropriation_class", APPROPRIATION_CLASSES), name="appropriation_class"),
        CheckConstraint(sql_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(sql_in("status", PPA_STATUSES), name="status"),
        CheckConstraint(sql_in("budget_distribution_policy", DISTRIBUTION_POLICIES), name="distribution_policy"),
        CheckConstraint("budget_allocation >= 0", name="budget_not_negative"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint("start_date IS NULL OR target_end_date IS NULL OR target_end_date >= start_date",
                        name="dates_in_order"),
        Index("ix_ppas_fiscal_year_organization", "fiscal_year", "organization_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(20))
    program_code: Mapped[str | None] = mapped_column(String(50))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    sector: Mapped[str | None] = mapped_column(String(50))
    funding_source: Mapped[str | None] = mapped_column(String(100))
    appropriation_class: Mapped[str] = mapped_column(String(5), default="mooe")
    priority: Mapped[str] = mapped_column(String(10), default="medium")
    start_date: Mapped[date | None] = mapped_column(Date)
    target_end_date: Mapped[date | None] = mapped_column(Date)
    budget_allocation: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="planning")
    approval_status: Mapped[str] = mapped_column(String(40), index=True)
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The hash of the stored rule set this PPA decides under since it was
    #: submitted (``rule_sets.hash``); ``None`` while in the initial stage:
    #: a draft follows the active set (docs/design.md §13, migration 0023).
    rules_hash: Mapped[str | None] = mapped_column(String(64))
    wbs_template: Mapped[str | None] = mapped_column(String(50))
    budget_distribution_policy: Mapped[str] = mapped_column(String(10), default="manual")
    enable_workitem_tracking: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    auto_sync_progress: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_sync_status: Mapped[bool] = mapped_column(Boolean, default=True)
    execution_flag: Mapped[str | None] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    organization: Mapped[Organization] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id], lazy="raise")
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id], lazy="raise")

    #: The root work item of the PPA's WBS: a plain column of the PPA row,
    #: set in the transaction that creates the project (``work_items.ppa_id``
    #: points back). Being in the row itself, it is as fresh as the row: a
    #: ``SELECT ... FOR UPDATE`` that waited for the lock returns the value
    #: the previous holder committed (a subquery would read the snapshot
    #: taken before the wait; issue 10). ``use_alter``: the two tables refer
    #: to each other.
    execution_project_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_items.id", use_alter=True), index=True, unique=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def etag(self) -> str:
        """The entity tag of this version: ``"ppa-<id>-v<version>"``."""
        return f'"ppa-{self.id}-v{self.version}"'


class PpaTransition(db.Model):
    """One approval transition of one PPA: who, in which role, for whom
    (``delegated_by``, when signed under a delegation), what, when, under
    which rules. Append-only: the database refuses updates and deletes
    (triggers created by the migrations)."""

    __tablename__ = "ppa_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(40))
    from_stage: Mapped[str] = mapped_column(String(40))
    to_stage: Mapped[str] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rules_hash: Mapped[str] = mapped_column(String(64))
    delegated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id"))
    #: In an n-of-m sign-off stage: the agency or role this sign-off was signed for (docs/design.md §6).
    signed_for: Mapped[str | None] = mapped_column(String(40))

    actor: Mapped[User] = relationship(foreign_keys=[actor_id], lazy="joined")
    delegated_by: Mapped[User | None] = relationship(foreign_keys=[delegated_by_id], lazy="joined")
