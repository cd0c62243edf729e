"""The budget proposal on a page (issue 12 item 8; docs/design.md §12 "In
the web app"): the list, a proposal's program budgets and history, and its
Actions panel, whose closed steps say why in words."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import emptied_after
from tests.web.test_ppa_tabs import tree_rows

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


@pytest.fixture
def app(request, module_app):
    """The module's one application, on a database emptied after each test."""
    yield from emptied_after(request, module_app)


def _proposal(world, title: str = "MSSD FY2026 budget proposal") -> int:
    response = world.client.post("/api/budget-proposals", json={"organization": "MSSD", "fiscal_year": 2026,
                                                                 "title": title}, headers=world.focal.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _fire(browser, proposal: int, trigger: str, **extra):
    page = f"/budget-proposals/{proposal}"
    return browser.post_form(f"{page}/transitions", {"trigger": trigger} | extra, page=page)


def test_the_moa_sees_its_own_proposals_and_not_another_moas(world, browser_for):
    _proposal(world)
    world.other_focal  # noqa: B018 - MTIT exists

    mine = browser_for(world.focal).client.get("/budget-proposals").get_data(as_text=True)
    theirs = browser_for(world.other_focal).client.get("/budget-proposals").get_data(as_text=True)

    assert "MSSD FY2026 budget proposal" in mine and "Draft" in mine
    assert "MSSD FY2026 budget proposal" not in theirs and "No budget proposal yet." in theirs


def test_mfbm_sees_every_moas_proposals_and_the_navigation_links_them(world, browser_for):
    _proposal(world)

    html = browser_for(world.budget_analyst).client.get("/budget-proposals").get_data(as_text=True)

    assert "MSSD FY2026 budget proposal" in html
    assert re.search(r'<a href="/budget-proposals"[^>]*>Budget proposals</a>', html)


def test_people_who_do_not_use_proposals_get_no_link_to_them(world, browser_for):
    html = browser_for(world.technical_reviewer).client.get("/ppas").get_data(as_text=True)

    assert 'href="/budget-proposals"' not in html


def test_a_proposal_shows_its_program_budgets_and_its_history(world, chain, browser_for):
    html = browser_for(world.focal).client.get(f"/budget-proposals/{chain.proposal}").get_data(as_text=True)

    assert "Nothing more to do: the proposal is Included in the enacted GAAB." in html
    table = re.search(r'<table class="striped cards">.*?</table>', html, re.S).group(0)
    assert "₱5,000,000.00" in table
    history = re.search(r'<ol class="timeline">.*?</ol>', html, re.S).group(0)
    assert [step for step in ("Submit", "Review", "Enact") if f"<strong>{step}</strong>" in history] == [
        "Submit", "Review", "Enact"]


def test_the_moa_submits_its_proposal_from_the_actions_panel(app, world, browser_for):
    proposal = _proposal(world)
    browser = browser_for(world.focal)

    response = _fire(browser, proposal, "submit")

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(app, f"SELECT status FROM budget_proposals WHERE id = {proposal}") == [("submitted",)]
    assert "Submitted to MFBM" in browser.client.get(response.location).get_data(as_text=True)


def test_the_submitter_sees_why_they_may_not_review_their_own_proposal(world, browser_for):
    focal_analyst = world.person("mssd.budget", "moa_focal", "budget_analyst", org="MSSD")
    proposal = _proposal(world)
    browser = browser_for(focal_analyst)
    assert _fire(browser, proposal, "submit").status_code == 302

    html = browser.client.get(f"/budget-proposals/{proposal}").get_data(as_text=True)

    reason = re.search(r'disabled aria-describedby="reason-review">Review</button>\s*'
                       r'<small id="reason-review" class="reason">([^<]*)<', html)
    assert reason and "You submitted this budget proposal, so another person must review it" in reason.group(1)


def test_a_return_for_revision_without_a_comment_is_refused_next_to_the_comment(app, world, browser_for):
    proposal = _proposal(world)
    world.client.post(f"/api/budget-proposals/{proposal}/transitions", json={"trigger": "submit"},
                      headers=world.focal.headers)
    browser = browser_for(world.budget_analyst)

    response = _fire(browser, proposal, "return_for_revision", comment="  ")

    assert response.status_code == 422
    assert re.search(r'id="comment-error" class="field-error">', response.get_data(as_text=True))
    assert tree_rows(app, f"SELECT status FROM budget_proposals WHERE id = {proposal}") == [("submitted",)]
