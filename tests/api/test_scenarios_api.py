"""Budget scenarios and the optimiser (issue 16 items 1-2, docs/design.md
§15): an MFBM analyst copies the enacted year, adjusts a copy, lets the
optimiser propose a third, compares the three and exports the comparison;
refusals for the wrong role, a stale ETag, bad adjustments and constraints
that cannot all hold.

Nothing here depends on the database beyond plain SQL: one backend, one
world built for the module, each test's writes rolled back.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pdfplumber
import pytest
from openpyxl import load_workbook

from db import db
from db.models import Need, PpaNeed, ProgramBudget
from rules.kinds.scenarios import ScenarioRules
from services import scenarios as scenario_service
from tests.conftest import ONE_BACKEND, _dispose, _make_app
from tests.support import Chain, World, rolled_back
from workflow.optimiser import MinimumShare


@pytest.fixture(scope="module")
def built(request, tmp_path_factory):
    """FY2025 enacted for MSSD: the Chain's PPA (PHP 5,000,000.00) and two
    more appropriated in the same proposal (1,000,000.01 and 2,999,999.99,
    sectors health and education); needs linked to the latter two. MSSD
    obligated PHP 600,000.00 of the 1,000,000.00 allotted in FY2025."""
    request.param = ONE_BACKEND
    application = _make_app(ONE_BACKEND, request, tmp_path_factory.mktemp("scenarios"))
    world = World(application)
    chain = Chain(world)
    chain.obligate(chain.allot("1000000.00")["id"], "600000.00")
    health = world.create_ppa(title="Clinic", sector="health", budget_allocation="1000000.01")["id"]
    school = world.create_ppa(title="School", sector="education", budget_allocation="2999999.99")["id"]
    with application.app_context():
        for ppa_id, amount in ((health, "1000000.01"), (school, "2999999.99")):
            db.session.add(ProgramBudget(proposal_id=chain.proposal, ppa_id=ppa_id, approved_amount=Decimal(amount),
                                         mooe=Decimal(amount), supplemental=True, enactment_act="BAA 2",
                                         created_by_id=world.budget_analyst.id))
        needs = [Need(title=t, description=t, category="health", urgency=u, status="forwarded", votes=v,
                      vote_weight=v, population_affected=p, submitted_on="2025-01-02")
                 for t, u, v, p in (("Clinic", "critical", 30, 5000), ("Classrooms", "high", 10, 800))]
        db.session.add_all(needs)
        db.session.flush()
        db.session.add_all([PpaNeed(ppa_id=health, need_id=needs[0].id), PpaNeed(ppa_id=school, need_id=needs[1].id)])
        db.session.commit()
    yield world, {"main": chain.ppa, "health": health, "school": school}
    _dispose(application)


@pytest.fixture
def world(built):
    with rolled_back(built[0].app):
        yield built


def _call(world, method, path, who, json=None, headers=None, expect=200):
    response = world.client.open(path, method=method, json=json, headers=who.headers | (headers or {}))
    assert response.status_code == expect, response.get_json()
    return response


def test_an_analyst_copies_the_enacted_year_adjusts_it_lets_the_optimiser_propose_and_compares_and_exports(world):
    world, ppas = world
    analyst = world.budget_analyst
    baseline = _call(world, "POST", "/api/scenarios", analyst, {"from_fiscal_year": 2025}, expect=201).get_json()
    assert baseline["baseline"] is True and baseline["ceiling"] == "9000000.00"
    amounts = {a["ppa_id"]: a["amount"] for a in
               _call(world, "GET", f"/api/scenarios/{baseline['id']}/allocations", analyst).get_json()}
    assert amounts == {ppas["main"]: "5000000.00", ppas["health"]: "1000000.01", ppas["school"]: "2999999.99"}

    # A second scenario, cut by a third across MSSD: exact to the centavo by largest remainder.
    cut = _call(world, "POST", "/api/scenarios", analyst, {"from_fiscal_year": 2025, "name": "Austerity",
                                                           "baseline": False, "ceiling": "6000000.00"},
                expect=201)
    etag = cut.headers["ETag"]
    cut = cut.get_json()
    changed = _call(world, "POST", f"/api/scenarios/{cut['id']}/adjustments", analyst,
                    {"scope": "moa", "value": "MSSD", "amount": "-3000000.00", "justification": "austerity"},
                    headers={"If-Match": etag}).get_json()
    assert sum(Decimal(a["amount"]) for a in changed) == Decimal("6000000.00")
    assert {a["ppa_id"]: a["amount"] for a in changed}[ppas["health"]] == "666666.67"
    # The stale ETag is refused and changes nothing.
    _call(world, "POST", f"/api/scenarios/{cut['id']}/adjustments", analyst,
          {"scope": "all", "percent": "10"}, headers={"If-Match": '"scenarios-1-v999"'}, expect=412)

    # The optimiser, under a ceiling of 4,000,000.00: the two PPAs that address needs fit exactly.
    etag = _call(world, "GET", f"/api/scenarios/{baseline['id']}", analyst).headers["ETag"]
    _call(world, "PATCH", f"/api/scenarios/{baseline['id']}", analyst, {"ceiling": "4000000.00"},
          headers={"If-Match": etag})
    reply = _call(world, "POST", f"/api/scenarios/{baseline['id']}/optimise", analyst, {"name": "Proposed"}).get_json()
    proposal = reply["proposal"]
    assert proposal["optimum"]["allocations"] == {str(ppas["health"]): "1000000.01", str(ppas["school"]): "2999999.99"}
    assert proposal["optimum"]["total"] == "4000000.00" and proposal["optimum"]["population_served"] == 5800
    assert Decimal(proposal["gap"]) >= 0
    assert next(c for c in proposal["constraints"] if c["name"] == "ceiling")["slack"] == "0.00"
    proposed = reply["scenario"]["id"]

    comparison = _call(world, "GET", f"/api/scenarios/compare?ids={baseline['id']},{cut['id']},{proposed}",
                       analyst).get_json()
    first, _, third = comparison["scenarios"]
    assert first["needs_addressed"] == third["needs_addressed"] == 2 and third["population_served"] == 5800
    assert comparison["differences"][1]["total"] == "-5000000.00"
    assert next(c for c in first["constraints"] if c["name"] == "ceiling")["satisfied"] is False  # 9M over 4M

    workbook = _call(world, "GET", f"/api/scenarios/compare.xlsx?ids={baseline['id']},{proposed}", analyst)
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    rows = {sheet.cell(r, 1).value: [sheet.cell(r, c).value for c in range(3, 6)] for r in range(4, sheet.max_row + 1)}
    assert [Decimal(str(v)) for v in rows["Total"]] == [Decimal(9000000), Decimal(4000000), Decimal(-5000000)]
    assert rows["Population served"][:2] == [5800, 5800]
    shaded = [sheet.cell(r, c).value for r in range(4, sheet.max_row + 1) for c in range(3, 6)
              if sheet.cell(r, c).fill.start_color.rgb.endswith("FFF2CC")]
    assert Decimal(-5000000) in [Decimal(str(v)) for v in shaded]  # the differences stand out

    printed = _call(world, "GET", f"/api/scenarios/compare.pdf?ids={baseline['id']},{proposed}", analyst)
    assert printed.mimetype == "application/pdf"
    with pdfplumber.open(io.BytesIO(printed.data)) as document:
        text = " ".join(page.extract_text() for page in document.pages)
    assert "Budget scenarios compared" in text and "Proposed" in text
    assert "9,000,000.00" in text and "(5,000,000.00)" in text and "5,800" in text


def test_a_focal_person_may_not_see_scenarios_and_an_empty_scenario_needs_a_ceiling(world):
    world, _ = world
    _call(world, "GET", "/api/scenarios", world.focal, expect=403)
    problem = _call(world, "POST", "/api/scenarios", world.budget_analyst, {"name": "Empty"}, expect=422).get_json()
    assert "ceiling" in problem["errors"]
    _call(world, "POST", "/api/scenarios", world.budget_analyst, {"from_fiscal_year": 2031}, expect=422)


def test_an_adjustment_that_would_go_below_zero_changes_nothing(world):
    world, ppas = world
    analyst = world.budget_analyst
    created = _call(world, "POST", "/api/scenarios", analyst, {"from_fiscal_year": 2025}, expect=201).get_json()
    _call(world, "POST", f"/api/scenarios/{created['id']}/adjustments", analyst,
          {"scope": "ppa", "value": str(ppas["health"]), "amount": "-1000000.02"}, expect=422)
    amounts = {a["ppa_id"]: a["amount"] for a in
               _call(world, "GET", f"/api/scenarios/{created['id']}/allocations", analyst).get_json()}
    assert amounts[ppas["health"]] == "1000000.01"


def test_constraints_that_cannot_all_hold_are_named_in_a_422(world, monkeypatch):
    world, _ = world
    analyst = world.budget_analyst
    created = _call(world, "POST", "/api/scenarios", analyst, {"from_fiscal_year": 2025, "ceiling": "100.00"},
                    expect=201).get_json()
    declared = ScenarioRules(minimum_shares=(MinimumShare("sector", "health", Decimal(50), "ceiling"),))
    monkeypatch.setattr(scenario_service, "rules", lambda: declared)
    problem = _call(world, "POST", f"/api/scenarios/{created['id']}/optimise", analyst, {"save": False},
                    expect=422).get_json()
    assert problem["type"].endswith("infeasible_constraints")
    assert "minimum_share:sector:health" in problem["conflicting"]


def test_an_moa_is_capped_by_its_past_obligation_rate(world):
    world, ppas = world
    analyst = world.budget_analyst
    created = _call(world, "POST", "/api/scenarios", analyst, {"name": "FY2026", "fiscal_year": 2026,
                                                               "ceiling": "9000000.00"}, expect=201)
    scenario = created.get_json()["id"]
    _call(world, "PUT", f"/api/scenarios/{scenario}/allocations/{ppas['main']}", analyst,
          {"amount": "700000.00", "justification": "ask"}, headers={"If-Match": created.headers["ETag"]})

    summary = _call(world, "GET", f"/api/scenarios/compare?ids={scenario},{_empty(world)}", analyst).get_json()
    cap = next(c for c in summary["scenarios"][0]["constraints"] if c["name"] == "moa_cap:MSSD")
    assert (cap["limit"], cap["slack"], cap["satisfied"]) == ("600000.00", "-100000.00", False)


def _empty(world) -> int:
    return _call(world, "POST", "/api/scenarios", world.budget_analyst, {"name": "Empty", "ceiling": "0.00"},
                 expect=201).get_json()["id"]


def test_the_comparison_totals_each_area_by_the_provinces_of_the_needs_its_ppas_address(world):
    world, ppas = world
    analyst = world.budget_analyst
    with world.app.app_context():  # the clinic's need is in Basilan; the school addresses one there and one in
        needs = {n.title: n for n in db.session.query(Need)}  # Lanao del Sur: half each, to the centavo
        needs["Clinic"].province_code = "1900700000"
        needs["Classrooms"].province_code = "1903600000"
        library = Need(title="Library", description="Library", category="health", urgency="high",
                       status="forwarded", votes=1, vote_weight=1, population_affected=100,
                       submitted_on="2025-01-02", province_code="1900700000")
        db.session.add(library)
        db.session.flush()
        db.session.add(PpaNeed(ppa_id=ppas["school"], need_id=library.id))
        db.session.commit()
    baseline = _call(world, "POST", "/api/scenarios", analyst, {"from_fiscal_year": 2025}, expect=201).get_json()
    cut = _call(world, "POST", "/api/scenarios", analyst, {"from_fiscal_year": 2025, "name": "No school"},
                expect=201)
    _call(world, "PUT", f"/api/scenarios/{cut.get_json()['id']}/allocations/{ppas['school']}", analyst,
          {"amount": "0.00"}, headers={"If-Match": cut.headers["ETag"]})
    ids = f"{baseline['id']},{cut.get_json()['id']}"

    comparison = _call(world, "GET", f"/api/scenarios/compare?ids={ids}", analyst).get_json()

    # 2,999,999.99 split over two needs: 1,500,000.00 and 1,499,999.99 (the odd centavo to the earlier code)
    assert comparison["scenarios"][0]["by_area"] == {
        "Basilan": "2500000.01", "Lanao del Sur": "1499999.99", "(no area)": "5000000.00"}
    assert sum(Decimal(v) for v in comparison["scenarios"][0]["by_area"].values()) == Decimal("9000000.00")
    assert comparison["scenarios"][1]["by_area"] == {"Basilan": "1000000.01", "(no area)": "5000000.00"}
    assert comparison["differences"][0]["by_area"] == {"Basilan": "-1500000.00", "Lanao del Sur": "-1499999.99"}
    sheet = load_workbook(io.BytesIO(_call(world, "GET", f"/api/scenarios/compare.xlsx?ids={ids}",
                                           analyst).data)).active
    areas = {sheet.cell(r, 2).value: [Decimal(str(sheet.cell(r, c).value)) for c in range(3, 6)]
             for r in range(4, sheet.max_row + 1) if sheet.cell(r, 1).value == "Area"}
    assert list(areas) == ["Basilan", "Lanao del Sur", "(no area)"]
    assert areas["Lanao del Sur"] == [Decimal("1499999.99"), Decimal(0), Decimal("-1499999.99")]
    printed = _call(world, "GET", f"/api/scenarios/compare.pdf?ids={ids}", analyst)
    with pdfplumber.open(io.BytesIO(printed.data)) as document:
        text = " ".join(page.extract_text() for page in document.pages)
    assert "Area Lanao del Sur 1,499,999.99" in text and "(1,499,999.99)" in text
