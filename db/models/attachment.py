"""Supporting documents attached to records (issue 11; docs/design.md §11).

An attachment belongs to one record by type and id (``record_type`` =
``ppa`` today; issue 12 attaches files to ORS and DV the same way), so one
table, one service and one download serve every kind of record. The file
itself lives outside the web root under a generated name
(``services.attachments``); the row keeps what a person needs to trust it:
the sanitised original name, the type found in its content, its size, its
SHA-256 and who uploaded it when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.people import User
from db.types import UTCDateTime, utcnow


class Attachment(db.Model):
    """One uploaded file of one record.

    Attributes:
        record_type, record_id: the record it supports (``ppa``, 12).
        organization_id: the record's organization, for access and audit.
        file_name: the original name, sanitised for display and download.
        media_type: the type its content was found to be (never the
            browser's word for it).
        size: bytes.
        sha256: hex digest of the content, to check a download against.
        storage_name: the generated name of the stored file (never shown).
    """

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_record", "record_type", "record_id"),
        CheckConstraint("size >= 0", name="size_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped[User] = relationship(lazy="joined")
