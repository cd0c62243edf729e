"""Administration over HTTP (issue 10): organizations and users, for
administrators; canonical usernames and look-alikes; passwords that never
come back. Who may call what is in test_access_matrix.py."""

from __future__ import annotations

import json

import pytest

from db import db
from db.models import Organization, User
from services import users


def post(world, path, body, who=None):
    return world.client.post(path, json=body, headers=(who or world.admin).headers)


def patch(world, path, body, etag, who=None):
    return world.client.patch(path, json=body, headers=(who or world.admin).headers | {"If-Match": etag})


def get(world, path, who=None):
    return world.client.get(path, headers=(who or world.admin).headers)


def test_an_administrator_adds_an_organization_and_finds_it(world):
    created = post(world, "/api/organizations",
                   {"code": "MOLE", "name": "Ministry of Labor and Employment", "uacs_code": "400010300001"})
    read = get(world, created.headers["Location"])
    listing = get(world, "/api/organizations?page_size=50")

    assert created.status_code == 201, created.get_json()
    assert created.get_json() | {"id": 0, "created_at": ""} == {
        "id": 0, "code": "MOLE", "name": "Ministry of Labor and Employment", "uacs_code": "400010300001",
        "department": "", "agency": "", "operating_unit": "", "budget_officer": {"name": "", "position": ""},
        "chief_accountant": {"name": "", "position": ""}, "head_of_agency": {"name": "", "position": ""},
        "created_at": ""}
    assert read.status_code == 200 and read.headers["ETag"] == created.headers["ETag"]
    assert "MOLE" in [o["code"] for o in listing.get_json()]
    assert json.loads(listing.headers["X-Pagination"])["total"] >= 1


@pytest.mark.parametrize("body, status, where", [
    ({"code": "mssd", "name": "Same code, other case"}, 409, "organization_exists"),
    ({"code": "NEWMOA", "name": "Same UACS code", "uacs_code": "400010300001"}, 409, "organization_exists"),
    ({"code": "NEWMOA", "name": "Short UACS", "uacs_code": "4000103"}, 422, "uacs_code"),
    ({"code": "NEW MOA", "name": "A blank in the code"}, 422, "code"),
    ({"code": "NEWMOA", "name": ""}, 422, "name"),
])
def test_a_taken_or_malformed_organization_is_refused_and_nothing_is_added(world, body, status, where):
    world.org("MSSD")
    post(world, "/api/organizations", {"code": "MOLE", "name": "Labor", "uacs_code": "400010300001"})

    refused = post(world, "/api/organizations", body)

    assert refused.status_code == status and refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["code"] == where if status == 409 else where in problem["errors"]
    with world.app.app_context():
        assert db.session.query(Organization).count() == 2


def test_a_user_created_with_a_password_never_gets_it_back(world):
    world.org("MSSD")
    secret = "correct horse battery staple"

    created = post(world, "/api/users", {"username": "Amina.Sampaco", "full_name": "Amina Sampaco",
                                         "roles": ["moa_focal"], "organization": "MSSD", "password": secret})
    body = created.get_json()
    read = get(world, created.headers["Location"])
    listing = get(world, "/api/users?organization=MSSD")

    assert created.status_code == 201, body
    assert (body["username"], body["organization"], body["roles"], body["active"], body["has_password"]) == (
        "amina.sampaco", "MSSD", ["moa_focal"], True, True)
    for text in (created.get_data(as_text=True), read.get_data(as_text=True), listing.get_data(as_text=True)):
        assert secret not in text and "argon2" not in text and "password_hash" not in text
    with world.app.app_context():
        user = users.get_user("AMINA.SAMPACO")
        assert user.password_hash.startswith("$argon2id$")
        assert users.verify_password(user, secret) and not users.verify_password(user, "wrong " + secret)


def test_a_moa_focal_without_an_organization_is_refused_at_creation(world):
    refused = post(world, "/api/users", {"username": "drifter", "roles": ["moa_focal"]})

    assert refused.status_code == 422
    assert "organization" in refused.get_json()["errors"]["roles"][0]
    with world.app.app_context():
        assert users.get_user("drifter") is None


@pytest.mark.parametrize("taken", ["mssd.focal", "MSSD.Focal", "ｍｓｓｄ.ｆｏｃａｌ", "mssd.fo\u00adcal"])
def test_a_username_is_one_name_in_any_case_or_width(world, taken):
    world.focal  # noqa: B018  (creates mssd.focal)

    refused = post(world, "/api/users", {"username": taken, "roles": ["executive"]})

    assert refused.status_code == 409 and refused.get_json()["code"] == "user_exists"


