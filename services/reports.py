"""The figures of the MFBM Budget Execution Report (docs/design.md §8,
tracker phase 5, seed 003), computed exactly, and the producing of every
report's files (FAR No. 1's figures are ``services.far1``'s).

Each report is a handful of grouped queries over the fiscal year's PPAs,
scoped to what the caller may see (a MOA focal person gets their own MOA's
rows only). Money is ``Decimal`` PHP; percentages are exact fractions
(0.25 = 25 %), left for the workbook to format. Totals are summed here,
exactly, before anything is written.
"""

from __future__ import annotations

import importlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import func, or_, select

from db import db
from db.models import (
    BudgetProposal,
    Organization,
    Ppa,
    ProgramBudget,
    User,
)
from services.access import sees_all_organizations, visible_ppas
from services.calendar import today
from services.performance import spi_cpi
from services.runtime import get_runtime
from workflow.errors import Conflict, NotFound, ValidationFailed
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


# -- the MFBM Budget Execution Report ----------------------------------------------------------

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
    from services.periods import chain_postings

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


# -- producing the files ----------------------------------------------------------------------

@dataclass(frozen=True)
class ReportKind:
    """One report ppaflow produces (docs/design.md §8).

    Attributes:
        name: its name in URLs and on the command line (``far1``).
        title: what a budget officer calls it (``"FAR No. 1 - SAAODB"``).
        stem: the start of its file name (``FAR1_Statement``).
        builder: ``"module:function"`` of the function that builds its
            statements, ``(user, fiscal_year, moa, *, quarter, fund_cluster)
            -> list[services.statements.Statement]``; empty for the MFBM
            report, which has its own workbook (a main sheet and a pipeline).
        quarterly: it is a statement for a quarter ending (``quarter`` applies).
    """

    name: str
    title: str
    stem: str
    builder: str = ""
    quarterly: bool = True

    def statements(self, user: User, fiscal_year: int, moa: str | None, *, quarter: int | None = None,
                   fund_cluster: str | None = None) -> list:
        """The report's statements (``builder``, imported when first asked for)."""
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(module), function)(
            user, fiscal_year, moa, quarter=quarter, fund_cluster=fund_cluster)


#: Every report, in the order the Reports page and the CLI list them.
REPORTS = {kind.name: kind for kind in (
    ReportKind("mfbm", "MFBM Budget Execution Report", "MFBM_Budget_Execution", quarterly=False),
    ReportKind("far1", "FAR No. 1 - Statement of Appropriations, Allotments, Obligations, Disbursements and "
                       "Balances", "FAR1_Statement", "services.far1:far1_report"),
    ReportKind("far1a", "FAR No. 1-A - Summary of Appropriations, Allotments, Obligations, Disbursements and "
                        "Balances by Object of Expenditures", "FAR1A_Summary", "services.far1a:far1a_report"),
    ReportKind("far1b", "FAR No. 1-B - List of Allotments and Sub-Allotments", "FAR1B_List",
               "services.far1b:far1b_report"),
    ReportKind("far3", "FAR No. 3 - Aging of Due and Demandable Obligations", "FAR3_Aging",
               "services.far3:far3_report"),
    ReportKind("far4", "FAR No. 4 - Summary Report of Disbursements", "FAR4_Disbursements",
               "services.far4:far4_report"),
    ReportKind("raod", "Registry of Allotments, Obligations and Disbursements (RAOD)", "RAOD_Registry",
               "services.raod:raod_report"),
    ReportKind("bed1", "BED No. 1 - Financial Plan", "BED1_Financial_Plan", "services.bed:bed1_report",
               quarterly=False),
    ReportKind("bed3", "BED No. 3 - Monthly Disbursement Program", "BED3_Monthly_Disbursement_Program",
               "services.bed:bed3_report", quarterly=False),
)}
REPORT_KINDS = tuple(REPORTS)
#: The formats each report comes in: an Excel workbook (services.workbooks)
#: or a print-ready PDF (services.printing; docs/design.md §8 "Print").
REPORT_FORMATS = ("xlsx", "pdf")
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "pdf": "application/pdf"}
#: Above this many PPAs in the year, a report runs as a background job (a
#: PDF, laid out page by page, sooner than a workbook).
INLINE_LIMIT = 2_000
PDF_INLINE_LIMIT = 200


