"""Benchmark: My work (``GET /``) for a technical reviewer with 500 and 5,000
PPAs in the database (issue 11).

Half of the PPAs wait in technical review (each with its ``submit`` in the
history), the rest are drafts or further along. For each size it prints the
SQL statements of one signed-in ``GET /`` (session, user, navigation counts,
the page of 50 PPAs with its total, their histories, the open alerts), its
median time, and the median time of a bare ``SELECT`` of the same 50 rows
through the same driver in the same run, with the ratio; and, as a second
baseline, a bare ``SELECT`` of every waiting row (which the page counts).

Target: statements constant in the number of PPAs, at most 6.

Run: ``make bench`` (PostgreSQL from BENCH_DATABASE_URL or TEST_DATABASE_URL,
and SQLite), or ``python -m tests.bench my_work``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flask_login.utils import _create_identifier
from sqlalchemy import insert

from db import db
from db.migrate import upgrade
from db.models import Ppa, PpaTransition
from services import users
from tests.bench.wbs import count_statements, median_ms, run_backends
from web import create_app
from web.ui.auth import PASSWORD_MARK, password_mark

SIZES = (500, 5_000)
PAGE_SQL = ("SELECT id, title, organization_id, approval_status, budget_allocation, stage_entered_at FROM ppas "
            "WHERE approval_status = 'technical_review' ORDER BY stage_entered_at, id")


def insert_ppas(count: int, organization_id: int, focal_id: int, first: int) -> None:
    """Insert ``count`` PPAs: every other one in technical review (submitted
    by the focal person), the others drafts or in budget review."""
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    rows, history = [], []
    for number in range(first, first + count):
        stage = ("technical_review", "draft", "technical_review", "budget_review")[number % 4]
        entered = start + timedelta(minutes=number)
        rows.append({"id": number, "title": f"Bench PPA {number}", "summary": "", "category": "moa_ppa",
                     "organization_id": organization_id, "fiscal_year": 2026, "appropriation_class": "mooe",
                     "priority": "medium", "budget_allocation": Decimal("1500000.00"), "progress": 0,
                     "status": "planning", "approval_status": stage, "stage_entered_at": entered,
                     "budget_distribution_policy": "manual", "enable_workitem_tracking": False,
                     "auto_sync_progress": True, "auto_sync_status": True, "created_by_id": focal_id,
                     "updated_by_id": focal_id, "created_at": entered, "updated_at": entered, "version": 1})
        if stage != "draft":
            history.append({"ppa_id": number, "actor_id": focal_id, "role": "moa_focal", "trigger": "submit",
                            "from_stage": "draft", "to_stage": "technical_review", "comment": None,
                            "created_at": entered, "rules_hash": "0" * 64})
    db.session.execute(insert(Ppa), rows)
    db.session.execute(insert(PpaTransition), history)
    db.session.commit()


def signed_in_client(app, user_id: int, mark: str):
    """A test client signed in as the user ``user_id`` (``mark``: their
    ``password_mark``), as after ``/login``: its session holds the user and,
    after a first page, its CSRF secret."""
    client = app.test_client()
    with app.test_request_context():  # the same address and browser as the client's
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session.update({"_user_id": str(user_id), "_fresh": True, "_id": identifier, PASSWORD_MARK: mark})
    client.get("/")
    return client


def bench_backend(url: str, label: str, echo: Callable[[str], None]) -> list[dict]:
    """Measure My work at each size on one database; returns the rows printed.

    Requests are made outside any app context, as a server makes them (each
    request its own context: nothing cached from the one before)."""
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None})
    with app.app_context():
        upgrade(db.engine)
        organization = users.ensure_organization("MSSD", "Ministry of Social Services and Development")
        users.ensure_organization("BPDA", "Bangsamoro Planning and Development Authority")
        focal, _ = users.add_user("bench.focal", ["moa_focal"], organization="MSSD")
        reviewer, _ = users.add_user("bench.reviewer", ["technical_reviewer"], organization="BPDA")
        reviewer_id, organization_id, focal_id = reviewer.id, organization.id, focal.id
        mark = password_mark(reviewer)
        engine = db.engine
    client = signed_in_client(app, reviewer_id, mark)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    results, inserted = [], 0
    for size in SIZES:
        with app.app_context():
            insert_ppas(size - inserted, organization_id, focal_id, inserted + 1)
            db.session.remove()
        inserted = size
        with count_statements(engine) as counted:
            response = client.get("/")
        assert response.status_code == 200, response.status_code
        assert f"{size // 2:,} PPAs wait" in response.get_data(as_text=True), size
        page_ms = median_ms(lambda: client.get("/"), 15)

        def bare_page():
            cursor.execute(PAGE_SQL + " LIMIT 50")
            return cursor.fetchall()

        def bare_all():
            cursor.execute(PAGE_SQL)
            return cursor.fetchall()

        results.append({"backend": label, "what": f"GET / (My work), {size:,} PPAs, {size // 2:,} waiting",
                        "statements": counted["n"], "ms": page_ms, "baseline": "bare SELECT of the 50 rows",
                        "baseline_ms": median_ms(bare_page, 15)})
        results.append({"backend": label, "what": "", "statements": "", "ms": page_ms,
                        "baseline": f"bare SELECT of all {size // 2:,} waiting",
                        "baseline_ms": median_ms(bare_all, 15)})
    cursor.close()
    raw.close()
    engine.dispose()
    return results


def run(postgres_url: str | None, echo: Callable[[str], None]) -> None:
    """Benchmark PostgreSQL (when given) and SQLite; print one table."""
    run_backends(postgres_url, echo, "My work", bench_backend)
    echo("target: statements of GET / constant in the number of PPAs, at most 6 "
         "(session, user with roles, navigation counts, the page with its total, its histories, open alerts)")
