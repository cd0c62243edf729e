"""The default rules' worked examples of the richer workflow rules, over
HTTP (issue 14 item 7; docs/design.md §6): infrastructure PPAs through the
Ministry of Public Works' technical endorsement, gender-and-development PPAs
through the Bangsamoro Women Commission, big PPAs through an inter-agency
sign-off (2 of 4 agencies) and BPDA's certification, and the escalation of
a stage left too long."""

from __future__ import annotations

import pytest

from jobs.tasks import escalate_overdue_stages
from tests.api.test_delegations_api import delegate
from tests.conftest import ONE_BACKEND, one_backend_app

BIG = {"budget_allocation": "75000000.00"}


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    """The application on ``ONE_BACKEND`` only: nothing here depends on the database."""
    yield from one_backend_app(request, tmp_path)


def actions(world, ppa_id: int, who) -> dict:
    response = world.client.get(f"/api/monitoring-entries/{ppa_id}/actions", headers=who.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def approve_action(world, ppa_id: int, who) -> dict:
    return {a["trigger"]: a for a in actions(world, ppa_id, who)["actions"]}["approve"]


def history(world, ppa_id: int) -> list[dict]:
    return world.client.get(f"/api/monitoring-entries/{ppa_id}/history", headers=world.focal.headers).get_json()


def test_an_infrastructure_ppa_goes_through_the_mpw_endorsement_and_a_gad_ppa_through_the_bwc(world):
    road = world.create_ppa(sector="Infrastructure")["id"]
    gad = world.create_ppa(funding_source="GAD budget")["id"]
    for ppa in (road, gad):
        world.advance(ppa, "technical_review")

    offered = approve_action(world, road, world.technical_reviewer)
    to_mpw = world.fire(road, "approve", world.technical_reviewer).get_json()["approval_status"]
    to_bwc = world.fire(gad, "approve", world.technical_reviewer).get_json()["approval_status"]
    not_theirs = world.fire(road, "approve", world.gad_endorser)
    endorsed = [world.fire(road, "approve", world.mpw_engineer), world.fire(gad, "approve", world.gad_endorser)]

    assert (offered["dest"], offered["route"]) == ("mpw_endorsement", "to mpw_endorsement because sector = infrastructure")
    assert (to_mpw, to_bwc) == ("mpw_endorsement", "bwc_endorsement")
    assert not_theirs.status_code == 403 and "requires role mpw_engineer" in not_theirs.get_json()["detail"]
    assert [r.get_json()["approval_status"] for r in endorsed] == ["budget_review", "budget_review"]


def test_a_big_ppa_moves_on_at_the_second_agencys_sign_off_and_then_needs_bpda_certification(world):
    ppa = world.create_ppa(**BIG)["id"]
    world.advance(ppa, "inter_agency_consultation")
    mpw, milg = world.signers_for("inter_agency_consultation")
    second_mpw = world.person("mpw.planner2", "planning_officer", org="MPW")
    moh = world.person("moh.planner", "planning_officer", org="MOH")
    before = world.get(ppa, world.admin)["version"]

    first = world.fire(ppa, "approve", mpw)
    awaiting = approve_action(world, ppa, milg)
    twice = world.fire(ppa, "approve", second_mpw)
    unlisted = world.fire(ppa, "approve", moh)
    kth = world.fire(ppa, "approve", milg)
    certified = world.fire(ppa, "approve", world.plan_certifier)

    assert first.status_code == 200 and first.get_json()["approval_status"] == "inter_agency_consultation"
    assert first.get_json()["version"] == before + 1  # a sign-off is a write: a client's old ETag is stale
    assert awaiting["open"] and awaiting["dest"] == "bpda_certification"
    assert awaiting["sign_off"] == {"required": 2, "signed": [{"signed_for": "MPW", "by": "mpw.planner"}],
                                    "awaiting": ["BPDA", "MFBM", "MILG"]}
    assert twice.status_code == 409 and twice.get_json()["code"] == "sign_off_duplicate"
    assert "MPW has already signed off (by mpw.planner)" in twice.get_json()["detail"]
    assert unlisted.status_code == 403 and "of MOH, which is not listed" in unlisted.get_json()["detail"]
    assert kth.get_json()["approval_status"] == "bpda_certification"
    assert certified.get_json()["approval_status"] == "executive_approval"
    signed = [(h["to_stage"], h["signed_for"], h["signed"]) for h in history(world, ppa)][-3:]
    assert signed == [
        ("inter_agency_consultation", "MPW", "signed by mpw.planner as planning_officer, sign-off for MPW"),
        ("bpda_certification", "MILG", "signed by milg.planner as planning_officer, sign-off for MILG"),
        ("executive_approval", None, "signed by bpda.certifier as plan_certifier")]


def test_a_gad_endorsement_left_fifteen_business_days_escalates_once_and_is_deemed_endorsed(world):
    ppa = world.ppa_in_stage_since("bwc_endorsement", funding_source="GAD budget")["id"]  # Thu 5 June 2025
    road = world.ppa_in_stage_since("mpw_endorsement", sector="infrastructure")["id"]
    notified = [world.gad_endorser, world.technical_reviewer]

    shown = actions(world, ppa, world.gad_endorser)["escalation"]
    with world.app.app_context():
        early = escalate_overdue_stages(today="2025-06-27")
        due = escalate_overdue_stages(today="2025-06-30")
        again = escalate_overdue_stages(today="2025-07-01")
    inboxes = [world.client.get("/api/notifications", headers=p.headers).get_json() for p in notified]
    last = history(world, ppa)[-1]

    # 15 business days after 5 June 2025: weekends, Eid'l Adha (6 June) and Independence Day (12 June) skipped.
    assert shown["escalates_on"] == "2025-06-30" and shown["then"] == "approve"
    assert shown["message"] == ("BWC gender and development endorsement escalated on 2025-06-30 (after 15 business "
                                "days): gad_endorser and technical_reviewer notified, then approve fires by itself")
    # MPW's endorsement escalates after 10 business days (23 June), without `then`: a notice only.
    assert (early["overdue"], early["notifications"], early["fired"]) == (1, 1, 0)
    assert (due["overdue"], due["notifications"], due["fired"], due["errors"]) == (2, 2, 1, 0)
    assert (again["overdue"], again["notifications"], again["fired"]) == (1, 0, 0)  # nobody is told twice
    assert all(any(n["subject"] == f"[ppaflow] Escalated: BWC gender and development endorsement of PPA {ppa}"
                   for n in inbox) for inbox in inboxes)
    assert world.get(ppa, world.focal)["approval_status"] == "budget_review"
    assert world.get(road, world.focal)["approval_status"] == "mpw_endorsement"
    assert (last["actor"], last["role"], last["signed"]) == ("system", "system", "by the system (automatic)")
    assert last["comment"].startswith("escalated: BWC gender and development endorsement was left 15 business days")


def test_a_sign_off_under_a_delegation_counts_for_the_delegators_agency(world):
    ppa = world.create_ppa(**BIG)["id"]
    world.advance(ppa, "inter_agency_consultation")
    mpw, milg = world.signers_for("inter_agency_consultation")
    stand_in = world.person("moh.staff", "technical_reviewer", org="MOH")  # not a planning officer; MOH is not listed
    delegate(world, milg, "moh.staff", "planning_officer")

    for_milg = world.fire(ppa, "approve", stand_in)
    milg_again = world.fire(ppa, "approve", milg)
    kth = world.fire(ppa, "approve", mpw)

    assert for_milg.status_code == 200, for_milg.get_json()
    assert history(world, ppa)[-2]["signed_for"] == "MILG"
    assert milg_again.status_code == 409 and "MILG has already signed off (by moh.staff)" in milg_again.get_json()["detail"]
    assert kth.get_json()["approval_status"] == "bpda_certification"
