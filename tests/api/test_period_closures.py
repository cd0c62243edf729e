"""Closing a period (issue 12 item 5; docs/design.md §12 "Closing a
period"): a MOA's budget officer and chief accountant, two different
people, close a quarter; its figures are kept as a snapshot that later
postings never change; a posting dated in it is refused with 409
``period_closed`` and goes into the open period instead; reopening takes
the same two signatures and a reason, and is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db import db
from services.calendar import today
from tests.api.test_audit_api import audit

#: What these tests check is the services' (the database's own refusals: tests marked ``both_backends``,
#: tests/integration/test_budget_limits.py): one backend (tests/conftest.py, ``pytest_generate_tests``).
pytestmark = pytest.mark.one_backend


@pytest.fixture
def signers(world):
    """MSSD's budget officer and chief accountant."""
    return (world.person("mssd.budget", "budget_officer", org="MSSD"),
            world.person("mssd.accountant", "chief_accountant", org="MSSD"))


def sign(world, who, quarter=1, fiscal_year=2025, organization="MSSD"):
    return world.client.post("/api/period-closures", json={"organization": organization, "fiscal_year": fiscal_year,
                                                          "quarter": quarter}, headers=who.headers)


def close(world, signers, quarter=1) -> dict:
    """Both signatures, in the order given; returns the closed closure."""
    first = sign(world, signers[0], quarter)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["status"] == "closing"
    second = sign(world, signers[1], quarter)
    assert second.status_code == 200, second.get_json()
    assert second.get_json()["status"] == "closed"
    return second.get_json()


def reopen(world, closure_id, who, reason="ORS 2025-03-0007 was encoded under the wrong PAP"):
    return world.client.post(f"/api/period-closures/{closure_id}/reopen", json={"reason": reason},
                             headers=who.headers)


def norsa(chain, obligation, amount, day, expect=201):
    return chain.post(f"/api/obligations/{obligation}/adjustments", chain.world.focal, expect, amount=amount,
                      adjustment_date=day, reason="Fewer participants", legal_basis="NORSA No. 2025-0001")


def first_quarter(chain):
    """Q1 2025 of MSSD: a SARO of 1,000,000.00 (3 Feb), an ORS of 400,000.00
    (10 Mar) lowered by a NORSA of 50,000.00 (25 Mar), a DV of 100,000.00
    (20 Mar)."""
    allotment = chain.allot("1000000.00", quarter=1)["id"]
    obligation = chain.obligate(allotment, "400000.00")["id"]
    disbursement = chain.disburse(obligation, "100000.00", day="2025-03-20")["id"]
    norsa(chain, obligation, "-50000.00", "2025-03-25")
    return allotment, obligation, disbursement


def test_a_closed_quarter_keeps_its_snapshot_after_later_postings_adjustments_and_a_void(chain, world, signers):
    allotment, obligation, disbursement = first_quarter(chain)

    closed = close(world, signers)

    snapshot = closed["snapshot"]
    assert [(line["program_budget_id"], line["allotment_class"], line["allotted"], line["obligated"],
             line["disbursed"], line["cumulative_obligated"]) for line in snapshot] == [
        (chain.program_budget, "mooe", "1000000.00", "350000.00", "100000.00", "350000.00")]
    assert [(s["username"], s["role"]) for s in closed["signatures"]] == [
        ("mssd.budget", "budget_officer"), ("mssd.accountant", "chief_accountant")]

    # Later quarters: a DV, a NORSA, an allotment reduction and the void of the Q1 DV, all dated in Q3.
    chain.disburse(obligation, "50000.00", day="2025-07-10")
    norsa(chain, obligation, "10000.00", "2025-07-15")
    chain.post(f"/api/allotments/{allotment}/adjustments", world.budget_analyst, 201, kind="reduction",
               amount="20000.00", adjustment_date="2025-07-20", reason="Realigned", legal_basis="DBM letter 2025-041")
    chain.post(f"/api/disbursements/{disbursement}/void", world.focal, 200, reason="Check spoiled",
               voided_on="2025-08-01")

    again = chain.get(f"/api/period-closures/{closed['id']}")
    assert again["snapshot"] == snapshot
    assert again["totals"]["disbursed"] == "100000.00"
    # The chain itself moved on: the allotment now has 980,000.00 and the Q1 DV is voided.
    assert chain.get(f"/api/allotments/{allotment}")["adjusted_amount"] == "980000.00"
    assert chain.get(f"/api/disbursements/{disbursement}")["status"] == "voided"


