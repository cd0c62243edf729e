"""The Registry of Allotments, Obligations and Disbursements (RAOD), one
per allotment class as the COA Government Accounting Manual (GAM) Vol. II
prescribes it: Appendix 9A (RAODPS), 9B (RAODMOOE), 9C (RAODFE) and 9D
(RAODCO); docs/design.md §8 "The RAOD as built" (issue 13 item 2).

The budget division keeps it by appropriations act, fund cluster and
MFO/PAP: a chronological registry of every posting, each its own entry on
its own date with its reference (SARO, ORS, NORSA, DV with its check or
ADA number, the inspection and acceptance of a delivery), the amounts in
the registry's columns (allotments, obligations, disbursements) and the
balances after it (unobligated allotments; unpaid obligations due and
demandable, not yet due and demandable). Reversals (a cancelled ORS, a
voided DV, a withdrawn allotment) and adjustments (NORSA, reductions,
augmentations, sub-allotments) are entries of their own dates, never
netted into the entry they correct.

One statement per allotment class and fund cluster, holding each PAP's
registry (current-year and continuing appropriations apart) with entries
dated up to the quarter's end. The figures follow FAR No. 1's reading of
the money chain (``services.far1``), so each registry's closing balances
are FAR No. 1's columns 22, 23 and 24 of the same PAP and class. Money is
PHP ``Decimal``, exact; every balance and total is summed here.
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
    BudgetLineItem,
    Delivery,
    Disbursement,
    Obligation,
    ObligationAdjustment,
    OpeningBalance,
    Organization,
    PeriodClosure,
    ProgramBudget,
    SubAllotment,
    User,
)
from db.models.period import CLOSED_STATUSES
from services.far1 import CLASS_LABEL, CLASS_UACS, CLASSES, SECTIONS, fund_cluster_row
from services.statements import (
    DATE,
    MONEY,
    TEXT,
    Statement,
    StatementColumn,
    StatementLine,
    reporting_entity,
    signatories,
    statement_period,
)
from workflow.money import ZERO

TITLE = "REGISTRY OF ALLOTMENTS, OBLIGATIONS AND DISBURSEMENTS"
#: Per allotment class: (the registry's name as GAM writes it, its code, its appendix).
FORMS = {"ps": ("PERSONNEL SERVICES", "RAODPS", "9A"),
         "mooe": ("MAINTENANCE AND OTHER OPERATING EXPENSES", "RAODMOOE", "9B"),
         "finex": ("FINANCIAL EXPENSES", "RAODFE", "9C"),
         "co": ("CAPITAL OUTLAYS", "RAODCO", "9D")}
_REFERENCE, _UNPAID = "Reference", "Unpaid Obligations"
#: The registry's columns, headings as GAM Appendix 9A–9D write them (the
#: particulars/payee column is ours: who was paid and for what). Numbered
#: in order; the formula row says how the balances run.
COLUMNS = tuple(StatementColumn(heading, kind, group, str(number), formula, width) for number, (
    heading, kind, group, formula, width) in enumerate((
        ("Date", DATE, "", "", 11),
        ("Date", DATE, _REFERENCE, "", 11),
        ("Serial Number", TEXT, _REFERENCE, "", 26),
        ("Particulars / Payee", TEXT, "", "", 40),
        ("UACS Object Code/Expenditures", TEXT, "", "", 16),
        ("Allotments", MONEY, "", "", 16),
        ("Obligations", MONEY, "", "", 16),
        ("Unobligated Allotments", MONEY, "", "8=(6-7), running", 16),
        ("Disbursements", MONEY, "", "", 16),
        ("Due and Demandable", MONEY, _UNPAID, "Payables less 9, running", 16),
        ("Not Yet Due and Demandable", MONEY, _UNPAID, "7 less payables, running", 16),
    ), start=1))
#: Who keeps the registry: the budget division (GAM Appendix 9A–9D,
#: instruction A); the forms carry no other signature.
RAOD_SIGNATURES = (("Prepared By:", "budget_officer", "Registry maintained by the Budget Division/Unit"),)
#: Entries of one day in the order they post: allotments first, reversals last.
_ORDER = ("opening", "allotment", "allotment_adjustment", "obligation", "norsa", "delivery", "disbursement",
          "void", "cancellation", "allotment_cancellation")
_ADJUSTMENT_NAMES = {"augmentation": "Augmentation", "reduction": "Reduction", "withdrawal": "Withdrawal",
                     "realignment": "Realignment", "sub_allotment": "Sub-allotment to", "transfer": "Transfer"}


@dataclass
class RaodEntry:
    """One entry of a registry: the posting date, the reference document's
    date and serial number, particulars, UACS object code(s), the amounts
    it posts (PHP, signed: a reversal is negative) and the balances after it."""

    day: date
    reference_date: date | None
    reference: str
    particulars: str
    kind: str
    allotment: Decimal = ZERO
    obligation: Decimal = ZERO
    disbursement: Decimal = ZERO
    unobligated: Decimal = ZERO
    due: Decimal = ZERO
    not_due: Decimal = ZERO
    uacs: str = ""

    def values(self) -> list:
        """The 11 columns' values (empty where the entry posts no amount)."""
        return [self.day, self.reference_date, self.reference, self.particulars, self.uacs,
                self.allotment or None, self.obligation or None, self.unobligated, self.disbursement or None,
                self.due, self.not_due]