def build_report(user: User, kind: str, fiscal_year: int, moa: str | None = None, fmt: str = "xlsx", *,
                 as_of: date | None = None, quarter: int | None = None,
                 fund_cluster: str | None = None) -> tuple[bytes, int]:
    """The report ``kind`` (a name of ``REPORTS``) as ``fmt`` bytes (.xlsx or
    .pdf; both show the same figures) and its number of lines. ``as_of``
    (the MFBM report's as-of date, default today) is the MFBM report's;
    ``quarter`` (the quarter ending, 1–4) and ``fund_cluster`` (``"01"``)
    are the statements' (``ReportKind.statements``)."""
    from services.printing import mfbm_pdf, statements_pdf
    from services.workbooks import mfbm_workbook, statements_workbook

    pdf = fmt == "pdf"
    if kind == "mfbm":
        report = mfbm_report(user, fiscal_year, moa, as_of=as_of)
        return (mfbm_pdf(report) if pdf else mfbm_workbook(report)), len(report.rows)
    check_fund_cluster(fund_cluster)
    statements = REPORTS[kind].statements(user, fiscal_year, moa, quarter=quarter, fund_cluster=fund_cluster)
    lines = sum(len(s.lines) for s in statements)
    return (statements_pdf(statements) if pdf else statements_workbook(statements)), lines


def check_fund_cluster(fund_cluster: str | None) -> None:
    """Refuse a fund cluster rules/default/fund_clusters.yaml does not list.

    Raises:
        ValidationFailed: ``fund_cluster`` is not a listed code (422, on the field).
    """
    names = get_runtime().rules.fund_clusters.names
    if fund_cluster is not None and fund_cluster not in names:
        raise ValidationFailed({"fund_cluster": [f"no fund cluster {fund_cluster}; one of {', '.join(names)}"]})


def file_name(kind: str, fiscal_year: int, moa: str | None, fmt: str = "xlsx", *, quarter: int | None = None,
              fund_cluster: str | None = None) -> str:
    """The download name, e.g. ``MFBM_Budget_Execution_FY2025_MSSD.xlsx``
    (``.pdf`` for the PDF); a statement adds the quarter and fund cluster
    when asked for (``FAR1_Statement_FY2025_Q1_FC01_MSSD.xlsx``)."""
    quarterly = REPORTS[kind].quarterly
    extra = (f"_Q{quarter}" if quarter and quarterly else "") + (
        f"_FC{fund_cluster}" if fund_cluster and kind != "mfbm" else "")
    return f"{REPORTS[kind].stem}_FY{fiscal_year}{extra}{'_' + moa if moa else ''}.{fmt}"


def statement_status(user: User, kind: str, fiscal_year: int, moa: str | None, quarter: int | None):
    """Whether report ``kind``'s statement of ``quarter`` (default: the one
    ``services.statements.statement_period`` picks) is the filed copy (the
    quarter closed by every reporting MOA) or interim: a
    ``services.statements.StatementPeriod``; ``None`` for a report that is
    not a quarterly statement (the MFBM report)."""
    from services.statements import reporting_entity, statement_period

    if not REPORTS[kind].quarterly:
        return None
    return statement_period(reporting_entity(user, fiscal_year, moa), fiscal_year, quarter)


#: The preview's resolution: the first page of a Legal landscape PDF at
#: 1.25 × 72 dpi is 1,260 × 765 pixels.
PREVIEW_SCALE = 1.25
#: At most this many lines are laid out for a preview (a Legal landscape page holds about 30).
PREVIEW_LINES = 40


def first_page_png(user: User, kind: str, fiscal_year: int, moa: str | None, *, quarter: int | None = None,
                   fund_cluster: str | None = None) -> bytes:
    """The first page of report ``kind``'s PDF as PNG bytes, drawn by PDFium
    (pypdfium2), for the Reports page's preview: only what fits on a first
    page is laid out (the first statement's first ``PREVIEW_LINES`` lines,
    the MFBM report's first rows), so a preview costs the same whatever the
    size of the year."""
    from dataclasses import replace

    from services.printing import mfbm_pdf, statements_pdf

    if kind == "mfbm":
        report = mfbm_report(user, fiscal_year, moa)
        data = mfbm_pdf(replace(report, rows=report.rows[:PREVIEW_LINES]))
    else:
        check_fund_cluster(fund_cluster)
        first = REPORTS[kind].statements(user, fiscal_year, moa, quarter=quarter, fund_cluster=fund_cluster)[0]
        data = statements_pdf([replace(first, lines=first.lines[:PREVIEW_LINES])])
    return png_of_first_page(data)


