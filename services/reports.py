"""The producing of every report's files (docs/design.md §8): which
reports there are, who may see which MOA's, each as an Excel workbook
(``services.workbooks``) or a PDF (``services.printing``), now or as a
background job for a large year. The MFBM Budget Execution Report's figures
are ``services.mfbm``'s, FAR No. 1's ``services.far1``'s, and so on.
"""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass, replace
from datetime import date
from io import BytesIO
from pathlib import Path

import pypdfium2
from flask import current_app
from sqlalchemy import func, select

from db import db
from db.models import Organization, Ppa, User
from services import job_records
from services.access import sees_all_organizations, visible_ppas
from services.background import enqueue
from services.mfbm import mfbm_report
from services.printing import mfbm_pdf, statements_pdf
from services.runtime import get_runtime
from services.statements import reporting_entity, statement_period
from services.unit_of_work import transaction
from services.workbooks import mfbm_workbook, statements_workbook
from workflow.errors import Conflict, NotFound, ValidationFailed


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
    job = job_records.get_job_or_raise(user, job_id)
    if job.kind != "generate_report" or job.status != "finished":
        raise Conflict(f"job {job_id} has not produced a report (it is {job.status})", code="report_not_ready")
    result = job_records.result_of(job)
    return ReportFile(reports_dir() / result["file"], result["download_name"], result.get("rows"))
