"""The budget tree carries each node's SPI and CPI as of today and its place
on the critical path when asked (issue 16 items 3-4; docs/design.md §5 and
§15): ``?include=earned_value`` gives every node the figures of the earned
value endpoint, ``?include=critical_path`` the flags of the critical path
endpoint; the plain tree is unchanged; a dependency, a baseline capture and
a disbursement each change the answer; an unknown name is refused; and the
read sends as many statements for a large tree as for a small one."""

from __future__ import annotations

import pytest

from db import db
from services import tracking, tree_cache, users
from tests.api.test_earned_value_api import _two_task_ppa
from tests.bench.wbs import count_statements
from tests.conftest import ONE_BACKEND, one_backend_app
from tests.support import Chain
from web import jsonio

TREE = "/api/monitoring-entries/{}/budget_allocation_tree/"
EV_FIELDS = ("pv", "ev", "ac", "spi", "cpi")


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    """The application on ``ONE_BACKEND`` only (nothing here depends on the database)."""
    yield from one_backend_app(request, tmp_path)


def read(world, ppa_id, query="", **headers):
    return world.client.get(TREE.format(ppa_id) + query, headers=world.focal.headers | headers)


def nodes(tree) -> dict[int, dict]:
    """Every node of a tree answer by work item id."""
    out, stack = {}, list(tree["breakdown"])
    while stack:
        node = stack.pop()
        out[node["work_item_id"]] = node
        stack.extend(node["children"])
    return out


def endpoint_figures(world, ppa_id) -> dict[int, dict]:
    body = world.client.get(f"/api/monitoring-entries/{ppa_id}/earned_value", headers=world.focal.headers)
    assert body.status_code == 200, body.get_json()
    return {n["work_item_id"]: {k: n[k] for k in EV_FIELDS} for n in body.get_json()["nodes"]}


class TwoTaskChain(Chain):
    """``_two_task_ppa`` (A and B, baselined at enactment) in the money
    chain: a PHP 1,000,000 program budget enacted for it."""

    def __init__(self, world):
        self.world, self.counter, self.dates = world, 0, {}
        self.ppa, self.a, self.b = _two_task_ppa(world)
        self.proposal = self.post("/api/budget-proposals", world.focal, organization="MSSD", fiscal_year=2025,
                                  title="MSSD FY2025 budget proposal")["id"]
        self.program_budget = self.post("/api/program-budgets", world.budget_analyst, proposal_id=self.proposal,
                                        ppa_id=self.ppa, approved_amount="1000000.00")["id"]
        self.enact_proposal(self.proposal)


def test_each_nodes_spi_and_cpi_in_the_tree_equal_the_earned_value_endpoints_figures(world):
    chain = TwoTaskChain(world)
    allotment = chain.allot("1000000.00", quarter=1)
    ors = chain.obligate(allotment["id"], "500000.00", day="2025-03-10")
    chain.disburse(ors["id"], "100000.00", day="2025-03-20")
    for item, progress in ((chain.a, 60), (chain.b, 10)):
        assert world.patch(f"/api/work-items/{item}", world.focal, {"progress": progress}).status_code == 200
    root_id = world.tree(chain.ppa)["breakdown"][0]["work_item_id"]
    added = world.client.post("/api/work-items", json={"parent_id": root_id, "work_type": "task",
                                                       "title": "Closing report"}, headers=world.focal.headers)
    assert added.status_code == 201, added.get_json()
    later = added.get_json()["id"]

    tree = read(world, chain.ppa, "?include=earned_value")
    assert tree.status_code == 200, tree.get_json()
    expected = endpoint_figures(world, chain.ppa)

    carried = {item: node["earned_value"] for item, node in nodes(tree.get_json()).items()}
    assert later not in expected and carried[later] is None  # added after the baseline
    assert {item: figures for item, figures in carried.items() if figures is not None} == expected
    assert carried[chain.a]["spi"] == "0.6000" and carried[chain.a]["cpi"] is None  # paid to the project: AC 0
    root = tree.get_json()["breakdown"][0]
    assert root["earned_value"]["ac"] == "100000.00" and root["earned_value"]["cpi"] is not None

    chain.disburse(ors["id"], "50000.00", day="2025-04-20")  # a disbursement posting bumps the tree

    after = read(world, chain.ppa, "?include=earned_value")
    assert after.headers["ETag"] != tree.headers["ETag"]
    assert after.get_json()["breakdown"][0]["earned_value"]["ac"] == "150000.00"
    assert {i: n["earned_value"] for i, n in nodes(after.get_json()).items() if n["earned_value"]} \
        == endpoint_figures(world, chain.ppa)


