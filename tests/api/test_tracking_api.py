"""Execution tracking over HTTP (docs/design.md §4, §5): WBS generation with the
seeds' numbers, approval effects, distribution, rollups and sync."""

from __future__ import annotations

import pytest

from tests.support import shipped_rules

RULES = shipped_rules()


def children_amounts(tree):
    return [c["allocated_budget"] for c in tree["breakdown"][0]["children"]]


def tracked_ppa(world, template="activity", **overrides):
    """A PPA in budget review whose execution project was generated on
    technical review approval."""
    ppa = world.create_ppa(wbs_template=template, **overrides)
    world.advance(ppa["id"], "budget_review")
    return ppa


def distribute(world, ppa_id, **body):
    return world.client.post(f"/api/monitoring-entries/{ppa_id}/distribute_budget/", json=body,
                             headers=world.focal.headers)


def item_of(tree, *path):
    node = tree["breakdown"][0]
    for index in path:
        node = node["children"][index]
    return node


# -- the seeds' own numbers -----------------------------------------------------

def test_activity_template_on_five_million_gives_the_seed_split(world):
    ppa = tracked_ppa(world, "activity")

    tree = world.tree(ppa["id"])

    assert children_amounts(tree) == ["750000.00", "3750000.00", "500000.00"]
    assert [c["title"] for c in tree["breakdown"][0]["children"]] == [
        "Preparation", "Execution", "Completion & Reporting"]
    assert [g["allocated_budget"] for g in item_of(tree, 1)["children"]] == ["3000000.00", "750000.00"]


def test_program_template_on_five_million_gives_the_seed_split(world):
    ppa = tracked_ppa(world, "program")

    tree = world.tree(ppa["id"])

    assert children_amounts(tree) == ["1000000.00", "3000000.00", "1000000.00"]
    assert [g["allocated_budget"] for g in item_of(tree, 0)["children"]] == ["500000.00", "300000.00", "200000.00"]
    assert tree["allocated_to_workitems"] == "5000000.00" and tree["unallocated"] == "0.00"


def test_equal_distribution_over_three_gives_the_extra_centavo_to_the_first_two(world):
    ppa = tracked_ppa(world)

    response = distribute(world, ppa["id"], method="equal")

    assert response.status_code == 200
    assert children_amounts(response.get_json()) == ["1666666.67", "1666666.67", "1666666.66"]


def test_weighted_distribution_gives_the_seed_amounts(world):
    ppa = tracked_ppa(world)
    ids = [c["work_item_id"] for c in world.tree(ppa["id"])["breakdown"][0]["children"]]

    response = distribute(world, ppa["id"], method="weighted",
                          weights={str(ids[0]): 0.30, str(ids[1]): 0.50, str(ids[2]): 0.20})

    assert response.status_code == 200
    assert children_amounts(response.get_json()) == ["1500000.00", "2500000.00", "1000000.00"]


def test_one_of_two_children_completed_gives_progress_50(world):
    ppa = tracked_ppa(world, "minimal")
    tree = world.tree(ppa["id"])
    root, first = tree["breakdown"][0]["work_item_id"], item_of(tree, 0)["work_item_id"]
    created = world.client.post("/api/work-items", json={"parent_id": root, "work_type": "task", "title": "Second"},
                                headers=world.focal.headers)
    assert created.status_code == 201

    world.client.post(f"/api/work-items/{first}/transitions", json={"trigger": "complete"},
                      headers=world.focal.headers)

    assert world.tree(ppa["id"])["breakdown"][0]["progress"] == 50
    assert world.get(ppa["id"], world.focal)["progress"] == 50


def test_generated_dates_follow_the_duration_percentages(world):
    ppa = tracked_ppa(world, "activity", start_date="2025-01-01", target_end_date="2025-04-10")  # 100 days
    tree = world.tree(ppa["id"])
    ids = [c["work_item_id"] for c in tree["breakdown"][0]["children"]]

    dates = [(world.client.get(f"/api/work-items/{i}", headers=world.focal.headers).get_json()[k])
             for i in ids for k in ("start_date", "due_date")]

    assert dates == ["2025-01-01", "2025-01-20", "2025-01-21", "2025-03-31", "2025-04-01", "2025-04-10"]


