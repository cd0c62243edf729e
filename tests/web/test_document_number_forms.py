"""The Execution tab's ORS and DV forms: a number left blank is the next of
its series, a number not in the appendix's form is refused next to it, and
the DV names its mode of payment and fund cluster as the form does
(docs/design.md §12, "Document numbers and modes of payment")."""

from __future__ import annotations

import html as markup

import pytest

from tests.web.conftest import emptied_after
from tests.web.test_ppa_tabs import tree_rows

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


@pytest.fixture
def app(request, module_app):
    """The module's one application, on a database emptied after each test."""
    yield from emptied_after(request, module_app)


def test_an_ors_number_not_in_the_appendix_form_is_refused_next_to_it_and_a_blank_dv_number_is_generated(
        app, world, chain, browser_for):
    allotment = chain.allot("1000.00")["id"]
    obligation = chain.obligate(allotment, "100.00")["id"]
    browser = browser_for(world.focal)
    page = f"/ppas/{chain.ppa}/execution"

    refused = browser.post_form(f"{page}/obligations", {
        "obligation-allotment": str(allotment), "obligation-ors_number": "ORS-2025-0001",
        "obligation-payee": "Cotabato Training Services Cooperative", "obligation-particulars": "",
        "obligation-obligation_date": "2025-03-10", "obligation-amount": "100.00"}, page=page)
    paid = browser.post_form(f"{page}/disbursements", {
        "disbursement-obligation": str(obligation), "disbursement-dv_number": "",
        "disbursement-payment_method": "commercial_check", "disbursement-disbursement_date": "2025-04-15",
        "disbursement-amount": "10.00"}, page=page)

    text = markup.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert ('id="obligation-ors_number-error" class="field-error">\'ORS-2025-0001\' is not an ORS number in the form '
            "allotment class-funding source code-year-month-serial, e.g. 02-01-2026-03-00001 (GAM Appendix 11)"
            in text)
    assert tree_rows(app, "SELECT count(*) FROM obligations") == [(1,)]
    assert paid.status_code in (302, 303), paid.get_data(as_text=True)[:2000]
    shown = markup.unescape(browser.client.get(page).get_data(as_text=True))
    assert "2025-04-0001" in shown and "Commercial check" in shown
