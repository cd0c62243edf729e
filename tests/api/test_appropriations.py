"""Appropriations (issue 12 item 1, docs/design.md §12 "Appropriations"):
the budget proposal's lifecycle with separation of duties, program budgets
as the PPA's appropriation by allotment class, and UACS object codes by
class. Each test drives the API as a budget officer would."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from db import db
from db.models import WorkflowTransition
from services.runtime import get_runtime
from tests.api.test_reports_api import workbook
from tests.support import Chain, enact_proposal

#: What these tests check is the services' (the database's own refusals: tests marked ``both_backends``,
#: tests/integration/test_budget_limits.py): one backend (tests/conftest.py, ``pytest_generate_tests``).
pytestmark = pytest.mark.one_backend


def _proposal(world, fiscal_year=2025):
    response = world.client.post("/api/budget-proposals", json={
        "organization": "MSSD", "fiscal_year": fiscal_year, "title": f"MSSD FY{fiscal_year} budget proposal"},
        headers=world.focal.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _fire(world, proposal, trigger, who, comment=None):
    body = {"trigger": trigger} | ({"comment": comment} if comment is not None else {})
    return world.client.post(f"/api/budget-proposals/{proposal}/transitions", json=body, headers=who.headers)


def _program_budget(world, proposal, ppa, **body):
    return world.client.post("/api/program-budgets", json={"proposal_id": proposal, "ppa_id": ppa} | body,
                             headers=world.budget_analyst.headers)


@pytest.fixture
def analyst2(world):
    return world.person("mfbm.analyst2", "budget_analyst", org="MFBM")


# -- the proposal's lifecycle ------------------------------------------------------------------


def test_a_proposal_goes_from_draft_to_the_enacted_gaab_with_its_history(world, app, analyst2):
    proposal = _proposal(world)

    steps = [_fire(world, proposal, "submit", world.focal), _fire(world, proposal, "review", world.budget_analyst),
             _fire(world, proposal, "enact", analyst2)]

    assert [(r.status_code, r.get_json()["status"]) for r in steps] == [
        (200, "submitted"), (200, "reviewed"), (200, "enacted")]
    history = world.client.get(f"/api/budget-proposals/{proposal}/history", headers=world.admin.headers).get_json()
    assert [(h["trigger"], h["actor"], h["role"]) for h in history] == [
        ("submit", "mssd.focal", "moa_focal"), ("review", "mfbm.analyst", "budget_analyst"),
        ("enact", "mfbm.analyst2", "budget_analyst")]
    with app.app_context():
        rows = db.session.scalars(select(WorkflowTransition).where(WorkflowTransition.record_id == proposal,
                                                                   WorkflowTransition.record_type == "budget_proposal"))
        assert {r.rules_hash for r in rows} == {get_runtime().rules.hash}


def test_a_returned_proposal_needs_a_comment_and_goes_back_to_draft(world):
    proposal = _proposal(world)
    _fire(world, proposal, "submit", world.focal)

    silent = _fire(world, proposal, "return_for_revision", world.budget_analyst, comment="  ")
    returned = _fire(world, proposal, "return_for_revision", world.budget_analyst,
                     comment="Justify the MOOE increase")

    assert silent.status_code == 422 and "comment" in silent.get_json()["errors"]
    assert (returned.status_code, returned.get_json()["status"]) == (200, "draft")


def test_whoever_submitted_a_proposal_cannot_review_it(world):
    focal_analyst = world.person("mssd.budget", "moa_focal", "budget_analyst", org="MSSD")
    proposal = _proposal(world)
    _fire(world, proposal, "submit", focal_analyst)

    actions = world.client.get(f"/api/budget-proposals/{proposal}/actions", headers=focal_analyst.headers).get_json()
    review = _fire(world, proposal, "review", focal_analyst)

    closed = next(a for a in actions["actions"] if a["trigger"] == "review")
    assert not closed["open"] and closed["reasons"][0]["code"] == "separation_of_duties"
    assert "you submitted this budget proposal" in closed["reasons"][0]["message"]
    assert (review.status_code, review.get_json()["code"]) == (403, "separation_of_duties")


def test_the_reviewer_cannot_also_mark_the_proposal_enacted(world):
    proposal = _proposal(world)
    _fire(world, proposal, "submit", world.focal)
    _fire(world, proposal, "review", world.budget_analyst)

    enact = _fire(world, proposal, "enact", world.budget_analyst)

    assert (enact.status_code, enact.get_json()["code"]) == (403, "separation_of_duties")
    assert "you reviewed this budget proposal" in enact.get_json()["detail"]


def test_an_admin_alone_cannot_submit_review_and_enact_a_proposal(world):
    proposal = _proposal(world)

    submitted = _fire(world, proposal, "submit", world.admin)
    review = _fire(world, proposal, "review", world.admin)
    state = world.client.get(f"/api/budget-proposals/{proposal}", headers=world.admin.headers).get_json()

    assert submitted.status_code == 200
    assert (review.status_code, review.get_json()["code"]) == (403, "separation_of_duties")
    assert state["status"] == "submitted"


def test_the_moa_cannot_review_its_own_proposal_and_mfbm_cannot_submit_it(world):
    proposal = _proposal(world)

    by_analyst = _fire(world, proposal, "submit", world.budget_analyst)
    _fire(world, proposal, "submit", world.focal)
    by_focal = _fire(world, proposal, "review", world.focal)

    assert (by_analyst.status_code, by_analyst.get_json()["code"]) == (403, "role_missing")
    assert (by_focal.status_code, by_focal.get_json()["code"]) == (403, "role_missing")


# -- program budgets as appropriations --------------------------------------------------------


@pytest.mark.parametrize("stage", ["draft", "technical_review", "budget_review", "rejected"])
def test_a_program_budget_for_a_ppa_not_past_budget_review_is_refused(world, stage):
    ppa = world.create_ppa()["id"]
    if stage == "rejected":
        world.advance(ppa, "technical_review")
        assert world.fire(ppa, "reject", world.technical_reviewer, comment="Out of the BDP").status_code == 200
    else:
        world.advance(ppa, stage)
    proposal = _proposal(world)

    response = _program_budget(world, proposal, ppa, approved_amount="100.00")

    assert (response.status_code, response.get_json()["code"]) == (409, "not_past_budget_review")
    assert "past budget review" in response.get_json()["detail"]
    assert world.client.get(f"/api/monitoring-entries/{ppa}/program-budgets",
                            headers=world.admin.headers).get_json() == []


def test_program_budgets_above_the_ppas_budget_are_refused_supplemental_included(world):
    ppa = world.create_ppa(budget_allocation="1000000.00")["id"]
    world.advance(ppa, "approved")
    proposal = _proposal(world)

    above = _program_budget(world, proposal, ppa, approved_amount="1000000.01")
    regular = _program_budget(world, proposal, ppa, approved_amount="800000.00")
    supplemental_above = _program_budget(world, proposal, ppa, approved_amount="200000.01", supplemental=True)
    supplemental = _program_budget(world, proposal, ppa, approved_amount="200000.00", supplemental=True)

    assert (above.status_code, above.get_json()["code"]) == (409, "above_ppa_budget")
    assert "above its budget of PHP 1,000,000.00" in above.get_json()["detail"]
    assert regular.status_code == 201
    assert (supplemental_above.status_code, supplemental_above.get_json()["code"]) == (409, "above_ppa_budget")
    assert supplemental.status_code == 201 and supplemental.get_json()["supplemental"] is True


def test_a_program_budget_keeps_class_amounts_fund_cluster_and_enacting_act(world):
    ppa = world.create_ppa(budget_allocation="5000000.00", appropriation_class="mooe")["id"]
    world.advance(ppa, "approved")
    proposal = _proposal(world)

    response = _program_budget(world, proposal, ppa, ps="500000.00", mooe="1000000.00", finex="10000.00",
                               co="3000000.00", fund_cluster="01", pap_code="310100100001000",
                               enactment_act="BAA No. 38", enactment_date="2024-12-20")
    body = response.get_json()

    assert response.status_code == 201, body
    assert (body["ps"], body["mooe"], body["finex"], body["co"], body["approved_amount"]) == (
        "500000.00", "1000000.00", "10000.00", "3000000.00", "4510000.00")
    assert (body["fund_cluster"], body["pap_code"], body["enactment_act"], body["enactment_date"]) == (
        "01", "310100100001000", "BAA No. 38", "2024-12-20")
    assert world.get(ppa, world.admin)["appropriation_class"] == "co"


def test_an_approved_amount_alone_goes_to_the_ppas_class_and_a_wrong_sum_is_refused(world):
    ppa = world.create_ppa(appropriation_class="ps")["id"]
    world.advance(ppa, "approved")
    proposal = _proposal(world)

    wrong = _program_budget(world, proposal, ppa, approved_amount="10.00", mooe="9.00")
    alone = _program_budget(world, proposal, ppa, approved_amount="10.00").get_json()
    unknown_cluster = _program_budget(world, proposal, ppa, approved_amount="1.00", fund_cluster="09",
                                      supplemental=True)

    assert wrong.status_code == 422 and "sum" in wrong.get_json()["errors"]["approved_amount"][0]
    assert (alone["ps"], alone["mooe"], alone["approved_amount"]) == ("10.00", "0.00", "10.00")
    assert unknown_cluster.status_code == 422 and "fund_cluster" in unknown_cluster.get_json()["errors"]


def test_an_allotment_against_a_program_budget_whose_proposal_is_not_enacted_is_refused(world):
    ppa = world.create_ppa()["id"]
    world.advance(ppa, "enacted")
    proposal = _proposal(world)
    program_budget = _program_budget(world, proposal, ppa, approved_amount="1000.00").get_json()
    _fire(world, proposal, "submit", world.focal)

    response = world.client.post("/api/allotments", json={
        "program_budget_id": program_budget["id"], "quarter": 1, "release_date": "2025-02-03",
        "saro_number": "SARO-BARMM-2025-0001", "amount": "10.00"}, headers=world.budget_analyst.headers)
    read = world.client.get(f"/api/program-budgets/{program_budget['id']}", headers=world.admin.headers).get_json()

    assert (response.status_code, response.get_json()["code"]) == (409, "not_appropriated")
    assert "budget proposal is submitted, not enacted" in response.get_json()["detail"]
    assert read["appropriation"] is False and "not enacted" in read["not_appropriated_reason"]


def test_an_enacted_appropriation_counts_and_cannot_be_changed_but_by_an_adjustment(chain):
    read = chain.get(f"/api/program-budgets/{chain.program_budget}")
    patched = chain.world.patch(f"/api/program-budgets/{chain.program_budget}", chain.world.budget_analyst,
                                {"approved_amount": "1.00"})

    assert read["appropriation"] is True and read["not_appropriated_reason"] is None
    assert chain.allot("1000.00")["status"] == "released"
    assert (patched.status_code, patched.get_json()["code"]) == (409, "adjustment_required")


def test_after_enactment_only_a_supplemental_appropriation_naming_its_act_is_added(chain):
    world = chain.world
    other = world.create_ppa(title="Second PPA", budget_allocation="1000000.00")["id"]
    world.advance(other, "enacted")

    regular = _program_budget(world, chain.proposal, other, approved_amount="1000.00")
    unnamed = _program_budget(world, chain.proposal, other, approved_amount="1000.00", supplemental=True)
    named = _program_budget(world, chain.proposal, other, approved_amount="1000.00", supplemental=True,
                            enactment_act="BAA No. 41 (supplemental)", enactment_date="2025-06-30")

    assert (regular.status_code, regular.get_json()["code"]) == (409, "proposal_enacted")
    assert unnamed.status_code == 422 and set(unnamed.get_json()["errors"]) == {"enactment_act", "enactment_date"}
    assert named.status_code == 201 and named.get_json()["appropriation"] is True


def test_a_financial_expenses_appropriation_is_its_own_class_in_far_no_1(world):
    ppa = world.create_ppa(title="Loan servicing", budget_allocation="1000.00", appropriation_class="mooe")["id"]
    world.advance(ppa, "enacted")
    proposal = _proposal(world)
    _program_budget(world, proposal, ppa, finex="900.00", mooe="100.00")
    enact_proposal(world, proposal)

    ws = workbook(world.client.get("/api/reports/far1.xlsx?fiscal_year=2025&moa=MSSD", headers=world.admin.headers))
    numbers = next(r for r in range(1, 40) if ws.cell(r, 3).value == 3)  # the row of column numbers 1-24
    rows = [[ws.cell(r, c).value for c in (1, 2, 3)] for r in range(numbers + 2, ws.max_row + 1)]

    assert world.get(ppa, world.admin)["appropriation_class"] == "finex"
    # each class on its line of the PAP, with its UACS class code (FinEx 03)
    assert [(r[0], r[1], Decimal(str(r[2]))) for r in rows if r[1] in ("02", "03")][:2] == [
        ("Maintenance and Other Operating Expenses", "02", Decimal("100.00")),
        ("Financial Expenses", "03", Decimal("900.00"))]


# -- UACS object codes by class ----------------------------------------------------------------


@pytest.fixture
def classed(world):
    """A program budget of PHP 100,000.00 MOOE and 50,000.00 CO."""
    ppa = world.create_ppa()["id"]
    world.advance(ppa, "approved")
    proposal = _proposal(world)
    return _program_budget(world, proposal, ppa, mooe="100000.00", co="50000.00").get_json()["id"]


def _line(world, program_budget, code, amount, allotment_class=None):
    body = {"uacs_code": code, "description": "Line", "amount": amount} | (
        {"allotment_class": allotment_class} if allotment_class else {})
    return world.client.post(f"/api/program-budgets/{program_budget}/line-items", json=body,
                             headers=world.focal.headers)


def test_a_capital_outlay_code_on_a_mooe_line_is_refused(world, classed):
    response = _line(world, classed, "50604050-03", "1000.00", allotment_class="mooe")

    assert response.status_code == 422
    assert response.get_json()["errors"]["uacs_code"] == [
        "50604050-03 is a CO object code; a MOOE line takes only MOOE codes"]


def test_a_line_takes_its_class_from_its_code(world, classed):
    mooe = _line(world, classed, "50202010-01", "1000.00").get_json()
    equipment = _line(world, classed, "10705030-00", "1000.00").get_json()

    assert (mooe["allotment_class"], equipment["allotment_class"]) == ("mooe", "co")


def test_line_items_never_total_above_their_class_amount(world, classed):
    first = _line(world, classed, "50202010-01", "60000.00")
    second = _line(world, classed, "50203010-02", "40000.01")
    personnel = _line(world, classed, "50101010-01", "1.00")

    assert first.status_code == 201
    assert (second.status_code, second.get_json()["code"]) == (409, "above_class_amount")
    assert "above its MOOE amount of PHP 100,000.00; PHP 40,000.00 is left" in second.get_json()["detail"]
    assert (personnel.status_code, personnel.get_json()["code"]) == (409, "above_class_amount")


def test_chain_builds_an_enacted_appropriation(world):
    chain = Chain(world)

    proposal = world.client.get(f"/api/budget-proposals/{chain.proposal}", headers=world.admin.headers).get_json()

    assert proposal["status"] == "enacted"
