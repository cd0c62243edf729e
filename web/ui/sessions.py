"""Server-side sessions for the web app, kept in the ``web_sessions`` table
(docs/design.md §11).

Flask-Session does the session handling (random ids, the cookie and its
flags, msgpack serialization, ``regenerate`` after sign-in); this module only
stores the rows, through its own short transactions so that a page's
database work and its session never commit or roll back together.

The idle timeout is the row's ``expires_at``: each request that uses the
session moves it to now + ``SESSION_IDLE_MINUTES``. To spare a write per
page view, an unchanged session is written again only once a minute has
passed since its last write; the timeout is therefore exact to that minute.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, Request
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from db import db
from db.models import WebSession
from db.types import utcnow

#: An unchanged session is written again (its expiry moved) at most this often.
REFRESH_EVERY = timedelta(minutes=1)


class StoredSession(ServerSideSession):
    """A session read from ``web_sessions``; ``stored_expiry`` is the expiry
    it had when read (``None`` for a new one)."""

    stored_expiry: datetime | None = None


class DatabaseSessionInterface(ServerSideSessionInterface):
    """Flask-Session's server-side interface on ppaflow's ``web_sessions``
    table (created by migration 0008, never at start-up)."""

    session_class = StoredSession
    ttl = False  # SQL has no TTL: expired rows are deleted by ``delete_expired``

    def __init__(self, app: Flask):
        super().__init__(app, key_prefix="", use_signer=False, permanent=True, sid_length=32,
                         serialization_format="msgpack", cleanup_n_requests=None)

    def open_session(self, app: Flask, request: Request) -> StoredSession:
        """The request's session; static files never need one (no database read)."""
        if request.path.startswith(app.static_url_path + "/"):
            return self.session_class(sid=self._generate_sid(self.sid_length), permanent=True)
        session = super().open_session(app, request)
        expiry = dict.pop(session, "_stored_expiry", None)  # dict.pop: not a change of the session
        session.stored_expiry = datetime.fromisoformat(expiry) if expiry else None
        return session

    def should_set_storage(self, app: Flask, session: StoredSession) -> bool:
        """Write when the data changed, or to move the expiry when the last
        write is older than ``REFRESH_EVERY``."""
        if session.modified or session.stored_expiry is None:
            return True
        return session.stored_expiry - app.permanent_session_lifetime + REFRESH_EVERY <= utcnow()

    def _register_cleanup_app_command(self) -> None:
        """Expired rows are deleted at each sign-in (``delete_expired``), not by a Flask command."""

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        with db.engine.connect() as connection:
            row = connection.execute(select(WebSession.data, WebSession.expires_at).where(
                WebSession.session_id == store_id, WebSession.expires_at > utcnow())).first()
        if row is None:
            return None
        data = self.serializer.decode(row.data)
        data["_stored_expiry"] = row.expires_at.isoformat()
        return data

    def _upsert_session(self, session_lifetime: timedelta, session: StoredSession, store_id: str) -> None:
        values = {"session_id": store_id, "data": self.serializer.encode(session),
                  "user_id": _int_or_none(session.get("_user_id")), "expires_at": utcnow() + session_lifetime,
                  "created_at": utcnow()}
        with db.engine.begin() as connection:
            insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
            statement = insert(WebSession).values(values)
            connection.execute(statement.on_conflict_do_update(
                index_elements=["session_id"],
                set_={"data": statement.excluded.data, "user_id": statement.excluded.user_id,
                      "expires_at": statement.excluded.expires_at}))

    def _delete_session(self, store_id: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(WebSession).where(WebSession.session_id == store_id))

    def _delete_expired_sessions(self) -> None:
        delete_expired()


def delete_expired() -> int:
    """Delete the sessions whose idle time is over. Returns how many."""
    with db.engine.begin() as connection:
        return connection.execute(delete(WebSession).where(WebSession.expires_at <= utcnow())).rowcount


def end_sessions_of(user_id: int) -> int:
    """Sign ``user_id`` out everywhere: delete every session of theirs (after
    a password reset or deactivation). Returns how many ended."""
    with db.engine.begin() as connection:
        return connection.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
