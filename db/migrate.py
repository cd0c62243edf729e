"""Create or upgrade the schema with Alembic (``ppaflow init-db``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic ``Config`` pointing at ppaflow's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade the database behind ``engine`` to ``revision``.

    Works on an empty database (creates everything) and on an older one
    (applies what is missing); running it again changes nothing.

    Returns:
        ``(revision before, revision after)``.
    """
    config = alembic_config()
    with engine.connect() as connection, _sqlite_foreign_keys_off(connection), connection.begin():
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        after = MigrationContext.configure(connection).get_current_revision()
        _check_sqlite_foreign_keys(connection)
    return before, after


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """On SQLite, switch foreign key enforcement off while migrating.

    SQLite alters most tables by rebuilding them (copy, drop, rename);
    with enforcement on, dropping a table that other rows refer to fails.
    The switch only works outside a transaction, so it is flipped before
    the migration's transaction begins and restored after it ends; the
    migrated data is checked with ``PRAGMA foreign_key_check`` instead.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    enforced = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    connection.commit()
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.exec_driver_sql(f"PRAGMA foreign_keys = {'ON' if enforced else 'OFF'}")
        connection.commit()


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    """Raise ``RuntimeError`` (rolling the migration back) if rows of a
    SQLite database refer to rows that do not exist."""
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"migration would leave {len(broken)} dangling foreign keys, e.g. {broken[:3]}")


def head_revision() -> str:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def recreate(url: str) -> None:
    """Drop everything in the ``public`` schema of the PostgreSQL database at
    ``url`` and migrate it afresh. For tests and benchmarks, which own their
    database; never called by the service."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
