"""Migration 0007 on a database with data (issue 10): it links every PPA to
its execution project, gives the financial rows their MOA, keeps the budget
limit triggers working, and (SQLite) runs with foreign keys enforced by the
application's own engine without leaving dangling rows or enforcement off.

PostgreSQL gets a schema of its own for the test, dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db import db
from db.migrate import alembic_config, upgrade
from tests.conftest import BACKENDS
from tests.integration.migrated import empty_schema
from web import create_app

NOW = datetime(2025, 3, 1, tzinfo=UTC)
BEFORE = ScriptDirectory.from_config(alembic_config()).get_revision("0007").down_revision


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path) -> Iterator:
    """An empty database, through an engine like the application's (SQLite:
    foreign keys enforced on every connection)."""
    if request.param == "sqlite":
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'old.sqlite3'}", "REDIS_URL": None})
        with app.app_context():
            yield db.engine
            db.engine.dispose()
        return
    with empty_schema() as engine:
        yield engine


def old_rows(connection) -> None:
    """A tracked PPA with a program budget, allotment, obligation and
    disbursement, written in the schema before 0007 (no organization_id)."""
    run = lambda sql: connection.execute(text(sql), {"now": NOW})  # noqa: E731
    run("INSERT INTO organizations (id, code, name, created_at) VALUES (7, 'MSSD', 'MSSD', :now)")
    run("INSERT INTO ppas (id, title, summary, category, organization_id, fiscal_year, appropriation_class, priority, "
        "budget_allocation, progress, status, approval_status, stage_entered_at, budget_distribution_policy, "
        "enable_workitem_tracking, auto_sync_progress, auto_sync_status, created_at, updated_at, version) VALUES "
        "(3, 'P', '', 'moa_ppa', 7, 2025, 'mooe', 'medium', 100000, 0, 'ongoing', 'enacted', :now, 'manual', "
        "true, true, true, :now, :now, 1), "
        "(4, 'Q', '', 'moa_ppa', 7, 2025, 'mooe', 'medium', 100000, 0, 'planning', 'draft', :now, 'manual', "
        "false, true, true, :now, :now, 1)")
    run("INSERT INTO work_items (id, root_id, parent_id, ppa_id, work_type, title, description, position, level, "
        "status, priority, progress, actual_expenditure, budget_notes, budget_locked, created_at, updated_at, "
        "version) VALUES (11, NULL, NULL, 3, 'project', 'P', '', 0, 0, 'in_progress', 'medium', 0, 0, '', false, "
        ":now, :now, 1), (12, 11, 11, NULL, 'task', 'T', '', 0, 1, 'in_progress', 'medium', 0, 0, '', false, "
        ":now, :now, 1)")
    run("INSERT INTO budget_proposals (id, organization_id, fiscal_year, title, status, notes, created_at, "
        "updated_at, version) VALUES (1, 7, 2025, 'B', 'draft', '', :now, :now, 1)")
    run("INSERT INTO program_budgets (id, proposal_id, ppa_id, approved_amount, created_at, updated_at, version) "
        "VALUES (1, 1, 3, 100000, :now, :now, 1)")
    run("INSERT INTO allotments (id, program_budget_id, quarter, release_date, saro_number, amount, status, "
        "created_at, updated_at, version) VALUES (1, 1, 1, '2025-02-01', 'S-1', 50000, 'released', :now, :now, 1)")
    run("INSERT INTO obligations (id, allotment_id, payee, ors_number, particulars, obligation_date, amount, "
        "status, created_at, updated_at, version) VALUES (1, 1, 'P', 'O-1', '', '2025-03-01', 30000, 'obligated', "
        ":now, :now, 1)")
    run("INSERT INTO disbursements (id, obligation_id, dv_number, payment_method, disbursement_date, amount, status, "
        "created_at, updated_at, version) VALUES (1, 1, 'D-1', 'check', '2025-04-01', 10000, 'disbursed', "
        ":now, :now, 1)")


def test_migration_0007_backfills_links_and_organizations_and_keeps_the_limits(engine):
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        old_rows(connection)

    before, after = upgrade(engine)

    assert before == BEFORE and after != BEFORE
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, execution_project_id FROM ppas ORDER BY id")).all() == [
            (3, 11), (4, None)]
        for table in ("allotments", "obligations", "disbursements"):
            assert connection.scalar(text(f"SELECT organization_id FROM {table}")) == 7
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(DBAPIError, match="ppaflow_limit:obligation"), engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO obligations (id, organization_id, allotment_id, payee, ors_number, particulars, "
            "obligation_date, amount, status, created_at, updated_at, version) VALUES (2, 7, 1, 'P', 'O-2', '', "
            "'2025-03-02', 20001, 'obligated', :now, :now, 1)"), {"now": NOW})
    with pytest.raises(DBAPIError, match="ppaflow_limit:disbursement"), engine.begin() as connection:
        connection.execute(text(  # posted rows never change (0011): the limit is checked on a new DV
            "INSERT INTO disbursements (id, organization_id, obligation_id, dv_number, payment_method, "
            "disbursement_date, amount, status, created_at, updated_at, version) VALUES (2, 7, 1, 'D-2', 'mds_check', "
            "'2025-04-02', 20001, 'disbursed', :now, :now, 1)"), {"now": NOW})
