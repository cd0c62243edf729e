"""Migration 0012 on a database with data (issue 12 item 2): existing
allotments take their PPA's class and that class's validity category, the
database refuses a category of another class, and SQLite keeps the
allotments' limit triggers (the columns are added in place)."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from db.migrate import alembic_config, upgrade
from tests.integration.migrated import engine_at
from tests.integration.test_migration_0007 import NOW

BEFORE = ScriptDirectory.from_config(alembic_config()).get_revision("0012").down_revision
engine = engine_at(BEFORE)  # SQLite: a copy of a database migrated to it (tests/integration/migrated.py)


def rows_before_0012(connection) -> None:
    """A PS PPA and a CO PPA, each with a program budget and an allotment."""
    run = lambda sql: connection.execute(text(sql), {"now": NOW})  # noqa: E731
    run("INSERT INTO organizations (id, code, name, created_at) VALUES (7, 'MSSD', 'MSSD', :now)")
    run("INSERT INTO ppas (id, title, summary, category, organization_id, fiscal_year, appropriation_class, priority, "
        "budget_allocation, progress, status, approval_status, stage_entered_at, budget_distribution_policy, "
        "enable_workitem_tracking, auto_sync_progress, auto_sync_status, created_at, updated_at, version) VALUES "
        "(3, 'P', '', 'moa_ppa', 7, 2025, 'ps', 'medium', 100000, 0, 'ongoing', 'enacted', :now, 'manual', "
        "false, true, true, :now, :now, 1), "
        "(4, 'Q', '', 'moa_ppa', 7, 2025, 'co', 'medium', 100000, 0, 'ongoing', 'enacted', :now, 'manual', "
        "false, true, true, :now, :now, 1)")
    run("INSERT INTO budget_proposals (id, organization_id, fiscal_year, title, status, notes, created_at, "
        "updated_at, version) VALUES (1, 7, 2025, 'B', 'draft', '', :now, :now, 1)")
    run("INSERT INTO program_budgets (id, proposal_id, ppa_id, approved_amount, created_at, updated_at, version) "
        "VALUES (1, 1, 3, 100000, :now, :now, 1), (2, 1, 4, 100000, :now, :now, 1)")
    run("INSERT INTO allotments (id, organization_id, program_budget_id, quarter, release_date, saro_number, amount, "
        "status, created_at, updated_at, version) VALUES (1, 7, 1, 1, '2025-02-01', 'S-1', 50000, 'released', "
        ":now, :now, 1), (2, 7, 2, 1, '2025-02-01', 'S-2', 50000, 'released', :now, :now, 1)")


def test_migration_0012_gives_allotments_their_class_and_category_and_keeps_the_limits(engine):
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        rows_before_0012(connection)

    upgrade(engine)

    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT id, allotment_class, validity_category FROM allotments ORDER BY id")).all() == [
            (1, "ps", "ps"), (2, "co", "co_other")]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE allotments SET validity_category = 'mooe_operations' WHERE id = 2"))
    with engine.begin() as connection:
        connection.execute(text("UPDATE allotments SET validity_category = 'co_infrastructure' WHERE id = 2"))
    with pytest.raises(DBAPIError, match="ppaflow_limit:allotment"), engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO allotments (id, organization_id, program_budget_id, quarter, release_date, saro_number, "
            "amount, status, created_at, updated_at, version) VALUES (3, 7, 1, 1, '2025-02-02', 'S-3', 50001, "
            "'released', :now, :now, 1)"), {"now": NOW})
