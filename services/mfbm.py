"""The figures of the MFBM Budget Execution Report (docs/design.md §8,
tracker phase 5, seed 003), computed exactly: what ``services.reports``
writes as a workbook or a PDF, and what the analytics (§18) and the
coordination meetings' pre-meeting report (§16) sum again.

Each report is a handful of grouped queries over the fiscal year's PPAs,
scoped to what the caller may see (a MOA focal person gets their own MOA's
rows only). Money is ``Decimal`` PHP; percentages are exact fractions
(0.25 = 25 %), left for the workbook to format. Totals are summed here,
exactly, before anything is written.

Its own module so that the files' writers (``services.workbooks``,
``services.printing``) and ``services.reports``, which calls them, all
import the figures from below (docs/design.md §1 "Direction of imports").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select

from db import db
from db.models import BudgetProposal, Organization, Ppa, ProgramBudget, User
from services.access import visible_ppas
from services.calendar import today
from services.performance import spi_cpi
from services.periods import chain_postings
from services.runtime import get_runtime
from workflow.money import ZERO


def _fraction(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part / whole`` to 4 decimals (an Excel percentage with 2), or ``None``."""
    return (part / whole).quantize(Decimal("0.0001")) if whole else None


def _ppas(user: User, fiscal_year: int, moa: str | None) -> list[Ppa]:
    query = (select(Ppa).where(visible_ppas(user), Ppa.fiscal_year == fiscal_year)
             .join(Organization, Ppa.organization_id == Organization.id)
             .order_by(Organization.code, Ppa.program_code, Ppa.id))
    if moa:
        query = query.where(Organization.code == moa)
    return list(db.session.scalars(query))


#: Allotment classes in report order, and their short labels.
CLASS_CODES = {"ps": "PS", "mooe": "MOOE", "finex": "FinEx", "co": "CO"}


@dataclass
class MfbmLine:
    """One line of the MFBM Budget Execution Report (docs/design.md §8): a
    PPA's figures in one allotment class (``kind`` "detail"), a subtotal of
    a MOA ("moa") or of an allotment class ("class"), or the grand total
    ("total"). Money is PHP ``Decimal``, cumulative to the report's as-of
    date; rates are exact fractions to 4 decimals (0.25 = 25 %), ``None``
    when their divisor is zero."""

    code: str
    title: str
    moa: str
    allotment_class: str
    appropriation: Decimal
    allotments: Decimal
    obligations: Decimal
    disbursements: Decimal
    physical_progress: Decimal | None = None
    remarks: str = ""
    kind: str = "detail"
    #: The PPA's schedule and cost performance indices as of the report's
    #: date (earned value, docs/design.md §15; ``services.performance.spi_cpi``),
    #: on each of its lines; ``None`` without WBS or baseline, or when PV
    #: (SPI) or AC (CPI) is zero, and on subtotals.
    spi: Decimal | None = None
    cpi: Decimal | None = None

    @property
    def unreleased(self) -> Decimal:
        """Appropriation not yet allotted: appropriation − allotments."""
        return self.appropriation - self.allotments

    @property
    def unobligated(self) -> Decimal:
        """Allotments not yet obligated: allotments − obligations."""
        return self.allotments - self.obligations

    @property
    def unpaid(self) -> Decimal:
        """Obligations not yet disbursed: obligations − disbursements."""
        return self.obligations - self.disbursements

    @property
    def obligation_rate(self) -> Decimal | None:
        """Obligations ÷ allotments (fraction)."""
        return _fraction(self.obligations, self.allotments)

    @property
    def disbursement_rate(self) -> Decimal | None:
        """Disbursements ÷ obligations (fraction)."""
        return _fraction(self.disbursements, self.obligations)

    @property
    def release_rate(self) -> Decimal | None:
        """Allotments ÷ appropriation (fraction)."""
        return _fraction(self.allotments, self.appropriation)


@dataclass(frozen=True)
class PipelineRow:
    """A PPA of the year not (yet) enacted: on the report's "Pipeline"
    sheet, in none of its figures. ``proposed`` is the PPA's requested
    budget (PHP); ``stage`` its approval stage's label."""

    code: str
    title: str
    moa: str
    appropriation_class: str
    proposed: Decimal
    stage: str


