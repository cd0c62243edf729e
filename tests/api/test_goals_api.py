"""Strategic goals, policies, planning cycles, alignment and the public PPA
page (issue 15 items 4-5, docs/design.md §16): BPDA's planners keep the
development plan's goals; PPAs and policies serve goals; a goal's progress
follows its PPAs' (budget-weighted by goals.yaml); the alignment check and
matrix show the gaps; an enacted PPA's money and progress are public, with
no personal data.

Access control and the arithmetic do not depend on the database: one
backend, one world built for the module, each test's writes rolled back.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import ExifTags, Image
from sqlalchemy import text

from db import db
from db.models import User
from services.goals import combine_progress
from tests.conftest import ONE_BACKEND, _dispose, _make_app
from tests.support import Chain, World, rolled_back

GOAL = {"title": "Universal access to safe water", "description": "BDP 2023-2028 goal 4", "target_year": 2028,
        "lead_agency": "MSSD", "indicators": [{"name": "households with safe water", "unit": "percent",
                                               "baseline": "61.5", "target": "90"}]}


def _set_progress(world: World, ppa_id: int, progress: int) -> None:
    """Physical progress as tracking would report it (behind the services' back)."""
    with world.app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE ppas SET progress = :p WHERE id = :id"), {"p": progress, "id": ppa_id})


@pytest.fixture(scope="module")
def built(request, tmp_path_factory):
    """An enacted MSSD PPA (PHP 5,000,000, 60 % done) with PHP 50,000
    obligated and PHP 100 disbursed, a draft MSSD PPA (PHP 1,000,000, 0 %),
    an MTIT draft PPA, and one goal."""
    request.param = ONE_BACKEND
    application = _make_app(ONE_BACKEND, request, tmp_path_factory.mktemp("goals"))
    world = World(application)
    world.focal, world.other_focal, world.planning_officer  # noqa: B018
    chain = Chain(world)
    allotment = chain.allot("100000.00")
    obligation = chain.obligate(allotment["id"], "50000.00")
    chain.disburse(obligation["id"], "100.00")
    _set_progress(world, chain.ppa, 60)
    draft = world.create_ppa(title="Spring development", budget_allocation="1000000.00")["id"]
    other = world.create_ppa(world.other_focal, title="MTIT market", implementing_moa="MTIT")["id"]
    response = world.client.post("/api/strategic-goals", json=GOAL, headers=world.planning_officer.headers)
    assert response.status_code == 201, response.get_json()
    yield world, {"enacted": chain.ppa, "draft": draft, "other": other, "goal": response.get_json()["id"]}
    _dispose(application)


@pytest.fixture
def w(built):
    world, names = built
    with rolled_back(world.app):
        yield world, names


def _link(world, goal, ppa, who):
    return world.client.post(f"/api/strategic-goals/{goal}/ppas", json={"ppa_id": ppa}, headers=who.headers)


def test_a_planning_officer_creates_a_goal_with_its_indicators_and_lead_agency_and_a_moa_may_not(w):
    world, names = w
    body = world.client.get(f"/api/strategic-goals/{names['goal']}", headers=world.focal.headers).get_json()

    assert (body["status"], body["lead_agency"], body["target_year"]) == ("planned", "MSSD", 2028)
    assert body["indicators"] == [{"name": "households with safe water", "unit": "percent", "baseline": "61.5",
                                   "target": "90"}]
    assert (body["ppas"], body["budget"], body["progress"]) == (0, "0.00", None)
    assert world.client.post("/api/strategic-goals", json=GOAL, headers=world.focal.headers).status_code == 403


def test_a_goal_with_an_unknown_status_or_lead_agency_is_refused_field_by_field(w):
    world, _ = w
    response = world.client.post("/api/strategic-goals", json=GOAL | {"status": "dreaming", "lead_agency": "NOPE"},
                                 headers=world.planning_officer.headers)

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"status", "lead_agency"}


def test_a_goal_changes_only_with_the_etag_last_read(w):
    world, names = w
    path = f"/api/strategic-goals/{names['goal']}"
    etag = world.client.get(path, headers=world.planning_officer.headers).headers["ETag"]
    first = world.client.patch(path, json={"status": "on_track"}, headers=world.planning_officer.headers
                               | {"If-Match": etag})
    stale = world.client.patch(path, json={"status": "at_risk"}, headers=world.planning_officer.headers
                               | {"If-Match": etag})

    assert (first.status_code, first.get_json()["status"]) == (200, "on_track")
    assert stale.status_code == 412


def test_goal_progress_weighs_each_linked_ppa_by_its_budget(w):
    world, names = w
    assert _link(world, names["goal"], names["enacted"], world.planning_officer).status_code == 201
    assert _link(world, names["goal"], names["draft"], world.focal).status_code == 201  # the PPA's own MOA
    again = _link(world, names["goal"], names["draft"], world.planning_officer)

    body = world.client.get(f"/api/strategic-goals/{names['goal']}", headers=world.focal.headers).get_json()
    # (5,000,000 x 60 + 1,000,000 x 0) / 6,000,000 = 50 %, where the plain average would say 30 %
    assert (body["ppas"], body["budget"], body["progress"], body["progress_method"]) == (
        2, "6000000.00", 50.0, "budget_weighted")
    assert (again.status_code, again.get_json()["code"]) == (409, "already_linked")


