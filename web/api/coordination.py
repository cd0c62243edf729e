"""A MOA's focal persons and quarterly coordination meetings over HTTP
(docs/design.md §16 "Focal persons and coordination meetings"; issue 15
item 6): ``/api/organizations/{id}/focal-persons``,
``/api/focal-persons/{id}``, ``/api/coordination-meetings`` (+ ``/{id}``,
``/{id}/pre-meeting-report`` and its ``.xlsx``). Contacts are personal data:
only signed-in users who may see the MOA read them."""

from __future__ import annotations

from io import BytesIO

from flask import request, send_file
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from services import coordination
from web.auth import current_user
from web.contract import BINARY, ETAG_HEADER, XLSX
from web.pagination import SQLPage
from web.parsing import Blueprint, Money
from web.schemas import FISCAL_YEAR, MAX_TEXT, Reply, _organization_code

blp = Blueprint("coordination", __name__, url_prefix="/api",
                description="A MOA's focal persons (primary, alternate, technical; contacts and appointment "
                            "dates) and quarterly coordination meetings with their pre-meeting report from "
                            "ppaflow's own figures.")

PHONE = validate.Regexp(r"^[0-9+()\- ]*$", error="must be a phone number: digits, spaces, '+', '(', ')' or '-'")


def _batch(view):
    """A ``SQLPage`` whose items go through ``view`` one by one."""

    class BatchPage(SQLPage):
        @property
        def items(self) -> list:
            return [view(row) for row in super().items]

    return BatchPage


def _with_etag(view: dict, status: int = 200):
    return view, status, {"ETag": view["etag"]}


# -- schemas ------------------------------------------------------------------------------


class FocalPersonCreateSchema(Schema):
    """``POST /api/organizations/{id}/focal-persons``: kind, name and appointment date required."""

    kind = fields.String(required=True, validate=validate.Length(min=1, max=30),
                         metadata={"description": "a kind of goals.yaml coordination.focal_person_kinds "
                                                  "(primary, alternate, technical)"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    position = fields.String(allow_none=True, validate=validate.Length(max=120))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254),
                         metadata={"description": "personal data: shown only to those who may see the MOA"})
    phone = fields.String(allow_none=True, validate=[validate.Length(max=40), PHONE],
                          metadata={"description": "personal data: shown only to those who may see the MOA"})
    user_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(1, 2_147_483_647),
                             metadata={"description": "the ppaflow user (of the MOA) this person is, if any"})
    appointed_on = fields.Date(required=True)
    ended_on = fields.Date(allow_none=True, metadata={"description": "the appointment's last day; null: current"})


class FocalPersonPatchSchema(FocalPersonCreateSchema):
    """``PATCH /api/focal-persons/{id}``: any field; ``ended_on`` ends the appointment."""


class FocalPersonSchema(Reply):
    """A focal person of a MOA, contacts included (to those who may see the MOA)."""

    id = fields.Integer()
    organization_id = fields.Integer()
    organization = fields.String(metadata={"description": "the MOA's code"})
    kind = fields.String()
    kind_label = fields.String()
    name = fields.String()
    position = fields.String()
    email = fields.String()
    phone = fields.String()
    user_id = fields.Integer(allow_none=True)
    appointed_on = fields.Date()
    ended_on = fields.Date(allow_none=True)
    current = fields.Boolean(metadata={"description": "true while the appointment has not ended"})
    version = fields.Integer()


class FocalPersonQuerySchema(Schema):
    current = fields.Boolean(metadata={"description": "only the appointments not ended"})


class MeetingCreateSchema(Schema):
    """``POST /api/coordination-meetings``: fiscal year, quarter and the day it is held required."""

    organization = _organization_code(allow_none=True,
                                      metadata={"description": "the MOA's code; null: a meeting of all MOAs"})
    fiscal_year = fields.Integer(required=True, strict=True, validate=FISCAL_YEAR)
    quarter = fields.Integer(required=True, strict=True, validate=validate.Range(1, 4))
    held_on = fields.Date(required=True)
    report_due_on = fields.Date(allow_none=True, metadata={
        "description": "the pre-meeting report's due date (default: goals.yaml coordination.report_lead_days "
                       "calendar days before held_on)"})
    agenda = fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT))


class MeetingPatchSchema(Schema):
    """``PATCH /api/coordination-meetings/{id}``: any field but the MOA."""

    fiscal_year = fields.Integer(strict=True, validate=FISCAL_YEAR)
    quarter = fields.Integer(strict=True, validate=validate.Range(1, 4))
    held_on = fields.Date()
    report_due_on = fields.Date(allow_none=True)
    agenda = fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT))


class MeetingSchema(Reply):
    """A quarterly coordination meeting."""

    id = fields.Integer()
    organization = fields.String(allow_none=True, metadata={"description": "the MOA's code; null: all MOAs"})
    fiscal_year = fields.Integer()
    quarter = fields.Integer()
    held_on = fields.Date()
    report_due_on = fields.Date()
    quarter_ends_on = fields.Date(metadata={"description": "the day the pre-meeting report's money is as of"})
    agenda = fields.String()
    version = fields.Integer()


class MeetingQuerySchema(Schema):
    fiscal_year = fields.Integer(validate=FISCAL_YEAR)


class ReportPpaSchema(Reply):
    """One PPA of the pre-meeting report."""

    id = fields.Integer()
    program_code = fields.String(allow_none=True)
    title = fields.String()
    approval_status = fields.String()
    status = fields.String()
    progress = fields.Integer(metadata={"description": "physical progress, percent, as it stands"})
    budget = Money(metadata={"description": "budget allocation, PHP"})
    allotted = Money(metadata={"description": "allotments posted by the quarter's end, PHP"})
    obligated = Money(metadata={"description": "obligations (with adjustments) posted by the quarter's end, PHP"})
    disbursed = Money(metadata={"description": "disbursements posted by the quarter's end, PHP"})


