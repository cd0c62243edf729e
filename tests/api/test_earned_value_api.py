"""Earned value and critical path as a focal person sees them (issue 16
items 3-4; docs/design.md "Earned value and critical path"): figures equal
a hand computation, a dependency moves the critical path, a cycle and a
cross-PPA dependency are refused."""

from __future__ import annotations

import pytest

from tests.conftest import ONE_BACKEND, one_backend_app


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    """The application on ``ONE_BACKEND`` only (nothing here depends on the database)."""
    yield from one_backend_app(request, tmp_path)


def _two_task_ppa(world) -> tuple[int, int, int]:
    """An enacted PPA of PHP 1,000,000 whose WBS has two dated tasks:
    A (600,000, 1-10 Jan 2025) and B (400,000, 6-15 Jan 2025)."""
    ppa, first = world.tracked_ppa("budget_review", budget_allocation="1000000.00")
    root = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]
    response = world.patch(f"/api/work-items/{first}", world.focal, {
        "title": "A", "allocated_budget": "600000.00", "start_date": "2025-01-01", "due_date": "2025-01-10"})
    assert response.status_code == 200, response.get_json()
    response = world.client.post("/api/work-items", json={
        "parent_id": root, "work_type": "task", "title": "B", "allocated_budget": "400000.00",
        "start_date": "2025-01-06", "due_date": "2025-01-15"}, headers=world.focal.headers)
    assert response.status_code == 201, response.get_json()
    second = response.get_json()["id"]
    world.advance(ppa["id"], "enacted")
    return ppa["id"], first, second


def test_a_focal_person_sees_earned_value_equal_to_the_hand_computation(world):
    ppa, a, b = _two_task_ppa(world)
    for item, progress, spent in ((a, 50, "350000.00"), (b, 20, "50000.00")):
        assert world.patch(f"/api/work-items/{item}", world.focal, {"progress": progress}).status_code == 200
        assert world.client.post(f"/api/work-items/{item}/expenditures", json={"amount": spent},
                                 headers=world.focal.headers).status_code == 200

    response = world.client.get(f"/api/monitoring-entries/{ppa}/earned_value?as_of=2025-01-08",
                                headers=world.focal.headers)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["baseline_captured_late"] is False
    # PV: A 8 of 10 days x 600,000 + B 3 of 10 days x 400,000; EV: 50% x 600,000 + 20% x 400,000.
    # EAC = BAC / CPI = 1,000,000 x 400,000 / 380,000 = 1,052,631.578... -> 1,052,631.58.
    assert body["ppa"] == {
        "bac": "1000000.00", "pv": "600000.00", "ev": "380000.00", "ac": "400000.00", "sv": "-220000.00",
        "cv": "-20000.00", "spi": "0.6333", "cpi": "0.9500", "tcpi": "1.0333", "eac": "1052631.58",
        "etc": "652631.58", "vac": "-52631.58"}
    nodes = {n["work_item_id"]: n for n in body["nodes"]}
    assert (nodes[a]["pv"], nodes[a]["ev"], nodes[a]["spi"]) == ("480000.00", "300000.00", "0.6250")
    assert (nodes[b]["pv"], nodes[b]["ev"], nodes[b]["cpi"]) == ("120000.00", "80000.00", "1.6000")


def test_schedule_performance_below_the_threshold_opens_an_alert_that_clears_when_the_work_is_done(world):
    ppa, a, b = _two_task_ppa(world)  # everything was due in January 2025 and nothing is done: SPI 0 < 0.9

    def open_alerts():
        assert world.client.get(f"/api/monitoring-entries/{ppa}/earned_value",
                                headers=world.focal.headers).status_code == 200
        rows = world.client.get(f"/api/alerts?ppa={ppa}&status=open", headers=world.focal.headers).get_json()
        return {(row["type"], row["work_item_id"]): row["message"] for row in rows}

    behind = open_alerts()
    assert {("workitem_schedule_performance", item) for item in (a, b)} <= set(behind)
    assert "SPI 0.0000" in behind[("workitem_schedule_performance", a)]
    assert not any(kind == "workitem_cost_performance" for kind, _ in behind)  # nothing spent: CPI undefined

    for item in (a, b):
        assert world.patch(f"/api/work-items/{item}", world.focal, {"progress": 100}).status_code == 200
    assert not any(kind == "workitem_schedule_performance" for kind, _ in open_alerts())


