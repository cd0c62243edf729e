"""Signing the boxes of ORS and DV on the Execution tab (issue 12 item 8;
docs/design.md §12 "In the web app"): each document's stage and its next
steps for the signed-in user as buttons, closed ones with the engine's
reason in words; Box E asks for the check/ADA number, its date and the JEV
number, each refusal next to its field; a refusal changes nothing; a posted
document says who signed each box, and for whom when an OIC signed."""

from __future__ import annotations

import re

import pytest

from tests.api.test_delegations_api import delegate
from tests.support import Chain
from tests.web.conftest import emptied_after
from tests.web.test_ppa_tabs import tree_rows

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


@pytest.fixture
def app(request, module_app):
    """The module's one application, on a database emptied after each test."""
    yield from emptied_after(request, module_app)


def _page(chain: Chain) -> str:
    return f"/ppas/{chain.ppa}/execution"


def _entry(html: str, record_type: str, record_id: int) -> str:
    """The entry of one document on the tab (``_document_step.html``)."""
    return re.search(rf'<article id="steps-{record_type}-{record_id}".*?</article>', html, re.DOTALL).group(0)


def _prepare_ors(chain: Chain, allotment: int, who=None) -> dict:
    return chain.post("/api/obligations", who or chain.world.focal, 201, allotment_id=allotment,
                      payee="Cotabato Training Services Cooperative", obligation_date="2025-03-10",
                      amount="60000.00")


def test_the_head_of_office_signs_box_a_and_the_budget_officer_box_b_on_the_tab_and_the_ors_is_obligated(
        app, world, chain, browser_for):
    ors = _prepare_ors(chain, chain.allot("100000.00")["id"])
    obligation, page = ors["id"], _page(chain)
    head, officer = browser_for(world.office_head), browser_for(world.budget_officer)

    draft = _entry(head.client.get(page).get_data(as_text=True), "obligation", obligation)
    box_a = head.post_form(f"{page}/obligations/{obligation}/transitions", {"trigger": "certify_charges"}, page=page)
    waiting = _entry(officer.client.get(page).get_data(as_text=True), "obligation", obligation)
    box_b = officer.post_form(f"{page}/obligations/{obligation}/transitions", {"trigger": "certify_obligation"},
                              page=page, headers={"HX-Request": "true"})
    posted = box_b.get_data(as_text=True)

    assert "Draft (prepared by the MOA)" in draft and '<button type="submit">Certify charges</button>' in draft
    assert box_a.status_code == 302 and box_a.headers["Location"].endswith(f"#steps-obligation-{obligation}")
    assert "Box A signed: charges necessary and lawful — waiting for Box B (MOA budget officer)" in waiting
    assert '<button type="submit">Certify obligation</button>' in waiting
    assert box_b.status_code == 200 and posted.startswith(f'<article id="steps-obligation-{obligation}"')
    assert f"ORS {ors['ors_number']}: Box B signed: it is obligated." in posted
    assert "Box B signed: obligated — by <strong>mssd.budget_officer</strong>" in re.sub(r"\s+", " ", posted)
    assert "Box A signed: charges necessary and lawful — by <strong>mssd.office_head</strong>" in re.sub(
        r"\s+", " ", posted)
    assert "<button" not in posted  # a posted ORS has no next step here
    assert tree_rows(app, "SELECT status FROM obligations") == [("obligated",)]


def test_the_preparer_sees_box_a_closed_with_the_reason_and_a_forced_post_is_refused_and_changes_nothing(
        app, world, chain, browser_for):
    preparer = world.person("mssd.focal_head", "moa_focal", "head_of_office", org="MSSD")
    obligation = _prepare_ors(chain, chain.allot("100000.00")["id"], preparer)["id"]
    page = _page(chain)
    browser = browser_for(preparer)

    entry = _entry(browser.client.get(page).get_data(as_text=True), "obligation", obligation)
    forced = browser.post_form(f"{page}/obligations/{obligation}/transitions", {"trigger": "certify_charges"},
                               page=page)
    refused = _entry(forced.get_data(as_text=True), "obligation", obligation)

    closed = re.search(r'<button type="button" class="secondary" disabled aria-describedby="([^"]+)">Certify '
                       r'charges</button>\s*<small id="\1" class="reason">([^<]*)</small>', entry)
    assert closed and "You prepared this ORS; another person must certify it" in closed.group(2)
    assert forced.status_code == 403
    assert re.search(r'class="field-error refusal" role="alert">You prepared this ORS; another person must certify '
                     r"it", refused)
    assert tree_rows(app, "SELECT status FROM obligations") == [("draft",)]
    assert tree_rows(app, "SELECT count(*) FROM workflow_transitions WHERE record_type = 'ors'") == [(0,)]


