"""Migration 0018 (adjustments and transfers, issue 12 item 4) on a
database with data: the allotment adjustments already posted are kept as
they were and stay fixed, the table takes realignments and sub-allotments,
and the allotment limits, now on the adjusted appropriation, still refuse
overshoots on both databases; undoing it is refused while it holds posted
rows of its own, and otherwise puts ``kind`` back to 12 characters."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.migrate import alembic_config, downgrade, upgrade
from tests.integration.migrated import engine_at
from tests.integration.test_migration_0013 import NOW

BEFORE = ScriptDirectory.from_config(alembic_config()).get_revision("0018").down_revision
engine = engine_at(BEFORE)  # SQLite: a copy of a database migrated to it (tests/integration/migrated.py)


def old_rows(connection) -> None:
    """An enacted PPA with a program budget of PHP 1,000.00, an allotment of
    PHP 500.00 and a reduction of PHP 100.00 of it, in the schema before 0018."""
    run = lambda sql: connection.execute(text(sql), {"now": NOW})  # noqa: E731
    run("INSERT INTO organizations (id, code, name, created_at) VALUES (7, 'MSSD', 'MSSD', :now)")
    run("INSERT INTO ppas (id, title, summary, category, organization_id, fiscal_year, appropriation_class, priority, "
        "budget_allocation, progress, status, approval_status, stage_entered_at, budget_distribution_policy, "
        "enable_workitem_tracking, auto_sync_progress, auto_sync_status, created_at, updated_at, version) VALUES "
        "(3, 'P', '', 'moa_ppa', 7, 2025, 'mooe', 'medium', 100000, 0, 'ongoing', 'enacted', :now, 'manual', "
        "false, true, true, :now, :now, 1)")
    run("INSERT INTO budget_proposals (id, organization_id, fiscal_year, title, status, notes, created_at, "
        "updated_at, version) VALUES (1, 7, 2025, 'B', 'enacted', '', :now, :now, 1)")
    run("INSERT INTO program_budgets (id, proposal_id, ppa_id, approved_amount, ps, mooe, finex, co, fund_cluster, "
        "pap_code, enactment_act, supplemental, created_at, updated_at, version) "
        "VALUES (1, 1, 3, 100000, 0, 100000, 0, 0, '01', '', '', false, :now, :now, 1)")
    run("INSERT INTO allotments (id, organization_id, program_budget_id, quarter, release_date, saro_number, amount, "
        "status, created_at, updated_at, version) VALUES (1, 7, 1, 1, '2025-02-01', 'S-1', 50000, 'released', "
        ":now, :now, 1)")
    run("INSERT INTO allotment_adjustments (id, allotment_id, organization_id, kind, amount, adjustment_date, reason, "
        "legal_basis, created_at) VALUES (1, 1, 7, 'reduction', -10000, '2025-03-01', 'r', 'DBM', :now)")


def test_migration_0018_keeps_posted_adjustments_and_limits_the_allotments_by_the_adjusted_appropriation(
        engine):
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        old_rows(connection)

    before, after = upgrade(engine)

    assert before == BEFORE and after != BEFORE
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, kind, amount, pair_key FROM allotment_adjustments")).all() == [
            (1, "reduction", -10000, None)]
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    with pytest.raises(DBAPIError, match="ppaflow_posted:allotment_adjustments"), engine.begin() as connection:
        connection.execute(text("UPDATE allotment_adjustments SET amount = -1"))
    with engine.begin() as connection:  # the new kinds are taken; an augmentation of the appropriation counts
        connection.execute(text(
            "INSERT INTO allotment_adjustments (id, allotment_id, organization_id, kind, amount, pair_key, "
            "adjustment_date, reason, legal_basis, created_at) VALUES (2, 1, 7, 'realignment', -100, 'k', '2025-04-01', "
            "'r', 'DBM', :now)"), {"now": NOW})
        connection.execute(text(
            "INSERT INTO appropriation_adjustments (program_budget_id, organization_id, kind, allotment_class, "
            "amount, adjustment_date, reason, legal_basis, created_at) VALUES (1, 7, 'augmentation', 'mooe', 500, "
            "'2025-04-01', 'r', 'BAA', :now)"), {"now": NOW})
    insert = ("INSERT INTO allotments (id, organization_id, program_budget_id, quarter, release_date, saro_number, "
              "amount, status, created_at, updated_at, version) VALUES (2, 7, 1, 2, '2025-04-01', 'S-2', {amount}, "
              "'released', :now, :now, 1)")
    # 1,000.00 + 5.00 augmented; 500.00 − 100.00 − 1.00 allotted: 606.01 more does not fit, 606.00 does
    with pytest.raises(DBAPIError, match="ppaflow_limit:allotment"), engine.begin() as connection:
        connection.execute(text(insert.format(amount=60601)), {"now": NOW})
    with engine.begin() as connection:
        connection.execute(text(insert.format(amount=60600)), {"now": NOW})
    with pytest.raises(DBAPIError, match="ppaflow_limit:allotment"), engine.begin() as connection:
        connection.execute(text("UPDATE program_budgets SET approved_amount = 99999, mooe = 99999 WHERE id = 1"))


def _kind_length(connection) -> int:
    if connection.dialect.name == "sqlite":
        declared = next(r[2] for r in connection.exec_driver_sql("PRAGMA table_info(allotment_adjustments)")
                        if r[1] == "kind")
        return int(declared.split("(")[1].rstrip(")"))
    return connection.execute(text("SELECT character_maximum_length FROM information_schema.columns "
                                   "WHERE table_schema = current_schema() AND table_name = 'allotment_adjustments' "
                                   "AND column_name = 'kind'")).scalar()


def test_undoing_migration_0018_is_refused_while_it_holds_posted_adjustments_and_restores_kind_otherwise(
        engine):
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        old_rows(connection)
    upgrade(engine, "0018")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO appropriation_adjustments (program_budget_id, organization_id, kind, allotment_class, "
            "amount, adjustment_date, reason, legal_basis, created_at) VALUES (1, 7, 'augmentation', 'mooe', 500, "
            "'2025-04-01', 'r', 'BAA', :now)"), {"now": NOW})

    with pytest.raises(RuntimeError, match="1 appropriation adjustments"):
        downgrade(engine, BEFORE)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT amount FROM appropriation_adjustments")).scalars().all() == [500]
        assert _kind_length(connection) == 20


def test_undoing_migration_0018_without_new_rows_keeps_the_old_adjustments_and_kind_of_12(engine):
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        old_rows(connection)
    upgrade(engine, "0018")

    downgrade(engine, BEFORE)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, kind, amount FROM allotment_adjustments")).all() == [
            (1, "reduction", -10000)]
        assert _kind_length(connection) == 12
