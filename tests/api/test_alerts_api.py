"""Alerts (docs/design.md §7): raised at once by the change that crosses the line,
one open per item and type, resolved when the condition clears; found
again by the sweep; listed with filters; acknowledged."""

from __future__ import annotations

from sqlalchemy import text

from db import db
from jobs.tasks import detect_budget_variances


def tracked_leaf(world, **overrides):
    """A PPA in budget review with the activity WBS; returns (ppa id, the
    'Planning & Coordination' task: 375,000.00 allocated)."""
    ppa, leaf = world.tracked_ppa("budget_review", template="activity", **overrides)
    return ppa["id"], leaf


def spend(world, item, amount):
    response = world.client.post(f"/api/work-items/{item}/expenditures", json={"amount": amount},
                                 headers=world.focal.headers)
    assert response.status_code == 200, response.get_json()


def alerts(world, who=None, **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    response = world.client.get(f"/api/alerts?{query}", headers=(who or world.focal).headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_crossing_over_budget_raises_one_alert_and_correcting_resolves_it(world):
    ppa, leaf = tracked_leaf(world)

    spend(world, leaf, "375000.00")  # exactly the allocation: not over
    assert alerts(world, type="workitem_budget_variance") == []
    spend(world, leaf, "0.01")  # crosses the line
    first = alerts(world, type="workitem_budget_variance", status="open")
    spend(world, leaf, "50000.00")  # crosses again: still one
    again = alerts(world, type="workitem_budget_variance", status="open")
    spend(world, leaf, "-50000.01")  # spend corrected
    after = alerts(world, type="workitem_budget_variance")

    assert [(a["work_item_id"], a["severity"]) for a in first] == [(leaf, "high")]
    assert "PHP 0.01 more than its allocation of PHP 375000.00" in first[0]["message"]
    assert [a["id"] for a in again] == [first[0]["id"]]
    assert [(a["id"], a["status"]) for a in after] == [(first[0]["id"], "resolved")]


def test_a_blocked_item_raises_an_alert_until_it_is_unblocked(world):
    ppa, leaf = tracked_leaf(world)
    fire = lambda trigger: world.client.post(f"/api/work-items/{leaf}/transitions", json={"trigger": trigger},  # noqa: E731
                                             headers=world.focal.headers)

    fire("start")
    fire("block")
    blocked = alerts(world, type="workitem_execution_blocked", status="open")
    fire("unblock")

    assert [(a["work_item_id"], a["severity"]) for a in blocked] == [(leaf, "medium")]
    assert alerts(world, type="workitem_execution_blocked", status="open") == []


def test_the_sweep_finds_what_was_missed_and_resolves_what_cleared(app, world):
    ppa, leaf = tracked_leaf(world)
    with app.app_context(), db.engine.begin() as connection:  # spending recorded behind the services' back
        connection.execute(text("UPDATE work_items SET actual_expenditure = 40000000 WHERE id = :id"), {"id": leaf})
    assert alerts(world) == []

    with app.app_context():
        first = detect_budget_variances()
        second = detect_budget_variances()
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE work_items SET actual_expenditure = 0 WHERE id = :id"), {"id": leaf})
    with app.app_context():
        third = detect_budget_variances()

    assert (first["opened"], second["opened"], second["resolved"]) == (1, 0, 0)
    assert third["resolved"] == 1
    assert [a["status"] for a in alerts(world)] == ["resolved"]


def test_an_overdue_stage_raises_an_alert_that_resolves_when_the_ppa_moves_on(app, world):
    ppa = world.ppa_in_stage_since("technical_review")
    with app.app_context():
        detect_budget_variances()
    overdue = alerts(world, type="approval_overdue", status="open")

    world.fire(ppa["id"], "approve", world.technical_reviewer)

    assert [a["ppa_id"] for a in overdue] == [ppa["id"]]
    assert "was due 2025-06-23" in overdue[0]["message"]
    assert alerts(world, type="approval_overdue", status="open") == []


def test_alerts_filter_by_severity_ppa_and_moa(world):
    ppa, leaf = tracked_leaf(world)
    other_ppa, other_leaf = tracked_leaf(world, title="Second PPA")
    spend(world, leaf, "400000.00")
    world.client.post(f"/api/work-items/{other_leaf}/transitions", json={"trigger": "start"},
                      headers=world.focal.headers)
    world.client.post(f"/api/work-items/{other_leaf}/transitions", json={"trigger": "block"},
                      headers=world.focal.headers)

    high = alerts(world, severity="high")
    of_other = alerts(world, ppa=other_ppa)
    by_moa = alerts(world, world.admin, moa="MSSD")

    assert {a["ppa_id"] for a in high} == {ppa}
    assert [a["type"] for a in of_other] == ["workitem_execution_blocked"]
    assert len(by_moa) == len(alerts(world)) == 2  # the overspent task (its parents have room), the blocked one
    assert alerts(world, world.admin, moa="MTIT") == []


def test_other_moas_do_not_see_or_acknowledge_alerts(world):
    ppa, leaf = tracked_leaf(world)
    spend(world, leaf, "400000.00")
    alert = alerts(world, status="open")[0]

    hidden = alerts(world, world.other_focal)
    refused = world.client.post(f"/api/alerts/{alert['id']}/acknowledge", headers=world.other_focal.headers)
    acknowledged = world.client.post(f"/api/alerts/{alert['id']}/acknowledge", headers=world.budget_analyst.headers)

    assert hidden == []
    assert refused.status_code == 404
    body = acknowledged.get_json()
    assert (body["acknowledged_by"], body["status"]) == ("mfbm.analyst", "open")
