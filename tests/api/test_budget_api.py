"""Budget execution over HTTP (seed 003): program budget > allotments >
obligations > disbursements, statuses following the money, refusals with
the amounts involved, cancellations and voids, exact decimals."""

from __future__ import annotations

import pytest

from tests.support import Chain


def test_money_follows_the_chain_and_statuses_follow_the_money(chain):
    allotment = chain.allot("2000000.00")
    obligation = chain.obligate(allotment["id"], "1500000.00")
    paid = chain.disburse(obligation["id"], "1000000.00")

    assert allotment["status"] == "released"
    assert chain.get(f"/api/allotments/{allotment['id']}")["status"] == "partially_utilized"
    shown = chain.get(f"/api/obligations/{obligation['id']}")
    assert (shown["status"], shown["disbursed"], shown["balance"]) == ("partially_disbursed", "1000000.00", "500000.00")
    assert paid["status"] == "disbursed"
    totals = chain.get(f"/api/program-budgets/{chain.program_budget}")
    assert {k: totals[k] for k in ("allotted", "unallotted", "obligated", "unobligated", "disbursed", "unpaid")} == {
        "allotted": "2000000.00", "unallotted": "3000000.00", "obligated": "1500000.00", "unobligated": "500000.00",
        "disbursed": "1000000.00", "unpaid": "500000.00"}

    chain.obligate(allotment["id"], "500000.00")
    chain.disburse(obligation["id"], "500000.00")
    assert chain.get(f"/api/allotments/{allotment['id']}")["status"] == "fully_utilized"
    assert chain.get(f"/api/obligations/{obligation['id']}")["status"] == "fully_disbursed"


def test_over_obligation_is_refused_with_the_amounts_and_nothing_changes(chain):
    allotment = chain.allot("1000000.00")
    chain.obligate(allotment["id"], "900000.00")

    refused = chain.obligate(allotment["id"], "100000.01", expect=409)

    assert refused["code"] == "budget_limit_exceeded"
    assert (refused["level"], refused["limit"], refused["committed"], refused["requested"], refused["available"]) == (
        "obligation", "1000000.00", "900000.00", "100000.01", "100000.00")
    assert "PHP 1,000,000.01, above its allotment of PHP 1,000,000.00" in refused["detail"]
    assert chain.get(f"/api/allotments/{allotment['id']}")["obligated"] == "900000.00"
    assert chain.obligate(allotment["id"], "100000.00")["amount"] == "100000.00"


@pytest.mark.parametrize("level", ["allotment", "disbursement"])
def test_every_level_is_limited_by_the_one_above(chain, level):
    if level == "allotment":
        chain.allot("4000000.00")
        refused = chain.allot("1000000.01", expect=409)
    else:
        obligation = chain.obligate(chain.allot("1000000.00")["id"], "300000.00")
        chain.disburse(obligation["id"], "300000.00")
        refused = chain.disburse(obligation["id"], "0.01", expect=409)

    assert (refused["code"], refused["level"]) == ("budget_limit_exceeded", level)


def test_cancelling_and_voiding_return_the_money(chain):
    allotment = chain.allot("1000000.00")
    obligation = chain.obligate(allotment["id"], "1000000.00")
    paid = chain.disburse(obligation["id"], "400000.00")

    blocked = chain.post(f"/api/obligations/{obligation['id']}/cancel", chain.world.focal, 409, reason="Contract rescinded")
    chain.post(f"/api/disbursements/{paid['id']}/void", chain.world.focal, reason="Check lost; reissued")
    after_void = chain.get(f"/api/obligations/{obligation['id']}")
    chain.post(f"/api/obligations/{obligation['id']}/cancel", chain.world.focal, reason="Contract rescinded")
    after_cancel = chain.get(f"/api/allotments/{allotment['id']}")

    assert blocked["code"] == "has_active_children"
    assert (after_void["status"], after_void["balance"]) == ("obligated", "1000000.00")
    assert (after_cancel["status"], after_cancel["available"]) == ("released", "1000000.00")
    assert chain.obligate(allotment["id"], "1000000.00")["status"] == "obligated"


def test_a_cancelled_allotment_takes_nothing_and_frees_its_amount(chain):
    allotment = chain.allot("5000000.00")
    chain.post(f"/api/allotments/{allotment['id']}/cancel", chain.world.budget_analyst, reason="Re-released in Q2")

    refused = chain.obligate(allotment["id"], "1.00", expect=409)
    replacement = chain.allot("5000000.00", quarter=2)

    assert refused["code"] == "cancelled"
    assert replacement["status"] == "released"


def test_decimal_edges_are_exact(world):
    edge = Chain(world, budget="999999999999.99", approved="999999999999.99")

    allotment = edge.allot("999999999999.98")
    obligation = edge.obligate(allotment["id"], "999999999999.97")
    paid = edge.disburse(obligation["id"], "0.01")
    refused = edge.allot("0.02", expect=409)

    assert (allotment["amount"], obligation["amount"], paid["amount"]) == (
        "999999999999.98", "999999999999.97", "0.01")
    assert refused["available"] == "0.01"
    assert edge.get(f"/api/program-budgets/{edge.program_budget}")["unallotted"] == "0.01"
    assert edge.get(f"/api/obligations/{obligation['id']}")["balance"] == "999999999999.96"


@pytest.mark.parametrize("amount, message", [("0.00", "at least 0.01"), ("-5.00", "must not be negative"),
                                             ("1000000000000.00", "999,999,999,999.99"), ("1.001", "two decimal")])
