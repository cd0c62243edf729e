"""The figures of the MFBM Budget Execution Report and the FAR No. 1
statement (docs/design.md §8, tracker phase 5, seed 003), computed exactly.

Each report is a handful of grouped queries over the fiscal year's PPAs,
scoped to what the caller may see (a MOA focal person gets their own MOA's
rows only). Money is ``Decimal`` PHP; percentages are exact fractions
(0.25 = 25 %), left for the workbook to format. Totals are summed here,
exactly, before anything is written.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import BigInteger, func, select, true, type_coerce
from sqlalchemy.orm import undefer

from db import db
from db.models import Allotment, AppropriationAdjustment, Disbursement, Obligation, Organization, Ppa, ProgramBudget, User
from services.access import sees_all_organizations, visible_ppas
from services.budget import active_amount_sql
from services.expenditure import DISBURSEMENTS, REPORTED, SOURCE_LABELS, chain_ppa_ids
from services.runtime import get_runtime
from workflow.errors import Conflict, NotFound
from workflow.money import ZERO, from_centavos
from workflow.validity import period_of

QUARTERS = (1, 2, 3, 4)
CLASS_LABELS = {"ps": "Personnel Services (PS)", "mooe": "Maintenance and Other Operating Expenses (MOOE)",
                "finex": "Financial Expenses (FinEx)", "co": "Capital Outlay (CO)"}


def _fraction(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part / whole`` to 4 decimals (an Excel percentage with 2), or ``None``."""
    return (part / whole).quantize(Decimal("0.0001")) if whole else None


@dataclass
class MfbmRow:
    """One PPA of the MFBM Budget Execution Report."""

    code: str
    title: str
    moa: str
    appropriation_class: str
    allocated: Decimal
    obligations: Decimal
    disbursements: Decimal
    actual: Decimal
    status: str
    tracking: str
    remarks: str
    #: Where ``actual`` comes from: "Disbursed" (the PPA is in the money
    #: chain) or "Reported, not disbursed" (services.expenditure).
    expenditure_source: str = ""

    @property
    def variance(self) -> Decimal:
        """Allocated minus actual expenditure (PHP)."""
        return self.allocated - self.actual

    @property
    def variance_pct(self) -> Decimal | None:
        """Variance over allocated (fraction)."""
        return _fraction(self.variance, self.allocated)

    @property
    def utilization(self) -> Decimal | None:
        """Obligations over allocated (fraction)."""
        return _fraction(self.obligations, self.allocated)


@dataclass
class MfbmReport:
    """The rows and their exact totals."""

    fiscal_year: int
    moa: str | None
    rows: list[MfbmRow]
    totals: MfbmRow = field(init=False)

    def __post_init__(self) -> None:
        total = lambda name: sum((getattr(r, name) for r in self.rows), ZERO)  # noqa: E731
        self.totals = MfbmRow("TOTAL", "", "", "", total("allocated"), total("obligations"), total("disbursements"),
                              total("actual"), "", "", "")


def _ppas(user: User, fiscal_year: int, moa: str | None, *, with_expenditure: bool = False) -> list[Ppa]:
    query = (select(Ppa).where(visible_ppas(user), Ppa.fiscal_year == fiscal_year)
             .join(Organization, Ppa.organization_id == Organization.id)
             .order_by(Organization.code, Ppa.program_code, Ppa.id))
    if with_expenditure:
        query = query.options(undefer(Ppa.actual_expenditure))
    if moa:
        query = query.where(Organization.code == moa)
    return list(db.session.scalars(query))


def _sums_by_ppa(date_column, joins: Iterable, ppa_ids: list[int]) -> dict[int, dict[tuple[int, int], int]]:
    """centavos of the active rows of ``date_column``'s model (obligations,
    disbursements) by PPA and period ``(year, quarter)`` of that date, year
    included (one grouped query; docs/design.md §12)."""
    model = date_column.class_
    query = select(ProgramBudget.ppa_id, date_column, func.sum(type_coerce(model.amount, BigInteger))).select_from(model)
    for target, condition in joins:
        query = query.join(target, condition)
    rows = db.session.execute(query.where(ProgramBudget.ppa_id.in_(ppa_ids), model.active)
                              .group_by(ProgramBudget.ppa_id, date_column)) if ppa_ids else []
    out: dict[int, dict[tuple[int, int], int]] = defaultdict(lambda: defaultdict(int))
    for ppa_id, day, centavos in rows:
        out[ppa_id][period_of(day)] += int(centavos)
    return out


