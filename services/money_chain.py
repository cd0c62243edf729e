"""A PPA's money from appropriation to payment, as the web app's Execution
tab shows it (docs/design.md §11, §12; seed 003): its program budgets, the
allotments released against them by quarter, the obligations and
disbursements, each level with what is used and what is left.

One statement per level (program budgets, allotments, obligations,
disbursements), whatever the number of rows; the balances are sums of the
active rows below, exact in PHP ``Decimal``, as ``services.budget.totals``
gives them one row at a time. Who may add what comes from the same role
lists as the writes (``services.budget``): budget analysts release
allotments, the MOA records obligations and disbursements.

Issue 12 reshapes the chain (certifications, adjustments, period close);
each level is its own list here so that a new kind of document is one more.
Posted rows never change (docs/design.md §12 "Posted rows never change"):
an allotment's and an obligation's active amount is its amount plus its
adjustments (two more statements), and ``MoneyChain.postings`` lists every
movement in the period it happened, a cancellation's reversal in the
quarter of its own date (``workflow.postings``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from sqlalchemy import BigInteger, func, select, type_coerce

from db import db
from db.models import (
    Allotment,
    AllotmentAdjustment,
    AppropriationAdjustment,
    Delivery,
    Disbursement,
    Obligation,
    ObligationAdjustment,
    OpeningBalance,
    Ppa,
    ProgramBudget,
    SubAllotment,
    User,
)
from services.access import has_role, visible_organization, visible_rows
from services.adjustments import ADJUST_APPROPRIATION, CORRECT_ALLOTMENT
from services.budget import RELEASE, SPEND, payables
from services.expenditure import is_in_chain
from services.ppas import get_ppa_or_raise
from services.trees import load_tree
from workflow.money import ZERO, from_centavos
from workflow.postings import Posting, columns_by_quarter, net_by_quarter
from workflow.validity import period_of


@dataclass(frozen=True)
class ProgramBudgetLine:
    """A program budget (the appropriation of the PPA), its appropriation
    adjustments and its balances, PHP.

    ``adjusted_amount`` = approved + adjustments; ``unallotted`` = adjusted
    − allotted; ``unobligated`` = allotted − obligated; ``unpaid`` =
    obligated − disbursed (active rows only).
    """

    row: ProgramBudget
    allotted: Decimal
    obligated: Decimal
    disbursed: Decimal
    adjustments: tuple[AppropriationAdjustment, ...] = ()

    @property
    def adjusted_amount(self) -> Decimal:
        """The approved amount plus its augmentations, modifications and transfers."""
        return self.row.approved_amount + sum((a.amount for a in self.adjustments), ZERO)

    @property
    def unallotted(self) -> Decimal:
        return self.adjusted_amount - self.allotted

    @property
    def unobligated(self) -> Decimal:
        return self.allotted - self.obligated

    @property
    def unpaid(self) -> Decimal:
        return self.obligated - self.disbursed


@dataclass(frozen=True)
class AllotmentLine:
    """An allotment (SARO/GARO), its adjustments, what is obligated against
    it and what is still available (nothing once cancelled), PHP."""

    row: Allotment
    obligated: Decimal
    adjustments: tuple[AllotmentAdjustment, ...] = ()

    @property
    def amount(self) -> Decimal:
        """The active amount: as released plus its adjustments."""
        return self.row.amount + sum((a.amount for a in self.adjustments), ZERO)

    @property
    def available(self) -> Decimal:
        return self.amount - self.obligated if self.row.active else ZERO


@dataclass(frozen=True)
class ObligationLine:
    """An obligation (ORS), its NORSA adjustments, what is disbursed against
    it and its balance (nothing once cancelled), PHP; and its payables: what
    deliveries were accepted, and the unpaid balance split into due and
    demandable (accepted, not yet paid) and not yet due and demandable
    (obligated, not yet accepted), as FAR No. 1 columns 23–24
    (``services.budget.payables``)."""

    row: Obligation
    disbursed: Decimal
    adjustments: tuple[ObligationAdjustment, ...] = ()
    accepted: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        """The active amount: as obligated plus its NORSA adjustments."""
        return self.row.amount + sum((a.amount for a in self.adjustments), ZERO)

    @property
    def balance(self) -> Decimal:
        return self.amount - self.disbursed if self.row.active else ZERO

    @cached_property
    def payable(self) -> dict[str, Decimal]:
        """``services.budget.payables`` of this ORS, worked out once: PHP
        ``accepted``, ``due_and_demandable`` and ``not_yet_due_and_demandable``
        (FAR No. 1 columns 23–24; both zero once cancelled)."""
        return payables(self.row, self.amount, self.disbursed, self.accepted)

    @property
    def due_and_demandable(self) -> Decimal:
        return self.payable["due_and_demandable"]

    @property
    def not_yet_due_and_demandable(self) -> Decimal:
        return self.payable["not_yet_due_and_demandable"]


@dataclass(frozen=True)
class Quarter:
    """One quarter of one year, and the documents dated in it: the
    allotments released, the ORS obligated and the DV paid in it (each by
    its own date, year included: docs/design.md §12), PHP.

    ``allotted``, ``obligated`` and ``available`` are of the quarter's
    allotments (what they released, what is obligated against them and
    what they still have); ``obligations_dated`` and
    ``disbursements_dated`` are the active ORS and DV dated in the quarter,
    whatever allotment they draw on.
    """

    year: int
    number: int
    allotments: list[AllotmentLine]
    obligations: list[ObligationLine] = field(default_factory=list)
    disbursements: list[Disbursement] = field(default_factory=list)
    in_fiscal_year: bool = True

    @property
    def label(self) -> str:
        """"Q1" for a quarter of the PPA's fiscal year, "Q1 2027" for a later one."""
        return f"Q{self.number}" if self.in_fiscal_year else f"Q{self.number} {self.year}"

    @property
    def allotted(self) -> Decimal:
        return sum((a.amount for a in self.allotments if a.row.active), ZERO)

    @property
    def obligated(self) -> Decimal:
        return sum((a.obligated for a in self.allotments), ZERO)

    @property
    def available(self) -> Decimal:
        return sum((a.available for a in self.allotments), ZERO)

    @property
    def obligations_dated(self) -> Decimal:
        return sum((o.row.amount for o in self.obligations if o.row.active), ZERO)

    @property
    def disbursements_dated(self) -> Decimal:
        return sum((d.amount for d in self.disbursements if d.active), ZERO)


