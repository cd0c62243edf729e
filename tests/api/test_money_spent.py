"""One source of truth for money spent (issue 12 item 7; docs/design.md §12,
"Money spent and payables"): for a PPA in the money chain a work item's
actual expenditure is the disbursements charged to it, rolled up; outside
the chain the figure stays reported and is labelled so."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.support import Chain

#: What these tests check is the services' (the database's own refusals: tests marked ``both_backends``,
#: tests/integration/test_budget_limits.py): one backend (tests/conftest.py, ``pytest_generate_tests``).
pytestmark = pytest.mark.one_backend


def leaves(world, ppa_id: int) -> list[dict]:
    """The leaves of the PPA's budget tree, in order."""
    out, stack = [], [world.tree(ppa_id)["breakdown"][0]]
    while stack:
        node = stack.pop()
        if node["children"]:
            stack.extend(reversed(node["children"]))
        else:
            out.append(node)
    return out


def node_of(world, ppa_id: int, item_id: int) -> dict:
    stack = [world.tree(ppa_id)["breakdown"][0]]
    while stack:
        node = stack.pop()
        if node["work_item_id"] == item_id:
            return node
        stack.extend(node["children"])
    raise AssertionError(f"work item {item_id} is not in the tree")


def item(world, item_id: int) -> dict:
    response = world.client.get(f"/api/work-items/{item_id}", headers=world.focal.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def charge(chain: Chain, allotment: int, amount: str, work_item_id: int | None, expect=201) -> dict:
    """An ORS charged to ``work_item_id``, prepared and signed (Boxes A and B): obligated."""
    body = chain.post("/api/obligations", chain.world.focal, expect, allotment_id=allotment,
                      payee="Cotabato Training Services Cooperative",
                      particulars="Training venue and meals", obligation_date="2025-03-10", amount=amount,
                      work_item_id=work_item_id)
    return chain.certify(body["id"]) if expect == 201 else body


def mfbm_disbursed(world, ppa_id: int) -> str:
    """The MFBM workbook's disbursements for the PPA (issue 13: from the money chain)."""
    response = world.client.get("/api/reports/mfbm-budget-execution.xlsx?fiscal_year=2025", headers=world.admin.headers)
    assert response.status_code == 200, response.get_json()
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = next(row for row in sheet.iter_rows(values_only=True) if row and "Disbursements" in row)
    disbursed = header.index("Disbursements")
    code = f"PPA-{ppa_id}"
    row = next(row for row in sheet.iter_rows(values_only=True) if row and row[0] == code)
    return f"{row[disbursed]:.2f}"


def test_disbursements_charged_to_two_leaves_are_their_expenditure_rolled_up_to_the_centavo(chain, world):
    first, second = (node["work_item_id"] for node in leaves(world, chain.ppa)[:2])
    allotment = chain.allot("3000000.00")["id"]
    one = charge(chain, allotment, "400000.00", first)["id"]
    two = charge(chain, allotment, "300000.00", second)["id"]
    chain.disburse(one, "123456.78")
    chain.disburse(one, "0.01")
    chain.disburse(two, "250000.50")

    tree = world.tree(chain.ppa)

    assert node_of(world, chain.ppa, first)["actual_expenditure"] == "123456.79"
    assert node_of(world, chain.ppa, second)["actual_expenditure"] == "250000.50"
    assert (tree["total_expended"], tree["expenditure_source"], tree["opening_balance"]) == (
        "373457.29", "disbursements", "0.00")
    assert tree["breakdown"][0]["actual_expenditure"] == "373457.29"
    assert (item(world, first)["expenditure_source"], item(world, first)["opening_balance"]) == (
        "disbursements", "0.00")


def test_the_mfbm_workbook_shows_the_disbursed_figure_and_voiding_a_dv_lowers_it(chain, world):
    leaf = leaves(world, chain.ppa)[0]["work_item_id"]
    allotment = chain.allot("1000000.00")["id"]
    obligation = charge(chain, allotment, "500000.00", leaf)["id"]
    chain.disburse(obligation, "200000.00")
    voided = chain.disburse(obligation, "50000.25")

    assert mfbm_disbursed(world, chain.ppa) == "250000.25"

    response = world.client.post(f"/api/disbursements/{voided['id']}/void", json={"reason": "Issued twice"},
                                 headers=world.focal.headers)
    assert response.status_code == 200, response.get_json()

    assert node_of(world, chain.ppa, leaf)["actual_expenditure"] == "200000.00"
    assert world.tree(chain.ppa)["total_expended"] == "200000.00"
    assert mfbm_disbursed(world, chain.ppa) == "200000.00"


def test_a_disbursement_on_an_obligation_charged_to_no_work_item_counts_on_the_project(chain, world):
    allotment = chain.allot("1000000.00")["id"]
    obligation = chain.obligate(allotment, "100000.00")["id"]
    chain.disburse(obligation, "75000.00")

    tree = world.tree(chain.ppa)

    assert (tree["total_expended"], tree["breakdown"][0]["actual_expenditure"]) == ("75000.00", "75000.00")


def test_direct_expenditure_on_a_ppa_in_the_chain_is_refused_with_a_sentence(chain, world):
    leaf = leaves(world, chain.ppa)[0]["work_item_id"]
    chain.allot("1000000.00")
    before = item(world, leaf)

    patched = world.patch(f"/api/work-items/{leaf}", world.focal, {"actual_expenditure": "5000.00"})
    added = world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "5000.00"},
                              headers=world.focal.headers)

    for response in (patched, added):
        problem = response.get_json()
        assert (response.status_code, problem["code"]) == (409, "expenditure_from_disbursements")
        assert "disbursements" in problem["detail"] and "cannot be entered directly" in problem["detail"]
    after = item(world, leaf)
    assert (after["actual_expenditure"], after["version"]) == (before["actual_expenditure"], before["version"])


