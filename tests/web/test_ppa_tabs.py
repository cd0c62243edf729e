"""The Work items, Budget and Execution tabs without a browser (issue 11):
access exactly the API's, refusals that save nothing, the live check of a
distribution, and SQL statements per page constant in the size of the WBS."""

from __future__ import annotations

import re

import pytest

from tests.bench.wbs import insert_tree
from tests.support import Chain
from tests.web.test_my_work import statements

TABS = ("work-items", "budget", "execution")


def tree_rows(app, sql: str, **params):
    from sqlalchemy import text

    from db import db

    with app.app_context(), db.engine.connect() as connection:
        return connection.execute(text(sql), params).all()


def leaf_of(world, ppa_id: int) -> int:
    node = world.tree(ppa_id)["breakdown"][0]
    while node["children"]:
        node = node["children"][0]
    return node["work_item_id"]


@pytest.mark.parametrize("tab", TABS)
def test_another_moas_ppa_is_a_404_on_every_tab(app, world, browser_for, tab):
    ppa, _ = world.tracked_ppa("budget_review")
    browser = browser_for(world.other_focal)

    response = browser.client.get(f"/ppas/{ppa['id']}/{tab}")

    assert response.status_code == 404
    assert "Livelihood" not in response.get_data(as_text=True)


def test_another_moas_work_items_cannot_be_changed_or_opened_through_any_form(app, world, browser_for):
    ppa, leaf = world.tracked_ppa("budget_review")
    browser = browser_for(world.other_focal)
    page = "/alerts"  # any page of theirs gives the CSRF token

    posts = [
        (f"/ppas/{ppa['id']}/work-items/{leaf}/transitions", {"trigger": "start"}),
        (f"/ppas/{ppa['id']}/work-items/{leaf}/expenditures", {f"spend-{leaf}-amount": "10.00"}),
        (f"/ppas/{ppa['id']}/work-items/{leaf}/children",
         {f"child-{leaf}-title": "Mine", f"child-{leaf}-work_type": "subtask"}),
        (f"/ppas/{ppa['id']}/budget/distribution", {"method": "equal", "action": "apply"}),
        (f"/ppas/{ppa['id']}/work-items/tracking", {"template": "minimal"}),
    ]
    for path, data in posts:
        assert browser.post_form(path, data, page=page).status_code == 404, path
    assert browser.client.get(f"/ppas/{ppa['id']}/work-items/{leaf}/children").status_code == 404
    assert tree_rows(app, "SELECT count(*), sum(actual_expenditure) FROM work_items")[0] == (2, 0)
    assert tree_rows(app, "SELECT DISTINCT status FROM work_items") == [("not_started",)]


def test_a_work_item_of_another_ppa_is_not_found_under_this_one(app, world, browser_for):
    first, _ = world.tracked_ppa("budget_review", title="First")
    _, leaf = world.tracked_ppa("budget_review", title="Second")
    browser = browser_for(world.focal)

    response = browser.post_form(f"/ppas/{first['id']}/work-items/{leaf}/transitions", {"trigger": "start"},
                                 page=f"/ppas/{first['id']}/work-items")

    assert response.status_code == 404
    assert tree_rows(app, "SELECT status FROM work_items WHERE id = :id", id=leaf) == [("not_started",)]


def test_a_reviewer_sees_the_tree_without_forms_and_the_server_refuses_their_post(app, world, browser_for):
    ppa, leaf = world.tracked_ppa("budget_review")
    browser = browser_for(world.technical_reviewer)
    path = f"/ppas/{ppa['id']}/work-items"

    page = browser.client.get(path).get_data(as_text=True)
    refused = browser.post_form(f"{path}/{leaf}/transitions", {"trigger": "start"}, page=path)

    assert "Main Deliverable" in page and "Only the MOA's focal persons change work items." in page
    assert "/transitions" not in page and "Record expenditure" not in page
    assert refused.status_code == 403
    assert "focal persons" in refused.get_data(as_text=True)
    assert tree_rows(app, "SELECT status FROM work_items WHERE id = :id", id=leaf) == [("not_started",)]


def test_a_status_trigger_the_status_does_not_allow_is_a_409_page_and_changes_nothing(app, world, browser_for):
    ppa, leaf = world.tracked_ppa("budget_review")
    browser = browser_for(world.focal)
    path = f"/ppas/{ppa['id']}/work-items"

    response = browser.post_form(f"{path}/{leaf}/transitions", {"trigger": "unblock"}, page=path)

    assert response.status_code == 409
    assert "cannot unblock from status &#39;not_started&#39;" in response.get_data(as_text=True)
    assert tree_rows(app, "SELECT status FROM work_items WHERE id = :id", id=leaf) == [("not_started",)]


