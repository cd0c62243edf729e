"""PPAs over HTTP: create, read, list, edit; auth, visibility, errors (docs/design.md §5)."""

from __future__ import annotations

import json

import pytest

from services import users
from tests.support import ppa_body

PROBLEM = "application/problem+json"


def test_focal_person_creates_a_draft_ppa_with_etag_and_location(world):
    response = world.client.post("/api/monitoring-entries", json=ppa_body(), headers=world.focal.headers)

    assert response.status_code == 201
    body = response.get_json()
    assert body["approval_status"] == "draft"
    assert body["implementing_moa"] == "MSSD"
    assert body["budget_allocation"] == "5000000.00"
    assert response.headers["ETag"] == f'"ppa-{body["id"]}-v1"'
    assert response.headers["Location"].endswith(f"/api/monitoring-entries/{body['id']}")


def test_money_keeps_every_centavo_whether_sent_as_string_or_number(world):
    as_string = world.create_ppa(budget_allocation="999999999999.99")
    raw = b'{"title": "T", "category": "moa_ppa", "fiscal_year": 2025, "budget_allocation": 1234567.89}'
    as_number = world.client.post("/api/monitoring-entries", data=raw, content_type="application/json",
                                  headers=world.focal.headers)

    assert as_string["budget_allocation"] == "999999999999.99"
    assert as_number.status_code == 201
    assert as_number.get_json()["budget_allocation"] == "1234567.89"


def test_request_without_token_is_401_problem(client):
    response = client.get("/api/monitoring-entries")

    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["code"] == "unauthenticated"


def test_request_with_unknown_token_is_401(client):
    response = client.get("/api/monitoring-entries", headers={"Authorization": "Bearer ppa_not-a-real-token"})

    assert response.status_code == 401
    # Issue 10: one detail for unknown, revoked, expired and deactivated tokens.
    assert response.get_json()["detail"] == users.INVALID_TOKEN


def test_openapi_document_is_public_and_describes_the_api(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    spec = response.get_json()
    assert "/api/monitoring-entries/{ppa_id}/transitions" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_moa_focal_sees_only_their_own_organizations_ppas(world):
    mine = world.create_ppa(world.focal)
    theirs = world.create_ppa(world.other_focal, title="Halal Certification Workshop Cotabato City")

    listed = world.client.get("/api/monitoring-entries", headers=world.focal.headers).get_json()
    other = world.client.get(f"/api/monitoring-entries/{theirs['id']}", headers=world.focal.headers)

    assert [p["id"] for p in listed] == [mine["id"]]
    assert other.status_code == 404
    assert other.get_json()["code"] == "not_found"


def test_moa_focal_cannot_edit_or_move_another_organizations_ppa(world):
    theirs = world.create_ppa(world.other_focal)

    patched = world.patch(f"/api/monitoring-entries/{theirs['id']}", world.focal, {"title": "Mine now"})
    fired = world.fire(theirs["id"], "submit", world.focal)

    assert patched.status_code == 404
    assert fired.status_code == 404
    assert world.get(theirs["id"], world.admin)["title"] == theirs["title"]


def test_reviewers_see_every_organizations_ppas(world):
    world.create_ppa(world.focal)
    world.create_ppa(world.other_focal)

    listed = world.client.get("/api/monitoring-entries", headers=world.technical_reviewer.headers).get_json()

    assert sorted(p["implementing_moa"] for p in listed) == ["MSSD", "MTIT"]


def test_focal_person_cannot_create_for_another_organization(world):
    world.org("MTIT")
    response = world.client.post("/api/monitoring-entries", json=ppa_body(implementing_moa="MTIT"),
                                 headers=world.focal.headers)

    assert response.status_code == 403


def test_reviewer_cannot_create_or_edit_ppas(world):
    ppa = world.create_ppa()

    created = world.client.post("/api/monitoring-entries", json=ppa_body(implementing_moa="MSSD"),
                                headers=world.budget_analyst.headers)
    edited = world.patch(f"/api/monitoring-entries/{ppa['id']}", world.budget_analyst, {"title": "x"})

    assert created.status_code == 403
    assert edited.status_code == 403


@pytest.mark.parametrize("field, value, message", [
    ("budget_allocation", "-1.00", "must not be negative"),
    ("budget_allocation", "10.005", "more than two decimal places"),
    ("budget_allocation", "1000000000000.00", "must not exceed 999,999,999,999.99"),
    ("budget_allocation", "five million", "is not an amount"),
    ("category", "ministry", "Must be one of"),
    ("fiscal_year", 1999, "greater than or equal to 2000"),
    ("start_date", "2025-02-30", "Not a valid date"),
    ("priority", "asap", "Must be one of"),
])
def test_invalid_field_is_422_with_a_per_field_message(world, field, value, message):
    response = world.client.post("/api/monitoring-entries", json=ppa_body(**{field: value}),
                                 headers=world.focal.headers)

    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    errors = response.get_json()["errors"]
    assert list(errors) == [field]
    assert message in " ".join(errors[field])


def test_missing_required_fields_are_all_reported(world):
    response = world.client.post("/api/monitoring-entries", json={}, headers=world.focal.headers)

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"title", "category", "fiscal_year", "budget_allocation"}


def test_unknown_field_is_rejected(world):
    response = world.client.post("/api/monitoring-entries", json=ppa_body(approval_status="approved"),
                                 headers=world.focal.headers)

    assert response.status_code == 422
    assert "approval_status" in response.get_json()["errors"]


