"""The one workflow engine (docs/design.md §6): any workflow file of the rules,
its separation-of-duties rules in their three forms, and signing under a
delegation, decided purely from the rule objects and plain values."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rules import DEFAULT_RULES_DIR
from tests.support import shipped_rules
from workflow.engine import Actor, Delegation, PastTransition, WorkflowEngine
from workflow.errors import RoleMissing, SeparationOfDuties

#: A disbursement voucher as COA's GAM Appendix 32 has it, cut to three boxes:
#: a workflow of another kind of record, in the same form as the PPA approval.
VOUCHER = """\
workflow: voucher_demo
record: DV
initial_stage: draft
stages:
  draft:
  box_a_signed:
  box_b_signed:
  approved:
    final: true
transitions:
  - {trigger: certify_box_a, source: draft, dest: box_a_signed, roles: [budget_analyst, executive]}
  - {trigger: certify_box_b, source: box_a_signed, dest: box_b_signed, roles: [budget_analyst, executive]}
  - {trigger: approve_box_c, source: box_b_signed, dest: approved, roles: [executive]}
separation_of_duties:
  - preparer_may_not_fire: [certify_box_a, certify_box_b, approve_box_c]
    explain: you prepared this {record}; another officer must sign it
  - one_step_per_person: [certify_box_a, certify_box_b, approve_box_c]
