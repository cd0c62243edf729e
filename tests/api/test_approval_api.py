"""The approval workflow over HTTP (docs/design.md §3, §5): every transition of the
rules by the right and a wrong role, separation of duties, required
comments, history, actions, and the error statuses."""

from __future__ import annotations

import pytest

from tests.support import shipped_rules

RULES = shipped_rules()
TRANSITIONS = [(t.trigger, t.source, t.dest, t.roles, t.comment_required)
               for t in RULES.approval.machine.transitions]
ROLE_PEOPLE = {
    "moa_focal": "focal", "technical_reviewer": "technical_reviewer", "budget_analyst": "budget_analyst",
    "planning_officer": "planning_officer", "executive": "executive", "mpw_engineer": "mpw_engineer",
    "gad_endorser": "gad_endorser", "plan_certifier": "plan_certifier",
}
#: PPA fields that take the default rules' conditional routes to a stage (and through it).
ROUTE_TO = {
    "mpw_endorsement": {"sector": "infrastructure"},
    "bwc_endorsement": {"sector": "gad"},
    "inter_agency_consultation": {"budget_allocation": "75000000.00"},
    "bpda_certification": {"budget_allocation": "75000000.00"},
}


def _wrong_person(world, allowed_roles):
    """Someone who can see every PPA but holds none of ``allowed_roles``."""
    for role in ("executive", "planning_officer", "budget_analyst", "technical_reviewer"):
        if role not in allowed_roles:
            return getattr(world, ROLE_PEOPLE[role])
    raise AssertionError("no wrong role available")


@pytest.mark.parametrize("trigger, source, dest, roles, comment_required", TRANSITIONS,
                         ids=[f"{t[0]}-from-{t[1]}" for t in TRANSITIONS])
def test_each_transition_fires_for_its_role_and_is_refused_to_others(world, trigger, source, dest, roles,
                                                                     comment_required):
    ppa = world.create_ppa(**ROUTE_TO.get(source, ROUTE_TO.get(dest, {})))
    world.advance(ppa["id"], source)
    comment = "Reason given by the reviewer." if comment_required else None
    wrong = _wrong_person(world, roles)
    sign_off = RULES.approval.machine.states[source].sign_off
    signers = world.signers_for(source) if sign_off is not None and trigger == sign_off.trigger else [
        getattr(world, ROLE_PEOPLE[roles[0]])]

    refused = world.fire(ppa["id"], trigger, wrong, comment)
    fired = [world.fire(ppa["id"], trigger, signer, comment) for signer in signers]

    assert refused.status_code == 403
    assert refused.get_json()["code"] == "role_missing"
    assert [f.status_code for f in fired] == [200] * len(signers), fired[-1].get_json()
    assert [f.get_json()["approval_status"] for f in fired] == [source] * (len(signers) - 1) + [dest]


def test_trigger_that_cannot_fire_from_the_stage_is_409(world):
    ppa = world.create_ppa()

    response = world.fire(ppa["id"], "enact", world.budget_analyst)

    assert response.status_code == 409
    assert response.get_json()["code"] == "invalid_transition"
    assert world.get(ppa["id"], world.focal)["approval_status"] == "draft"


def test_final_stage_cannot_be_left(world):
    ppa = world.create_ppa()
    world.advance(ppa["id"], "enacted")

    response = world.fire(ppa["id"], "reject", world.budget_analyst, "too late")

    assert response.status_code == 409


def test_unknown_trigger_is_422_naming_the_known_ones(world):
    ppa = world.create_ppa()

    response = world.fire(ppa["id"], "fast_track", world.admin)

    assert response.status_code == 422
    assert "submit" in response.get_json()["errors"]["trigger"][0]


@pytest.mark.parametrize("trigger", ["reject", "return_for_revision"])
@pytest.mark.parametrize("comment", [None, "", "   "])
def test_reject_and_return_require_a_comment(world, trigger, comment):
    ppa = world.create_ppa()
    world.advance(ppa["id"], "technical_review")

    response = world.fire(ppa["id"], trigger, world.technical_reviewer, comment)

    assert response.status_code == 422
    assert "comment" in response.get_json()["errors"]
    assert world.get(ppa["id"], world.focal)["approval_status"] == "technical_review"


def test_submitter_cannot_approve_own_ppa(world):
    ppa = world.create_ppa(world.admin, implementing_moa=world.org("MSSD"))
    assert world.fire(ppa["id"], "submit", world.admin).status_code == 200

    response = world.fire(ppa["id"], "approve", world.admin)

    assert response.status_code == 403
    assert response.get_json()["code"] == "separation_of_duties"
    assert "submitted" in response.get_json()["detail"]