# -- status mappings ---------------------------------------------------------------

ROOT_PATHS = {
    "not_started": [], "in_progress": ["start"], "at_risk": ["start", "flag_at_risk"],
    "blocked": ["start", "block"], "completed": ["complete"], "cancelled": ["cancel"],
}


@pytest.mark.parametrize("status", list(ROOT_PATHS))
def test_ppa_status_follows_each_row_of_the_work_item_mapping(world, status):
    ppa = tracked_ppa(world)
    root = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]

    for trigger in ROOT_PATHS[status]:
        response = world.client.post(f"/api/work-items/{root}/transitions", json={"trigger": trigger},
                                     headers=world.focal.headers)
        assert response.status_code == 200, response.get_json()

    expected = RULES.sync.work_item_to_ppa[status]
    shown = world.get(ppa["id"], world.focal)
    assert (shown["status"], shown["execution_flag"]) == (expected.status, expected.flag)


@pytest.mark.parametrize("ppa_status, item_status", list(RULES.sync.ppa_to_work_item.items()))
def test_new_project_status_follows_each_row_of_the_ppa_mapping(world, ppa_status, item_status):
    ppa = world.create_ppa(wbs_template="minimal")
    world.patch(f"/api/monitoring-entries/{ppa['id']}", world.focal, {"status": ppa_status})
    world.advance(ppa["id"], "technical_review")

    response = world.client.post(f"/api/monitoring-entries/{ppa['id']}/enable_workitem_tracking/", json={},
                                 headers=world.focal.headers)

    assert response.status_code == 201
    assert response.get_json()["execution_project"]["status"] == item_status


# -- enabling tracking ---------------------------------------------------------------

def test_enable_tracking_returns_201_with_the_project(world):
    ppa = world.create_ppa()
    world.advance(ppa["id"], "technical_review")

    response = world.client.post(f"/api/monitoring-entries/{ppa['id']}/enable_workitem_tracking/",
                                 json={"structure_template": "program"}, headers=world.focal.headers)

    body = response.get_json()
    assert response.status_code == 201
    assert body["success"] is True and "13 work items" in body["message"]
    assert body["execution_project"]["work_type"] == "project"
    assert body["execution_project"]["allocated_budget"] == "5000000.00"
    shown = world.get(ppa["id"], world.focal)
    assert shown["enable_workitem_tracking"] is True
    assert shown["execution_project_id"] == body["execution_project"]["id"]


def test_enable_tracking_twice_is_409(world):
    ppa = tracked_ppa(world)

    response = world.client.post(f"/api/monitoring-entries/{ppa['id']}/enable_workitem_tracking/", json={},
                                 headers=world.focal.headers)

    assert response.status_code == 409
    assert response.get_json()["code"] == "already_tracking"


@pytest.mark.parametrize("stage", ["draft", "rejected"])
def test_enable_tracking_in_draft_or_rejected_is_409(world, stage):
    ppa = world.create_ppa()
    if stage == "rejected":
        world.advance(ppa["id"], "technical_review")
        world.fire(ppa["id"], "reject", world.technical_reviewer, "Not aligned.")

    response = world.client.post(f"/api/monitoring-entries/{ppa['id']}/enable_workitem_tracking/", json={},
                                 headers=world.focal.headers)

    assert response.status_code == 409
    assert response.get_json()["code"] == "not_trackable"


def test_enable_tracking_with_unknown_template_is_422(world):
    ppa = world.create_ppa()
    world.advance(ppa["id"], "technical_review")

    response = world.client.post(f"/api/monitoring-entries/{ppa['id']}/enable_workitem_tracking/",
                                 json={"structure_template": "gantt"}, headers=world.focal.headers)

    assert response.status_code == 422
    assert "structure_template" in response.get_json()["errors"]


def test_category_default_template_is_used_when_the_ppa_names_none(world):
    ppa = tracked_ppa(world, None, category="obc_request")  # obc_request -> minimal

    tree = world.tree(ppa["id"])

    assert [c["title"] for c in tree["breakdown"][0]["children"]] == ["Main Deliverable"]


