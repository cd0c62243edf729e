"""Personal data of community needs (issue 15 item 7, docs/design.md §14;
Data Privacy Act of 2012, RA 10173): consent at submission, erasure on
request and the retention purge keep the counts and drop the links; the
public pages and API leak no personal data; and the full trail of a need,
from its raising to the PPA that paid for it, is public.

On both databases: a detached vote's NULL voter must pass the unique
constraint ``uq_need_votes_need_user`` on each of them.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select, text

from db import db
from db.audit import AuditEntry
from db.models import Need, NeedVote, User
from jobs.tasks import purge_personal_data
from tests.support import Chain, cli

BASILAN, LAMITAN = "1900700000", "1900702000"
RAISED = {"title": "Water system for Arco", "description": "Households fetch water 2 km away.",
          "category": "water_sanitation", "urgency": "high", "province_code": BASILAN,
          "municipality_code": LAMITAN, "population_affected": 1200, "estimated_cost": "2500000.00",
          "consent": True}

#: The people of the seeded data, each with a name, an e-mail and a phone number in their name field.
PEOPLE = {"arco.rep": ("Amina Hataman-Sali", "amina.sali@example.org"),
          "voter.one": ("Datu Ali Macapagal (0917 555 0142)", "ali.macapagal@example.org"),
          "voter.two": ("Norhaya Sinsuat", "norhaya.s@example.org")}


def _people(world):
    """The community representative and two voters, with names and e-mails (and MSSD's focal person)."""
    world.focal  # noqa: B018 - MSSD exists
    persons = {name: world.person(name, "community_representative") for name in PEOPLE}
    with world.app.app_context():
        for name, (full_name, email) in PEOPLE.items():
            user = db.session.get(User, persons[name].id)
            user.full_name, user.email = full_name, email
        db.session.commit()
    return persons


def _post(world, path, who, body=None, expect=201):
    response = world.client.post(path, json=body, headers=who.headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def _step(world, need_id, trigger, **extra):
    etag = world.client.get(f"/api/needs/{need_id}", headers=world.planning_officer.headers).headers["ETag"]
    response = world.client.post(f"/api/needs/{need_id}/transitions", json={"trigger": trigger, **extra},
                                 headers=world.planning_officer.headers | {"If-Match": etag})
    assert response.status_code == 200, response.get_json()


def _published_need(world, persons, **extra) -> int:
    """A need raised by arco.rep, validated, forwarded to MSSD, and voted for by all three."""
    need = _post(world, "/api/needs", persons["arco.rep"], RAISED | extra)["id"]
    _step(world, need, "validate")
    _step(world, need, "forward", organization="MSSD")
    for person in persons.values():
        _post(world, f"/api/needs/{need}/votes", person)
    return need


def _counts(world, need_id):
    with world.app.app_context():
        need = db.session.get(Need, need_id)
        rows = db.session.execute(select(func.count(), func.sum(NeedVote.weight)).where(
            NeedVote.need_id == need_id)).one()
        voters = set(db.session.scalars(select(NeedVote.user_id).where(NeedVote.need_id == need_id)))
        return (need.votes, need.vote_weight), (rows[0], rows[1] or 0), need.submitted_by_id, voters


# -- consent ------------------------------------------------------------------------------------


def test_a_need_without_consent_is_refused_by_name_and_nothing_is_recorded(world):
    persons = _people(world)
    missing = world.client.post("/api/needs", json={k: v for k, v in RAISED.items() if k != "consent"},
                                headers=persons["arco.rep"].headers)
    refused = world.client.post("/api/needs", json=RAISED | {"consent": False}, headers=persons["arco.rep"].headers)

    for response in (missing, refused):
        assert response.status_code == 422
        assert response.get_json()["errors"]["consent"] == ["consent is required to record personal data"]
    with world.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Need)) == 0


def test_a_need_records_when_its_submitter_consented_and_to_which_notice(world):
    persons = _people(world)
    body = _post(world, "/api/needs", persons["arco.rep"], RAISED)

    with world.app.app_context():
        version = world.app.extensions["ppaflow"].rules.needs.privacy.notice_version
    assert body["consent_at"] is not None and body["consent_at"].endswith("+00:00")
    assert body["privacy_notice_version"] == version == "2026-1"


