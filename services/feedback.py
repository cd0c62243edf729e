"""Community feedback on completed PPAs (issue 15 item 3, seed 004 Task 4.2;
docs/design.md §14 "Feedback").

After a PPA that addressed a need is completed, the community rates it
(1-5) with a comment and, optionally, photos; BPDA and the MOAs read a
quarterly report of the ratings per MOA beside the MOA's budget utilisation.

- **Completed** is the PPA's implementation status ``completed``
  (``Ppa.status``, ``workflow.vocabulary.PPA_STATUSES``), the one sync.yaml
  ``work_item_to_ppa`` sets when its WBS root reaches the work-item status
  ``completed`` (docs/design.md §4): not its progress (a rolled-up figure,
  not a state) nor its approval stage.
- **Who**: anyone signed in who may see the need (``services.needs``
  scoping), once per need: the database's ``uq_need_feedback_need_user``
  refuses a second one (409 ``already_rated``). 409 ``not_completed`` while
  no PPA addressing the need is completed.
- **Photos** are attachments of record type ``feedback``
  (``services.attachments``: the same storage outside the web root, the same
  generated names, the same download): JPEG or PNG by their content, up to
  ``feedback.yaml`` ``photo_max_bytes`` and ``max_photos_per_feedback``,
  decoded and re-encoded by Pillow so that no EXIF block (GPS position
  included), no comment and no text chunk of the upload is kept. Only the
  feedback's author adds them, and deletes them.
"""

from __future__ import annotations

import hashlib
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Select, and_, func, select, update

from db import db
from db.models import Attachment, Need, NeedFeedback, Organization, Ppa, User
from services import attachments, privacy
from services.access import visible_ppas
from services.budget import spent
from services.calendar import today
from services.needs import get_need_or_raise, ppas_of
from services.runtime import get_runtime
from services.unit_of_work import after_commit, transaction
from services.workbooks import put, workbook_bytes
from workflow.errors import Conflict, Duplicate, Forbidden, NotFound, ValidationFailed
from workflow.money import ZERO, percent

#: The implementation status of a completed PPA (``Ppa.status``; module docstring).
COMPLETED = "completed"

#: The attachments' record type of a feedback's photos.
RECORD_TYPE = "feedback"

#: The longest comment, in characters (issue 15 item 3).
MAX_COMMENT = 2000

#: Pillow's format name of each accepted media type.
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}


def _rules():
    return get_runtime().rules.feedback


def _feedback_organization(user: User, feedback_id: int) -> int | None:
    """The MOA of a feedback's need, as ``user`` may see it (else 404)."""
    row = db.session.get(NeedFeedback, feedback_id)
    if row is None:
        raise NotFound(f"feedback {feedback_id} not found")
    return get_need_or_raise(user, row.need_id).organization_id


# A feedback's photos are read and downloaded like any supporting document
# (``GET /api/attachments/{id}``, ``/attachments/<id>``) by whoever may see its
# need; they are added only through ``add_photo`` (its checks and re-encoding).
attachments.RECORD_KINDS.setdefault(RECORD_TYPE, attachments.RecordKind(
    "feedback", _feedback_organization, lambda user, organization_id: False,
    "photos are added to a feedback by its author, on the need's page"))


def completed_ppas(need_id: int) -> list[Ppa]:
    """The completed PPAs addressing a need, oldest link first."""
    return [ppa for ppa in ppas_of(need_id) if ppa.status == COMPLETED]


def feedback_open(user: User, need: Need) -> bool:
    """True when ``user`` may leave feedback on ``need`` now: a PPA
    addressing it is completed and ``user`` has left none (for a page
    deciding whether to show the form)."""
    if not completed_ppas(need.id):
        return False
    return db.session.scalar(select(NeedFeedback.id).where(
        NeedFeedback.need_id == need.id, NeedFeedback.user_id == user.id)) is None


