"""Supporting documents: files attached to records (issue 11; docs/design.md §11).

Reviewers judge a proposal on its documents, so a file is accepted only
for what it is, never for what it is called:

- its type is read from its content (magic bytes, by the ``filetype``
  library); the file name's extension and the browser's content type are
  not trusted. PDF, PNG, JPEG, GIF and WebP images, Excel (.xlsx) and Word
  (.docx) documents are accepted (``ACCEPTED``); anything else, a Windows
  program named ``budget.pdf`` included, is refused naming what it is;
- its size is at most ``ATTACHMENT_MAX_BYTES`` (default 10 MiB) and more
  than nothing;
- it is stored outside the web root (``ATTACHMENTS_DIR``, default
  ``instance/attachments``) under a generated name, so no upload can be
  served as a page or overwrite another;
- its original name is kept only as a sanitised display and download name
  (``clean_file_name``): no path, no control or bidirectional characters,
  nothing a ``Content-Disposition`` header or a file system would misread,
  and the extension of the type its content has.

An attachment belongs to a record by type and id. What a record type needs
is a ``RecordKind`` in ``RECORD_KINDS``: how to find the record's
organization as a user may see it (else 404), and who may attach to it.
``ppa`` came first (issue 11); issue 12 registers the ORS (``obligation``)
and the DV (``disbursement``) the same way (docs/design.md §12 "In the web
app"): whoever may see the obligation or disbursement sees its files, and
its MOA's people with a role in the money chain (``CHAIN_ROLES``), MFBM
budget analysts and administrators attach them. Whoever may see the record
lists and downloads its files (the same 404 otherwise); every upload is one
transaction and one audit row (``db.audit``).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype
from flask import current_app
from sqlalchemy import select

from db import db
from db.models import Attachment, Disbursement, Obligation, User
from services.access import can_edit_ppas_of, has_role, visible_rows
from services.budget import get_or_raise
from services.ppas import get_ppa_or_raise
from services.unit_of_work import transaction
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.text import FORBIDDEN

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class FileType:
    """An accepted kind of file: what a person calls it and its extensions
    (the first is the one a download name gets when it has none of them)."""

    label: str
    extensions: tuple[str, ...]


#: Media type (as ``filetype`` finds it in the content) -> accepted file type.
ACCEPTED: dict[str, FileType] = {
    "application/pdf": FileType("PDF", ("pdf",)),
    "image/png": FileType("PNG image", ("png",)),
    "image/jpeg": FileType("JPEG image", ("jpg", "jpeg")),
    "image/gif": FileType("GIF image", ("gif",)),
    "image/webp": FileType("WebP image", ("webp",)),
    XLSX: FileType("Excel workbook", ("xlsx",)),
    DOCX: FileType("Word document", ("docx",)),
}
ACCEPTED_WORDS = "a PDF, an image (PNG, JPEG, GIF, WebP), an Excel workbook (.xlsx) or a Word document (.docx)"
#: Longest display name kept, in characters (extension included).
MAX_NAME = 150
#: Characters a file system or a header may read as syntax: replaced by ``_``.
_RESERVED = re.compile(r'["*/:<>?\\|;]')


@dataclass(frozen=True)
class RecordKind:
    """How attachments of one record type are checked.

    Attributes:
        noun: what a person calls the record (``PPA``).
        organization_of: ``(user, record id) -> organization id`` of the
            record as ``user`` may see it; raises ``NotFound`` otherwise.
        may_attach: ``(user, organization id) -> bool``: ``user`` may add
            files to the organization's records of this type.
        who_may_attach: the sentence of the refusal, for everyone else.
    """

    noun: str
    organization_of: Callable[[User, int], int | None]
    may_attach: Callable[[User, int | None], bool]
    who_may_attach: str


def _ppa_organization(user: User, ppa_id: int) -> int:
    return get_ppa_or_raise(user, ppa_id).organization_id


#: Who attaches supporting documents to an ORS or a DV (docs/design.md §12):
#: the MOA's people with a role in its money chain (organization-scoped
#: roles count in their own MOA only, ``services.access.has_role``) and MFBM
#: budget analysts; administrators too. Roles the rule set does not declare
#: simply match nobody.
CHAIN_ROLES = ("moa_focal", "budget_officer", "chief_accountant", "accountant", "head_of_agency",
               "disbursing_officer", "budget_analyst")


def _chain_document(model: type, noun: str) -> RecordKind:
    """The ``RecordKind`` of a document of the money chain (``Obligation``
    as ``ORS``, ``Disbursement`` as ``DV``): seen by whoever may see the row
    (``services.budget.get_or_raise``, 404 otherwise), attached to by
    ``CHAIN_ROLES`` of its MOA."""
    return RecordKind(noun, lambda user, row_id: get_or_raise(user, model, row_id).organization_id,
                      lambda user, organization_id: has_role(user, CHAIN_ROLES, organization_id),
                      f"only the MOA's officers of the money chain (focal persons, budget officers, accountants), "
                      f"MFBM budget analysts and administrators attach documents to its {noun}s")


#: Record type -> how its attachments are checked.
RECORD_KINDS: dict[str, RecordKind] = {
    "ppa": RecordKind("PPA", _ppa_organization,
                      lambda user, organization_id: organization_id is not None
                      and can_edit_ppas_of(user, organization_id),
                      "only the MOA's focal persons and administrators attach documents to its PPAs"),
    "obligation": _chain_document(Obligation, "ORS"),
    "disbursement": _chain_document(Disbursement, "DV"),
}


def record_kind_or_raise(record_type: str) -> RecordKind:
    """The ``RecordKind`` of ``record_type``.

    Raises:
        NotFound: no such record type takes attachments.
    """
    kind = RECORD_KINDS.get(record_type)
    if kind is None:
        raise NotFound(f"{record_type} records take no attachments")
    return kind


def max_bytes() -> int:
    """The largest file accepted, in bytes (``ATTACHMENT_MAX_BYTES``)."""
    return current_app.config["ATTACHMENT_MAX_BYTES"]


def storage_dir() -> Path:
    """Where the files are kept: ``ATTACHMENTS_DIR``, else
    ``instance/attachments`` (created, private to the server's user)."""
    path = Path(current_app.config.get("ATTACHMENTS_DIR") or Path(current_app.instance_path) / "attachments")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def detect_type(content: bytes) -> str | None:
    """The media type ``content`` is, by its first bytes (``filetype``), or
    ``None`` when it is no type ``filetype`` knows."""
    found = filetype.guess(content[:8192])
    return found.mime if found is not None else None


def describe_type(media_type: str | None) -> str:
    """How a refusal names a detected type: ``a Windows program (exe)``."""
    if media_type is None:
        return "not a type of document ppaflow recognises"
    kind = filetype.get_type(mime=media_type)
    known = {"application/x-msdownload": "a Windows program", "application/x-executable": "a program",
             "application/zip": "a ZIP archive"}
    name = known.get(media_type, media_type)
    return f"{name} ({kind.extension})" if kind is not None else name


def clean_file_name(raw: str | None, media_type: str) -> str:
    """The original file name as ppaflow shows and sends it.

    The last path segment only (``C:\\Users\\x\\a.pdf`` -> ``a.pdf``), in
    NFC; without the characters ``workflow.text`` refuses (controls,
    bidirectional overrides, non-characters) or format characters (U+200B,
    ...); with ``" * / : < > ? \\ | ;`` replaced by ``_``; whitespace
    (line breaks too) collapsed; no leading or trailing dots or spaces; at most ``MAX_NAME``
    characters; ending in an extension of the type its content has (one is
    added when the name claims another: ``scan.pdf`` holding a PNG is
    ``scan.pdf.png``). An empty name becomes ``document``.

    Args:
        raw: the name the client sent.
        media_type: the detected type (a key of ``ACCEPTED``).
    """
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in FORBIDDEN.sub("", name) if unicodedata.category(c) != "Cf")
    name = " ".join(_RESERVED.sub("_", name).split())
    extensions = ACCEPTED[media_type].extensions
    stem, dot, extension = name.rpartition(".")
    if not dot or extension.lower() not in extensions:
        stem, extension = name, extensions[0]
    stem = stem[:MAX_NAME - len(extension) - 1].strip(" .") or "document"
    return f"{stem}.{extension.lower()}"


