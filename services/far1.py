"""FAR No. 1, the Statement of Appropriations, Allotments, Obligations,
Disbursements and Balances (SAAODB) as COA and DBM prescribe it
(docs/design.md §8 "FAR No. 1 as built"; issue 13 item 1).

One statement per reporting entity (one MOA, or the consolidated BARMM
statement across MOAs for MFBM), per fund cluster, for a quarter ending:
the 24 prescribed columns, rows by PAP (its UACS code) and allotment class,
a subtotal per PAP and per allotment class, a grand total, in two sections
(A. current-year appropriations: the PPAs of the fiscal year; B. continuing
appropriations: the year's opening balances, ``services.periods``).

Every figure comes from the money chain's posted rows dated on or before
the quarter's last day (docs/design.md §12 "Posted rows never change"):
allotments, obligations and disbursements with their adjustments, transfers
and reversals each in its own column, never netted into the originals.
Postings dated in a closed quarter are refused and posted rows never change,
so the statement of a closed quarter is the same however much is posted
later. Money is PHP ``Decimal``, exact; every total is summed here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from db import db
from db.models import (
    Allotment,
    AllotmentAdjustment,
    AppropriationAdjustment,
    BudgetProposal,
    Delivery,
    Disbursement,
    Obligation,
    ObligationAdjustment,
    OpeningBalance,
    Organization,
    PeriodClosure,
    Ppa,
    ProgramBudget,
    SubAllotment,
    User,
)
from db.models.period import CLOSED_STATUSES
from services.statements import (
    INTERIM,
    MONEY,
    QUARTERS,
    TEXT,
    Statement,
    StatementColumn,
    StatementLine,
    reporting_entity,
    signatories,
    statement_period,
)
from services.runtime import get_runtime
from workflow.money import ZERO
from workflow.validity import period_of

#: Allotment classes in the statement's order: (key, label, UACS class code).
CLASSES = (("ps", "Personnel Services", "01"), ("mooe", "Maintenance and Other Operating Expenses", "02"),
           ("finex", "Financial Expenses", "03"), ("co", "Capital Outlay", "06"))
CLASS_LABEL = {key: label for key, label, _ in CLASSES}
CLASS_UACS = {key: code for key, _, code in CLASSES}
TITLE = "STATEMENT OF APPROPRIATIONS, ALLOTMENTS, OBLIGATIONS, DISBURSEMENTS AND BALANCES"
SECTIONS = ("A. Current Year Appropriations", "B. Continuing Appropriations")
_APPROPRIATIONS, _ALLOTMENTS = "Appropriations", "Allotments"
_OBLIGATIONS, _DISBURSEMENTS, _BALANCES = "Current Year Obligations", "Current Year Disbursements", "Balances"
_QUARTER_HEADINGS = ("1st Quarter Ending March 31", "2nd Quarter Ending June 30", "3rd Quarter Ending Sept. 30",
                     "4th Quarter Ending Dec. 31")
#: The 24 prescribed columns: headings, numbers, grouped headings and the formula row.
COLUMNS = tuple(StatementColumn(heading, kind, group, str(number), formula, width) for number, (
    heading, kind, group, formula, width) in enumerate((
        ("Particulars", TEXT, "", "", 48), ("UACS Code", TEXT, "", "", 16),
        ("Authorized Appropriations", MONEY, _APPROPRIATIONS, "", 17),
        ("Adjustments (Transfer To/From, Modifications/Augmentations)", MONEY, _APPROPRIATIONS, "", 17),
        ("Adjusted Appropriations", MONEY, _APPROPRIATIONS, "5=(3+4)", 17),
        ("Allotments Received", MONEY, _ALLOTMENTS, "", 17),
        ("Adjustments (Reductions/Modifications/Augmentations)", MONEY, _ALLOTMENTS, "(-)/+", 17),
        ("Transfer To", MONEY, _ALLOTMENTS, "", 17), ("Transfer From", MONEY, _ALLOTMENTS, "", 17),
        ("Adjusted Total Allotments", MONEY, _ALLOTMENTS, "10=[{6+(-)7}-8+9]", 17),
        *((heading, MONEY, _OBLIGATIONS, "", 17) for heading in _QUARTER_HEADINGS),
        ("Total", MONEY, _OBLIGATIONS, "15=(11+12+13+14)", 17),
        *((heading, MONEY, _DISBURSEMENTS, "", 17) for heading in _QUARTER_HEADINGS),
        ("Total", MONEY, _DISBURSEMENTS, "20=(16+17+18+19)", 17),
        ("Unreleased Appropriations", MONEY, _BALANCES, "21=(5-10)", 17),
        ("Unobligated Allotments", MONEY, _BALANCES, "22=(10-15)", 17),
        ("Due and Demandable", MONEY, _BALANCES, "Unpaid Obligations (15-20)=(23+24)", 17),
        ("Not Yet Due and Demandable", MONEY, _BALANCES, "", 17)), start=1))
#: The figure fields of a line, in column order (columns 3–24).
_INPUTS = ("authorized", "appropriation_adjustments", "received", "allotment_adjustments", "transfers_to",
           "transfers_from")


@dataclass
class Far1Line:
    """One line of the statement. ``kind``: ``pap`` (a PAP's heading line,
    no figures), ``detail`` (a PAP in one allotment class), ``subtotal``
    (a PAP's, a class's or a section's), ``total`` (the grand total).

    Figures (PHP): ``authorized`` (col. 3), ``appropriation_adjustments``
    (4), ``received`` (6), ``allotment_adjustments`` (7, signed),
    ``transfers_to`` (8, shown positive, subtracted), ``transfers_from`` (9),
    ``obligations`` and ``disbursements`` by quarter (11–14, 16–19), and
    the unpaid obligations ``due`` (23) and ``not_due`` (24) at the quarter's end.
    """

    particulars: str
    uacs: str
    kind: str = "detail"
    allotment_class: str = ""
    authorized: Decimal = ZERO
    appropriation_adjustments: Decimal = ZERO
    received: Decimal = ZERO
    allotment_adjustments: Decimal = ZERO
    transfers_to: Decimal = ZERO
    transfers_from: Decimal = ZERO
    obligations: dict[int, Decimal] = field(default_factory=lambda: dict.fromkeys(QUARTERS, ZERO))
    disbursements: dict[int, Decimal] = field(default_factory=lambda: dict.fromkeys(QUARTERS, ZERO))
    due: Decimal = ZERO
    not_due: Decimal = ZERO

    @property
    def adjusted_appropriations(self) -> Decimal:
        """Column 5 = 3 + 4."""
        return self.authorized + self.appropriation_adjustments

    @property
    def adjusted_allotments(self) -> Decimal:
        """Column 10 = [{6 + (−)7} − 8 + 9]."""
        return self.received + self.allotment_adjustments - self.transfers_to + self.transfers_from

    @property
    def obligations_total(self) -> Decimal:
        """Column 15 = 11 + 12 + 13 + 14."""
        return sum(self.obligations.values(), ZERO)

    @property
    def disbursements_total(self) -> Decimal:
        """Column 20 = 16 + 17 + 18 + 19."""
        return sum(self.disbursements.values(), ZERO)

    @property
    def unreleased(self) -> Decimal:
        """Column 21 = 5 − 10."""
        return self.adjusted_appropriations - self.adjusted_allotments

    @property
    def unobligated(self) -> Decimal:
        """Column 22 = 10 − 15."""
        return self.adjusted_allotments - self.obligations_total

    @property
    def empty(self) -> bool:
        """No figure at all (such a line is not printed)."""
        return not any(self.values()[2:])

    def values(self) -> list:
        """The 24 columns' values in order (``None`` for a PAP heading's figures)."""
        if self.kind == "pap":
            return [self.particulars, self.uacs, *([None] * 22)]
        return [self.particulars, self.uacs, self.authorized, self.appropriation_adjustments,
                self.adjusted_appropriations, self.received, self.allotment_adjustments, self.transfers_to,
                self.transfers_from, self.adjusted_allotments, *(self.obligations[q] for q in QUARTERS),
                self.obligations_total, *(self.disbursements[q] for q in QUARTERS), self.disbursements_total,
                self.unreleased, self.unobligated, self.due, self.not_due]

    def add(self, other: Far1Line) -> None:
        """Add ``other``'s figures into this line."""
        for name in (*_INPUTS, "due", "not_due"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for q in QUARTERS:
            self.obligations[q] += other.obligations[q]
            self.disbursements[q] += other.disbursements[q]


@dataclass
class Far1Statement:
    """One FAR No. 1: one reporting entity, one fund cluster, one quarter ending.

    Attributes:
        header: ``(label, value)`` pairs of the header block, in order.
        sections: ``(section title, lines)`` for A (current year) and B (continuing).
        total: the grand total (both sections).
        signatories: ``(caption, name, position, what is certified)`` in signing order.
        interim: the quarter is not closed (every page says ``INTERIM``).
    """

    fiscal_year: int
    quarter: int
    quarter_ending: date
    fund_cluster: str
    scope: str
    header: list[tuple[str, str]]
    sections: list[tuple[str, list[Far1Line]]]
    total: Far1Line
    signatories: list[tuple[str, str, str, str]]
    interim: bool

    @property
    def title_lines(self) -> list[str]:
        """The title lines above the header block (the interim mark last, when open)."""
        return [TITLE, "FAR No. 1", self.ending, *([INTERIM] if self.interim else [])]

    @property
    def ending(self) -> str:
        """``"For the quarter ending March 31, 2025"``."""
        day = self.quarter_ending
        return f"For the quarter ending {day:%B} {day.day}, {day.year}"

    @property
    def lines(self) -> list[Far1Line]:
        """Every line in print order: each section's title line and lines, then the grand total."""
        out: list[Far1Line] = []
        for title, lines in self.sections:
            out.append(Far1Line(title, "", kind="pap"))
            out.extend(lines)
        return [*out, self.total]

    def statement(self) -> Statement:
        """This statement in the shape every form is written and printed in
        (``services.statements``): sections' title lines as headings, PAP
        heading lines as headings, subtotals and the grand total."""
        return Statement(
            form="FAR No. 1", title=TITLE, period=self.ending, header=self.header, columns=COLUMNS,
            lines=[StatementLine(line.values(), "heading" if line.kind == "pap" else line.kind) for line in self.lines],
            signatories=self.signatories, interim=self.interim,
            scope=f"FAR No. 1 - {self.scope} - Fund Cluster {self.fund_cluster}",
            sheet=f"FC {self.fund_cluster} Q{self.quarter} {self.fiscal_year}", key_columns=2)


# -- reading the chain ------------------------------------------------------------------------------------------------

def far1_statements(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                    fund_cluster: str | None = None) -> list[Far1Statement]:
    """The FAR No. 1 statements of a reporting entity for the quarter ending
    ``quarter`` of ``fiscal_year``: one per fund cluster with figures (or
    only ``fund_cluster``), at least one.

    Args:
        moa: one MOA's statement (its code); ``None``: every organization
            the caller sees, consolidated (the BARMM statement MFBM files).
            ``services.reports.report_scope`` decides it for a caller.
        quarter: 1–4; default ``services.statements.default_quarter``.
        fund_cluster: a code of rules/default/fund_clusters.yaml (``"01"``).
    """
    entity = reporting_entity(user, fiscal_year, moa)
    period = statement_period(entity, fiscal_year, quarter)
    lines = _lines(entity.organization_ids, fiscal_year, period.end)
    clusters = sorted({k[0] for k in lines}) if fund_cluster is None else [fund_cluster]
    out = []
    for cluster in clusters or ["01"]:
        sections = [(title, _section_lines({k[1:]: v for k, v in lines.items() if k[0] == cluster and k[1] == i}))
                    for i, title in enumerate(SECTIONS)]
        total = Far1Line("GRAND TOTAL", "", kind="total")
        for _title, section in sections:
            if section:
                total.add(section[-1])
        header = [*entity.header, fund_cluster_row(cluster), appropriations_row(bool(sections[1][1]))]
        out.append(Far1Statement(fiscal_year, period.quarter, period.end, cluster, entity.scope, header, sections,
                                 total, signatories(entity), period.interim))
    return out


def far1_report(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                fund_cluster: str | None = None) -> list[Statement]:
    """FAR No. 1 as the statements every form is written and printed as
    (``far1_statements``, each ``Far1Statement.statement()``); the builder
    ``services.reports.REPORTS["far1"]`` names."""
    return [s.statement() for s in far1_statements(user, fiscal_year, moa, quarter=quarter,
                                                   fund_cluster=fund_cluster)]


def fund_cluster_row(cluster: str) -> tuple[str, str]:
    """The header block's fund cluster row: ``("Fund Cluster", "01 Regular
    Agency Fund")`` (names from rules/default/fund_clusters.yaml)."""
    name = get_runtime().rules.fund_clusters.names.get(cluster, "")
    return "Fund Cluster", f"{cluster} {name}".strip()


def appropriations_row(continuing: bool) -> tuple[str, str]:
    """The header block's tick row of the appropriations a statement holds:
    current year always, continuing when ``continuing`` (FAR No. 1's and its
    companions' header, COA-DBM JC 2019-1)."""
    return "Appropriations", ("[x] Current Year Appropriations   [ ] Supplemental Appropriations   "
                              f"[{'x' if continuing else ' '}] Continuing Appropriations")


def _section_lines(details: dict[tuple, Far1Line]) -> list[Far1Line]:
    """A section's lines: each PAP's heading, its class lines and its
    subtotal; the subtotals per class; the section's total. Empty when the
    section has no figures."""
    details = {k: v for k, v in details.items() if not v.empty}
    if not details:
        return []
    order = {key: n for n, (key, _label, _code) in enumerate(CLASSES)}
    out: list[Far1Line] = []
    by_pap: dict[tuple, list[tuple[tuple, Far1Line]]] = defaultdict(list)  # one pass: linear in the lines
    for k, v in details.items():
        by_pap[k[1:5]].append((k, v))
    for org, pap, title, ppa_id in sorted(by_pap):  # (organization, pap, title, ppa id)
        mine = sorted(by_pap[org, pap, title, ppa_id], key=lambda kv: order[kv[0][5]])
        out.append(Far1Line(title if not org else f"{title} ({org})", pap, kind="pap"))
        subtotal = Far1Line(f"Subtotal, {title}", pap, kind="subtotal")
        for _key, line in mine:
            out.append(line)
            subtotal.add(line)
        out.append(subtotal)
    section_total = Far1Line("Total, this section", "", kind="subtotal")
    for key, label, code in CLASSES:
        members = [v for k, v in details.items() if k[5] == key]
        if members:
            line = Far1Line(f"Subtotal, {label}", code, kind="subtotal", allotment_class=key)
            for member in members:
                line.add(member)
            out.append(line)
            section_total.add(line)
    out.append(section_total)
    return out


@dataclass(frozen=True)
class UnpaidObligation:
    """One obligation unpaid at a quarter's end, as FAR No. 1 counts it in
    columns 23–24 (its companions, FAR No. 3, list these).

    Attributes:
        key: the FAR No. 1 detail line it is counted in (``_lines``' key).
        obligation: the ORS.
        due, not_due: PHP due and demandable (accepted less disbursed, at
            most the unpaid balance) and not yet due and demandable.
        disbursed: PHP paid on it by DVs not voided by the quarter's end.
        deliveries: ``(accepted on, PHP)`` of the deliveries accepted by then, oldest first.
    """

    key: tuple
    obligation: Obligation
    due: Decimal
    not_due: Decimal
    disbursed: Decimal
    deliveries: tuple[tuple[date, Decimal], ...]


@dataclass(frozen=True)
class DisbursementPosting:
    """One movement of FAR No. 1 columns 16–19: a DV's amount on its date,
    or its void's reversal (negative) on the void's date, both in the year
    and on or before the quarter's end; ``key``: its detail line."""

    key: tuple
    disbursement: Disbursement
    day: date
    amount: Decimal


@dataclass
class ChainDetail:
    """What FAR No. 1's balances and disbursements are made of, row by row,
    for the companion reports that list or regroup them (FAR No. 3, FAR
    No. 4): the unpaid obligations and the disbursement postings."""

    unpaid: list[UnpaidObligation] = field(default_factory=list)
    disbursements: list[DisbursementPosting] = field(default_factory=list)


def read_chain(organization_ids: list[int], fiscal_year: int, end: date) -> tuple[dict[tuple, Far1Line], ChainDetail]:
    """FAR No. 1's detail lines (``_lines``) and, read in the same pass, the
    rows they are made of (``ChainDetail``), so a companion report's totals
    are FAR No. 1's by construction: one reading of the money chain."""
    detail = ChainDetail()
    return _lines(organization_ids, fiscal_year, end, detail), detail


def _lines(org_ids: list[int], fiscal_year: int, end: date, detail: ChainDetail | None = None, *,
           object_code: Callable[[Obligation], str] | None = None) -> dict[tuple, Far1Line]:
    """The detail lines keyed ``(fund cluster, section, organization code,
    UACS code, title, PPA id, class)``: everything of ``org_ids`` dated on
    or before ``end`` (one statement per table, whatever the number of rows);
    ``detail``, when given, gets the unpaid obligations and disbursement
    postings counted (``read_chain``).

    With ``object_code`` (FAR No. 1-A, ``services.far1a``) the key has an
    eighth part: the UACS object code ``object_code(obligation)`` gives an
    obligation (its NORSA, cancellation, DVs and unpaid balance follow it),
    ``""`` for what has no object code (appropriations, allotments, and an
    obligation it gives ``""``)."""
    if not org_ids:
        return {}
    start = date(fiscal_year, 1, 1)
    codes = {org_id: code for org_id, code in db.session.execute(select(Organization.id, Organization.code).where(
        Organization.id.in_(org_ids)))}
    lines: dict[tuple, Far1Line] = {}
    keys: dict[int, tuple] = {}  # id of a line -> its key
    budgets: dict[int, ProgramBudget] = {}

    def line(budget: ProgramBudget, section: int, klass: str, org_id: int, code: str = "") -> Far1Line:
        ppa = budget.ppa
        pap = budget.pap_code or ppa.program_code or f"PPA-{ppa.id}"
        org = codes.get(org_id, "") if len(org_ids) > 1 else ""
        key = (budget.fund_cluster, section, org, pap, ppa.title, ppa.id, klass, *((code,) if object_code else ()))
        if key not in lines:
            lines[key] = Far1Line(CLASS_LABEL[klass], CLASS_UACS[klass], allotment_class=klass)
            keys[id(lines[key])] = key
        return lines[key]

    # A, columns 3–4: enacted program budgets of the year's PPAs, and their adjustments
    current = list(db.session.scalars(
        select(ProgramBudget).join(Ppa, ProgramBudget.ppa_id == Ppa.id)
        .join(BudgetProposal, ProgramBudget.proposal_id == BudgetProposal.id)
        .where(Ppa.organization_id.in_(org_ids), Ppa.fiscal_year == fiscal_year, BudgetProposal.status == "enacted")))
    for budget in current:
        budgets[budget.id] = budget
        if budget.enactment_date is None or budget.enactment_date <= end:
            for klass, _label, _code in CLASSES:
                if budget.class_amount(klass):
                    line(budget, 0, klass, budget.ppa.organization_id).authorized += budget.class_amount(klass)
    if current:
        for adjustment in db.session.scalars(select(AppropriationAdjustment).where(
                AppropriationAdjustment.program_budget_id.in_([b.id for b in current]),
                AppropriationAdjustment.adjustment_date <= end)):
            budget = budgets[adjustment.program_budget_id]
            line(budget, 0, adjustment.allotment_class, budget.ppa.organization_id).appropriation_adjustments \
                += adjustment.amount

    # B: the continuing appropriations the year opened with (the close of Q4 of the year before)
    continuing: dict[int, Decimal] = {}
    carried_obligations: set[int] = set()
    closures = list(db.session.scalars(select(PeriodClosure.id).where(
        PeriodClosure.organization_id.in_(org_ids), PeriodClosure.fiscal_year == fiscal_year - 1,
        PeriodClosure.quarter == 4, PeriodClosure.status.in_(CLOSED_STATUSES))))
    if closures:
        for balance in db.session.scalars(select(OpeningBalance).where(OpeningBalance.closure_id.in_(closures))):
            if balance.kind == "continuing_appropriation":
                continuing[balance.allotment_id] = continuing.get(balance.allotment_id, ZERO) + balance.amount
            elif balance.obligation_id is not None:
                carried_obligations.add(balance.obligation_id)

    # allotments (columns 6–9): the year's PPAs' in A, the carried ones in B
    allotments = {a.id: a for a in db.session.scalars(select(Allotment).where(Allotment.organization_id.in_(org_ids)))}
    missing = {a.program_budget_id for a in allotments.values()} - set(budgets)
    if missing:  # into the session's identity map: ``allotment.program_budget`` then costs no statement
        budgets.update((b.id, b) for b in db.session.scalars(select(ProgramBudget).where(ProgramBudget.id.in_(missing))))
    section_of = {a.id: 0 if a.program_budget.ppa.fiscal_year == fiscal_year else 1 for a in allotments.values()}
    for allotment_id, amount in continuing.items():
        a = allotments.get(allotment_id)
        if a is not None:
            target = line(a.program_budget, 1, a.allotment_class, a.organization_id)
            target.authorized += amount
            target.received += amount
    received = set(db.session.scalars(select(SubAllotment.recipient_allotment_id).where(
        SubAllotment.recipient_organization_id.in_(org_ids))))
    current_allotments = [a for a in allotments.values() if section_of[a.id] == 0]
    for a in current_allotments:
        if a.release_date > end:
            continue
        target = line(a.program_budget, 0, a.allotment_class, a.organization_id)
        if a.id in received:
            target.transfers_from += a.amount
        else:
            target.received += a.amount
    adjustments_of: dict[int, list] = defaultdict(list)
    for adjustment in db.session.scalars(select(AllotmentAdjustment).where(
            AllotmentAdjustment.organization_id.in_(org_ids), AllotmentAdjustment.adjustment_date <= end)):
        adjustments_of[adjustment.allotment_id].append(adjustment)
        a = allotments[adjustment.allotment_id]
        section = section_of[a.id]
        if section == 1 and (a.id not in continuing or adjustment.adjustment_date < start):
            continue  # what the year before did is in the carried balance
        target = line(a.program_budget, section, a.allotment_class, a.organization_id)
        if adjustment.kind == "sub_allotment" or (adjustment.kind == "transfer" and adjustment.amount < 0):
            target.transfers_to -= adjustment.amount
        elif adjustment.kind == "transfer":
            target.transfers_from += adjustment.amount
        else:
            target.allotment_adjustments += adjustment.amount
    for a in current_allotments:  # a cancellation withdraws the active amount: an adjustment (column 7)
        if a.cancelled_on is not None and a.cancelled_on <= end:
            line(a.program_budget, 0, a.allotment_class, a.organization_id).allotment_adjustments -= (
                a.amount + sum((j.amount for j in adjustments_of[a.id]), ZERO))

    # obligations (11–14) and disbursements (16–19) dated in the year's quarters up to ``end``; payables (23–24)
    obligations = [o for o in db.session.scalars(select(Obligation).where(Obligation.organization_id.in_(org_ids)))
                   if o.posted and o.obligation_date <= end]
    norsa: dict[int, list] = defaultdict(list)
    for adjustment in db.session.scalars(select(ObligationAdjustment).where(
            ObligationAdjustment.organization_id.in_(org_ids), ObligationAdjustment.adjustment_date <= end)):
        norsa[adjustment.obligation_id].append(adjustment)
    paid: dict[int, list] = defaultdict(list)
    for d in db.session.scalars(select(Disbursement).where(Disbursement.organization_id.in_(org_ids))):
        if d.posted and d.disbursement_date <= end:
            paid[d.obligation_id].append(d)
    accepted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    deliveries: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for delivery in db.session.scalars(select(Delivery).where(Delivery.organization_id.in_(org_ids),
                                                              Delivery.accepted_on <= end)):
        accepted[delivery.obligation_id] += delivery.amount
        deliveries[delivery.obligation_id].append((delivery.accepted_on, delivery.amount))

    def quarter_in_year(day: date) -> int | None:
        return period_of(day)[1] if start <= day <= end else None

    for o in obligations:
        a = allotments.get(o.allotment_id)
        if a is None:
            continue
        section = section_of[a.id]
        if section == 1 and a.id not in continuing and o.id not in carried_obligations:
            continue
        target = line(a.program_budget, section, a.allotment_class, a.organization_id,
                      object_code(o) if object_code else "")
        key = keys[id(target)]
        active = o.amount
        for day, amount in [(o.obligation_date, o.amount), *((j.adjustment_date, j.amount) for j in norsa[o.id])]:
            if (q := quarter_in_year(day)) is not None:
                target.obligations[q] += amount
        for j in norsa[o.id]:
            active += j.amount
        cancelled = o.cancelled_on is not None and o.cancelled_on <= end
        if cancelled and (q := quarter_in_year(o.cancelled_on)) is not None:
            target.obligations[q] -= active
        disbursed = ZERO
        for d in paid[o.id]:
            voided = d.voided_on is not None and d.voided_on <= end
            if (q := quarter_in_year(d.disbursement_date)) is not None:
                target.disbursements[q] += d.amount
                if detail is not None:
                    detail.disbursements.append(DisbursementPosting(key, d, d.disbursement_date, d.amount))
            if voided and (q := quarter_in_year(d.voided_on)) is not None:
                target.disbursements[q] -= d.amount
                if detail is not None:
                    detail.disbursements.append(DisbursementPosting(key, d, d.voided_on, -d.amount))
            if not voided:
                disbursed += d.amount
        if not cancelled:
            unpaid = active - disbursed
            due = min(max(accepted[o.id] - disbursed, ZERO), unpaid)
            target.due += due
            target.not_due += unpaid - due
            if detail is not None and unpaid:
                detail.unpaid.append(UnpaidObligation(key, o, due, unpaid - due, disbursed,
                                                      tuple(sorted(deliveries[o.id]))))
    return lines