def leave_feedback(user: User, need_id: int, *, rating: int, comment: str = "",
                   ppa_id: int | None = None) -> NeedFeedback:
    """Rate the completed PPA that addressed a need (once per user per need).

    Args:
        user: anyone signed in who may see the need.
        need_id: the need.
        rating: a whole number 1-5 (the schema is strict; checked again here).
        comment: up to ``MAX_COMMENT`` characters (may be empty).
        ppa_id: the PPA rated; may be left out when one PPA addresses the need.

    Returns:
        The new ``NeedFeedback`` (committed; ``submitted_on`` today, Asia/Manila).

    Raises:
        NotFound: the need is not visible to ``user``.
        Conflict: 409 ``not_completed`` (no addressing PPA, or the one named,
            is completed), 409 ``already_rated`` (the database's unique
            constraint, whatever the timing).
        ValidationFailed: ``rating`` outside 1-5, ``comment`` too long,
            ``ppa_id`` not addressing the need or missing among several.
    """
    errors: dict[str, list[str]] = {}
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = ["must be a whole number from 1 to 5"]
    if len(comment or "") > MAX_COMMENT:
        errors["comment"] = [f"at most {MAX_COMMENT} characters"]
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction() as session:
            need = get_need_or_raise(user, need_id)
            addressing = ppas_of(need.id)
            if not any(ppa.status == COMPLETED for ppa in addressing):
                raise Conflict(f"no PPA addressing need {need_id} is completed yet: feedback opens when one is",
                               code="not_completed")
            if ppa_id is None:
                if len(addressing) != 1:
                    ids = ", ".join(str(p.id) for p in addressing)
                    raise ValidationFailed({"ppa_id": [
                        f"need {need_id} is addressed by {len(addressing)} PPAs ({ids}): name the one you rate"]})
                ppa = addressing[0]
            else:
                ppa = next((p for p in addressing if p.id == ppa_id), None)
                if ppa is None:
                    raise ValidationFailed({"ppa_id": [f"PPA {ppa_id} does not address need {need_id}"]})
            if ppa.status != COMPLETED:
                raise Conflict(f"PPA {ppa.id} is {ppa.status.replace('_', ' ')}, not completed",
                               code="not_completed")
            row = NeedFeedback(need_id=need.id, ppa_id=ppa.id, user_id=user.id, rating=rating,
                               comment=comment or "", submitted_on=today())
            session.add(row)
            session.flush()
    except Duplicate as exc:
        raise Conflict(f"you have already left feedback on need {need_id}", code="already_rated") from exc
    return row


def list_feedback(user: User, need_id: int) -> Select:
    """A need's feedback, newest first (``NotFound`` when the need is not visible)."""
    need = get_need_or_raise(user, need_id)
    return select(NeedFeedback).where(NeedFeedback.need_id == need.id).order_by(NeedFeedback.id.desc())