def _in_year(sums: dict[tuple[int, int], int], year: int, quarter: int) -> int:
    """The centavos of one quarter of ``year`` (nothing of another year's same quarter)."""
    return sums.get((year, quarter), 0)


def _obligations(ppa_ids: list[int]) -> dict[int, dict[tuple[int, int], int]]:
    return _sums_by_ppa(Obligation.obligation_date,
                        [(Allotment, Obligation.allotment_id == Allotment.id),
                         (ProgramBudget, Allotment.program_budget_id == ProgramBudget.id)], ppa_ids)


def _disbursements(ppa_ids: list[int]) -> dict[int, dict[tuple[int, int], int]]:
    return _sums_by_ppa(Disbursement.disbursement_date,
                        [(Obligation, Disbursement.obligation_id == Obligation.id),
                         (Allotment, Obligation.allotment_id == Allotment.id),
                         (ProgramBudget, Allotment.program_budget_id == ProgramBudget.id)], ppa_ids)


def _per_ppa(model_column, active, joins, ppa_ids: list[int]) -> dict[int, int]:
    query = select(ProgramBudget.ppa_id, func.sum(type_coerce(model_column, BigInteger)))
    for target, condition in joins:
        query = query.join(target, condition)
    if not ppa_ids:
        return {}
    return {ppa_id: int(c) for ppa_id, c in db.session.execute(
        query.where(ProgramBudget.ppa_id.in_(ppa_ids), active).group_by(ProgramBudget.ppa_id))}


def remarks(ppa: Ppa, allocated: Decimal, actual: Decimal, obligations: Decimal) -> str:
    """The remark of one row (rules/default/budget.yaml ``report_remarks``): the
    approval stage of a PPA not yet approved; else every threshold crossed,
    or "On track"."""
    rules = get_runtime().rules
    thresholds = rules.budget.remarks
    if ppa.approval_status not in thresholds.approved_stages:
        return rules.approval.machine.states[ppa.approval_status].label
    found = []
    variance, utilization = _fraction(allocated - actual, allocated), _fraction(obligations, allocated)
    if variance is not None and variance * 100 > thresholds.high_underspending_above:
        found.append("High underspending")
    if variance is not None and variance * 100 < thresholds.over_budget_below:
        found.append("Over budget")
    if utilization is not None and utilization * 100 < thresholds.low_utilization_below:
        found.append("Low utilization")
    if utilization is not None and utilization * 100 > thresholds.near_full_utilization_above:
        found.append("Near full utilization")
    return "; ".join(found) or "On track"


def mfbm_report(user: User, fiscal_year: int, moa: str | None = None) -> MfbmReport:
    """The MFBM Budget Execution Report of a fiscal year (optionally one MOA).

    A PPA's actual expenditure is ``Ppa.actual_expenditure``: for a PPA in
    the money chain, what its disbursements paid (plus the opening balance
    it reported before it entered the chain; services.expenditure), labelled
    "Disbursed"; for one outside, the figure its MOA reports, labelled
    "Reported, not disbursed" (docs/design.md §12, "Money spent and payables")."""
    ppas = _ppas(user, fiscal_year, moa, with_expenditure=True)
    ids = [p.id for p in ppas]
    obligations, disbursements = _obligations(ids), _disbursements(ids)
    chain = chain_ppa_ids(ids)
    rows = []
    for ppa in ppas:
        obligated = from_centavos(sum(obligations[ppa.id].values()))
        disbursed = from_centavos(sum(disbursements[ppa.id].values()))
        rows.append(MfbmRow(
            code=ppa.program_code or f"PPA-{ppa.id}", title=ppa.title, moa=ppa.organization.code,
            appropriation_class=ppa.appropriation_class.upper(), allocated=ppa.budget_allocation,
            obligations=obligated, disbursements=disbursed, actual=ppa.actual_expenditure,
            status=ppa.status.replace("_", " ").capitalize(),
            tracking="WorkItem" if ppa.enable_workitem_tracking else "Manual",
            remarks=remarks(ppa, ppa.budget_allocation, ppa.actual_expenditure, obligated),
            expenditure_source=SOURCE_LABELS[DISBURSEMENTS if ppa.id in chain else REPORTED].capitalize()))
    return MfbmReport(fiscal_year=fiscal_year, moa=moa, rows=rows)


