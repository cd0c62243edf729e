"""``POST .../distribute_budget/`` and ``.../enable_workitem_tracking/`` with
``"dry_run": true`` (issue 14, item 6; the preview of the web app's Budget
tab): the answer the real call would give, computed by the same code, and
nothing written."""

from __future__ import annotations

from sqlalchemy import text

from db import db


def tracked_ppa(world, template="activity"):
    """A PPA in budget review with its generated WBS (activity: 750,000 /
    3,750,000 / 500,000 of 5,000,000)."""
    ppa = world.create_ppa(wbs_template=template)
    world.advance(ppa["id"], "budget_review")
    return ppa


def distribute(world, ppa_id, who=None, **body):
    return world.client.post(f"/api/monitoring-entries/{ppa_id}/distribute_budget/", json=body,
                             headers=(who or world.focal).headers)


def snapshot(app, ppa_id):
    """Everything a distribution could write: the PPA's row, its work items
    (allocations and versions), the audit log and the alerts."""
    with app.app_context(), db.engine.connect() as connection:
        return {
            "ppa": connection.execute(text("SELECT version, progress, status, execution_project_id, "
                                           "enable_workitem_tracking FROM ppas WHERE id = :id"),
                                      {"id": ppa_id}).all(),
            "items": connection.execute(text("SELECT id, allocated_budget, version FROM work_items ORDER BY id")).all(),
            "audit": connection.execute(text("SELECT count(*) FROM audit_log")).scalar_one(),
            "alerts": connection.execute(text("SELECT count(*) FROM alerts")).scalar_one(),
        }


def children(body):
    return [c["allocated_budget"] for c in body["breakdown"][0]["children"]]


def test_a_dry_run_answers_what_the_distribution_would_do_and_writes_nothing(app, world):
    ppa = tracked_ppa(world)
    before = snapshot(app, ppa["id"])

    preview = distribute(world, ppa["id"], method="equal", dry_run=True)

    assert preview.status_code == 200
    assert snapshot(app, ppa["id"]) == before
    assert children(world.tree(ppa["id"])) == ["750000.00", "3750000.00", "500000.00"]
    body = preview.get_json()
    assert body["dry_run"] is True
    assert children(body) == ["1666666.67", "1666666.67", "1666666.66"]

    applied = distribute(world, ppa["id"], method="equal")

    assert applied.status_code == 200
    assert applied.get_json() | {"dry_run": True} == body
    assert applied.get_json()["dry_run"] is False
    assert children(world.tree(ppa["id"])) == ["1666666.67", "1666666.67", "1666666.66"]


def test_changes_name_every_item_whose_allocation_moves_with_its_amounts_before_and_after(world):
    ppa = tracked_ppa(world)
    preparation = world.tree(ppa["id"])["breakdown"][0]["children"][0]
    below = [g["work_item_id"] for g in preparation["children"]]

    body = distribute(world, ppa["id"], method="manual", dry_run=True,
                      allocations={str(preparation["work_item_id"]): "500000.00"}).get_json()

    assert body["changes"] == [
        {"work_item_id": preparation["work_item_id"], "title": "Preparation", "allocated_before": "750000.00",
         "allocated_after": "500000.00"},
        {"work_item_id": below[0], "title": preparation["children"][0]["title"], "allocated_before": "375000.00",
         "allocated_after": "250000.00"},
        {"work_item_id": below[1], "title": preparation["children"][1]["title"], "allocated_before": "375000.00",
         "allocated_after": "250000.00"},
    ]
    assert (body["allocated_to_workitems"], body["unallocated"]) == ("4750000.00", "250000.00")


