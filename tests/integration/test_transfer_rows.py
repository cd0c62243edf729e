"""Appropriation adjustments and sub-allotments are posted rows too (issue
12 item 4, docs/design.md §12 "Adjustments and transfers"): raw SQL that
rewrites or deletes one is refused by the database on SQLite and
PostgreSQL, the audit log untouched; and the database keeps the limits on
the program budget's adjusted amount (approved plus adjustments)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db import db
from tests.conftest import BACKENDS, _dispose, _make_app
from tests.integration.test_budget_limits import insert_allotment, refused, seed
from tests.integration.test_posted_rows import undone

NOW = "2025-03-01 00:00:00"
APPROPRIATION = ("INSERT INTO appropriation_adjustments (program_budget_id, organization_id, kind, allotment_class, "
                 "amount, pair_key, adjustment_date, reason, legal_basis, created_at) VALUES (1, 1, '{kind}', 'mooe', "
                 "{amount}, {pair}, '2025-05-01', 'r', 'BAA sec. 62', '" + NOW + "')")


@pytest.fixture(scope="module", params=BACKENDS)
def app(request, tmp_path_factory):
    """The application on a database holding the posted rows (``seed_transfers``),
    written once per module and backend: each test's writes are undone
    (``posted``), and a refused statement writes nothing anyway."""
    application = _make_app(request.param, request, tmp_path_factory.mktemp("transfers"))
    with application.app_context(), db.engine.begin() as connection:
        seed_transfers(connection)
    yield application
    _dispose(application)


def seed_transfers(connection) -> None:
    """A program budget of PHP 1,000,000.00 with PHP 500,000.00 allotted, an
    augmentation of PHP 100.00, a sub-allotment of PHP 1.00 to another MOA,
    by raw SQL."""
    seed(connection, approved=100_000_000, allotment=50_000_000, obligation=100)
    connection.execute(text(APPROPRIATION.format(kind="augmentation", amount=10_000, pair="NULL")))
    connection.execute(text("INSERT INTO organizations (id, code, name, created_at) "
                            "VALUES (2, 'MTIT', 'MTIT', '" + NOW + "')"))
    connection.execute(text(
        "INSERT INTO allotment_adjustments (id, allotment_id, organization_id, kind, amount, adjustment_date, "
        "reason, legal_basis, created_at) VALUES (1, 1, 1, 'sub_allotment', -100, '2025-05-01', 'r', 'SARO', "
        "'" + NOW + "')"))
    connection.execute(text(
        "INSERT INTO allotments (id, organization_id, program_budget_id, quarter, release_date, saro_number, "
        "amount, status, created_at, updated_at, version) VALUES (2, 2, 1, 2, '2025-05-01', 'SUB-1', 100, "
        "'released', '" + NOW + "', '" + NOW + "', 1)"))
    connection.execute(text(
        "INSERT INTO sub_allotments (id, allotment_id, adjustment_id, recipient_allotment_id, organization_id, "
        "recipient_organization_id, amount, sub_allotment_date, reason, legal_basis, created_at) "
        "VALUES (1, 1, 1, 2, 1, 2, 100, '2025-05-01', 'r', 'SARO', '" + NOW + "')"))


@pytest.fixture
def posted(app):
    """The rows of ``seed_transfers``, through an engine whose writes are undone after the test."""
    with undone(app) as engine:
        yield engine


REFUSED = {
    "an augmentation's amount changed": ("UPDATE appropriation_adjustments SET amount = 1", "appropriation_adjustments"),
    "an augmentation re-dated": ("UPDATE appropriation_adjustments SET adjustment_date = '2025-12-01'",
                                 "appropriation_adjustments"),
    "an augmentation deleted": ("DELETE FROM appropriation_adjustments", "appropriation_adjustments"),
    "a sub-allotment sent to another MOA": ("UPDATE sub_allotments SET recipient_organization_id = 1",
                                            "sub_allotments"),
    "a sub-allotment's amount changed": ("UPDATE sub_allotments SET amount = 1", "sub_allotments"),
    "a sub-allotment deleted": ("DELETE FROM sub_allotments", "sub_allotments"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_database_refuses_raw_sql_that_rewrites_an_adjustment_or_sub_allotment(posted, case):
    statement, table = REFUSED[case]
    with posted.connect() as connection:
        audit_before = connection.scalar(text("SELECT count(*) FROM audit_log"))
        rows_before = connection.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()

    message = refused(posted, lambda connection: connection.execute(text(statement)))

    assert f"ppaflow_posted:{table}:" in message
    with posted.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM audit_log")) == audit_before
        assert connection.execute(text(f"SELECT * FROM {table} ORDER BY id")).all() == rows_before


def test_the_allotment_limit_is_the_adjusted_appropriation_in_the_database(posted):
    # approved 1,000,000.00 + 100.00 augmented, 500,000.00 allotted (the sub-allotment moves 1.00, nets zero)
    assert "ppaflow_limit:allotment" in refused(posted, lambda c: insert_allotment(c, 3, 50_010_001))
    with posted.begin() as connection:
        insert_allotment(connection, 3, 50_010_000)
    # now all of it is allotted: an appropriation adjustment may not take any of it away
    modification = APPROPRIATION.format(kind="modification", amount=-1, pair="'k1'")
    assert "ppaflow_limit:appropriation" in refused(posted, lambda c: c.execute(text(modification)))


def test_an_appropriation_adjustment_of_the_wrong_sign_or_a_sub_allotment_to_itself_is_refused(posted):
    negative_augmentation = APPROPRIATION.format(kind="augmentation", amount=-1, pair="NULL")
    unpaired_transfer = APPROPRIATION.format(kind="transfer", amount=1, pair="NULL")
    to_itself = ("INSERT INTO sub_allotments (allotment_id, adjustment_id, recipient_allotment_id, organization_id, "
                 "recipient_organization_id, amount, sub_allotment_date, reason, legal_basis, created_at) "
                 "VALUES (1, 1, 1, 1, 1, 100, '2025-05-01', 'r', 'SARO', '" + NOW + "')")

    for statement in (negative_augmentation, unpaired_transfer, to_itself):
        assert refused(posted, lambda c, s=statement: c.execute(text(s)))