def test_end_date_before_start_date_is_422(world):
    response = world.client.post("/api/monitoring-entries",
                                 json=ppa_body(start_date="2025-06-01", target_end_date="2025-01-31"),
                                 headers=world.focal.headers)

    assert response.status_code == 422
    assert "target_end_date" in response.get_json()["errors"]


def test_malformed_json_is_400_and_non_json_is_415(world):
    malformed = world.client.post("/api/monitoring-entries", data=b'{"title": ', content_type="application/json",
                                  headers=world.focal.headers)
    not_json = world.client.post("/api/monitoring-entries", data=b"title=x", content_type="text/plain",
                                 headers=world.focal.headers)
    not_utf8 = world.client.post("/api/monitoring-entries", data=b'{"title": "\xff"}',
                                 content_type="application/json", headers=world.focal.headers)

    assert malformed.status_code == 400
    assert not_json.status_code == 415
    assert not_utf8.status_code == 400


def test_patch_with_current_etag_changes_the_ppa_and_its_etag(world):
    ppa = world.create_ppa()
    read = world.client.get(f"/api/monitoring-entries/{ppa['id']}", headers=world.focal.headers)

    response = world.client.patch(f"/api/monitoring-entries/{ppa['id']}", json={"budget_allocation": "4500000.50"},
                                  headers=world.focal.headers | {"If-Match": read.headers["ETag"]})

    assert response.status_code == 200
    assert response.get_json()["budget_allocation"] == "4500000.50"
    assert response.headers["ETag"] != read.headers["ETag"]


def test_patch_with_stale_etag_is_412_and_changes_nothing(world):
    ppa = world.create_ppa()
    stale = world.client.get(f"/api/monitoring-entries/{ppa['id']}", headers=world.focal.headers).headers["ETag"]
    world.patch(f"/api/monitoring-entries/{ppa['id']}", world.focal, {"title": "First edit"})

    response = world.client.patch(f"/api/monitoring-entries/{ppa['id']}", json={"title": "Second edit"},
                                  headers=world.focal.headers | {"If-Match": stale})

    assert response.status_code == 412
    assert response.get_json()["code"] == "stale_version"
    assert world.get(ppa["id"], world.focal)["title"] == "First edit"


def test_content_cannot_change_after_submission_but_progress_can(world):
    ppa = world.create_ppa()
    world.advance(ppa["id"], "technical_review")

    budget = world.patch(f"/api/monitoring-entries/{ppa['id']}", world.focal, {"budget_allocation": "1.00"})
    progress = world.patch(f"/api/monitoring-entries/{ppa['id']}", world.focal, {"progress": 10})

    assert budget.status_code == 409
    assert budget.get_json()["code"] == "not_editable"
    assert progress.status_code == 200
    assert world.get(ppa["id"], world.focal)["budget_allocation"] == "5000000.00"


def test_list_filters_and_paginates(world):
    world.create_ppa(title="A", fiscal_year=2025)
    world.create_ppa(title="B", fiscal_year=2026)
    world.create_ppa(world.other_focal, title="C", fiscal_year=2026, category="moa_ppa")
    c = world.admin.headers

    fy2026 = world.client.get("/api/monitoring-entries?fiscal_year=2026", headers=c).get_json()
    mtit = world.client.get("/api/monitoring-entries?moa=MTIT", headers=c).get_json()
    category = world.client.get("/api/monitoring-entries?category=oobc_ppa", headers=c).get_json()
    page = world.client.get("/api/monitoring-entries?page=2&page_size=2", headers=c)

    assert sorted(p["title"] for p in fy2026) == ["B", "C"]
    assert [p["title"] for p in mtit] == ["C"]
    assert sorted(p["title"] for p in category) == ["A", "B"]
    assert [p["title"] for p in page.get_json()] == ["A"]
    assert json.loads(page.headers["X-Pagination"])["total"] == 3


def test_unknown_ppa_is_404_problem(world):
    response = world.client.get("/api/monitoring-entries/999999", headers=world.admin.headers)

    assert response.status_code == 404
    assert response.mimetype == PROBLEM


def test_me_reports_the_caller(world):
    body = world.client.get("/api/me", headers=world.focal.headers).get_json()

    assert body == {"id": world.focal.id, "username": "mssd.focal", "full_name": "mssd.focal",
                    "organization": "MSSD", "roles": ["moa_focal"]}


def test_rules_endpoint_reports_the_hash_in_force(app, world):
    from services.runtime import get_runtime

    body = world.client.get("/api/rules", headers=world.focal.headers).get_json()

    with app.app_context():
        assert body["hash"] == get_runtime().rules.hash
    assert [f["name"] for f in body["files"]] == ["roles.yaml", "workflows/approval.yaml",
                                                 "workflows/budget_proposal.yaml", "workflows/dv.yaml",
                                                 "workflows/need.yaml", "workflows/ors.yaml", "work_item_status.yaml",
                                                 "wbs_templates.yaml", "sync.yaml", "budget.yaml", "schedule.yaml",
                                                 "calendar/2025.yaml", "calendar/2026.yaml", "calendar/2027.yaml",
                                                 "validity.yaml", "fund_clusters.yaml", "uacs_object_codes.yaml",
                                                 "needs.yaml", "psgc_barmm.yaml", "goals.yaml", "scenarios.yaml",
                                                 "feedback.yaml"]