@dataclass(frozen=True)
class MoneyChain:
    """A PPA's execution chain, oldest rows first at each level.

    Attributes:
        may_release: the user may release allotments (budget analysts).
        may_spend: the user may record obligations and disbursements (the
            PPA's MOA).
        may_adjust_appropriations: the user may augment, modify or transfer
            the PPA's appropriations (``services.adjustments.ADJUST_APPROPRIATION``).
        may_transfer: the user may realign and sub-allot the PPA's allotments
            (``services.adjustments.CORRECT_ALLOTMENT``: the MOA's budget
            officer or a budget analyst).
    """

    ppa: Ppa
    program_budgets: list[ProgramBudgetLine]
    allotments: list[AllotmentLine]
    obligations: list[ObligationLine]
    disbursements: list[Disbursement]
    may_release: bool
    may_spend: bool
    #: The PPA is in the money chain (services.expenditure): its expenditure is what it disbursed.
    in_chain: bool = False
    #: The work items an obligation may be charged to: ``(id, title, level)`` in tree order.
    work_items: tuple[tuple[int, str, int], ...] = ()
    #: The allotments received as sub-allotments (their release is a *transfer from*).
    received_allotments: frozenset[int] = frozenset()
    may_adjust_appropriations: bool = False
    may_transfer: bool = False

    @property
    def work_item_titles(self) -> dict[int, str]:
        """Work item id -> title, to name what an obligation is charged to."""
        return {item_id: title for item_id, title, _ in self.work_items}

    @property
    def quarters(self) -> list[Quarter]:
        """The four quarters of the PPA's fiscal year, then each later
        quarter a document is dated in (a continuing appropriation), each
        with the allotments, ORS and DV dated in it. A document counts in
        the quarter of its own date, year included: an ORS dated 2027 of a
        FY2026 PPA is in "Q1 2027", never in FY2026's Q1."""
        fiscal_year = self.ppa.fiscal_year
        periods = {(fiscal_year, n): ([], [], []) for n in (1, 2, 3, 4)}
        for index, rows in enumerate(([(a.row.release_date, a) for a in self.allotments],
                                      [(o.row.obligation_date, o) for o in self.obligations],
                                      [(d.disbursement_date, d) for d in self.disbursements])):
            for day, row in rows:
                periods.setdefault(period_of(day), ([], [], []))[index].append(row)
        return [Quarter(year, number, *lists, in_fiscal_year=year == fiscal_year)
                for (year, number), lists in sorted(periods.items())]

    @property
    def open_allotments(self) -> list[AllotmentLine]:
        """Allotments an obligation can still draw on (active, something available)."""
        return [a for a in self.allotments if a.row.active and a.available > 0]

    @property
    def due_and_demandable(self) -> Decimal:
        """Unpaid obligations for deliveries already accepted (PHP)."""
        return sum((o.due_and_demandable for o in self.obligations), ZERO)

    @property
    def not_yet_due_and_demandable(self) -> Decimal:
        """Unpaid obligations for what is not yet delivered and accepted (PHP)."""
        return sum((o.not_yet_due_and_demandable for o in self.obligations), ZERO)

    @property
    def open_obligations(self) -> list[ObligationLine]:
        """Obligations a disbursement can still pay (active, a balance left)."""
        return [o for o in self.obligations if o.row.active and o.balance > 0]

    @property
    def postings(self) -> list[Posting]:
        """Every movement of the PPA's money, each on its own date, oldest
        first: allotments, obligations and disbursements on their dates,
        adjustments on theirs, and each cancellation or void as the reversal
        of the active amount on its ``cancelled_on`` / ``voided_on``.
        A posted row's period never changes after the fact."""
        out: list[Posting] = []

        def post(level, line_amount, row, day, noun, adjustments, cancelled_on, first="original"):
            out.append(Posting(level, first, day, row.amount, f"{noun} {row.id}"))
            out.extend(Posting(level, _kind(a), a.adjustment_date, a.amount, f"{noun} {row.id}")
                       for a in adjustments)
            if cancelled_on is not None:
                out.append(Posting(level, "reversal", cancelled_on, -line_amount, f"{noun} {row.id}"))

        for b in self.program_budgets:
            out.extend(Posting("appropriated", _kind(a), a.adjustment_date, a.amount, f"program budget {b.row.id}")
                       for a in b.adjustments)
        for a in self.allotments:
            post("allotted", a.amount, a.row, a.row.release_date, "allotment", a.adjustments, a.row.cancelled_on,
                 "transfer_from" if a.row.id in self.received_allotments else "original")
        for o in self.obligations:  # an ORS posts at Box B, a DV at Box E: drafts post nothing
            if o.row.posted:
                post("obligated", o.amount, o.row, o.row.obligation_date, "obligation", o.adjustments,
                     o.row.cancelled_on)
        for d in self.disbursements:
            if d.posted:
                post("disbursed", d.amount, d, d.disbursement_date, "disbursement", (), d.voided_on)
        return sorted(out, key=lambda p: p.day)

    def by_quarter(self) -> dict[tuple[int, int], dict[str, Decimal]]:
        """Net allotted, obligated and disbursed per (fiscal year, quarter)
        with a posting, PHP: the figures of a period, which later
        corrections never rewrite (they post in their own period)."""
        return net_by_quarter(self.postings)

    def columns_by_quarter(self) -> dict[tuple[int, int], dict[str, dict[str, Decimal]]]:
        """Per (fiscal year, quarter), each level (``appropriated``,
        ``allotted``, ``obligated``, ``disbursed``) in its columns:
        originals, adjustments, transfers to, transfers from, reversals and
        their net, PHP (``workflow.postings.columns_by_quarter``); what FAR
        No. 1 reads, transfers never netted into the originals."""
        return columns_by_quarter(self.postings)


