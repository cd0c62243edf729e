"""Migration 0017 on a database with data (issue 12 item 3; docs/design.md
§12, "Document numbers and modes of payment"): old modes of payment map to
the DV form's four, each DV gets its program budget's fund cluster, the
free-form ORS and DV numbers written before stay as they are, the
series start after the numbers already in the appendices' forms, and a
posted DV's fund cluster never changes. The
downgrade maps the modes back."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.migrate import downgrade, upgrade
from tests.integration.migrated import engine_at
from tests.integration.test_migration_0007 import BEFORE, NOW, old_rows

engine = engine_at(BEFORE)  # SQLite: a copy of a database migrated to it (tests/integration/migrated.py)


def test_migration_0017_maps_the_modes_of_payment_keeps_old_numbers_and_starts_the_series_after_them(engine):
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        old_rows(connection)  # obligation 1 'O-1', DV 1 'D-1' by check (organization 7, program budget 1)
    upgrade(engine, "0015")
    with engine.begin() as connection:
        run = lambda sql: connection.execute(text(sql), {"now": NOW})  # noqa: E731
        run("UPDATE program_budgets SET fund_cluster = '07'")
        run("INSERT INTO obligations (id, organization_id, allotment_id, payee, ors_number, particulars, "
            "obligation_date, amount, status, created_at, updated_at, version) VALUES (2, 7, 1, 'P', "
            "'02-07-2025-03-00007', '', '2025-03-02', 1000, 'obligated', :now, :now, 1)")
        for id_, number, method in ((2, '2025-04-0003', 'bank_transfer'), (3, 'DV-X', 'cash'),
                                    (4, '2025-05-0002', 'other')):
            run("INSERT INTO disbursements (id, organization_id, obligation_id, dv_number, payment_method, "
                f"disbursement_date, amount, status, created_at, updated_at, version) VALUES ({id_}, 7, 1, "
                f"'{number}', '{method}', '2025-05-01', 100, 'disbursed', :now, :now, 1)")

    before, after = upgrade(engine, "0017")

    assert (before, after) == ("0015", "0017")
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT id, dv_number, payment_method, fund_cluster FROM disbursements ORDER BY id")).all() == [
            (1, 'D-1', 'mds_check', '07'), (2, '2025-04-0003', 'ada', '07'), (3, 'DV-X', 'other', '07'),
            (4, '2025-05-0002', 'other', '07')]
        assert connection.execute(text("SELECT ors_number FROM obligations ORDER BY id")).scalars().all() == [
            'O-1', '02-07-2025-03-00007']
        assert connection.execute(text(
            "SELECT organization_id, document, fund_cluster, year, last_serial FROM document_number_series "
            "ORDER BY document")).all() == [(7, 'dv', '', 2025, 3), (7, 'ors', '07', 2025, 7)]
    with pytest.raises(DBAPIError, match="ppaflow_posted:disbursements:amount"), engine.begin() as connection:
        connection.execute(text("UPDATE disbursements SET amount = 1 WHERE id = 1"))  # triggers came through
    with pytest.raises(DBAPIError, match="ppaflow_posted:disbursements:fund_cluster"), engine.begin() as connection:
        connection.execute(text("UPDATE disbursements SET fund_cluster = '01' WHERE id = 1"))

    downgrade(engine, "0015")

    with engine.connect() as connection:
        assert connection.execute(text("SELECT payment_method FROM disbursements ORDER BY id")).scalars().all() == [
            'check', 'bank_transfer', 'other', 'other']
