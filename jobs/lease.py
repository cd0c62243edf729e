"""Which process fires the in-process schedule: the one holding the lease
(docs/design.md §7).

Without Redis every serving process (the development server, each gunicorn
worker) and ``ppaflow scheduler`` run the schedule of rules/default/schedule.yaml on
APScheduler (``jobs.clock``), and each firing runs only in the process that
holds this lease, so every entry runs exactly once however many processes
share the database:

- PostgreSQL: a session-level advisory lock, held on a connection of the
  lease's own for as long as the process lives. When that process dies its
  session ends, the lock is released, and the next process to fire an entry
  takes it over.
- SQLite file: an exclusive ``flock`` on a file beside the database file
  (every process using a SQLite file runs on its host); released when the
  process ends.
- In-memory SQLite: always held (one process is all there is).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from typing import IO

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = logging.getLogger("ppaflow.jobs")

#: The advisory lock's two keys: ``'ppaf'`` and 1 (the schedule).
ADVISORY_KEYS = (0x70706166, 1)


class ScheduleLease:
    """The right to fire the in-process schedule, for one process.

    Args:
        database_url: the SQLAlchemy URL of the database the processes share.

    ``acquire()`` is safe to call from several scheduler threads at once.
    """

    def __init__(self, database_url: str):
        self.url = make_url(database_url)
        self._mutex = threading.Lock()
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._file: IO | None = None

    @property
    def lock_file(self) -> str | None:
        """The file locked for a SQLite file database (``None`` otherwise)."""
        if self.url.get_backend_name() != "sqlite" or self.url.database in (None, "", ":memory:"):
            return None
        return os.path.abspath(self.url.database) + ".schedule-lock"

    def acquire(self) -> bool:
        """True when this process holds the lease: already, or from now on
        (never blocks; another holder means False)."""
        with self._mutex:
            backend = self.url.get_backend_name()
            if backend == "postgresql":
                return self._holds_advisory_lock() or self._take_advisory_lock()
            if backend == "sqlite":
                return self.lock_file is None or self._file is not None or self._take_file_lock()
            raise RuntimeError(f"no schedule lease for {backend} databases")

    def release(self) -> None:
        """Give the lease up (another process takes it at its next firing)."""
        with self._mutex:
            self._drop_connection()
            if self._file is not None:
                self._file.close()  # closing the file releases its flock
                self._file = None

    # -- PostgreSQL ---------------------------------------------------------------------
    def _take_advisory_lock(self) -> bool:
        self._drop_connection()
        if self._engine is None:
            self._engine = create_engine(self.url, poolclass=NullPool)  # closing a connection ends its session
        connection = self._engine.connect()
        try:
            taken = connection.scalar(text("SELECT pg_try_advisory_lock(:a, :b)"),
                                      dict(zip("ab", ADVISORY_KEYS, strict=True)))
            connection.commit()
        except DBAPIError:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self._connection = connection
        log.info("this process (pid %d) now fires the schedule of rules/default/schedule.yaml", os.getpid())
        return True

    def _holds_advisory_lock(self) -> bool:
        """Whether our session is alive and still holds the lock (a database
        restart ends the session and with it the lock)."""
        if self._connection is None:
            return False
        try:
            held = self._connection.scalar(text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND granted AND classid = CAST(:a AS oid) AND objid = CAST(:b AS oid) AND objsubid = 2)"),
                dict(zip("ab", ADVISORY_KEYS, strict=True)))
            self._connection.commit()
        except DBAPIError as exc:
            log.warning("schedule lease: lost the connection holding it (%s)", exc.__class__.__name__)
            held = False
        if not held:
            self._drop_connection()
        return bool(held)

    def _drop_connection(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.close()
            except DBAPIError:
                pass  # the session is gone already, and its lock with it

    # -- SQLite -------------------------------------------------------------------------
    def _take_file_lock(self) -> bool:
        handle = open(self.lock_file, "a+")  # noqa: SIM115 - kept open while the lease is held
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        log.info("this process (pid %d) now fires the schedule of rules/default/schedule.yaml", os.getpid())
        return True
