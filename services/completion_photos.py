"""Completion photos of a PPA, for its public page (docs/design.md §16,
"The public PPA page"; issue 15 item 5).

The PPA's MOA (its focal persons, or an administrator) adds photos of the
finished work to an enacted PPA; anyone reads them on ``/public/ppas/<id>``
while goals.yaml lists ``photos`` among the public fields. A photo is
checked and cleaned as feedback photos are (``services.feedback.store_photo``:
JPEG or PNG by its content, within feedback.yaml's size, re-encoded without
EXIF, so no GPS position), and stored with the attachments.
"""

from __future__ import annotations

from typing import IO

from db import db
from db.models import Attachment, User
from services import attachments
from services.access import can_edit_ppas_of
from services.feedback import store_photo
from services.goals import COMPLETION_PHOTOS, get_public_ppa
from services.ppas import get_ppa_or_raise
from services.unit_of_work import transaction
from workflow.errors import Forbidden

#: The most completion photos one PPA shows.
MAX_PHOTOS = 12


def _editable_public_ppa(user: User, ppa_id: int):
    ppa = get_ppa_or_raise(user, ppa_id)
    if not can_edit_ppas_of(user, ppa.organization_id):
        raise Forbidden("only the MOA's focal persons and administrators add or remove a PPA's completion photos")
    return get_public_ppa(ppa.id)  # 404 unless enacted: only a public PPA shows photos


def add_completion_photo(user: User, ppa_id: int, stream: IO[bytes], file_name: str | None) -> Attachment:
    """Add a photo of the finished work to an enacted PPA.

    Returns:
        The photo (an ``Attachment`` of ``record_type`` ``completion``).

    Raises:
        NotFound: the PPA is not visible to ``user``, or not public (enacted);
        Forbidden: not its MOA's focal person or an administrator;
        ValidationFailed ``file``: not a JPEG or PNG, too large, or the
            PPA already shows ``MAX_PHOTOS``.
    """
    ppa = _editable_public_ppa(user, ppa_id)
    return store_photo(user, COMPLETION_PHOTOS, ppa.id, ppa.organization_id, stream, file_name,
                       limit=MAX_PHOTOS, holder="a PPA", lock=lambda: get_ppa_or_raise(user, ppa_id, for_update=True))


def delete_completion_photo(user: User, ppa_id: int, photo_id: int) -> None:
    """Remove a completion photo (its file once the deletion is committed).
    Idempotent: a photo already gone (or never the PPA's) changes nothing.

    Raises:
        NotFound, Forbidden: as ``add_completion_photo`` (checked first).
    """
    with transaction() as session:
        ppa = _editable_public_ppa(user, ppa_id)
        photo = db.session.get(Attachment, photo_id)
        if photo is None or photo.record_type != COMPLETION_PHOTOS or photo.record_id != ppa.id:
            return
        storage_name = photo.storage_name
        session.delete(photo)
    (attachments.storage_dir() / storage_name).unlink(missing_ok=True)