def test_critical_flags_equal_the_critical_path_endpoint_and_a_dependency_change_is_a_new_answer(world):
    ppa, a, b = _two_task_ppa(world)  # A 1-10 Jan (600,000), B 6-15 Jan (400,000): B alone is critical
    before = read(world, ppa, "?include=critical_path")

    def expected():
        body = world.client.get(f"/api/monitoring-entries/{ppa}/critical_path", headers=world.focal.headers)
        return {i["work_item_id"]: (i["critical"], i["total_float"]) for i in body.get_json()["items"]}

    def carried(answer):
        return {i: (n["critical"], n["total_float_days"]) for i, n in nodes(answer.get_json()).items()}

    assert {i: v for i, v in carried(before).items() if v[1] is not None} == expected() == {
        a: (False, 5), b: (True, 0)}
    assert all(v == (False, None) for i, v in carried(before).items() if i not in (a, b))  # not scheduled

    assert world.client.post(f"/api/work-items/{b}/dependencies", json={"predecessor_id": a},
                             headers=world.focal.headers).status_code == 200
    linked = read(world, ppa, "?include=critical_path")
    assert linked.headers["ETag"] != before.headers["ETag"]
    assert read(world, ppa, "?include=critical_path", **{"If-None-Match": before.headers["ETag"]}).status_code == 200
    assert {i: v for i, v in carried(linked).items() if v[1] is not None} == expected() == {
        a: (True, 0), b: (True, 0)}

    assert world.client.delete(f"/api/work-items/{b}/dependencies/{a}", headers=world.focal.headers).status_code == 204
    unlinked = read(world, ppa, "?include=critical_path")
    assert unlinked.headers["ETag"] not in (linked.headers["ETag"], before.headers["ETag"])
    assert carried(unlinked) == carried(before)


def test_without_include_the_tree_is_the_plain_tree_and_each_include_set_has_its_own_etag(world):
    ppa, a, _ = _two_task_ppa(world)
    plain = read(world, ppa)

    both = read(world, ppa, "?include=earned_value,critical_path")
    repeated = read(world, ppa, "?include=critical_path&include=earned_value&include=critical_path")
    ev_only = read(world, ppa, "?include=earned_value")

    assert read(world, ppa).data == plain.data and "earned_value" not in plain.get_data(as_text=True)
    assert set(nodes(plain.get_json())[a]) == {
        "work_item_id", "title", "work_type", "level", "status", "progress", "allocated_budget",
        "actual_expenditure", "variance", "variance_pct", "budget_status", "children"}
    assert both.data == repeated.data and both.headers["ETag"] == repeated.headers["ETag"]
    assert len({plain.headers["ETag"], both.headers["ETag"], ev_only.headers["ETag"]}) == 3
    node = nodes(both.get_json())[a]
    assert {k: node[k] for k in nodes(plain.get_json())[a]} == nodes(plain.get_json())[a]
    assert {"earned_value", "critical", "total_float_days"} <= set(node) and "critical" not in nodes(
        ev_only.get_json())[a]
    assert read(world, ppa, "?include=earned_value", **{"If-None-Match": ev_only.headers["ETag"]}).status_code == 304