def test_a_posting_dated_in_the_closed_quarter_is_refused_and_the_same_dated_in_the_open_quarter_is_accepted(
        chain, world, signers):
    allotment, obligation, disbursement = first_quarter(chain)
    spare = chain.obligate(allotment, "5000.00")["id"]
    closure = close(world, signers)

    refused = chain.obligate(allotment, "10000.00", expect=409, day="2025-03-15")
    accepted = chain.obligate(allotment, "10000.00", day="2025-04-15")

    assert refused["code"] == "period_closed"
    assert refused["closure_id"] == closure["id"] and refused["period"] == "Q1 2025"
    assert "Q1 2025 of MSSD is closed" in refused["detail"]
    assert "mssd.budget" in refused["detail"] and "mssd.accountant" in refused["detail"]
    assert "open period, as an adjustment" in refused["detail"]
    assert accepted["obligation_date"] == "2025-04-15"
    # Every kind of posting dated in Q1 is refused: a release, a DV, a NORSA, a delivery, a cancellation, a void.
    assert chain.allot("1.00", expect=409, day="2025-03-31")["code"] == "period_closed"
    assert chain.disburse(obligation, "1.00", expect=409, day="2025-03-31")["code"] == "period_closed"
    assert norsa(chain, obligation, "1.00", "2025-03-31", expect=409)["code"] == "period_closed"
    assert chain.post(f"/api/obligations/{obligation}/deliveries", world.focal, 409, amount="1.00",
                      accepted_on="2025-03-31")["code"] == "period_closed"
    assert chain.post(f"/api/obligations/{spare}/cancel", world.focal, 409, reason="rescinded",
                      cancelled_on="2025-03-31")["code"] == "period_closed"
    assert chain.post(f"/api/disbursements/{disbursement}/void", world.focal, 409, reason="spoiled",
                      voided_on="2025-03-31")["code"] == "period_closed"
    assert chain.post(f"/api/allotments/{allotment}/adjustments", world.budget_analyst, 409, kind="augmentation",
                      amount="1.00", adjustment_date="2025-03-31", reason="r",
                      legal_basis="DBM letter")["code"] == "period_closed"
    # ... and the cancellation and the void dated in the open quarter are accepted.
    chain.post(f"/api/obligations/{spare}/cancel", world.focal, 200, reason="rescinded", cancelled_on="2025-04-02")
    chain.post(f"/api/disbursements/{disbursement}/void", world.focal, 200, reason="spoiled", voided_on="2025-04-02")


def test_one_person_never_signs_twice_not_even_an_administrator(chain, world, signers):
    budget_officer, accountant = signers
    second_officer = world.person("mssd.budget2", "budget_officer", org="MSSD")

    assert sign(world, budget_officer).status_code == 200
    twice = sign(world, budget_officer)
    same_role = sign(world, second_officer)

    assert twice.status_code == 403 and twice.get_json()["code"] == "separation_of_duties"
    assert "another person" in twice.get_json()["detail"]
    assert same_role.status_code == 403 and "chief accountant must sign" in same_role.get_json()["detail"]

    # An administrator may sign in a role, but only once.
    assert sign(world, world.admin, quarter=2).get_json()["status"] == "closing"
    admin_twice = sign(world, world.admin, quarter=2)
    assert admin_twice.status_code == 403 and admin_twice.get_json()["code"] == "separation_of_duties"
    closed = sign(world, accountant, quarter=2).get_json()
    assert closed["status"] == "closed"
    assert [(s["username"], s["role"], s["superuser"]) for s in closed["signatures"]] == [
        ("admin", "budget_officer", True), ("mssd.accountant", "chief_accountant", False)]
    # Neither a MOA focal person nor an MFBM analyst signs.
    for other in (world.focal, world.budget_analyst):
        refused = sign(world, other, quarter=3)
        assert refused.status_code == 403 and refused.get_json()["code"] == "role_missing"


def test_the_chief_accountant_may_sign_first_and_a_quarter_closes_once(chain, world, signers):
    close(world, (signers[1], signers[0]))

    again = sign(world, signers[0])

    assert again.status_code == 409 and again.get_json()["code"] == "period_already_closed"


def test_a_quarter_that_has_not_ended_is_not_closed(world, signers):
    with world.app.app_context():
        year = today().year + 1

    refused = sign(world, signers[0], quarter=1, fiscal_year=year)

    assert refused.status_code == 409 and refused.get_json()["code"] == "period_not_ended"


def test_reopening_takes_both_signatures_and_a_reason_then_the_quarter_takes_postings_and_closes_anew(
        chain, world, signers):
    allotment, _, _ = first_quarter(chain)
    closure = close(world, signers)

    assert world.client.post(f"/api/period-closures/{closure['id']}/reopen", json={},
                             headers=signers[0].headers).status_code == 422
    half = reopen(world, closure["id"], signers[1])
    assert half.status_code == 200 and half.get_json()["status"] == "reopening"
    assert reopen(world, closure["id"], signers[1]).status_code == 403  # the same person again
    assert chain.obligate(allotment, "10000.00", expect=409, day="2025-03-15")["code"] == "period_closed"

    reopened = reopen(world, closure["id"], signers[0]).get_json()

    assert reopened["status"] == "reopened"
    assert "wrong PAP" in reopened["reopen_reason"]
    assert reopened["snapshot"] == closure["snapshot"]
    late = chain.obligate(allotment, "10000.00", day="2025-03-15")
    assert late["obligation_date"] == "2025-03-15"
    # A later close is a new closure with a new snapshot; the old one stays as it was.
    closed_again = close(world, signers)
    assert closed_again["id"] != closure["id"]
    assert closed_again["snapshot"][0]["obligated"] == "360000.00"
    assert chain.get(f"/api/period-closures/{closure['id']}")["snapshot"] == closure["snapshot"]
    assert reopen(world, closure["id"], signers[0]).get_json()["code"] == "period_not_closed"
    # Audited: the closure's status moves and every signature.
    moves = [(row["field"], row["new_value"]) for row in audit(world, entity="period_closure", id=closure["id"])]
    assert ("status", '"reopening"') in moves and ("status", '"reopened"') in moves
    assert len(audit(world, entity="period_closure_signature")) == 6


