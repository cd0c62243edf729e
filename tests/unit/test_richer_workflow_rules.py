"""Richer workflow rules (issue 14 item 7; docs/design.md §6): conditional
routes on PPA fields, n-of-m sign-off stages and escalation, as the loader
checks them and as the pure engine decides with them."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from rules import DEFAULT_RULES_DIR
from tests.support import shipped_rules
from workflow.conditions import Combine, Compare
from workflow.engine import Actor, PastTransition, WorkflowEngine
from workflow.errors import Conflict, RoleMissing, RulesError

RULES = shipped_rules()
APPROVAL = WorkflowEngine(RULES.approval)
FOCAL, REVIEWER = 1, 2
TECHNICAL = Actor(REVIEWER, frozenset({"technical_reviewer"}), organization="BPDA", username="bpda.reviewer")
ORDINARY = {"sector": "social", "budget_allocation": Decimal("5000000.00"), "funding_source": "GAAB 2026"}


def planner(user_id: int, organization: str) -> Actor:
    return Actor(user_id, frozenset({"planning_officer"}), organization=organization,
                 username=f"{organization.lower()}.planner")


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def errors_after(rules_dir: Path, old: str, new: str) -> list[str]:
    path = rules_dir / "workflows" / "approval.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(RulesError) as caught:
        shipped_rules(rules_dir)
    return caught.value.errors


# -- the loader ---------------------------------------------------------------------------------------------

BIG = '    when: {budget_allocation: {gt: "50000000.00"}}'


@pytest.mark.parametrize("new, expected", [
    ('    when: {budget_alocation: {gt: "50000000.00"}}',
     "unknown field 'budget_alocation' (conditions of ppa_approval may name: budget_allocation, sector, "),
    ('    when: {budget_allocation: {greater: "50000000.00"}}', "unknown operator 'greater'"),
    ("    when: {budget_allocation: {gt: 50000000.5}}", "write money as a quoted amount"),
    ('    when: {budget_allocation: {gt: "fifty"}}', "'fifty' is not an amount in pesos"),
    ("    when: {sector: {gt: infrastructure}}", "gt compares numbers; sector is text (use eq, ne or in)"),
    ("    when: budget_allocation > 50000000", "expected a mapping such as"),
    ("    when: {any: []}", "when.any: name at least one condition"),
])
def test_a_bad_condition_is_refused_at_its_line_in_plain_words(rules_dir, new, expected):
    errors = errors_after(rules_dir, BIG, new)

    assert len(errors) == 1 and expected in errors[0], errors
    assert ":" in errors[0].split("approval.yaml:")[1]  # file:line
    if "budget_alocation" in new:
        assert errors[0].endswith("did you mean 'budget_allocation'?")


def test_an_unconditional_route_before_a_conditional_one_is_refused(rules_dir):
    errors = errors_after(rules_dir, """  - trigger: approve
    source: stakeholder_consultation
    dest: executive_approval