@dataclass
class RaodRegistry:
    """One registry: a fund cluster, appropriation (``section`` 0: current
    year, 1: continuing), PAP and allotment class, with its entries in date
    order. ``key`` is FAR No. 1's key of the same line: ``(fund cluster,
    section, organization code, PAP code, title, PPA id, class)``."""

    key: tuple
    legal_basis: str
    entries: list[RaodEntry] = field(default_factory=list)
    budget_ids: set[int] = field(default_factory=set)

    @property
    def fund_cluster(self) -> str:
        return self.key[0]

    @property
    def allotment_class(self) -> str:
        return self.key[6]

    def total(self, name: str) -> Decimal:
        """The sum of one amount column over the entries (PHP)."""
        return sum((getattr(e, name) for e in self.entries), ZERO)

    @property
    def closing(self) -> tuple[Decimal, Decimal, Decimal]:
        """The balances after the last entry: unobligated allotments, unpaid
        obligations due and demandable, not yet due and demandable (PHP)."""
        last = self.entries[-1] if self.entries else None
        return (last.unobligated, last.due, last.not_due) if last else (ZERO, ZERO, ZERO)


@dataclass
class _Unpaid:
    """An obligation's state while the registry is read in date order."""

    active: Decimal = ZERO
    accepted: Decimal = ZERO
    disbursed: Decimal = ZERO
    cancelled: bool = False

    def split(self) -> tuple[Decimal, Decimal]:
        """(due and demandable, not yet due) as FAR No. 1 splits them (``services.far1._lines``)."""
        if self.cancelled:
            return ZERO, ZERO
        unpaid = self.active - self.disbursed
        due = min(max(self.accepted - self.disbursed, ZERO), unpaid)
        return due, unpaid - due


def raod_registries(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                    fund_cluster: str | None = None) -> tuple[list[RaodRegistry], object, object]:
    """Every registry of the reporting entity (one MOA, or every one ``user``
    sees, consolidated) with entries dated up to the end of ``quarter`` of
    ``fiscal_year``; also the entity and period (``services.statements``).

    Entries come from posted rows only (a draft ORS or DV is in none): the
    allotments released (a sub-allotment received too), their adjustments
    and cancellation; ORS (Box B), NORSA and cancellations; deliveries
    accepted (what turns an unpaid obligation due and demandable); DVs paid
    (Box E) and voids. A continuing appropriation's registry opens the year
    with the balances carried (docs/design.md §12 "Year end") and holds the
    year's entries. A fixed number of SQL statements.
    """
    entity = reporting_entity(user, fiscal_year, moa)
    period = statement_period(entity, fiscal_year, quarter)
    registries = _registries(entity.organization_ids, fiscal_year, period.end)
    if fund_cluster is not None:
        registries = [r for r in registries if r.fund_cluster == fund_cluster]
    return registries, entity, period