def png_of_first_page(data: bytes, scale: float = PREVIEW_SCALE) -> bytes:
    """The first page of the PDF ``data`` as PNG bytes, drawn by PDFium
    (pypdfium2) at ``scale`` × 72 dpi: the report previews' and the
    analytics charts' PNG (``services.analytics``)."""
    from io import BytesIO

    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=scale).to_pil()
    finally:
        document.close()
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def report_scope(user: User, moa: str | None) -> str | None:
    """The organization (code) a report for ``user`` covers: ``moa``, or
    None for all MOAs; a user who sees only their own organization (a MOA
    focal person, docs/design.md §3) always gets theirs, so their workbook
    names it instead of "All MOAs".

    Raises:
        NotFound: ``moa`` is another organization's, for such a user (as
            that organization's PPAs are, to them); no organization has the code ``moa``.
    """
    if sees_all_organizations(user):
        if moa is not None and db.session.scalar(select(Organization.id).where(Organization.code == moa)) is None:
            raise NotFound(f"no organization {moa}")
        return moa
    own = user.organization.code if user.organization is not None else None
    if own is None or moa not in (None, own):
        raise NotFound(f"no organization {moa or '(none)'} among those you may report on")
    return own


def request_report(user: User, kind: str, fiscal_year: int, moa: str | None, *, background: bool,
                   fmt: str = "xlsx", as_of: date | None = None, quarter: int | None = None,
                   fund_cluster: str | None = None):
    """Build a report (``fmt``: ``xlsx`` or ``pdf``) now, or as a job for a
    large year (``INLINE_LIMIT``, ``PDF_INLINE_LIMIT`` PPAs) or when asked.

    Returns:
        ``bytes`` of the file, or the ``JobRecord`` of the job that will
        write it (``GET /api/reports/files/<job id>`` once finished).
    """
    from jobs.queue import enqueue
    from services.unit_of_work import transaction

    count = db.session.scalar(select(func.count()).select_from(Ppa).where(
        visible_ppas(user), Ppa.fiscal_year == fiscal_year))
    if not background and count <= (PDF_INLINE_LIMIT if fmt == "pdf" else INLINE_LIMIT):
        return build_report(user, kind, fiscal_year, moa, fmt, as_of=as_of, quarter=quarter,
                            fund_cluster=fund_cluster)[0]
    extra = ({"as_of": as_of.isoformat()} if as_of else {}) | ({"quarter": quarter} if quarter else {}) | (
        {"fund_cluster": fund_cluster} if fund_cluster else {})
    with transaction():
        return enqueue("generate_report", requested_by=user, report=kind, fiscal_year=fiscal_year, moa=moa,
                       user_id=user.id, output=f"{uuid.uuid4().hex}.{fmt}", **extra)


def reports_dir() -> Path:
    """Where background reports are written (``instance/reports``)."""
    path = Path(current_app.instance_path) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def generate_report_file(report: str, fiscal_year: int, moa: str | None, user_id: int, output: str,
                         as_of: str | None = None, quarter: int | None = None,
                         fund_cluster: str | None = None) -> dict:
    """Write a report (a name of ``REPORTS``) for a background job, seen as the
    user who asked, in the format ``output``'s suffix names (``.xlsx``,
    ``.pdf``); idempotent (same file, same content). ``as_of``: ISO date;
    ``quarter``, ``fund_cluster``: a statement's."""
    user = db.session.get(User, user_id)
    fmt = "pdf" if output.endswith(".pdf") else "xlsx"
    data, rows = build_report(user, report, fiscal_year, moa, fmt,
                              as_of=date.fromisoformat(as_of) if as_of else None, quarter=quarter,
                              fund_cluster=fund_cluster)
    (reports_dir() / output).write_bytes(data)
    return {"file": output, "rows": rows, "download_name": file_name(report, fiscal_year, moa, fmt, quarter=quarter,
                                                                     fund_cluster=fund_cluster)}


@dataclass(frozen=True)
class ReportFile:
    """A file a report job wrote: where it is and the name to download it as."""

    path: Path
    download_name: str
    rows: int | None

    @property
    def media_type(self) -> str:
        """``application/pdf`` for a PDF, else the workbook's."""
        return MEDIA_TYPES["pdf" if self.path.suffix == ".pdf" else "xlsx"]


def finished_report(user: User, job_id: str) -> ReportFile:
    """The file (workbook or PDF) of a report job ``user`` may see (their own; superusers
    any), once it has finished.

    Raises:
        NotFound: no such job, or not ``user``'s.
        Conflict: ``report_not_ready`` while the job is queued, running or
            failed, or when it is no report job.
    """
    from services import job_records

    job = job_records.get_job_or_raise(user, job_id)
    if job.kind != "generate_report" or job.status != "finished":
        raise Conflict(f"job {job_id} has not produced a report (it is {job.status})", code="report_not_ready")
    result = job_records.result_of(job)
    return ReportFile(reports_dir() / result["file"], result["download_name"], result.get("rows"))
