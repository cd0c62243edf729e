"""Migration 0011 on a database with data (issue 12 item 4): a cancellation
made before it gets its business date, the day of its ``cancelled_at`` in
Manila; posted rows are fixed from then on; and it goes down and up again,
the limits of revision 0004 holding at each step. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.migrate import downgrade, upgrade
from tests.integration.migrated import engine_at

engine = engine_at("0010")  # SQLite: a copy of a database migrated to it (tests/integration/migrated.py)

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def rows_before_0011(connection) -> None:
    """A program budget of 1,000.00, an allotment of 500.00 and an obligation
    of 300.00 cancelled at 17:00 UTC on 30 June 2025 (1 July in Manila)."""
    run = lambda sql, **extra: connection.execute(text(sql), {"now": NOW} | extra)  # noqa: E731
    run("INSERT INTO organizations (id, code, name, created_at) VALUES (1, 'MSSD', 'MSSD', :now)")
    run("INSERT INTO ppas (id, title, summary, category, organization_id, fiscal_year, appropriation_class, priority, "
        "budget_allocation, progress, status, approval_status, stage_entered_at, budget_distribution_policy, "
        "enable_workitem_tracking, auto_sync_progress, auto_sync_status, created_at, updated_at, version) VALUES "
        "(1, 'P', '', 'moa_ppa', 1, 2025, 'mooe', 'medium', 100000, 0, 'ongoing', 'enacted', :now, 'manual', "
        "false, true, true, :now, :now, 1)")
    run("INSERT INTO budget_proposals (id, organization_id, fiscal_year, title, status, notes, created_at, "
        "updated_at, version) VALUES (1, 1, 2025, 'B', 'draft', '', :now, :now, 1)")
    run("INSERT INTO program_budgets (id, proposal_id, ppa_id, approved_amount, created_at, updated_at, version) "
        "VALUES (1, 1, 1, 100000, :now, :now, 1)")
    run("INSERT INTO allotments (id, organization_id, program_budget_id, quarter, release_date, saro_number, amount, "
        "status, created_at, updated_at, version) VALUES (1, 1, 1, 1, '2025-02-01', 'S-1', 50000, 'released', "
        ":now, :now, 1)")
    run("INSERT INTO obligations (id, organization_id, allotment_id, payee, ors_number, particulars, "
        "obligation_date, amount, status, cancelled_at, cancel_reason, created_at, updated_at, version) VALUES "
        "(1, 1, 1, 'P', 'O-1', '', '2025-03-01', 30000, 'cancelled', :cancelled, 'withdrawn', :now, :now, 1)",
        cancelled=datetime(2025, 6, 30, 17, 0, tzinfo=UTC) if connection.dialect.name == "postgresql"
        else "2025-06-30 17:00:00.000000")


def test_migration_0011_dates_old_cancellations_in_manila_fixes_posted_rows_and_goes_down_and_up(engine):
    upgrade(engine, "0010")
    with engine.begin() as connection:
        rows_before_0011(connection)

    upgrade(engine)

    with engine.connect() as connection:
        assert str(connection.scalar(text("SELECT cancelled_on FROM obligations WHERE id = 1"))) == "2025-07-01"
    with pytest.raises(DBAPIError, match="ppaflow_posted:allotments:amount"), engine.begin() as connection:
        connection.execute(text("UPDATE allotments SET amount = 40000 WHERE id = 1"))
    with pytest.raises(DBAPIError, match="ppaflow_posted:obligations:status"), engine.begin() as connection:
        connection.execute(text("UPDATE obligations SET status = 'obligated' WHERE id = 1"))

    downgrade(engine, "0010")
    with engine.begin() as connection:  # 0004's limits are back, and nothing is fixed
        connection.execute(text("UPDATE allotments SET amount = 40000 WHERE id = 1"))
    with pytest.raises(DBAPIError, match="ppaflow_limit:allotment"), engine.begin() as connection:
        connection.execute(text("UPDATE allotments SET amount = 100001 WHERE id = 1"))

    upgrade(engine)
    with pytest.raises(DBAPIError, match="ppaflow_posted:allotments:delete"), engine.begin() as connection:
        connection.execute(text("DELETE FROM allotments WHERE id = 1"))
