"""Earned value reads a WBS set-based (issue 16, "statements constant"):
computing a PPA's earned value, its S-curve's today and its alerts sends
as many SQL statements for a WBS of 30 dated tasks as for one of 3."""

from __future__ import annotations

from db import db
from services import performance, users
from tests.bench.wbs import count_statements


def _ppa_with_tasks(world, tasks: int) -> int:
    """An enacted PPA whose WBS has ``tasks`` dated, budgeted tasks (the
    minimal template's first leaf and ``tasks - 1`` siblings), all behind
    schedule (SPI alerts open on each)."""
    ppa, first = world.tracked_ppa("budget_review", budget_allocation="3000000.00")
    root = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]
    assert world.patch(f"/api/work-items/{first}", world.focal, {
        "allocated_budget": "1000.00", "start_date": "2025-01-01", "due_date": "2025-03-31"}).status_code == 200
    for n in range(1, tasks):
        response = world.client.post("/api/work-items", json={
            "parent_id": root, "work_type": "task", "title": f"Task {n}", "allocated_budget": "1000.00",
            "start_date": "2025-01-01", "due_date": f"2025-0{1 + n % 3}-2{n % 8}"}, headers=world.focal.headers)
        assert response.status_code == 201, response.get_json()
    world.advance(ppa["id"], "enacted")
    return ppa["id"]


def test_earned_value_sends_as_many_statements_for_30_tasks_as_for_3(world):
    counts = {}
    for tasks in (3, 30):
        ppa = _ppa_with_tasks(world, tasks)
        with world.app.app_context():
            focal = users.get_user(world.focal.username)
            performance.earned_value(focal, ppa)  # first computation: alerts opened once
            db.session.remove()
            focal = users.get_user(world.focal.username)
            with count_statements(db.engine) as counted:
                figures = performance.earned_value(focal, ppa)
            db.session.remove()
        counts[tasks] = counted["n"]
        assert len(figures["nodes"]) == tasks + 1  # the root and the tasks

    assert counts[30] == counts[3]
