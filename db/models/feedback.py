"""Community feedback on a completed PPA that addressed a need
(docs/design.md §14 "Feedback"; issue 15 item 3).

One row per user per need (``uq_need_feedback_need_user``): the database
keeps the rule, however close in time two submissions are. Its photos are
attachments (``attachments``, ``record_type`` ``feedback``), stored and
served as every other supporting file (``services.attachments``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.people import User
from db.models.ppa import Ppa
from db.types import UTCDateTime, utcnow


class NeedFeedback(db.Model):
    """A community's rating (1-5) and comment on a completed PPA that
    addressed a need: who left it, on which need and PPA, and the day
    (``submitted_on``, Asia/Manila, the quarter of the feedback report)."""

    __tablename__ = "need_feedback"
    __table_args__ = (
        UniqueConstraint("need_id", "user_id", name="uq_need_feedback_need_user"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))
    ppa_id: Mapped[int] = mapped_column(ForeignKey("ppas.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # None: erased (privacy)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(lazy="joined")
    ppa: Mapped[Ppa] = relationship(lazy="joined")
