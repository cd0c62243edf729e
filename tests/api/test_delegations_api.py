"""Delegation with an expiry (issue 14 item 7, issue 12 item 3; docs/design.md §6):
a reviewer on leave lends their role to a colleague, the colleague's steps
record the delegator, expiry and revocation end it, and separation of duties
still holds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from db import db
from tests.support import World, cli

LEAVE = "on leave until 14 June"


def later(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def delegate(world: World, by, to: str, role: str, expect: int = 201, **body):
    for person in ("focal", "technical_reviewer", "budget_analyst", "planning_officer", "executive", "admin"):
        getattr(world, person)  # the cast of docs/design.md §3 exists
    response = world.client.post("/api/delegations", json={"role": role, "delegate": to, "expires_at": later(days=5),
                                                           "reason": LEAVE} | body, headers=by.headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def end_behind_the_services_back(world: World, delegation_id: int) -> None:
    """Let the delegation's expiry pass (its times set back, as the clock would)."""
    with world.app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE delegations SET starts_at = :start, expires_at = :end WHERE id = :id"), {
            "start": datetime.now(UTC) - timedelta(days=6), "end": datetime.now(UTC) - timedelta(minutes=1),
            "id": delegation_id})


def in_technical_review(world: World) -> int:
    ppa = world.create_ppa()["id"]
    assert world.fire(ppa, "submit", world.focal).status_code == 200
    return ppa


def test_a_reviewer_on_leave_delegates_and_the_colleague_approves_as_recorded(world):
    ppa = in_technical_review(world)
    lent = delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer")

    actions = world.client.get(f"/api/monitoring-entries/{ppa}/actions", headers=world.planning_officer.headers)
    approved = world.fire(ppa, "approve", world.planning_officer)
    history = world.client.get(f"/api/monitoring-entries/{ppa}/history", headers=world.focal.headers).get_json()

    approve = {a["trigger"]: a for a in actions.get_json()["actions"]}["approve"]
    assert (approve["open"], approve["acting_for"]) == (True, "bpda.reviewer")
    assert lent["state"] == "active" and lent["delegator"] == "bpda.reviewer" and lent["organization"] is None
    assert approved.status_code == 200 and approved.get_json()["approval_status"] == "budget_review"
    assert [(h["trigger"], h["actor"], h["role"], h["delegated_by"]) for h in history] == [
        ("submit", "mssd.focal", "moa_focal", None),
        ("approve", "bpda.planner", "technical_reviewer", "bpda.reviewer")]
    assert [h["signed"] for h in history] == ["signed by mssd.focal as moa_focal",
                                              "signed by bpda.planner for bpda.reviewer (delegation)"]


def test_after_its_expiry_a_delegation_is_refused_and_says_so(world):
    ppa = in_technical_review(world)
    lent = delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer")
    end_behind_the_services_back(world, lent["id"])

    refused = world.fire(ppa, "approve", world.planning_officer)
    listed = world.client.get("/api/delegations?active=false", headers=world.planning_officer.headers).get_json()

    assert refused.status_code == 403 and refused.get_json()["code"] == "role_missing"
    assert "your delegation of technical_reviewer from bpda.reviewer expired at" in refused.get_json()["detail"]
    assert [(d["id"], d["state"]) for d in listed] == [(lent["id"], "expired")]
    assert world.get(ppa, world.focal)["approval_status"] == "technical_review"


def test_after_revocation_the_colleague_may_no_longer_act(world):
    ppa = in_technical_review(world)
    lent = delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer")

    by_delegate = world.client.post(f"/api/delegations/{lent['id']}/revoke", headers=world.planning_officer.headers)
    by_stranger = world.client.post(f"/api/delegations/{lent['id']}/revoke", headers=world.executive.headers)
    revoked = world.client.post(f"/api/delegations/{lent['id']}/revoke", headers=world.technical_reviewer.headers)
    again = world.client.post(f"/api/delegations/{lent['id']}/revoke", headers=world.admin.headers)
    refused = world.fire(ppa, "approve", world.planning_officer)

    assert (by_delegate.status_code, by_stranger.status_code) == (403, 404)
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    assert revoked.get_json()["revoked_by"] == "bpda.reviewer"
    assert again.status_code == 409 and again.get_json()["code"] == "delegation_ended"
    assert refused.status_code == 403 and "was revoked at" in refused.get_json()["detail"]


