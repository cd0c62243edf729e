"""Community needs and participatory voting (issue 15 items 1-2, docs/design.md
§14): a need raised by a community is validated, forwarded to a MOA and
addressed by one of its PPAs; one vote per user per need, kept by the
database; top priorities per area and category; the public list shows no
personal data.

Access control and the workflow do not depend on the database: one backend,
one world built for the module, each test's writes rolled back. The
one-vote rule under concurrency is PostgreSQL's (its own test, ``pg_app``).
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from db import db
from db.models import Ppa, User
from tests.conftest import ONE_BACKEND, _dispose, _make_app
from tests.support import World, rolled_back

LAMITAN, BASILAN, ARCO = "1900702000", "1900700000", "1900702001"
RAISED = {"title": "Water system for Arco", "description": "Households fetch water 2 km away.",
          "category": "water_sanitation", "urgency": "high", "province_code": BASILAN,
          "municipality_code": LAMITAN, "barangay_code": ARCO, "population_affected": 1200,
          "estimated_cost": "2500000.50", "consent": True}


def _community(world: World, name: str = "arco.rep", *, stakeholder_type: str | None = None):
    person = world.person(name, "community_representative")
    if stakeholder_type:
        with world.app.app_context():
            db.session.get(User, person.id).stakeholder_type = stakeholder_type
            db.session.commit()
    return person


def _post(world, path, who, json=None, headers=None):
    return world.client.post(path, json=json, headers=who.headers | (headers or {}))


def _fire(world, need_id, trigger, who, **extra):
    etag = world.client.get(f"/api/needs/{need_id}", headers=who.headers).headers["ETag"]
    return _post(world, f"/api/needs/{need_id}/transitions", who, {"trigger": trigger, **extra}, {"If-Match": etag})


@pytest.fixture(scope="module", params=[ONE_BACKEND])
def built(request, tmp_path_factory):
    """A need submitted and one published (validated and forwarded to MSSD)
    by a community representative with a full name and an e-mail."""
    application = _make_app(ONE_BACKEND, request, tmp_path_factory.mktemp("needs"))
    world = World(application)
    world.focal, world.other_focal  # noqa: B018  (MSSD and MTIT exist)
    rep = _community(world, stakeholder_type="community_leader")
    with application.app_context():
        user = db.session.get(User, rep.id)
        user.full_name, user.email = "Amina Hataman-Sali", "amina.sali@example.org"
        db.session.commit()
    submitted = _post(world, "/api/needs", rep, RAISED).get_json()["id"]
    published = _post(world, "/api/needs", rep, RAISED | {"title": "Health station"}).get_json()["id"]
    assert _fire(world, published, "validate", world.planning_officer).status_code == 200
    assert _fire(world, published, "forward", world.planning_officer, organization="MSSD").status_code == 200
    yield world, {"submitted": submitted, "published": published, "rep": rep}
    _dispose(application)


@pytest.fixture
def w(built):
    world, names = built
    with rolled_back(world.app):
        yield world, names


def test_a_raised_need_keeps_its_place_cost_and_submitter_and_starts_submitted(w):
    world, names = w
    body = world.client.get(f"/api/needs/{names['submitted']}", headers=world.planning_officer.headers).get_json()

    assert body["status"] == "submitted"
    assert (body["estimated_cost"], body["population_affected"]) == ("2500000.50", 1200)
    assert (body["province_code"], body["municipality_code"], body["submitted_by_id"]) == (
        BASILAN, LAMITAN, names["rep"].id)
    assert body["submission_type"] == "community_submission"


def test_title_description_category_and_urgency_are_required_each_by_name(w):
    world, names = w
    response = _post(world, "/api/needs", names["rep"], {"province_code": BASILAN})

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) >= {"title", "description", "category", "urgency"}


def test_an_unknown_category_a_place_outside_barmm_and_a_town_of_another_province_are_refused(w):
    world, names = w
    response = _post(world, "/api/needs", names["rep"], RAISED | {
        "category": "spaceports", "province_code": "1906600000", "municipality_code": "1903601000"})

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) >= {"category", "province_code", "municipality_code"}
    assert "1906600000" in errors["province_code"][0]  # Sulu: not in BARMM since 2024


def test_declining_needs_a_comment_and_a_declined_need_takes_no_votes(w):
    world, names = w
    need = names["submitted"]
    assert _fire(world, need, "decline", world.planning_officer).status_code == 422
    assert _fire(world, need, "decline", world.planning_officer, comment="Already funded by the LGU").status_code == 200

    response = _post(world, f"/api/needs/{need}/votes", world.focal)
    assert (response.status_code, response.get_json()["code"]) == (409, "not_published")


def test_a_community_representative_may_not_validate_a_need(w):
    world, names = w
    assert _fire(world, names["submitted"], "validate", names["rep"]).status_code == 403


def test_one_vote_per_user_with_the_weight_of_their_stakeholder_type(w):
    world, names = w
    need = names["published"]
    first = _post(world, f"/api/needs/{need}/votes", names["rep"])
    second = _post(world, f"/api/needs/{need}/votes", names["rep"])
    _post(world, f"/api/needs/{need}/votes", world.focal)

    assert first.status_code == 201 and first.get_json()["weight"] == 2  # community_leader in needs.yaml
    assert (second.status_code, second.get_json()["code"]) == (409, "already_voted")
    body = world.client.get(f"/api/needs/{need}", headers=world.focal.headers).get_json()
    assert (body["votes"], body["vote_weight"]) == (2, 3)


def test_a_withdrawn_vote_leaves_the_count_and_the_voters_history(w):
    world, names = w
    need = names["published"]
    _post(world, f"/api/needs/{need}/votes", world.focal)
    assert world.client.get("/api/me/votes", headers=world.focal.headers).get_json()[0]["need_id"] == need

    assert world.client.delete(f"/api/needs/{need}/votes", headers=world.focal.headers).status_code == 204
    assert world.client.delete(f"/api/needs/{need}/votes", headers=world.focal.headers).status_code == 404
    assert world.client.get(f"/api/needs/{need}", headers=world.focal.headers).get_json()["votes"] == 0
    assert world.client.get("/api/me/votes", headers=world.focal.headers).get_json() == []


def test_top_priorities_rank_published_needs_by_votes_per_province_and_category(w):
    world, names = w
    other = _post(world, "/api/needs", names["rep"], RAISED | {"title": "Second well"}).get_json()["id"]
    _fire(world, other, "validate", world.planning_officer)
    for voter in (world.focal, world.budget_analyst):
        _post(world, f"/api/needs/{other}/votes", voter)
    _post(world, f"/api/needs/{names['published']}/votes", world.focal)

    groups = world.client.get("/api/needs/priorities?province_code=" + BASILAN,
                              headers=world.focal.headers).get_json()

    assert [(g["province"], g["category"]) for g in groups] == [("Basilan", "water_sanitation")]
    assert [(n["id"], n["votes"]) for n in groups[0]["needs"]] == [(other, 2), (names["published"], 1)]


def test_a_need_forwarded_to_one_moa_is_hidden_from_another_moas_focal_person(w):
    world, names = w
    assert world.client.get(f"/api/needs/{names['published']}", headers=world.other_focal.headers).status_code == 404
    listed = world.client.get("/api/needs", headers=world.other_focal.headers).get_json()
    assert names["published"] not in [n["id"] for n in listed]


def test_a_ppa_of_the_moa_addresses_the_need_and_dates_its_budget_inclusion(w):
    world, names = w
    ppa = world.create_ppa()["id"]
    response = _post(world, f"/api/monitoring-entries/{ppa}/needs", world.focal, {"need_id": names["published"]})

    assert response.status_code == 201
    assert response.get_json()["status"] == "addressed" and response.get_json()["budget_included_on"]
    addressed = world.client.get(f"/api/monitoring-entries/{ppa}/needs", headers=world.focal.headers).get_json()
    assert [n["id"] for n in addressed] == [names["published"]]
    while_draft = world.client.get(f"/api/public/needs/{names['published']}").get_json()
    assert while_draft["ppas"] == []  # a draft PPA is not public
    with world.app.app_context():  # enacted behind the services' back (the route there is not this test's subject)
        db.session.execute(update(Ppa).where(Ppa.id == ppa).values(approval_status="enacted"))
        db.session.commit()
    public = world.client.get(f"/api/public/needs/{names['published']}").get_json()
    assert [p["id"] for p in public["ppas"]] == [ppa]


def test_another_moas_ppa_cannot_claim_the_need(w):
    world, names = w
    ppa = world.create_ppa(world.other_focal, implementing_moa="MTIT")["id"]
    response = _post(world, f"/api/monitoring-entries/{ppa}/needs", world.other_focal, {"need_id": names["published"]})
    assert response.status_code in (404, 409)


def test_the_public_list_needs_no_account_shows_published_needs_only_and_no_personal_data(w):
    world, names = w
    _post(world, f"/api/needs/{names['published']}/votes", names["rep"])
    listed = world.client.get("/api/public/needs")
    one = world.client.get(f"/api/public/needs/{names['published']}")
    page = world.client.get("/public/needs")
    need_page = world.client.get(f"/public/needs/{names['published']}")

    assert [n["id"] for n in listed.get_json()] == [names["published"]]
    assert world.client.get(f"/api/public/needs/{names['submitted']}").status_code == 404
    assert page.status_code == need_page.status_code == 200 and b"Health station" in page.data
    with world.app.app_context():
        people = db.session.query(User).all()
        personal = {value for user in people for value in (user.username, user.full_name, user.email) if value}
    texts = [listed.get_data(as_text=True), one.get_data(as_text=True), page.get_data(as_text=True),
             need_page.get_data(as_text=True)]
    assert personal and not [(value, i) for value in personal for i, text in enumerate(texts) if value in text]
    assert "submitted_by" not in one.get_json() and "user_id" not in listed.get_data(as_text=True)


def test_the_moa_a_need_was_forwarded_to_hears_once_when_its_votes_reach_a_milestone(w):
    world, names = w
    need = names["published"]  # forwarded to MSSD
    voters = [_community(world, f"voter{i}") for i in range(10)]  # needs.yaml vote_milestones starts at 10

    def milestones():
        rows = world.client.get("/api/notifications", headers=world.focal.headers).get_json()
        return [row["subject"] for row in rows if row["kind"] == "need_vote_milestone"]

    for voter in voters[:9]:
        assert _post(world, f"/api/needs/{need}/votes", voter).status_code == 201
    assert milestones() == []
    assert _post(world, f"/api/needs/{need}/votes", voters[9]).status_code == 201
    assert milestones() == [f"[ppaflow] Need {need} reached 10 votes"]

    assert world.client.delete(f"/api/needs/{need}/votes", headers=voters[9].headers).status_code == 204
    assert _post(world, f"/api/needs/{need}/votes", voters[9]).status_code == 201
    assert milestones() == [f"[ppaflow] Need {need} reached 10 votes"]  # once, however often it is crossed
    assert not any(row["kind"] == "need_vote_milestone" for row in world.client.get(
        "/api/notifications", headers=world.other_focal.headers).get_json())  # MTIT is not told


def test_a_need_not_yet_forwarded_notifies_no_moa_at_its_milestone(w):
    world, names = w
    need = _post(world, "/api/needs", world.focal, RAISED | {"title": "MSSD's own"}).get_json()["id"]  # MSSD's
    assert _fire(world, need, "validate", world.planning_officer).status_code == 200  # published, not forwarded
    for i in range(10):
        assert _post(world, f"/api/needs/{need}/votes", _community(world, f"early{i}")).status_code == 201

    rows = world.client.get("/api/notifications", headers=world.focal.headers).get_json()
    assert not [row for row in rows if row["kind"] == "need_vote_milestone"]
