"""``/reports`` (issue 11; docs/design.md §8, §11): the MFBM Budget Execution
Report and the FAR No. 1 statement by fiscal year and MOA (a MOA focal
person: their MOA only, as the API has it), as an Excel workbook or a PDF
to print. A small one downloads at once; a
large year, or one asked for in the background, runs as a job whose page
polls the job record (HTMX, every second, until it ends) and then offers
the download."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, redirect, render_template, send_file, url_for

from db.models import JobRecord
from services import calendar, job_records, ppas, reports
from services.access import sees_all_organizations
from web.ui.forms import ReportForm, choices
from web.ui.pages import is_htmx, load_form, signed_in, submit

bp = Blueprint("reports", __name__)

#: Answer of a poll once the job has ended: htmx stops polling (htmx 2 documents 286 for this).
STOP_POLLING = 286
REPORT_JOB = "generate_report"


def _report_form(user) -> ReportForm:
    form = load_form(ReportForm, data={"fiscal_year": calendar.today().year})
    organizations = ppas.visible_organizations(user)
    everyone = [("", "All MOAs")] if sees_all_organizations(user) else []
    form.moa.choices = choices(everyone + [(o.code, f"{o.code} — {o.name}") for o in organizations])
    return form


@bp.route("/reports", methods=["GET", "POST"])
def index():
    """Choose a report, a fiscal year and a MOA; download it, or follow its job."""
    user = signed_in()
    form = _report_form(user)

    def request_report():
        moa = reports.report_scope(user, form.moa.data or None)
        fmt = form.file_format.data or "xlsx"
        outcome = reports.request_report(user, form.report.data, form.fiscal_year.data, moa,
                                         background=form.background.data, fmt=fmt)
        return outcome, reports.file_name(form.report.data, form.fiscal_year.data, moa, fmt), fmt

    def answer(result):
        outcome, download_name, fmt = result
        if isinstance(outcome, JobRecord):
            return redirect(url_for(".job", job_id=outcome.id))
        return send_file(BytesIO(outcome), mimetype=reports.MEDIA_TYPES[fmt], as_attachment=True,
                         download_name=download_name)

    done, status = submit(form, request_report, answer)
    jobs = [(job, job_records.arguments_of(job)) for job in job_records.recent_jobs(user, REPORT_JOB)]
    return done or (render_template("reports/index.html", form=form, jobs=jobs), status)


@bp.route("/reports/jobs/<job:job_id>")
def job(job_id: str):
    """A report job's progress; polled by its page until it ends."""
    record = job_records.get_job_or_raise(signed_in(), job_id)
    result = job_records.result_of(record) if record.status == "finished" else None
    if is_htmx():
        ended = record.status in ("finished", "failed")
        return render_template("reports/_job_status.html", job=record, result=result), STOP_POLLING if ended else 200
    return render_template("reports/job.html", job=record, result=result)


@bp.route("/reports/files/<job:job_id>")
def report_file(job_id: str):
    """The file (workbook or PDF) a finished report job wrote (409 page while it is not finished)."""
    report = reports.finished_report(signed_in(), job_id)
    return send_file(report.path, mimetype=report.media_type, as_attachment=True, download_name=report.download_name)