def add_attachment(user: User, record_type: str, record_id: int, stream: IO[bytes],
                   file_name: str | None) -> Attachment:
    """Attach a file to a record: check it, store it, record it (audited).

    Args:
        user: the uploader.
        record_type, record_id: the record (``ppa``, 12).
        stream: the file's content (read up to one byte past the limit).
        file_name: the name the client gave it (sanitised here).

    Returns:
        The new ``Attachment`` (committed; its file written).

    Raises:
        NotFound: the record does not exist or ``user`` may not see it.
        Forbidden: ``user`` may not attach files to it.
        ValidationFailed: ``file``: empty, larger than ``ATTACHMENT_MAX_BYTES``,
            or of a type not accepted, by its content.
    """
    kind = record_kind_or_raise(record_type)
    organization_id = kind.organization_of(user, record_id)
    if not kind.may_attach(user, organization_id):
        raise Forbidden(kind.who_may_attach)
    limit = max_bytes()
    content = stream.read(limit + 1)
    if not content:
        raise ValidationFailed({"file": ["the file is empty; choose the document to attach"]})
    if len(content) > limit:
        raise ValidationFailed({"file": [(f"the file is larger than {limit:,} bytes ({megabytes(limit)}), "
                                          "the most ppaflow accepts")]})
    media_type = detect_type(content)
    if media_type not in ACCEPTED:
        raise ValidationFailed({"file": [(f"the file's content is {describe_type(media_type)}, whatever its name "
                                          f"says; attach {ACCEPTED_WORDS}")]})
    storage_name = uuid.uuid4().hex
    path = storage_dir() / storage_name
    write_file(path, content)
    try:
        with transaction() as session:
            attachment = Attachment(
                record_type=record_type, record_id=record_id, organization_id=organization_id,
                file_name=clean_file_name(file_name, media_type), media_type=media_type, size=len(content),
                sha256=hashlib.sha256(content).hexdigest(), storage_name=storage_name, uploaded_by_id=user.id)
            session.add(attachment)
    except BaseException:
        path.unlink(missing_ok=True)  # nothing refers to it
        raise
    return attachment