def test_direct_expenditure_on_a_ppa_outside_the_chain_is_accepted_and_labelled_reported(world):
    ppa, leaf = world.tracked_ppa("approved")

    response = world.patch(f"/api/work-items/{leaf}", world.focal, {"actual_expenditure": "5000.00"})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["actual_expenditure"], body["expenditure_source"], body["opening_balance"]) == (
        "5000.00", "reported", None)
    tree = world.tree(ppa["id"])
    assert (tree["total_expended"], tree["expenditure_source"], tree["opening_balance"]) == (
        "5000.00", "reported", None)


def test_a_ppa_entering_the_chain_mid_year_keeps_its_reported_figure_as_an_opening_balance(chain, world):
    leaf = leaves(world, chain.ppa)[0]["work_item_id"]
    response = world.patch(f"/api/work-items/{leaf}", world.focal, {"actual_expenditure": "1000.50"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["expenditure_source"] == "reported"

    allotment = chain.allot("1000000.00")["id"]
    obligation = charge(chain, allotment, "10000.00", leaf)["id"]
    chain.disburse(obligation, "2000.25")

    body = item(world, leaf)
    assert (body["expenditure_source"], body["opening_balance"], body["actual_expenditure"]) == (
        "disbursements", "1000.50", "3000.75")
    tree = world.tree(chain.ppa)
    assert (tree["opening_balance"], tree["total_expended"]) == ("1000.50", "3000.75")


def test_an_obligation_charged_to_another_ppas_work_item_is_refused(chain, world):
    _, stranger = world.tracked_ppa("approved")
    allotment = chain.allot("1000000.00")["id"]

    problem = charge(chain, allotment, "10000.00", stranger, expect=422)

    assert problem["code"] == "validation_failed"
    assert "is not in the work-breakdown structure of PPA" in problem["errors"]["work_item_id"][0]
    assert chain.get(f"/api/allotments/{allotment}")["obligated"] == "0.00"


def test_an_obligation_shows_the_work_item_it_is_charged_to(chain, world):
    leaf = leaves(world, chain.ppa)[0]["work_item_id"]
    allotment = chain.allot("1000000.00")["id"]

    created = charge(chain, allotment, "10000.00", leaf)

    assert created["work_item_id"] == leaf
    assert chain.get(f"/api/obligations/{created['id']}")["work_item_id"] == leaf


def test_a_disbursement_above_a_leafs_allocation_opens_the_variance_alert_and_its_void_resolves_it(chain, world):
    leaf = leaves(world, chain.ppa)[0]
    allocated = leaf["allocated_budget"]
    allotment = chain.allot("5000000.00")["id"]
    obligation = charge(chain, allotment, "5000000.00", leaf["work_item_id"])["id"]
    paid = chain.disburse(obligation, allocated)
    over = chain.disburse(obligation, "0.01")

    def variance_alerts():
        response = world.client.get(f"/api/alerts?ppa={chain.ppa}&type=workitem_budget_variance",
                                    headers=world.focal.headers)
        assert response.status_code == 200, response.get_json()
        return [(a["work_item_id"], a["status"], a["details"]["expended"]) for a in response.get_json()]

    assert (leaf["work_item_id"], "open", str(Decimal(allocated) + Decimal("0.01"))) in variance_alerts()
    chain.post(f"/api/disbursements/{over['id']}/void", world.focal, reason="Paid above the contract")
    assert paid["amount"] == allocated
    assert all(status == "resolved" for item, status, _ in variance_alerts() if item == leaf["work_item_id"])
