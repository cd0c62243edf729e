"""Create or upgrade the schema with Alembic (``ppaflow init-db``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

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


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database behind ``engine`` back down to ``revision`` (for
    tests of a migration and for an operator undoing one), with the same
    care as ``upgrade``: SQLite's foreign keys off while tables are rebuilt,
    and checked afterwards."""
    config = alembic_config()
    with engine.connect() as connection, _sqlite_foreign_keys_off(connection), connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        _check_sqlite_foreign_keys(connection)


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


#: Tables the application may only read and append to: the audit log, the
#: PPA approval history, the history of every other workflow
#: (docs/design.md §3, §6, issue 10), and the corrections of posted
#: allotments and obligations (§12 "Posted rows never change", issue 12), and
#: the deliveries accepted against obligations (§12, "Money spent and
#: payables"), and the signatures and snapshots of closed periods (§12,
#: "Closing a period"), the opening balances a year end carries (§12,
#: "Year end"), and the appropriation adjustments and sub-allotments
#: (§12, "Adjustments and transfers"). Triggers refuse UPDATE and
#: DELETE of their rows; the missing privileges also stop TRUNCATE, which no
#: row trigger sees, and a role that does not own them cannot drop the triggers.
APPEND_ONLY_TABLES = ("audit_log", "ppa_transitions", "workflow_transitions", "allotment_adjustments",
                      "obligation_adjustments", "obligation_deliveries", "period_closure_signatures",
                      "period_snapshot_lines", "opening_balances", "appropriation_adjustments",
                      "sub_allotments")


def init_database(app_engine: Engine, owner_url: str, app_url: str) -> tuple[str | None, str, str | None]:
    """``ppaflow init-db``: migrate as the owner, then grant the role the
    application runs as its privileges (when that is another PostgreSQL role).

    Args:
        app_engine: the application's engine (``app_url``), used for the
            migration when the owner and the application are the same.
        owner_url: ``DATABASE_OWNER_URL``; app_url: ``DATABASE_URL``.

    Returns:
        ``(revision before, revision after, role granted or None)``.
    """
    owner = app_engine if owner_url == app_url else create_engine(owner_url, poolclass=NullPool)
    try:
        before, after = upgrade(owner)
        role = app_role(owner_url, app_url)
        if role is not None:
            grant_app_privileges(owner, role)
    finally:
        if owner is not app_engine:
            owner.dispose()
    return before, after, role


def app_role(owner_url: str, app_url: str) -> str | None:
    """The PostgreSQL role the application runs as (the user of
    ``DATABASE_URL``), when it is not the owner that migrates
    (``DATABASE_OWNER_URL``); ``None`` when there is no such split."""
    owner, app = make_url(owner_url), make_url(app_url)
    if app.get_backend_name() != "postgresql" or not app.username or app.username == owner.username:
        return None
    return app.username


def grant_app_privileges(engine: Engine, role: str) -> None:
    """Give ``role`` what the application needs on every table of the
    schema, and no more: SELECT, INSERT, UPDATE and DELETE, but only SELECT
    and INSERT on ``APPEND_ONLY_TABLES`` and only SELECT on Alembic's
    version table; no TRUNCATE, REFERENCES or TRIGGER anywhere; the sequences
    the ids come from. Run as the owner after every migration (``ppaflow
    init-db``), so tables added by later migrations are covered too. The
    README's Production section shows the same statements.
    """
    with engine.begin() as connection:
        for statement in app_privileges(connection.dialect.identifier_preparer.quote(role)):
            connection.exec_driver_sql(statement)


def app_privileges(role: str) -> list[str]:
    """The GRANT and REVOKE statements of ``grant_app_privileges`` for the
    (quoted) ``role``."""
    append_only = ", ".join(APPEND_ONLY_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role}",
        f"REVOKE UPDATE, DELETE ON {append_only} FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]
