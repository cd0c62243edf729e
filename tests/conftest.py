"""Test fixtures: a database test runs on SQLite and on PostgreSQL (but see ``one_backend``).

PostgreSQL is used when ``TEST_DATABASE_URL`` answers, Redis when
``TEST_REDIS_URL`` answers. Under ``CI=true`` an unreachable PostgreSQL or
Redis is a failure, not a skip (docs/design.md §9). Each test gets a clean database:
SQLite copies a migrated template file, PostgreSQL truncates every table;
the Redis database is flushed before and after each test. What many tests
build alike (the ``chain`` fixture) is built once per backend and copied into
each clean database (``tests.support.built_once``); a module whose tests only
read, or whose writes are rolled back (``tests.support.rolled_back``), may
share one world (tests/api/test_access_matrix.py). A test or module marked
``one_backend`` runs on ``ONE_BACKEND`` only, unless marked
``both_backends`` (``pytest_generate_tests``). Every application a test
builds parses the rule set once per session (``_load_rules_once``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

import web.app
from db import db
from db.migrate import recreate, upgrade
from db.urls import normalize_database_url
from rules import DEFAULT_RULES_DIR
from rules.loader import read_rule_files
from web import create_app

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("TEST_DATABASE_URL")


def _postgres_status() -> str | None:
    """``None`` when PostgreSQL answers, else why not."""
    if not PG_URL:
        return "TEST_DATABASE_URL is not set"
    try:
        engine = create_engine(normalize_database_url(PG_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: not reachable
        return f"{PG_URL} is not reachable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return None


def _redis_status() -> str | None:
    """``None`` when Redis answers, else why not."""
    if not REDIS_URL:
        return "TEST_REDIS_URL is not set"
    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:  # any failure to connect means: not reachable
        return f"{REDIS_URL} is not reachable: {exc.__class__.__name__}: {exc}"
    return None


REDIS_URL = os.environ.get("TEST_REDIS_URL")
PG_PROBLEM = _postgres_status()
REDIS_PROBLEM = _redis_status()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_PROBLEM is None else [])
#: The one backend of a test whose behaviour does not depend on the database
#: (the services under it are tested on both): PostgreSQL when it answers
#: (the production database), else SQLite.
ONE_BACKEND = "postgresql" if "postgresql" in BACKENDS else "sqlite"


_LOADED_RULES: dict[tuple, object] = {}
_load_rules = web.app.load_rules


def _load_rules_once(directory=None, **code_checks):
    """``rules.load_rules`` as ``create_app`` calls it, parsed once per session
    for the same files: a test builds an application, and parsing the YAML
    of the rule set was most of what that cost (issue 12's CI time). The
    rule set is a frozen value; the key is every file's bytes and the code's
    registries, so a test that edits a rules folder gets a fresh load, and
    a broken one still fails as it would (nothing kept)."""
    base = Path(directory) if directory is not None else DEFAULT_RULES_DIR
    if not base.is_dir():
        return _load_rules(directory, **code_checks)
    files = read_rule_files(base)
    key = (str(base), tuple(sorted(files.items())),
           tuple(sorted((name, _canonical(value)) for name, value in code_checks.items())))
    if key not in _LOADED_RULES:
        _LOADED_RULES[key] = _load_rules(directory, **code_checks)
    return _LOADED_RULES[key]


def _canonical(value) -> tuple:
    """A registry (names, or name -> names) as a sorted tuple, for a key."""
    if isinstance(value, Mapping):
        return tuple(sorted((name, _canonical(names)) for name, names in value.items()))
    return tuple(sorted(value))


web.app.load_rules = _load_rules_once


def pytest_report_header(config) -> list[str]:
    return [f"database backends: {', '.join(BACKENDS)}"
            + ("" if PG_PROBLEM is None else f" (PostgreSQL left out: {PG_PROBLEM})"),
            "Redis: " + ("yes" if REDIS_PROBLEM is None else f"left out: {REDIS_PROBLEM}")]


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "one_backend: the test (or every test of the module) checks the services' "
                                       "behaviour, not the database's: its ``app`` runs on ONE_BACKEND only")
    config.addinivalue_line("markers", "both_backends: the database is the subject (a trigger, a constraint, "
                                       "a query whose result type differs): ``app`` on every backend, "
                                       "even in a ``one_backend`` module")


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc) -> None:
    """Run a test marked ``one_backend`` (a module: ``pytestmark``) on
    ``ONE_BACKEND`` only, unless it is marked ``both_backends`` or picks its
    ``app`` itself (``parametrize("app", ..., indirect=True)``); most of the
    money chain's API tests check the services, and the database's own
    refusals keep a test on each backend (issue 12: CI time)."""
    definition = metafunc.definition
    if ("app" not in metafunc.fixturenames or definition.get_closest_marker("one_backend") is None
            or definition.get_closest_marker("both_backends") is not None):
        return
    if any("app" in _names(mark.args[0]) for mark in definition.iter_markers("parametrize")):
        return
    # As a mark, so that pytest leaves out the ``app`` fixture's own params (BACKENDS).
    definition.add_marker(pytest.mark.parametrize("app", [ONE_BACKEND], indirect=True))


def _names(argnames) -> list[str]:
    """The argument names of a ``parametrize`` mark (a comma-separated string or a sequence)."""
    return [name.strip() for name in argnames.split(",")] if isinstance(argnames, str) else list(argnames)


def pytest_sessionstart(session) -> None:
    if CI and PG_PROBLEM is not None:
        raise pytest.UsageError(f"CI=true but PostgreSQL is unusable: {PG_PROBLEM}")
    if CI and REDIS_PROBLEM is not None:
        raise pytest.UsageError(f"CI=true but Redis is unusable: {REDIS_PROBLEM}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test PostgreSQL database, emptied and migrated once per session."""
    url = normalize_database_url(PG_URL)
    recreate(url)
    return url


def _truncate_all(app) -> None:
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def _make_app(backend: str, request, tmp_path: Path, **config):
    if backend == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    application = create_app({"DATABASE_URL": url, "REDIS_URL": None, "TESTING": True,
                              "RATE_LIMIT": "1000000 per minute",
                              "ATTACHMENTS_DIR": str(tmp_path / "attachments")} | config)
    application.config["BACKEND"] = backend
    return application


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path) -> Iterator:
    """The application on a clean database, once per backend."""
    application = _make_app(request.param, request, tmp_path)
    yield application
    _dispose(application)


