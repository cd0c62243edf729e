"""PPA approval rules: who may fire which trigger, and why not (docs/design.md §3).

Pure: takes plain values (the PPA's stage, its past transitions, the actor's
id and roles) and the rule objects; returns decisions or raises the errors of
``workflow.errors``. The services load and save; this decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rules.model import ApprovalRules, Transition
from workflow.errors import RoleMissing, SeparationOfDuties, ValidationFailed
from workflow.machine import SharedMachine
from workflow.text import is_blank, text_problem


@dataclass(frozen=True)
class Actor:
    """Who is acting on one PPA.

    Attributes:
        user_id: the user.
        roles: the roles that count on this PPA: an organization-scoped role
            (``moa_focal``) only on the user's own organization's PPAs (the
            services work that out: ``services.access.actor_of``).
        held_elsewhere: roles the user holds that do not count here, named
            in the refusal so it explains itself.
    """

    user_id: int
    roles: frozenset[str]
    held_elsewhere: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PastTransition:
    """One row of a PPA's approval history, as far as the rules care."""

    actor_id: int
    trigger: str
    from_stage: str
    to_stage: str


@dataclass(frozen=True)
class Reason:
    """Why an action is closed, machine-readable (``code``) and readable."""

    code: str
    message: str


@dataclass(frozen=True)
class Action:
    """One trigger of the workflow as seen by one actor on one PPA.

    Attributes:
        trigger: the trigger name.
        dest: the stage it would lead to from the current stage, or ``None``
            when it cannot fire from there.
        open: the actor may fire it now.
        roles: roles that may fire it from the current stage.
        comment_required: firing it needs a comment.
        reasons: why it is closed (empty when open). Codes: ``wrong_stage``,
            ``role_missing``, ``separation_of_duties``, ``stale_version``.
    """

    trigger: str
    dest: str | None
    open: bool
    roles: tuple[str, ...]
    comment_required: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Outcome:
    """What firing a trigger did: the stages, the role used, the effects to run."""

    trigger: str
    source: str
    dest: str
    role: str
    comment: str | None
    effects: tuple[str, ...]


class ApprovalWorkflow:
    """The approval workflow of one rule set: one shared machine plus the
    role, separation-of-duties and comment rules around it.

    Args:
        rules: ``RuleSet.approval``.
    """

    def __init__(self, rules: ApprovalRules):
        self.rules = rules
        self.machine = SharedMachine(rules.machine, noun="stage")

    # -- decisions -----------------------------------------------------------
    def role_used(self, transition: Transition, actor: Actor) -> str | None:
        """The role under which ``actor`` may fire ``transition``: the first
        of the transition's roles the actor holds, else a superuser role
        (recorded as such), else ``None``."""
        for role in transition.roles:
            if role in actor.roles:
                return role
        for role in self.rules.superuser_roles:
            if role in actor.roles:
                return role
        return None

    @staticmethod
    def missing_role(transition: Transition, actor: Actor) -> str:
        """Why ``actor`` may not fire ``transition``: the roles it requires,
        and which of them the actor holds only for another organization."""
        message = f"requires role {' or '.join(transition.roles)}"
        elsewhere = sorted(set(transition.roles) & actor.held_elsewhere)
        if elsewhere:
            message += f"; your {' and '.join(elsewhere)} role counts only for your own organization's PPAs"
        return message

    def duty_conflicts(self, trigger: str, stage: str, actor: Actor,
                       history: Sequence[PastTransition]) -> list[Reason]:
        """Separation-of-duties reasons against ``actor`` firing ``trigger``
        from ``stage`` (rules/approval.yaml ``separation_of_duties``)."""
        sod = self.rules.separation_of_duties
        if trigger not in sod.approval_triggers:
            return []
        reasons = []
        mine = [h for h in history if h.actor_id == actor.user_id]
        if sod.submitter_cannot_approve and any(h.trigger in sod.submit_triggers for h in mine):
            reasons.append(Reason("separation_of_duties", "you submitted this PPA, so you cannot approve it"))
        if sod.one_stage_per_approver:
            other = sorted({h.from_stage for h in mine if h.trigger in sod.approval_triggers and h.from_stage != stage})
            if other:
                reasons.append(Reason("separation_of_duties",
                                      f"you already approved the {', '.join(other)} stage of this PPA; "
                                      "one user may approve only one stage"))
        return reasons

    def actions(self, stage: str, actor: Actor, history: Sequence[PastTransition], *,
                stale: bool = False) -> list[Action]:
        """Every trigger of the workflow, whether ``actor`` may fire it on a PPA
        in ``stage``, and the reasons it is closed.

        Args:
            stage: the PPA's current approval stage.
            actor: the caller.
            history: the PPA's past transitions.
            stale: the caller's copy of the PPA is out of date (``If-Match``);
                every action is then closed with ``stale_version``.
        """
        out = []
        for trigger in self.rules.machine.triggers:
            transition = self.rules.machine.transition_from(trigger, stage)
            if transition is None:
                out.append(Action(trigger, None, False, (), False, (
                    Reason("wrong_stage", f"cannot {trigger} a PPA in {stage}"),)))
                continue
            reasons = []
            if self.role_used(transition, actor) is None:
                reasons.append(Reason("role_missing", self.missing_role(transition, actor)))
            reasons += self.duty_conflicts(trigger, stage, actor, history)
            if stale:
                reasons.append(Reason("stale_version", "the PPA changed since you read it; read it again"))
            out.append(Action(trigger, transition.dest, not reasons, transition.roles,
                              transition.comment_required, tuple(reasons)))
        return out

    def fire(self, stage: str, trigger: str, actor: Actor, history: Sequence[PastTransition],
             comment: str | None) -> Outcome:
        """Decide and perform one approval transition.

        Checks, in order: the trigger exists (422), it can fire from ``stage``
        (409), the actor holds a role for it (403), separation of duties
        (403), and the required comment (422): one that is only whitespace or
        invisible characters (U+200B, U+FEFF, ...) is no comment
        (``workflow.text.is_blank``), and refused characters are refused
        here too, so the CLI gets the API's checks.

        Returns:
            The ``Outcome``: new stage, role used, effects to run.

        Raises:
            ValidationFailed, InvalidTransition, RoleMissing, SeparationOfDuties.
        """
        dest, transition = self.machine.fire(stage, trigger)
        role = self.role_used(transition, actor)
        if role is None:
            raise RoleMissing(f"{trigger} from {stage} {self.missing_role(transition, actor)}",
                              required_roles=list(transition.roles))
        conflicts = self.duty_conflicts(trigger, stage, actor, history)
        if conflicts:
            raise SeparationOfDuties("; ".join(r.message for r in conflicts))
        if comment is not None and (problem := text_problem(comment)):
            raise ValidationFailed({"comment": [problem]})
        comment = None if is_blank(comment) else comment.strip()
        if transition.comment_required and comment is None:
            raise ValidationFailed({"comment": [f"a comment is required to {trigger}; whitespace and "
                                                "invisible characters alone do not count"]})
        return Outcome(trigger, stage, dest, role, comment, transition.effects)