def _kind(adjustment) -> str:
    """The posting kind of an adjustment row: a transfer's or
    sub-allotment's giving side is ``transfer_to``, a transfer's receiving
    side ``transfer_from``, anything else an ``adjustment``."""
    kind = getattr(adjustment, "kind", None)
    if kind == "sub_allotment" or (kind == "transfer" and adjustment.amount < 0):
        return "transfer_to"
    if kind == "transfer":
        return "transfer_from"
    return "adjustment"


def _active_sums(rows: Iterable, parent_of) -> dict[int, Decimal]:
    """parent id -> sum of the active amounts of the active ``rows`` under
    it (rows, or lines whose ``row`` is active and ``amount`` adjusted)."""
    sums: dict[int, Decimal] = {}
    for row in rows:
        if getattr(row, "row", row).active:
            key = parent_of(row)
            sums[key] = sums.get(key, ZERO) + row.amount
    return sums


def _by_parent(rows: Iterable, parent_of) -> dict[int, tuple]:
    """parent id -> its ``rows``, in the order given."""
    out: dict[int, list] = {}
    for row in rows:
        out.setdefault(parent_of(row), []).append(row)
    return {key: tuple(value) for key, value in out.items()}


def _accepted_by_obligation(obligation_ids: list[int]) -> dict[int, Decimal]:
    """obligation id -> deliveries accepted (PHP), in one statement."""
    if not obligation_ids:
        return {}
    rows = db.session.execute(select(Delivery.obligation_id, func.sum(type_coerce(Delivery.amount, BigInteger)))
                              .where(Delivery.obligation_id.in_(obligation_ids)).group_by(Delivery.obligation_id))
    return {obligation_id: from_centavos(int(centavos)) for obligation_id, centavos in rows}


