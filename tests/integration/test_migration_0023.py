"""Migration 0023 (issue 14 item 2) on a database with data: PPAs already
past draft are pinned to the active rule set, the set they were decided
under; drafts stay unpinned (they follow the active set)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import text

from db.migrate import alembic_config, upgrade
from tests.integration.test_migration_0007 import engine  # noqa: F401  (the fixture: an empty database per backend)

NOW = datetime(2025, 3, 1, tzinfo=UTC)
BEFORE = ScriptDirectory.from_config(alembic_config()).get_revision("0023").down_revision
ACTIVE, OLD = "a" * 64, "b" * 64


def test_migration_0023_pins_ppas_past_draft_to_the_active_rule_set(engine):  # noqa: F811
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        run = lambda sql: connection.execute(text(sql), {"now": NOW})
        run("INSERT INTO organizations (id, code, name, created_at) VALUES (7, 'MSSD', 'MSSD', :now)")
        for ppa_id, stage in [(1, "draft"), (2, "budget_review"), (3, "enacted")]:
            run("INSERT INTO ppas (id, title, summary, category, organization_id, fiscal_year, appropriation_class, "
                "priority, budget_allocation, progress, status, approval_status, stage_entered_at, "
                "budget_distribution_policy, enable_workitem_tracking, auto_sync_progress, auto_sync_status, "
                f"created_at, updated_at, version) VALUES ({ppa_id}, 'P', '', 'moa_ppa', 7, 2025, 'mooe', 'medium', "
                f"100000, 0, 'planning', '{stage}', :now, 'manual', false, true, true, :now, :now, 1)")
        for rule_hash, active in [(OLD, "false"), (ACTIVE, "true")]:
            run(f"INSERT INTO rule_sets (hash, files, loaded_at, active) VALUES ('{rule_hash}', '[]', :now, {active})")

    upgrade(engine)

    with engine.begin() as connection:
        pins = dict(connection.execute(text("SELECT id, rules_hash FROM ppas ORDER BY id")).all())
    assert pins == {1: None, 2: ACTIVE, 3: ACTIVE}
