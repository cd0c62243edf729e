"""The period-close page in a real browser (issue 12 item 8; docs/design.md
§12 "Closing a period"): the budget officer signs the closing of a quarter,
signing again is refused with a sentence in the quarter's box, and the
chief accountant's signature closes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.harness import DESKTOP
from tests.web.conftest import quick_passwords  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


def test_the_right_people_close_a_quarter_and_the_same_person_twice_is_refused(web, browser, page, check_page):
    world = web.world
    officer = world.person("mssd.budget", "budget_officer", org="MSSD")
    accountant = world.person("mssd.accountant", "chief_accountant", org="MSSD")

    sign_in(page, web, officer)
    page.get_by_role("link", name="Closing periods").click()
    page.goto("/period-closures?organization=MSSD&fiscal_year=2025")
    first = page.locator("#quarter-1")
    first.get_by_role("button", name="Sign the closing of Q1 2025").click()
    expect(page.locator("#quarter-1")).to_contain_text("Closing: one signature so far")
    page.locator("#quarter-1").get_by_role("button", name="Sign the closing of Q1 2025").click()
    expect(page.locator("#quarter-1").get_by_role("alert")).to_contain_text(
        "You already signed as budget officer; to close Q1 2025 of MSSD another person, the chief accountant, "
        "must sign")
    check_page(page, "/period-closures (a refusal)")

    context = browser.new_context(viewport=DESKTOP, base_url=web.base, locale="en-PH", timezone_id="Asia/Manila")
    other = context.new_page()
    sign_in(other, web, accountant)
    other.goto("/period-closures?organization=MSSD&fiscal_year=2025")
    other.locator("#quarter-1").get_by_role("button", name="Sign the closing of Q1 2025").click()
    expect(other.locator("#quarter-1 h2")).to_contain_text("Closed")
    expect(other.locator("#quarter-1").get_by_role("button", name="Sign the reopening of Q1 2025")).to_be_visible()
    check_page(other, "/period-closures (closed)")
    context.close()
    assert web.sql("SELECT status FROM period_closures WHERE quarter = 1").scalar_one() == "closed"