def test_separation_of_duties_holds_through_a_delegation(world):
    ppa = in_technical_review(world)
    # The focal person who submitted is lent the reviewer's role: still the submitter.
    delegate(world, world.technical_reviewer, "mssd.focal", "technical_reviewer")
    # The reviewer is lent the analyst's role: still the approver of technical review.
    delegate(world, world.budget_analyst, "bpda.reviewer", "budget_analyst")

    own_ppa = world.fire(ppa, "approve", world.focal)
    reviewed = world.fire(ppa, "approve", world.technical_reviewer)
    second_stage = world.fire(ppa, "approve", world.technical_reviewer)

    assert own_ppa.status_code == 403 and own_ppa.get_json()["code"] == "separation_of_duties"
    assert "you submitted this PPA, so you cannot approve it" in own_ppa.get_json()["detail"]
    assert reviewed.status_code == 200
    assert second_stage.status_code == 403 and second_stage.get_json()["code"] == "separation_of_duties"
    assert "you already approved the technical_review stage" in second_stage.get_json()["detail"]
    assert world.get(ppa, world.focal)["approval_status"] == "budget_review"


def test_the_analyst_whose_delegate_approved_a_stage_cannot_approve_another(world):
    ppa = in_technical_review(world)
    delegate(world, world.technical_reviewer, "mfbm.analyst", "technical_reviewer")
    lent = delegate(world, world.budget_analyst, "bpda.planner", "budget_analyst")

    assert world.fire(ppa, "approve", world.budget_analyst).status_code == 200  # for the reviewer
    for_analyst = world.fire(ppa, "approve", world.planning_officer)  # for the analyst, who approved already

    assert for_analyst.status_code == 403 and for_analyst.get_json()["code"] == "separation_of_duties"
    assert "counts for the delegator too" in for_analyst.get_json()["detail"]
    assert lent["role"] == "budget_analyst"


def test_what_can_be_delegated_and_to_whom(world):
    world.focal, world.technical_reviewer, world.planning_officer  # noqa: B018 - they exist
    world.person("mssd.colleague", "planning_officer", org="MSSD")

    not_held = delegate(world, world.planning_officer, "bpda.reviewer", "budget_analyst", expect=403)
    admin_role = delegate(world, world.admin, "bpda.reviewer", "admin", expect=422)
    other_org = delegate(world, world.focal, "bpda.planner", "moa_focal", expect=422)
    same_org = delegate(world, world.focal, "mssd.colleague", "moa_focal")
    to_oneself = delegate(world, world.technical_reviewer, "bpda.reviewer", "technical_reviewer", expect=422)
    past = delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer", expect=422,
                    expires_at=later(days=-1))
    naive = delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer", expect=422,
                     expires_at="2099-01-01T00:00:00")
    blank = delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer", expect=422,
                     reason="\u200b ")
    for_someone_else = delegate(world, world.planning_officer, "bpda.planner", "technical_reviewer", expect=403,
                                delegator="bpda.reviewer")
    first = delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer")
    overlapping = delegate(world, world.admin, "bpda.planner", "technical_reviewer", expect=409,
                           delegator="bpda.reviewer", starts_at=later(days=2), expires_at=later(days=9))
    after_it = delegate(world, world.admin, "bpda.planner", "technical_reviewer", delegator="bpda.reviewer",
                        starts_at=later(days=6), expires_at=later(days=9))

    assert not_held["code"] == "role_missing"
    assert admin_role["errors"] == {"role": ["admin is a superuser role and cannot be delegated"]}
    assert other_org["errors"] == {"delegate": ["moa_focal counts only within MSSD; delegate it to a colleague of MSSD"]}
    assert (same_org["organization"], same_org["state"]) == ("MSSD", "active")
    assert list(to_oneself["errors"]) == ["delegate"] and list(past["errors"]) == ["expires_at"]
    assert list(naive["errors"]) == ["expires_at"] and list(blank["errors"]) == ["reason"]
    assert for_someone_else["code"] == "forbidden"
    assert overlapping["code"] == "delegation_overlaps" and overlapping["delegation_id"] == first["id"]
    assert (after_it["delegator"], after_it["state"]) == ("bpda.reviewer", "scheduled")


