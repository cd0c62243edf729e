"""Corrections on the Execution tab (issue 12 item 8; docs/design.md §12
"In the web app"): an allotment adjustment (budget analysts), a NORSA on an
obligation (the MOA), and the cancel and void forms with their business
date and reason. Each correction is a row of its own, listed under the
document it corrects; every refusal is a sentence next to the field and
saves nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.support import Chain
from tests.web.conftest import emptied_after
from tests.web.test_ppa_tabs import tree_rows

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


@pytest.fixture
def app(request, module_app):
    """The module's one application, on a database emptied after each test."""
    yield from emptied_after(request, module_app)


@dataclass(frozen=True)
class Form:
    """A correction form of the Execution tab: who sends it, where, its
    field prefix, and the document (``allotment``, ``obligation``,
    ``disbursement``) it corrects, chosen in its field of that name."""

    who: str
    path: str
    prefix: str
    document: str


ADJUST_ALLOTMENT = Form("budget_analyst", "allotment-adjustments", "allotment_adjustment", "allotment")
NORSA = Form("focal", "norsas", "norsa", "obligation")
CANCEL_ALLOTMENT = Form("budget_analyst", "allotment-cancellations", "allotment_cancellation", "allotment")
CANCEL_OBLIGATION = Form("focal", "obligation-cancellations", "obligation_cancellation", "obligation")
VOID_DISBURSEMENT = Form("focal", "disbursement-voids", "disbursement_void", "disbursement")


def _page(chain: Chain) -> str:
    return f"/ppas/{chain.ppa}/execution"


def _documents(chain: Chain, down_to: str, quarter: int = 1) -> dict[str, int]:
    """An allotment of PHP 100,000.00 released in ``quarter`` (1: 3
    February, 2: 1 April 2025) and, as far down as ``down_to``, an ORS of PHP
    60,000.00 under it (10 March 2025) and a paid DV of PHP 10,000.00 under
    that (15 April 2025): their ids by document."""
    ids = {"allotment": chain.allot("100000.00", quarter=quarter)["id"]}
    if down_to in ("obligation", "disbursement"):
        ids["obligation"] = chain.obligate(ids["allotment"], "60000.00")["id"]
    if down_to == "disbursement":
        ids["disbursement"] = chain.disburse(ids["obligation"], "10000.00")["id"]
    return ids


def _correct(world, browser_for, chain: Chain, form: Form, fields: dict[str, str], *, down_to: str | None = None,
             quarter: int = 1):
    """The documents down to ``down_to`` (by default the one ``form``
    corrects, ``_documents``), then ``form`` sent by its user for that
    document with ``fields`` (unprefixed): the user's browser and the response."""
    ids = _documents(chain, down_to or form.document, quarter)
    browser = browser_for(getattr(world, form.who))
    data = {f"{form.prefix}-{form.document}": str(ids[form.document])}
    data |= {f"{form.prefix}-{name}": value for name, value in fields.items()}
    return browser, browser.post_form(f"{_page(chain)}/{form.path}", data, page=_page(chain))


@pytest.mark.parametrize("form, fields, saved_sql, saved, listed_under, shown", [
    pytest.param(ADJUST_ALLOTMENT, {"kind": "reduction", "amount": "25,000.00", "adjustment_date": "2025-03-01",
                                    "reason": "Savings from the venue", "legal_basis": "SARO amendment 1"},
                 "SELECT kind, amount FROM allotment_adjustments", [("reduction", -2_500_000)],
                 "Adjustments of SARO-BARMM-2025-0001",
                 ("Reduction of ₱25,000.00", "Savings from the venue", "SARO amendment 1"),
                 id="a reduction of an allotment"),
    pytest.param(NORSA, {"amount": "-1500.00", "adjustment_date": "2025-05-02", "reason": "Fewer participants",
                         "legal_basis": "NORSA No. 2025-05-0001"},
                 "SELECT amount FROM obligation_adjustments", [(-150_000,)],
                 "NORSA of 02-01-2025-03-00001", ("NORSA of -₱1,500.00", "NORSA No. 2025-05-0001"),
                 id="a NORSA on an obligation"),
])
def test_a_correction_is_recorded_through_its_form_and_listed_under_its_document(
        app, world, chain, browser_for, form, fields, saved_sql, saved, listed_under, shown):
    browser, response = _correct(world, browser_for, chain, form, fields)

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(app, saved_sql) == saved
    html = browser.client.get(_page(chain)).get_data(as_text=True)
    listed = re.search(rf'<ul aria-label="{listed_under}">.*?</ul>', html, re.S).group(0)
    assert all(text in listed for text in shown)


