"""The budget proposal in a real browser (issue 12 item 8; docs/design.md
§12 "In the web app"): submitted by the MOA, reviewed and marked enacted by
two MFBM analysts through the Actions panel, and the submitter shown why
they may not review their own proposal."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.harness import DESKTOP
from tests.web.conftest import quick_passwords  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


def _proposal(world, person) -> int:
    response = world.client.post("/api/budget-proposals", json={"organization": "MSSD", "fiscal_year": 2026,
                                                                 "title": "MSSD FY2026 budget proposal"},
                                 headers=person.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _as(browser, web, person):
    context = browser.new_context(viewport=DESKTOP, base_url=web.base, locale="en-PH", timezone_id="Asia/Manila")
    page = context.new_page()
    sign_in(page, web, person)
    return context, page


def test_a_proposal_is_submitted_reviewed_and_enacted_by_the_right_people(web, browser, page, check_page):
    world = web.world
    proposal = _proposal(world, world.focal)

    sign_in(page, web, world.focal)
    page.get_by_role("link", name="Budget proposals").click()
    check_page(page, "/budget-proposals")
    page.get_by_role("link", name="MSSD FY2026 budget proposal").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_have_text("Budget proposal submitted: it is now Submitted to MFBM.")
    check_page(page, "/budget-proposals/<id> (submitted)")

    analyst_context, analyst = _as(browser, web, world.budget_analyst)
    analyst.goto(f"/budget-proposals/{proposal}")
    analyst.get_by_role("button", name="Review").click()
    expect(analyst.get_by_role("status")).to_have_text("Budget proposal reviewed: it is now Reviewed by MFBM.")
    expect(analyst.get_by_role("button", name="Enact")).to_be_disabled()  # the reviewer may not enact
    expect(analyst.locator("#reason-enact")).to_have_text(
        "You reviewed this budget proposal, so another person must mark it enacted.")
    analyst_context.close()

    second = world.person("mfbm.analyst2", "budget_analyst", org="MFBM")
    second_context, other = _as(browser, web, second)
    other.goto(f"/budget-proposals/{proposal}")
    other.get_by_role("button", name="Enact").click()
    expect(other.get_by_role("status")).to_have_text(
        "Budget proposal marked enacted: it is now Included in the enacted GAAB.")
    expect(other.locator(".timeline")).to_contain_text("Enact")
    check_page(other, "/budget-proposals/<id> (enacted)")
    second_context.close()
    assert web.sql(f"SELECT status FROM budget_proposals WHERE id = {proposal}").scalar_one() == "enacted"


def test_the_submitter_trying_to_review_sees_why_not(web, page, check_page):
    world = web.world
    focal_analyst = world.person("mssd.budget", "moa_focal", "budget_analyst", org="MSSD")
    proposal = _proposal(world, focal_analyst)

    sign_in(page, web, focal_analyst)
    page.goto(f"/budget-proposals/{proposal}")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("submitted")

    review = page.get_by_role("button", name="Review")
    expect(review).to_be_disabled()
    expect(page.locator("#reason-review")).to_have_text(
        "You submitted this budget proposal, so another person must review it.")
    check_page(page, "/budget-proposals/<id> (the submitter)")
    assert web.sql(f"SELECT status FROM budget_proposals WHERE id = {proposal}").scalar_one() == "submitted"