@dataclass
class MfbmReport:
    """The report: its lines (PPA × allotment class, by MOA), the subtotals
    by MOA and by allotment class, the grand total (all summed exactly
    here), and the pipeline.

    Attributes:
        moa: the organization code covered, or ``None`` for all MOAs.
        organization: ``"CODE — Official name"`` of ``moa``, or ``None``.
        as_of: figures count what is dated on or before this day.
    """

    fiscal_year: int
    moa: str | None
    organization: str | None
    as_of: date
    rows: list[MfbmLine]
    pipeline: list[PipelineRow]
    moa_subtotals: list[MfbmLine] = field(init=False)
    class_subtotals: list[MfbmLine] = field(init=False)
    total: MfbmLine = field(init=False)

    def __post_init__(self) -> None:
        moas = list(dict.fromkeys(r.moa for r in self.rows))
        self.moa_subtotals = [_mfbm_sum([r for r in self.rows if r.moa == m], f"Subtotal {m}", m, "", "moa")
                              for m in moas]
        self.class_subtotals = [
            _mfbm_sum(members, f"Subtotal {label}", "", label, "class") for label in CLASS_CODES.values()
            if (members := [r for r in self.rows if r.allotment_class == label])]
        self.total = _mfbm_sum(self.rows, "GRAND TOTAL", "", "", "total")


def _mfbm_sum(rows: list[MfbmLine], code: str, moa: str, allotment_class: str, kind: str) -> MfbmLine:
    def total(name: str) -> Decimal:
        return sum((getattr(r, name) for r in rows), ZERO)

    return MfbmLine(code, "", moa, allotment_class, total("appropriation"), total("allotments"),
                    total("obligations"), total("disbursements"), kind=kind)


def _appropriations(ppa_ids: list[int], as_of: date) -> dict[tuple[int, str], Decimal]:
    """PHP appropriated per (PPA, allotment class): program budgets of
    enacted budget proposals, unless enacted after ``as_of``."""
    if not ppa_ids:
        return {}
    out: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    budgets = db.session.scalars(
        select(ProgramBudget).join(BudgetProposal, ProgramBudget.proposal_id == BudgetProposal.id).where(
            ProgramBudget.ppa_id.in_(ppa_ids), BudgetProposal.status == "enacted",
            or_(ProgramBudget.enactment_date.is_(None), ProgramBudget.enactment_date <= as_of)))
    for budget in budgets:
        for klass in CLASS_CODES:
            out[(budget.ppa_id, klass)] += budget.class_amount(klass)
    return out


def _posted(ppas: list[Ppa], as_of: date) -> dict[tuple[int, str], dict[str, Decimal]]:
    """PHP allotted, obligated and disbursed per (PPA, allotment class): the
    money chain's postings (originals, adjustments, cancellations' and voids'
    reversals) dated on or before ``as_of`` (docs/design.md §12 "Posted rows
    never change"; ``services.periods.chain_postings``)."""
    return posted_sums(ppas, as_of)


def posted_sums(ppas: list[Ppa], as_of: date, period=None) -> dict[tuple, dict[str, Decimal]]:
    """The MFBM report's sums (``_posted``), optionally split by period:
    with ``period`` (a function of a posting's date returning a key, or
    ``None`` to leave the posting out) the keys are ``(PPA id, allotment
    class, period(day))``, e.g. the month for the analytics of issue 16
    item 6 (``services.analytics``). PHP ``Decimal``, exact."""
    ids = {p.id for p in ppas}
    keyed = [(key, posting) for organization_id in sorted({p.organization_id for p in ppas})
             for key, posting in chain_postings(organization_id) if posting.day <= as_of]
    budget_ids = {key[0] for key, _ in keyed}
    ppa_of = dict(db.session.execute(select(ProgramBudget.id, ProgramBudget.ppa_id).where(
        ProgramBudget.id.in_(budget_ids))).all()) if budget_ids else {}
    out: dict[tuple, dict[str, Decimal]] = {}
    for (budget_id, klass), posting in keyed:
        if ppa_of.get(budget_id) in ids:
            key = (ppa_of[budget_id], klass)
            if period is not None:
                if (bucket := period(posting.day)) is None:
                    continue
                key = (*key, bucket)
            sums = out.setdefault(key, {"allotted": ZERO, "obligated": ZERO, "disbursed": ZERO})
            sums[posting.level] += posting.amount
    return out


