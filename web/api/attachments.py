"""Supporting documents (issue 11; docs/design.md §5, §11):
``GET/POST /api/monitoring-entries/{ppa_id}/attachments`` (list, multipart
upload) and ``GET /api/attachments/{attachment_id}`` (download). Views parse,
call ``services.attachments``, serialise; the download is the stored file
with its detected type and its sanitised name."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from services import attachments
from web.auth import current_user
from web.contract import BINARY, LOCATION_HEADER, link
from web.downloads import send_attachment
from web.parsing import Blueprint, takes_files
from web.schemas import AttachmentSchema, AttachmentUploadSchema

blp = Blueprint("attachments", __name__, url_prefix="/api",
                description="Supporting documents of PPAs: upload (multipart), list, download.")

DOWNLOAD = "/api/attachments/{attachment_id}"
ATTACHMENT_LINKS = {"download": link("GET", DOWNLOAD, "download the file",
                                     parameters={"path.attachment_id": "$response.body#/id"})}


@blp.route("/monitoring-entries/<id:ppa_id>/attachments")
class PpaAttachments(MethodView):
    @blp.response(200, AttachmentSchema(many=True))
    def get(self, ppa_id):
        """The PPA's supporting documents, oldest first (whoever may read the PPA)."""
        return attachments.list_attachments(current_user(), "ppa", ppa_id)

    @takes_files
    @blp.links(201, **ATTACHMENT_LINKS)
    @blp.arguments(AttachmentUploadSchema, location="files")
    @blp.response(201, AttachmentSchema, headers=LOCATION_HEADER)
    def post(self, files, ppa_id):
        """Attach a file (multipart/form-data, field ``file``): a PDF, PNG,
        JPEG, GIF or WebP image, Excel .xlsx or Word .docx, as its content
        shows (the name and the sent content type are not trusted), up to
        ATTACHMENT_MAX_BYTES (default 10 MiB); 422 naming ``file`` otherwise.
        The MOA's focal persons and administrators attach; every upload is
        audited."""
        upload = files["file"]
        attachment = attachments.add_attachment(current_user(), "ppa", ppa_id, upload.stream, upload.filename)
        return attachment, 201, {"Location": url_for("attachments.AttachmentFile", attachment_id=attachment.id)}


@blp.route("/attachments/<id:attachment_id>")
class AttachmentFile(MethodView):
    @blp.doc(responses={200: {"description": "the file, with its sanitised name in Content-Disposition",
                              "content": {media_type: {"schema": BINARY} for media_type in attachments.ACCEPTED}}})
    def get(self, attachment_id):
        """Download a supporting document (whoever may read its record; 404
        otherwise): its detected type, always as an attachment, never
        rendered by the browser."""
        return send_attachment(attachments.get_attachment_or_raise(current_user(), attachment_id))