@dataclass
class Far1Row:
    """One line of the FAR No. 1 statement: a MOA and appropriation class,
    a MOA subtotal (``appropriation_class`` empty), or the grand total."""

    moa: str
    moa_name: str
    appropriation_class: str
    appropriations: Decimal
    allotments: Decimal
    obligations: dict[int, Decimal]
    disbursements: dict[int, Decimal]
    kind: str = "detail"  # detail | subtotal | total

    @property
    def obligations_total(self) -> Decimal:
        return sum(self.obligations.values(), ZERO)

    @property
    def disbursements_total(self) -> Decimal:
        return sum(self.disbursements.values(), ZERO)

    @property
    def unreleased(self) -> Decimal:
        """Appropriations not yet allotted."""
        return self.appropriations - self.allotments

    @property
    def unobligated(self) -> Decimal:
        """Allotments not yet obligated."""
        return self.allotments - self.obligations_total

    @property
    def unpaid(self) -> Decimal:
        """Obligations not yet disbursed."""
        return self.obligations_total - self.disbursements_total


def _sum_rows(rows: list[Far1Row], moa: str, moa_name: str, kind: str) -> Far1Row:
    return Far1Row(moa, moa_name, "", sum((r.appropriations for r in rows), ZERO), sum((r.allotments for r in rows), ZERO),
                   {q: sum((r.obligations[q] for r in rows), ZERO) for q in QUARTERS},
                   {q: sum((r.disbursements[q] for r in rows), ZERO) for q in QUARTERS}, kind)


def far1_report(user: User, fiscal_year: int, moa: str | None = None) -> list[Far1Row]:
    """FAR No. 1 style Statement of Appropriations, Allotments, Obligations,
    Disbursements and Balances: one line per MOA and appropriation class, a
    subtotal per MOA, a grand total; obligations and disbursements by
    quarter of their date, year included: the statement is as at 31
    December of ``fiscal_year``, so an ORS or DV dated in a later year (a
    continuing appropriation) is in none of its quarters and not in its
    totals (docs/design.md §12). Appropriations are adjusted amounts
    (approved plus appropriation adjustments) and allotments active ones
    (adjustments included, a sub-allotment counted once), as the API's
    ``adjusted_amount`` and ``allotted``."""
    ppas = _ppas(user, fiscal_year, moa)
    ids = [p.id for p in ppas]
    # As the API's ``adjusted_amount`` and ``allotted``: approved plus appropriation adjustments; active
    # allotments at their adjusted amounts (a sub-allotment's -amount on the giver, +amount received).
    appropriations = _per_ppa(ProgramBudget.approved_amount, true(), [], ids)
    for ppa_id, centavos in _per_ppa(AppropriationAdjustment.amount, true(), [
            (ProgramBudget, AppropriationAdjustment.program_budget_id == ProgramBudget.id)], ids).items():
        appropriations[ppa_id] = appropriations.get(ppa_id, 0) + centavos
    allotments = _per_ppa(active_amount_sql(Allotment), Allotment.active,
                          [(ProgramBudget, Allotment.program_budget_id == ProgramBudget.id)], ids)
    obligations, disbursements = _obligations(ids), _disbursements(ids)
    groups: dict[tuple[str, str], list[Ppa]] = defaultdict(list)
    names = {}
    for ppa in ppas:
        groups[(ppa.organization.code, ppa.appropriation_class)].append(ppa)
        names[ppa.organization.code] = ppa.organization.name
    details = []
    for (code, klass), members in sorted(groups.items(), key=lambda g: (g[0][0], list(CLASS_LABELS).index(g[0][1]))):
        member_ids = [p.id for p in members]
        details.append(Far1Row(
            code, names[code], CLASS_LABELS[klass],
            from_centavos(sum(appropriations.get(i, 0) for i in member_ids)),
            from_centavos(sum(allotments.get(i, 0) for i in member_ids)),
            {q: from_centavos(sum(_in_year(obligations[i], fiscal_year, q) for i in member_ids)) for q in QUARTERS},
            {q: from_centavos(sum(_in_year(disbursements[i], fiscal_year, q) for i in member_ids))
             for q in QUARTERS}))
    out: list[Far1Row] = []
    for code in sorted(names):
        rows = [r for r in details if r.moa == code]
        out += rows + [_sum_rows(rows, code, names[code], "subtotal")]
    out.append(_sum_rows(details, "", "GRAND TOTAL", "total"))
    return out