def test_bad_amounts_are_422(chain, amount, message):
    response = chain.world.client.post("/api/allotments", json={
        "program_budget_id": chain.program_budget, "quarter": 1, "release_date": "2025-02-03",
        "saro_number": "SARO-X", "amount": amount}, headers=chain.world.budget_analyst.headers)

    assert response.status_code == 422
    assert message in response.get_json()["errors"]["amount"][0]


def test_duplicate_reference_numbers_are_409(chain):
    allotment = chain.allot("1000.00")
    body = {"allotment_id": allotment["id"], "payee": "P", "ors_number": "02-01-2025-03-00007", "obligation_date": "2025-03-01",
            "amount": "1.00"}

    first = chain.world.client.post("/api/obligations", json=body, headers=chain.world.focal.headers)
    second = chain.world.client.post("/api/obligations", json=body, headers=chain.world.focal.headers)

    assert first.status_code == 201
    assert (second.status_code, second.get_json()["code"], second.get_json()["field"]) == (409, "duplicate",
                                                                                           "ors_number")


def test_allotments_need_an_appropriation_and_the_right_roles(world):
    draft = world.create_ppa()
    world.advance(draft["id"], "stakeholder_consultation")
    proposal = world.client.post("/api/budget-proposals", json={"organization": "MSSD", "fiscal_year": 2025,
                                                                "title": "P"}, headers=world.focal.headers).get_json()
    program_budget = world.client.post("/api/program-budgets", json={
        "proposal_id": proposal["id"], "ppa_id": draft["id"], "approved_amount": "100.00"},
        headers=world.budget_analyst.headers).get_json()
    body = {"program_budget_id": program_budget["id"], "quarter": 1, "release_date": "2025-01-10",
            "saro_number": "S-1", "amount": "10.00"}

    by_focal = world.client.post("/api/allotments", json=body, headers=world.focal.headers)
    by_analyst = world.client.post("/api/allotments", json=body, headers=world.budget_analyst.headers)

    assert by_focal.status_code == 403
    assert (by_analyst.status_code, by_analyst.get_json()["code"]) == (409, "not_appropriated")


def test_dates_must_follow_the_chain(chain):
    allotment = chain.allot("1000.00")

    early = chain.obligate(allotment["id"], "1.00", expect=422, day="2025-01-01")

    assert "obligation_date" in early["errors"]


def test_uacs_codes_are_checked(chain):
    ok = chain.post(f"/api/program-budgets/{chain.program_budget}/line-items", chain.world.focal,
                    uacs_code="50202010-01", description="Training expenses", amount="750000.00")
    bad = chain.world.client.post(f"/api/program-budgets/{chain.program_budget}/line-items",
                                  json={"uacs_code": "5020201001", "description": "x", "amount": "1.00"},
                                  headers=chain.world.focal.headers)

    assert ok["uacs_code"] == "50202010-01"
    assert bad.status_code == 422 and "UACS" in bad.get_json()["errors"]["uacs_code"][0]


def test_a_line_item_of_nothing_is_422_not_a_database_error(chain):
    response = chain.world.client.post(f"/api/program-budgets/{chain.program_budget}/line-items",
                                       json={"uacs_code": "50202010-01", "description": "x", "amount": "0"},
                                       headers=chain.world.focal.headers)

    assert response.status_code == 422 and response.get_json()["errors"]["amount"] == ["must be at least 0.01"]


def test_other_moas_see_nothing_of_the_chain(chain):
    allotment = chain.allot("1000.00")
    other = chain.world.other_focal.headers

    assert chain.world.client.get(f"/api/allotments/{allotment['id']}", headers=other).status_code == 404
    assert chain.world.client.get(f"/api/program-budgets/{chain.program_budget}", headers=other).status_code == 404
    assert chain.world.client.post("/api/obligations", json={
        "allotment_id": allotment["id"], "payee": "x", "ors_number": "02-01-2025-03-00001", "obligation_date": "2025-03-01",
        "amount": "1.00"}, headers=other).status_code == 404


def test_a_tracked_ppa_in_the_chain_spends_what_its_disbursements_paid_through_its_work_items(chain):
    obligation = chain.obligate(chain.allot("2000000.00")["id"], "1000000.00")
    chain.disburse(obligation["id"], "250000.00")

    ppa = chain.get(f"/api/monitoring-entries/{chain.ppa}")
    tree = chain.get(f"/api/monitoring-entries/{chain.ppa}/budget_allocation_tree/")

    assert ppa["enable_workitem_tracking"] is True  # technical review generated its WBS
    assert ppa["actual_expenditure"] == tree["total_expended"] == "250000.00"  # issue 12: never 0.00
    assert tree["expenditure_source"] == "disbursements"


def test_a_ppa_without_a_wbs_spends_its_disbursements(app, chain):
    from sqlalchemy import text

    from db import db

    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE work_items SET ppa_id = NULL, work_type = 'project' WHERE ppa_id = :id"),
                           {"id": chain.ppa})
        connection.execute(text("UPDATE ppas SET enable_workitem_tracking = false, execution_project_id = NULL "
                                "WHERE id = :id"), {"id": chain.ppa})
    obligation = chain.obligate(chain.allot("2000000.00")["id"], "1000000.00")
    paid = chain.disburse(obligation["id"], "250000.00")
    chain.disburse(obligation["id"], "100000.00")
    chain.post(f"/api/disbursements/{paid['id']}/void", chain.world.focal, reason="wrong payee")

    ppa = chain.get(f"/api/monitoring-entries/{chain.ppa}")
    tree = chain.get(f"/api/monitoring-entries/{chain.ppa}/budget_allocation_tree/")

    assert ppa["actual_expenditure"] == tree["total_expended"] == "100000.00"
    assert tree["breakdown"] == []