def test_one_user_cannot_approve_two_stages_of_the_same_ppa(world):
    senior = world.person("bpda.senior", "technical_reviewer", "planning_officer", org="BPDA")
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)
    assert world.fire(ppa["id"], "approve", senior).status_code == 200
    assert world.fire(ppa["id"], "approve", world.budget_analyst).status_code == 200

    response = world.fire(ppa["id"], "approve", senior)

    assert response.status_code == 403
    assert response.get_json()["code"] == "separation_of_duties"
    assert world.fire(ppa["id"], "approve", world.planning_officer).status_code == 200


def test_reviewer_may_approve_the_same_stage_again_after_revision(world):
    ppa = world.create_ppa()
    world.advance(ppa["id"], "technical_review")
    world.fire(ppa["id"], "return_for_revision", world.technical_reviewer, "Add the cost estimate.")
    world.fire(ppa["id"], "submit", world.focal)

    response = world.fire(ppa["id"], "approve", world.technical_reviewer)

    assert response.status_code == 200


def test_admin_can_act_in_any_role_and_is_recorded_as_admin(world):
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)

    world.fire(ppa["id"], "approve", world.admin)
    history = world.client.get(f"/api/monitoring-entries/{ppa['id']}/history", headers=world.focal.headers)

    assert [h["role"] for h in history.get_json()] == ["moa_focal", "admin"]


def test_history_records_actor_role_trigger_stages_comment_time_and_rules_hash(world):
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)
    world.fire(ppa["id"], "return_for_revision", world.technical_reviewer, "Attach the barangay resolution.")

    history = world.client.get(f"/api/monitoring-entries/{ppa['id']}/history",
                               headers=world.focal.headers).get_json()

    assert [(h["trigger"], h["from_stage"], h["to_stage"], h["actor"], h["role"]) for h in history] == [
        ("submit", "draft", "technical_review", "mssd.focal", "moa_focal"),
        ("return_for_revision", "technical_review", "draft", "bpda.reviewer", "technical_reviewer"),
    ]
    assert history[1]["comment"] == "Attach the barangay resolution."
    assert history[0]["comment"] is None
    assert all(h["rules_hash"] == RULES.hash for h in history)
    assert history[0]["created_at"] <= history[1]["created_at"]


def test_transition_with_stale_if_match_is_412_and_writes_no_history(world):
    ppa = world.create_ppa()
    stale = world.client.get(f"/api/monitoring-entries/{ppa['id']}", headers=world.focal.headers).headers["ETag"]
    world.patch(f"/api/monitoring-entries/{ppa['id']}", world.focal, {"title": "Edited"})

    response = world.fire(ppa["id"], "submit", world.focal, **{"If-Match": stale})

    assert response.status_code == 412
    history = world.client.get(f"/api/monitoring-entries/{ppa['id']}/history", headers=world.focal.headers)
    assert history.get_json() == []


def test_transition_with_current_if_match_succeeds(world):
    ppa = world.create_ppa()
    etag = world.client.get(f"/api/monitoring-entries/{ppa['id']}", headers=world.focal.headers).headers["ETag"]

    response = world.fire(ppa["id"], "submit", world.focal, **{"If-Match": etag})

    assert response.status_code == 200


def _actions(world, ppa_id, who, **headers):
    response = world.client.get(f"/api/monitoring-entries/{ppa_id}/actions", headers=who.headers | headers)
    assert response.status_code == 200
    return {a["trigger"]: a for a in response.get_json()["actions"]}


def test_actions_list_every_trigger_with_reasons_for_the_closed_ones(world):
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)

    as_reviewer = _actions(world, ppa["id"], world.technical_reviewer)
    as_analyst = _actions(world, ppa["id"], world.budget_analyst)

    assert set(as_reviewer) == {"submit", "approve", "enact", "reject", "return_for_revision"}
    assert as_reviewer["approve"]["open"] is True
    assert as_reviewer["approve"]["dest"] == "budget_review"
    assert as_reviewer["reject"]["open"] is True
    assert as_reviewer["reject"]["comment_required"] is True
    assert [r["code"] for r in as_reviewer["enact"]["reasons"]] == ["wrong_stage"]
    assert as_analyst["approve"]["open"] is False
    assert [r["code"] for r in as_analyst["approve"]["reasons"]] == ["role_missing"]


def test_actions_show_separation_of_duties_and_stale_version(world):
    ppa = world.create_ppa(world.admin, implementing_moa=world.org("MSSD"))
    world.fire(ppa["id"], "submit", world.admin)

    mine = _actions(world, ppa["id"], world.admin)
    stale = _actions(world, ppa["id"], world.technical_reviewer, **{"If-Match": '"ppa-1-v0"'})

    assert [r["code"] for r in mine["approve"]["reasons"]] == ["separation_of_duties"]
    assert [r["code"] for r in stale["approve"]["reasons"]] == ["stale_version"]
