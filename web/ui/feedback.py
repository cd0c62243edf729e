"""Community feedback on the need's page (issue 15 item 3; docs/design.md
§14 "Feedback"): ``needs/_feedback.html``, included by ``needs/detail.html``,
lists a need's feedback with its average and offers the form (rating,
comment, a photo) while ``services.feedback.feedback_open``; ``POST
/needs/<id>/feedback`` saves it. The section's data comes from
``feedback_section``, a template global, so the need's page view is
unchanged. The views are thin: ``services.feedback`` decides."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from db import db
from db.models import Need
from services import feedback
from services.access import can_see_ppa
from services.attachments import megabytes
from services.runtime import get_runtime
from web.parsing import takes_files
from web.ui.forms import choices
from web.ui.needs import need_page
from web.ui.pages import FORM_REFUSALS, refuse, saved, signed_in

bp = Blueprint("feedback", __name__)

#: Feedback shown on a need's page, newest first.
SHOWN = 50


class FeedbackForm(FlaskForm):
    """A community's feedback on the completed PPA that addressed a need."""

    rating = SelectField("Rating", choices=choices([("", "Choose…"), ("5", "5 – very good"), ("4", "4 – good"),
                                                    ("3", "3 – fair"), ("2", "2 – poor"), ("1", "1 – very poor")]),
                         validators=[InputRequired("Choose a rating from 1 to 5.")])
    comment = TextAreaField("Comment", validators=[Length(max=feedback.MAX_COMMENT)],
                            description=f"What changed for your community (at most {feedback.MAX_COMMENT} characters)")
    ppa_id = SelectField("The PPA you rate", choices=[], validate_choice=False, validators=[Optional()],
                         description="Several completed PPAs address this need: say which one your rating is for.")
    file = FileField("Photo (optional)")


def feedback_section(need: Need) -> dict[str, Any]:
    """What ``needs/_feedback.html`` shows for ``need`` to the signed-in user:
    ``{rows, photos (feedback id -> its photos), summary, form (None when
    feedback is not open to them), completed (bool)}``."""
    user = signed_in()
    rows = list(db.session.scalars(feedback.list_feedback(user, need.id).limit(SHOWN)))
    open_ = feedback.feedback_open(user, need)
    form = getattr(g, "feedback_form", None) or (FeedbackForm(formdata=None) if open_ else None)
    rules = get_runtime().rules.feedback
    if form is not None:
        completed = [p for p in feedback.completed_ppas(need.id) if can_see_ppa(user, p)]
        form.ppa_id.choices = [("", "Choose…"), *((str(p.id), p.title) for p in completed)] if len(completed) > 1 \
            else []
        form.file.description = (f"JPEG or PNG, up to {megabytes(rules.photo_max_bytes)}; "
                                 "its location and camera data are removed")
    return {"rows": rows, "photos": feedback.photos_of([r.id for r in rows]),
            "summary": feedback.summary(user, need.id), "form": form,
            "completed": bool(feedback.completed_ppas(need.id))}


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"feedback_section": feedback_section}


@bp.route("/needs/<id:need_id>/feedback", methods=["POST"])
@takes_files
def leave(need_id: int):
    """Save the feedback (and its photo, checked first); a refusal is shown
    next to its field on the need's page."""
    user = signed_in()
    form = FeedbackForm()
    status = 422
    if form.validate_on_submit():
        upload = form.file.data if getattr(form.file.data, "filename", None) else None
        try:
            if upload is not None:
                feedback.read_photo(upload.stream)  # refused before anything is saved
                upload.stream.seek(0)
            row = feedback.leave_feedback(user, need_id, rating=int(form.rating.data),
                                          comment=(form.comment.data or "").strip(),
                                          ppa_id=int(form.ppa_id.data) if (form.ppa_id.data or "").isdigit() else None)
            if upload is not None:
                feedback.add_photo(user, need_id, row.id, upload.stream, upload.filename)
            return saved("Thank you: your feedback is saved.", url_for("ui.needs.need_detail", need_id=need_id)
                         + "#feedback")
        except FORM_REFUSALS as error:
            status = refuse(form, error)
    g.feedback_form = form
    page, _ = need_page(need_id)
    return page, status