def ppa_money(user: User, fiscal_year: int, moa: str | None, as_of: date) -> list[tuple[Ppa, dict[str, Decimal]]]:
    """The PPAs of ``fiscal_year`` that ``user`` may see (of one MOA, by
    code, or all), by MOA code, program code and id, each with
    ``{allotted, obligated, disbursed}`` PHP: the money chain's postings
    dated on or before ``as_of``, summed over allotment classes — the MFBM
    report's own figures (``_posted``; docs/design.md §8, §12). Used by the
    pre-meeting report of a coordination meeting (docs/design.md §16)."""
    ppas = _ppas(user, fiscal_year, moa)
    posted = _posted(ppas, as_of)
    out = []
    for ppa in ppas:
        sums = {"allotted": ZERO, "obligated": ZERO, "disbursed": ZERO}
        for klass in CLASS_CODES:
            for level, amount in posted.get((ppa.id, klass), {}).items():
                sums[level] += amount
        out.append((ppa, sums))
    return out


def _percent(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else fraction * 100


def mfbm_remarks(line: MfbmLine) -> str:
    """The remark of one line by the rules of ``budget.yaml``
    ``report_remarks`` (``rules.model.ReportRemarks``): measures in percent."""
    obligation_rate = _percent(line.obligation_rate)
    progress = _percent(line.physical_progress)
    measures = {"obligation_rate": obligation_rate, "disbursement_rate": _percent(line.disbursement_rate),
                "release_rate": _percent(line.release_rate), "physical_progress": progress,
                "progress_gap": None if None in (obligation_rate, progress) else obligation_rate - progress}
    return get_runtime().rules.budget.remarks.remark(measures, allotted=line.allotments != ZERO)


def mfbm_report(user: User, fiscal_year: int, moa: str | None = None, *, as_of: date | None = None) -> MfbmReport:
    """The MFBM Budget Execution Report of a fiscal year (optionally one
    MOA) as of a day (default: today, Asia/Manila); docs/design.md §8.

    The main lines are the enacted PPAs (``report_remarks.enacted_stages``)
    by MOA, one per allotment class with money in it: appropriation (enacted
    program budgets), allotments, obligations and disbursements from the
    money chain's postings dated on or before ``as_of`` (a cancellation or
    void counts from its own date), the balances and rates from those, the
    PPA's physical progress, its SPI and CPI as of ``as_of``
    (``services.performance.spi_cpi``: a fixed number of statements for all
    the PPAs) and its remarks. Every other PPA of the year is in
    ``pipeline`` only.

    Args:
        moa: an organization code (``report_scope`` decides it for the caller).
    """
    as_of = as_of or today()
    ppas = _ppas(user, fiscal_year, moa)
    rules = get_runtime().rules
    enacted_stages = rules.budget.remarks.enacted_stages
    enacted = [p for p in ppas if p.approval_status in enacted_stages]
    appropriations = _appropriations([p.id for p in enacted], as_of)
    posted = _posted(enacted, as_of)
    indices = spi_cpi(enacted, as_of)
    rows = []
    for ppa in enacted:
        classes = [k for k in CLASS_CODES if appropriations.get((ppa.id, k)) or (ppa.id, k) in posted]
        for klass in classes or [ppa.appropriation_class]:
            sums = posted.get((ppa.id, klass), {})
            line = MfbmLine(ppa.program_code or f"PPA-{ppa.id}", ppa.title, ppa.organization.code, CLASS_CODES[klass],
                            appropriations.get((ppa.id, klass), ZERO), sums.get("allotted", ZERO),
                            sums.get("obligated", ZERO), sums.get("disbursed", ZERO),
                            physical_progress=Decimal(ppa.progress) / 100, spi=indices[ppa.id][0],
                            cpi=indices[ppa.id][1])
            line.remarks = mfbm_remarks(line)
            rows.append(line)
    states = rules.approval.machine.states
    pipeline = [PipelineRow(p.program_code or f"PPA-{p.id}", p.title, p.organization.code,
                            p.appropriation_class.upper(), p.budget_allocation,
                            states[p.approval_status].label if p.approval_status in states else p.approval_status)
                for p in ppas if p.approval_status not in enacted_stages]
    organization = None
    if moa:
        found = db.session.scalar(select(Organization).where(Organization.code == moa))
        organization = f"{found.code} — {found.name}" if found is not None else moa
    return MfbmReport(fiscal_year=fiscal_year, moa=moa, organization=organization, as_of=as_of, rows=rows,
                      pipeline=pipeline)
