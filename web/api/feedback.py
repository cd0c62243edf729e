"""Community feedback on completed PPAs over HTTP (issue 15 item 3;
docs/design.md §14 "Feedback"): ``/api/needs/{id}/feedback`` (list, leave
one, its summary), the photos of a feedback (multipart upload, download,
delete) and the quarterly report ``/api/reports/feedback`` (JSON, ``.xlsx``).
Views parse, call ``services.feedback``, serialise."""

from __future__ import annotations

from io import BytesIO

from flask import send_file, url_for
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from services import feedback
from web.auth import current_user
from web.contract import BINARY, LOCATION_HEADER, XLSX
from web.downloads import send_attachment
from web.pagination import viewed
from web.parsing import Blueprint, Money, takes_files
from web.schemas import FISCAL_YEAR, Reply

blp = Blueprint("feedback", __name__, url_prefix="/api",
                description="Community feedback on completed PPAs: a rating (1-5) and a comment per user per need, "
                            "photos without their EXIF, and the quarterly report per MOA beside its budget "
                            "utilisation.")

DECIMAL2 = r"^[0-9]+\.[0-9]{2}$"


def _two_decimals(description: str) -> fields.Decimal:
    return fields.Decimal(as_string=True, allow_nan=False, allow_none=True,
                          metadata={"pattern": DECIMAL2, "example": "4.25", "description": description})


class FeedbackCreateSchema(Schema):
    """``POST /api/needs/{id}/feedback``."""

    rating = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5),
                            metadata={"description": "1 (poor) to 5 (very good), a whole number"})
    comment = fields.String(load_default="", validate=validate.Length(max=feedback.MAX_COMMENT),
                            metadata={"description": f"at most {feedback.MAX_COMMENT} characters"})
    ppa_id = fields.Integer(strict=True, validate=validate.Range(min=1), metadata={
        "description": "the completed PPA rated; may be left out when one PPA addresses the need"})


class PhotoSchema(Reply):
    """A photo of a feedback (re-encoded, without EXIF)."""

    id = fields.Integer()
    file_name = fields.String(metadata={"description": "the original name, sanitised"})
    media_type = fields.String(validate=validate.OneOf(tuple(feedback._FORMATS)))
    size = fields.Integer(metadata={"description": "bytes, as stored (re-encoded)"})
    created_at = fields.DateTime()



def _username(row) -> str | None:
    """Who left a feedback (a row or its dict view); ``None`` once erased."""
    user = row["user"] if isinstance(row, dict) else row.user
    return user.username if user is not None else None

class FeedbackSchema(Reply):
    """One feedback: the rating, the comment, the PPA rated and who left it
    (username only: no name, e-mail or id of the person)."""

    id = fields.Integer()
    need_id = fields.Integer()
    ppa_id = fields.Integer()
    ppa_title = fields.String(attribute="ppa.title")
    rating = fields.Integer()
    comment = fields.String()
    username = fields.Function(_username, allow_none=True,
                               metadata={"type": "string", "description": "null once the person was erased"})
    submitted_on = fields.Date(metadata={"description": "Asia/Manila"})
    photos = fields.List(fields.Nested(PhotoSchema))


class RatingDistributionSchema(Reply):
    """How many ratings of each value."""

    one = fields.Integer(data_key="1", attribute="1")
    two = fields.Integer(data_key="2", attribute="2")
    three = fields.Integer(data_key="3", attribute="3")
    four = fields.Integer(data_key="4", attribute="4")
    five = fields.Integer(data_key="5", attribute="5")


class FeedbackSummarySchema(Reply):
    """A need's feedback in figures."""

    need_id = fields.Integer()
    count = fields.Integer()
    average_rating = _two_decimals("mean rating, 2 decimals rounded half up; null without feedback")
    distribution = fields.Nested(RatingDistributionSchema)


class PhotoUploadSchema(Schema):
    """``multipart/form-data`` upload of one photo."""

    file = Upload(required=True, metadata={
        "description": "a JPEG or PNG photo, told by its content, up to feedback.yaml photo_max_bytes (5 MiB shipped)"})


class FeedbackReportQuerySchema(Schema):
    fiscal_year = fields.Integer(required=True, validate=FISCAL_YEAR)
    quarter = fields.Integer(required=True, validate=validate.Range(1, 4),
                             metadata={"description": "the quarter (1-4) the feedback was submitted in"})


