"""A MOA's focal persons and quarterly coordination meetings (issue 15 item
6, docs/design.md §16 "Focal persons and coordination meetings"): BPDA's
planners keep the registry (one current primary per MOA, the database
decides), contacts reach only those who may see the MOA, and a meeting's
pre-meeting report carries the MOA's own figures as of the quarter's end.

One backend, one world built for the module, each test's writes rolled back.
"""

from __future__ import annotations

import json
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from db import db
from db.models import FocalPerson
from services import privacy, users
from tests.conftest import ONE_BACKEND, _dispose, _make_app
from tests.support import Chain, World, rolled_back

PRIMARY = {"kind": "primary", "name": "Bai Norhaya Mangudadatu", "position": "Planning Officer III",
           "email": "norhaya.m@example.org", "phone": "+63 917 555 0101", "appointed_on": "2025-01-06"}


@pytest.fixture(scope="module")
def built(request, tmp_path_factory):
    """An enacted MSSD PPA (PHP 5,000,000) with PHP 100,000 allotted in Q1,
    PHP 50,000 obligated on 10 March, PHP 100 disbursed on 15 April and PHP
    2,000 more obligated on 15 July 2025; a need forwarded to MSSD; an MTIT
    PPA of the same year; a current primary focal person of MSSD."""
    application = _make_app(ONE_BACKEND, request, tmp_path_factory.mktemp("coordination"))
    world = World(application)
    world.focal, world.other_focal, world.planning_officer, world.admin  # noqa: B018
    chain = Chain(world)
    allotment = chain.allot("100000.00")
    obligation = chain.obligate(allotment["id"], "50000.00")
    chain.disburse(obligation["id"], "100.00")
    chain.obligate(allotment["id"], "2000.00", day="2025-07-15")
    other = world.create_ppa(world.other_focal, title="MTIT market", implementing_moa="MTIT")["id"]
    need = world.client.post("/api/needs", json={"title": "Health station", "description": "No clinic within 10 km",
                                                 "category": "health", "urgency": "high", "consent": True},
                             headers=world.focal.headers).get_json()["id"]
    for step, extra in (("validate", {}), ("forward", {"organization": "MSSD"})):
        world.client.post(f"/api/needs/{need}/transitions", json={"trigger": step, **extra},
                          headers=world.planning_officer.headers)
    mssd = world.focal_organization = _organization_id(world, "MSSD")
    primary = world.client.post(f"/api/organizations/{mssd}/focal-persons", json=PRIMARY,
                                headers=world.planning_officer.headers)
    assert primary.status_code == 201, primary.get_json()
    yield world, {"ppa": chain.ppa, "other": other, "mssd": mssd, "mtit": _organization_id(world, "MTIT"),
                  "primary": primary.get_json()["id"]}
    _dispose(application)


def _organization_id(world: World, code: str) -> int:
    with world.app.app_context():
        return users.get_organization(code).id


@pytest.fixture
def w(built):
    world, names = built
    with rolled_back(world.app):
        yield world, names


def _meeting(world, **body):
    return world.client.post("/api/coordination-meetings", json={"fiscal_year": 2025, "quarter": 1,
                                                                  "held_on": "2025-04-10"} | body,
                             headers=world.planning_officer.headers)


# -- focal persons ------------------------------------------------------------------------


def test_the_mssd_focal_person_reads_their_moas_focal_persons_with_contacts(w):
    world, names = w
    listed = world.client.get(f"/api/organizations/{names['mssd']}/focal-persons", headers=world.focal.headers)

    assert listed.status_code == 200
    assert [(p["kind"], p["name"], p["email"], p["phone"], p["current"]) for p in listed.get_json()] == [
        ("primary", PRIMARY["name"], PRIMARY["email"], PRIMARY["phone"], True)]


def test_another_moas_focal_person_gets_404_for_mssds_focal_persons(w):
    world, names = w
    assert world.client.get(f"/api/organizations/{names['mssd']}/focal-persons",
                            headers=world.other_focal.headers).status_code == 404
    assert world.client.get(f"/api/focal-persons/{names['primary']}",
                            headers=world.other_focal.headers).status_code == 404


def test_a_moas_focal_person_may_read_but_not_appoint(w):
    world, names = w
    response = world.client.post(f"/api/organizations/{names['mssd']}/focal-persons",
                                 json=PRIMARY | {"kind": "alternate"}, headers=world.focal.headers)
    assert response.status_code == 403


