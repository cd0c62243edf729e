"""``/api/audit`` (and its CSV export) and ``/api/reports`` (Excel
workbooks and print-ready PDFs of the same reports)."""

from __future__ import annotations

from io import BytesIO

from flask import Response, jsonify, send_file, stream_with_context, url_for
from flask.views import MethodView

from db.models import JobRecord
from services import audit_log, reports
from services.audit_log import AuditFilters
from services.workbooks import MFBM_NOTE, mfbm_lines
from web.auth import current_user
from web.contract import BINARY, CSV, PDF, XLSX
from web.pagination import SQLPage
from web.parsing import Blueprint
from web.schemas import (
    AuditEntrySchema,
    AuditFilterSchema,
    MfbmQuerySchema,
    MfbmReportSchema,
    ReportJobSchema,
    ReportQuerySchema,
)

blp = Blueprint("records", __name__, url_prefix="/api",
                description="The audit trail and the reports (Excel workbooks and PDFs).")


@blp.route("/audit")
class Audit(MethodView):
    @blp.arguments(AuditFilterSchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, filters):
        """Every recorded change you may see: entity, id, field, old and new
        values, actor, time, request id (filters: entity, id, field, actor,
        request_id); oldest first."""
        return audit_log.list_audit(current_user(), AuditFilters(**filters))


@blp.route("/audit.csv")
class AuditCsv(MethodView):
    @blp.arguments(AuditFilterSchema, location="query")
    @blp.response(200, BINARY, content_type=CSV, description="the CSV file")
    def get(self, filters):
        """The same rows as CSV, streamed (for auditors)."""
        query = audit_log.list_audit(current_user(), AuditFilters(**filters))
        return Response(stream_with_context(audit_log.csv_lines(query)), mimetype=CSV,
                        headers={"Content-Disposition": "attachment; filename=ppaflow-audit.csv"})


def _report(kind: str, query: dict, fmt: str = "xlsx"):
    user = current_user()
    moa = reports.report_scope(user, query.get("moa"))
    quarter, fund_cluster = query.get("quarter"), query.get("fund_cluster")
    result = reports.request_report(user, kind, query["fiscal_year"], moa, background=query["run_as_job"], fmt=fmt,
                                    as_of=query.get("as_of"), quarter=quarter, fund_cluster=fund_cluster)
    if isinstance(result, JobRecord):
        location = url_for("operations.JobOne", job_id=result.id)
        job = ReportJobSchema().dump({"job_id": result.id, "status": result.status, "location": location})
        return jsonify(job), 202, {"Location": location}
    return send_file(BytesIO(result), mimetype=reports.MEDIA_TYPES[fmt], as_attachment=True,
                     download_name=reports.file_name(kind, query["fiscal_year"], moa, fmt, quarter=quarter,
                                                     fund_cluster=fund_cluster))


#: What each report's routes say (the OpenAPI description of the workbook;
#: the PDF prints the same figures).
REPORT_DESCRIPTIONS = {
    "mfbm": """Of a fiscal year as of a day (your
        MOA's rows, or all for reviewers; optional moa filter): enacted PPAs
        by MOA and allotment class, subtotals by MOA and class, a "Pipeline"
        sheet of the PPAs not enacted.""",
    "far1": """The SAAODB for a quarter ending
        (``quarter``; default the last closed one) and fund cluster (default:
        one sheet per fund cluster): header block, the 24 columns, rows by PAP
        and allotment class, signatories; your MOA, or consolidated for
        reviewers; an open quarter's statement is marked interim.""",
    "far1a": """FAR No. 1's columns for a quarter ending
        and fund cluster, rows by allotment class and UACS object code (each
        ORS under its program budget's one object code of its class;
        appropriations and allotments, by class only, on the class's line).""",
    "far1b": """FAR No. 1-B for a quarter ending
        (``quarter``) and fund cluster: each allotment (SARO/GARO), each
        sub-allotment received and issued of the fiscal year to the
        quarter's end, with number, date, PAP, UACS code, the other party
        and the amount by allotment class; subtotals that tally with FAR
        No. 1 columns 6, 9 and 8.""",
    "far3": """As at a quarter's end (``quarter``; default
        the last closed one), per fund cluster: each ORS with deliveries
        accepted and not yet paid, aged 1-30, 31-60, 61-90, 91-365 days and
        over one year, by allotment class; totals equal FAR No. 1 column 23.""",
    "far4": """The year's disbursements up to a quarter's
        end, per fund cluster: months as columns with quarter totals, rows by
        allotment class and mode of payment (NCA through MDS checks or ADA,
        commercial checks, others); quarter totals equal FAR No. 1 columns 16-19.""",
    "raod": """The registries of allotments, obligations
        and disbursements (GAM Appendix 9A-9D), one sheet per allotment class
        and fund cluster: each PAP's entries in date order up to the quarter's
        end (reference, particulars, UACS object code, amounts) with running
        balances; reversals and adjustments as entries of their own dates.""",
}