def test_a_scheduled_delegation_does_not_count_yet(world):
    ppa = in_technical_review(world)
    delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer", starts_at=later(days=1))

    refused = world.fire(ppa, "approve", world.planning_officer)

    assert refused.status_code == 403 and "from bpda.reviewer starts at" in refused.get_json()["detail"]


def test_a_delegation_stops_counting_when_its_delegator_loses_the_role(world):
    ppa = in_technical_review(world)
    delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer")
    user = world.client.get(f"/api/users/{world.technical_reviewer.id}", headers=world.admin.headers)
    world.client.patch(f"/api/users/{world.technical_reviewer.id}", json={"roles": ["executive"]},
                       headers=world.admin.headers | {"If-Match": user.headers["ETag"]})

    refused = world.fire(ppa, "approve", world.planning_officer)

    assert refused.status_code == 403
    assert "does not count: bpda.reviewer no longer holds technical_reviewer" in refused.get_json()["detail"]


def test_each_user_sees_the_delegations_they_gave_or_received(world):
    given = delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer")
    other = delegate(world, world.budget_analyst, "ocm.executive", "budget_analyst")

    def ids(who, query=""):
        return [d["id"] for d in world.client.get(f"/api/delegations{query}", headers=who.headers).get_json()]

    assert ids(world.technical_reviewer) == ids(world.planning_officer) == [given["id"]]
    assert ids(world.focal) == []
    assert ids(world.admin) == [other["id"], given["id"]]
    assert ids(world.admin, "?user=ocm.executive") == [other["id"]]
    assert ids(world.admin, "?role=technical_reviewer&active=true") == [given["id"]]
    read = world.client.get(f"/api/delegations/{given['id']}", headers=world.focal.headers)
    assert read.status_code == 404


def test_the_command_line_adds_lists_and_revokes_delegations(app, world):
    ppa = in_technical_review(world)
    world.technical_reviewer, world.planning_officer  # noqa: B018 - the reviewer and the colleague exist

    added = cli(app, "delegation", "add", "technical_reviewer", "--from", "bpda.reviewer", "--to", "bpda.planner",
                "--until", (datetime.now(UTC) + timedelta(days=3)).date().isoformat(), "--reason", LEAVE)
    listed = cli(app, "delegation", "list", "--active")
    approved = world.fire(ppa, "approve", world.planning_officer)
    delegation_id = added.output.split()[1].rstrip(":")
    revoked = cli(app, "delegation", "revoke", delegation_id)
    again = cli(app, "delegation", "revoke", delegation_id)

    assert added.exit_code == 0, added.output
    assert added.output.startswith(f"delegation {delegation_id}: bpda.reviewer lends technical_reviewer to "
                                   "bpda.planner from ")
    assert "bpda.reviewer" in listed.output and "active" in listed.output and LEAVE in listed.output
    assert approved.status_code == 200
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert again.exit_code == 1 and "delegation_ended" in again.output


def test_a_revocation_committing_while_a_step_is_signed_under_it_is_never_missed(pg_app, pg_world):
    """On PostgreSQL: the step waits for the revoking transaction's row lock
    and then sees the delegation revoked (it never signs under a delegation
    that was revoked before it committed)."""
    world = pg_world
    ppa = in_technical_review(world)
    lent = delegate(world, world.technical_reviewer, "bpda.planner", "technical_reviewer")
    result: dict = {}
    with pg_app.app_context():
        revoking = db.engine.connect()
        transaction = revoking.begin()
        revoking.execute(text("UPDATE delegations SET revoked_at = now() WHERE id = :id"), {"id": lent["id"]})
        signing = threading.Thread(target=lambda: result.update(
            response=pg_app.test_client().post(f"/api/monitoring-entries/{ppa}/transitions",
                                               json={"trigger": "approve"}, headers=world.planning_officer.headers)))
        signing.start()
        signing.join(timeout=1)
        waited = signing.is_alive()
        transaction.commit()
        revoking.close()
    signing.join(timeout=30)

    assert waited, "the step did not wait for the revocation's lock"
    assert result["response"].status_code == 403, result["response"].get_json()
    assert "was revoked at" in result["response"].get_json()["detail"]
    assert world.get(ppa, world.focal)["approval_status"] == "technical_review"