def test_another_moas_focal_person_may_not_link_a_ppa_they_cannot_see(w):
    world, names = w
    assert _link(world, names["goal"], names["enacted"], world.other_focal).status_code == 404


def test_progress_methods_of_goals_yaml():
    rows = [(Decimal("5000000.00"), 60), (Decimal("1000000.00"), 0)]
    assert combine_progress(rows, "budget_weighted") == Decimal("50.00")
    assert combine_progress(rows, "average") == Decimal("30.00")
    assert combine_progress([(Decimal(0), 40), (Decimal(0), 10)], "budget_weighted") == Decimal("25.00")
    assert combine_progress([], "average") is None


def test_the_alignment_check_lists_goals_without_ppas_and_ppas_serving_no_goal(w):
    world, names = w
    before = world.client.get("/api/alignment", headers=world.planning_officer.headers).get_json()
    _link(world, names["goal"], names["enacted"], world.planning_officer)
    after = world.client.get("/api/alignment?fiscal_year=2025", headers=world.planning_officer.headers).get_json()

    assert [g["id"] for g in before["goals_without_ppas"]] == [names["goal"]]
    assert {names["enacted"], names["draft"], names["other"]} <= {p["id"] for p in before["ppas_without_goals"]}
    assert after["goals_without_ppas"] == []
    assert names["enacted"] not in {p["id"] for p in after["ppas_without_goals"]}
    mine = world.client.get("/api/alignment", headers=world.other_focal.headers).get_json()["ppas_without_goals"]
    assert {p["organization"] for p in mine} == {"MTIT"}


def test_the_alignment_matrix_gives_budget_and_progress_per_moa_and_goal(w):
    world, names = w
    _link(world, names["goal"], names["enacted"], world.planning_officer)
    _link(world, names["goal"], names["draft"], world.planning_officer)
    _link(world, names["goal"], names["other"], world.planning_officer)

    cells = world.client.get("/api/alignment/matrix", headers=world.planning_officer.headers).get_json()

    assert [(c["moa"], c["goal_id"], c["ppas"], c["budget"], c["progress"]) for c in cells] == [
        ("MSSD", names["goal"], 2, "6000000.00", 50.0), ("MTIT", names["goal"], 1, "5000000.00", 0.0)]
    theirs = world.client.get("/api/alignment/matrix", headers=world.other_focal.headers).get_json()
    assert [c["moa"] for c in theirs] == ["MTIT"]


def test_a_policy_keeps_its_milestones_and_the_goals_it_serves(w):
    world, names = w
    planner = world.planning_officer.headers
    response = world.client.post("/api/policies", json={
        "title": "Water governance act", "status": "adopted", "goal_ids": [names["goal"]],
        "milestones": [{"title": "Implementing rules issued", "due_on": "2026-06-30"}]}, headers=planner)
    unknown = world.client.post("/api/policies", json={"title": "X", "goal_ids": [999999]}, headers=planner)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["goal_ids"], body["milestones"]) == ([names["goal"]], [
        {"title": "Implementing rules issued", "due_on": "2026-06-30", "done_on": None}])
    changed = world.client.patch(f"/api/policies/{body['id']}", json={"goal_ids": []},
                                 headers=planner | {"If-Match": response.headers["ETag"]})
    assert changed.get_json()["goal_ids"] == []
    assert changed.headers["ETag"] != response.headers["ETag"]  # a change of goals alone is a new version
    stale = world.client.patch(f"/api/policies/{body['id']}", json={"goal_ids": [names["goal"]]},
                               headers=planner | {"If-Match": response.headers["ETag"]})
    assert stale.status_code == 412
    assert (unknown.status_code, list(unknown.get_json()["errors"])) == (422, ["goal_ids"])


def test_one_planning_cycle_per_fiscal_year_and_budget_approval_not_before_planning(w):
    world, _ = w
    planner = world.planning_officer.headers
    cycle = {"fiscal_year": 2027, "planning_starts_on": "2026-01-15", "budget_approved_on": "2026-12-15"}
    first = world.client.post("/api/planning-cycles", json=cycle, headers=planner)
    second = world.client.post("/api/planning-cycles", json=cycle, headers=planner)
    backwards = world.client.post("/api/planning-cycles", json=cycle | {
        "fiscal_year": 2028, "budget_approved_on": "2025-12-31"}, headers=planner)

    assert first.status_code == 201 and first.get_json()["budget_approved_on"] == "2026-12-15"
    assert (second.status_code, second.get_json()["code"]) == (409, "cycle_exists")
    assert (backwards.status_code, list(backwards.get_json()["errors"])) == (422, ["budget_approved_on"])