def _report_route(path: str, kind: str, fmt: str) -> None:
    """Register ``GET /api/reports/<path>`` for report ``kind`` in ``fmt``
    (services.reports.REPORTS): 200 with the file, or 202 with the job
    that will write it (a large year, or ``async=true``)."""
    pdf = fmt == "pdf"
    title = reports.REPORTS[kind].title
    details = REPORT_DESCRIPTIONS.get(kind, "")
    if pdf:
        details = ("The workbook's figures as a print-ready PDF: Legal landscape pages, title and headings on "
                   "every page, \"Page X of Y\" (docs/design.md §8).")
    description = f"{title} ({'PDF' if pdf else 'Excel workbook'})\n\n{details}"

    class ReportDownload(MethodView):
        @blp.arguments(ReportQuerySchema, location="query")
        @blp.response(200, BINARY, content_type=PDF if pdf else XLSX,
                      description="the PDF (Legal landscape)" if pdf else "the workbook")
        @blp.alt_response(202, schema=ReportJobSchema, description="a large year: generated by a job",
                          headers={"Location": {"required": True, "schema": {"type": "string"}}})
        def get(self, query):
            return _report(kind, query, fmt)

    ReportDownload.get.__doc__ = description
    name = "".join(part.title() for part in path.replace(".", "-").split("-"))
    ReportDownload.__name__ = ReportDownload.__qualname__ = f"Report{name}"
    blp.route(f"/reports/{path}", endpoint=f"Report{name}")(ReportDownload)


for _kind in reports.REPORT_KINDS:
    for _fmt in reports.REPORT_FORMATS:
        _report_route(f"{_kind}.{_fmt}", _kind, _fmt)
        if _kind == "mfbm":  # the report's first URL, kept
            _report_route(f"mfbm-budget-execution.{_fmt}", _kind, _fmt)


@blp.route("/reports/mfbm")
class MfbmReportJson(MethodView):
    @blp.arguments(MfbmQuerySchema, location="query")
    @blp.response(200, MfbmReportSchema)
    def get(self, query):
        """The MFBM Budget Execution Report as JSON: the workbook's lines
        (PPA lines, MOA and class subtotals, the grand total) with each
        PPA's SPI and CPI as of the day, the pipeline and the footnote."""
        user = current_user()
        report = reports.mfbm_report(user, query["fiscal_year"], reports.report_scope(user, query.get("moa")),
                                     as_of=query.get("as_of"))
        return {"fiscal_year": report.fiscal_year, "moa": report.moa, "organization": report.organization,
                "as_of": report.as_of, "lines": mfbm_lines(report), "pipeline": report.pipeline, "note": MFBM_NOTE}


@blp.route("/reports/files/<job:job_id>")
class ReportFile(MethodView):
    @blp.doc(responses={200: {"description": "the workbook or PDF the job wrote",
                              "content": {media_type: {"schema": BINARY} for media_type in (XLSX, PDF)}}})
    @blp.alt_response(409, "CONFLICT")
    def get(self, job_id):
        """The file (workbook or PDF, as asked) a report job you asked for
        wrote (administrators: any job's); 409 while it is not finished."""
        report = reports.finished_report(current_user(), job_id)
        return send_file(report.path, mimetype=report.media_type, as_attachment=True,
                         download_name=report.download_name)
