"""Migration 0016 on a database with data (issue 12 item 3; docs/design.md
§12 "ORS and DV as documents"): an ORS and a DV posted before it stay
posted and fixed; drafts then count in no limit until posted; and it goes
down and up again. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.migrate import downgrade, upgrade
from tests.integration.migrated import engine_at
from tests.integration.test_budget_limits import (
    insert_disbursement,
    insert_obligation,
    seed,
)

engine = engine_at("0015")  # SQLite: a copy of a database migrated to it (tests/integration/migrated.py)


def test_migration_0016_keeps_posted_rows_posted_lets_drafts_count_nowhere_and_goes_down_and_up(engine):
    upgrade(engine, "0015")
    with engine.begin() as connection:  # allotment 500,000.00, ORS 300,000.00 paid 100,000.00 (centavos)
        seed(connection, approved=100_000_000, allotment=50_000_000, obligation=30_000_000)
        insert_disbursement(connection, 1, 10_000_000, method="check")

    upgrade(engine, "0016")  # the schema 0016 leaves (0017 renames the modes of payment)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM obligations UNION ALL SELECT status FROM disbursements")
                                  ).scalars().all() == ["obligated", "disbursed"]
    for statement, refusal in (("UPDATE obligations SET amount = 1 WHERE id = 1", "obligations:amount"),
                               ("UPDATE disbursements SET status = 'draft' WHERE id = 1", "disbursements:status"),
                               ("UPDATE disbursements SET jev_number = 'JEV-X' WHERE id = 1",
                                "disbursements:jev_number")):
        with pytest.raises(DBAPIError, match=f"ppaflow_posted:{refusal}"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.begin() as connection:  # a draft above what is left counts nowhere, and a paid DV under the rest
        insert_obligation(connection, 2, 40_000_000, status="draft")
        insert_disbursement(connection, 2, 20_000_000, method="check")
    with pytest.raises(DBAPIError, match="ppaflow_limit:disbursement"), engine.begin() as connection:
        insert_disbursement(connection, 3, 1, obligation=2, method="check")  # nothing is paid from a draft ORS

    with pytest.raises(RuntimeError, match="drafts or withdrawn"):
        downgrade(engine, "0015")
    with engine.begin() as connection:
        connection.execute(text("UPDATE obligations SET status = 'charges_certified', amount = 20000000 "
                                "WHERE id = 2"))
        connection.execute(text("UPDATE obligations SET status = 'obligated' WHERE id = 2"))
    downgrade(engine, "0015")
    with pytest.raises(DBAPIError), engine.begin() as connection:  # 0015's statuses are back
        insert_obligation(connection, 3, 1, status="draft")

    upgrade(engine, "0016")
    with engine.begin() as connection:  # the allotment is used up: a draft may wait, not post
        insert_obligation(connection, 3, 1, status="draft")
        connection.execute(text("UPDATE obligations SET status = 'charges_certified' WHERE id = 3"))
    with pytest.raises(DBAPIError, match="ppaflow_limit:obligation"), engine.begin() as connection:
        connection.execute(text("UPDATE obligations SET status = 'obligated' WHERE id = 3"))
