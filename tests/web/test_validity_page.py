"""The Execution tab: a date outside the validity of the appropriation is
refused next to the date, with the rule and its legal basis; quarters are
labelled with their year when they are not the fiscal year's
(docs/design.md §12, "Validity periods and dates")."""

from __future__ import annotations

import html as markup
import re

import pytest

from tests.web.conftest import emptied_after
from tests.web.test_ppa_tabs import tree_rows

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


@pytest.fixture
def app(request, module_app):
    """The module's one application, on a database emptied after each test."""
    yield from emptied_after(request, module_app)


def test_an_ors_dated_after_its_deadline_is_refused_next_to_its_date(app, world, chain, browser_for):
    allotment = chain.post("/api/allotments", world.budget_analyst, 201, program_budget_id=chain.program_budget,
                           release_date="2025-02-03", saro_number="SARO-BARMM-2025-0001", amount="1000.00",
                           allotment_class="ps")
    browser = browser_for(world.focal)
    page = f"/ppas/{chain.ppa}/execution"

    response = browser.post_form(f"{page}/obligations", {
        "obligation-allotment": str(allotment["id"]), "obligation-ors_number": "",
        "obligation-payee": "Cotabato Training Services Cooperative", "obligation-particulars": "",
        "obligation-obligation_date": "2026-01-05", "obligation-amount": "100.00"}, page=page)

    text = markup.unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert re.search(r'id="obligation-obligation_date-error" class="field-error">This obligation of FY2025 PS dated '
                     r"2026-01-05 is outside its validity: under the FY2025 PS validity it may be obligated until "
                     r"2025-12-31 \(ILLUSTRATIVE DEFAULT, not law", text)
    assert tree_rows(app, "SELECT count(*) FROM obligations") == [(0,)]


def test_a_later_years_quarter_is_labelled_with_its_year(world, chain, browser_for):
    allotment = chain.allot("1000.00")
    chain.obligate(allotment["id"], "100.00", day="2026-02-16")

    page = browser_for(world.focal).client.get(f"/ppas/{chain.ppa}/execution").get_data(as_text=True)

    assert '<th scope="row" data-label="Quarter">Q1 total</th>' in page
    assert '<th scope="row" data-label="Quarter">Q1 2026 total</th>' in page