class MoaFeedbackSchema(Reply):
    """One MOA's row of the quarterly feedback report."""

    moa = fields.String()
    moa_name = fields.String()
    count = fields.Integer(metadata={"description": "feedback submitted in the quarter on its PPAs"})
    average_rating = _two_decimals("mean rating, 2 decimals rounded half up; null without feedback")
    distribution = fields.Nested(RatingDistributionSchema)
    budget = Money(metadata={"description": "PHP: budget allocations of its enacted PPAs of the fiscal year"})
    disbursed = Money(metadata={"description": "PHP: their active disbursements"})
    utilisation = _two_decimals("disbursed / budget, percent with 2 decimals; null when the budget is zero")


def _view(row):
    return {"id": row.id, "need_id": row.need_id, "ppa_id": row.ppa_id, "ppa": row.ppa, "rating": row.rating,
            "comment": row.comment, "user": row.user, "submitted_on": row.submitted_on,
            "photos": feedback.photos_of([row.id]).get(row.id, [])}


@blp.route("/needs/<id:need_id>/feedback")
class NeedFeedback(MethodView):
    @blp.response(200, FeedbackSchema(many=True))
    @blp.paginate(viewed(_view))
    def get(self, need_id):
        """The need's feedback, newest first (whoever may see the need);
        its average and distribution: ``/feedback/summary``."""
        return feedback.list_feedback(current_user(), need_id)

    @blp.arguments(FeedbackCreateSchema)
    @blp.response(201, FeedbackSchema)
    def post(self, data, need_id):
        """Rate the completed PPA that addressed the need, once (a second
        time is 409 already_rated; 409 not_completed while no addressing
        PPA is completed). Anyone signed in who may see the need."""
        return _view(feedback.leave_feedback(current_user(), need_id, **data)), 201


@blp.route("/needs/<id:need_id>/feedback/summary")
class NeedFeedbackSummary(MethodView):
    @blp.response(200, FeedbackSummarySchema)
    def get(self, need_id):
        """The need's feedback in figures: count, average rating, distribution 1-5."""
        return feedback.summary(current_user(), need_id)


@blp.route("/needs/<id:need_id>/feedback/<id:feedback_id>/photos")
class FeedbackPhotos(MethodView):
    @takes_files
    @blp.arguments(PhotoUploadSchema, location="files")
    @blp.response(201, PhotoSchema, headers=LOCATION_HEADER)
    def post(self, files, need_id, feedback_id):
        """Add a photo to your feedback (multipart/form-data, field ``file``):
        JPEG or PNG by its content, up to feedback.yaml photo_max_bytes and
        max_photos_per_feedback (422 naming ``file`` otherwise); stored
        re-encoded, without EXIF (no GPS position)."""
        upload = files["file"]
        photo = feedback.add_photo(current_user(), need_id, feedback_id, upload.stream, upload.filename)
        return photo, 201, {"Location": url_for("feedback.FeedbackPhoto", need_id=need_id, feedback_id=feedback_id,
                                                photo_id=photo.id)}


@blp.route("/needs/<id:need_id>/feedback/<id:feedback_id>/photos/<id:photo_id>")
class FeedbackPhoto(MethodView):
    @blp.doc(responses={200: {"description": "the photo, as a download",
                              "content": {media_type: {"schema": BINARY} for media_type in feedback._FORMATS}}})
    def get(self, need_id, feedback_id, photo_id):
        """The photo (whoever may see the need; 404 otherwise)."""
        return send_attachment(feedback.get_photo_or_raise(current_user(), need_id, feedback_id, photo_id))

    @blp.response(204)
    def delete(self, need_id, feedback_id, photo_id):
        """Delete a photo of your feedback (its author only)."""
        feedback.delete_photo(current_user(), need_id, feedback_id, photo_id)
        return None, 204


@blp.route("/reports/feedback")
class FeedbackReport(MethodView):
    @blp.arguments(FeedbackReportQuerySchema, location="query")
    @blp.response(200, MoaFeedbackSchema(many=True))
    def get(self, query):
        """The quarterly feedback report: per MOA, the feedback of the
        quarter (count, average rating, distribution 1-5) beside the budget
        utilisation of its enacted PPAs of the fiscal year (disbursed /
        budget); the MOAs whose PPAs you may see."""
        return feedback.quarterly_report(current_user(), query["fiscal_year"], query["quarter"])


@blp.route("/reports/feedback.xlsx")
class FeedbackReportWorkbook(MethodView):
    @blp.arguments(FeedbackReportQuerySchema, location="query")
    @blp.response(200, BINARY, content_type=XLSX, description="the report as a workbook")
    def get(self, query):
        """The quarterly feedback report as an Excel workbook."""
        year, quarter = query["fiscal_year"], query["quarter"]
        data = feedback.report_workbook(feedback.quarterly_report(current_user(), year, quarter), year, quarter)
        return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True,
                         download_name=f"ppaflow-feedback-FY{year}-Q{quarter}.xlsx")
