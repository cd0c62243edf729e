"""The pages label where a PPA's actual expenditure comes from (issue 12
item 7; docs/design.md §12, "Money spent and payables"): disbursed for a PPA
in the money chain, whose work items take no expenditure by hand; "reported,
not disbursed" for one outside it."""

from __future__ import annotations

import re
from html import escape

import pytest

from tests.web.conftest import emptied_after
from tests.web.test_ppa_tabs import leaf_of, tree_rows

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


@pytest.fixture
def app(request, module_app):
    """The module's one application, on a database emptied after each test."""
    yield from emptied_after(request, module_app)


def test_a_ppa_in_the_chain_is_labelled_disbursed_and_offers_no_expenditure_form(app, world, chain, browser_for):
    chain.allot("100000.00")
    browser = browser_for(world.focal)

    for tab in ("work-items", "budget", "execution"):
        html = browser.client.get(f"/ppas/{chain.ppa}/{tab}").get_data(as_text=True)
        assert "Actual expenditure: disbursed." in html, tab
        assert "reported, not disbursed" not in html, tab
    assert "Record expenditure" not in browser.client.get(f"/ppas/{chain.ppa}/work-items").get_data(as_text=True)


def test_expenditure_posted_by_hand_on_a_ppa_in_the_chain_is_refused_in_words_next_to_the_amount(
        app, world, chain, browser_for):
    chain.allot("100000.00")
    leaf = leaf_of(world, chain.ppa)
    browser = browser_for(world.focal)
    before = tree_rows(app, "SELECT id, actual_expenditure FROM work_items ORDER BY id")

    response = browser.post_form(f"/ppas/{chain.ppa}/work-items/{leaf}/expenditures",
                                 {f"spend-{leaf}-amount": "10.00"}, page=f"/ppas/{chain.ppa}/work-items")

    assert response.status_code == 409
    assert re.search(rf'id="spend-{leaf}-amount-error" class="field-error">PPA {chain.ppa} is in the money chain',
                     response.get_data(as_text=True))
    assert tree_rows(app, "SELECT id, actual_expenditure FROM work_items ORDER BY id") == before


def test_a_ppa_outside_the_chain_is_labelled_reported_not_disbursed(app, world, browser_for):
    ppa, _ = world.tracked_ppa("approved")
    browser = browser_for(world.focal)

    for tab in ("work-items", "budget", "execution"):
        html = browser.client.get(f"/ppas/{ppa['id']}/{tab}").get_data(as_text=True)
        assert "Actual expenditure: reported, not disbursed." in html, tab
    assert "Record expenditure" in browser.client.get(f"/ppas/{ppa['id']}/work-items").get_data(as_text=True)


def test_an_obligation_recorded_on_the_execution_tab_is_charged_to_the_chosen_work_item(app, world, chain, browser_for):
    allotment = chain.allot("100000.00")["id"]
    leaf = leaf_of(world, chain.ppa)
    browser = browser_for(world.focal)
    page = f"/ppas/{chain.ppa}/execution"

    response = browser.post_form(f"{page}/obligations", {
        "obligation-allotment": str(allotment), "obligation-ors_number": "",
        "obligation-payee": "Cotabato Training Services Cooperative", "obligation-obligation_date": "2025-03-10",
        "obligation-amount": "5000.00", "obligation-work_item": str(leaf)}, page=page)

    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    assert tree_rows(app, "SELECT work_item_id FROM obligations") == [(leaf,)]
    title = world.client.get(f"/api/work-items/{leaf}", headers=world.focal.headers).get_json()["title"]
    assert f"Charged to “{escape(title)}”" in browser.client.get(page).get_data(as_text=True)


def test_the_execution_tab_splits_unpaid_obligations_into_due_and_not_yet_due(app, world, chain, browser_for):
    obligation = chain.obligate(chain.allot("1000000.00")["id"], "500000.00")["id"]
    chain.post(f"/api/obligations/{obligation}/deliveries", world.focal, amount="120000.50", accepted_on="2025-03-20")

    html = browser_for(world.focal).client.get(f"/ppas/{chain.ppa}/execution").get_data(as_text=True)

    assert re.search(r"Unpaid obligations: ₱120,000\.50 due and demandable", html)
    assert re.search(r"₱379,999\.50 not yet due and demandable", html)
