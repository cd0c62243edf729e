"""Decisions taken under the PPA row lock read the row as it is once the
lock is held, not as it was when the statement started (issue 10, item 3).

On PostgreSQL, ``SELECT ... FOR UPDATE`` that waits for a lock returns the
locked row's newest version, but a subquery in the same statement still
reads the snapshot taken before the wait. These races put an approval
transition and ``enable_workitem_tracking`` on one PPA at the same moment,
20 times each.
"""

from __future__ import annotations

from sqlalchemy import text

from db import db
from tests.support import race

TRIALS = 20


def _submitted_ppa(world) -> int:
    ppa = world.create_ppa(wbs_template="minimal")
    assert world.fire(ppa["id"], "submit", world.focal).status_code == 200
    return ppa["id"]


def _enable(world, ppa_id):
    return lambda client: client.post(f"/api/monitoring-entries/{ppa_id}/enable_workitem_tracking/",
                                      json={"structure_template": "minimal"}, headers=world.focal.headers)


def _fire(world, ppa_id, trigger, **body):
    return lambda client: client.post(f"/api/monitoring-entries/{ppa_id}/transitions",
                                      json={"trigger": trigger} | body, headers=world.technical_reviewer.headers)


def test_a_reject_racing_enable_workitem_tracking_never_leaves_a_rejected_ppa_with_open_work_items(pg_app, pg_world):
    world = pg_world
    ppa_ids = [_submitted_ppa(world) for _ in range(TRIALS)]

    outcomes = [race(pg_app, [_fire(world, ppa_id, "reject", comment="not aligned with the BDP"),
                              _enable(world, ppa_id)]) for ppa_id in ppa_ids]

    for rejected, enabled in outcomes:
        assert rejected.status_code == 200, rejected.get_json()
        assert enabled.status_code in (201, 409), enabled.get_json()
    with pg_app.app_context():
        open_items = db.session.execute(text(
            "SELECT p.id, count(w.id) FROM ppas p JOIN work_items r ON r.ppa_id = p.id "
            "JOIN work_items w ON w.id = r.id OR w.root_id = r.id "
            "WHERE p.approval_status = 'rejected' AND w.status NOT IN ('cancelled', 'completed') "
            "GROUP BY p.id")).all()
    assert open_items == [], f"rejected PPAs with open work items (ppa id, items): {open_items}"


def test_a_technical_review_approval_racing_enable_workitem_tracking_is_never_refused(pg_app, pg_world):
    world = pg_world
    ppa_ids = [_submitted_ppa(world) for _ in range(TRIALS)]

    outcomes = [race(pg_app, [_fire(world, ppa_id, "approve"), _enable(world, ppa_id)]) for ppa_id in ppa_ids]

    refused = [approved.get_json() for approved, _ in outcomes if approved.status_code != 200]
    assert refused == [], f"{len(refused)} of {TRIALS} approvals refused: {refused[:3]}"
    for _, enabled in outcomes:
        assert (enabled.status_code, enabled.get_json().get("code")) in ((201, None), (409, "already_tracking"))
    with pg_app.app_context():
        projects = dict(db.session.execute(text(
            "SELECT p.id, count(w.id) FROM ppas p LEFT JOIN work_items w ON w.ppa_id = p.id "
            "WHERE p.id = ANY(:ids) GROUP BY p.id"), {"ids": ppa_ids}).all())
        linked = db.session.scalar(text(
            "SELECT count(*) FROM ppas p JOIN work_items w ON w.ppa_id = p.id "
            "WHERE p.id = ANY(:ids) AND p.execution_project_id = w.id"), {"ids": ppa_ids})
    assert projects == {ppa_id: 1 for ppa_id in ppa_ids}
    assert linked == TRIALS
