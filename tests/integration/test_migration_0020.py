"""Migration 0020 (issue 13 item 1) on a database with data: an existing
organization gets an empty FAR No. 1 header block and no signatories, keeps
its code, name and UACS code, and the new columns take text."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import text

from db.migrate import alembic_config, upgrade
from tests.integration.migrated import engine_at

NOW = datetime(2025, 3, 1, tzinfo=UTC)
BEFORE = ScriptDirectory.from_config(alembic_config()).get_revision("0020").down_revision
engine = engine_at(BEFORE)  # SQLite: a copy of a database migrated to it (tests/integration/migrated.py)
COLUMNS = ("department", "agency", "operating_unit", "budget_officer_name", "budget_officer_position",
           "chief_accountant_name", "chief_accountant_position", "head_of_agency_name", "head_of_agency_position")


def test_migration_0020_gives_existing_organizations_an_empty_header_and_no_signatories(engine):
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO organizations (id, code, name, uacs_code, created_at) VALUES "
                                "(7, 'MSSD', 'Ministry of Social Services', '400010100001', :now)"), {"now": NOW})

    before, after = upgrade(engine)

    assert before == BEFORE and after != BEFORE
    with engine.begin() as connection:
        row = connection.execute(text(f"SELECT code, name, uacs_code, {', '.join(COLUMNS)} FROM organizations")).one()
        assert row == ("MSSD", "Ministry of Social Services", "400010100001", *[""] * len(COLUMNS))
        connection.execute(text("UPDATE organizations SET budget_officer_name = 'JUANA CRUZ', "
                                "budget_officer_position = 'Budget Officer IV' WHERE id = 7"))
        assert connection.scalar(text("SELECT budget_officer_position FROM organizations")) == "Budget Officer IV"
