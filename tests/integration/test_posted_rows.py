"""Posted rows never change (issue 12 item 4, docs/design.md §12): raw SQL
that rewrites, re-parents, deletes, un-voids or un-cancels a posted
allotment, obligation, disbursement or adjustment is refused by the
database itself, on SQLite and PostgreSQL, and leaves no trace in the audit
log; through the ORM the same refusal is a 409 with a sentence."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import func, select, text

from db import db
from db.audit import AuditEntry
from db.models import Obligation
from services.unit_of_work import transaction
from tests.conftest import BACKENDS, _dispose, _make_app
from tests.integration.test_budget_limits import (
    insert_allotment,
    insert_disbursement,
    insert_obligation,
    refused,
    seed,
)
from tests.support import rolled_back
from workflow.errors import PostedRowImmutable


@pytest.fixture(scope="module", params=BACKENDS)
def app(request, tmp_path_factory):
    """The application on a database holding the posted rows (``seed_posted``),
    written once per module and backend: each test's writes are rolled back
    (``posted``), and a refused statement writes nothing anyway."""
    application = _make_app(request.param, request, tmp_path_factory.mktemp("posted"))
    with application.app_context(), db.engine.begin() as connection:
        seed_posted(connection)
    yield application
    _dispose(application)


def seed_posted(connection) -> None:
    """An allotment, obligation, disbursement (paid 250,000.00), a voided and
    a cancelled row, and one adjustment of each kind, by raw SQL."""
    seed(connection, approved=100_000_000, allotment=50_000_000, obligation=30_000_000)
    insert_disbursement(connection, 1, 25_000_000)
    insert_disbursement(connection, 2, 100)
    connection.execute(text("UPDATE disbursements SET status = 'voided', voided_on = '2025-06-30' WHERE id = 2"))
    insert_obligation(connection, 2, 100)
    connection.execute(text("UPDATE obligations SET status = 'cancelled', cancelled_on = '2025-09-30' WHERE id = 2"))
    insert_allotment(connection, 2, 100)
    connection.execute(text("UPDATE allotments SET status = 'cancelled', cancelled_on = '2025-09-30' WHERE id = 2"))
    now = "2025-03-01 00:00:00"
    connection.execute(text(
        "INSERT INTO allotment_adjustments (id, allotment_id, organization_id, kind, amount, "
        "adjustment_date, reason, legal_basis, created_at) "
        "VALUES (1, 1, 1, 'reduction', -100, '2025-03-01', 'r', 'DBM letter', :now)"), {"now": now})
    connection.execute(text(
        "INSERT INTO obligation_adjustments (id, obligation_id, organization_id, amount, adjustment_date, "
        "reason, legal_basis, created_at) VALUES (1, 1, 1, -100, '2025-03-01', 'r', 'NORSA 1', :now)"),
        {"now": now})


class OneConnection:
    """What a test uses of an engine (``begin()``, ``connect()``), on the one
    connection that ``rolled_back`` holds inside an outer transaction on
    PostgreSQL: ``begin()`` is a SAVEPOINT, released when the block ends and
    rolled back when it raises, as the block's own transaction would be."""

    def __init__(self, connection):
        self.connection = connection

    @contextmanager
    def begin(self) -> Iterator:
        with self.connection.begin_nested():
            yield self.connection

    @contextmanager
    def connect(self) -> Iterator:
        yield self.connection


@contextmanager
def undone(app) -> Iterator:
    """An engine (``OneConnection`` on PostgreSQL) on ``app``'s database whose
    writes are undone when the block ends (``rolled_back``)."""
    with rolled_back(app), app.app_context():
        yield db.engine if app.config["BACKEND"] == "sqlite" else OneConnection(db.engine)


@pytest.fixture
def posted(app):
    """The posted rows (``seed_posted``), through an engine whose writes are undone after the test."""
    with undone(app) as engine:
        yield engine


def _sql(statement):
    return lambda connection: connection.execute(text(statement))


