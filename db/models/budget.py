"""Budget preparation and execution (seed 003, docs/design.md §2).

Preparation: a budget proposal per organization and fiscal year; program
budgets link PPAs to it with an approved amount; justifications and line
items (UACS object codes) explain it.

Execution, following the money: program budget -> quarterly allotments
(SARO/GARO) -> obligations (ORS) -> disbursements (DV). At every level the
active children never sum above their parent: database triggers (created by
the migrations) refuse it, locking the parent row on PostgreSQL. Financial
rows are never deleted while anything depends on them (foreign keys
restrict); cancelling an allotment or obligation and voiding a disbursement
return the amount to the level above. Money is PHP ``Decimal``, centavos in
the database, and every amount is positive.

Posted rows never change (migration 0011, docs/design.md §12 "Posted rows
never change"): the database refuses an UPDATE of an allotment's,
obligation's or disbursement's amount, date, payee, number, parent or
MOA, any DELETE, and any status move but the declared ones; a
cancellation (void) is final and carries its business date. Corrections
are rows of their own: ``AllotmentAdjustment`` and ``ObligationAdjustment``
(NORSA), fixed once written too.

ORS and DV are documents (migration 0016, docs/design.md §12 "ORS and DV as
documents"): created as drafts that count nowhere, posted at Box B of the
ORS and Box E of the DV (``rules/default/workflows/ors.yaml``, ``dv.yaml``);
the triggers above apply from the posting on.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

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
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.people import Organization
from db.models.ppa import Ppa
from db.models.versioned import Authored
from db.types import Money, UTCDateTime, utcnow
from workflow.validity import ALLOTMENT_CLASSES, VALIDITY_CATEGORIES, categories_of
from workflow.vocabulary import sql_in

ALLOTMENT_STATUSES = ("released", "partially_utilized", "fully_utilized", "cancelled")
#: An ORS's stages before Box B (rules/default/workflows/ors.yaml): a draft
#: counts in no total and may still change (docs/design.md §12 "ORS and DV as documents").
ORS_DRAFT_STAGES = ("draft", "charges_certified")
#: An ORS's statuses once obligated (Box B): they follow the money.
ORS_POSTED_STATUSES = ("obligated", "partially_disbursed", "fully_disbursed")
OBLIGATION_STATUSES = (*ORS_DRAFT_STAGES, *ORS_POSTED_STATUSES, "cancelled", "withdrawn")
#: A DV's stages before Box E (rules/default/workflows/dv.yaml).
DV_DRAFT_STAGES = ("draft", "necessary_certified", "entry_recorded", "cash_certified", "approved")
#: A DV's status once paid (Box E).
DV_POSTED_STATUSES = ("disbursed",)
DISBURSEMENT_STATUSES = (*DV_DRAFT_STAGES, *DV_POSTED_STATUSES, "voided", "withdrawn")
#: Modes of payment on the DV (GAM Appendix 32): MDS check, commercial check,
#: ADA (Advice to Debit Account), others (docs/design.md §12, "Document numbers
#: and modes of payment"; migration 0017 mapped the old values).
PAYMENT_METHODS = ("mds_check", "commercial_check", "ada", "other")
#: Each mode of payment as the DV names it.
PAYMENT_METHOD_NAMES = {"mds_check": "MDS check", "commercial_check": "Commercial check",
                        "ada": "ADA (Advice to Debit Account)", "other": "Others"}
#: The documents whose numbers run in series (``DocumentNumberSeries.document``).
NUMBERED_DOCUMENTS = ("ors", "dv")
#: Allotment adjustment kinds and the sign each gives the amount.
ALLOTMENT_ADJUSTMENT_SIGNS = {"augmentation": 1, "reduction": -1, "withdrawal": -1}
#: Every kind of allotment adjustment row: those, a ``realignment`` (one of a
#: pair between allotments of one program budget, signed) and a
#: ``sub_allotment`` (the giver's *transfer to*, negative; migration 0018).
ALLOTMENT_ADJUSTMENT_KINDS = (*ALLOTMENT_ADJUSTMENT_SIGNS, "realignment", "sub_allotment")
#: Appropriation adjustment kinds (docs/design.md §12 "Adjustments and transfers").
APPROPRIATION_ADJUSTMENT_KINDS = ("augmentation", "modification", "transfer")
#: The stages of ``rules/default/workflows/budget_proposal.yaml`` (docs/design.md §12).
PROPOSAL_STATUSES = ("draft", "submitted", "reviewed", "enacted")


#: Kept under its old name: every budget row says who made it (docs/design.md §12).
_Versioned = Authored


class _Spending:
    """A row of the execution chain whose amount counts against its parent
    while its status is one of ``counting_statuses``: from its posting (an
    allotment's release, an ORS's Box B, a DV's Box E) until it is cancelled
    (or voided: ``inactive_status``). An ORS or DV still in draft
    (``draft_stages``) counts nowhere (docs/design.md §12 "ORS and DV as
    documents")."""

    inactive_status: ClassVar[str] = "cancelled"
    #: The statuses in which the amount counts (posted and not cancelled).
    counting_statuses: ClassVar[tuple[str, ...]] = ("released", "partially_utilized", "fully_utilized")
    #: The stages before posting (none for an allotment: released is posted).
    draft_stages: ClassVar[tuple[str, ...]] = ()

    #: The MOA the money belongs to (its PPA's), stored on the row so that
    #: SARO, ORS and DV numbers are unique per organization: two MOAs may
    #: both have ORS "2026-01-0001", one MOA may not have it twice (issue 10).
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))

    @hybrid_property
    def active(self) -> bool:
        """True while the amount counts (posted, not cancelled); in queries, the same as SQL."""
        return self.status in self.counting_statuses

    @active.inplace.expression
    @classmethod
    def _active_expression(cls):
        return cls.status.in_(cls.counting_statuses)

    @property
    def draft(self) -> bool:
        """True while the document is not yet posted (an ORS before Box B, a DV before Box E)."""
        return self.status in self.draft_stages

    @property
    def posted(self) -> bool:
        """True once posted (whether or not cancelled or voided since); a
        draft cancelled before posting (``withdrawn``) never was."""
        return self.status not in self.draft_stages and self.status != "withdrawn"


