"""Budget scenarios on pages (issue 16 item 1, docs/design.md §17 "In the
web app"): an MFBM analyst copies the enacted year twice, cuts one by MOA,
lets the optimiser propose a third, compares the three side by side with
the differences highlighted and downloads the comparison; a refused
adjustment is shown next to its field and changes nothing; a MOA focal
person may not open the pages."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from db import db
from db.models import Need, PpaNeed, ProgramBudget
from tests.support import Chain

pytestmark = pytest.mark.usefixtures("quick_passwords")


@pytest.fixture
def enacted(world):
    """FY2025 enacted for MSSD: the Chain's PPA (PHP 5,000,000.00), a clinic
    (1,000,000.01, health) and a school (2,999,999.99, education), each
    addressing a need."""
    chain = Chain(world)
    health = world.create_ppa(title="Clinic", sector="health", budget_allocation="1000000.01")["id"]
    school = world.create_ppa(title="School", sector="education", budget_allocation="2999999.99")["id"]
    with world.app.app_context():
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
    return {"main": chain.ppa, "health": health, "school": school}


def _created(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def test_an_analyst_builds_two_scenarios_lets_the_optimiser_propose_a_third_and_compares_and_exports_them(
        world, browser_for, enacted):
    analyst = browser_for(world.budget_analyst)
    listing = analyst.client.get("/scenarios")
    assert listing.status_code == 200 and 'href="/scenarios"' in listing.get_data(as_text=True)  # in the navigation

    baseline = _created(analyst.post_form("/scenarios", {"from_fiscal_year": "2025", "baseline": "y"}))
    page = analyst.client.get(baseline).get_data(as_text=True)
    assert "Enacted FY 2025" in page and "₱9,000,000.00" in page and "Clinic" in page

    austerity = _created(analyst.post_form("/scenarios", {"from_fiscal_year": "2025", "name": "Austerity",
                                                          "ceiling": "6,000,000.00"}))
    cut = analyst.post_form(austerity, {"scope": "moa", "value": "MSSD", "amount": "-3,000,000",
                                        "justification": "austerity"})
    assert _created(cut) == austerity
    page = analyst.client.get(austerity).get_data(as_text=True)
    assert "₱666,666.67" in page and "₱6,000,000.00" in page  # a third off each, exact to the centavo

    answer = analyst.post_form(f"{austerity}/optimise", {"name": "Optimised", "save": "y"}, page=austerity)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html[:2000]
    assert "Optimum" in html and "Greedy estimate" in html and "Gap of the greedy estimate" in html
    assert "Just in" in html and "Just out" in html and "ceiling" in html
    optimised = html.split('Kept as scenario <a href="')[1].split('"')[0]
    alone = analyst.post_form(f"{austerity}/optimise", {"save": ""}, page=austerity, headers={"HX-Request": "true"})
    assert alone.status_code == 200 and "<html" not in alone.get_data(as_text=True)  # the partial, to HTMX

    ids = [url.rsplit("/", 1)[1] for url in (baseline, austerity, optimised)]
    compared = analyst.client.get("/scenarios/compare?" + "&".join(f"ids={i}" for i in ids))
    html = compared.get_data(as_text=True)
    assert compared.status_code == 200, html[:2000]
    assert "Austerity − Enacted FY 2025" in html and "Optimised − Enacted FY 2025" in html
    assert '<td class="number changed"><mark>-₱3,000,000.00</mark></td>' in html  # the cut, highlighted
    workbook = analyst.client.get(f"/scenarios/compare.xlsx?ids={','.join(ids)}")
    assert workbook.status_code == 200
    sheet = load_workbook(BytesIO(workbook.data)).active
    assert [c.value for c in sheet[3]][:5] == ["Group", "Key", "Enacted FY 2025", "Austerity", "Optimised"]
    pdf = analyst.client.get(f"/scenarios/compare.pdf?ids={','.join(ids)}")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"


def test_an_adjustment_the_service_refuses_is_shown_next_to_its_field_and_changes_nothing(
        world, browser_for, enacted):
    analyst = browser_for(world.budget_analyst)
    scenario = _created(analyst.post_form("/scenarios", {"from_fiscal_year": "2025"}))

    unknown = analyst.post_form(scenario, {"scope": "moa", "value": "MTIT", "percent": "-5"})
    html = unknown.get_data(as_text=True)
    assert unknown.status_code == 422
    assert 'id="value-error"' in html and "no allocation of this scenario has moa" in html
    assert 'value="MTIT"' in html  # the input is kept
    both = analyst.post_form(scenario, {"scope": "all", "percent": "5", "amount": "100"})
    assert both.status_code == 422 and 'id="percent-error"' in both.get_data(as_text=True)
    assert "₱9,000,000.00" in analyst.client.get(scenario).get_data(as_text=True)


def test_a_year_without_enacted_appropriations_is_refused_on_its_field(world, browser_for, enacted):
    refused = browser_for(world.budget_analyst).post_form("/scenarios", {"from_fiscal_year": "2031"})

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="from_fiscal_year-error"' in html and "no enacted appropriation" in html


def test_a_moa_focal_person_may_not_open_the_scenario_pages(world, browser_for):
    focal = browser_for(world.focal)

    assert focal.client.get("/scenarios").status_code == 403
    assert 'href="/scenarios"' not in focal.client.get("/").get_data(as_text=True)