""", "")
    assert any("has only conditional routes; add one without when" in e for e in errors), errors


def test_a_sign_off_needing_more_agencies_than_it_lists_is_refused(rules_dir):
    errors = errors_after(rules_dir, "      required: 2\n", "      required: 5\n")

    assert len(errors) == 1, errors
    assert "sign_off: required 5 is more than the 4 listed (BPDA, MPW, MFBM, MILG); the stage could never advance" \
        in errors[0]


def test_a_sign_off_entry_that_is_neither_role_nor_organization_suggests_the_role(rules_dir):
    errors = errors_after(rules_dir, "of: [BPDA, MPW, MFBM, MILG]", "of: [BPDA, MPW, planing_officer]")

    assert len(errors) == 1 and "'planing_officer' is neither a role nor an organization code" in errors[0]
    assert errors[0].endswith("did you mean 'planning_officer'?")


def test_an_escalation_names_known_roles_and_a_trigger_of_its_stage(rules_dir):
    errors = errors_after(rules_dir, "      notify: [gad_endorser, technical_reviewer]\n      then: approve",
                          "      notify: [gad_endorsr]\n      then: enact")

    assert any("escalate.notify: unknown role 'gad_endorsr'; did you mean 'gad_endorser'?" in e for e in errors)
    assert any("escalate.then: no transition 'enact' leaves 'bwc_endorsement'" in e for e in errors), errors


def test_an_escalation_may_not_approve_a_sign_off_stage_past_its_missing_sign_offs(rules_dir):
    errors = errors_after(rules_dir, "      of: [BPDA, MPW, MFBM, MILG]\n",
                          "      of: [BPDA, MPW, MFBM, MILG]\n    escalate:\n      after_business_days: 5\n"
                          "      notify: [executive]\n      then: approve\n")

    assert len(errors) == 1, errors
    assert "escalate.then fires 'approve', the trigger its sign_off counts" in errors[0]


# -- conditions ------------------------------------------------------------------------------------------------

def test_money_compares_as_decimal_and_text_ignores_case_and_an_empty_field_meets_nothing():
    big = Compare("budget_allocation", "gt", Decimal("50000000.00"))
    road = Compare("sector", "in", ("infrastructure", "roads"))

    assert big.holds({"budget_allocation": Decimal("50000000.01")})
    assert not big.holds({"budget_allocation": Decimal("50000000.00")})
    assert road.holds({"sector": " Infrastructure "})
    assert not road.holds({"sector": None}) and not Compare("sector", "ne", "x").holds({})
    assert Combine("any", (big, road)).holds({"sector": "roads", "budget_allocation": Decimal("1")})
    assert not Combine("all", (big, road)).holds({"sector": "roads", "budget_allocation": Decimal("1")})


# -- the engine: routes ------------------------------------------------------------------------------------------

def test_an_ordinary_ppa_keeps_the_ordinary_route_and_an_infrastructure_ppa_goes_to_mpw():
    ordinary = APPROVAL.fire("technical_review", "approve", TECHNICAL, [], None, facts=ORDINARY)
    road = APPROVAL.fire("technical_review", "approve", TECHNICAL, [], None,
                         facts=ORDINARY | {"sector": "Infrastructure"})
    gad = APPROVAL.fire("technical_review", "approve", TECHNICAL, [], None,
                        facts=ORDINARY | {"funding_source": "GAD budget"})

    assert (ordinary.dest, road.dest, gad.dest) == ("budget_review", "mpw_endorsement", "bwc_endorsement")
    assert road.effects == ("create_execution_project",)


def test_actions_say_where_a_conditional_route_leads_and_why():
    [approve] = [a for a in APPROVAL.actions("technical_review", TECHNICAL, [], facts=ORDINARY | {
        "sector": "infrastructure"}) if a.trigger == "approve"]
    [ordinary] = [a for a in APPROVAL.actions("stakeholder_consultation", planner(4, "BPDA"), [], facts=ORDINARY)
                  if a.trigger == "approve"]

    assert approve.dest == "mpw_endorsement"
    assert approve.route == "to mpw_endorsement because sector = infrastructure"
    assert ordinary.dest == "executive_approval"
    assert ordinary.route == ("to executive_approval: no condition holds "
                              "(budget_allocation > 50000000.00 → inter_agency_consultation)")


# -- the engine: n-of-m sign-off ------------------------------------------------------------------------------

BIG_PPA = ORDINARY | {"budget_allocation": Decimal("75000000.00")}
ENTERED = [PastTransition(4, "approve", "stakeholder_consultation", "inter_agency_consultation")]


def test_the_first_sign_off_keeps_the_stage_and_the_kth_moves_it_on():
    first = APPROVAL.fire("inter_agency_consultation", "approve", planner(10, "MPW"), ENTERED, None, facts=BIG_PPA)
    history = ENTERED + [PastTransition(10, "approve", first.source, first.dest, signed_for=first.signed_for,
                                        actor="mpw.planner")]
    [action] = [a for a in APPROVAL.actions("inter_agency_consultation", planner(11, "MILG"), history, facts=BIG_PPA)
                if a.trigger == "approve"]
    second = APPROVAL.fire("inter_agency_consultation", "approve", planner(11, "MILG"), history, None, facts=BIG_PPA)

    assert (first.dest, first.signed_for, first.effects) == ("inter_agency_consultation", "MPW", ())
    assert action.open and action.dest == "bpda_certification"
    assert action.sign_off.required == 2 and action.sign_off.signed == (("MPW", "mpw.planner"),)
    assert action.sign_off.awaiting == ("BPDA", "MFBM", "MILG")
    assert (second.dest, second.signed_for) == ("bpda_certification", "MILG")


def test_an_agency_signs_off_once_and_an_unlisted_one_not_at_all():
    history = ENTERED + [PastTransition(10, "approve", "inter_agency_consultation", "inter_agency_consultation",
                                        signed_for="MPW", actor="mpw.planner")]

    with pytest.raises(Conflict, match="MPW has already signed off \\(by mpw.planner\\); one sign-off each") as twice:
        APPROVAL.fire("inter_agency_consultation", "approve", planner(12, "MPW"), history, None, facts=BIG_PPA)
    with pytest.raises(RoleMissing, match="needs sign-offs of BPDA, MPW, MFBM, MILG; you sign as planning_officer "
                                          "of MOH, which is not listed"):
        APPROVAL.fire("inter_agency_consultation", "approve", planner(13, "MOH"), history, None, facts=BIG_PPA)
    assert twice.value.code == "sign_off_duplicate"


def test_sign_offs_of_an_earlier_stay_in_the_stage_do_not_count_after_a_return():
    earlier = ENTERED + [
        PastTransition(10, "approve", "inter_agency_consultation", "inter_agency_consultation", signed_for="MPW"),
        PastTransition(5, "return_for_revision", "inter_agency_consultation", "draft"),
    ] + ENTERED

    progress = APPROVAL.sign_off_progress("inter_agency_consultation", earlier)

    assert progress.signed == () and progress.awaiting == ("BPDA", "MPW", "MFBM", "MILG")


def test_the_system_fires_an_escalation_without_a_role():
    outcome = APPROVAL.fire_by_system("bwc_endorsement", "approve", "escalated", facts=ORDINARY)

    assert (outcome.dest, outcome.role) == ("budget_review", "system")