@pytest.mark.parametrize("look_alike", [
    "\u0430dmin",  # CYRILLIC SMALL LETTER A
    "adrnin",      # r n for m
    "\u0251dmin",  # LATIN SMALL LETTER ALPHA
])
def test_a_look_alike_of_an_existing_name_is_refused(world, look_alike):
    world.admin  # noqa: B018  (creates admin)

    refused = post(world, "/api/users", {"username": look_alike, "roles": ["executive"]})

    assert refused.status_code == 409
    assert refused.get_json()["code"] == "username_confusable" and "'admin'" in refused.get_json()["detail"]


def test_a_different_name_is_not_a_look_alike(world):
    world.admin  # noqa: B018

    created = post(world, "/api/users", {"username": "admin2", "roles": ["executive"]})

    assert created.status_code == 201


def test_an_administrator_changes_roles_and_organization_with_if_match(world):
    world.org("MOH")
    focal = world.focal
    read = get(world, f"/api/users/{focal.id}")

    changed = patch(world, f"/api/users/{focal.id}", {"roles": ["moa_focal", "technical_reviewer"],
                                                      "organization": "MOH"}, read.headers["ETag"])
    stale = patch(world, f"/api/users/{focal.id}", {"full_name": "Too late"}, read.headers["ETag"])
    me = world.client.get("/api/me", headers=focal.headers).get_json()

    assert changed.status_code == 200, changed.get_json()
    assert changed.headers["ETag"] != read.headers["ETag"]
    assert (changed.get_json()["roles"], changed.get_json()["organization"]) == (
        ["moa_focal", "technical_reviewer"], "MOH")
    assert stale.status_code == 412
    assert (me["roles"], me["organization"]) == (["moa_focal", "technical_reviewer"], "MOH")


def test_taking_the_organization_of_a_moa_focal_is_refused(world):
    focal = world.focal
    etag = get(world, f"/api/users/{focal.id}").headers["ETag"]

    refused = patch(world, f"/api/users/{focal.id}", {"organization": None}, etag)

    assert refused.status_code == 422 and "organization" in refused.get_json()["errors"]
    assert get(world, f"/api/users/{focal.id}").get_json()["organization"] == "MSSD"


def test_a_deactivated_user_is_refused_and_can_be_reactivated(world):
    focal = world.focal
    etag = get(world, f"/api/users/{focal.id}").headers["ETag"]

    off = patch(world, f"/api/users/{focal.id}", {"active": False}, etag)
    refused = world.client.get("/api/me", headers=focal.headers)
    on = patch(world, f"/api/users/{focal.id}", {"active": True}, off.headers["ETag"])

    assert off.status_code == 200 and off.get_json()["active"] is False
    assert refused.status_code == 401
    assert on.status_code == 200 and world.client.get("/api/me", headers=focal.headers).status_code == 200


def test_the_last_active_administrator_cannot_be_deactivated_or_demoted(world):
    admin = world.admin
    etag = get(world, f"/api/users/{admin.id}").headers["ETag"]

    deactivate = patch(world, f"/api/users/{admin.id}", {"active": False}, etag)
    demote = patch(world, f"/api/users/{admin.id}", {"roles": ["executive"]}, etag)

    assert (deactivate.status_code, deactivate.get_json()["code"]) == (409, "last_administrator")
    assert (demote.status_code, demote.get_json()["code"]) == (409, "last_administrator")
    assert world.client.get("/api/me", headers=admin.headers).get_json()["roles"] == ["admin"]


def test_an_administrator_resets_a_password(world):
    focal = world.focal
    etag = get(world, f"/api/users/{focal.id}").headers["ETag"]

    short = patch(world, f"/api/users/{focal.id}", {"password": "short"}, etag)
    reset = patch(world, f"/api/users/{focal.id}", {"password": "a long enough passphrase"}, etag)

    assert short.status_code == 422 and "password" in short.get_json()["errors"]
    assert reset.status_code == 200 and reset.get_json()["has_password"] is True
    with world.app.app_context():
        assert users.verify_password(users.get_user("mssd.focal"), "a long enough passphrase")


def test_user_lists_are_paginated_and_filtered_literally(world):
    world.focal, world.other_focal, world.technical_reviewer  # noqa: B018
    world.person("under_score", "executive")

    focal_page = get(world, "/api/users?role=moa_focal&page_size=1")
    wildcard = get(world, "/api/users?q=_")
    inactive = get(world, "/api/users?active=false")

    assert [u["username"] for u in focal_page.get_json()] == ["mssd.focal"]
    assert json.loads(focal_page.headers["X-Pagination"])["total"] == 2
    assert [u["username"] for u in wildcard.get_json()] == ["under_score"]  # '_' is no wildcard
    assert inactive.get_json() == []


