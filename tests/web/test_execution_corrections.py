"""Corrections on the Execution tab (issue 12 item 8; docs/design.md §12
"In the web app"): an allotment adjustment (budget analysts), a NORSA on an
obligation (the MOA), and the cancel and void forms with their business
date and reason. Each correction is a row of its own, listed under the
document it corrects; every refusal is a sentence next to the field and
saves nothing."""

from __future__ import annotations

import re

from tests.support import Chain
from tests.web.test_ppa_tabs import tree_rows


def _page(chain: Chain) -> str:
    return f"/ppas/{chain.ppa}/execution"


def test_a_reduction_of_an_allotment_is_recorded_through_the_form_and_listed_under_it(app, world, browser_for):
    chain = Chain(world)
    allotment = chain.allot("100000.00")["id"]
    browser = browser_for(world.budget_analyst)

    response = browser.post_form(f"{_page(chain)}/allotment-adjustments", {
        "allotment_adjustment-allotment": str(allotment), "allotment_adjustment-kind": "reduction",
        "allotment_adjustment-amount": "25,000.00", "allotment_adjustment-adjustment_date": "2025-03-01",
        "allotment_adjustment-reason": "Savings from the venue", "allotment_adjustment-legal_basis": "SARO amendment 1"},
        page=_page(chain))

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(app, "SELECT kind, amount FROM allotment_adjustments") == [("reduction", -2_500_000)]
    html = browser.client.get(_page(chain)).get_data(as_text=True)
    listed = re.search(r'<ul aria-label="Adjustments of SARO-BARMM-2025-0001">.*?</ul>', html, re.S).group(0)
    assert "Reduction of ₱25,000.00" in listed and "Savings from the venue" in listed and "SARO amendment 1" in listed


def test_a_reduction_below_what_is_obligated_is_refused_next_to_the_amount(app, world, browser_for):
    chain = Chain(world)
    allotment = chain.allot("100000.00")["id"]
    chain.obligate(allotment, "60000.00")
    browser = browser_for(world.budget_analyst)

    response = browser.post_form(f"{_page(chain)}/allotment-adjustments", {
        "allotment_adjustment-allotment": str(allotment), "allotment_adjustment-kind": "reduction",
        "allotment_adjustment-amount": "50000.00", "allotment_adjustment-adjustment_date": "2025-03-20",
        "allotment_adjustment-reason": "Savings", "allotment_adjustment-legal_basis": "SARO amendment 1"},
        page=_page(chain))

    assert response.status_code == 409
    error = re.search(r'id="allotment_adjustment-amount-error" class="field-error">([^<]*)<',
                      response.get_data(as_text=True))
    assert error and "₱40,000.00 is available" in error.group(1)
    assert tree_rows(app, "SELECT count(*) FROM allotment_adjustments") == [(0,)]


def test_an_adjustment_dated_before_the_release_is_refused_next_to_the_date(app, world, browser_for):
    chain = Chain(world)
    allotment = chain.allot("100000.00", quarter=2)["id"]  # released 1 April 2025
    browser = browser_for(world.budget_analyst)

    response = browser.post_form(f"{_page(chain)}/allotment-adjustments", {
        "allotment_adjustment-allotment": str(allotment), "allotment_adjustment-kind": "augmentation",
        "allotment_adjustment-amount": "1000.00", "allotment_adjustment-adjustment_date": "2025-03-01",
        "allotment_adjustment-reason": "More participants", "allotment_adjustment-legal_basis": "SARO amendment 2"},
        page=_page(chain))

    assert response.status_code == 422
    assert re.search(r'id="allotment_adjustment-adjustment_date-error" class="field-error">is before the '
                     r"allotment&#39;s release of 2025-04-01", response.get_data(as_text=True))
    assert tree_rows(app, "SELECT count(*) FROM allotment_adjustments") == [(0,)]


def test_a_norsa_is_recorded_through_the_form_and_listed_under_its_obligation(app, world, browser_for):
    chain = Chain(world)
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]
    browser = browser_for(world.focal)

    response = browser.post_form(f"{_page(chain)}/norsas", {
        "norsa-obligation": str(obligation), "norsa-amount": "-1500.00", "norsa-adjustment_date": "2025-05-02",
        "norsa-reason": "Fewer participants", "norsa-legal_basis": "NORSA No. 2025-05-0001"}, page=_page(chain))

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(app, "SELECT amount FROM obligation_adjustments") == [(-150_000,)]
    html = browser.client.get(_page(chain)).get_data(as_text=True)
    listed = re.search(r'<ul aria-label="NORSA of 02-01-2025-03-00001">.*?</ul>', html, re.S).group(0)
    assert "NORSA of -₱1,500.00" in listed and "NORSA No. 2025-05-0001" in listed


