"""Calendar feeds: a user's own feed and their MOA's, each reached by its
own revocable secret (docs/design.md §15, "Calendar feeds"; issue 16 item 5).

No secret is stored: the feed's URL carries ``<id>.<signature>``, the
signature an HMAC of the id and ``generation`` under the app's
``SECRET_KEY`` (``services.calendar_feeds``). Rotating a feed bumps its
generation, so every URL handed out before stops answering.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import db
from db.models.people import Organization, User
from db.types import UTCDateTime, utcnow

#: What a feed shows: the user's own dates, or every date of their MOA's PPAs.
FEED_SCOPES = ("mine", "moa")


class CalendarFeed(db.Model):
    """One calendar feed of a user: ``scope`` ``mine`` (the approval steps
    waiting for them and the work items of the PPAs they prepared) or
    ``moa`` (``organization_id``'s PPAs: their work items and approval
    due dates). ``generation`` counts rotations."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        CheckConstraint("scope IN ('mine', 'moa')", name="scope_known"),
        CheckConstraint("(scope = 'moa') = (organization_id IS NOT NULL)", name="moa_feed_names_its_moa"),
        CheckConstraint("generation >= 1", name="generation_positive"),
        Index("uq_calendar_feeds_user_scope", "user_id", "scope", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(10))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    generation: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
    organization: Mapped[Organization | None] = relationship(lazy="joined")