def test_a_dry_run_is_refused_exactly_as_the_real_distribution_and_writes_nothing(app, world):
    ppa = tracked_ppa(world)
    ids = [c["work_item_id"] for c in world.tree(ppa["id"])["breakdown"][0]["children"]]
    over = {str(ids[0]): "1000000.00", str(ids[1]): "3750000.00"}
    before = snapshot(app, ppa["id"])

    preview = distribute(world, ppa["id"], method="manual", allocations=over, dry_run=True)
    real = distribute(world, ppa["id"], method="manual", allocations=over)

    assert preview.status_code == real.status_code == 422
    assert preview.get_json()["errors"] == real.get_json()["errors"]
    assert "250000.00 more than its allocation of 5000000.00" in str(preview.get_json()["errors"])
    assert preview.get_json()["over_allocated"] == [{
        "work_item_id": world.tree(ppa["id"])["breakdown"][0]["work_item_id"], "title": ppa["title"],
        "children_total": "5250000.00", "allocation": "5000000.00"}]
    assert snapshot(app, ppa["id"]) == before


def test_a_dry_run_needs_the_same_rights_and_an_unlocked_budget(world):
    ppa = tracked_ppa(world)
    theirs = distribute(world, ppa["id"], world.other_focal, method="equal", dry_run=True)
    reviewer = distribute(world, ppa["id"], world.technical_reviewer, method="equal", dry_run=True)
    world.advance(ppa["id"], "stakeholder_consultation")  # budget review approved: allocations locked
    locked = distribute(world, ppa["id"], method="equal", dry_run=True)

    assert theirs.status_code == 404
    assert reviewer.status_code == 403
    assert locked.status_code == 409 and locked.get_json()["code"] == "budget_locked"


# -- enable_workitem_tracking/ ---------------------------------------------------------

def enable(world, ppa_id, who=None, **body):
    return world.client.post(f"/api/monitoring-entries/{ppa_id}/enable_workitem_tracking/", json=body,
                             headers=(who or world.focal).headers)


def without_ids(body):
    """The answer with what a dry run cannot keep (its provisional ids, the
    rows' timestamps) and the dry-run flag and message left out."""
    if isinstance(body, list):
        return [without_ids(value) for value in body]
    if isinstance(body, dict):
        return {key: without_ids(value) for key, value in body.items()
                if key not in {"id", "work_item_id", "created_at", "updated_at", "dry_run", "message"}}
    return body


def test_a_tracking_dry_run_answers_the_generated_tree_and_writes_nothing(app, world):
    ppa = world.create_ppa()
    world.advance(ppa["id"], "technical_review")
    before = snapshot(app, ppa["id"])

    preview = enable(world, ppa["id"], structure_template="program", dry_run=True)

    assert preview.status_code == 200
    assert snapshot(app, ppa["id"]) == before
    assert world.get(ppa["id"], world.focal)["execution_project_id"] is None
    body = preview.get_json()
    assert body["dry_run"] is True and "13 work items would be generated" in body["message"]
    assert body["budget_allocation_tree"]["breakdown"][0]["allocated_budget"] == "5000000.00"

    applied = enable(world, ppa["id"], structure_template="program")

    assert applied.status_code == 201
    assert applied.get_json()["dry_run"] is False
    assert without_ids(applied.get_json()) == without_ids(body)
    assert world.tree(ppa["id"]) == applied.get_json()["budget_allocation_tree"]


def test_a_tracking_dry_run_is_refused_exactly_as_the_real_call(app, world):
    ppa = world.create_ppa()
    draft = enable(world, ppa["id"], dry_run=True)
    unknown = enable(world, ppa["id"], structure_template="nonesuch", dry_run=True)
    world.advance(ppa["id"], "technical_review")
    reviewer = enable(world, ppa["id"], world.technical_reviewer, dry_run=True)
    enable(world, ppa["id"])
    before = snapshot(app, ppa["id"])
    twice = enable(world, ppa["id"], dry_run=True)

    assert draft.status_code == 409 and draft.get_json()["code"] == "not_trackable"
    assert unknown.status_code == 422 and "structure_template" in unknown.get_json()["errors"]
    assert reviewer.status_code == 403
    assert twice.status_code == 409 and twice.get_json()["code"] == "already_tracking"
    assert snapshot(app, ppa["id"]) == before