def test_a_dependency_sets_the_critical_path_and_a_cycle_or_another_ppa_is_refused(world):
    ppa, a, b = _two_task_ppa(world)

    added = world.client.post(f"/api/work-items/{b}/dependencies", json={"predecessor_id": a},
                              headers=world.focal.headers)
    assert added.status_code == 200, added.get_json()
    assert added.get_json()["predecessors"] == [a]
    body = world.client.get(f"/api/monitoring-entries/{ppa}/critical_path", headers=world.focal.headers).get_json()
    items = {i["work_item_id"]: i for i in body["items"]}
    assert (items[b]["early_start"], items[b]["early_finish"]) == ("2025-01-11", "2025-01-20")
    assert body["project_finish"] == "2025-01-20" and body["critical_paths"] == [[a, b]]
    assert items[a]["critical"] and items[a]["total_float"] == 0

    cycle = world.client.post(f"/api/work-items/{a}/dependencies", json={"predecessor_id": b},
                              headers=world.focal.headers)
    assert cycle.status_code == 422
    assert f"{a} → {b} → {a}" in str(cycle.get_json())

    _, elsewhere = world.tracked_ppa("budget_review")
    across = world.client.post(f"/api/work-items/{b}/dependencies", json={"predecessor_id": elsewhere},
                               headers=world.focal.headers)
    assert across.status_code == 422 and "another PPA" in str(across.get_json())

    assert world.client.delete(f"/api/work-items/{b}/dependencies/{a}", headers=world.focal.headers).status_code == 204
    assert world.client.get(f"/api/work-items/{b}/dependencies", headers=world.focal.headers).get_json()[
        "predecessors"] == []


def test_a_critical_item_that_slips_past_its_baseline_opens_an_alert_that_clears_when_it_is_back(world):
    ppa, a, b = _two_task_ppa(world)  # baselined at enactment: A 1-10 Jan, B 6-15 Jan
    assert world.client.post(f"/api/work-items/{b}/dependencies", json={"predecessor_id": a},
                             headers=world.focal.headers).status_code == 200  # B after A: both critical

    def slips():
        assert world.client.get(f"/api/monitoring-entries/{ppa}/earned_value",
                                headers=world.focal.headers).status_code == 200
        rows = world.client.get(f"/api/alerts?ppa={ppa}&status=open&type=workitem_critical_slip",
                                headers=world.focal.headers).get_json()
        return {row["work_item_id"]: row["message"] for row in rows}

    assert slips() == {}  # a dependency alone moves the plan and the baseline alike
    assert world.patch(f"/api/work-items/{a}", world.focal, {"due_date": "2025-01-14"}).status_code == 200
    slipped = slips()
    assert set(slipped) == {a, b}
    assert "now finishes 2025-01-24, 4 day(s) after its baseline 2025-01-20" in slipped[b]

    assert world.patch(f"/api/work-items/{a}", world.focal, {"due_date": "2025-01-10"}).status_code == 200
    assert slips() == {}


def test_earned_value_before_enactment_stores_no_baseline_so_enactment_baselines_the_plan_then(world):
    ppa, task = world.tracked_ppa("budget_review", budget_allocation="1000000.00")
    assert world.patch(f"/api/work-items/{task}", world.focal, {
        "allocated_budget": "600000.00", "start_date": "2025-01-01", "due_date": "2025-01-10"}).status_code == 200
    early = world.client.get(f"/api/monitoring-entries/{ppa['id']}/earned_value?as_of=2025-01-31",
                             headers=world.focal.headers).get_json()
    assert early["ppa"]["bac"] == "600000.00"  # measured against the plan as it stands

    assert world.patch(f"/api/work-items/{task}", world.focal, {"allocated_budget": "800000.00"}).status_code == 200
    world.advance(ppa["id"], "enacted")
    body = world.client.get(f"/api/monitoring-entries/{ppa['id']}/earned_value?as_of=2025-01-31",
                            headers=world.focal.headers).get_json()

    assert body["ppa"]["bac"] == "800000.00" and body["baseline_captured_late"] is False