# -- erasure on request ---------------------------------------------------------------------------


def test_erasing_a_person_detaches_their_needs_and_votes_keeps_the_counts_and_audits_it(world):
    persons = _people(world)
    need = _published_need(world, persons)
    other = _published_need(world, persons, title="Health station")
    before = _counts(world, need)

    result = cli(world.app, "privacy", "erase", "--user", "arco.rep", "--as", world.admin.username)

    assert result.exit_code == 0, result.output
    assert "needs: 2 detached" in result.output and "votes: 2 detached" in result.output
    for one in (need, other):
        counts, rows, submitter, voters = _counts(world, one)
        assert counts == rows == before[0] and submitter is None  # counts stay, the link is gone
        assert persons["arco.rep"].id not in voters and None in voters and len(voters) == 3
    with world.app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "personal_data"))
        assert (entry.action, entry.entity_id, entry.actor) == ("erase", persons["arco.rep"].id, "admin")
        assert json.loads(entry.new_value) == {"needs": 2, "votes": 2, "feedback": 0, "photos": 0,
                                               "focal_person_contacts": 0}
        assert not any(value in (entry.new_value or "") for value in (*PEOPLE["arco.rep"], "arco.rep"))
    # the others' votes and a second erasure still pass the one-vote rule (NULL voters are distinct)
    assert cli(world.app, "privacy", "erase", "--user", "voter.one", "--as", world.admin.username).exit_code == 0
    assert _counts(world, need)[0] == before[0]


def test_an_erasure_dry_run_counts_and_changes_nothing(world):
    persons = _people(world)
    need = _published_need(world, persons)
    before = _counts(world, need)

    result = cli(world.app, "privacy", "erase", "--user", "arco.rep", "--as", world.admin.username, "--dry-run")

    assert result.exit_code == 0 and "needs: 1 would be detached" in result.output and "nothing written" in result.output
    assert _counts(world, need) == before
    with world.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity == "personal_data")) == 0


def test_only_an_administrator_erases_and_an_unknown_person_is_named(world):
    persons = _people(world)
    _published_need(world, persons)

    refused = cli(world.app, "privacy", "erase", "--user", "arco.rep", "--as", world.planning_officer.username)
    unknown = cli(world.app, "privacy", "erase", "--user", "nobody", "--as", world.admin.username)

    assert refused.exit_code != 0 and "admin" in refused.output
    assert unknown.exit_code != 0 and "'nobody' not found" in unknown.output
    assert _counts(world, _published_need(world, persons, title="Other"))[2] == persons["arco.rep"].id


# -- the retention purge --------------------------------------------------------------------------


def test_the_purge_detaches_needs_and_votes_past_retention_only_and_keeps_the_counts(world):
    persons = _people(world)
    old, recent = _published_need(world, persons), _published_need(world, persons, title="Health station")
    with world.app.app_context(), db.engine.begin() as connection:  # raised and voted six years ago
        connection.execute(text("UPDATE needs SET submitted_on = '2019-01-10' WHERE id = :id"), {"id": old})
        connection.execute(text("UPDATE need_votes SET created_at = '2019-01-11 02:00:00+00:00' WHERE need_id = :id"),
                           {"id": old})
    before_old, before_recent = _counts(world, old), _counts(world, recent)

    dry = cli(world.app, "privacy", "purge", "--dry-run")
    assert dry.exit_code == 0 and "needs: 1 would be detached" in dry.output and "votes: 3 would be" in dry.output
    assert _counts(world, old) == before_old

    done = cli(world.app, "privacy", "purge")
    again = cli(world.app, "privacy", "purge")

    assert done.exit_code == 0 and "retention 5 years" in done.output
    assert "needs: 1 detached" in done.output and "votes: 3 detached" in done.output
    counts, rows, submitter, voters = _counts(world, old)
    assert counts == rows == before_old[0] and submitter is None and voters == {None}
    assert _counts(world, recent) == before_recent
    assert "needs: 0 detached" in again.output  # nightly: nothing left the second time
    with world.app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "personal_data")).all()
        assert [(e.action, e.actor) for e in entries] == [("purge", "operator")]


# -- the public pages ------------------------------------------------------------------------------