def test_box_e_without_its_check_and_jev_numbers_is_refused_next_to_each_field_then_paid(
        app, world, chain, browser_for):
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]
    disbursement = chain.dv_ready_to_pay(obligation, "10000.00")
    page, cashier = _page(chain), browser_for(world.cashier)
    path = f"{page}/disbursements/{disbursement}/transitions"
    anchor = f"steps-disbursement-{disbursement}"

    form = _entry(cashier.client.get(page).get_data(as_text=True), "disbursement", disbursement)
    refused = cashier.post_form(path, {"trigger": "pay", "check_ada_date": "2025-04-20"}, page=page)
    html = refused.get_data(as_text=True)
    paid = cashier.post_form(path, {"trigger": "pay", "check_ada_number": "CHK-0042", "check_ada_date": "2025-04-20",
                                    "jev_number": "JEV-2025-04-0042"}, page=page)

    assert f'<label for="{anchor}-check_ada_number">Check or ADA number' in form
    assert refused.status_code == 422
    for name in ("check_ada_number", "jev_number"):
        assert re.search(rf'id="{anchor}-{name}-error" class="field-error">is required to pay a DV \(Box E\)', html)
    assert f'id="{anchor}-check_ada_date-error"' not in html
    assert paid.status_code == 302
    assert tree_rows(app, "SELECT status, check_ada_number, jev_number, disbursement_date FROM disbursements "
                          "WHERE id = :id", id=disbursement)[0][:3] == ("disbursed", "CHK-0042", "JEV-2025-04-0042")


def test_a_box_signed_by_an_oic_says_under_whose_delegation(app, world, chain, browser_for):
    world.person("mssd.oic", "moa_focal", org="MSSD")
    delegate(world, world.budget_officer, "mssd.oic", "budget_officer")
    obligation = chain.ors_ready_for_box_b(chain.allot("100000.00")["id"], "1000.00")
    page, oic = _page(chain), browser_for(world.person("mssd.oic", "moa_focal", org="MSSD"))

    signed = oic.post_form(f"{page}/obligations/{obligation}/transitions", {"trigger": "certify_obligation"},
                           page=page)
    entry = re.sub(r"\s+", " ", _entry(oic.client.get(page).get_data(as_text=True), "obligation", obligation))

    assert signed.status_code == 302
    assert "by <strong>mssd.oic</strong>" in entry and "signed under delegation of mssd.budget_officer" in entry


def test_a_draft_ors_cancelled_without_a_comment_is_refused_in_its_entry_and_with_one_it_is_cancelled(
        app, world, chain, browser_for):
    obligation = _prepare_ors(chain, chain.allot("100000.00")["id"])["id"]
    page, focal = _page(chain), browser_for(world.focal)
    path = f"{page}/obligations/{obligation}/transitions"

    bare = focal.post_form(path, {"trigger": "cancel"}, page=page, headers={"HX-Request": "true"})
    still = tree_rows(app, "SELECT status FROM obligations")
    cancelled = focal.post_form(path, {"trigger": "cancel", "comment": "Wrong payee"}, page=page)

    assert bare.status_code == 200 and 'class="field-error refusal" role="alert">' in bare.get_data(as_text=True)
    assert still == [("draft",)]
    assert cancelled.status_code == 302
    assert tree_rows(app, "SELECT status, cancel_reason FROM obligations") == [("withdrawn", "Wrong payee")]