def write_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` whole or not at all (a temporary name,
    then a rename), readable by the server's user only."""
    partial = path.with_name(path.name + ".part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(content)
    os.replace(partial, path)


def list_attachments(user: User, record_type: str, record_id: int) -> list[Attachment]:
    """The files of a record, oldest first.

    Raises:
        NotFound: the record does not exist or ``user`` may not see it.
    """
    record_kind_or_raise(record_type).organization_of(user, record_id)
    return list(db.session.scalars(select(Attachment).where(
        Attachment.record_type == record_type, Attachment.record_id == record_id).order_by(Attachment.id)))


def attachments_by_record(user: User, record_type: str, record_ids: list[int]) -> dict[int, list[Attachment]]:
    """The files of many records of one type at once (a page listing every
    ORS or DV of a PPA), oldest first: record id -> its attachments; a
    record without files is absent. Only files of organizations ``user``
    may see are read (the page has checked the records themselves)."""
    record_kind_or_raise(record_type)
    found: dict[int, list[Attachment]] = {}
    if record_ids:
        for attachment in db.session.scalars(select(Attachment).where(
                Attachment.record_type == record_type, Attachment.record_id.in_(record_ids),
                visible_rows(user, Attachment.organization_id)).order_by(Attachment.id)):
            found.setdefault(attachment.record_id, []).append(attachment)
    return found


def get_attachment_or_raise(user: User, attachment_id: int) -> Attachment:
    """An attachment of a record ``user`` may see.

    Raises:
        NotFound: no such attachment, or its record is not visible to
            ``user`` (the same answer, so ids cannot be probed).
    """
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(f"attachment {attachment_id} not found")
    try:
        record_kind_or_raise(attachment.record_type).organization_of(user, attachment.record_id)
    except NotFound:
        raise NotFound(f"attachment {attachment_id} not found") from None
    return attachment


def may_attach(user: User, record_type: str, organization_id: int | None) -> bool:
    """True when ``user`` may add files to ``organization_id``'s records of
    ``record_type`` (for a page deciding whether to show the upload form)."""
    return record_kind_or_raise(record_type).may_attach(user, organization_id)


def file_path(attachment: Attachment) -> Path:
    """Where the attachment's content is stored.

    Raises:
        NotFound: the file is missing from storage (restored database
            without its files, say).
    """
    path = storage_dir() / attachment.storage_name
    if not path.is_file():
        raise NotFound(f"the file of attachment {attachment.id} is missing from storage")
    return path


def megabytes(size: int) -> str:
    """``10485760`` -> ``10 MB``; ``2411724`` -> ``2.3 MB``; below 1 MB in kB."""
    if size >= 1024 * 1024:
        value = f"{size / (1024 * 1024):.1f}".removesuffix(".0")
        return f"{value} MB"
    return f"{max(1, round(size / 1024))} kB"
