"""The database a migration test starts from: empty, or already migrated to
the revision before the migration under test, per backend.

A migration test upgrades an empty database to the revision before its
migration, writes rows in that old schema, then runs the migration. On
SQLite the first part is the slow one (tables are rebuilt, migration after
migration), and it is the same for every test that starts at one revision:
here it runs once per run and revision, into a template file that each
test gets a copy of, so the test's own ``upgrade(engine, revision)`` finds
nothing to do. A template is built from the nearest lower one, so the
templates of a run cost one upgrade in all. PostgreSQL gets an empty schema
of its own (``empty_schema``, which test_migration_0007 uses too), and the test
migrates it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from db import db
from db.migrate import upgrade
from db.urls import normalize_database_url
from tests.conftest import BACKENDS, PG_URL
from web import create_app

#: revision -> a SQLite file migrated to it (built once per run).
_TEMPLATES: dict[str, Path] = {}


def _template(revision: str, directory: Path) -> Path:
    """A SQLite file migrated to ``revision`` ("0017"), built once per run
    from the nearest lower template (or from nothing)."""
    if revision not in _TEMPLATES:
        path = directory / f"migrated-{revision}.sqlite3"
        if lower := max((r for r in _TEMPLATES if r < revision), default=None):
            shutil.copy(_TEMPLATES[lower], path)
        app = create_app({"DATABASE_URL": f"sqlite:///{path}", "REDIS_URL": None})
        with app.app_context():
            upgrade(db.engine, revision)
            db.engine.dispose()
        _TEMPLATES[revision] = path
    return _TEMPLATES[revision]


def engine_at(revision: str) -> Callable:
    """A fixture ``engine`` (bind it to that name in the test module) for a
    test that starts at ``revision`` (four digits, "0017"): once per backend,
    an engine like the application's (SQLite: foreign keys enforced on every
    connection) on a database that is, on SQLite, a copy of one migrated to
    ``revision``, and on PostgreSQL an empty schema, dropped afterwards."""
    assert len(revision) == 4 and revision.isdigit(), revision

    @pytest.fixture(params=BACKENDS)
    def engine(request, tmp_path, tmp_path_factory) -> Iterator:
        if request.param == "sqlite":
            path = tmp_path / "old.sqlite3"
            shutil.copy(_template(revision, tmp_path_factory.getbasetemp()), path)
            app = create_app({"DATABASE_URL": f"sqlite:///{path}", "REDIS_URL": None})
            with app.app_context():
                yield db.engine
                db.engine.dispose()
            return
        with empty_schema() as engine:
            yield engine

    return engine


@contextmanager
def empty_schema() -> Iterator:
    """An engine on a new, empty PostgreSQL schema of its own (``PG_URL``),
    dropped with everything in it afterwards."""
    schema = f"ppaflow_test_migration_{uuid.uuid4().hex[:8]}"
    url = normalize_database_url(PG_URL)
    admin = create_engine(url, poolclass=NullPool)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
