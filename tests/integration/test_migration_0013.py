"""Migration 0013 (appropriations, issue 12 item 1) on a database with data:
an approved budget proposal becomes enacted, a program budget's amount goes
to its PPA's allotment class, line items get their class from their UACS
object code, and the budget limit triggers still refuse overshoots."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.migrate import alembic_config, upgrade
from tests.integration.migrated import engine_at

NOW = datetime(2025, 3, 1, tzinfo=UTC)
BEFORE = ScriptDirectory.from_config(alembic_config()).get_revision("0013").down_revision
engine = engine_at(BEFORE)  # SQLite: a copy of a database migrated to it (tests/integration/migrated.py)


def old_rows(connection) -> None:
    """An enacted CO PPA with an approved proposal, a program budget of PHP
    1,000.00, an allotment of PHP 500.00 and two line items, in the schema
    before 0013."""
    run = lambda sql: connection.execute(text(sql), {"now": NOW})  # noqa: E731
    run("INSERT INTO organizations (id, code, name, created_at) VALUES (7, 'MSSD', 'MSSD', :now)")
    run("INSERT INTO ppas (id, title, summary, category, organization_id, fiscal_year, appropriation_class, priority, "
        "budget_allocation, progress, status, approval_status, stage_entered_at, budget_distribution_policy, "
        "enable_workitem_tracking, auto_sync_progress, auto_sync_status, created_at, updated_at, version) VALUES "
        "(3, 'P', '', 'moa_ppa', 7, 2025, 'co', 'medium', 100000, 0, 'ongoing', 'enacted', :now, 'manual', "
        "false, true, true, :now, :now, 1)")
    run("INSERT INTO budget_proposals (id, organization_id, fiscal_year, title, status, notes, created_at, "
        "updated_at, version) VALUES (1, 7, 2025, 'B', 'approved', '', :now, :now, 1)")
    run("INSERT INTO program_budgets (id, proposal_id, ppa_id, approved_amount, created_at, updated_at, version) "
        "VALUES (1, 1, 3, 100000, :now, :now, 1)")
    run("INSERT INTO budget_line_items (id, program_budget_id, uacs_code, description, amount, created_at, "
        "updated_at, version) VALUES (1, 1, '50604050-03', 'Equipment', 60000, :now, :now, 1), "
        "(2, 1, '50202010-01', 'Training', 10000, :now, :now, 1)")
    run("INSERT INTO allotments (id, organization_id, program_budget_id, quarter, release_date, saro_number, amount, "
        "status, created_at, updated_at, version) VALUES (1, 7, 1, 1, '2025-02-01', 'S-1', 50000, 'released', "
        ":now, :now, 1)")


def test_migration_0013_enacts_approved_proposals_classes_amounts_and_keeps_the_limits(engine):
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        old_rows(connection)

    before, after = upgrade(engine)

    assert before == BEFORE and after != BEFORE
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT status FROM budget_proposals")) == "enacted"
        assert connection.execute(text("SELECT approved_amount, ps, mooe, finex, co, fund_cluster, supplemental "
                                       "FROM program_budgets")).one() == (100000, 0, 0, 0, 100000, "01", False)
        assert connection.execute(text("SELECT id, allotment_class FROM budget_line_items ORDER BY id")).all() == [
            (1, "co"), (2, "mooe")]
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    with pytest.raises(DBAPIError, match="ppaflow_limit:allotment"), engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO allotments (id, organization_id, program_budget_id, quarter, release_date, saro_number, "
            "amount, status, created_at, updated_at, version) VALUES (2, 7, 1, 2, '2025-04-01', 'S-2', 50001, "
            "'released', :now, :now, 1)"), {"now": NOW})
    with pytest.raises(DBAPIError, match="ppaflow_limit:allotment"), engine.begin() as connection:
        connection.execute(text("UPDATE program_budgets SET approved_amount = 49999, co = 49999 WHERE id = 1"))
    with pytest.raises(DBAPIError), engine.begin() as connection:  # the sum of the classes is checked
        connection.execute(text("UPDATE program_budgets SET mooe = 1 WHERE id = 1"))
