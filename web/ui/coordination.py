"""A MOA's focal persons and the quarterly coordination meetings on pages
(docs/design.md §16 "Focal persons and coordination meetings"; issue 15
item 6): ``/organizations/<id>/focal-persons`` (the registry, and the form
to appoint one for BPDA's planners and admins) and ``/coordination-meetings``
(the list, the form to call one, and each meeting's pre-meeting report).
Contacts are shown only to signed-in users who may see the MOA: the pages
sit behind sign-in and ``services.coordination`` scopes them. The views
are thin: parse, call the service, render."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, render_template, send_file, url_for
from sqlalchemy import select

from db import db
from db.models import Organization
from services import coordination
from services.access import has_role
from services.runtime import get_runtime
from web.ui.forms import FocalPersonForm, MeetingForm, choices
from web.ui.pages import first_rows, load_form, saved, signed_in, submit

bp = Blueprint("coordination", __name__)

#: How many rows a list shows.
LIST_SIZE = 200


@bp.route("/organizations/<id:organization_id>/focal-persons", methods=["GET", "POST"])
def focal_persons(organization_id: int):
    """The MOA's focal persons, current first, and the form to appoint one."""
    user = signed_in()
    rows = first_rows(coordination.list_focal_persons(user, organization_id), LIST_SIZE)
    organization = db.session.get(Organization, organization_id)
    kinds = get_runtime().rules.goals.focal_person_kinds
    form = load_form(FocalPersonForm)
    form.kind.choices = choices(kinds.items())
    done, status = submit(form, lambda: coordination.appoint_focal_person(user, organization_id, {
        "kind": form.kind.data, "name": form.name.data.strip(), "position": (form.position.data or "").strip(),
        "email": (form.email.data or "").strip(), "phone": (form.phone.data or "").strip(),
        "appointed_on": form.appointed_on.data}),
        lambda row: saved(f"{row.name} is now a {kinds.get(row.kind, row.kind).lower()} of {organization.code}.",
                          url_for(".focal_persons", organization_id=organization_id)))
    if done:
        return done
    return render_template("coordination/focal_persons.html", organization=organization, rows=rows, kinds=kinds,
                           form=form, may_manage=has_role(user, coordination.MANAGERS, None)), status


@bp.route("/coordination-meetings", methods=["GET", "POST"])
def meeting_list():
    """The coordination meetings the user may see, and the form to call one."""
    user = signed_in()
    form = load_form(MeetingForm)
    form.organization.choices = choices([("", "All MOAs")] + [(code, code) for code in db.session.scalars(
        select(Organization.code).order_by(Organization.code))])
    done, status = submit(form, lambda: coordination.create_meeting(user, {
        "fiscal_year": form.fiscal_year.data, "quarter": int(form.quarter.data), "held_on": form.held_on.data,
        "report_due_on": form.report_due_on.data, "agenda": form.agenda.data or ""}, form.organization.data or None),
        lambda meeting: saved("The meeting is on the calendar.", url_for(".meeting_detail", meeting_id=meeting.id)))
    if done:
        return done
    meetings = [coordination.meeting_view(m) for m in first_rows(coordination.list_meetings(user), LIST_SIZE)]
    return render_template("coordination/meetings.html", meetings=meetings, form=form,
                           organizations=coordination.visible_organizations(user),
                           may_manage=has_role(user, coordination.MANAGERS, None)), status


@bp.route("/coordination-meetings/<id:meeting_id>")
def meeting_detail(meeting_id: int):
    """One meeting and its pre-meeting report."""
    report = coordination.pre_meeting_report(signed_in(), meeting_id)
    return render_template("coordination/meeting.html", meeting=report["meeting"], report=report)


@bp.route("/coordination-meetings/<id:meeting_id>/pre-meeting-report.xlsx")
def meeting_workbook(meeting_id: int):
    """The meeting's pre-meeting report as an Excel workbook (the API's own)."""
    data = coordination.report_workbook(coordination.pre_meeting_report(signed_in(), meeting_id))
    return send_file(BytesIO(data), as_attachment=True, download_name=f"pre-meeting-report-{meeting_id}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