class ReportTotalsSchema(Reply):
    budget = Money()
    allotted = Money()
    obligated = Money()
    disbursed = Money()


class ReportMoaSchema(Reply):
    """One MOA of the pre-meeting report."""

    moa = fields.String()
    organization_id = fields.Integer(metadata={"description": "for /api/organizations/{id}/focal-persons"})
    name = fields.String()
    ppas = fields.List(fields.Nested(ReportPpaSchema))
    totals = fields.Nested(ReportTotalsSchema)
    needs_forwarded = fields.Integer(metadata={"description": "needs forwarded to the MOA awaiting its answer"})
    needs_addressed = fields.Integer(metadata={"description": "needs the MOA addressed with a PPA"})
    open_alerts = fields.Integer()


class PreMeetingReportSchema(Reply):
    """The pre-meeting report of a coordination meeting."""

    meeting = fields.Nested(MeetingSchema)
    as_of = fields.Date(metadata={"description": "the quarter's last day: money is what was posted by then"})
    moas = fields.List(fields.Nested(ReportMoaSchema))


# -- focal persons ------------------------------------------------------------------------


@blp.route("/organizations/<id:organization_id>/focal-persons")
class FocalPersons(MethodView):
    @blp.arguments(FocalPersonQuerySchema, location="query")
    @blp.response(200, FocalPersonSchema(many=True))
    @blp.paginate(_batch(coordination.focal_person_view))
    def get(self, query, organization_id):
        """The MOA's focal persons, current first, with their contacts (to
        those who may see the MOA; another MOA's focal person gets 404)."""
        return coordination.list_focal_persons(current_user(), organization_id,
                                               current_only=bool(query.get("current")))

    @blp.arguments(FocalPersonCreateSchema)
    @blp.response(201, FocalPersonSchema, headers=ETAG_HEADER)
    def post(self, data, organization_id):
        """Appoint a focal person of the MOA: BPDA planning officers and
        admins; a second current primary is 409 primary_exists."""
        return _with_etag(coordination.focal_person_view(
            coordination.appoint_focal_person(current_user(), organization_id, data)), 201)


@blp.route("/focal-persons/<id:focal_person_id>")
class FocalPersonOne(MethodView):
    @blp.response(200, FocalPersonSchema, headers=ETAG_HEADER)
    def get(self, focal_person_id):
        """One focal person."""
        return _with_etag(coordination.focal_person_view(
            coordination.get_focal_person_or_raise(current_user(), focal_person_id)))

    @blp.arguments(FocalPersonPatchSchema(partial=True))
    @blp.response(200, FocalPersonSchema, headers=ETAG_HEADER)
    def patch(self, data, focal_person_id):
        """Change a focal person; set ended_on to end the appointment. Send
        If-Match (stale: 412)."""
        return _with_etag(coordination.focal_person_view(coordination.update_focal_person(
            current_user(), focal_person_id, data, if_match=request.headers.get("If-Match"))))


# -- coordination meetings ----------------------------------------------------------------


@blp.route("/coordination-meetings")
class Meetings(MethodView):
    @blp.arguments(MeetingQuerySchema, location="query")
    @blp.response(200, MeetingSchema(many=True))
    @blp.paginate(_batch(coordination.meeting_view))
    def get(self, query):
        """The coordination meetings you may see, the latest first."""
        return coordination.list_meetings(current_user(), query.get("fiscal_year"))

    @blp.arguments(MeetingCreateSchema)
    @blp.response(201, MeetingSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Call a quarterly coordination meeting (of one MOA, or of all):
        BPDA planning officers and admins."""
        organization = data.pop("organization", None)
        return _with_etag(coordination.meeting_view(coordination.create_meeting(current_user(), data,
                                                                                organization)), 201)


@blp.route("/coordination-meetings/<id:meeting_id>")
class MeetingOne(MethodView):
    @blp.response(200, MeetingSchema, headers=ETAG_HEADER)
    def get(self, meeting_id):
        """One coordination meeting."""
        return _with_etag(coordination.meeting_view(coordination.get_meeting_or_raise(current_user(), meeting_id)))

    @blp.arguments(MeetingPatchSchema)
    @blp.response(200, MeetingSchema, headers=ETAG_HEADER)
    def patch(self, data, meeting_id):
        """Change a meeting; send If-Match (stale: 412)."""
        return _with_etag(coordination.meeting_view(coordination.update_meeting(
            current_user(), meeting_id, data, if_match=request.headers.get("If-Match"))))


@blp.route("/coordination-meetings/<id:meeting_id>/pre-meeting-report")
class PreMeetingReport(MethodView):
    @blp.response(200, PreMeetingReportSchema)
    def get(self, meeting_id):
        """The pre-meeting report: per MOA, its PPAs of the fiscal year with
        budget, money as of the quarter's end, progress and status; needs
        forwarded and addressed; open alerts."""
        return coordination.pre_meeting_report(current_user(), meeting_id)


@blp.route("/coordination-meetings/<id:meeting_id>/pre-meeting-report.xlsx")
class PreMeetingWorkbook(MethodView):
    @blp.response(200, BINARY, content_type=XLSX, description="the pre-meeting report as a workbook")
    def get(self, meeting_id):
        """The pre-meeting report as an Excel workbook."""
        data = coordination.report_workbook(coordination.pre_meeting_report(current_user(), meeting_id))
        return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True,
                         download_name=f"pre-meeting-report-{meeting_id}.xlsx")
