"""Once a program budget appropriates a PPA, its fiscal year, implementing
MOA and budget change only through a budget adjustment (issue 10, item 11):
an edit is 409 ``adjustment_required`` and changes nothing."""

from __future__ import annotations

import pytest


def appropriated_draft(world) -> tuple[dict, dict]:
    """A draft PPA of MSSD with a program budget in MSSD's FY 2025 proposal:
    appropriated once past budget review, then returned for revision."""
    ppa = world.create_ppa()
    world.advance(ppa["id"], "stakeholder_consultation")
    proposal = world.client.post("/api/budget-proposals", json={
        "organization": "MSSD", "fiscal_year": 2025, "title": "MSSD FY2025 budget proposal"},
        headers=world.focal.headers)
    program_budget = world.client.post("/api/program-budgets", json={
        "proposal_id": proposal.get_json()["id"], "ppa_id": ppa["id"], "approved_amount": "5000000.00"},
        headers=world.budget_analyst.headers)
    assert program_budget.status_code == 201, program_budget.get_json()
    returned = world.fire(ppa["id"], "return_for_revision", world.planning_officer, comment="Revise the targets")
    assert returned.status_code == 200, returned.get_json()
    return ppa, program_budget.get_json()


def patch(world, ppa_id, who, **changes):
    etag = world.client.get(f"/api/monitoring-entries/{ppa_id}", headers=who.headers).headers["ETag"]
    return world.client.patch(f"/api/monitoring-entries/{ppa_id}", json=changes,
                              headers=who.headers | {"If-Match": etag})


@pytest.mark.parametrize("field, value", [("fiscal_year", 2026), ("implementing_moa", "MTIT"),
                                          ("budget_allocation", "4000000.00"), ("appropriation_class", "co")])
def test_a_ppa_with_a_program_budget_keeps_its_year_moa_and_budget_until_an_adjustment(world, field, value):
    world.org("MTIT")
    ppa, program_budget = appropriated_draft(world)
    before = world.client.get(f"/api/monitoring-entries/{ppa['id']}", headers=world.admin.headers)

    response = patch(world, ppa["id"], world.admin, **{field: value})

    problem = response.get_json()
    assert (response.status_code, problem["code"], problem["fields"]) == (409, "adjustment_required", [field])
    assert f"program budget {program_budget['id']}" in problem["detail"] and "budget adjustment" in problem["detail"]
    after = world.client.get(f"/api/monitoring-entries/{ppa['id']}", headers=world.admin.headers)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.get_json()[field] == before.get_json()[field]


def test_a_ppa_with_a_program_budget_still_takes_other_edits_and_its_own_values(world):
    ppa, _ = appropriated_draft(world)

    response = patch(world, ppa["id"], world.focal, title="Livelihood Training Program, Cotabato",
                     fiscal_year=2025, implementing_moa="MSSD", budget_allocation="5000000")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["title"] == "Livelihood Training Program, Cotabato"


def test_a_ppa_without_a_program_budget_may_still_change_its_year_and_budget(world):
    ppa = world.create_ppa()

    response = patch(world, ppa["id"], world.focal, fiscal_year=2026, budget_allocation="4000000.00")

    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["fiscal_year"], response.get_json()["budget_allocation"]) == (2026, "4000000.00")