def test_a_norsa_above_the_allotment_is_refused_next_to_the_amount(app, world, browser_for):
    chain = Chain(world)
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]
    browser = browser_for(world.focal)

    response = browser.post_form(f"{_page(chain)}/norsas", {
        "norsa-obligation": str(obligation), "norsa-amount": "50000.00", "norsa-adjustment_date": "2025-05-02",
        "norsa-reason": "More participants", "norsa-legal_basis": "NORSA No. 2025-05-0002"}, page=_page(chain))

    assert response.status_code == 409
    error = re.search(r'id="norsa-amount-error" class="field-error">([^<]*)<', response.get_data(as_text=True))
    assert error and "₱40,000.00 is available" in error.group(1)
    assert tree_rows(app, "SELECT count(*) FROM obligation_adjustments") == [(0,)]


def test_an_allotment_is_cancelled_on_the_date_given_with_its_reason(app, world, browser_for):
    chain = Chain(world)
    allotment = chain.allot("100000.00")["id"]
    browser = browser_for(world.budget_analyst)

    response = browser.post_form(f"{_page(chain)}/allotment-cancellations", {
        "allotment_cancellation-allotment": str(allotment), "allotment_cancellation-cancelled_on": "2025-03-05",
        "allotment_cancellation-reason": "Released twice"}, page=_page(chain))

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(app, "SELECT status, cancel_reason, CAST(cancelled_on AS TEXT) FROM allotments") == [
        ("cancelled", "Released twice", "2025-03-05")]
    assert "Released twice" in browser.client.get(_page(chain)).get_data(as_text=True)


def test_a_cancellation_without_a_reason_is_refused_next_to_the_reason(app, world, browser_for):
    chain = Chain(world)
    allotment = chain.allot("100000.00")["id"]
    browser = browser_for(world.budget_analyst)

    response = browser.post_form(f"{_page(chain)}/allotment-cancellations", {
        "allotment_cancellation-allotment": str(allotment), "allotment_cancellation-cancelled_on": "2025-03-05",
        "allotment_cancellation-reason": ""}, page=_page(chain))

    assert response.status_code == 422
    assert re.search(r'id="allotment_cancellation-reason-error" class="field-error">Say why',
                     response.get_data(as_text=True))
    assert tree_rows(app, "SELECT status FROM allotments") == [("released",)]


def test_the_cancel_form_offers_today_as_the_business_date(app, world, browser_for):
    from services.calendar import today

    chain = Chain(world)
    chain.allot("100000.00")
    with app.app_context():
        day = today().isoformat()

    html = browser_for(world.budget_analyst).client.get(_page(chain)).get_data(as_text=True)

    assert re.search(rf'id="allotment_cancellation-cancelled_on"[^>]*value="{day}"', html)


def test_an_obligation_cancelled_before_its_ors_date_is_refused_next_to_the_date(app, world, browser_for):
    chain = Chain(world)
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]  # ORS of 10 March 2025
    browser = browser_for(world.focal)

    response = browser.post_form(f"{_page(chain)}/obligation-cancellations", {
        "obligation_cancellation-obligation": str(obligation), "obligation_cancellation-cancelled_on": "2025-03-01",
        "obligation_cancellation-reason": "Supplier withdrew"}, page=_page(chain))

    assert response.status_code == 422
    assert re.search(r'id="obligation_cancellation-cancelled_on-error" class="field-error">is before the '
                     r"obligation of 2025-03-10", response.get_data(as_text=True))
    assert tree_rows(app, "SELECT status FROM obligations") != [("cancelled",)]


def test_an_obligation_is_cancelled_through_the_form(app, world, browser_for):
    chain = Chain(world)
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]
    browser = browser_for(world.focal)

    response = browser.post_form(f"{_page(chain)}/obligation-cancellations", {
        "obligation_cancellation-obligation": str(obligation), "obligation_cancellation-cancelled_on": "2025-03-12",
        "obligation_cancellation-reason": "Supplier withdrew"}, page=_page(chain))

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(app, "SELECT status, cancel_reason FROM obligations") == [("cancelled", "Supplier withdrew")]


def test_a_disbursement_is_voided_through_the_form_and_its_date_checked(app, world, browser_for):
    chain = Chain(world)
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]
    disbursement = chain.disburse(obligation, "10000.00")["id"]  # DV of 15 April 2025
    browser = browser_for(world.focal)
    form = {"disbursement_void-disbursement": str(disbursement), "disbursement_void-reason": "Check stale"}

    early = browser.post_form(f"{_page(chain)}/disbursement-voids", form | {"disbursement_void-voided_on": "2025-04-01"},
                              page=_page(chain))
    assert early.status_code == 422
    assert re.search(r'id="disbursement_void-voided_on-error" class="field-error">is before the disbursement',
                     early.get_data(as_text=True))

    response = browser.post_form(f"{_page(chain)}/disbursement-voids",
                                 form | {"disbursement_void-voided_on": "2025-07-02"}, page=_page(chain))

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(app, "SELECT status, void_reason, CAST(voided_on AS TEXT) FROM disbursements") == [
        ("voided", "Check stale", "2025-07-02")]


def test_the_moa_is_not_offered_the_allotment_corrections(world, browser_for):
    chain = Chain(world)
    chain.allot("100000.00")

    html = browser_for(world.focal).client.get(_page(chain)).get_data(as_text=True)

    assert "Adjust an allotment" not in html and "Cancel an allotment" not in html
