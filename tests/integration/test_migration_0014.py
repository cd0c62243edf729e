"""Migration 0014 on a database with data (issue 12 item 7; docs/design.md
§12, "Money spent and payables"): a PPA already in the money chain keeps
what its work items reported as their opening balance, and its project
takes the disbursements paid before obligations could be charged to work
items; a PPA outside the chain is left as reported."""

from __future__ import annotations

from sqlalchemy import text

from db.migrate import upgrade
from tests.integration.migrated import engine_at
from tests.integration.test_migration_0007 import BEFORE, old_rows

engine = engine_at(BEFORE)  # SQLite: a copy of a database migrated to it (tests/integration/migrated.py)


def test_migration_0014_opens_the_balances_of_ppas_in_the_chain_and_charges_their_disbursements(engine):
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        old_rows(connection)  # PPA 3: project 11, task 12, an allotment and a DV of 100.00 (10000 centavos)
    upgrade(engine, "0010")
    with engine.begin() as connection:
        connection.execute(text("UPDATE work_items SET actual_expenditure = 2550 WHERE id = 12"))

    before, after = upgrade(engine, "0014")

    assert (before, after) == ("0010", "0014")
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id, actual_expenditure, expenditure_opening_balance FROM work_items ORDER BY id")).all()
        assert rows == [(11, 10000, 0), (12, 2550, 2550)]
        assert connection.scalar(text("SELECT work_item_id FROM obligations")) is None
        assert connection.scalar(text("SELECT count(*) FROM obligation_deliveries")) == 0