def test_another_moas_closures_do_not_exist_for_a_moa_user(chain, world, signers):
    closure = close(world, signers)
    mtit_officer = world.person("mtit.budget", "budget_officer", org="MTIT")

    assert world.client.get(f"/api/period-closures/{closure['id']}",
                            headers=world.other_focal.headers).status_code == 404
    assert reopen(world, closure["id"], mtit_officer).status_code == 404
    assert world.client.get("/api/period-closures", headers=mtit_officer.headers).get_json() == []
    assert sign(world, mtit_officer).status_code == 403  # MSSD's quarter: not their role there
    listed = world.client.get("/api/period-closures?organization=MSSD&fiscal_year=2025",
                              headers=world.focal.headers).get_json()
    assert [c["id"] for c in listed] == [closure["id"]]
    assert world.client.get("/api/period-closures?fiscal_year=2024", headers=world.focal.headers).get_json() == []


@pytest.mark.both_backends
def test_a_snapshot_and_its_signatures_are_append_only_in_the_database(app, chain, world, signers):
    first_quarter(chain)
    close(world, signers)

    with app.app_context():
        for statement in ("UPDATE period_snapshot_lines SET disbursed = 1", "DELETE FROM period_snapshot_lines",
                          "UPDATE period_closure_signatures SET user_id = user_id",
                          "DELETE FROM period_closure_signatures"):
            with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
                connection.execute(text(statement))


def test_postings_racing_the_closing_signature_are_either_in_the_snapshot_or_refused(pg_app, pg_world):
    from tests.support import Chain, built_once, race

    chain = built_once(pg_world, "chain", Chain)  # the suite's chain, built once
    allotment = chain.allot("1000000.00", quarter=1)["id"]
    officer = pg_world.person("mssd.budget", "budget_officer", org="MSSD")
    accountant = pg_world.person("mssd.accountant", "chief_accountant", org="MSSD")
    assert sign(pg_world, officer).status_code == 200

    drafts = [chain.ors_ready_for_box_b(allotment, "1000.00", day="2025-03-20") for _ in range(12)]

    def obligate(index):  # Box B: the ORS obligates, in Q1
        return chain.box_b(drafts[index])

    closing = lambda client: client.post("/api/period-closures", headers=accountant.headers,
                                         json={"organization": "MSSD", "fiscal_year": 2025, "quarter": 1})

    responses = race(pg_app, [obligate(i) for i in range(12)] + [closing])

    statuses = [r.status_code for r in responses[:-1]]
    assert responses[-1].status_code == 200, responses[-1].get_json()
    assert set(statuses) <= {200, 409}
    assert all(r.get_json()["code"] == "period_closed" for r in responses[:-1] if r.status_code == 409)
    snapshot = chain.get(f"/api/period-closures/{responses[-1].get_json()['id']}")["snapshot"]
    accepted = statuses.count(200)
    assert snapshot[0]["obligated"] == f"{1000 * accepted}.00"
    assert chain.get(f"/api/allotments/{allotment}")["obligated"] == f"{1000 * accepted}.00"


@pytest.mark.both_backends
def test_the_database_itself_refuses_raw_sql_postings_dated_in_a_closed_quarter(app, chain, world, signers):
    from datetime import UTC, date, datetime

    _, obligation, disbursement = first_quarter(chain)
    close(world, signers)
    norsa_row = ("INSERT INTO obligation_adjustments (obligation_id, organization_id, amount, adjustment_date, "
                 "reason, legal_basis, created_at) SELECT id, organization_id, -100, :day, 'r', 'NORSA', :now "
                 "FROM obligations WHERE id = :id")
    void = ("UPDATE disbursements SET status = 'voided', voided_on = :day, voided_at = :now, void_reason = 'r' "
            "WHERE id = :id")
    now = datetime.now(UTC).replace(tzinfo=None)

    with app.app_context():
        for statement, row in ((norsa_row, obligation), (void, disbursement)):
            with pytest.raises(Exception, match="period_closed"), db.engine.begin() as connection:
                connection.execute(text(statement), {"day": date(2025, 3, 31), "now": now, "id": row})
        with db.engine.begin() as connection:
            connection.execute(text(norsa_row), {"day": date(2025, 4, 1), "now": now, "id": obligation})

    assert chain.get(f"/api/obligations/{obligation}")["adjusted_amount"] == "349999.00"
    assert chain.get(f"/api/disbursements/{disbursement}")["status"] == "disbursed"