def test_unknown_fields_and_hashes_cannot_be_sent(world):
    refused = post(world, "/api/users", {"username": "sneaky", "roles": ["executive"],
                                         "password_hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"})

    assert refused.status_code == 422 and "password_hash" in refused.get_json()["errors"]
    with world.app.app_context():
        assert db.session.query(User).filter_by(username="sneaky").count() == 0


# -- the FAR No. 1 header block and signatories of an organization (issue 13) --------------------------------

HEADER = {"department": "Bangsamoro Autonomous Region in Muslim Mindanao",
          "agency": "Ministry of Social Services and Development", "operating_unit": "Central Office",
          "uacs_code": "400010100001",
          "budget_officer": {"name": "JUANA CRUZ", "position": "Budget Officer IV"},
          "chief_accountant": {"name": "PEDRO SANTOS", "position": "Chief Accountant"},
          "head_of_agency": {"name": "AMINA SAMPACO", "position": "Minister"}}


def organization_path(world, code="MSSD") -> str:
    world.org(code)
    with world.app.app_context():
        return f"/api/organizations/{users.get_organization(code).id}"


def test_an_administrator_sets_the_header_block_and_signatories_and_the_change_is_audited(world):
    path = organization_path(world)
    before = get(world, path)

    changed = patch(world, path, HEADER, before.headers["ETag"])
    read = get(world, path, who=world.budget_analyst)  # MFBM's analysts read them
    audit = get(world, f"/api/audit?entity=organization&id={read.get_json()['id']}&page_size=100").get_json()

    assert changed.status_code == 200, changed.get_json()
    assert changed.headers["ETag"] != before.headers["ETag"]
    assert read.status_code == 200 and read.get_json() | HEADER == read.get_json()
    assert {(e["field"], e["new_value"]) for e in audit if e["action"] == "update"} >= {
        ("budget_officer_name", '"JUANA CRUZ"'), ("head_of_agency_position", '"Minister"'),
        ("uacs_code", '"400010100001"')}
    assert {e["actor"] for e in audit if e["action"] == "update"} == {"admin"}


@pytest.mark.parametrize("body, field", [
    ({"uacs_code": "40001010"}, "uacs_code"),
    ({"uacs_code": "4000101000AB"}, "uacs_code"),
    ({"budget_officer": {"name": "JUANA CRUZ", "position": ""}}, "budget_officer.position"),
    ({"head_of_agency": {"name": "", "position": "Minister"}}, "head_of_agency.name"),
    ({"chief_accountant": {"name": "PEDRO"}}, "chief_accountant.position"),
    ({"department": "x" * 201}, "department"),
    ({"agency": "Ministry\u202eevil"}, "agency"),
])
def test_a_bad_header_field_is_refused_per_field_and_nothing_changes(world, body, field):
    path = organization_path(world)
    etag = get(world, path).headers["ETag"]

    refused = patch(world, path, {"operating_unit": "Central Office", **body}, etag)

    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert field in refused.get_json()["errors"], refused.get_json()
    assert get(world, path).get_json()["operating_unit"] == ""


def test_only_an_administrator_sets_the_header_a_stale_etag_is_refused_and_a_taken_uacs_code_conflicts(world):
    path = organization_path(world)
    post(world, "/api/organizations", {"code": "MOLE", "name": "Labor", "uacs_code": "400010300001"})
    etag = get(world, path).headers["ETag"]

    by_focal = patch(world, path, {"agency": "Mine"}, etag, who=world.focal)
    by_analyst = patch(world, path, {"agency": "Mine"}, etag, who=world.budget_analyst)
    focal_reads = get(world, path, who=world.focal)
    first = patch(world, path, {"agency": "MSSD"}, etag)
    stale = patch(world, path, {"agency": "Overwritten"}, etag)
    taken = patch(world, path, {"uacs_code": "400010300001"}, first.headers["ETag"])

    assert [by_focal.status_code, by_analyst.status_code, focal_reads.status_code] == [403, 403, 403]
    assert first.status_code == 200 and stale.status_code == 412
    assert (taken.status_code, taken.get_json()["code"]) == (409, "organization_exists")
    assert get(world, path).get_json()["agency"] == "MSSD"


def test_hostile_signatory_text_comes_back_as_it_was_written(world):
    path = organization_path(world)
    hostile = {"name": "<script>alert(1)</script>", "position": "=cmd|' /C calc'!A0"}

    changed = patch(world, path, {"budget_officer": hostile}, get(world, path).headers["ETag"])

    assert changed.status_code == 200 and changed.get_json()["budget_officer"] == hostile