"""

APPROVAL = WorkflowEngine(shipped_rules().approval)
FOCAL, REVIEWER, ANALYST, PLANNER = 1, 2, 3, 4
ADMIN = Actor(9, frozenset({"admin"}))
SUBMITTED = [PastTransition(FOCAL, "submit", "draft", "technical_review")]


@pytest.fixture(scope="module")
def voucher(tmp_path_factory) -> WorkflowEngine:
    rules = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    (rules / "workflows" / "voucher.yaml").write_text(VOUCHER)
    return WorkflowEngine(shipped_rules(rules).workflows["voucher_demo"])


def lent(role: str, delegator: int = REVIEWER, name: str = "bpda.reviewer") -> Delegation:
    return Delegation(id=70, delegator_id=delegator, delegator=name, role=role)


# -- another workflow, the same engine ----------------------------------------------------------

def test_the_preparer_of_a_voucher_cannot_sign_any_box_of_it(voucher):
    officer = Actor(5, frozenset({"budget_analyst"}))

    with pytest.raises(SeparationOfDuties, match="you prepared this DV; another officer must sign it"):
        voucher.fire("draft", "certify_box_a", officer, [], None, preparer_id=5)

    assert voucher.fire("draft", "certify_box_a", officer, [], None, preparer_id=6).dest == "box_a_signed"


def test_one_person_signs_one_box_of_a_voucher_and_an_admin_too(voucher):
    signed_a = [PastTransition(5, "certify_box_a", "draft", "box_a_signed")]
    both = Actor(5, frozenset({"budget_analyst", "executive"}))

    actions = {a.trigger: a for a in voucher.actions("box_a_signed", both, signed_a, preparer_id=1)}
    admin_signed_a = [PastTransition(ADMIN.user_id, "certify_box_a", "draft", "box_a_signed")]

    assert actions["certify_box_b"].open is False
    assert actions["certify_box_b"].reasons[0].message == (
        "you already did certify_box_a at the draft stage of this DV; one person may do only one of these steps")
    with pytest.raises(SeparationOfDuties):
        voucher.fire("box_a_signed", "certify_box_b", ADMIN, admin_signed_a, None, preparer_id=1)
    assert voucher.fire("box_a_signed", "certify_box_b", Actor(6, frozenset({"budget_analyst"})), signed_a,
                        None, preparer_id=1).role == "budget_analyst"


def test_wrong_stage_reasons_name_the_record_of_the_workflow(voucher):
    actions = {a.trigger: a for a in voucher.actions("draft", ADMIN, [])}

    assert actions["approve_box_c"].reasons[0].message == "cannot approve_box_c a DV in draft"


# -- delegation ------------------------------------------------------------------------------------------

def test_a_delegate_approves_under_the_delegation_and_the_outcome_names_the_delegator():
    colleague = Actor(PLANNER, frozenset({"planning_officer"}), delegations=(lent("technical_reviewer"),))

    outcome = APPROVAL.fire("technical_review", "approve", colleague, SUBMITTED, None)
    actions = {a.trigger: a for a in APPROVAL.actions("technical_review", colleague, SUBMITTED)}

    assert (outcome.role, outcome.delegated_by, outcome.delegation.id) == ("technical_reviewer", REVIEWER, 70)
    assert actions["approve"].open and actions["approve"].acting_for == "bpda.reviewer"


def test_an_own_role_is_used_before_a_delegated_one():
    reviewer_too = Actor(PLANNER, frozenset({"technical_reviewer"}), delegations=(lent("technical_reviewer"),))

    outcome = APPROVAL.fire("technical_review", "approve", reviewer_too, SUBMITTED, None)

    assert (outcome.role, outcome.delegation) == ("technical_reviewer", None)


def test_a_delegate_who_submitted_the_ppa_cannot_approve_it_for_someone_else():
    focal_with_lent_role = Actor(FOCAL, frozenset({"moa_focal"}), delegations=(lent("technical_reviewer"),))

    with pytest.raises(SeparationOfDuties, match="you submitted this PPA, so you cannot approve it"):
        APPROVAL.fire("technical_review", "approve", focal_with_lent_role, SUBMITTED, None)


def test_a_step_signed_for_the_delegator_counts_as_theirs():
    history = SUBMITTED + [PastTransition(PLANNER, "approve", "technical_review", "budget_review",
                                          delegated_by=ANALYST)]
    analyst = Actor(ANALYST, frozenset({"budget_analyst"}))

    with pytest.raises(SeparationOfDuties, match="you already approved the technical_review stage"):
        APPROVAL.fire("budget_review", "approve", analyst, history, None)


def test_the_delegator_is_held_to_what_the_delegate_would_sign_for_them():
    history = SUBMITTED + [PastTransition(REVIEWER, "approve", "technical_review", "budget_review")]
    delegate = Actor(PLANNER, frozenset({"planning_officer"}), delegations=(lent("budget_analyst"),))

    actions = {a.trigger: a for a in APPROVAL.actions("budget_review", delegate, history)}

    assert actions["approve"].open is False
    assert actions["approve"].reasons[0].message.endswith(
        "(you would sign for bpda.reviewer, and a step signed under a delegation counts for the delegator too)")


def test_of_two_delegations_the_one_separation_of_duties_allows_is_used():
    history = SUBMITTED + [PastTransition(REVIEWER, "approve", "technical_review", "budget_review")]
    delegate = Actor(PLANNER, frozenset({"planning_officer"}), delegations=(
        lent("budget_analyst"), Delegation(71, ANALYST, "mfbm.analyst", "budget_analyst")))

    outcome = APPROVAL.fire("budget_review", "approve", delegate, history, None)

    assert (outcome.delegated_by, outcome.delegation.id) == (ANALYST, 71)


def test_a_lapsed_delegation_is_named_in_the_refusal():
    colleague = Actor(PLANNER, frozenset({"planning_officer"}), lapsed=(
        ("technical_reviewer", "your delegation of technical_reviewer from bpda.reviewer expired at 2025-06-14 "
                               "17:00 (Asia/Manila)"),))

    with pytest.raises(RoleMissing) as refused:
        APPROVAL.fire("technical_review", "approve", colleague, SUBMITTED, None)

    assert refused.value.detail == ("approve from technical_review requires role technical_reviewer; your delegation "
                                    "of technical_reviewer from bpda.reviewer expired at 2025-06-14 17:00 "
                                    "(Asia/Manila)")


def test_an_admin_may_fall_back_on_the_superuser_role_when_a_delegation_conflicts():
    history = SUBMITTED + [PastTransition(REVIEWER, "approve", "technical_review", "budget_review")]
    admin = Actor(ADMIN.user_id, ADMIN.roles, delegations=(lent("budget_analyst"),))

    outcome = APPROVAL.fire("budget_review", "approve", admin, history, None)

    assert (outcome.role, outcome.delegation) == ("admin", None)


# -- the rule files of workflows ------------------------------------------------------------------

@pytest.fixture
def rules_dir(tmp_path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def errors_of(rules_dir: Path, **options) -> list[str]:
    from workflow.errors import RulesError

    with pytest.raises(RulesError) as caught:
        shipped_rules(rules_dir) if not options else _load(rules_dir, **options)
    return caught.value.errors


def _load(rules_dir, **options):
    from rules import load_rules
    from services.effects import known_effects

    return load_rules(rules_dir, known_effects=known_effects(), **options)


@pytest.mark.parametrize("rules, expected", [
    ("  - one_step_per_person: [aprove]\n", "separation_of_duties.one_step_per_person: unknown trigger 'aprove'"),
    ("  - whoever_fired: [submit]\n", "whoever_fired and may_not_fire go together"),
    ("  - one_step_per_person: [approve]\n    preparer_may_not_fire: [approve]\n",
     "each rule has exactly one of whoever_fired (with may_not_fire), one_step_per_person, preparer_may_not_fire; "
     "this one has one_step_per_person, preparer_may_not_fire"),
    ("  - preparer_may_not_fire: [approve]\n    explain: you made this {ppa}\n",
     "separation_of_duties.explain: unknown placeholder {ppa} (this rule may use: {record})"),
    ("  - preparer_may_not_fire: [approve]\n    colour: red\n", "separation_of_duties rule: unknown key 'colour'"),
])
def test_separation_of_duties_rules_are_checked_at_their_line(rules_dir, rules, expected):
    path = rules_dir / "workflows" / "approval.yaml"
    before = path.read_text()
    path.write_text(before + rules)

    errors = errors_of(rules_dir)

    assert len(errors) == 1 and expected in errors[0], errors
    assert errors[0].startswith(f"{path}:{before.count(chr(10)) + 1}:") or \
        errors[0].startswith(f"{path}:{before.count(chr(10)) + 2}:")


def test_the_old_separation_of_duties_keys_say_what_replaced_them(rules_dir):
    path = rules_dir / "workflows" / "approval.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("separation_of_duties:")] + "separation_of_duties:\n"
                    "  submitter_cannot_approve: true\n  one_stage_per_approver: true\n")

    errors = errors_of(rules_dir)

    assert len(errors) == 1 and "submitter_cannot_approve and one_stage_per_approver are written as such rules" \
        in errors[0]


def test_roles_in_a_workflow_file_point_to_roles_yaml(rules_dir):
    path = rules_dir / "workflows" / "approval.yaml"
    path.write_text(path.read_text().replace("record: PPA\n", "record: PPA\nsuperuser_roles: [admin]\n"))

    assert errors_of(rules_dir) == [f"{path}:16: superuser_roles: roles are declared once for the whole rule set, in "
                                    "roles.yaml (description, organization_scoped, superuser); remove this key"]


def test_a_role_cannot_be_both_superuser_and_organization_scoped(rules_dir):
    path = rules_dir / "roles.yaml"
    path.write_text(path.read_text().replace("    superuser: true", "    superuser: true\n    organization_scoped: true"))

    errors = errors_of(rules_dir)

    assert len(errors) == 1 and "role admin: a superuser acts in every organization" in errors[0]


def test_two_files_may_not_declare_the_same_workflow(rules_dir):
    (rules_dir / "workflows" / "voucher.yaml").write_text(VOUCHER.replace("voucher_demo", "ppa_approval"))

    assert errors_of(rules_dir) == [f"{rules_dir}/workflows/voucher.yaml:1: workflow 'ppa_approval' is already "
                                    "declared in workflows/approval.yaml"]


def test_a_workflow_the_code_needs_must_be_declared(rules_dir):
    errors = errors_of(rules_dir, required_workflows=["voucher_demo"])

    assert errors == [f"{rules_dir}/workflows/approval.yaml:1: no workflow 'voucher_demo' in workflows/; ppaflow "
                      "moves records with it: add a file declaring 'workflow: <name>'"]


def test_a_second_workflow_file_loads_beside_the_approval(rules_dir):
    (rules_dir / "workflows" / "voucher.yaml").write_text(VOUCHER)

    loaded = _load(rules_dir, required_workflows=["voucher_demo"])

    assert set(loaded.workflows) == {"ppa_approval", "budget_proposal", "ors", "dv", "need", "voucher_demo"}
    assert loaded.workflows["voucher_demo"].roles is loaded.roles
    assert [f.name for f in loaded.files][:7] == ["roles.yaml", "workflows/approval.yaml",
                                                  "workflows/budget_proposal.yaml", "workflows/dv.yaml",
                                                  "workflows/need.yaml", "workflows/ors.yaml",
                                                  "workflows/voucher.yaml"]
