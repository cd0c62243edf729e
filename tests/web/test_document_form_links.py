"""The Execution tab links each ORS and DV to its printed GAM form (issue 13
item 2; docs/design.md §8 "Forms"): the link opens the PDF for the MOA, and
another MOA's person gets the 404 page."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import emptied_after

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


@pytest.fixture
def app(request, module_app):
    """The module's one application, on a database emptied after each test."""
    yield from emptied_after(request, module_app)


def test_each_ors_and_dv_on_the_execution_tab_links_to_its_printable_form(world, chain, browser_for):
    ors = chain.obligate(chain.allot("100000.00")["id"], "60000.00")
    dv = chain.disburse(ors["id"], "1000.00")
    browser = browser_for(world.focal)

    html = browser.client.get(f"/ppas/{chain.ppa}/execution").get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)">Print the form \(PDF\)</a>', html)

    assert links == [f"/obligations/{ors['id']}/form.pdf", f"/disbursements/{dv['id']}/form.pdf"]
    for link in links:
        response = browser.client.get(link)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.get_data().startswith(b"%PDF")
        assert browser_for(world.other_focal).client.get(link).status_code == 404