def test_unknown_wbs_template_on_a_ppa_is_422(world):
    response = world.client.post("/api/monitoring-entries", json={
        "title": "T", "category": "moa_ppa", "fiscal_year": 2025, "budget_allocation": "1.00",
        "wbs_template": "kanban"}, headers=world.focal.headers)

    assert response.status_code == 422
    assert "wbs_template" in response.get_json()["errors"]


# -- approval effects -------------------------------------------------------------------

def test_approving_budget_review_locks_allocations_but_not_expenditure(world):
    ppa = tracked_ppa(world)
    world.advance(ppa["id"], "stakeholder_consultation")
    leaf = item_of(world.tree(ppa["id"]), 0, 0)["work_item_id"]

    distributed = distribute(world, ppa["id"], method="equal")
    patched = world.patch(f"/api/work-items/{leaf}", world.focal, {"allocated_budget": "1.00"})
    spent = world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "1000.00"},
                              headers=world.focal.headers)

    assert distributed.status_code == 409 and distributed.get_json()["code"] == "budget_locked"
    assert patched.status_code == 409 and patched.get_json()["code"] == "budget_locked"
    assert spent.status_code == 200
    assert children_amounts(world.tree(ppa["id"])) == ["750000.00", "3750000.00", "500000.00"]


def test_return_for_revision_unlocks_and_a_new_budget_rescales_the_tree(world):
    ppa = tracked_ppa(world)
    world.advance(ppa["id"], "stakeholder_consultation")
    world.fire(ppa["id"], "return_for_revision", world.planning_officer, "Reduce to 4M.")

    patched = world.patch(f"/api/monitoring-entries/{ppa['id']}", world.focal, {"budget_allocation": "4000000.00"})

    assert patched.status_code == 200
    tree = world.tree(ppa["id"])
    assert children_amounts(tree) == ["600000.00", "3000000.00", "400000.00"]
    assert [g["allocated_budget"] for g in item_of(tree, 1)["children"]] == ["2400000.00", "600000.00"]
    assert distribute(world, ppa["id"], method="equal").status_code == 200


def test_enacting_activates_the_project_and_the_ppa_goes_ongoing(world):
    ppa = tracked_ppa(world)

    world.advance(ppa["id"], "enacted")

    tree = world.tree(ppa["id"])
    assert tree["breakdown"][0]["status"] == "in_progress"
    assert world.get(ppa["id"], world.focal)["status"] == "ongoing"


def test_rejecting_cancels_the_project_and_its_open_items_only(world):
    ppa = tracked_ppa(world)
    done = item_of(world.tree(ppa["id"]), 0, 0)["work_item_id"]
    world.client.post(f"/api/work-items/{done}/transitions", json={"trigger": "complete"}, headers=world.focal.headers)

    world.fire(ppa["id"], "reject", world.budget_analyst, "No fiscal space this year.")

    tree = world.tree(ppa["id"])
    statuses = {n["work_item_id"]: n["status"] for n in _walk(tree["breakdown"][0])}
    assert statuses.pop(done) == "completed"
    assert set(statuses.values()) == {"cancelled"}
    assert world.get(ppa["id"], world.focal)["status"] == "cancelled"


def _walk(node):
    yield node
    for child in node["children"]:
        yield from _walk(child)


# -- distribution rules --------------------------------------------------------------------

def test_manual_allocation_may_leave_money_unallocated(world):
    ppa = tracked_ppa(world)
    ids = [c["work_item_id"] for c in world.tree(ppa["id"])["breakdown"][0]["children"]]

    response = distribute(world, ppa["id"], method="manual", allocations={str(ids[0]): "500000.00"})

    body = response.get_json()
    assert response.status_code == 200
    assert body["allocated_to_workitems"] == "4750000.00"
    assert body["unallocated"] == "250000.00"
    assert body["allocation_percentage"] == 95.0
    # The item's template shares still hold below it.
    assert [g["allocated_budget"] for g in item_of(body, 0)["children"]] == ["250000.00", "250000.00"]