def test_a_second_current_primary_is_refused_with_primary_exists_and_nothing_changes(w):
    world, names = w
    path = f"/api/organizations/{names['mssd']}/focal-persons"
    second = world.client.post(path, json=PRIMARY | {"name": "Datu Ali"}, headers=world.planning_officer.headers)

    assert (second.status_code, second.get_json()["code"]) == (409, "primary_exists")
    assert second.get_json()["title"] == "MOA already has a current primary focal person"
    assert len(world.client.get(path, headers=world.admin.headers).get_json()) == 1


def test_ending_the_primarys_appointment_lets_a_new_primary_be_appointed(w):
    world, names = w
    one = f"/api/focal-persons/{names['primary']}"
    etag = world.client.get(one, headers=world.planning_officer.headers).headers["ETag"]
    ended = world.client.patch(one, json={"ended_on": "2025-06-30"},
                               headers=world.planning_officer.headers | {"If-Match": etag})
    stale = world.client.patch(one, json={"position": "Director"},
                               headers=world.planning_officer.headers | {"If-Match": etag})
    new = world.client.post(f"/api/organizations/{names['mssd']}/focal-persons",
                            json=PRIMARY | {"name": "Datu Ali", "appointed_on": "2025-07-01"},
                            headers=world.planning_officer.headers)
    current = world.client.get(f"/api/organizations/{names['mssd']}/focal-persons?current=true",
                               headers=world.focal.headers).get_json()

    assert (ended.status_code, ended.get_json()["current"]) == (200, False)
    assert stale.status_code == 412
    assert new.status_code == 201, new.get_json()
    assert [p["name"] for p in current] == ["Datu Ali"]


@pytest.mark.parametrize("field, value", [
    ("kind", "deputy"), ("name", ""), ("email", "not-an-address"), ("phone", "call me"),
    ("appointed_on", "2025-02-30"), ("user_id", 999999), ("ended_on", "2024-12-31"),
])
def test_a_focal_person_with_a_bad_field_is_refused_naming_that_field(w, field, value):
    world, names = w
    response = world.client.post(f"/api/organizations/{names['mssd']}/focal-persons",
                                 json=PRIMARY | {"kind": "alternate", field: value},
                                 headers=world.planning_officer.headers)

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]


def test_a_focal_persons_user_must_be_of_their_moa(w):
    world, names = w
    response = world.client.post(f"/api/organizations/{names['mssd']}/focal-persons",
                                 json=PRIMARY | {"kind": "technical", "user_id": world.other_focal.id},
                                 headers=world.planning_officer.headers)
    linked = world.client.post(f"/api/organizations/{names['mssd']}/focal-persons",
                               json=PRIMARY | {"kind": "technical", "user_id": world.focal.id},
                               headers=world.planning_officer.headers)

    assert (response.status_code, list(response.get_json()["errors"])) == (422, ["user_id"])
    assert (linked.status_code, linked.get_json()["user_id"]) == (201, world.focal.id)


def test_a_missing_required_field_is_named(w):
    world, names = w
    response = world.client.post(f"/api/organizations/{names['mssd']}/focal-persons", json={"kind": "alternate"},
                                 headers=world.planning_officer.headers)
    assert (response.status_code, set(response.get_json()["errors"])) == (422, {"name", "appointed_on"})


# -- coordination meetings ----------------------------------------------------------------


def test_a_meetings_report_is_due_seven_days_before_it_unless_it_says_otherwise(w):
    world, _ = w
    default = _meeting(world)
    explicit = _meeting(world, quarter=2, held_on="2025-07-10", report_due_on="2025-07-01", organization="MSSD")
    late = _meeting(world, report_due_on="2025-04-11")

    assert default.status_code == 201, default.get_json()
    assert (default.get_json()["report_due_on"], default.get_json()["organization"]) == ("2025-04-03", None)
    assert (explicit.get_json()["report_due_on"], explicit.get_json()["organization"]) == ("2025-07-01", "MSSD")
    assert (late.status_code, list(late.get_json()["errors"])) == (422, ["report_due_on"])


@pytest.mark.parametrize("field, value", [("quarter", 5), ("fiscal_year", 1999), ("held_on", "soon"),
                                          ("organization", "NOPE")])
def test_a_meeting_with_a_bad_field_is_refused_naming_it(w, field, value):
    world, _ = w
    response = _meeting(world, **{field: value})
    assert (response.status_code, list(response.get_json()["errors"])) == (422, [field])


def test_moving_a_meeting_moves_its_report_due_date_and_needs_the_etag(w):
    world, _ = w
    created = _meeting(world)
    path = f"/api/coordination-meetings/{created.get_json()['id']}"
    moved = world.client.patch(path, json={"held_on": "2025-04-20"},
                               headers=world.planning_officer.headers | {"If-Match": created.headers["ETag"]})
    stale = world.client.patch(path, json={"agenda": "x"},
                               headers=world.planning_officer.headers | {"If-Match": created.headers["ETag"]})

    assert (moved.status_code, moved.get_json()["report_due_on"]) == (200, "2025-04-13")
    assert stale.status_code == 412