def test_an_empty_include_asks_for_nothing_more_as_a_form_with_nothing_chosen_sends_it(world):
    ppa, _, _ = _two_task_ppa(world)
    plain, ev_only = read(world, ppa), read(world, ppa, "?include=earned_value")

    for query in ("?include=", "?include=,", "?include=&include= "):
        answer = read(world, ppa, query)
        assert answer.status_code == 200 and answer.data == plain.data, (query, answer.get_json())
        assert answer.headers["ETag"] == plain.headers["ETag"], query
    assert read(world, ppa, "?include=earned_value,").headers["ETag"] == ev_only.headers["ETag"]


def test_an_unknown_include_is_refused_with_422_under_include(world):
    ppa, _, _ = _two_task_ppa(world)

    for query in ("?include=gantt", "?include=earned_value,gantt", "?include=critical_path&include=gantt"):
        answer = read(world, ppa, query)
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json", query
        assert "'gantt'" in str(answer.get_json()["errors"]["include"]), answer.get_json()
        assert "critical_path, earned_value" in str(answer.get_json()["errors"]["include"])


def test_a_ppa_enacted_without_a_baseline_has_null_figures_until_one_is_captured(world):
    from sqlalchemy import text

    ppa, _, _ = _two_task_ppa(world)
    with world.app.app_context(), db.engine.begin() as connection:  # as if enacted before baselines existed
        connection.execute(text("DELETE FROM ev_baseline_items WHERE ppa_id = :id"), {"id": ppa})
        connection.execute(text("DELETE FROM ev_baselines WHERE ppa_id = :id"), {"id": ppa})
    before = read(world, ppa, "?include=earned_value")
    assert all(n["earned_value"] is None for n in nodes(before.get_json()).values())
    assert read(world, ppa, "?include=earned_value").data == before.data  # the read wrote no baseline

    expected = endpoint_figures(world, ppa)  # the first computation captures one, late

    after = read(world, ppa, "?include=earned_value")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert {i: n["earned_value"] for i, n in nodes(after.get_json()).items()} == expected


def _ppa_with_tasks(world, tasks: int) -> int:
    """An enacted PPA whose WBS has ``tasks`` dated, budgeted tasks, one
    after another in a chain of dependencies, half done."""
    ppa, first = world.tracked_ppa("budget_review", budget_allocation="3000000.00")
    root = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]
    assert world.patch(f"/api/work-items/{first}", world.focal, {
        "allocated_budget": "1000.00", "start_date": "2025-01-01", "due_date": "2025-03-31",
        "progress": 50}).status_code == 200
    previous = first
    for n in range(1, tasks):
        response = world.client.post("/api/work-items", json={
            "parent_id": root, "work_type": "task", "title": f"Task {n}", "allocated_budget": "1000.00",
            "start_date": "2025-01-01", "due_date": f"2025-0{1 + n % 3}-2{n % 8}"}, headers=world.focal.headers)
        assert response.status_code == 201, response.get_json()
        item = response.get_json()["id"]
        assert world.client.post(f"/api/work-items/{item}/dependencies", json={"predecessor_id": previous},
                                 headers=world.focal.headers).status_code == 200
        previous = item
    world.advance(ppa["id"], "enacted")
    return ppa["id"]


def test_a_tree_read_with_both_includes_sends_as_many_statements_for_30_tasks_as_for_3(world):
    counts = {}
    for tasks in (3, 30):
        ppa = _ppa_with_tasks(world, tasks)
        with world.app.app_context():
            tree_cache.store().clear()
            focal = users.get_user(world.focal.username)
            db.session.remove()
            with count_statements(db.engine) as counted:
                read_ = tracking.read_budget_tree(focal, ppa, jsonio.encode, ("earned_value", "critical_path"))
                body = read_.body(jsonio.encode)
            db.session.remove()
        counts[tasks] = counted["n"]
        assert body.count(b'"critical": true') + body.count(b'"critical":true') == tasks  # one chain: all

    assert counts[30] == counts[3]