def one_backend_app(request, tmp_path) -> Iterator:
    """The body of a module's ``app`` fixture overridden to run on
    ``ONE_BACKEND`` only (``@pytest.fixture(params=[ONE_BACKEND])``), for tests
    whose behaviour does not depend on the database: ``yield from`` it."""
    application = _make_app(request.param, request, tmp_path)
    yield application
    _dispose(application)


@pytest.fixture(params=["postgresql"] if "postgresql" in BACKENDS else [])
def pg_app(request, tmp_path) -> Iterator:
    """The application on a clean PostgreSQL database (row locks, real
    concurrency). Left out, visibly, when PostgreSQL is not reachable
    outside CI; under CI the session fails instead."""
    application = _make_app("postgresql", request, tmp_path)
    yield application
    _dispose(application)


@pytest.fixture(params=BACKENDS if REDIS_PROBLEM is None else [])
def redis_app(request, tmp_path) -> Iterator:
    """The application with ``REDIS_URL`` set (jobs go to RQ), once per
    database backend; the Redis database is flushed around the test."""
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    application = _make_app(request.param, request, tmp_path, REDIS_URL=REDIS_URL)
    yield application
    redis.flushdb()
    _dispose(application)


def _dispose(application) -> None:
    with application.app_context():
        db.session.remove()
        if application.config["BACKEND"] == "postgresql":
            _truncate_all(application)
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def world(app):
    """Helpers to create organizations, users with tokens, and PPAs."""
    from tests.support import World

    return World(app)


@pytest.fixture
def pg_world(pg_app):
    """``world`` on PostgreSQL only (see ``pg_app``)."""
    from tests.support import World

    return World(pg_app)


@pytest.fixture
def chain(world):
    """An enacted PPA with a budget proposal and a PHP 5,000,000 program budget
    (built once per backend and session, then copied in: ``built_once``)."""
    from tests.support import Chain, built_once

    return built_once(world, "chain", Chain)


def pytest_terminal_summary(terminalreporter, config) -> None:
    """Say how many schemathesis cases ran (issue 6 asks for the figure)."""
    from tests.support import SCHEMATHESIS_CASES, SCHEMATHESIS_STEPS

    if cases := config.stash.get(SCHEMATHESIS_CASES, 0):
        terminalreporter.write_line(f"schemathesis: {cases} generated cases against /api/openapi.json")
    if steps := config.stash.get(SCHEMATHESIS_STEPS, 0):
        terminalreporter.write_line(f"schemathesis: {steps} stateful steps along the OpenAPI links")
