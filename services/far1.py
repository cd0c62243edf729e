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
from services.access import sees_all_organizations
from services.calendar import today
from services.periods import quarter_end
from services.runtime import get_runtime
from workflow.money import ZERO
from workflow.validity import period_of

QUARTERS = (1, 2, 3, 4)
#: Allotment classes in the statement's order: (key, label, UACS class code).
CLASSES = (("ps", "Personnel Services", "01"), ("mooe", "Maintenance and Other Operating Expenses", "02"),
           ("finex", "Financial Expenses", "03"), ("co", "Capital Outlay", "06"))
CLASS_LABEL = {key: label for key, label, _ in CLASSES}
CLASS_UACS = {key: code for key, _, code in CLASSES}
#: The mark on every page or sheet of a statement of a quarter not closed.
INTERIM = "INTERIM — NOT FOR FILING"
SECTIONS = ("A. Current Year Appropriations", "B. Continuing Appropriations")
#: The 24 prescribed columns: (number, heading, grouped heading, formula row text).
COLUMNS = (
    (1, "Particulars", "", ""), (2, "UACS Code", "", ""),
    (3, "Authorized Appropriations", "Appropriations", ""), (4, ("Adjustments (Transfer To/From, Modifications/"
                                                                  "Augmentations)"), "Appropriations", ""),
    (5, "Adjusted Appropriations", "Appropriations", "5=(3+4)"),
    (6, "Allotments Received", "Allotments", ""),
    (7, "Adjustments (Reductions/Modifications/Augmentations)", "Allotments", "(-)/+"),
    (8, "Transfer To", "Allotments", ""), (9, "Transfer From", "Allotments", ""),
    (10, "Adjusted Total Allotments", "Allotments", "10=[{6+(-)7}-8+9]"),
    (11, "1st Quarter Ending March 31", "Current Year Obligations", ""),
    (12, "2nd Quarter Ending June 30", "Current Year Obligations", ""),
    (13, "3rd Quarter Ending Sept. 30", "Current Year Obligations", ""),
    (14, "4th Quarter Ending Dec. 31", "Current Year Obligations", ""),
    (15, "Total", "Current Year Obligations", "15=(11+12+13+14)"),
    (16, "1st Quarter Ending March 31", "Current Year Disbursements", ""),
    (17, "2nd Quarter Ending June 30", "Current Year Disbursements", ""),
    (18, "3rd Quarter Ending Sept. 30", "Current Year Disbursements", ""),
    (19, "4th Quarter Ending Dec. 31", "Current Year Disbursements", ""),
    (20, "Total", "Current Year Disbursements", "20=(16+17+18+19)"),
    (21, "Unreleased Appropriations", "Balances", "21=(5-10)"),
    (22, "Unobligated Allotments", "Balances", "22=(10-15)"),
    (23, "Due and Demandable", "Balances", "Unpaid Obligations (15-20)=(23+24)"),
    (24, "Not Yet Due and Demandable", "Balances", ""),
)
#: The signature block: (caption, role of ``Organization.signatory``, what the signer certifies).
SIGNATURES = (
    ("Certified Correct:", "budget_officer", ("Appropriations, allotments, obligations and obligations not yet "
                                              "due and demandable")),
    ("Certified Correct:", "chief_accountant", "Disbursements and obligations due and demandable"),
    ("Approved By:", "head_of_agency", ""),
)
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
        return ["STATEMENT OF APPROPRIATIONS, ALLOTMENTS, OBLIGATIONS, DISBURSEMENTS AND BALANCES",
                "FAR No. 1", self.ending, *([INTERIM] if self.interim else [])]

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


# -- reading the chain ------------------------------------------------------------------------------------------------

def _organizations(user: User, moa: str | None) -> list[Organization]:
    query = select(Organization).order_by(Organization.code)
    if moa:
        query = query.where(Organization.code == moa)
    elif not sees_all_organizations(user):
        query = query.where(Organization.id == user.organization_id)
    return list(db.session.scalars(query))


def _closed_quarters(organization_ids: list[int], fiscal_year: int) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    if organization_ids:
        for org_id, quarter in db.session.execute(select(PeriodClosure.organization_id, PeriodClosure.quarter).where(
                PeriodClosure.organization_id.in_(organization_ids), PeriodClosure.fiscal_year == fiscal_year,
                PeriodClosure.status.in_(CLOSED_STATUSES))):
            out[org_id].add(quarter)
    return out


def default_quarter(closed: dict[int, set[int]], organization_ids: list[int], fiscal_year: int) -> int:
    """The last quarter of ``fiscal_year`` closed by every organization of
    the statement; else the current quarter (Q4 for a past year, Q1 for a
    future one)."""
    common = set(QUARTERS)
    for org_id in organization_ids:
        common &= closed.get(org_id, set())
    if organization_ids and common:
        return max(common)
    now = today()
    return 4 if fiscal_year < now.year else 1 if fiscal_year > now.year else period_of(now)[1]