def raod_report(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                fund_cluster: str | None = None) -> list[Statement]:
    """The RAOD as statements (``services.reports.REPORTS["raod"]``): one
    per fund cluster and allotment class with entries (``fund_cluster``:
    only that one), each holding its PAPs' registries: a heading line (PAP,
    UACS code, appropriation, legal basis), the entries, a closing line
    (the column totals and closing balances); a total of the class last.
    With no entry at all, one empty statement per class of the cluster."""
    registries, entity, period = raod_registries(user, fiscal_year, moa, quarter=quarter, fund_cluster=fund_cluster)
    groups: dict[tuple[str, str], list[RaodRegistry]] = defaultdict(list)
    for registry in registries:
        groups[(registry.fund_cluster, registry.allotment_class)].append(registry)
    order = [k for k, _label, _code in CLASSES]
    keys = sorted(groups, key=lambda k: (k[0], order.index(k[1]))) or [
        (fund_cluster or "01", k) for k in order]
    ending = f"For the year {fiscal_year}: entries to {period.end:%B} {period.end.day}, {period.end.year}"
    out = []
    for cluster, klass in keys:
        name, code, appendix = FORMS[klass]
        lines: list[StatementLine] = []
        totals = [ZERO] * 6
        for registry in sorted(groups.get((cluster, klass), []), key=lambda r: r.key[1:6]):
            _cluster, section, org, pap, title, _ppa, _klass = registry.key
            heading = f"{title} ({org})" if org else title
            basis = f"; {registry.legal_basis}" if registry.legal_basis else ""
            lines.append(StatementLine([None, None, pap, f"{heading} — {SECTIONS[section][3:]}{basis}",
                                        CLASS_UACS[klass], *([None] * 6)], "heading"))
            lines.extend(StatementLine(entry.values()) for entry in registry.entries)
            closing = [registry.total("allotment"), registry.total("obligation"), registry.closing[0],
                       registry.total("disbursement"), *registry.closing[1:]]
            lines.append(StatementLine([None, None, pap, f"Total / closing balances, {title}", "", *closing],
                                       "subtotal"))
            totals = [a + b for a, b in zip(totals, closing, strict=True)]
        lines.append(StatementLine([None, None, "", f"TOTAL, {CLASS_LABEL[klass]}", CLASS_UACS[klass], *totals],
                                   "total"))
        header = [*entity.header, fund_cluster_row(cluster),
                  ("Allotment Class", f"{CLASS_LABEL[klass]} ({CLASS_UACS[klass]})")]
        out.append(Statement(
            form=f"{name} ({code}) - GAM Appendix {appendix}", title=TITLE, period=ending, header=header,
            columns=COLUMNS, lines=lines, signatories=signatories(entity, RAOD_SIGNATURES), interim=period.interim,
            scope=f"{code} - {entity.scope} - Fund Cluster {cluster}",
            sheet=f"{code} FC {cluster} Q{period.quarter} {fiscal_year}", key_columns=3))
    return out


# -- reading the chain ------------------------------------------------------------------------------------------------