REFUSED = {
    "a paid DV's amount changed from 250,000.00 to 1.00": (
        "UPDATE disbursements SET amount = 100 WHERE id = 1", "disbursements:amount"),
    "a DV's date moved to another quarter": (
        "UPDATE disbursements SET disbursement_date = '2025-12-01' WHERE id = 1", "disbursements:disbursement_date"),
    "an ORS's amount changed": ("UPDATE obligations SET amount = 29000000 WHERE id = 1", "obligations:amount"),
    "an ORS's date changed": ("UPDATE obligations SET obligation_date = '2025-07-01' WHERE id = 1",
                              "obligations:obligation_date"),
    "an ORS's payee changed": ("UPDATE obligations SET payee = 'Admin''s own payee' WHERE id = 1",
                               "obligations:payee"),
    "an ORS's number changed": ("UPDATE obligations SET ors_number = 'ORS-X' WHERE id = 1", "obligations:ors_number"),
    "a SARO's amount lowered": ("UPDATE allotments SET amount = 40000000 WHERE id = 1", "allotments:amount"),
    "a SARO's release date changed": ("UPDATE allotments SET release_date = '2025-05-01' WHERE id = 1",
                                      "allotments:release_date"),
    "a DV moved to another ORS": ("UPDATE disbursements SET obligation_id = 2 WHERE id = 1",
                                  "disbursements:obligation_id"),
    "an ORS moved to another SARO": ("UPDATE obligations SET allotment_id = 2 WHERE id = 1",
                                     "obligations:allotment_id"),
    "a SARO moved to another appropriation": ("UPDATE allotments SET program_budget_id = 2 WHERE id = 1",
                                              "allotments:program_budget_id"),
    "a SARO moved to another MOA": ("UPDATE allotments SET organization_id = 2 WHERE id = 1",
                                    "allotments:organization_id"),
    "a DV moved to another MOA": ("UPDATE disbursements SET organization_id = 2 WHERE id = 1",
                                  "disbursements:organization_id"),
    "a DV deleted": ("DELETE FROM disbursements WHERE id = 1", "disbursements:delete"),
    "a voided DV deleted": ("DELETE FROM disbursements WHERE id = 2", "disbursements:delete"),
    "an ORS deleted": ("DELETE FROM obligations WHERE id = 2", "obligations:delete"),
    "a voided DV un-voided (paid twice)": ("UPDATE disbursements SET status = 'disbursed' WHERE id = 2",
                                           "disbursements:status"),
    "a cancelled ORS un-cancelled": ("UPDATE obligations SET status = 'obligated' WHERE id = 2",
                                     "obligations:status"),
    "a cancelled SARO un-cancelled": ("UPDATE allotments SET status = 'released' WHERE id = 2", "allotments:status"),
    "a void re-dated to another quarter": ("UPDATE disbursements SET voided_on = '2025-12-01' WHERE id = 2",
                                           "disbursements:voided_on"),
    "a cancellation's reason rewritten": ("UPDATE obligations SET cancel_reason = 'other' WHERE id = 2",
                                          "obligations:cancelled_on"),
    "a DV voided without a date": ("UPDATE disbursements SET status = 'voided' WHERE id = 1",
                                   "disbursements:voided_on"),
    "a DV voided before it was paid": (
        "UPDATE disbursements SET status = 'voided', voided_on = '2025-01-01' WHERE id = 1",
        "disbursements:voided_on"),
    "an allotment adjustment changed": ("UPDATE allotment_adjustments SET amount = -200 WHERE id = 1",
                                        "allotment_adjustments:update"),
    "an allotment adjustment deleted": ("DELETE FROM allotment_adjustments WHERE id = 1",
                                        "allotment_adjustments:delete"),
    "a NORSA changed": ("UPDATE obligation_adjustments SET adjustment_date = '2025-12-01' WHERE id = 1",
                        "obligation_adjustments:update"),
    "a NORSA deleted": ("DELETE FROM obligation_adjustments WHERE id = 1", "obligation_adjustments:delete"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_database_refuses_raw_sql_that_rewrites_a_posted_row_and_the_audit_log_is_unchanged(posted, case):
    statement, expected = REFUSED[case]
    with posted.connect() as connection:
        before = connection.scalar(text("SELECT count(*) FROM audit_log"))
        row_before = connection.execute(text("SELECT * FROM disbursements ORDER BY id")).all()

    message = refused(posted, _sql(statement))

    assert f"ppaflow_posted:{expected}" in message
    with posted.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM audit_log")) == before
        assert connection.execute(text("SELECT * FROM disbursements ORDER BY id")).all() == row_before


def test_the_declared_status_moves_are_allowed_by_raw_sql(posted):
    with posted.begin() as connection:
        connection.execute(text("UPDATE obligations SET status = 'partially_disbursed' WHERE id = 1"))
        connection.execute(text("UPDATE allotments SET status = 'partially_utilized' WHERE id = 1"))
        connection.execute(text("UPDATE allotments SET status = 'released' WHERE id = 1"))
        connection.execute(text("UPDATE disbursements SET status = 'voided', voided_on = '2025-11-03', "
                                "void_reason = 'stale check' WHERE id = 1"))
        voided = connection.execute(text("SELECT status, voided_on FROM disbursements WHERE id = 1")).one()

    assert (voided.status, str(voided.voided_on)) == ("voided", "2025-11-03")


def test_adjustments_beyond_the_limits_are_refused_by_raw_sql(posted):
    # the obligation is 300,000.00 less a NORSA of 1.00, with 250,000.00 paid: 49,999.00 can come off, not 50,000.00
    norsa = ("INSERT INTO obligation_adjustments (obligation_id, organization_id, amount, adjustment_date, reason, "
             "legal_basis, created_at) VALUES (1, 1, {amount}, '2025-05-01', 'r', 'NORSA', '2025-05-01 00:00:00')")
    assert "ppaflow_limit:disbursement" in refused(posted, _sql(norsa.format(amount=-5_000_000)))
    # the allotment is 500,000.00 less 1.00, with 299,999.00 obligated: 200,000.01 more does not fit
    assert "ppaflow_limit:obligation" in refused(posted, _sql(norsa.format(amount=20_000_001)))
    withdrawal = ("INSERT INTO allotment_adjustments (allotment_id, organization_id, kind, amount, adjustment_date, "
                  "reason, legal_basis, created_at) VALUES (1, 1, '{kind}', {amount}, '2025-05-01', 'r', 'DBM', "
                  "'2025-05-01 00:00:00')")
    # ... and taking 200,000.01 off it would leave it below the 299,999.00 obligated
    assert "ppaflow_limit:obligation" in refused(posted, _sql(withdrawal.format(kind="withdrawal",
                                                                                amount=-20_000_001)))
    # the program budget is 1,000,000.00 with 499,999.00 allotted: 500,001.01 more does not fit
    assert "ppaflow_limit:allotment" in refused(posted, _sql(withdrawal.format(kind="augmentation",
                                                                               amount=50_000_101)))
    with posted.begin() as connection:  # exactly what fits is accepted
        connection.execute(text(norsa.format(amount=-4_999_900)))
        connection.execute(text(withdrawal.format(kind="augmentation", amount=50_000_100)))
        balance = connection.scalar(text(
            "SELECT o.amount + (SELECT sum(amount) FROM obligation_adjustments WHERE obligation_id = o.id) "
            "FROM obligations o WHERE o.id = 1"))

    assert balance == 25_000_000


def test_an_orm_write_to_a_posted_column_is_a_409_sentence(posted, app):
    with app.app_context():
        with pytest.raises(PostedRowImmutable) as caught, transaction():
            db.session.get(Obligation, 1).obligation_date = date(2027, 1, 1)
        audit_rows = db.session.scalar(select(func.count()).select_from(AuditEntry))

    assert (caught.value.table, caught.value.field) == ("obligations", "obligation_date")
    assert caught.value.detail == ("a posted obligation's obligation date never changes; correct it with a NORSA "
                                   "adjustment or a cancellation")
    assert audit_rows == 0
