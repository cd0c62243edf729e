"""``make bench`` runs green end to end (issue 10, item 13): the nightly
sync benchmark used to fail on every PPA because the WBS benchmark's last
request left its user as the audit actor of the thread, and that user was
gone once the benchmark database was recreated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from db import db
from db.audit import AuditEntry
from db.urls import normalize_database_url
from services.sweeps import sync_tracked_ppas
from tests.conftest import PG_PROBLEM, PG_URL
from tests.support import World

REPOSITORY = Path(__file__).resolve().parents[2]


def test_work_done_after_a_request_in_the_same_thread_is_not_recorded_as_that_requests_user(app):
    world = World(app)
    ppa, _ = world.tracked_ppa("budget_review")
    world.get(ppa["id"], world.focal)  # the last request of this thread was the focal person's
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE ppas SET progress = 50 WHERE id = :id"), {"id": ppa["id"]})

    with app.app_context():
        assert sync_tracked_ppas()["changed"] == 1
        actors = db.session.execute(select(AuditEntry.actor_id, AuditEntry.actor)
                                    .where(AuditEntry.field == "progress", AuditEntry.entity == "ppa")).all()

    assert actors == [(None, "system")]


@pytest.fixture
def bench_database_url() -> str:
    """A PostgreSQL database of the benchmark's own, beside the test one
    (the benchmark recreates its schema)."""
    if PG_PROBLEM is not None:
        pytest.skip(f"PostgreSQL left out: {PG_PROBLEM}")
    server, _, name = PG_URL.rpartition("/")
    bench = f"{name}_bench"
    engine = create_engine(normalize_database_url(PG_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": bench}):
            connection.execute(text(f'CREATE DATABASE "{bench}"'))
    engine.dispose()
    return f"{server}/{bench}"


def test_make_bench_runs_green_end_to_end_on_small_data(bench_database_url):
    finished = subprocess.run([sys.executable, "-m", "tests.bench", "--quick"], cwd=REPOSITORY, capture_output=True,
                              text=True, timeout=600, env=os.environ | {"BENCH_DATABASE_URL": bench_database_url})

    assert finished.returncode == 0, finished.stderr[-4000:]
    assert "postgresql  sync_from_workitem, 1,000 items" in finished.stdout
    assert "sqlite      sync_from_workitem, 1,000 items" in finished.stdout
    assert "20 x 50" in finished.stdout
    assert "postgresql  GET /ppas/<id>/work-items, 1,000 items" in finished.stdout
    assert "sqlite      GET /ppas/<id>/budget, 1,000 items" in finished.stdout
    assert "postgresql  FAR No. 1 xlsx, 2 MOAs x 10 PPAs, 50 documents" in finished.stdout
    assert "sqlite      FAR No. 1 pdf, MOA01: 10 PPAs, 25 documents" in finished.stdout
    assert "sqlite      SQL statements of far1_statements (consolidated): " in finished.stdout