def _public_paths(world, needs: list[int], ppas: list[int]) -> list[str]:
    return ["/public/needs", "/api/public/needs", "/public/ppas", "/api/public/ppas",
            *[p for n in needs for p in (f"/public/needs/{n}", f"/api/public/needs/{n}")],
            *[p for n in ppas for p in (f"/public/ppas/{n}", f"/api/public/ppas/{n}")],
            "/public/needs?category=water_sanitation", "/api/public/needs?province_code=" + BASILAN]


def test_public_pages_leak_no_personal_data(world):
    persons = _people(world)
    chain = Chain(world)
    need = _published_need(world, persons)
    _post(world, f"/api/monitoring-entries/{chain.ppa}/needs", world.focal, {"need_id": need})
    second = _published_need(world, persons, title="Footbridge for Lamitan", category="infrastructure")
    with world.app.app_context():
        people = db.session.scalars(select(User)).all()
        personal = {v for u in people for v in (u.username, u.full_name, u.email) if v and len(v) > 3}
        personal |= {"0917 555 0142", "09175550142"}  # the phone-like value in a name
        personal |= {f'"submitted_by_id": {u.id}' for u in people} | {f'"user_id": {u.id}' for u in people}
    pages = {path: world.client.get(path) for path in _public_paths(world, [need, second], [chain.ppa])}

    assert {path: r.status_code for path, r in pages.items()} == dict.fromkeys(pages, 200)
    texts = {path: r.get_data(as_text=True) for path, r in pages.items()}
    assert len(personal) > len(PEOPLE) * 3
    assert [(value, path) for value in personal for path, t in texts.items() if value in t] == []
    for path, t in texts.items():  # and each shows the privacy notice
        assert ("Privacy notice" in t) if not path.startswith("/api") else ('"privacy_notice"' in t), path


# -- the full trail --------------------------------------------------------------------------------


def test_the_full_trail_a_need_raised_voted_validated_forwarded_addressed_funded_tracked_and_paid_is_public(world):
    persons = _people(world)
    need = _published_need(world, persons)  # raised, validated, forwarded to MSSD, three votes
    chain = Chain(world)  # an MSSD PPA approved (enacted) in an enacted appropriation
    _post(world, f"/api/monitoring-entries/{chain.ppa}/needs", world.focal, {"need_id": need})
    allotment = chain.allot("1000000.00")
    obligation = chain.obligate(allotment["id"], "400000.00")
    chain.disburse(obligation["id"], "250000.00")
    leaf = world.tree(chain.ppa)["breakdown"][0]
    while leaf["children"]:
        leaf = leaf["children"][0]
    completed = world.client.post(f"/api/work-items/{leaf['work_item_id']}/transitions",
                                  json={"trigger": "complete"}, headers=world.focal.headers)
    assert completed.status_code == 200, completed.get_json()
    progress = world.get(chain.ppa, world.focal)["progress"]

    public_need = world.client.get(f"/api/public/needs/{need}").get_json()
    public_ppa = world.client.get(f"/api/public/ppas/{chain.ppa}").get_json()
    need_page = world.client.get(f"/public/needs/{need}").get_data(as_text=True)
    ppa_page = world.client.get(f"/public/ppas/{chain.ppa}").get_data(as_text=True)

    assert (public_need["status"], public_need["votes"], public_need["moa"]) == ("addressed", 3, "MSSD")
    assert public_need["budget_included_on"] is not None
    assert public_need["ppas"] == [{"id": chain.ppa, "title": public_ppa["title"]}]
    assert (public_ppa["budget"], public_ppa["obligated"], public_ppa["disbursed"]) == (
        "5000000.00", "400000.00", "250000.00")
    assert progress > 0 and public_ppa["progress"] == progress
    assert public_ppa["needs"] == [{"id": need, "title": RAISED["title"]}]
    assert public_ppa["title"] in need_page and "Addressed" in need_page
    assert all(figure in ppa_page for figure in ("5,000,000.00", "400,000.00", "250,000.00", f"{progress}%"))
    assert RAISED["title"] in ppa_page and f"/public/needs/{need}" in ppa_page


def test_the_nightly_job_purges_what_the_command_would(world):
    with world.app.app_context():
        done = purge_personal_data(today="2025-06-30")

    assert done["before"] == "2020-06-30" and set(done) >= {"needs", "votes"}