def test_manual_allocation_above_the_parent_is_refused_with_the_amounts_and_changes_nothing(world):
    ppa = tracked_ppa(world)
    ids = [c["work_item_id"] for c in world.tree(ppa["id"])["breakdown"][0]["children"]]

    response = distribute(world, ppa["id"], method="manual",
                          allocations={str(ids[0]): "1000000.00", str(ids[1]): "3750000.00"})

    assert response.status_code == 422
    message = " ".join(sum(response.get_json()["errors"].values(), []))
    assert "5250000.00" in message and "5000000.00" in message
    assert children_amounts(world.tree(ppa["id"])) == ["750000.00", "3750000.00", "500000.00"]


@pytest.mark.parametrize("weights, field", [
    ({0: 0.5, 1: 0.5, 2: 0.5}, "weights"),
    ({0: 0.5, 1: 0.5}, "weights.{2}"),
    ({0: -0.2, 1: 0.7, 2: 0.5}, "weights.{0}"),
])
def test_bad_weights_are_422_per_field(world, weights, field):
    ppa = tracked_ppa(world)
    ids = [c["work_item_id"] for c in world.tree(ppa["id"])["breakdown"][0]["children"]]

    response = distribute(world, ppa["id"], method="weighted", weights={str(ids[k]): w for k, w in weights.items()})

    assert response.status_code == 422
    assert field.format(*ids) in response.get_json()["errors"]


def test_weights_within_the_tolerance_still_split_exactly(world):
    ppa = tracked_ppa(world)
    ids = [c["work_item_id"] for c in world.tree(ppa["id"])["breakdown"][0]["children"]]

    response = distribute(world, ppa["id"], method="weighted",
                          weights={str(ids[0]): 0.333, str(ids[1]): 0.333, str(ids[2]): 0.333})

    assert response.status_code == 200
    assert children_amounts(response.get_json()) == ["1666666.67", "1666666.67", "1666666.66"]


def test_equal_over_a_given_parent_splits_only_its_children(world):
    ppa = tracked_ppa(world)
    execution = item_of(world.tree(ppa["id"]), 1)["work_item_id"]

    response = distribute(world, ppa["id"], method="equal", parent_id=execution)

    assert [g["allocated_budget"] for g in item_of(response.get_json(), 1)["children"]] == ["1875000.00", "1875000.00"]
    assert children_amounts(response.get_json()) == ["750000.00", "3750000.00", "500000.00"]


def test_reallocating_a_parent_rescales_its_descendants_exactly(world):
    ppa = tracked_ppa(world, "program", budget_allocation="1000000.03")

    body = distribute(world, ppa["id"], method="equal").get_json()

    for child in body["breakdown"][0]["children"]:
        amounts = [g["allocated_budget"] for g in child["children"]]
        assert sum(int(a.replace(".", "")) for a in amounts) == int(child["allocated_budget"].replace(".", ""))


def test_children_without_allocations_stay_empty(world):
    ppa = tracked_ppa(world, "minimal")
    task = item_of(world.tree(ppa["id"]), 0)["work_item_id"]
    for title in ("Venue", "Catering"):
        world.client.post("/api/work-items", json={"parent_id": task, "work_type": "subtask", "title": title},
                          headers=world.focal.headers)
    root = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]
    world.client.post("/api/work-items", json={"parent_id": root, "work_type": "task", "title": "Extra"},
                      headers=world.focal.headers)

    body = distribute(world, ppa["id"], method="equal").get_json()

    assert children_amounts(body) == ["2500000.00", "2500000.00"]
    assert [g["allocated_budget"] for g in item_of(body, 0)["children"]] == [None, None]


def test_distribution_needs_tracking(world):
    ppa = world.create_ppa()

    response = distribute(world, ppa["id"], method="equal")

    assert response.status_code == 409
    assert response.get_json()["code"] == "not_tracking"


# -- rollups and the tree response ------------------------------------------------------------

def test_tree_has_the_documented_shape(world):
    ppa = tracked_ppa(world)

    tree = world.tree(ppa["id"])

    assert list(tree) == ["ppa_id", "ppa_budget", "allocated_to_workitems", "unallocated", "allocation_percentage",
                          "total_expended", "expenditure_source", "opening_balance", "breakdown"]
    assert list(tree["breakdown"][0]) == ["work_item_id", "title", "work_type", "level", "status", "progress",
                                          "allocated_budget", "actual_expenditure", "variance", "variance_pct",
                                          "budget_status", "children"]


