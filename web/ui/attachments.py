"""``/attachments/<id>``: download a supporting document, for whoever may see
its record (docs/design.md §11). Uploads belong to the record's page
(``web.ui.ppas.upload`` for a PPA); the download is the same for every kind
of record, as the API's ``GET /api/attachments/{id}``."""

from __future__ import annotations

from flask import Blueprint

from services import attachments
from web.downloads import send_attachment
from web.ui.pages import signed_in

bp = Blueprint("attachments", __name__)


@bp.route("/attachments/<id:attachment_id>")
def download(attachment_id: int):
    """The file, as a download (404 page when its record is not visible)."""
    return send_attachment(attachments.get_attachment_or_raise(signed_in(), attachment_id))
