"""Appropriation adjustments, realignments and sub-allotments on the
Execution tab (issue 12 item 8; docs/design.md §12 "Adjustments and
transfers", "In the web app"): rows of the Corrections section, each with a
required reason and legal basis, offered only to the roles the service
allows; a success is listed under what it corrected, a refusal is a sentence
next to the field with the values as typed and nothing saved. One chain,
built once for the module: the refusals change nothing, and each success
adds rows of its own."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from services import users
from tests.conftest import _dispose, _make_app
from tests.support import Chain, World
from tests.web.conftest import PAGE_BACKEND, PASSWORD, Browser
from tests.web.test_ppa_tabs import tree_rows

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py

BASIS = {"reason": "Realigned to priority programs", "legal_basis": "BAA No. 35 s. 2025, sec. 62"}


@pytest.fixture(scope="module")
def tab(request, tmp_path_factory, quick_passwords):
    """MSSD's enacted PPA (budget PHP 6,000,000.00, appropriation PHP
    5,000,000.00) with two Q1 allotments, the first of PHP 100,000.00 with
    an ORS of PHP 60,000.00 obligated against it, the second of PHP
    50,000.00; browsers of the budget analyst, the budget officer and the
    MOA focal person."""
    app = _make_app(PAGE_BACKEND, request, tmp_path_factory.mktemp("transfers"))
    world = World(app)
    chain = Chain(world, budget="6000000.00")
    first, second = chain.allot("100000.00")["id"], chain.allot("50000.00")["id"]
    chain.obligate(first, "60000.00")
    world.org("MTIT")

    def browser(person):
        with app.app_context():
            users.set_password(person.username, PASSWORD)
        signed = Browser(app)
        assert signed.sign_in(person.username).status_code == 302
        return signed

    yield SimpleNamespace(app=app, chain=chain, first=first, second=second, page=f"/ppas/{chain.ppa}/execution",
                          analyst=browser(world.budget_analyst), officer=browser(world.budget_officer),
                          focal=browser(world.focal))
    _dispose(app)


def _post(tab, browser, path: str, prefix: str, fields: dict):
    return browser.post_form(f"{tab.page}/{path}", {f"{prefix}-{name}": value for name, value in fields.items()},
                             page=tab.page)


def _field_error(response, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-error" class="field-error">([^<]*)<', response.get_data(as_text=True))
    assert found, f"no message next to {field_id}"
    return found.group(1)


def _listed(html: str, label: str) -> str:
    return re.search(rf'<ul aria-label="{label}">.*?</ul>', html, re.DOTALL).group(0)


def test_a_budget_analyst_augments_the_appropriation_and_it_is_listed_under_the_program_budget(tab):
    response = _post(tab, tab.analyst, "appropriation-adjustments", "appropriation_adjustment", {
        "program_budget": str(tab.chain.program_budget), "kind": "augmentation", "amount": "250,000.00",
        "allotment_class": "mooe", "to_allotment_class": "", "to_program_budget_id": "",
        "adjustment_date": "2025-05-02", **BASIS})

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(tab.app, "SELECT kind, allotment_class, amount FROM appropriation_adjustments") == [
        ("augmentation", "mooe", 25_000_000)]
    html = tab.analyst.client.get(tab.page).get_data(as_text=True)
    listed = _listed(html, f"Adjustments of program budget {tab.chain.program_budget}")
    assert "Augmentation of ₱250,000.00 (MOOE)" in listed and BASIS["legal_basis"] in listed
    assert "₱5,250,000.00" in html  # the adjusted amount


def test_a_transfer_to_the_same_program_budget_is_refused_next_to_the_receiving_budget_and_kept(tab):
    before = tree_rows(tab.app, "SELECT count(*) FROM appropriation_adjustments")

    response = _post(tab, tab.analyst, "appropriation-adjustments", "appropriation_adjustment", {
        "program_budget": str(tab.chain.program_budget), "kind": "transfer", "amount": "10000.00",
        "allotment_class": "mooe", "to_allotment_class": "", "adjustment_date": "2025-05-02",
        "to_program_budget_id": str(tab.chain.program_budget), **BASIS})

    assert response.status_code == 422
    assert "within one program budget use a modification" in _field_error(
        response, "appropriation_adjustment-to_program_budget_id")
    assert 'value="10000.00"' in response.get_data(as_text=True)
    assert tree_rows(tab.app, "SELECT count(*) FROM appropriation_adjustments") == before


def test_an_augmentation_above_the_ppas_budget_is_refused_next_to_the_amount(tab):
    before = tree_rows(tab.app, "SELECT count(*) FROM appropriation_adjustments")

    response = _post(tab, tab.analyst, "appropriation-adjustments", "appropriation_adjustment", {
        "program_budget": str(tab.chain.program_budget), "kind": "augmentation", "amount": "2000000.00",
        "allotment_class": "mooe", "adjustment_date": "2025-05-02", **BASIS})

    assert response.status_code == 409
    assert "never above the PPA's budget" in _field_error(response, "appropriation_adjustment-amount").replace(
        "&#39;", "'")
    assert tree_rows(tab.app, "SELECT count(*) FROM appropriation_adjustments") == before


def test_the_budget_officer_realigns_between_allotments_and_both_list_it(tab):
    response = _post(tab, tab.officer, "realignments", "realignment", {
        "allotment": str(tab.first), "to_allotment_id": str(tab.second), "amount": "20000.00",
        "adjustment_date": "2025-03-15", **BASIS})

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(tab.app, "SELECT allotment_id, amount FROM allotment_adjustments WHERE kind = 'realignment' "
                              "ORDER BY id") == [(tab.first, -2_000_000), (tab.second, 2_000_000)]
    html = tab.officer.client.get(tab.page).get_data(as_text=True)
    assert "Realignment of -₱20,000.00" in _listed(html, "Adjustments of SARO-BARMM-2025-0001")
    assert "Realignment of ₱20,000.00" in _listed(html, "Adjustments of SARO-BARMM-2025-0002")


def test_a_realignment_below_what_is_obligated_is_refused_next_to_the_amount(tab):
    before = tree_rows(tab.app, "SELECT count(*) FROM allotment_adjustments")

    response = _post(tab, tab.officer, "realignments", "realignment", {
        "allotment": str(tab.first), "to_allotment_id": str(tab.second), "amount": "50000.00",
        "adjustment_date": "2025-03-15", **BASIS})

    assert response.status_code == 409
    assert "is available" in _field_error(response, "realignment-amount")
    assert BASIS["reason"] in response.get_data(as_text=True)
    assert tree_rows(tab.app, "SELECT count(*) FROM allotment_adjustments") == before


def test_the_budget_officer_sub_allots_to_another_moa_and_the_allotment_lists_it(tab):
    response = _post(tab, tab.officer, "sub-allotments", "sub_allotment", {
        "allotment": str(tab.second), "recipient": "MTIT", "amount": "10000.00", "sub_allotment_date": "2025-03-20",
        "saro_number": "SUB-ARO-2025-001", **BASIS})

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert tree_rows(tab.app, "SELECT amount, CAST(sub_allotment_date AS TEXT) FROM sub_allotments") == [
        (1_000_000, "2025-03-20")]
    html = tab.officer.client.get(tab.page).get_data(as_text=True)
    assert "Sub allotment of -₱10,000.00" in _listed(html, "Adjustments of SARO-BARMM-2025-0002")


def test_a_sub_allotment_to_the_moa_itself_is_refused_next_to_the_recipient(tab):
    before = tree_rows(tab.app, "SELECT count(*) FROM sub_allotments")

    response = _post(tab, tab.officer, "sub-allotments", "sub_allotment", {
        "allotment": str(tab.second), "recipient": "MSSD", "amount": "1000.00", "sub_allotment_date": "2025-03-20",
        "saro_number": "SUB-ARO-2025-002", **BASIS})

    assert response.status_code == 422
    assert "never to itself" in _field_error(response, "sub_allotment-recipient")
    assert 'value="SUB-ARO-2025-002"' in response.get_data(as_text=True)
    assert tree_rows(tab.app, "SELECT count(*) FROM sub_allotments") == before


def test_a_sub_allotment_without_a_reason_or_legal_basis_is_refused_next_to_each(tab):
    response = _post(tab, tab.officer, "sub-allotments", "sub_allotment", {
        "allotment": str(tab.second), "recipient": "MTIT", "amount": "1000.00", "sub_allotment_date": "2025-03-20",
        "saro_number": "SUB-ARO-2025-003", "reason": " ", "legal_basis": ""})

    assert response.status_code == 422
    assert _field_error(response, "sub_allotment-reason").startswith("Say why")
    assert _field_error(response, "sub_allotment-legal_basis").startswith("Enter the legal basis")


def test_each_form_is_offered_only_to_the_roles_the_service_allows(tab):
    pages = {who: getattr(tab, who).client.get(tab.page).get_data(as_text=True)
             for who in ("analyst", "officer", "focal")}
    forms = ("Adjust an appropriation", "Realign between allotments", "Sub-allot to another MOA")

    assert [[form in pages[who] for form in forms] for who in ("analyst", "officer", "focal")] == [
        [True, True, True], [False, True, True], [False, False, False]]