def test_expenditure_rolls_up_and_an_overspent_item_is_over_budget(world):
    ppa = tracked_ppa(world)
    tree = world.tree(ppa["id"])
    planning, mobilization = (item_of(tree, 0, i)["work_item_id"] for i in (0, 1))

    world.client.post(f"/api/work-items/{planning}/expenditures", json={"amount": "400000.00"},
                      headers=world.focal.headers)
    world.client.post(f"/api/work-items/{mobilization}/expenditures", json={"amount": "100000.50"},
                      headers=world.focal.headers)

    tree = world.tree(ppa["id"])
    assert item_of(tree, 0, 0)["budget_status"] == "over_budget"
    assert item_of(tree, 0, 0)["variance"] == "-25000.00"
    assert item_of(tree, 0)["actual_expenditure"] == "500000.50"
    assert item_of(tree, 0)["variance_pct"] == 33.33
    assert tree["total_expended"] == "500000.50"
    assert item_of(tree, 0)["allocated_budget"] == "750000.00"  # never the sum of its children


def test_on_budget_band_comes_from_the_rules(world):
    ppa = tracked_ppa(world)
    leaf = item_of(world.tree(ppa["id"]), 2, 1)["work_item_id"]  # 200,000.00

    world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "190000.00"}, headers=world.focal.headers)

    node = item_of(world.tree(ppa["id"]), 2, 1)
    assert node["variance_pct"] == 5.0 and node["budget_status"] == "on_budget"


def test_sync_from_workitem_syncs_even_with_auto_sync_off(world):
    ppa = tracked_ppa(world, "minimal")
    world.patch(f"/api/monitoring-entries/{ppa['id']}", world.focal, {"auto_sync_progress": False})
    task = item_of(world.tree(ppa["id"]), 0)["work_item_id"]
    world.client.post(f"/api/work-items/{task}/transitions", json={"trigger": "complete"}, headers=world.focal.headers)
    assert world.get(ppa["id"], world.focal)["progress"] == 0

    response = world.client.post(f"/api/monitoring-entries/{ppa['id']}/sync_from_workitem/",
                                 headers=world.focal.headers)

    assert response.status_code == 200
    assert response.get_json()["progress"] == 100
    assert world.get(ppa["id"], world.focal)["progress"] == 100


def test_progress_cannot_be_set_by_hand_while_it_follows_the_project(world):
    ppa = tracked_ppa(world)

    response = world.patch(f"/api/monitoring-entries/{ppa['id']}", world.focal, {"progress": 40})

    assert response.status_code == 409
    assert response.get_json()["code"] == "follows_execution_project"


# -- work items ----------------------------------------------------------------------------------

def test_child_types_follow_the_rules(world):
    ppa = tracked_ppa(world, "minimal")
    task = item_of(world.tree(ppa["id"]), 0)["work_item_id"]

    activity = world.client.post("/api/work-items", json={"parent_id": task, "work_type": "activity", "title": "X"},
                                 headers=world.focal.headers)
    subtask = world.client.post("/api/work-items", json={"parent_id": task, "work_type": "subtask", "title": "Y"},
                                headers=world.focal.headers)

    assert activity.status_code == 422 and "work_type" in activity.get_json()["errors"]
    assert subtask.status_code == 201 and subtask.get_json()["level"] == 2


def test_new_child_allocation_must_fit_what_the_parent_has_left(world):
    ppa = tracked_ppa(world, "minimal")
    root = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]
    distribute(world, ppa["id"], method="manual",
               allocations={str(item_of(world.tree(ppa["id"]), 0)["work_item_id"]): "4000000.00"})

    too_much = world.client.post("/api/work-items", json={"parent_id": root, "work_type": "task", "title": "A",
                                                          "allocated_budget": "1000000.01"}, headers=world.focal.headers)
    fits = world.client.post("/api/work-items", json={"parent_id": root, "work_type": "task", "title": "B",
                                                      "allocated_budget": "1000000.00"}, headers=world.focal.headers)

    assert too_much.status_code == 422
    assert fits.status_code == 201 and fits.get_json()["allocated_budget"] == "1000000.00"
    assert world.tree(ppa["id"])["unallocated"] == "0.00"


