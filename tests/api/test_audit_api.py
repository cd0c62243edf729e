"""The audit trail (issue 5): every create, update and delete of PPAs, work
items and financial rows, field by field, with actor, time and request id;
readable per entity, exportable as CSV, scoped per MOA."""

from __future__ import annotations

import csv
import io
import json

from tests.support import Chain


def audit(world, who=None, **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    response = world.client.get(f"/api/audit?{query}&page_size=200", headers=(who or world.admin).headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_ppa_create_and_edit_are_recorded_field_by_field_with_actor_and_request_id(world):
    created = world.client.post("/api/monitoring-entries", headers=world.focal.headers | {"X-Request-ID": "req-create-1"},
                                json={"title": "Halal Workshop", "category": "moa_ppa", "fiscal_year": 2025,
                                      "budget_allocation": "850000.00"})
    ppa_id = created.get_json()["id"]
    edited = world.patch(f"/api/monitoring-entries/{ppa_id}", world.focal, {"budget_allocation": "900000.50"})

    rows = audit(world, entity="ppa", id=ppa_id)

    assert created.headers["X-Request-ID"] == "req-create-1"
    assert [(r["action"], r["field"]) for r in rows] == [("create", None), ("update", "budget_allocation")]
    assert json.loads(rows[0]["new_value"])["budget_allocation"] == "850000.00"
    assert (rows[1]["old_value"], rows[1]["new_value"]) == ('"850000.00"', '"900000.50"')
    assert {r["actor"] for r in rows} == {"mssd.focal"}
    assert rows[0]["request_id"] == "req-create-1"
    assert rows[1]["request_id"] == edited.headers["X-Request-ID"] != "req-create-1"


def test_set_based_work_item_changes_are_recorded_too(world):
    ppa, task = world.tracked_ppa("budget_review")
    tree = world.tree(ppa["id"])
    world.client.post(f"/api/work-items/{task}/expenditures", json={"amount": "1250.75"}, headers=world.focal.headers)
    world.advance(ppa["id"], "stakeholder_consultation")  # locks every allocation of the tree

    spent = audit(world, entity="work_item", id=task, field="actual_expenditure")
    locked = audit(world, entity="work_item", field="budget_locked")

    assert [(r["old_value"], r["new_value"], r["actor"]) for r in spent] == [('"0.00"', '"1250.75"', "mssd.focal")]
    assert sorted(r["entity_id"] for r in locked) == sorted([tree["breakdown"][0]["work_item_id"], task])
    assert {(r["old_value"], r["new_value"], r["actor"]) for r in locked} == {("false", "true", "mfbm.analyst")}


def test_financial_rows_are_recorded_with_their_status_changes(world):
    chain = Chain(world)
    allotment = chain.allot("1000.00")
    chain.obligate(allotment["id"], "1000.00")

    rows = audit(world, entity="allotment", id=allotment["id"])

    assert [(r["action"], r["field"], r["new_value"]) for r in rows] == [
        ("create", None, rows[0]["new_value"]), ("update", "status", '"fully_utilized"')]
    # the ORS obligates when the budget officer signs its Box B: that step used the allotment up
    assert rows[0]["actor"] == "mfbm.analyst" and rows[1]["actor"] == "mssd.budget_officer"


def test_other_moas_see_none_of_the_audit_rows(world):
    world.create_ppa()

    assert audit(world, world.other_focal) == []
    assert len(audit(world, world.focal)) == 1


def test_the_csv_export_has_every_row_with_a_header(world):
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)

    response = world.client.get(f"/api/audit.csv?entity=ppa&id={ppa['id']}", headers=world.admin.headers)

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv"
    assert [(r["action"], r["field"]) for r in rows] == [("create", ""), ("update", "approval_status"),
                                                        ("update", "stage_entered_at"),
                                                        ("update", "rules_hash")]  # submit pins it (§13)
    assert rows[1]["old_value"] == '"draft"' and rows[1]["new_value"] == '"technical_review"'
