"""Sending stored files to a browser or a client, the one way (issue 11;
docs/design.md §11): supporting documents go out with the type their content
was found to be, always as a download (``Content-Disposition: attachment``
with the sanitised name, RFC 6266 / 5987 encoded by werkzeug), never
sniffed or rendered by the browser, and not kept in shared caches."""

from __future__ import annotations

from flask import Response, send_file

from db.models import Attachment
from services import attachments


def send_attachment(attachment: Attachment, download_name: str | None = None) -> Response:
    """The file of ``attachment`` as a download response, named
    ``download_name`` (default: its own sanitised file name).

    Raises:
        NotFound: the file is missing from storage.
    """
    response = send_file(attachments.file_path(attachment), mimetype=attachment.media_type, as_attachment=True,
                         download_name=download_name or attachment.file_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