def test_work_item_patch_honours_if_match(world):
    ppa = tracked_ppa(world)
    leaf = item_of(world.tree(ppa["id"]), 0, 0)["work_item_id"]
    etag = world.client.get(f"/api/work-items/{leaf}", headers=world.focal.headers).headers["ETag"]
    world.patch(f"/api/work-items/{leaf}", world.focal, {"title": "Coordination meetings"})

    stale = world.client.patch(f"/api/work-items/{leaf}", json={"title": "Other"},
                               headers=world.focal.headers | {"If-Match": etag})

    assert stale.status_code == 412
    assert world.client.get(f"/api/work-items/{leaf}", headers=world.focal.headers).get_json()["title"] == \
        "Coordination meetings"


def test_progress_of_a_parent_is_rolled_up_not_set(world):
    ppa = tracked_ppa(world)
    parent = item_of(world.tree(ppa["id"]), 0)["work_item_id"]
    leaf = item_of(world.tree(ppa["id"]), 0, 0)["work_item_id"]

    refused = world.patch(f"/api/work-items/{parent}", world.focal, {"progress": 30})
    leaf_set = world.patch(f"/api/work-items/{leaf}", world.focal, {"progress": 30})

    assert refused.status_code == 422
    assert leaf_set.status_code == 200
    assert world.client.get(f"/api/work-items/{parent}", headers=world.focal.headers).get_json()["progress"] == 15


def test_work_item_status_machine_refuses_invalid_triggers(world):
    ppa = tracked_ppa(world)
    leaf = item_of(world.tree(ppa["id"]), 0, 0)["work_item_id"]

    response = world.client.post(f"/api/work-items/{leaf}/transitions", json={"trigger": "unblock"},
                                 headers=world.focal.headers)

    assert response.status_code == 409
    assert response.get_json()["code"] == "invalid_transition"


def test_other_moa_cannot_see_the_tree_or_its_items(world):
    ppa = tracked_ppa(world)
    leaf = item_of(world.tree(ppa["id"]), 0, 0)["work_item_id"]
    other = world.other_focal.headers

    assert world.client.get(f"/api/monitoring-entries/{ppa['id']}/budget_allocation_tree/",
                            headers=other).status_code == 404
    assert world.client.get(f"/api/work-items/{leaf}", headers=other).status_code == 404
    assert world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "1.00"},
                             headers=other).status_code == 404


def test_reviewers_read_trees_but_do_not_change_them(world):
    ppa = tracked_ppa(world)
    leaf = item_of(world.tree(ppa["id"]), 0, 0)["work_item_id"]

    read = world.client.get(f"/api/work-items/{leaf}", headers=world.budget_analyst.headers)
    write = world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "1.00"},
                              headers=world.budget_analyst.headers)

    assert read.status_code == 200 and write.status_code == 403


def test_children_endpoint_lists_direct_children_in_order(world):
    ppa = tracked_ppa(world)
    root = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]

    children = world.client.get(f"/api/work-items/{root}/children", headers=world.focal.headers).get_json()

    assert [c["title"] for c in children] == ["Preparation", "Execution", "Completion & Reporting"]
    assert [c["children_count"] for c in children] == [2, 2, 2]


def test_parents_start_and_complete_with_their_children_and_the_ppa_follows(world):
    ppa = tracked_ppa(world)
    tree = world.tree(ppa["id"])
    leaves = [g["work_item_id"] for c in tree["breakdown"][0]["children"] for g in c["children"]]

    world.client.post(f"/api/work-items/{leaves[0]}/transitions", json={"trigger": "start"}, headers=world.focal.headers)
    started = world.tree(ppa["id"])
    assert (started["breakdown"][0]["status"], item_of(started, 0)["status"], item_of(started, 1)["status"]) == (
        "in_progress", "in_progress", "not_started")
    assert world.get(ppa["id"], world.focal)["status"] == "ongoing"

    for leaf in leaves:
        world.client.post(f"/api/work-items/{leaf}/transitions", json={"trigger": "complete"},
                          headers=world.focal.headers)

    done = world.tree(ppa["id"])
    assert {n["status"] for n in _walk(done["breakdown"][0])} == {"completed"}
    shown = world.get(ppa["id"], world.focal)
    assert (shown["status"], shown["progress"]) == ("completed", 100)