def far1_statements(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                    fund_cluster: str | None = None) -> list[Far1Statement]:
    """The FAR No. 1 statements of a reporting entity for the quarter ending
    ``quarter`` of ``fiscal_year``: one per fund cluster with figures (or
    only ``fund_cluster``), at least one.

    Args:
        moa: one MOA's statement (its code); ``None``: every organization
            the caller sees, consolidated (the BARMM statement MFBM files).
            ``services.reports.report_scope`` decides it for a caller.
        quarter: 1–4; default ``default_quarter``.
        fund_cluster: a code of rules/default/fund_clusters.yaml (``"01"``).
    """
    organizations = _organizations(user, moa)
    org_ids = [o.id for o in organizations]
    closed = _closed_quarters(org_ids, fiscal_year)
    # whose closing counts: the MOA; for the consolidated statement, every MOA with PPAs in the year
    reporting = org_ids if moa else list(db.session.scalars(select(Ppa.organization_id).distinct().where(
        Ppa.organization_id.in_(org_ids), Ppa.fiscal_year == fiscal_year))) if org_ids else []
    quarter = quarter or default_quarter(closed, reporting, fiscal_year)
    end = quarter_end(fiscal_year, quarter)
    interim = not reporting or any(quarter not in closed.get(i, set()) for i in reporting)
    lines = _lines(org_ids, fiscal_year, end)
    clusters = sorted({k[0] for k in lines}) if fund_cluster is None else [fund_cluster]
    names = get_runtime().rules.fund_clusters.names
    header_org, signer = _reporting_entity(organizations, moa)
    out = []
    for cluster in clusters or ["01"]:
        sections = [(title, _section_lines({k[1:]: v for k, v in lines.items() if k[0] == cluster and k[1] == i}))
                    for i, title in enumerate(SECTIONS)]
        total = Far1Line("GRAND TOTAL", "", kind="total")
        for _title, section in sections:
            if section:
                total.add(section[-1])
        has_continuing = bool(sections[1][1])
        header = [*header_org, ("Fund Cluster", f"{cluster} {names.get(cluster, '')}".strip()),
                  ("Appropriations", ("[x] Current Year Appropriations   [ ] Supplemental Appropriations   "
                                      f"[{'x' if has_continuing else ' '}] Continuing Appropriations"))]
        out.append(Far1Statement(
            fiscal_year, quarter, end, cluster, f"MOA: {moa}" if moa else "All MOAs (consolidated)", header, sections, total,
            [(caption, *(signer.signatory(role) if signer is not None else ("", "")), certifies)
             for caption, role, certifies in SIGNATURES], interim))
    return out


def _reporting_entity(organizations: list[Organization], moa: str | None):
    """The header block's organization rows and the organization whose
    officers sign: the MOA itself, or MFBM for the consolidated statement."""
    if moa and organizations:
        org = organizations[0]
        return [("Department", org.department or "Bangsamoro Autonomous Region in Muslim Mindanao"),
                ("Agency", org.agency or org.name), ("Operating Unit", org.operating_unit),
                ("Organization Code (UACS)", org.uacs_code or "")], org
    mfbm = db.session.scalar(select(Organization).where(Organization.code == "MFBM"))
    return [("Department", "Bangsamoro Autonomous Region in Muslim Mindanao"),
            ("Agency", "All ministries, offices and agencies (consolidated)"),
            ("Operating Unit", "Ministry of Finance, and Budget and Management"),
            ("Organization Code (UACS)", mfbm.uacs_code or "" if mfbm is not None else "")], mfbm


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


def _lines(org_ids: list[int], fiscal_year: int, end: date) -> dict[tuple, Far1Line]:
    """The detail lines keyed ``(fund cluster, section, organization code,
    UACS code, title, PPA id, class)``: everything of ``org_ids`` dated on
    or before ``end`` (one statement per table, whatever the number of rows)."""
    if not org_ids:
        return {}
    start = date(fiscal_year, 1, 1)
    codes = {org_id: code for org_id, code in db.session.execute(select(Organization.id, Organization.code).where(
        Organization.id.in_(org_ids)))}
    lines: dict[tuple, Far1Line] = {}
    budgets: dict[int, ProgramBudget] = {}

    def line(budget: ProgramBudget, section: int, klass: str, org_id: int) -> Far1Line:
        ppa = budget.ppa
        pap = budget.pap_code or ppa.program_code or f"PPA-{ppa.id}"
        org = codes.get(org_id, "") if len(org_ids) > 1 else ""
        key = (budget.fund_cluster, section, org, pap, ppa.title, ppa.id, klass)
        if key not in lines:
            lines[key] = Far1Line(CLASS_LABEL[klass], CLASS_UACS[klass], allotment_class=klass)
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
    for delivery in db.session.scalars(select(Delivery).where(Delivery.organization_id.in_(org_ids),
                                                              Delivery.accepted_on <= end)):
        accepted[delivery.obligation_id] += delivery.amount

    def quarter_in_year(day: date) -> int | None:
        return period_of(day)[1] if start <= day <= end else None

    for o in obligations:
        a = allotments.get(o.allotment_id)
        if a is None:
            continue
        section = section_of[a.id]
        if section == 1 and a.id not in continuing and o.id not in carried_obligations:
            continue
        target = line(a.program_budget, section, a.allotment_class, a.organization_id)
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
            if voided and (q := quarter_in_year(d.voided_on)) is not None:
                target.disbursements[q] -= d.amount
            if not voided:
                disbursed += d.amount
        if not cancelled:
            unpaid = active - disbursed
            due = min(max(accepted[o.id] - disbursed, ZERO), unpaid)
            target.due += due
            target.not_due += unpaid - due
    return lines
