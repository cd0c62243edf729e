"""Server-side sessions of the web app (docs/design.md §11).

The browser holds only a random session id (cookie); what the session holds
(the signed-in user, the CSRF secret, a form kept across a sign-in) lives in
this table, so signing out, an idle timeout or an administrator's action ends
a session on the server, whatever the browser keeps.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from db import db
from db.types import UTCDateTime, utcnow


class WebSession(db.Model):
    """One browser session: its id (``session_id``, the cookie's value), its
    serialized data (msgpack, by Flask-Session), the user signed in with it
    (``user_id``, so an administrator can end a user's sessions) and when it
    expires unless used again (``expires_at``: last use + ``SESSION_IDLE_MINUTES``)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
