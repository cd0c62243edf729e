"""The approval rules as a pure state machine (docs/design.md §3): roles, separation
of duties, comments, and property-based runs of random attempts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import shipped_rules
from workflow.engine import Actor, PastTransition, WorkflowEngine
from workflow.errors import InvalidTransition, RoleMissing, SeparationOfDuties, ValidationFailed

RULES = shipped_rules()
WORKFLOW = WorkflowEngine(RULES.approval)
FOCAL = Actor(1, frozenset({"moa_focal"}))
TECH = Actor(2, frozenset({"technical_reviewer"}))
SENIOR = Actor(3, frozenset({"technical_reviewer", "planning_officer"}))
ADMIN = Actor(9, frozenset({"admin"}))


def test_the_default_path_from_draft_to_enacted():
    stage, history = "draft", []
    for trigger, actor in [("submit", FOCAL), ("approve", TECH), ("approve", Actor(4, frozenset({"budget_analyst"}))),
                           ("approve", Actor(5, frozenset({"planning_officer"}))),
                           ("approve", Actor(6, frozenset({"executive"}))),
                           ("enact", Actor(4, frozenset({"budget_analyst"})))]:
        outcome = WORKFLOW.fire(stage, trigger, actor, history, None)
        history.append(PastTransition(actor.user_id, trigger, stage, outcome.dest))
        stage = outcome.dest
    assert stage == "enacted"


def test_role_used_is_the_transition_role_before_the_superuser_role():
    both = Actor(7, frozenset({"technical_reviewer", "admin"}))

    assert WORKFLOW.fire("technical_review", "approve", both, [], None).role == "technical_reviewer"
    assert WORKFLOW.fire("technical_review", "approve", ADMIN, [], None).role == "admin"


def test_errors_come_in_order_wrong_stage_role_duties_comment():
    with pytest.raises(ValidationFailed):
        WORKFLOW.fire("draft", "teleport", FOCAL, [], None)
    with pytest.raises(InvalidTransition):
        WORKFLOW.fire("draft", "approve", TECH, [], None)
    with pytest.raises(RoleMissing):
        WORKFLOW.fire("technical_review", "reject", FOCAL, [], None)
    with pytest.raises(SeparationOfDuties):
        WORKFLOW.fire("technical_review", "approve", ADMIN, [PastTransition(9, "submit", "draft", "technical_review")],
                      None)
    with pytest.raises(ValidationFailed):
        WORKFLOW.fire("technical_review", "reject", TECH, [], "  ")


def test_multi_role_user_cannot_approve_a_second_stage():
    history = [PastTransition(1, "submit", "draft", "technical_review"),
               PastTransition(3, "approve", "technical_review", "budget_review"),
               PastTransition(4, "approve", "budget_review", "stakeholder_consultation")]

    actions = {a.trigger: a for a in WORKFLOW.actions("stakeholder_consultation", SENIOR, history)}

    assert actions["approve"].open is False
    assert [r.code for r in actions["approve"].reasons] == ["separation_of_duties"]
    assert actions["reject"].open is True  # rejecting is not approving


ACTORS = st.builds(Actor, user_id=st.integers(1, 6), roles=st.frozensets(
    st.sampled_from(sorted(RULES.roles)), min_size=1, max_size=2))


@settings(max_examples=300, deadline=None)
@given(attempts=st.lists(st.tuples(st.sampled_from(RULES.approval.machine.triggers), ACTORS,
                                   st.sampled_from([None, "ok"])), max_size=25))
def test_random_attempts_only_ever_follow_the_rules(attempts):
    stage, history = RULES.approval.machine.initial, []
    for trigger, actor, comment in attempts:
        allowed = {a.trigger: a for a in WORKFLOW.actions(stage, actor, history)}[trigger]
        try:
            outcome = WORKFLOW.fire(stage, trigger, actor, history, comment)
        except (InvalidTransition, RoleMissing, SeparationOfDuties, ValidationFailed):
            assert not allowed.open or (allowed.comment_required and comment is None)
            continue
        # It fired: the actions said so, the rules have this edge, and no final stage was left.
        assert allowed.open
        edge = RULES.approval.machine.transition_from(trigger, stage)
        assert edge is not None and outcome.dest == edge.dest
        assert not RULES.approval.machine.states[stage].final
        assert outcome.role in edge.roles or outcome.role in RULES.roles.superuser_roles
        history.append(PastTransition(actor.user_id, trigger, stage, outcome.dest))
        stage = outcome.dest
    # No user ever approved two different stages, nor approved after submitting.
    for user_id in {h.actor_id for h in history}:
        approved = {h.from_stage for h in history if h.actor_id == user_id and h.trigger == "approve"}
        assert len(approved) <= 1
    for i, h in enumerate(history):
        if h.trigger == "approve":
            assert not any(p.actor_id == h.actor_id and p.trigger == "submit" for p in history[:i])