def test_a_new_work_item_above_what_the_parent_has_left_is_refused_next_to_its_allocation(app, world, browser_for):
    ppa, leaf = world.tracked_ppa("budget_review")  # minimal: the task holds the whole budget
    root = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]
    browser = browser_for(world.focal)
    path = f"/ppas/{ppa['id']}/work-items"

    response = browser.post_form(f"{path}/{leaf}/children", {
        f"child-{leaf}-work_type": "subtask", f"child-{leaf}-title": "Venue", f"child-{leaf}-allocated_budget": "1"},
        page=path)
    added = browser.post_form(f"{path}/{root}/children", {
        f"child-{root}-work_type": "task", f"child-{root}-title": "Venue", f"child-{root}-allocated_budget": "1.00"},
        page=path)

    assert response.status_code == 302  # within the task's own 5,000,000.00
    assert added.status_code == 422
    page = added.get_data(as_text=True)
    field = re.search(rf'<input[^>]*id="child-{root}-allocated_budget"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field and 'value="1.00"' in field
    assert "more than its allocation" in page
    assert tree_rows(app, "SELECT count(*) FROM work_items WHERE title = 'Venue'") == [(1,)]


def test_the_live_check_answers_a_partial_with_each_fields_message_beside_it(app, world, browser_for):
    ppa, _ = world.tracked_ppa("budget_review", template="activity")
    children = [c["work_item_id"] for c in world.tree(ppa["id"])["breakdown"][0]["children"]]
    browser = browser_for(world.focal)
    root = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]
    form = {"method": "manual", "parent": str(root)}
    for index, (item, amount) in enumerate(zip(children, ("abc", "3750000", "500000.00"), strict=True)):
        form |= {f"shares-{index}-work_item_id": str(item), f"shares-{index}-amount": amount}

    response = browser.client.post(f"/ppas/{ppa['id']}/budget/distribution",
                                   data=form | {"csrf_token": _token(browser, ppa["id"])},
                                   headers={"HX-Request": "true"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200  # HTMX swaps only 2xx answers
    assert "<html" not in page and 'id="distribution-check"' in page
    assert re.search(r'<small id="shares-0-amount-error" class="field-error" hx-swap-oob="true">Not an amount in '
                     r'pesos', page)
    assert '<small id="shares-1-amount-error" class="field-error" hx-swap-oob="true"></small>' in page


def test_applying_on_locked_allocations_is_refused_in_words_and_changes_nothing(app, world, browser_for):
    ppa, _ = world.tracked_ppa("stakeholder_consultation", template="activity")
    browser = browser_for(world.focal)
    before = tree_rows(app, "SELECT id, allocated_budget FROM work_items ORDER BY id")

    response = browser.post_form(f"/ppas/{ppa['id']}/budget/distribution",
                                 {"method": "equal", "parent": "", "action": "apply"}, page="/alerts")

    assert response.status_code == 409
    assert "The allocations are locked." in response.get_data(as_text=True)
    assert tree_rows(app, "SELECT id, allocated_budget FROM work_items ORDER BY id") == before


def test_a_saro_number_already_used_is_refused_next_to_it(app, world, browser_for):
    chain = Chain(world)
    chain.allot("100000.00")  # SARO-BARMM-2025-0001
    browser = browser_for(world.budget_analyst)
    page = f"/ppas/{chain.ppa}/execution"

    response = browser.post_form(f"{page}/allotments", {
        "allotment-program_budget": str(chain.program_budget), "allotment-quarter": "2",
        "allotment-release_date": "2025-04-01", "allotment-saro_number": "SARO-BARMM-2025-0001",
        "allotment-amount": "5000.00"}, page=page)

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert re.search(r'id="allotment-saro_number-error" class="field-error">This number is already used', html)
    assert tree_rows(app, "SELECT count(*) FROM allotments") == [(1,)]


def test_only_this_ppas_documents_can_be_chosen(app, world, browser_for):
    chain = Chain(world)
    other = world.create_ppa(title="Another enacted PPA")
    world.advance(other["id"], "enacted")
    theirs = chain.post("/api/program-budgets", world.budget_analyst, proposal_id=chain.proposal, ppa_id=other["id"],
                        approved_amount="100000.00", supplemental=True, enactment_act="BAA No. 41",
                        enactment_date="2025-06-30")["id"]
    browser = browser_for(world.budget_analyst)
    page = f"/ppas/{chain.ppa}/execution"

    response = browser.post_form(f"{page}/allotments", {
        "allotment-program_budget": str(theirs), "allotment-quarter": "1",
        "allotment-release_date": "2025-02-03", "allotment-saro_number": "SARO-X", "allotment-amount": "1.00"},
        page=page)

    assert response.status_code == 422
    assert re.search(r'id="allotment-program_budget-error" class="field-error">Not a valid choice',
                     response.get_data(as_text=True))
    assert tree_rows(app, "SELECT count(*) FROM allotments") == [(0,)]


def _token(browser, ppa_id: int) -> str:
    from tests.web.conftest import csrf_token

    return csrf_token(browser.client, f"/ppas/{ppa_id}/budget")


@pytest.mark.parametrize("tab", ["work-items", "budget"])
def test_statements_per_page_do_not_grow_with_the_wbs(app, world, browser_for, tab):
    small = world.create_ppa(title="Small WBS")
    large = world.create_ppa(title="Large WBS")
    for ppa in (small, large):
        world.advance(ppa["id"], "technical_review")
    with app.app_context():
        insert_tree(small["id"], 21, 20, 500_000_000, 10_000)
        insert_tree(large["id"], 421, 20, 500_000_000, 20_000)
    browser = browser_for(world.focal)
    counted = []
    for ppa in (small, large):
        browser.client.get(f"/ppas/{ppa['id']}/{tab}")  # warm: the session's first write
        with statements(app) as seen:
            assert browser.client.get(f"/ppas/{ppa['id']}/{tab}").status_code == 200
        counted.append(len(seen))
    assert counted[0] == counted[1]


def test_the_execution_tab_shows_an_obligations_amount_after_its_norsa_and_the_amount_as_obligated(world,
                                                                                                  browser_for):
    chain = Chain(world)
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]
    chain.post(f"/api/obligations/{obligation}/adjustments", world.focal, amount="-1500.00",
               adjustment_date="2025-05-02", reason="Fewer participants", legal_basis="NORSA No. 2025-05-0001")

    html = browser_for(world.focal).client.get(f"/ppas/{chain.ppa}/execution").get_data(as_text=True)

    row = re.search(r"<td data-label=\"ORS\">02-01-2025-03-00001</td>.*?</tr>", html, re.S).group(0)
    assert "58,500.00" in row and "as obligated" in row and "60,000.00" in row