def test_an_enacted_ppas_money_progress_and_goals_are_public_and_a_draft_is_not(w):
    world, names = w
    _link(world, names["goal"], names["enacted"], world.planning_officer)
    body = world.client.get(f"/api/public/ppas/{names['enacted']}").get_json()

    assert (body["budget"], body["obligated"], body["disbursed"], body["progress"]) == (
        "5000000.00", "50000.00", "100.00", 60)
    assert body["goals"] == [{"id": names["goal"], "title": GOAL["title"]}] and body["needs"] == []
    with world.app.app_context():
        listed = set(world.app.extensions["ppaflow"].rules.goals.public_fields)
    # only what goals.yaml lists, and the privacy notice (needs.yaml)
    assert {name for name, value in body.items() if value is not None} <= {"id", "privacy_notice"} | listed
    assert {"budget", "obligated", "disbursed", "progress", "goals"} <= listed
    assert world.client.get(f"/api/public/ppas/{names['draft']}").status_code == 404
    assert [p["id"] for p in world.client.get("/api/public/ppas").get_json()] == [names["enacted"]]


def test_the_public_ppa_pages_show_no_personal_data(w):
    world, names = w
    with world.app.app_context():
        user = db.session.get(User, world.focal.id)
        user.full_name, user.email = "Bai Norhaya Mangudadatu", "norhaya.m@example.org"
        db.session.commit()
        people = db.session.query(User).all()
        personal = {value for u in people for value in (u.username, u.full_name, u.email) if value}
    pages = [world.client.get(path) for path in (
        "/api/public/ppas", f"/api/public/ppas/{names['enacted']}", "/public/ppas", f"/public/ppas/{names['enacted']}")]

    assert [p.status_code for p in pages] == [200] * 4
    assert "PHP" in pages[3].get_data(as_text=True) or "5,000,000.00" in pages[3].get_data(as_text=True)
    texts = [p.get_data(as_text=True) for p in pages]
    assert personal and not [(value, i) for value in personal for i, t in enumerate(texts) if value in t]


def test_a_moa_sees_a_goals_figures_and_gaps_from_the_ppas_it_may_see_only(w):
    world, names = w
    assert _link(world, names["goal"], names["other"], world.planning_officer).status_code == 201  # MTIT's draft

    reviewer = world.client.get(f"/api/strategic-goals/{names['goal']}", headers=world.planning_officer.headers)
    mssd = world.client.get(f"/api/strategic-goals/{names['goal']}", headers=world.focal.headers)
    gaps = world.client.get("/api/alignment", headers=world.focal.headers).get_json()

    assert reviewer.get_json()["ppas"] == 1 and reviewer.get_json()["budget"] != "0.00"
    assert (mssd.get_json()["ppas"], mssd.get_json()["budget"], mssd.get_json()["progress"]) == (0, "0.00", None)
    assert names["goal"] in [g["id"] for g in gaps["goals_without_ppas"]]  # MSSD serves it with none of its own


def _jpeg_with_gps() -> bytes:
    image, exif = Image.new("RGB", (30, 20), "green"), Image.Exif()
    exif[ExifTags.Base.GPSInfo] = {ExifTags.GPS.GPSLatitude: (6.0, 41.0, 0.0), ExifTags.GPS.GPSLatitudeRef: "N"}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_the_moa_adds_completion_photos_anyone_sees_them_without_gps_and_a_draft_takes_none(w):
    world, names = w

    def upload(ppa, who, content=None):
        return world.client.post(f"/api/monitoring-entries/{ppa}/completion-photos", headers=who.headers,
                                 data={"file": (io.BytesIO(content or _jpeg_with_gps()), "done.jpg")},
                                 content_type="multipart/form-data")

    added = upload(names["enacted"], world.focal)
    assert added.status_code == 201, added.get_json()
    body = world.client.get(f"/api/public/ppas/{names['enacted']}").get_json()
    photo = added.get_json()["id"]
    assert body["photos"] == [{"id": photo, "file_name": f"ppa-{names['enacted']}-photo-{photo}.jpg"}]
    served = world.client.get(added.headers["Location"])  # no token
    assert served.status_code == 200 and served.mimetype == "image/jpeg" and b"Exif" not in served.data
    assert "done.jpg" not in served.headers["Content-Disposition"]  # not the uploader's own file name
    page = world.client.get(f"/public/ppas/{names['enacted']}").get_data(as_text=True)
    assert f'src="/api/public/ppas/{names["enacted"]}/photos/{added.get_json()["id"]}"' in page

    assert upload(names["enacted"], world.other_focal).status_code == 404  # another MOA's PPA
    assert upload(names["enacted"], world.planning_officer).status_code == 403
    assert upload(names["draft"], world.focal).status_code == 404  # not public: no completion photos
    assert upload(names["enacted"], world.focal, b"%PDF-1.4 not a photo").status_code == 422
    removed = world.client.delete(f"/api/monitoring-entries/{names['enacted']}/completion-photos/"
                                  f"{added.get_json()['id']}", headers=world.focal.headers)
    assert removed.status_code == 204 and world.client.get(added.headers["Location"]).status_code == 404
    again = world.client.delete(f"/api/monitoring-entries/{names['enacted']}/completion-photos/"
                                f"{added.get_json()['id']}", headers=world.focal.headers)
    assert again.status_code == 204  # idempotent
