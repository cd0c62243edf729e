"""The limits of the budget execution chain, enforced by the database
itself: raw SQL that bypasses the services is refused on SQLite and
PostgreSQL, and concurrent inserts on PostgreSQL never overshoot."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from db import db
from tests.support import Chain, race

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def seed(connection, *, approved=1_000_000, allotment=500_000, obligation=300_000):
    """One PPA, program budget, allotment, obligation (centavos), by raw SQL."""
    connection.execute(text("INSERT INTO organizations (id, code, name, created_at) VALUES (1, 'MSSD', 'MSSD', :now)"),
                       {"now": NOW})
    connection.execute(text(
        "INSERT INTO ppas (id, title, summary, category, organization_id, fiscal_year, appropriation_class, priority, "
        "budget_allocation, progress, status, approval_status, stage_entered_at, budget_distribution_policy, "
        "enable_workitem_tracking, auto_sync_progress, auto_sync_status, created_at, updated_at, version) VALUES "
        "(1, 'P', '', 'moa_ppa', 1, 2025, 'mooe', 'medium', :approved, 0, 'ongoing', 'enacted', :now, 'manual', "
        "false, true, true, :now, :now, 1)"), {"approved": approved, "now": NOW})
    connection.execute(text("INSERT INTO budget_proposals (id, organization_id, fiscal_year, title, status, notes, "
                            "created_at, updated_at, version) VALUES (1, 1, 2025, 'B', 'draft', '', :now, :now, 1)"),
                       {"now": NOW})
    connection.execute(text("INSERT INTO program_budgets (id, proposal_id, ppa_id, approved_amount, ps, mooe, finex, co, "
                            "fund_cluster, pap_code, enactment_act, supplemental, created_at, updated_at, version) "
                            "VALUES (1, 1, 1, :approved, 0, :approved, 0, 0, '01', '', '', false, :now, :now, 1)"),
                       {"approved": approved, "now": NOW})
    insert_allotment(connection, 1, allotment)
    insert_obligation(connection, 1, obligation)


def insert_allotment(connection, allotment_id, amount, program_budget=1, status="released"):
    connection.execute(text(
        "INSERT INTO allotments (id, organization_id, program_budget_id, quarter, release_date, saro_number, amount, "
        "status, created_at, updated_at, version) "
        "VALUES (:id, 1, :pb, 1, '2025-02-01', :saro, :amount, :status, :now, :now, 1)"),
        {"id": allotment_id, "pb": program_budget, "saro": f"SARO-{allotment_id}", "amount": amount,
         "status": status, "now": NOW})


def insert_obligation(connection, obligation_id, amount, allotment=1, status="obligated"):
    connection.execute(text(
        "INSERT INTO obligations (id, organization_id, allotment_id, payee, ors_number, particulars, obligation_date, "
        "amount, status, created_at, updated_at, version) "
        "VALUES (:id, 1, :allotment, 'Payee', :ors, '', '2025-03-01', :amount, :status, :now, :now, 1)"),
        {"id": obligation_id, "allotment": allotment, "ors": f"ORS-{obligation_id}", "amount": amount,
         "status": status, "now": NOW})


def insert_disbursement(connection, disbursement_id, amount, obligation=1, status="disbursed", method="mds_check"):
    """A DV row by raw SQL (``method``: ``check`` in a schema before migration 0017)."""
    connection.execute(text(
        "INSERT INTO disbursements (id, organization_id, obligation_id, dv_number, payment_method, disbursement_date, "
        "amount, status, created_at, updated_at, version) "
        "VALUES (:id, 1, :obligation, :dv, :method, '2025-04-01', :amount, :status, :now, :now, 1)"),
        {"id": disbursement_id, "obligation": obligation, "dv": f"DV-{disbursement_id}", "amount": amount,
         "status": status, "now": NOW, "method": method})


@pytest.fixture
def seeded(app):
    with app.app_context():
        with db.engine.begin() as connection:
            seed(connection)
        yield db.engine


def refused(engine, statement) -> str:
    """Run ``statement(connection)`` in its own transaction; it must be refused."""
    with pytest.raises(DBAPIError) as caught:
        with engine.begin() as connection:
            statement(connection)
    return str(caught.value.orig)


CASES = {
    "allotments above the program budget": lambda c: insert_allotment(c, 2, 500_001),
    "obligations above the allotment": lambda c: insert_obligation(c, 2, 200_001),
    "disbursements above the obligation": lambda c: (insert_disbursement(c, 1, 300_000),
                                                      insert_disbursement(c, 2, 1)),
    "an allotment cancelled under active obligations": lambda c: c.execute(text(
        "UPDATE allotments SET status = 'cancelled', cancelled_on = '2025-03-01' WHERE id = 1")),
    "a program budget lowered below its allotments": lambda c: c.execute(text(
        "UPDATE program_budgets SET approved_amount = 499999 WHERE id = 1")),
    "an obligation on a cancelled allotment": lambda c: (
        insert_allotment(c, 2, 100_000, status="cancelled"), insert_obligation(c, 2, 1, allotment=2)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_database_refuses_raw_sql_that_breaks_a_limit(seeded, case):
    message = refused(seeded, CASES[case])

    assert "ppaflow_limit:" in message


def test_raw_sql_within_the_limits_is_accepted_to_the_centavo(seeded):
    with seeded.begin() as connection:
        insert_allotment(connection, 2, 500_000)            # program budget exactly full
        insert_obligation(connection, 2, 200_000)           # allotment exactly full
        insert_disbursement(connection, 1, 299_999)
        insert_disbursement(connection, 2, 1)               # obligation exactly paid
        insert_disbursement(connection, 3, 5, status="voided")  # voided: not counted
        total = connection.scalar(text("SELECT sum(amount) FROM disbursements WHERE status <> 'voided'"))

    assert total == 300_000


def test_financial_rows_cannot_be_deleted_even_with_nothing_depending_on_them(seeded):
    with seeded.begin() as connection:
        insert_allotment(connection, 2, 1)
    message = refused(seeded, lambda c: c.execute(text("DELETE FROM allotments WHERE id = 2")))

    assert "ppaflow_posted:allotments:delete" in message


def test_the_audit_log_is_append_only(app, world):
    world.create_ppa()
    with app.app_context():
        for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
            assert "append-only" in refused(db.engine, lambda c, s=statement: c.execute(text(s)))


def test_twenty_concurrent_obligations_against_room_for_five_land_exactly_five(pg_app):
    with pg_app.app_context():
        with db.engine.begin() as connection:
            seed(connection)
            insert_allotment(connection, 2, 500_000)  # a fresh allotment with room for five obligations of 100,000
        url = db.engine.url
    engines = [create_engine(url, pool_size=1) for _ in range(20)]
    barrier, outcomes = threading.Barrier(20), []

    def obligate(index: int) -> None:
        barrier.wait()
        try:
            with engines[index].begin() as connection:
                insert_obligation(connection, 100 + index, 100_000, allotment=2)
            outcomes.append("landed")
        except DBAPIError as exc:
            outcomes.append("refused" if "ppaflow_limit:obligation" in str(exc.orig) else f"error: {exc.orig}")

    threads = [threading.Thread(target=obligate, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with pg_app.app_context(), db.engine.connect() as connection:
        total = connection.scalar(text("SELECT sum(amount) FROM obligations WHERE allotment_id = 2"))
    for engine in engines:
        engine.dispose()

    assert sorted(outcomes) == ["landed"] * 5 + ["refused"] * 15
    assert total == 500_000


def test_twenty_concurrent_api_obligations_against_room_for_five_land_exactly_five(pg_app, pg_world):
    chain = Chain(pg_world)
    allotment = chain.allot("500000.00")["id"]
    # twenty ORS prepared and signed in Box A (drafts count nowhere); the budget officer signs Box B of all at once
    drafts = [chain.ors_ready_for_box_b(allotment, "100000.00") for _ in range(20)]

    responses = race(pg_app, [chain.box_b(ors) for ors in drafts])

    assert sorted(r.status_code for r in responses) == [200] * 5 + [409] * 15
    shown = chain.get(f"/api/allotments/{allotment}")
    assert (shown["obligated"], shown["available"], shown["status"]) == ("500000.00", "0.00", "fully_utilized")