def _average(total: int, count: int) -> Decimal | None:
    return (Decimal(total) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if count else None


def summary(user: User, need_id: int) -> dict[str, Any]:
    """A need's feedback in figures: ``{need_id, count, average_rating
    (Decimal to 0.01, half up; None without feedback), distribution {1..5:
    count}}``, in one aggregate statement.

    Raises:
        NotFound: the need is not visible to ``user``.
    """
    need = get_need_or_raise(user, need_id)
    counts = dict(db.session.execute(select(NeedFeedback.rating, func.count()).where(
        NeedFeedback.need_id == need.id).group_by(NeedFeedback.rating)).all())
    count = sum(counts.values())
    return {"need_id": need.id, "count": count,
            "average_rating": _average(sum(r * n for r, n in counts.items()), count),
            "distribution": {str(r): counts.get(r, 0) for r in range(1, 6)}}


def get_feedback_or_raise(user: User, need_id: int, feedback_id: int, *, for_update: bool = False) -> NeedFeedback:
    """A feedback of a need visible to ``user``.

    Raises:
        NotFound: the need is not visible, or the feedback is not its.
    """
    get_need_or_raise(user, need_id)
    query = select(NeedFeedback).where(NeedFeedback.id == feedback_id, NeedFeedback.need_id == need_id)
    if for_update:
        query = query.with_for_update(of=NeedFeedback).execution_options(populate_existing=True)
    row = db.session.scalar(query)
    if row is None:
        raise NotFound(f"feedback {feedback_id} of need {need_id} not found")
    return row


def photos_of(feedback_ids: list[int]) -> dict[int, list[Attachment]]:
    """feedback id -> its photos, oldest first (one statement)."""
    found: dict[int, list[Attachment]] = {}
    if feedback_ids:
        for photo in db.session.scalars(select(Attachment).where(
                Attachment.record_type == RECORD_TYPE, Attachment.record_id.in_(feedback_ids))
                .order_by(Attachment.id)):
            found.setdefault(photo.record_id, []).append(photo)
    return found


def _words(media_types: tuple[str, ...]) -> str:
    return " or ".join(_FORMATS[t] for t in media_types) or "no photo (feedback.yaml accepts none)"


def clean_image(content: bytes, media_type: str) -> bytes:
    """The photo decoded and encoded again in its own format, carrying
    nothing but its pixels: no EXIF (GPS position, camera, time), no XMP,
    comment or text chunk. A JPEG's EXIF orientation is applied to the
    pixels first, so the photo still stands upright.

    Raises:
        ValidationFailed: ``file``: not a readable image of that type, or
            more pixels than Pillow decodes safely (a decompression bomb).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(content), formats=[_FORMATS[media_type]]) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
        if media_type == "image/jpeg" and upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        pixels = Image.new(upright.mode, upright.size)
        if upright.mode == "P":
            pixels.putpalette(upright.getpalette())
        pixels.paste(upright)
        if "transparency" in upright.info and media_type == "image/png":
            pixels.info["transparency"] = upright.info["transparency"]
        out = BytesIO()
        options = {"quality": 90} if media_type == "image/jpeg" else {"optimize": True}
        if "transparency" in pixels.info:
            options["transparency"] = pixels.info["transparency"]
        pixels.save(out, format=_FORMATS[media_type], **options)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise ValidationFailed({"file": [f"the photo cannot be read as a {_FORMATS[media_type]} image ({exc})"]}) \
            from None
    return out.getvalue()


def read_photo(stream: IO[bytes]) -> tuple[bytes, str]:
    """Read an uploaded photo and check it against ``feedback.yaml``: not
    empty, at most ``photo_max_bytes``, JPEG or PNG by its content
    (``photo_types``); returns ``(clean_image(...), media type)``. Writes
    nothing (a page checks the photo before saving the feedback with it).

    Raises:
        ValidationFailed: ``file``, saying which of these it fails.
    """
    rules = _rules()
    limit = rules.photo_max_bytes
    content = stream.read(limit + 1)
    if not content:
        raise ValidationFailed({"file": ["the file is empty; choose the photo to add"]})
    if len(content) > limit:
        raise ValidationFailed({"file": [(f"the photo is larger than {limit:,} bytes "
                                          f"({attachments.megabytes(limit)}), the most feedback.yaml accepts")]})
    media_type = attachments.detect_type(content)
    if media_type not in rules.media_types:
        raise ValidationFailed({"file": [(f"the file's content is {attachments.describe_type(media_type)}, "
                                          f"whatever its name says; add a {_words(rules.media_types)} photo")]})
    return clean_image(content, media_type), media_type


def add_photo(user: User, need_id: int, feedback_id: int, stream: IO[bytes], file_name: str | None) -> Attachment:
    """Add a photo to one's feedback: checked by its content, re-encoded
    without EXIF (``clean_image``), stored with the attachments
    (``services.attachments.storage_dir``, a generated name), recorded.

    Args:
        user: the feedback's author.
        need_id, feedback_id: the feedback.
        stream: the upload (read up to one byte past ``photo_max_bytes``).
        file_name: the client's name for it (sanitised for display).

    Returns:
        The photo's ``Attachment`` (``record_type`` ``feedback``).

    Raises:
        NotFound; Forbidden (not the author); ValidationFailed ``file``:
        empty, larger than ``photo_max_bytes``, not JPEG/PNG by its content
        (``feedback.yaml`` ``photo_types``), unreadable, or the feedback
        already has ``max_photos_per_feedback`` photos.
    """
    row = get_feedback_or_raise(user, need_id, feedback_id)
    if row.user_id != user.id:
        raise Forbidden("only who left the feedback adds photos to it")
    return store_photo(user, RECORD_TYPE, row.id, db.session.get(Need, need_id).organization_id, stream, file_name,
                       limit=_rules().max_photos_per_feedback, holder="a feedback",
                       lock=lambda: get_feedback_or_raise(user, need_id, feedback_id, for_update=True))


def store_photo(user: User, record_type: str, record_id: int, organization_id: int | None, stream: IO[bytes],
                file_name: str | None, *, limit: int, holder: str, lock: Callable[[], Any]) -> Attachment:
    """Check a photo (``read_photo``: JPEG or PNG by its content, within
    feedback.yaml's size), store it re-encoded without EXIF under a
    generated name, and record it as an ``Attachment`` of ``record_type``
    ``record_id``, in one transaction that first calls ``lock()`` (re-reads
    the record for update) and refuses a photo beyond ``limit``. The file
    is removed again if the transaction fails.

    Raises:
        ValidationFailed ``file``: the photo refused, or ``holder`` (e.g.
            "a feedback") already carries ``limit`` photos.
    """
    clean, media_type = read_photo(stream)
    storage_name = uuid.uuid4().hex
    path = attachments.storage_dir() / storage_name
    attachments.write_file(path, clean)
    try:
        with transaction() as session:
            lock()
            held = session.scalar(select(func.count()).select_from(Attachment).where(
                Attachment.record_type == record_type, Attachment.record_id == record_id))
            if held >= limit:
                raise ValidationFailed({"file": [f"{holder} carries at most {limit} photos; delete one first"]})
            photo = Attachment(
                record_type=record_type, record_id=record_id, organization_id=organization_id,
                file_name=attachments.clean_file_name(file_name, media_type), media_type=media_type,
                size=len(clean), sha256=hashlib.sha256(clean).hexdigest(), storage_name=storage_name,
                uploaded_by_id=user.id)
            session.add(photo)
    except BaseException:
        path.unlink(missing_ok=True)  # nothing refers to it
        raise
    return photo


def get_photo_or_raise(user: User, need_id: int, feedback_id: int, photo_id: int) -> Attachment:
    """A photo of a feedback of a need visible to ``user``.

    Raises:
        NotFound: otherwise (the same answer whatever is missing).
    """
    row = get_feedback_or_raise(user, need_id, feedback_id)
    photo = db.session.get(Attachment, photo_id)
    if photo is None or photo.record_type != RECORD_TYPE or photo.record_id != row.id:
        raise NotFound(f"photo {photo_id} of feedback {feedback_id} not found")
    return photo


def delete_photo(user: User, need_id: int, feedback_id: int, photo_id: int) -> None:
    """Delete a photo of one's feedback (its author only),
    its stored file with it once the deletion is committed.

    Raises:
        NotFound; Forbidden: someone else's photo.
    """
    with transaction() as session:
        photo = get_photo_or_raise(user, need_id, feedback_id, photo_id)
        if photo.uploaded_by_id != user.id:
            raise Forbidden("only who added the photo deletes it")
        storage_name = photo.storage_name
        session.delete(photo)
    (attachments.storage_dir() / storage_name).unlink(missing_ok=True)


# -- the quarterly report ------------------------------------------------------------------


@dataclass(frozen=True)
class MoaFeedback:
    """One MOA's row of the quarterly feedback report.

    Attributes:
        moa, moa_name: the MOA's code and name.
        count: feedback on its PPAs submitted in the quarter.
        average_rating: their mean, 0.01 half up (``None`` without any).
        distribution: rating ("1".."5") -> how many.
        budget: PHP, the budget allocation of its enacted PPAs of the year.
        disbursed: PHP, their active DVs (``services.budget.spent``).
        utilisation: disbursed / budget as a percent, 2 decimals half up
            (``None`` when the budget is zero).
    """

    moa: str
    moa_name: str
    count: int
    average_rating: Decimal | None
    distribution: dict[str, int]
    budget: Decimal
    disbursed: Decimal
    utilisation: Decimal | None


def quarter_days(fiscal_year: int, quarter: int) -> tuple[date, date]:
    """The first and last day of a quarter of a fiscal year (the calendar year)."""
    first = date(fiscal_year, 3 * quarter - 2, 1)
    last = date(fiscal_year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, date.fromordinal(last.toordinal() - 1)


def quarterly_report(user: User, fiscal_year: int, quarter: int) -> list[MoaFeedback]:
    """The quarterly feedback report (issue 15 item 3): per MOA, the
    feedback submitted in the quarter on its PPAs (count, average rating,
    distribution 1-5), and beside it the budget utilisation of its enacted
    PPAs of the fiscal year (budget.yaml ``report_remarks.enacted_stages``):
    active disbursements over budget allocations, the disbursed figure being
    the money chain's (``services.budget.spent``, as the public PPA page
    shows it). Only PPAs ``user`` may see count (a MOA's focal person gets
    their MOA's row). MOAs with neither feedback nor enacted PPAs are left
    out; rows by MOA code. Three aggregate statements plus ``spent``'s three.

    Raises:
        ValidationFailed: ``quarter`` outside 1-4.
    """
    if not 1 <= quarter <= 4:
        raise ValidationFailed({"quarter": ["must be 1, 2, 3 or 4"]})
    first, last = quarter_days(fiscal_year, quarter)
    ratings: dict[int, dict[int, int]] = {}
    for organization_id, rating, count in db.session.execute(
            select(Ppa.organization_id, NeedFeedback.rating, func.count())
            .join(Ppa, Ppa.id == NeedFeedback.ppa_id)
            .where(visible_ppas(user), NeedFeedback.submitted_on.between(first, last))
            .group_by(Ppa.organization_id, NeedFeedback.rating)):
        ratings.setdefault(organization_id, {})[rating] = count
    enacted = get_runtime().rules.budget.remarks.enacted_stages
    ppas = list(db.session.execute(select(Ppa.id, Ppa.organization_id, Ppa.budget_allocation).where(
        visible_ppas(user), and_(Ppa.fiscal_year == fiscal_year, Ppa.approval_status.in_(enacted)))))
    money = spent(ppa_id for ppa_id, _, _ in ppas)
    budgets: dict[int, list[Decimal]] = {}
    for ppa_id, organization_id, budget in ppas:
        sums = budgets.setdefault(organization_id, [ZERO, ZERO])
        sums[0] += budget
        sums[1] += money.get(ppa_id, (ZERO, ZERO))[1]
    ids = set(ratings) | set(budgets)
    organizations = {o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_(ids)))} \
        if ids else {}
    rows = []
    for organization_id in ids:
        counts = ratings.get(organization_id, {})
        count = sum(counts.values())
        budget, disbursed = budgets.get(organization_id, [ZERO, ZERO])
        organization = organizations[organization_id]
        rows.append(MoaFeedback(
            moa=organization.code, moa_name=organization.name, count=count,
            average_rating=_average(sum(r * n for r, n in counts.items()), count),
            distribution={str(r): counts.get(r, 0) for r in range(1, 6)}, budget=budget, disbursed=disbursed,
            utilisation=percent(disbursed, budget)))
    return sorted(rows, key=lambda row: row.moa)


#: (header, width) of the feedback report's columns.
REPORT_COLUMNS = (("MOA", 14), ("MOA name", 40), ("Feedback", 10), ("Average rating", 10), ("Rated 1", 8),
                  ("Rated 2", 8), ("Rated 3", 8), ("Rated 4", 8), ("Rated 5", 8), ("Budget (PHP)", 20),
                  ("Disbursed (PHP)", 20), ("Budget utilisation %", 12))


def report_workbook(rows: list[MoaFeedback], fiscal_year: int, quarter: int) -> bytes:
    """The quarterly feedback report as an .xlsx file (bytes): a title, one
    row per MOA in ``quarterly_report``'s order; amounts and averages as
    exact numbers with their formats, every text an inert string cell
    (``services.workbooks.put``)."""
    workbook = Workbook()
    ws = workbook.active
    ws.title = f"Feedback FY{fiscal_year} Q{quarter}"
    put(ws, 1, 1, f"Community feedback on completed PPAs, FY {fiscal_year} Q{quarter}").font = Font(bold=True)
    for column, (header, width) in enumerate(REPORT_COLUMNS, start=1):
        put(ws, 3, column, header).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=3, column=column).column_letter].width = width
    for row_number, row in enumerate(rows, start=4):
        values = [row.moa, row.moa_name, row.count, row.average_rating,
                  *(row.distribution[str(r)] for r in range(1, 6)), row.budget, row.disbursed, row.utilisation]
        for column, value in enumerate(values, start=1):
            cell = put(ws, row_number, column, value)
            if column in (10, 11):
                cell.number_format = "#,##0.00"
            elif column in (4, 12):
                cell.number_format = "0.00"
    ws.freeze_panes = "A4"
    return workbook_bytes(workbook)


# -- privacy (docs/design.md §14, "Consent, retention and erasure") --------------------------


@privacy.eraser
def erase_feedback(session, user_id: int, dry_run: bool) -> dict[str, int]:
    """A person's feedback loses who left it and its comment (its rating
    stays, so the averages do), and their photos are deleted with their
    files once the erasure commits."""
    return _detach(session, NeedFeedback.user_id == user_id, Attachment.uploaded_by_id == user_id, dry_run)


@privacy.purger
def purge_feedback(session, cutoff, dry_run: bool) -> dict[str, int]:
    """Feedback left before the retention cutoff loses its author and
    comment, and photos added before it are deleted (needs.yaml
    ``privacy.retention_years``)."""
    return _detach(session, NeedFeedback.user_id.is_not(None) & (NeedFeedback.submitted_on < cutoff.day),
                   Attachment.created_at < cutoff.moment, dry_run)


def _detach(session, mine, their_photos, dry_run: bool) -> dict[str, int]:
    """Detach the feedback ``mine`` selects and delete the photos
    ``their_photos`` selects (files after the commit); counts only in a dry run."""
    photos = list(session.scalars(select(Attachment).where(Attachment.record_type == RECORD_TYPE, their_photos)))
    if dry_run:
        return {"feedback": session.scalar(select(func.count()).select_from(NeedFeedback).where(mine)) or 0,
                "photos": len(photos)}
    names = [photo.storage_name for photo in photos]
    for photo in photos:
        session.delete(photo)
    detached = session.execute(update(NeedFeedback).where(mine).values(user_id=None, comment="")
                               .execution_options(synchronize_session=False)).rowcount

    def _unlink() -> None:
        for name in names:
            (attachments.storage_dir() / name).unlink(missing_ok=True)

    after_commit(_unlink)  # never if the erasure or purge rolls back

    return {"feedback": detached, "photos": len(photos)}
