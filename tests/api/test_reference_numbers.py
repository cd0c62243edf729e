"""SARO, ORS and DV numbers are each MOA's own series: unique within an
organization, free to repeat across organizations (issue 10, item 12)."""

from __future__ import annotations

from tests.support import Chain, certify_ors, enact_proposal

#: As GAM Appendices 11 and 32 give them: an MOOE ORS of fund cluster 01 of March 2025, a DV of April 2025.
NUMBERS = {"saro_number": "SARO-BARMM-2026-01-0001", "ors_number": "02-01-2025-03-00001",
           "dv_number": "2025-04-0001"}


def post(world, path, who, expect, **body):
    response = world.client.post(path, json=body, headers=who.headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def money_chain(world, chain: Chain | None, focal):
    """Allotment, obligation and disbursement numbered ``NUMBERS`` on a
    fresh enacted PPA of ``focal``'s MOA; returns their responses' status codes
    and bodies as (allotment, obligation, disbursement)."""
    if chain is not None:
        program_budget = chain.program_budget
    else:
        ppa = world.create_ppa(focal, category="moa_ppa")
        post(world, f"/api/monitoring-entries/{ppa['id']}/transitions", focal, 200, trigger="submit")
        world.advance(ppa["id"], "enacted")
        organization = world.get(ppa["id"], focal)["implementing_moa"]
        proposal = post(world, "/api/budget-proposals", focal, 201, organization=organization, fiscal_year=2025,
                        title=f"{organization} FY2025 budget proposal")
        program_budget = post(world, "/api/program-budgets", world.budget_analyst, 201, proposal_id=proposal["id"],
                              ppa_id=ppa["id"], approved_amount="5000000.00")["id"]
        enact_proposal(world, proposal["id"], focal)
    analyst = world.budget_analyst
    allotment = world.client.post("/api/allotments", json={
        "program_budget_id": program_budget, "quarter": 1, "release_date": "2025-02-03",
        "saro_number": NUMBERS["saro_number"], "amount": "1000.00"}, headers=analyst.headers)
    allotment_id = allotment.get_json().get("id") or _first_allotment(world, program_budget)
    obligation = world.client.post("/api/obligations", json={
        "allotment_id": allotment_id, "payee": "Cotabato Training Services Cooperative",
        "ors_number": NUMBERS["ors_number"], "obligation_date": "2025-03-10", "amount": "100.00"},
        headers=focal.headers)
    obligation_id = obligation.get_json().get("id") or _first_obligation(world, allotment_id)
    if obligation.status_code == 201:  # a DV is prepared only against an obligated ORS (Boxes A and B)
        certify_ors(world, obligation_id, "MSSD" if chain is not None else organization)
    disbursement = world.client.post("/api/disbursements", json={
        "obligation_id": obligation_id, "dv_number": NUMBERS["dv_number"], "payment_method": "mds_check",
        "disbursement_date": "2025-04-15", "amount": "10.00"}, headers=focal.headers)
    return allotment, obligation, disbursement


def _first_allotment(world, program_budget):
    listed = world.client.get(f"/api/program-budgets/{program_budget}/allotments", headers=world.admin.headers)
    return listed.get_json()[0]["id"]


def _first_obligation(world, allotment):
    listed = world.client.get(f"/api/allotments/{allotment}/obligations", headers=world.admin.headers)
    return listed.get_json()[0]["id"]


def test_two_moas_may_both_use_the_same_saro_ors_and_dv_numbers(world):
    mssd = money_chain(world, Chain(world), world.focal)
    mtit = money_chain(world, None, world.other_focal)

    assert [r.status_code for r in mssd] == [201, 201, 201], [r.get_json() for r in mssd]
    assert [r.status_code for r in mtit] == [201, 201, 201], [r.get_json() for r in mtit]
    for (field, number), ours, theirs in zip(NUMBERS.items(), mssd, mtit, strict=True):
        assert ours.get_json()[field] == theirs.get_json()[field] == number
        assert ours.get_json()["id"] != theirs.get_json()["id"]


def test_one_moa_may_not_use_a_saro_ors_or_dv_number_twice(world):
    chain = Chain(world)
    first = money_chain(world, chain, world.focal)

    again = money_chain(world, chain, world.focal)

    assert [r.status_code for r in first] == [201, 201, 201]
    assert [(r.status_code, r.get_json()["code"], r.get_json()["field"]) for r in again] == [
        (409, "duplicate", field) for field in NUMBERS]
