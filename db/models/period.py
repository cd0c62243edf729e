"""Closing a period (issue 12 item 5, docs/design.md §12 "Closing a period").

A MOA's quarter is closed by two signatures, its budget officer's and its
chief accountant's, by two different people: a ``PeriodClosure`` row for
each closing, its ``PeriodClosureSignature`` rows (append-only), and, when
the second signature closes it, the quarter's figures as
``PeriodSnapshotLine`` rows (append-only: never changed). Reopening takes
the same two signatures on the same closure; the snapshot stays, and a
later close is a new closure with a new snapshot.

Statuses: ``closing`` (one close signature), ``closed``, ``reopening``
(closed, one reopen signature), ``reopened`` (final). A period is closed
while a closure of it is ``closed`` or ``reopening``; at most one closure
of a MOA's quarter is not ``reopened`` (a partial unique index).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.budget import _Versioned
from db.models.people import Organization, User
from db.types import Money, UTCDateTime, utcnow
from workflow.validity import ALLOTMENT_CLASSES
from workflow.vocabulary import sql_in

CLOSURE_STATUSES = ("closing", "closed", "reopening", "reopened")
#: The statuses in which the period is closed to postings.
CLOSED_STATUSES = ("closed", "reopening")
#: The two roles whose signatures close (and reopen) a MOA's quarter.
SIGNING_ROLES = ("budget_officer", "chief_accountant")
SIGNATURE_ACTIONS = ("close", "reopen")


class PeriodClosure(_Versioned, db.Model):
    """The closing of one quarter of one year for one MOA (its periods come
    from dates, year included: ``workflow.validity.period_of``)."""

    __tablename__ = "period_closures"
    __table_args__ = (
        CheckConstraint(sql_in("status", CLOSURE_STATUSES), name="status"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter"),
        Index("uq_period_closures_current", "organization_id", "fiscal_year", "quarter", unique=True,
              postgresql_where=text("status <> 'reopened'"), sqlite_where=text("status <> 'reopened'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="closing")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reopen_reason: Mapped[str] = mapped_column(Text, default="")

    organization: Mapped[Organization] = relationship(lazy="joined")
    signatures: Mapped[list[PeriodClosureSignature]] = relationship(
        order_by="PeriodClosureSignature.id", lazy="selectin", viewonly=True)
    snapshot: Mapped[list[PeriodSnapshotLine]] = relationship(
        order_by="PeriodSnapshotLine.id", lazy="selectin", viewonly=True)

    @property
    def label(self) -> str:
        """"Q1 2026", for messages."""
        return f"Q{self.quarter} {self.fiscal_year}"


class PeriodClosureSignature(db.Model):
    """One signature on a closure: to ``close`` or to ``reopen`` it, in
    one of ``SIGNING_ROLES``. The database keeps one person from signing
    twice for the same action, and one role from being signed twice.
    ``superuser``: signed by an administrator acting in the role."""

    __tablename__ = "period_closure_signatures"
    __table_args__ = (
        CheckConstraint(sql_in("action", SIGNATURE_ACTIONS), name="action"),
        CheckConstraint(sql_in("role", SIGNING_ROLES), name="role"),
        UniqueConstraint("closure_id", "action", "user_id", name="uq_period_closure_signatures_person"),
        UniqueConstraint("closure_id", "action", "role", name="uq_period_closure_signatures_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    closure_id: Mapped[int] = mapped_column(ForeignKey("period_closures.id", ondelete="RESTRICT"), index=True)
    action: Mapped[str] = mapped_column(String(6))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(20))
    superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class PeriodSnapshotLine(db.Model):
    """The figures of a closed quarter for one program budget (PAP) and one
    allotment class, PHP (centavos in the database), as they stood when the
    quarter closed: allotted, obligated and disbursed by postings dated in
    the quarter (net of the adjustments and reversals dated in it), and
    cumulative to its last day. Append-only: never changed."""

    __tablename__ = "period_snapshot_lines"
    __table_args__ = (CheckConstraint(sql_in("allotment_class", ALLOTMENT_CLASSES), name="allotment_class"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    closure_id: Mapped[int] = mapped_column(ForeignKey("period_closures.id", ondelete="RESTRICT"), index=True)
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id"))
    program_budget_id: Mapped[int] = mapped_column(ForeignKey("program_budgets.id"))
    pap_code: Mapped[str] = mapped_column(String(40), default="")
    allotment_class: Mapped[str] = mapped_column(String(5))
    allotted: Mapped[Decimal] = mapped_column(Money)
    obligated: Mapped[Decimal] = mapped_column(Money)
    disbursed: Mapped[Decimal] = mapped_column(Money)
    cumulative_allotted: Mapped[Decimal] = mapped_column(Money)
    cumulative_obligated: Mapped[Decimal] = mapped_column(Money)
    cumulative_disbursed: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


#: What a year end carries into the next year's opening balances.
OPENING_BALANCE_KINDS = ("continuing_appropriation", "unpaid_obligation")


class OpeningBalance(db.Model):
    """One opening balance of a MOA's fiscal year, carried from the year
    before when its Q4 closed (docs/design.md §12 "Year end"): either a
    *continuing appropriation* (the unobligated balance of an allotment
    still valid for obligation in the new year, ``obligation_id`` empty) or
    an *unpaid obligation* (an ORS's obligated amount not yet paid, still
    valid for payment). ``amount`` is PHP (centavos in the database), as it
    stood at the end of ``from_fiscal_year``; ``valid_until`` is the
    deadline of the step still to come (obligation, or disbursement; empty:
    until fully expended) under ``legal_basis`` (rules/default/validity.yaml).

    The rows belong to the Q4 closure that carried them (``closure_id``):
    append-only, one row per allotment (and obligation) per closure. When Q4
    is reopened and closed again, the new closure carries new rows; the
    year's opening balances are those of the closure that keeps Q4 closed.
    """

    __tablename__ = "opening_balances"
    __table_args__ = (
        CheckConstraint(sql_in("kind", OPENING_BALANCE_KINDS), name="kind"),
        CheckConstraint(sql_in("allotment_class", ALLOTMENT_CLASSES), name="allotment_class"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("(kind = 'unpaid_obligation') = (obligation_id IS NOT NULL)", name="obligation"),
        UniqueConstraint("closure_id", "kind", "allotment_id", "obligation_id", name="uq_opening_balances_row"),
        Index("uq_opening_balances_continuing", "closure_id", "allotment_id", unique=True,
              postgresql_where=text("obligation_id IS NULL"), sqlite_where=text("obligation_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    closure_id: Mapped[int] = mapped_column(ForeignKey("period_closures.id", ondelete="RESTRICT"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: The year the balance opens (the closed year + 1).
    fiscal_year: Mapped[int] = mapped_column(Integer)
    #: The fiscal year of the appropriation (the PPA's), which may be older.
    appropriation_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    allotment_id: Mapped[int] = mapped_column(ForeignKey("allotments.id", ondelete="RESTRICT"))
    obligation_id: Mapped[int | None] = mapped_column(ForeignKey("obligations.id", ondelete="RESTRICT"))
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id"))
    program_budget_id: Mapped[int] = mapped_column(ForeignKey("program_budgets.id"))
    pap_code: Mapped[str] = mapped_column(String(40), default="")
    allotment_class: Mapped[str] = mapped_column(String(5))
    validity_category: Mapped[str] = mapped_column(String(30))
    amount: Mapped[Decimal] = mapped_column(Money)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    allotment = relationship("Allotment", lazy="joined", viewonly=True)
    obligation = relationship("Obligation", lazy="joined", viewonly=True)