def read_money_chain(user: User, ppa_id: int) -> MoneyChain:
    """The PPA's program budgets, allotments, obligations and disbursements
    with their adjustments and balances (eight statements after the PPA's).
    The balances count every row; the allotments, obligations and
    disbursements listed (and their postings) are those ``user`` may see:
    a sub-allotment received by another MOA, its ORS and DVs, are that
    MOA's (404 to GET for the giver), so they are left out.

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    budgets = list(db.session.scalars(select(ProgramBudget).where(ProgramBudget.ppa_id == ppa.id)
                                      .order_by(ProgramBudget.id)))
    allotments = list(db.session.scalars(select(Allotment).where(
        Allotment.program_budget_id.in_([b.id for b in budgets])).order_by(Allotment.id))) if budgets else []
    obligations = list(db.session.scalars(select(Obligation).where(
        Obligation.allotment_id.in_([a.id for a in allotments])).order_by(Obligation.id))) if allotments else []
    disbursements = list(db.session.scalars(select(Disbursement).where(
        Disbursement.obligation_id.in_([o.id for o in obligations])).order_by(Disbursement.id))) \
        if obligations else []

    allotment_adjustments = _by_parent(db.session.scalars(select(AllotmentAdjustment).where(
        AllotmentAdjustment.allotment_id.in_([a.id for a in allotments])).order_by(AllotmentAdjustment.id))
        if allotments else [], lambda j: j.allotment_id)
    obligation_adjustments = _by_parent(db.session.scalars(select(ObligationAdjustment).where(
        ObligationAdjustment.obligation_id.in_([o.id for o in obligations])).order_by(ObligationAdjustment.id))
        if obligations else [], lambda j: j.obligation_id)

    disbursed = _active_sums(disbursements, lambda d: d.obligation_id)
    accepted = _accepted_by_obligation([o.id for o in obligations])
    obligation_lines = [ObligationLine(o, disbursed.get(o.id, ZERO), obligation_adjustments.get(o.id, ()),
                                       accepted.get(o.id, ZERO)) for o in obligations]
    obligated = _active_sums(obligation_lines, lambda o: o.row.allotment_id)
    allotment_lines = [AllotmentLine(a, obligated.get(a.id, ZERO), allotment_adjustments.get(a.id, ()))
                       for a in allotments]
    budget_of_allotment = {a.id: a.program_budget_id for a in allotments}
    budget_of_obligation = {o.id: budget_of_allotment[o.allotment_id] for o in obligations}
    allotted_by_budget = _active_sums(allotment_lines, lambda a: a.row.program_budget_id)
    obligated_by_budget = _active_sums(obligation_lines, lambda o: budget_of_allotment[o.row.allotment_id])
    disbursed_by_budget = _active_sums(disbursements, lambda d: budget_of_obligation[d.obligation_id])
    appropriation_adjustments = _by_parent(db.session.scalars(select(AppropriationAdjustment).where(
        AppropriationAdjustment.program_budget_id.in_([b.id for b in budgets])).order_by(AppropriationAdjustment.id))
        if budgets else [], lambda j: j.program_budget_id)
    received = frozenset(db.session.scalars(select(SubAllotment.recipient_allotment_id).where(
        SubAllotment.recipient_allotment_id.in_([a.id for a in allotments])))) if allotments else frozenset()
    budget_lines = [ProgramBudgetLine(b, allotted_by_budget.get(b.id, ZERO), obligated_by_budget.get(b.id, ZERO),
                                      disbursed_by_budget.get(b.id, ZERO), appropriation_adjustments.get(b.id, ()))
                    for b in budgets]
    # The balances above count every row (as the API's totals do); the rows listed are only those the user
    # may GET: another MOA's received sub-allotment, its ORS and DVs, are not the giver's to see.
    allotment_lines = [a for a in allotment_lines if visible_organization(user, a.row.organization_id)]
    obligation_lines = [o for o in obligation_lines if visible_organization(user, o.row.organization_id)]
    disbursements = [d for d in disbursements if visible_organization(user, d.organization_id)]
    items = () if ppa.execution_project_id is None else tuple(
        (node.id, node.title, node.level) for node in load_tree(ppa.execution_project_id, rolled=False).preorder())
    return MoneyChain(ppa, budget_lines, allotment_lines, obligation_lines, disbursements,
                      may_release=has_role(user, RELEASE, ppa.organization_id),
                      may_spend=has_role(user, SPEND, ppa.organization_id),
                      in_chain=is_in_chain(ppa.id), work_items=items, received_allotments=received,
                      may_adjust_appropriations=has_role(user, ADJUST_APPROPRIATION, ppa.organization_id),
                      may_transfer=has_role(user, CORRECT_ALLOTMENT, ppa.organization_id))


def balances_now(rows: Iterable[OpeningBalance]) -> dict[int, Decimal]:
    """What is left now of each opening balance (PHP), by its id (the rows
    of ``services.periods.opening_balances``): for a
    continuing appropriation, its allotment's unobligated balance
    (``MoneyChain``'s ``AllotmentLine.available``: the active amount less
    its active ORS); for an unpaid obligation, its ORS's unpaid balance
    (``ObligationLine.balance``: the active amount less its DVs not voided).
    Every posting counts, whatever its date: the carried amount plus what
    the new year (and later) did with it."""
    rows = list(rows)
    allotment_ids = {r.allotment_id for r in rows if r.obligation_id is None}
    obligation_ids = {r.obligation_id for r in rows if r.obligation_id is not None}
    allotments = {a.id: a for a in db.session.scalars(select(Allotment).where(Allotment.id.in_(allotment_ids)))}
    obligations = list(db.session.scalars(select(Obligation).where(
        Obligation.allotment_id.in_(allotment_ids) | Obligation.id.in_(obligation_ids))))
    norsa = _by_parent(db.session.scalars(select(ObligationAdjustment).where(
        ObligationAdjustment.obligation_id.in_({o.id for o in obligations}))), lambda j: j.obligation_id)
    adjustments = _by_parent(db.session.scalars(select(AllotmentAdjustment).where(
        AllotmentAdjustment.allotment_id.in_(allotment_ids))), lambda j: j.allotment_id)
    paid = _by_parent((d for d in db.session.scalars(select(Disbursement).where(
        Disbursement.obligation_id.in_(obligation_ids))) if d.active), lambda d: d.obligation_id)
    lines = {o.id: ObligationLine(o, sum((d.amount for d in paid.get(o.id, ())), ZERO), tuple(norsa.get(o.id, ())))
             for o in obligations}
    obligated: dict[int, Decimal] = {}
    for line in lines.values():
        if line.row.active:
            obligated[line.row.allotment_id] = obligated.get(line.row.allotment_id, ZERO) + line.amount
    return {r.id: (lines[r.obligation_id].balance if r.obligation_id is not None else AllotmentLine(
        allotments[r.allotment_id], obligated.get(r.allotment_id, ZERO),
        tuple(adjustments.get(r.allotment_id, ()))).available) for r in rows}


def transfer_targets(user: User, ppa: Ppa) -> list[ProgramBudget]:
    """The program budgets an appropriation of ``ppa`` may be transferred to:
    those of the same MOA and fiscal year that ``user`` may see, this PPA's
    included, oldest first (docs/design.md §12 "Adjustments and transfers";
    ``services.adjustments.adjust_appropriation`` refuses any other)."""
    return list(db.session.scalars(
        select(ProgramBudget).join(Ppa, ProgramBudget.ppa_id == Ppa.id)
        .where(Ppa.organization_id == ppa.organization_id, Ppa.fiscal_year == ppa.fiscal_year,
               visible_rows(user, Ppa.organization_id))
        .order_by(ProgramBudget.id)))