@pytest.mark.parametrize("form, fields, table", [
    pytest.param(ADJUST_ALLOTMENT, {"kind": "reduction", "amount": "50000.00", "adjustment_date": "2025-03-20",
                                    "reason": "Savings", "legal_basis": "SARO amendment 1"},
                 "allotment_adjustments", id="a reduction below what is obligated"),
    pytest.param(NORSA, {"amount": "50000.00", "adjustment_date": "2025-05-02", "reason": "More participants",
                         "legal_basis": "NORSA No. 2025-05-0002"},
                 "obligation_adjustments", id="a NORSA above the allotment"),
])
def test_a_correction_beyond_what_is_left_is_refused_next_to_the_amount(
        app, world, chain, browser_for, form, fields, table):
    # PHP 100,000.00 allotted, 60,000.00 obligated: 40,000.00 left either way
    _, response = _correct(world, browser_for, chain, form, fields, down_to="obligation")

    assert response.status_code == 409
    error = re.search(rf'id="{form.prefix}-amount-error" class="field-error">([^<]*)<',
                      response.get_data(as_text=True))
    assert error and "₱40,000.00 is available" in error.group(1)
    assert tree_rows(app, f"SELECT count(*) FROM {table}") == [(0,)]


@pytest.mark.parametrize("form, quarter, fields, field, message, saved_sql", [
    pytest.param(ADJUST_ALLOTMENT, 2, {"kind": "augmentation", "amount": "1000.00", "adjustment_date": "2025-03-01",
                                       "reason": "More participants", "legal_basis": "SARO amendment 2"},
                 "adjustment_date", "is before the allotment&#39;s release of 2025-04-01",
                 "SELECT count(*) FROM allotment_adjustments", id="an adjustment before the release"),
    pytest.param(CANCEL_OBLIGATION, 1, {"cancelled_on": "2025-03-01", "reason": "Supplier withdrew"},
                 "cancelled_on", "is before the obligation of 2025-03-10",
                 "SELECT count(*) FROM obligations WHERE status = 'cancelled'",
                 id="an obligation cancelled before its ORS date"),
    pytest.param(VOID_DISBURSEMENT, 1, {"voided_on": "2025-04-01", "reason": "Check stale"},
                 "voided_on", "is before the disbursement",
                 "SELECT count(*) FROM disbursements WHERE status = 'voided'",
                 id="a disbursement voided before its DV date"),
])
def test_a_correction_dated_before_its_document_is_refused_next_to_the_date(
        app, world, chain, browser_for, form, quarter, fields, field, message, saved_sql):
    _, response = _correct(world, browser_for, chain, form, fields, quarter=quarter)

    assert response.status_code == 422
    assert re.search(rf'id="{form.prefix}-{field}-error" class="field-error">{message}',
                     response.get_data(as_text=True))
    assert tree_rows(app, saved_sql) == [(0,)]


@pytest.mark.parametrize("form, fields, saved_sql, saved", [
    pytest.param(CANCEL_ALLOTMENT, {"cancelled_on": "2025-03-05", "reason": "Released twice"},
                 "SELECT status, cancel_reason, CAST(cancelled_on AS TEXT) FROM allotments",
                 [("cancelled", "Released twice", "2025-03-05")], id="an allotment cancelled"),
    pytest.param(CANCEL_OBLIGATION, {"cancelled_on": "2025-03-12", "reason": "Supplier withdrew"},
                 "SELECT status, cancel_reason, CAST(cancelled_on AS TEXT) FROM obligations",
                 [("cancelled", "Supplier withdrew", "2025-03-12")], id="an obligation cancelled"),
    pytest.param(VOID_DISBURSEMENT, {"voided_on": "2025-07-02", "reason": "Check stale"},
                 "SELECT status, void_reason, CAST(voided_on AS TEXT) FROM disbursements",
                 [("voided", "Check stale", "2025-07-02")], id="a disbursement voided"),
])
def test_a_document_is_cancelled_through_its_form_on_the_date_given_with_its_reason(
        app, world, chain, browser_for, form, fields, saved_sql, saved):
    browser, response = _correct(world, browser_for, chain, form, fields)

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(app, saved_sql) == saved
    assert fields["reason"] in browser.client.get(_page(chain)).get_data(as_text=True)


def test_a_cancellation_without_a_reason_is_refused_next_to_the_reason(app, world, chain, browser_for):
    _, response = _correct(world, browser_for, chain, CANCEL_ALLOTMENT, {"cancelled_on": "2025-03-05", "reason": ""})

    assert response.status_code == 422
    assert re.search(r'id="allotment_cancellation-reason-error" class="field-error">Say why',
                     response.get_data(as_text=True))
    assert tree_rows(app, "SELECT status FROM allotments") == [("released",)]


def test_the_cancel_form_offers_today_as_the_business_date(app, world, chain, browser_for):
    from services.calendar import today
    chain.allot("100000.00")
    with app.app_context():
        day = today().isoformat()

    html = browser_for(world.budget_analyst).client.get(_page(chain)).get_data(as_text=True)

    assert re.search(rf'id="allotment_cancellation-cancelled_on"[^>]*value="{day}"', html)


def test_the_moa_is_not_offered_the_allotment_corrections(world, chain, browser_for):
    chain.allot("100000.00")

    html = browser_for(world.focal).client.get(_page(chain)).get_data(as_text=True)

    assert "Adjust an allotment" not in html and "Cancel an allotment" not in html