class BudgetProposal(_Versioned, db.Model):
    """An organization's budget proposal for one fiscal year."""

    __tablename__ = "budget_proposals"
    __table_args__ = (
        UniqueConstraint("organization_id", "fiscal_year", name="uq_budget_proposals_organization_year"),
        CheckConstraint(sql_in("status", PROPOSAL_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    notes: Mapped[str] = mapped_column(Text, default="")

    organization: Mapped[Organization] = relationship(lazy="joined")


class ProgramBudget(_Versioned, db.Model):
    """A PPA's appropriation within a budget proposal (docs/design.md §12):
    amounts per allotment class (``ps``, ``mooe``, ``finex``, ``co``, PHP),
    whose sum is ``approved_amount`` (the limit its allotments draw on,
    enforced by the database); the fund cluster (COA-DBM Joint Circular
    2013-1, ``rules/default/fund_clusters.yaml``); the PAP/UACS code; the act
    that enacted it (GAAB / Bangsamoro Appropriations Act number and date).
    ``supplemental``: a supplemental appropriation (a PPA has at most one
    regular program budget per proposal, and any number of supplemental ones)."""

    __tablename__ = "program_budgets"
    __table_args__ = (
        Index("uq_program_budgets_proposal_ppa_regular", "proposal_id", "ppa_id", unique=True,
              postgresql_where=text("NOT supplemental"), sqlite_where=text("NOT supplemental")),
        CheckConstraint("approved_amount >= 0", name="amount_not_negative"),
        CheckConstraint("ps >= 0 AND mooe >= 0 AND finex >= 0 AND co >= 0", name="class_amounts_not_negative"),
        CheckConstraint("approved_amount = ps + mooe + finex + co", name="approved_is_sum_of_classes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("budget_proposals.id", ondelete="RESTRICT"), index=True)
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id", ondelete="RESTRICT"), index=True)
    approved_amount: Mapped[Decimal] = mapped_column(Money)
    ps: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    mooe: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    finex: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    co: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    fund_cluster: Mapped[str] = mapped_column(String(2), default="01")
    pap_code: Mapped[str] = mapped_column(String(40), default="")
    enactment_act: Mapped[str] = mapped_column(String(80), default="")
    enactment_date: Mapped[date | None] = mapped_column(Date)
    supplemental: Mapped[bool] = mapped_column(Boolean, default=False)

    proposal: Mapped[BudgetProposal] = relationship(lazy="joined")
    ppa: Mapped[Ppa] = relationship(lazy="joined")

    def class_amount(self, allotment_class: str) -> Decimal:
        """The amount appropriated for ``allotment_class`` (``ps``, ``mooe``,
        ``finex``, ``co``), PHP."""
        return getattr(self, allotment_class)


class BudgetJustification(_Versioned, db.Model):
    """Evidence for a program budget (needs addressed, targets, costing)."""

    __tablename__ = "budget_justifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_budget_id: Mapped[int] = mapped_column(ForeignKey("program_budgets.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    narrative: Mapped[str] = mapped_column(Text)


class BudgetLineItem(_Versioned, db.Model):
    """One line of a program budget, by UACS object code (``50202010-01``)
    and allotment class; the lines of a class never total above the program
    budget's amount for that class (docs/design.md §12)."""

    __tablename__ = "budget_line_items"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("length(uacs_code) = 11", name="uacs_length"),
        CheckConstraint(sql_in("allotment_class", ALLOTMENT_CLASSES), name="allotment_class"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_budget_id: Mapped[int] = mapped_column(ForeignKey("program_budgets.id", ondelete="RESTRICT"), index=True)
    uacs_code: Mapped[str] = mapped_column(String(11))
    #: The allotment class the line is charged to (``ALLOTMENT_CLASSES``); its
    #: UACS object code must be of that class (``rules/default/uacs_object_codes.yaml``).
    allotment_class: Mapped[str] = mapped_column(String(5), default="mooe")
    description: Mapped[str] = mapped_column(String(255))
    amount: Mapped[Decimal] = mapped_column(Money)


class Allotment(_Spending, _Versioned, db.Model):
    """A release against a program budget (SARO/GARO number). Its quarter
    is the quarter of ``release_date`` (set from it, never given); its
    ``allotment_class`` and ``validity_category`` say which validity rule
    (``rules/default/validity.yaml``) governs it and what draws on it
    (docs/design.md §12; migration 0012)."""

    __tablename__ = "allotments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter"),
        CheckConstraint(sql_in("status", ALLOTMENT_STATUSES), name="status"),
        CheckConstraint(sql_in("allotment_class", ALLOTMENT_CLASSES), name="allotment_class"),
        CheckConstraint(f"({sql_in('validity_category', VALIDITY_CATEGORIES)}) AND ("
                        + " OR ".join(f"(allotment_class = '{k}' AND {sql_in('validity_category', categories_of(k))})"
                                      for k in ALLOTMENT_CLASSES) + ")", name="validity_category"),
        UniqueConstraint("organization_id", "saro_number", name="uq_allotments_saro_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_budget_id: Mapped[int] = mapped_column(ForeignKey("program_budgets.id", ondelete="RESTRICT"), index=True)
    quarter: Mapped[int] = mapped_column(Integer)
    release_date: Mapped[date] = mapped_column(Date)
    allotment_class: Mapped[str] = mapped_column(String(5), default="mooe", server_default="mooe")
    validity_category: Mapped[str] = mapped_column(String(30), default="mooe_operations",
                                                   server_default="mooe_operations")
    saro_number: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20), default="released")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The business date of the cancellation: its reversal posts in this date's quarter.
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    program_budget: Mapped[ProgramBudget] = relationship(lazy="joined")


class Obligation(_Spending, _Versioned, db.Model):
    """A commitment against an allotment (ORS number): contract, purchase order."""

    __tablename__ = "obligations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(sql_in("status", OBLIGATION_STATUSES), name="status"),
        UniqueConstraint("organization_id", "ors_number", name="uq_obligations_ors_number"),
    )

    counting_statuses = ORS_POSTED_STATUSES
    draft_stages = ORS_DRAFT_STAGES

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    allotment_id: Mapped[int] = mapped_column(ForeignKey("allotments.id", ondelete="RESTRICT"), index=True)
    #: The work item of the PPA's WBS the obligation is charged to; ``None``
    #: charges the PPA as a whole (its project). Its disbursements are that
    #: item's actual expenditure (docs/design.md §12, "Money spent and payables").
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"), index=True)
    payee: Mapped[str] = mapped_column(String(255))
    ors_number: Mapped[str] = mapped_column(String(40))
    particulars: Mapped[str] = mapped_column(Text, default="")
    obligation_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The business date of the cancellation: its reversal posts in this date's quarter.
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    allotment: Mapped[Allotment] = relationship(lazy="joined")


class Delivery(db.Model):
    """A delivery accepted against an obligation (the goods or services
    inspected and accepted): what the supplier may now demand. Accepted
    and not yet paid is *due and demandable*; obligated and not yet
    accepted is *not yet due and demandable* (FAR No. 1 columns 23–24;
    docs/design.md §12, "Money spent and payables"). The deliveries of an
    obligation never total above its amount (services.budget, with the
    obligation locked). Append-only: a delivery is never changed."""

    __tablename__ = "obligation_deliveries"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id", ondelete="RESTRICT"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    accepted_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Disbursement(_Spending, _Versioned, db.Model):
    """A payment against an obligation (DV number)."""

    __tablename__ = "disbursements"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(sql_in("status", DISBURSEMENT_STATUSES), name="status"),
        CheckConstraint(sql_in("payment_method", PAYMENT_METHODS), name="payment_method"),
        UniqueConstraint("organization_id", "dv_number", name="uq_disbursements_dv_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inactive_status = "voided"
    counting_statuses = DV_POSTED_STATUSES
    draft_stages = DV_DRAFT_STAGES

    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id", ondelete="RESTRICT"), index=True)
    dv_number: Mapped[str] = mapped_column(String(40))
    #: The fund cluster the DV is charged to (GAM Appendix 32's own field): its
    #: program budget's, set when the DV is recorded (migration 0017 filled it in).
    fund_cluster: Mapped[str] = mapped_column(String(2), default="01")
    payment_method: Mapped[str] = mapped_column(String(20))
    disbursement_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    #: Box E: the check or ADA number, the JEV number (the DV's
    #: ``disbursement_date`` is then the check/ADA issue date).
    check_ada_number: Mapped[str | None] = mapped_column(String(40))
    jev_number: Mapped[str | None] = mapped_column(String(40))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The business date of the void: its reversal posts in this date's quarter.
    voided_on: Mapped[date | None] = mapped_column(Date)
    void_reason: Mapped[str | None] = mapped_column(Text)

    obligation: Mapped[Obligation] = relationship(lazy="joined")


class DocumentNumberSeries(db.Model):
    """The last serial given in one series of document numbers of one
    organization (docs/design.md §12, "Document numbers and modes of
    payment"): ORS numbers run one series per fund cluster and year (GAM
    Appendix 11), DV numbers one per year (GAM Appendix 32; ``fund_cluster``
    is ``""``). ``services.document_numbers`` moves ``last_serial`` forward
    in one atomic upsert, so two concurrent generations never share a serial;
    a number given by hand moves it to at least its serial."""

    __tablename__ = "document_number_series"
    __table_args__ = (
        CheckConstraint(sql_in("document", NUMBERED_DOCUMENTS), name="document"),
        CheckConstraint("last_serial >= 0", name="last_serial_not_negative"),
        UniqueConstraint("organization_id", "document", "fund_cluster", "year",
                         name="uq_document_number_series_series"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    document: Mapped[str] = mapped_column(String(3))
    fund_cluster: Mapped[str] = mapped_column(String(2))
    year: Mapped[int] = mapped_column(Integer)
    last_serial: Mapped[int] = mapped_column(Integer, default=0)


class _Adjustment:
    """A correction of a posted row, itself a posted row (never updated or
    deleted: migration 0011). ``amount`` is signed PHP: what it adds to the
    active amount of its parent. It posts in the quarter of
    ``adjustment_date``."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    adjustment_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AllotmentAdjustment(_Adjustment, db.Model):
    """A reduction, withdrawal or augmentation of an allotment (SARO): the
    allotment's active amount is its amount plus these (reductions and
    withdrawals negative)."""

    __tablename__ = "allotment_adjustments"
    __table_args__ = (
        CheckConstraint("(kind = 'augmentation' AND amount > 0) OR (kind IN ('reduction', 'withdrawal', "
                        "'sub_allotment') AND amount < 0) OR (kind = 'realignment' AND amount <> 0)",
                        name="signed_by_kind"),
    )

    allotment_id: Mapped[int] = mapped_column(ForeignKey("allotments.id", ondelete="RESTRICT"), index=True)
    #: ``ALLOTMENT_ADJUSTMENT_KINDS``.
    kind: Mapped[str] = mapped_column(String(20))
    #: The two rows of a realignment share it (a UUID); ``None`` otherwise.
    pair_key: Mapped[str | None] = mapped_column(String(36))


class ObligationAdjustment(_Adjustment, db.Model):
    """A NORSA (Notice of Obligation Request and Status Adjustment) of an
    obligation: the obligation's active amount is its amount plus these
    (signed)."""

    __tablename__ = "obligation_adjustments"
    __table_args__ = (CheckConstraint("amount <> 0", name="amount_not_zero"),)

    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id", ondelete="RESTRICT"), index=True)


class AppropriationAdjustment(_Adjustment, db.Model):
    """An adjustment of a program budget (the PPA's appropriation) in one
    allotment class, itself a posted row (docs/design.md §12 "Adjustments
    and transfers"; migration 0018): an ``augmentation`` (positive, alone),
    a ``modification`` (one of a pair in the same program budget, between
    two classes) or a ``transfer`` (one of a pair between two program
    budgets of the same MOA and fiscal year). The two rows of a pair share
    ``pair_key`` and sum to zero. The program budget's adjusted amount is
    its approved amount plus these."""

    __tablename__ = "appropriation_adjustments"
    __table_args__ = (
        CheckConstraint("(kind = 'augmentation' AND amount > 0 AND pair_key IS NULL) OR "
                        "(kind IN ('modification', 'transfer') AND amount <> 0 AND pair_key IS NOT NULL)",
                        name="signed_by_kind"),
        CheckConstraint(sql_in("allotment_class", ALLOTMENT_CLASSES), name="allotment_class"),
    )

    program_budget_id: Mapped[int] = mapped_column(ForeignKey("program_budgets.id", ondelete="RESTRICT"),
                                                   index=True)
    kind: Mapped[str] = mapped_column(String(12))
    allotment_class: Mapped[str] = mapped_column(String(5))
    pair_key: Mapped[str | None] = mapped_column(String(36))


class SubAllotment(db.Model):
    """A sub-allotment of part of a MOA's allotment to another MOA or
    operating unit (docs/design.md §12 "Adjustments and transfers"; FAR No.
    1 columns 8–9, FAR No. 1-B): the giver's *transfer to* is
    ``adjustment_id`` (an ``AllotmentAdjustment`` of kind ``sub_allotment``,
    negative), the receiver's *transfer from* is ``recipient_allotment_id``
    (an allotment of the receiving organization, against the same program
    budget, which it obligates against). Append-only; never to itself."""

    __tablename__ = "sub_allotments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("recipient_organization_id <> organization_id", name="not_to_itself"),
        UniqueConstraint("recipient_allotment_id", name="uq_sub_allotments_recipient_allotment_id"),
        UniqueConstraint("adjustment_id", name="uq_sub_allotments_adjustment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    allotment_id: Mapped[int] = mapped_column(ForeignKey("allotments.id", ondelete="RESTRICT"), index=True)
    adjustment_id: Mapped[int] = mapped_column(ForeignKey("allotment_adjustments.id", ondelete="RESTRICT"))
    recipient_allotment_id: Mapped[int] = mapped_column(ForeignKey("allotments.id", ondelete="RESTRICT"))
    #: The giver.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    recipient_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    sub_allotment_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    allotment: Mapped[Allotment] = relationship(foreign_keys=[allotment_id], lazy="joined")
    recipient_allotment: Mapped[Allotment] = relationship(foreign_keys=[recipient_allotment_id], lazy="joined")
    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id], lazy="joined")
    recipient_organization: Mapped[Organization] = relationship(foreign_keys=[recipient_organization_id],
                                                                lazy="joined")


#: The months of a fiscal year a plan line may be for (January = 1).
PLAN_MONTHS = tuple(range(1, 13))


class ExecutionPlanLine(_Versioned, db.Model):
    """One line of a PPA's budget execution documents (DBM, docs/design.md
    §12 "Financial plan (BED No. 1 and No. 3)"; migration 0021): for one
    month (1–12) of the PPA's fiscal year and one allotment class (``ps``,
    ``mooe``, ``finex``, ``co``), the obligations planned in that month
    (BED No. 1, the financial plan's obligation program) and the
    disbursements planned (BED No. 3, the monthly disbursement program),
    PHP, never negative. A PPA has at most one line per month and class;
    ``services.execution_plans`` replaces them all at once, and only for
    an appropriated PPA."""

    __tablename__ = "execution_plan_lines"
    __table_args__ = (
        UniqueConstraint("ppa_id", "month", "allotment_class", name="uq_execution_plan_lines_ppa_month_class"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        CheckConstraint(sql_in("allotment_class", ALLOTMENT_CLASSES), name="allotment_class"),
        CheckConstraint("obligations_planned >= 0 AND disbursements_planned >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id", ondelete="RESTRICT"), index=True)
    #: The PPA's fiscal year (the months are of it), kept on the row for reports by year.
    fiscal_year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    allotment_class: Mapped[str] = mapped_column(String(5))
    #: BED No. 1: obligations planned in the month (PHP; centavos in the database).
    obligations_planned: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    #: BED No. 3: disbursements planned in the month (PHP; centavos in the database).
    disbursements_planned: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