def test_a_moas_meeting_is_404_to_another_moas_focal_person(w):
    world, _ = w
    meeting = _meeting(world, organization="MSSD").get_json()["id"]
    everyone = _meeting(world).get_json()["id"]

    assert world.client.get(f"/api/coordination-meetings/{meeting}", headers=world.other_focal.headers).status_code == 404
    assert world.client.get(f"/api/coordination-meetings/{meeting}/pre-meeting-report",
                            headers=world.other_focal.headers).status_code == 404
    assert [m["id"] for m in world.client.get("/api/coordination-meetings",
                                              headers=world.other_focal.headers).get_json()] == [everyone]


def _report(world, quarter, who=None):
    meeting = _meeting(world, organization="MSSD", quarter=quarter, held_on="2025-12-20").get_json()["id"]
    response = world.client.get(f"/api/coordination-meetings/{meeting}/pre-meeting-report",
                                headers=(who or world.planning_officer).headers)
    assert response.status_code == 200, response.get_json()
    return meeting, response.get_json()


@pytest.mark.parametrize("quarter, obligated, disbursed", [(1, "50000.00", "0.00"), (2, "50000.00", "100.00"),
                                                          (3, "52000.00", "100.00"), (4, "52000.00", "100.00")])
def test_the_pre_meeting_report_counts_the_money_posted_by_the_quarters_end(w, quarter, obligated, disbursed):
    world, names = w
    _, report = _report(world, quarter)
    (moa,) = report["moas"]
    (ppa,) = [p for p in moa["ppas"] if p["id"] == names["ppa"]]

    assert report["as_of"] == {1: "2025-03-31", 2: "2025-06-30", 3: "2025-09-30", 4: "2025-12-31"}[quarter]
    assert (ppa["budget"], ppa["allotted"], ppa["obligated"], ppa["disbursed"]) == (
        "5000000.00", "100000.00", obligated, disbursed)
    assert (ppa["approval_status"], ppa["progress"]) == ("enacted", 0)
    assert moa["totals"]["obligated"] == obligated and moa["moa"] == "MSSD"


def test_the_pre_meeting_report_counts_the_moas_needs_and_open_alerts(w):
    world, _ = w
    _, report = _report(world, 2)
    (moa,) = report["moas"]
    alerts = world.client.get("/api/alerts?status=open&moa=MSSD", headers=world.planning_officer.headers)

    assert (moa["needs_forwarded"], moa["needs_addressed"]) == (1, 0)
    assert moa["open_alerts"] == json.loads(alerts.headers["X-Pagination"])["total"]


def test_an_all_moa_meetings_report_shows_each_moa_and_a_focal_person_only_their_own(w):
    world, _ = w
    meeting = _meeting(world).get_json()["id"]
    path = f"/api/coordination-meetings/{meeting}/pre-meeting-report"
    planner = world.client.get(path, headers=world.planning_officer.headers).get_json()
    theirs = world.client.get(path, headers=world.other_focal.headers).get_json()

    assert [m["moa"] for m in planner["moas"]] == ["MSSD", "MTIT"]
    assert [m["moa"] for m in theirs["moas"]] == ["MTIT"]


def test_the_pre_meeting_report_workbook_holds_the_same_figures(w):
    world, names = w
    meeting, _ = _report(world, 2)
    response = world.client.get(f"/api/coordination-meetings/{meeting}/pre-meeting-report.xlsx",
                                headers=world.focal.headers)

    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    (ppa,) = [r for r in rows if r[1] == names["ppa"]]
    assert [Decimal(str(v)) for v in ppa[7:11]] == [Decimal(5000000), Decimal(100000), Decimal(50000),
                                                    Decimal(100)]


def test_erasing_a_person_blanks_their_contacts_in_the_registry_but_keeps_the_appointment(w):
    world, names = w
    with world.app.app_context():
        person = db.session.get(FocalPerson, names["primary"])
        person.user_id = users.get_user(world.focal.username).id
        db.session.commit()
        outcome = privacy.erase(users.get_user(world.admin.username), world.focal.username)
        db.session.expire_all()
        person = db.session.get(FocalPerson, names["primary"])

    assert outcome.counts["focal_person_contacts"] == 1
    assert (person.email, person.phone, person.user_id) == ("", "", None) and person.name and person.appointed_on