# -- producing the files ----------------------------------------------------------------------

REPORT_KINDS = ("mfbm", "far1")
#: The formats each report comes in: an Excel workbook (services.workbooks)
#: or a print-ready PDF (services.printing; docs/design.md §8 "Print").
REPORT_FORMATS = ("xlsx", "pdf")
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "pdf": "application/pdf"}
#: Above this many PPAs in the year, a report runs as a background job (a
#: PDF, laid out page by page, sooner than a workbook).
INLINE_LIMIT = 2_000
PDF_INLINE_LIMIT = 200


def build_report(user: User, kind: str, fiscal_year: int, moa: str | None = None,
                 fmt: str = "xlsx") -> tuple[bytes, int]:
    """The report (``kind`` in ``REPORT_KINDS``) as ``fmt`` bytes (.xlsx or
    .pdf; both show the same figures) and its number of rows."""
    from services.printing import far1_pdf, mfbm_pdf
    from services.workbooks import far1_workbook, mfbm_workbook

    pdf = fmt == "pdf"
    if kind == "mfbm":
        report = mfbm_report(user, fiscal_year, moa)
        return (mfbm_pdf(report) if pdf else mfbm_workbook(report)), len(report.rows)
    rows = far1_report(user, fiscal_year, moa)
    return (far1_pdf(rows, fiscal_year, moa) if pdf else far1_workbook(rows, fiscal_year, moa)), len(rows)


def file_name(kind: str, fiscal_year: int, moa: str | None, fmt: str = "xlsx") -> str:
    """The download name, e.g. ``MFBM_Budget_Execution_FY2025_MSSD.xlsx``
    (``.pdf`` for the PDF)."""
    stem = {"mfbm": "MFBM_Budget_Execution", "far1": "FAR1_Statement"}[kind]
    return f"{stem}_FY{fiscal_year}{'_' + moa if moa else ''}.{fmt}"


def report_scope(user: User, moa: str | None) -> str | None:
    """The organization (code) a report for ``user`` covers: ``moa``, or
    None for all MOAs; a user who sees only their own organization (a MOA
    focal person, docs/design.md §3) always gets theirs, so their workbook
    names it instead of "All MOAs".

    Raises:
        NotFound: ``moa`` is another organization's, for such a user (as
            that organization's PPAs are, to them).
    """
    if sees_all_organizations(user):
        return moa
    own = user.organization.code if user.organization is not None else None
    if own is None or moa not in (None, own):
        raise NotFound(f"no organization {moa or '(none)'} among those you may report on")
    return own


def request_report(user: User, kind: str, fiscal_year: int, moa: str | None, *, background: bool,
                   fmt: str = "xlsx"):
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
        return build_report(user, kind, fiscal_year, moa, fmt)[0]
    with transaction():
        return enqueue("generate_report", requested_by=user, report=kind, fiscal_year=fiscal_year, moa=moa,
                       user_id=user.id, output=f"{uuid.uuid4().hex}.{fmt}")


def reports_dir() -> Path:
    """Where background reports are written (``instance/reports``)."""
    path = Path(current_app.instance_path) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def generate_report_file(report: str, fiscal_year: int, moa: str | None, user_id: int, output: str) -> dict:
    """Write a report (``mfbm`` or ``far1``) for a background job, seen as the
    user who asked, in the format ``output``'s suffix names (``.xlsx``,
    ``.pdf``); idempotent (same file, same content)."""
    user = db.session.get(User, user_id)
    fmt = "pdf" if output.endswith(".pdf") else "xlsx"
    data, rows = build_report(user, report, fiscal_year, moa, fmt)
    (reports_dir() / output).write_bytes(data)
    return {"file": output, "rows": rows, "download_name": file_name(report, fiscal_year, moa, fmt)}


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
