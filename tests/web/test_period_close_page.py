"""The period-close page (issue 12 item 8; docs/design.md §12 "Closing a
period", "In the web app"): a MOA's quarters with their state and
signatures; its budget officer and chief accountant sign closing and
reopening from it, and every refusal is shown as a sentence in the
quarter's box, nothing having changed."""

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

PAGE = "/period-closures?organization=MSSD&fiscal_year=2025"


def quarter(html: str, number: int) -> str:
    """The box of one quarter on the page."""
    return re.search(rf'<section id="quarter-{number}".*?</section>', html, re.DOTALL).group(0)


def sign_close(browser, number: int, **headers):
    return browser.client.post("/period-closures/MSSD/2025/close", headers=headers, data={
        "quarter": str(number), "csrf_token": _token(browser)})


def _token(browser) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', browser.client.get(PAGE).get_data(as_text=True)).group(1)


def test_the_budget_officer_and_the_chief_accountant_close_a_quarter_from_the_page(app, world, browser_for):
    officer = browser_for(world.person("mssd.budget", "budget_officer", org="MSSD"))
    accountant = browser_for(world.person("mssd.accountant", "chief_accountant", org="MSSD"))
    before = officer.client.get(PAGE).get_data(as_text=True)

    first = sign_close(officer, 1)
    middle = officer.client.get(PAGE).get_data(as_text=True)
    second = sign_close(accountant, 1)
    after = accountant.client.get(PAGE).get_data(as_text=True)

    assert "Open" in quarter(before, 1) and "Sign the closing of Q1 2025" in quarter(before, 1)
    assert re.search(r'<a href="/period-closures"[^>]*>Closing periods</a>', before)
    assert first.status_code == 302 and second.status_code == 302
    assert "Closing: one signature so far" in quarter(middle, 1)
    assert "signed by <strong>mssd.budget</strong> as" in quarter(middle, 1)
    assert "Closed" in quarter(after, 1) and "Sign the reopening of Q1 2025" in quarter(after, 1)
    assert "Open" in quarter(after, 2)
    assert tree_rows(app, "SELECT quarter, status FROM period_closures") == [(1, "closed")]


def test_signing_twice_is_refused_with_a_sentence_in_the_quarter_and_nothing_changes(app, world, browser_for):
    officer = browser_for(world.person("mssd.budget", "budget_officer", org="MSSD"))
    assert sign_close(officer, 2).status_code == 302

    again = sign_close(officer, 2)
    partial = sign_close(officer, 2, **{"HX-Request": "true"})

    assert again.status_code == 403
    box = quarter(again.get_data(as_text=True), 2)
    assert 'role="alert"' in box and "You already signed as budget officer" in box and "chief accountant" in box
    assert partial.status_code == 200  # HTMX swaps the quarter's box in, with the sentence
    assert partial.get_data(as_text=True).lstrip().startswith("<section id=\"quarter-2\"")
    assert "You already signed" in partial.get_data(as_text=True)
    assert tree_rows(app, "SELECT count(*) FROM period_closure_signatures") == [(1,)]


def test_q4_refused_while_earlier_quarters_are_open_and_reopening_needs_a_reason(app, world, browser_for):
    officer = browser_for(world.person("mssd.budget", "budget_officer", org="MSSD"))
    accountant = browser_for(world.person("mssd.accountant", "chief_accountant", org="MSSD"))
    assert sign_close(officer, 4).status_code == 302

    refused = sign_close(accountant, 4)
    for who in (officer, accountant):
        sign_close(who, 1)
    closure = tree_rows(app, "SELECT id FROM period_closures WHERE quarter = 1")[0][0]
    no_reason = accountant.client.post(f"/period-closures/{closure}/reopen", data={
        "quarter": "1", "reason": " ", "csrf_token": _token(accountant)})

    assert refused.status_code == 409
    assert "close Q1, Q2, Q3 2025 first" in quarter(refused.get_data(as_text=True), 4)
    assert no_reason.status_code == 422 and "Say why the quarter is reopened." in quarter(
        no_reason.get_data(as_text=True), 1)
    assert tree_rows(app, f"SELECT status FROM period_closures WHERE id = {closure}") == [("closed",)]


def test_people_who_do_not_sign_see_the_quarters_without_buttons_and_not_another_moas(world, browser_for):
    focal = browser_for(world.focal).client.get(PAGE)
    other = browser_for(world.other_focal).client.get(PAGE)

    html = focal.get_data(as_text=True)
    assert focal.status_code == 200 and "Only the MSSD budget officer and chief accountant sign" in html
    assert "Sign the closing" not in html and "Closing periods</a>" not in html
    assert other.status_code == 404


def test_a_year_out_of_range_shows_the_default_year_and_an_unknown_moa_is_not_found(world, browser_for):
    browser = browser_for(world.person("mssd.budget", "budget_officer", org="MSSD"))

    odd = browser.client.get("/period-closures?organization=MSSD&fiscal_year=99999")
    unknown = browser.client.get("/period-closures?organization=NOPE&fiscal_year=2025")

    assert odd.status_code == 200 and "Closing periods: MSSD, fiscal year" in odd.get_data(as_text=True)
    assert unknown.status_code == 404


def test_a_quarter_other_than_1_to_4_is_422_and_nothing_is_signed(app, world, browser_for):
    officer = browser_for(world.person("mssd.budget", "budget_officer", org="MSSD"))
    token = _token(officer)

    answers = [officer.client.post("/period-closures/MSSD/2025/close", headers=headers,
                                   data={"quarter": value, "csrf_token": token})
               for value in ("9", "x", "0") for headers in ({}, {"HX-Request": "true"})]

    assert [a.status_code for a in answers] == [422] * 6
    assert "A quarter is 1, 2, 3 or 4" in answers[0].get_data(as_text=True)
    assert tree_rows(app, "SELECT quarter, status FROM period_closures") == []