def _registries(org_ids: list[int], fiscal_year: int, end: date) -> list[RaodRegistry]:
    """The registries of ``org_ids`` (entries dated on or before ``end``),
    by FAR No. 1's rules (``services.far1._lines``): the same rows in the
    same sections and the same balances."""
    if not org_ids:
        return []
    start = date(fiscal_year, 1, 1)
    codes = dict(db.session.execute(select(Organization.id, Organization.code).where(Organization.id.in_(org_ids))).all())
    allotments = {a.id: a for a in db.session.scalars(select(Allotment).where(Allotment.organization_id.in_(org_ids)))}
    budget_ids = {a.program_budget_id for a in allotments.values()}
    budgets = {b.id: b for b in db.session.scalars(select(ProgramBudget).where(ProgramBudget.id.in_(budget_ids)))} \
        if budget_ids else {}
    section_of = {a.id: 0 if budgets[a.program_budget_id].ppa.fiscal_year == fiscal_year else 1
                  for a in allotments.values()}

    # the year's opening balances (the close of Q4 of the year before)
    continuing: dict[int, Decimal] = defaultdict(lambda: ZERO)
    carried: set[int] = set()
    closures = list(db.session.scalars(select(PeriodClosure.id).where(
        PeriodClosure.organization_id.in_(org_ids), PeriodClosure.fiscal_year == fiscal_year - 1,
        PeriodClosure.quarter == 4, PeriodClosure.status.in_(CLOSED_STATUSES))))
    if closures:
        for balance in db.session.scalars(select(OpeningBalance).where(OpeningBalance.closure_id.in_(closures))):
            if balance.kind == "continuing_appropriation":
                continuing[balance.allotment_id] += balance.amount
            elif balance.obligation_id is not None:
                carried.add(balance.obligation_id)

    codes_of: dict[tuple[int, str], list[str]] = defaultdict(list)
    if budget_ids:
        for budget_id, klass, code in db.session.execute(
                select(BudgetLineItem.program_budget_id, BudgetLineItem.allotment_class, BudgetLineItem.uacs_code)
                .where(BudgetLineItem.program_budget_id.in_(budget_ids)).order_by(BudgetLineItem.id)):
            if code not in codes_of[(budget_id, klass)]:
                codes_of[(budget_id, klass)].append(code)
    subs = list(db.session.scalars(select(SubAllotment).where(
        (SubAllotment.organization_id.in_(org_ids)) | (SubAllotment.recipient_organization_id.in_(org_ids)))))
    received_from = {s.recipient_allotment_id: s.organization.code for s in subs}
    given_to = {s.adjustment_id: s.recipient_organization.code for s in subs}

    registries: dict[tuple, RaodRegistry] = {}

    def registry_of(a: Allotment) -> RaodRegistry:
        budget = budgets[a.program_budget_id]
        ppa = budget.ppa
        pap = budget.pap_code or ppa.program_code or f"PPA-{ppa.id}"
        section = section_of[a.id]
        org = codes.get(a.organization_id, "") if len(org_ids) > 1 else ""
        key = (budget.fund_cluster, section, org, pap, ppa.title, ppa.id, a.allotment_class)
        if key not in registries:
            basis = budget.enactment_act if section == 0 else f"Continuing appropriations of FY{ppa.fiscal_year}"
            registries[key] = RaodRegistry(key, basis or "")
        registries[key].budget_ids.add(budget.id)
        return registries[key]

    # every posting as (day, order, id, allotment, fields), then read in date order
    events: list[tuple] = []

    def event(day: date, kind: str, row_id: int, a: Allotment, **values) -> None:
        events.append((day, _ORDER.index(kind), row_id, a, kind, values))

    for a in allotments.values():
        if section_of[a.id] == 0 and a.release_date <= end:
            source = received_from.get(a.id)
            event(a.release_date, "allotment", a.id, a, reference=a.saro_number, reference_date=a.release_date,
                  particulars=f"Sub-allotment received from {source}" if source else "Allotment received",
                  allotment=a.amount)
    adjustments_of: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for j in db.session.scalars(select(AllotmentAdjustment).where(
            AllotmentAdjustment.organization_id.in_(org_ids), AllotmentAdjustment.adjustment_date <= end)):
        a = allotments[j.allotment_id]
        adjustments_of[a.id] += j.amount
        if section_of[a.id] == 1 and (a.id not in continuing or j.adjustment_date < start):
            continue  # what the year before did is in the carried balance
        name = _ADJUSTMENT_NAMES.get(j.kind, j.kind.replace("_", " ").capitalize())
        if j.kind == "sub_allotment":
            name = f"{name} {given_to.get(j.id, '')}".strip()
        event(j.adjustment_date, "allotment_adjustment", j.id, a, reference=f"{a.saro_number} ({j.legal_basis})",
              reference_date=j.adjustment_date, particulars=f"{name}: {j.reason}", allotment=j.amount)
    for a in allotments.values():  # a cancellation withdraws the active amount
        if section_of[a.id] == 0 and a.cancelled_on is not None and a.cancelled_on <= end:
            event(a.cancelled_on, "allotment_cancellation", a.id, a, reference=f"{a.saro_number} (cancelled)",
                  reference_date=a.release_date, particulars=f"Allotment cancelled: {a.cancel_reason or ''}",
                  allotment=-(a.amount + adjustments_of[a.id]))

    obligations = {o.id: o for o in db.session.scalars(select(Obligation).where(
        Obligation.organization_id.in_(org_ids), Obligation.obligation_date <= end)) if o.posted
        and o.allotment_id in allotments and (section_of[o.allotment_id] == 0 or o.allotment_id in continuing
                                              or o.id in carried)}
    norsa: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for o in obligations.values():
        event(o.obligation_date, "obligation", o.id, allotments[o.allotment_id], obligation_id=o.id,
              reference=o.ors_number, reference_date=o.obligation_date,
              particulars=f"{o.payee} — {o.particulars}" if o.particulars else o.payee, obligation=o.amount,
              active=o.amount)
    for j in db.session.scalars(select(ObligationAdjustment).where(
            ObligationAdjustment.organization_id.in_(org_ids), ObligationAdjustment.adjustment_date <= end)):
        o = obligations.get(j.obligation_id)
        if o is not None:
            norsa[o.id] += j.amount
            event(j.adjustment_date, "norsa", j.id, allotments[o.allotment_id], obligation_id=o.id,
                  reference=f"{j.legal_basis} (NORSA of ORS {o.ors_number})", reference_date=j.adjustment_date,
                  particulars=f"{o.payee} — {j.reason}", obligation=j.amount, active=j.amount)
    for o in obligations.values():  # the reversal of what is active at the cancellation
        if o.cancelled_on is not None and o.cancelled_on <= end:
            active = o.amount + norsa[o.id]
            event(o.cancelled_on, "cancellation", o.id, allotments[o.allotment_id], obligation_id=o.id,
                  reference=f"ORS {o.ors_number} (cancelled)", reference_date=o.obligation_date,
                  particulars=f"{o.payee} — cancelled: {o.cancel_reason or ''}", obligation=-active, cancelled=True)
    for d in db.session.scalars(select(Delivery).where(Delivery.organization_id.in_(org_ids),
                                                       Delivery.accepted_on <= end)):
        o = obligations.get(d.obligation_id)
        if o is not None:
            event(d.accepted_on, "delivery", d.id, allotments[o.allotment_id], obligation_id=o.id,
                  reference=f"{d.reference or 'Acceptance'} (ORS {o.ors_number})", reference_date=d.accepted_on,
                  particulars=f"{o.payee} — delivery accepted, PHP {d.amount:,.2f} due and demandable",
                  accepted=d.amount)
    for d in db.session.scalars(select(Disbursement).where(Disbursement.organization_id.in_(org_ids),
                                                           Disbursement.disbursement_date <= end)):
        o = obligations.get(d.obligation_id)
        if o is None or not d.posted:
            continue
        means = "ADA" if d.payment_method == "ada" else "Check"
        paid = f"DV {d.dv_number}" + (f" / {means} {d.check_ada_number}" if d.check_ada_number else "")
        event(d.disbursement_date, "disbursement", d.id, allotments[o.allotment_id], obligation_id=o.id,
              reference=paid, reference_date=d.disbursement_date, particulars=o.payee, disbursement=d.amount,
              disbursed=d.amount)
        if d.voided_on is not None and d.voided_on <= end:
            event(d.voided_on, "void", d.id, allotments[o.allotment_id], obligation_id=o.id,
                  reference=f"{paid} (voided)", reference_date=d.disbursement_date,
                  particulars=f"{o.payee} — voided: {d.void_reason or ''}", disbursement=-d.amount,
                  disbursed=-d.amount)

    # read in date order: balances per registry, each obligation's split of what is unpaid
    states: dict[int, _Unpaid] = defaultdict(_Unpaid)
    balances: dict[tuple, list[Decimal]] = {}  # registry key -> [unobligated, due, not due]
    opened: set[tuple] = set()

    def open_continuing(registry: RaodRegistry, allotment_ids: list[int]) -> None:
        """The opening entry of a continuing appropriation's registry: the
        allotments carried and the obligations still unpaid on 1 January."""
        balance = balances.setdefault(registry.key, [ZERO, ZERO, ZERO])
        amount = sum((continuing.get(i, ZERO) for i in allotment_ids), ZERO)
        balance[0] += amount
        registry.entries.append(RaodEntry(start, None, "Balance forward", f"Balances carried from FY{fiscal_year - 1}",
                                          "opening", allotment=amount, unobligated=balance[0], due=balance[1],
                                          not_due=balance[2]))
        opened.add(registry.key)

    carried_ids = defaultdict(set)
    for a in allotments.values():
        if section_of[a.id] == 1 and a.id in continuing:
            carried_ids[registry_of(a).key].add(a.id)
    events.sort(key=lambda e: e[:3])
    for day, _order, _id, a, kind, values in events:
        registry = registry_of(a)
        section = section_of[a.id]
        if section == 1:
            carried_ids[registry.key].add(a.id)
        if section == 1 and day >= start and registry.key not in opened:
            open_continuing(registry, sorted(carried_ids[registry.key]))
        balance = balances.setdefault(registry.key, [ZERO, ZERO, ZERO])
        before = ZERO, ZERO
        if "obligation_id" in values:
            state = states[values["obligation_id"]]
            before = state.split()
            state.active += values.get("active", ZERO)
            state.accepted += values.get("accepted", ZERO)
            state.disbursed += values.get("disbursed", ZERO)
            state.cancelled = state.cancelled or values.get("cancelled", False)
            after = state.split()
            balance[1] += after[0] - before[0]
            balance[2] += after[1] - before[1]
        if section == 1 and day < start:
            continue  # the year before: only what it leaves unpaid counts, in the opening entry
        balance[0] += values.get("allotment", ZERO) - values.get("obligation", ZERO)
        registry.entries.append(RaodEntry(
            day, values["reference_date"], values["reference"], values["particulars"], kind,
            allotment=values.get("allotment", ZERO), obligation=values.get("obligation", ZERO),
            disbursement=values.get("disbursement", ZERO), unobligated=balance[0], due=balance[1],
            not_due=balance[2]))
    for key, ids in carried_ids.items():  # a continuing registry with no entry in the year yet
        if key not in opened:
            open_continuing(registries[key], sorted(ids))
    for registry in registries.values():
        uacs = ", ".join(dict.fromkeys(code for budget_id in sorted(registry.budget_ids)
                                       for code in codes_of.get((budget_id, registry.allotment_class), [])))
        for entry in registry.entries:
            entry.uacs = uacs
        registry.entries.sort(key=lambda e: (e.day, _ORDER.index(e.kind)))
    return [r for r in registries.values() if r.entries]
