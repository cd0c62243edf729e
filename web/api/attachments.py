"""Supporting documents (issue 11; docs/design.md §5, §11, §12):
``GET/POST /api/monitoring-entries/{ppa_id}/attachments`` (a PPA's),
``GET/POST /api/obligations/{obligation_id}/attachments`` (an ORS's) and
``GET/POST /api/disbursements/{disbursement_id}/attachments`` (a DV's) (list,
multipart upload; one view class per record type, made by
``attachments_view``), and ``GET /api/attachments/{attachment_id}``
(download, for every type). Views parse, call ``services.attachments``,
serialise; the download is the stored file with its detected type and its
sanitised name."""

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
                description="Supporting documents of PPAs, ORS and DV: upload (multipart), list, download.")

DOWNLOAD = "/api/attachments/{attachment_id}"
ATTACHMENT_LINKS = {"download": link("GET", DOWNLOAD, "download the file",
                                     parameters={"path.attachment_id": "$response.body#/id"})}


def attachments_view(name: str, path: str, record_type: str, record: str, who: str) -> type[MethodView]:
    """Register ``GET/POST <path>`` (list, multipart upload) for the
    attachments of one record type of ``services.attachments.RECORD_KINDS``.

    Args:
        name: the view class's name (the endpoint: ``PpaAttachments``).
        path: the route, with the record's id as its one parameter
            (``/monitoring-entries/<id:ppa_id>/attachments``).
        record_type: ``ppa``, ``obligation`` or ``disbursement``.
        record: the record in the operations' summaries (``the PPA``,
            ``the ORS``, ``the DV``).
        who: who may attach, in the POST's description.

    Returns:
        The registered ``MethodView`` class.
    """

    def get(self, **path_ids):
        [record_id] = path_ids.values()
        return attachments.list_attachments(current_user(), record_type, record_id)

    def post(self, files, **path_ids):
        [record_id] = path_ids.values()
        upload = files["file"]
        attachment = attachments.add_attachment(current_user(), record_type, record_id, upload.stream,
                                                upload.filename)
        return attachment, 201, {"Location": url_for("attachments.AttachmentFile", attachment_id=attachment.id)}

    get.__doc__ = f"{record[:1].upper()}{record[1:]}'s supporting documents, oldest first (whoever may read {record})."
    post.__doc__ = f"""Attach a file (multipart/form-data, field ``file``): a PDF, PNG,
        JPEG, GIF or WebP image, Excel .xlsx or Word .docx, as its content
        shows (the name and the sent content type are not trusted), up to
        ATTACHMENT_MAX_BYTES (default 10 MiB); 422 naming ``file`` otherwise.
        {who} attach; every upload is
        audited."""
    view = type(name, (MethodView,), {
        "get": blp.response(200, AttachmentSchema(many=True))(get),
        "post": takes_files(blp.links(201, **ATTACHMENT_LINKS)(blp.arguments(AttachmentUploadSchema, location="files")(
            blp.response(201, AttachmentSchema, headers=LOCATION_HEADER)(post)))),
    })
    return blp.route(path)(view)


PpaAttachments = attachments_view("PpaAttachments", "/monitoring-entries/<id:ppa_id>/attachments", "ppa",
                                  "the PPA", "The MOA's focal persons and administrators")
ObligationAttachments = attachments_view(
    "ObligationAttachments", "/obligations/<id:obligation_id>/attachments", "obligation", "the ORS",
    "The MOA's officers of the money chain, MFBM budget analysts and administrators")
DisbursementAttachments = attachments_view(
    "DisbursementAttachments", "/disbursements/<id:disbursement_id>/attachments", "disbursement",
    "the DV", "The MOA's officers of the money chain, MFBM budget analysts and administrators")


@blp.route("/attachments/<id:attachment_id>")
class AttachmentFile(MethodView):
    @blp.doc(responses={200: {"description": "the file, with its sanitised name in Content-Disposition",
                              "content": {media_type: {"schema": BINARY} for media_type in attachments.ACCEPTED}}})
    def get(self, attachment_id):
        """Download a supporting document (whoever may read its record; 404
        otherwise): its detected type, always as an attachment, never
        rendered by the browser."""
        return send_attachment(attachments.get_attachment_or_raise(current_user(), attachment_id))
