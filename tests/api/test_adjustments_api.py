"""Corrections are new rows (issue 12 item 4, docs/design.md §12 "Posted
rows never change"): NORSA obligation adjustments and allotment
reductions, withdrawals and augmentations keep every limit of the chain,
are listed under their parent and audited; a cancellation or void is dated
and posts its reversal in its own quarter, never rewriting the original's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services import users
from services.money_chain import read_money_chain
from tests.api.test_audit_api import audit
from tests.support import Chain, built_once, race

#: What these tests check is the services' (the database's own refusals: tests marked ``both_backends``,
#: tests/integration/test_budget_limits.py): one backend (tests/conftest.py, ``pytest_generate_tests``).
pytestmark = pytest.mark.one_backend


def norsa(chain, obligation, amount, expect=201, day="2025-05-02"):
    return chain.post(f"/api/obligations/{obligation}/adjustments", chain.world.focal, expect, amount=amount,
                      adjustment_date=day, reason="Contract amended: fewer participants",
                      legal_basis="NORSA No. 2025-05-0001")


def adjust_allotment(chain, allotment, kind, amount, expect=201, day="2025-05-02"):
    return chain.post(f"/api/allotments/{allotment}/adjustments", chain.world.budget_analyst, expect, kind=kind,
                      amount=amount, adjustment_date=day, reason="Realigned to priority programs",
                      legal_basis="DBM letter 2025-041")


def test_a_negative_norsa_lowers_the_obligation_and_the_ors_itself_never_changes(chain):
    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "60000.00")["id"]

    made = norsa(chain, obligation, "-1500.00")

    shown = chain.get(f"/api/obligations/{obligation}")
    assert made["amount"] == "-1500.00"
    assert (shown["amount"], shown["adjusted_amount"], shown["balance"]) == ("60000.00", "58500.00", "58500.00")
    assert chain.get(f"/api/allotments/{allotment}")["available"] == "41500.00"
    listed = chain.get(f"/api/obligations/{obligation}/adjustments")
    assert [(a["amount"], a["legal_basis"]) for a in listed] == [("-1500.00", "NORSA No. 2025-05-0001")]


def test_a_negative_norsa_below_what_is_disbursed_is_409_with_the_amounts(chain):
    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "60000.00")["id"]
    chain.disburse(obligation, "50000.00")

    refused = norsa(chain, obligation, "-10000.01", expect=409)

    assert refused["code"] == "budget_limit_exceeded" and refused["level"] == "disbursement"
    assert (refused["limit"], refused["committed"], refused["requested"], refused["available"]) == (
        "49999.99", "50000.00", "-10000.01", "10000.00")
    assert "below the PHP 50,000.00 already disbursed" in refused["detail"]
    assert chain.get(f"/api/obligations/{obligation}/adjustments") == []
    norsa(chain, obligation, "-10000.00")  # exactly what is left to take off
    shown = chain.get(f"/api/obligations/{obligation}")
    assert (shown["adjusted_amount"], shown["balance"], shown["status"]) == ("50000.00", "0.00", "fully_disbursed")


def test_a_positive_norsa_above_the_allotment_is_409_and_one_that_fits_lowers_what_is_available(chain):
    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "60000.00")["id"]

    refused = norsa(chain, obligation, "40000.01", expect=409)
    norsa(chain, obligation, "40000.00")

    assert (refused["level"], refused["available"]) == ("obligation", "40000.00")
    shown = chain.get(f"/api/allotments/{allotment}")
    assert (shown["obligated"], shown["available"], shown["status"]) == ("100000.00", "0.00", "fully_utilized")
    chain.disburse(obligation, "100000.00")  # the DV draws on the adjusted obligation


def test_a_norsa_of_nothing_or_dated_before_its_ors_is_422(chain):
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]

    zero = norsa(chain, obligation, "0.00", expect=422)
    early = norsa(chain, obligation, "-1.00", expect=422, day="2025-03-09")

    assert zero["errors"]["amount"] == ["must not be zero"]
    assert early["errors"] == {"adjustment_date": ["is before the obligation of 2025-03-10"]}


def test_allotment_adjustments_keep_the_program_budget_and_the_obligations_within_bounds(world):
    chain = Chain(world, approved="1000000.00", budget="1000000.00")
    allotment = chain.allot("600000.00")["id"]
    chain.obligate(allotment, "450000.00")

    over = adjust_allotment(chain, allotment, "augmentation", "400000.01", expect=409)
    under = adjust_allotment(chain, allotment, "withdrawal", "150000.01", expect=409)
    reduced_too_far = adjust_allotment(chain, allotment, "reduction", "150000.01", expect=409)
    adjust_allotment(chain, allotment, "augmentation", "400000.00")
    adjust_allotment(chain, allotment, "reduction", "300000.00")
    adjust_allotment(chain, allotment, "withdrawal", "250000.00")

    assert (over["level"], over["available"]) == ("allotment", "400000.00")
    assert (under["level"], under["committed"], under["available"]) == ("obligation", "450000.00", "150000.00")
    assert reduced_too_far["detail"] == ("a reduction of PHP 150,000.01 would leave allotment 1 at PHP 449,999.99, "
                                         "below the PHP 450,000.00 obligated against it; PHP 150,000.00 can be "
                                         "taken off")
    shown = chain.get(f"/api/allotments/{allotment}")
    assert (shown["amount"], shown["adjusted_amount"], shown["available"], shown["status"]) == (
        "600000.00", "450000.00", "0.00", "fully_utilized")
    budget = chain.get(f"/api/program-budgets/{chain.program_budget}")
    assert (budget["allotted"], budget["unallotted"]) == ("450000.00", "550000.00")
    listed = chain.get(f"/api/allotments/{allotment}/adjustments")
    assert [(a["kind"], a["amount"]) for a in listed] == [
        ("augmentation", "400000.00"), ("reduction", "-300000.00"), ("withdrawal", "-250000.00")]


def test_only_budget_analysts_adjust_allotments_and_only_the_moa_records_a_norsa(chain):
    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "60000.00")["id"]
    world = chain.world

    by_focal = world.client.post(f"/api/allotments/{allotment}/adjustments", headers=world.focal.headers, json={
        "kind": "augmentation", "amount": "1.00", "adjustment_date": "2025-05-02", "reason": "r",
        "legal_basis": "l"})
    by_other_moa = world.client.post(f"/api/obligations/{obligation}/adjustments",
                                     headers=world.other_focal.headers, json={
                                         "amount": "1.00", "adjustment_date": "2025-05-02", "reason": "r",
                                         "legal_basis": "l"})

    assert by_focal.status_code == 403
    assert by_other_moa.status_code == 404


def test_adjustments_need_a_reason_and_a_legal_basis(chain):
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]

    response = chain.world.client.post(f"/api/obligations/{obligation}/adjustments", headers=chain.world.focal.headers,
                                       json={"amount": "-1.00", "adjustment_date": "2025-05-02"})

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"reason", "legal_basis"}


def test_every_adjustment_is_audited_with_its_actor(chain):
    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "60000.00")["id"]
    made = norsa(chain, obligation, "-1500.00")
    reduced = adjust_allotment(chain, allotment, "reduction", "1000.00")

    norsa_rows = audit(chain.world, entity="obligation_adjustment", id=made["id"])
    allotment_rows = audit(chain.world, entity="allotment_adjustment", id=reduced["id"])

    assert [(r["action"], r["actor"]) for r in norsa_rows] == [("create", "mssd.focal")]
    assert '"legal_basis": "NORSA No. 2025-05-0001"' in norsa_rows[0]["new_value"]
    assert [(r["action"], r["actor"]) for r in allotment_rows] == [("create", "mfbm.analyst")]


def test_adjusting_a_cancelled_obligation_is_409(chain):
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]
    chain.post(f"/api/obligations/{obligation}/cancel", chain.world.focal, reason="Supplier withdrew",
               cancelled_on="2025-04-01")

    refused = norsa(chain, obligation, "-1.00", expect=409)

    assert refused["code"] == "cancelled"


def test_a_cancellation_in_q3_of_a_q1_obligation_counts_in_q1_and_reverses_in_q3(app, chain):
    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "60000.00", day="2025-03-10")["id"]
    norsa(chain, obligation, "-1500.00", day="2025-05-02")

    cancelled = chain.post(f"/api/obligations/{obligation}/cancel", chain.world.focal, reason="Supplier withdrew",
                           cancelled_on="2025-08-14")

    assert (cancelled["status"], cancelled["cancelled_on"]) == ("cancelled", "2025-08-14")
    with app.app_context():
        quarters = read_money_chain(users.get_user("mssd.focal"), chain.ppa).by_quarter()
    obligated = {period: sums["obligated"] for period, sums in quarters.items()}
    assert obligated == {(2025, 1): Decimal("60000.00"), (2025, 2): Decimal("-1500.00"),
                         (2025, 3): Decimal("-58500.00")}
    assert quarters[(2025, 1)]["allotted"] == Decimal("100000.00")


def test_a_june_dv_voided_in_november_stays_in_q2_and_the_void_posts_in_q4(app, chain):
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]
    dv = chain.disburse(obligation, "25000.00", day="2025-06-20")["id"]

    voided = chain.post(f"/api/disbursements/{dv}/void", chain.world.focal, reason="Check went stale",
                        voided_on="2025-11-03")

    assert voided["voided_on"] == "2025-11-03"
    with app.app_context():
        chain_read = read_money_chain(users.get_user("mssd.focal"), chain.ppa)
    disbursed = {period: sums["disbursed"] for period, sums in chain_read.by_quarter().items()}
    assert disbursed[(2025, 2)] == Decimal("25000.00") and disbursed[(2025, 4)] == Decimal("-25000.00")
    assert [(p.kind, p.day) for p in chain_read.postings if p.level == "disbursed"] == [
        ("original", date(2025, 6, 20)), ("reversal", date(2025, 11, 3))]


def test_a_cancellation_dated_before_its_document_is_422_and_nothing_changes(chain):
    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "60000.00")["id"]
    dv = chain.disburse(obligation, "1000.00")["id"]

    early_void = chain.post(f"/api/disbursements/{dv}/void", chain.world.focal, 422, reason="r",
                            voided_on="2025-04-14")
    early_cancel = chain.post(f"/api/allotments/{allotment}/cancel", chain.world.budget_analyst, 422, reason="r",
                              cancelled_on="2025-02-02")

    assert early_void["errors"] == {"voided_on": ["is before the disbursement of 2025-04-15"]}
    assert early_cancel["errors"] == {"cancelled_on": ["is before the allotment's release of 2025-02-03"]}
    assert chain.get(f"/api/disbursements/{dv}")["status"] == "disbursed"


def test_a_cancellation_without_a_date_posts_today_in_manila(app, chain):
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]

    cancelled = chain.post(f"/api/obligations/{obligation}/cancel", chain.world.focal, reason="Supplier withdrew")

    with app.app_context():
        from services.calendar import today
        assert cancelled["cancelled_on"] == today().isoformat()


def test_racing_dvs_norsas_and_cancellations_on_postgresql_land_exactly_what_fits_and_never_deadlock(
        pg_app, pg_world):
    chain = built_once(pg_world, "chain", Chain)  # the suite's chain, built once
    allotment = chain.allot("200000.00")["id"]
    obligation = chain.obligate(allotment, "100000.00")["id"]
    spare = chain.obligate(allotment, "10000.00")["id"]
    focal = pg_world.focal

    dvs = [chain.dv_ready_to_pay(obligation, "10000.00") for _ in range(10)]  # Boxes A-D signed

    def pay(index):
        return chain.box_e(dvs[index])

    def lower(index):
        return lambda client: client.post(f"/api/obligations/{obligation}/adjustments", headers=focal.headers,
                                          json={"amount": "-10000.00", "adjustment_date": "2025-04-15",
                                                "reason": f"NORSA {index}", "legal_basis": f"NORSA-{index}"})

    def raise_spare(index):
        return lambda client: client.post(f"/api/obligations/{spare}/adjustments", headers=focal.headers,
                                          json={"amount": "30000.00", "adjustment_date": "2025-04-15",
                                                "reason": f"NORSA up {index}", "legal_basis": f"NORSA-UP-{index}"})

    cancel = lambda client: client.post(f"/api/obligations/{spare}/cancel", headers=focal.headers,  # noqa: E731
                                        json={"reason": "Supplier withdrew", "cancelled_on": "2025-05-02"})
    requests = [pay(i) for i in range(10)] + [lower(i) for i in range(10)] + [raise_spare(i) for i in range(4)]

    responses = race(pg_app, requests + [cancel])

    statuses = [r.status_code for r in responses]
    assert all(status in (200, 201, 409) for status in statuses), [r.get_json() for r in responses]
    assert sum(s in (200, 201) for s in statuses[:20]) == 10  # paid DVs and NORSAs share the obligation's 100,000.00
    shown = chain.get(f"/api/obligations/{obligation}")
    assert shown["balance"] == "0.00"
    assert Decimal(shown["adjusted_amount"]) == Decimal(shown["disbursed"])
    assert Decimal(chain.get(f"/api/allotments/{allotment}")["available"]) >= 0
