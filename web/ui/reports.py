"""``/reports`` (issues 11 and 13; docs/design.md §8, §11): every report of
``services.reports.REPORTS`` (the MFBM Budget Execution Report, FAR No. 1
and its companions) by fiscal year and MOA (a MOA focal person: their MOA
only, as the API has it), a statement's quarter ending and fund cluster,
as an Excel workbook or a PDF to print, with a preview of the PDF's first
page and whether the statement is the filed copy (its quarter closed) or
interim. A small one downloads at once; a
large year, or one asked for in the background, runs as a job whose page
polls the job record (HTMX, every second, until it ends) and then offers
the download."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, Response, redirect, render_template, request, send_file, url_for

from db.models import JobRecord
from services import calendar, job_records, ppas, reports
from services.access import sees_all_organizations
from services.runtime import get_runtime
from web.ui.forms import ReportForm, choices
from web.ui.pages import is_htmx, load_form, signed_in, submit

bp = Blueprint("reports", __name__)

#: Answer of a poll once the job has ended: htmx stops polling (htmx 2 documents 286 for this).
STOP_POLLING = 286
REPORT_JOB = "generate_report"


def _report_form(user, form: ReportForm | None = None) -> ReportForm:
    """The Reports page's form (the one posted or kept, else this year's) with
    its choices: the reports, the MOAs ``user`` may report on, the fund clusters."""
    form = form or load_form(ReportForm, data={"fiscal_year": calendar.today().year})
    organizations = ppas.visible_organizations(user)
    everyone = [("", "All MOAs")] if sees_all_organizations(user) else []
    form.moa.choices = choices(everyone + [(o.code, f"{o.code} — {o.name}") for o in organizations])
    form.report.choices = choices([(kind.name, kind.title) for kind in reports.REPORTS.values()])
    form.fund_cluster.choices = choices([("", "Each fund cluster")] + [
        (code, f"{code} {name}") for code, name in get_runtime().rules.fund_clusters.names.items()])
    return form


def _choice(form: ReportForm, user) -> dict:
    """The report the form asks for, as ``services.reports`` takes it."""
    kind = reports.REPORTS[form.report.data]
    return {"kind": kind.name, "fiscal_year": form.fiscal_year.data,
            "moa": reports.report_scope(user, form.moa.data or None),
            "quarter": int(form.quarter.data) if kind.quarterly and form.quarter.data else None,
            "fund_cluster": (form.fund_cluster.data or None) if kind.quarterly else None}


@bp.route("/reports", methods=["GET", "POST"])
def index():
    """Choose a report, a fiscal year and a MOA; download it, or follow its job."""
    user = signed_in()
    form = _report_form(user)

    def request_report():
        chosen, fmt = _choice(form, user), form.file_format.data or "xlsx"
        kind, fiscal_year, moa = chosen.pop("kind"), chosen.pop("fiscal_year"), chosen.pop("moa")
        outcome = reports.request_report(user, kind, fiscal_year, moa, background=form.background.data, fmt=fmt,
                                         **chosen)
        return outcome, reports.file_name(kind, fiscal_year, moa, fmt, **chosen), fmt

    def answer(result):
        outcome, download_name, fmt = result
        if isinstance(outcome, JobRecord):
            return redirect(url_for(".job", job_id=outcome.id))
        return send_file(BytesIO(outcome), mimetype=reports.MEDIA_TYPES[fmt], as_attachment=True,
                         download_name=download_name)

    done, status = submit(form, request_report, answer)
    jobs = [(job, job_records.arguments_of(job)) for job in job_records.recent_jobs(user, REPORT_JOB)]
    titles = {kind.name: kind.title for kind in reports.REPORTS.values()}
    return done or (render_template("reports/index.html", form=form, jobs=jobs, titles=titles), status)


def _asked(user) -> ReportForm:
    """The report choice in the query string (a preview reads, so no CSRF token)."""
    return _report_form(user, ReportForm(formdata=request.args, meta={"csrf": False}))


@bp.route("/reports/preview")
def preview():
    """The chosen report's first page (an image of the PDF's first page)
    and, for a statement, whether it is the filed copy or interim; HTMX
    swaps it under the form."""
    user = signed_in()
    form = _asked(user)
    if not form.validate():
        return render_template("reports/_preview.html", form=form, chosen=None, period=None), 422
    chosen = _choice(form, user)
    period = reports.statement_status(user, chosen["kind"], chosen["fiscal_year"], chosen["moa"], chosen["quarter"])
    return render_template("reports/_preview.html", form=form, chosen=chosen, period=period,
                           title=reports.REPORTS[chosen["kind"]].title)


@bp.route("/reports/preview.png")
def preview_png():
    """The PNG of the chosen report's first page (``/reports/preview``'s image)."""
    user = signed_in()
    form = _asked(user)
    if not form.validate():
        return Response("not a report choice", status=422, mimetype="text/plain")
    chosen = _choice(form, user)
    png = reports.first_page_png(user, chosen.pop("kind"), chosen.pop("fiscal_year"), chosen.pop("moa"), **chosen)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


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
