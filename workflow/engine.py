"""The one workflow engine for every state machine with people on its edges
(docs/design.md §6): the PPA approval, and every other workflow of the rule
set's ``workflows/`` (budget proposals, ORS, DV, community needs).

Pure: given the rule objects, a record's stage, the actor (user id, roles
already scoped to the record's organization, active delegations), the
record's past transitions and its preparer, it decides which triggers are
open (``actions``, with reasons in words) and performs one (``fire``,
returning an ``Outcome``). It never loads or saves: the services do
(``services.workflows``).

Who signs, and as whom. The actor may fire a transition under, in order:
a role of theirs the transition names; a role delegated to them that it
names (an active delegation, ``Delegation``); a superuser role of theirs
(``admin``, recorded as such). The first of these that separation of duties
allows is used; the outcome says which role and which delegation.

Separation of duties and delegation (our reading of issue 14 item 7 and
issue 12 item 3, written down here as the rule). A step is attributed to
the person who signed it *and*, when signed under a delegation, to the
delegator in whose name it was signed. When an actor signs under a
delegation, the rules are checked for both of them:

- the delegate counts as themselves: what they did before on the record
  (submitted it, approved a stage, prepared it) bars them as it would
  without the delegation: a delegation never launders a conflict;
- the delegator is held to the step too: a stage their delegate approved
  for them is a stage they approved, so a reviewer cannot approve one stage
  through a colleague and another in person, nor approve through a
  colleague a record they submitted.

Superusers are bound by separation of duties like everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rules.model import DutyRule, Transition, WorkflowRules
from workflow.errors import RoleMissing, SeparationOfDuties, ValidationFailed
from workflow.machine import SharedMachine
from workflow.text import is_blank, text_problem


@dataclass(frozen=True)
class Delegation:
    """A delegation the actor may sign under now (active: started, not
    expired, not revoked; its delegator still holds the role; for an
    organization-scoped role, the record is of the delegator's organization).

    Attributes:
        id: the delegation's id (recorded on the step).
        delegator_id: who delegated the role (recorded as ``delegated_by``).
        delegator: their username, for messages.
        role: the delegated role.
    """

    id: int
    delegator_id: int
    delegator: str
    role: str


@dataclass(frozen=True)
class Actor:
    """Who is acting on one record.

    Attributes:
        user_id: the user.
        roles: the roles that count on this record: an organization-scoped
            role (``moa_focal``) only on the user's own organization's
            records (the services work that out: ``services.workflows.actor_for``).
        held_elsewhere: roles the user holds that do not count here, named
            in the refusal so it explains itself.
        delegations: the delegations the user may sign under on this record.
        lapsed: ``(role, why)`` for delegations of a role to the user that do
            not count now (expired, revoked, not yet started), named in a
            ``role_missing`` refusal.
    """

    user_id: int
    roles: frozenset[str]
    held_elsewhere: frozenset[str] = frozenset()
    delegations: tuple[Delegation, ...] = ()
    lapsed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PastTransition:
    """One step of a record's history, as far as the rules care.

    Attributes:
        actor_id: who signed it.
        trigger, from_stage, to_stage: what it did.
        delegated_by: the delegator when it was signed under a delegation.
    """

    actor_id: int
    trigger: str
    from_stage: str
    to_stage: str
    delegated_by: int | None = None

    @property
    def people(self) -> frozenset[int]:
        """Whom the step counts for: the signer, and the delegator if any."""
        return frozenset({self.actor_id} | ({self.delegated_by} if self.delegated_by is not None else set()))


@dataclass(frozen=True)
class Reason:
    """Why an action is closed, machine-readable (``code``) and readable."""

    code: str
    message: str


@dataclass(frozen=True)
class Action:
    """One trigger of the workflow as seen by one actor on one record.

    Attributes:
        trigger: the trigger name.
        dest: the stage it would lead to from the current stage, or ``None``
            when it cannot fire from there.
        open: the actor may fire it now.
        roles: roles that may fire it from the current stage.
        comment_required: firing it needs a comment.
        reasons: why it is closed (empty when open). Codes: ``wrong_stage``,
            ``role_missing``, ``separation_of_duties``, ``stale_version``.
        acting_for: the delegator's username when the actor would sign it
            under a delegation, else ``None``.
    """

    trigger: str
    dest: str | None
    open: bool
    roles: tuple[str, ...]
    comment_required: bool
    reasons: tuple[Reason, ...]
    acting_for: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What firing a trigger did: the stages, the role and delegation used,
    the comment as recorded, the effects to run."""

    trigger: str
    source: str
    dest: str
    role: str
    comment: str | None
    effects: tuple[str, ...]
    delegation: Delegation | None = None

    @property
    def delegated_by(self) -> int | None:
        """The delegator's user id when signed under a delegation."""
        return self.delegation.delegator_id if self.delegation is not None else None


@dataclass(frozen=True)
class _Signing:
    """One way the actor could sign a transition: a role, maybe a delegation."""

    role: str
    delegation: Delegation | None


class WorkflowEngine:
    """One workflow of a rule set: its shared machine plus the role,
    delegation, separation-of-duties and comment rules around it.

    Args:
        rules: one workflow of ``RuleSet.workflows`` (e.g. ``RuleSet.approval``).
    """

    def __init__(self, rules: WorkflowRules):
        self.rules = rules
        self.machine = SharedMachine(rules.machine, noun="stage")

    @property
    def name(self) -> str:
        """The workflow's name (``ppa_approval``)."""
        return self.rules.name

    # -- who may sign ----------------------------------------------------------
    def _signings(self, transition: Transition, actor: Actor) -> list[_Signing]:
        """The ways ``actor`` may sign ``transition``, in order of preference:
        an own role it names, a delegated role it names, a superuser role."""
        own = [_Signing(role, None) for role in transition.roles if role in actor.roles][:1]
        delegated = [_Signing(d.role, d) for d in actor.delegations if d.role in transition.roles]
        superuser = [_Signing(role, None) for role in self.rules.superuser_roles if role in actor.roles][:1]
        out = own + delegated + superuser
        return out

    def _missing_role(self, transition: Transition, actor: Actor) -> str:
        """Why ``actor`` may not fire ``transition``: the roles it requires,
        which of them the actor holds only for another organization, and
        why a delegation of them does not count."""
        message = f"requires role {' or '.join(transition.roles)}"
        elsewhere = sorted(set(transition.roles) & actor.held_elsewhere)
        if elsewhere:
            message += (f"; your {' and '.join(elsewhere)} role counts only for your own organization's "
                        f"{self.rules.records}")
        for role, why in actor.lapsed:
            if role in transition.roles:
                message += f"; {why}"
        return message

    # -- separation of duties ----------------------------------------------------
    def _duties(self, trigger: str, stage: str, people: frozenset[int], history: Sequence[PastTransition],
                preparer_id: int | None) -> list[Reason]:
        reasons = []
        for rule in self.rules.separation_of_duties:
            if trigger in rule.triggers and (message := self._breach(rule, trigger, stage, people, history,
                                                                     preparer_id)):
                reasons.append(Reason("separation_of_duties", message))
        return reasons

    def _breach(self, rule: DutyRule, trigger: str, stage: str, people: frozenset[int],
                history: Sequence[PastTransition], preparer_id: int | None) -> str | None:
        """The refusal ``rule`` gives ``people`` firing ``trigger`` from
        ``stage``, or ``None`` when it allows it."""
        record = self.rules.record
        theirs = [h for h in history if h.people & people]
        if rule.form == "whoever_fired":
            fired = sorted({h.trigger for h in theirs if h.trigger in rule.after})
            if not fired:
                return None
            default = f"you already did {' and '.join(fired)} on this {{record}}, so you cannot {trigger} it"
            return (rule.explain or default).format(record=record)
        if rule.form == "one_step_per_person":
            other = [h for h in theirs if h.trigger in rule.triggers and (h.trigger, h.from_stage) != (trigger, stage)]
            if not other:
                return None
            stages, triggers = ", ".join(sorted({h.from_stage for h in other})), ", ".join(
                sorted({h.trigger for h in other}))
            default = ("you already did {triggers} at the {stages} stage of this {record}; one person may do only "
                       "one of these steps")
            return (rule.explain or default).format(record=record, stages=stages, triggers=triggers)
        if preparer_id is not None and preparer_id in people:  # preparer_may_not_fire
            return (rule.explain or f"you prepared this {{record}}, so you cannot {trigger} it").format(record=record)
        return None

    def _conflicts(self, trigger: str, stage: str, actor: Actor, signing: _Signing,
                   history: Sequence[PastTransition], preparer_id: int | None) -> list[Reason]:
        """Separation-of-duties reasons against ``actor`` signing as
        ``signing``: first as themselves, then, under a delegation, for the
        delegator too (named in the reason)."""
        own = self._duties(trigger, stage, frozenset({actor.user_id}), history, preparer_id)
        if own or signing.delegation is None:
            return own
        delegation = signing.delegation
        theirs = self._duties(trigger, stage, frozenset({actor.user_id, delegation.delegator_id}), history,
                              preparer_id)
        return [Reason(r.code, f"{r.message} (you would sign for {delegation.delegator}, and a step signed under a "
                               "delegation counts for the delegator too)") for r in theirs]

    def _decide(self, trigger: str, stage: str, transition: Transition, actor: Actor,
                history: Sequence[PastTransition], preparer_id: int | None) -> tuple[_Signing | None, list[Reason]]:
        """The signing the actor would use, and what closes the transition to them."""
        signings = self._signings(transition, actor)
        if not signings:
            return None, [Reason("role_missing", self._missing_role(transition, actor))]
        first: list[Reason] | None = None
        for signing in signings:
            conflicts = self._conflicts(trigger, stage, actor, signing, history, preparer_id)
            if not conflicts:
                return signing, []
            first = first if first is not None else conflicts
        return signings[0], first or []

    # -- decisions -----------------------------------------------------------------
    def actions(self, stage: str, actor: Actor, history: Sequence[PastTransition], *,
                preparer_id: int | None = None, stale: bool = False) -> list[Action]:
        """Every trigger of the workflow, whether ``actor`` may fire it on a
        record in ``stage``, and the reasons it is closed.

        Args:
            stage: the record's current stage.
            actor: the caller.
            history: the record's past transitions, oldest first.
            preparer_id: who prepared (created) the record, for
                ``preparer_may_not_fire`` rules.
            stale: the caller's copy of the record is out of date (``If-Match``);
                every action is then closed with ``stale_version``.
        """
        out = []
        record = self.rules.record
        article = "an" if record[:1].lower() in "aeiou" else "a"
        for trigger in self.rules.machine.triggers:
            transition = self.rules.machine.transition_from(trigger, stage)
            if transition is None:
                out.append(Action(trigger, None, False, (), False, (
                    Reason("wrong_stage", f"cannot {trigger} {article} {record} in {stage}"),)))
                continue
            signing, reasons = self._decide(trigger, stage, transition, actor, history, preparer_id)
            if stale:
                reasons.append(Reason("stale_version", f"the {record} changed since you read it; read it again"))
            acting_for = signing.delegation.delegator if signing and signing.delegation and not reasons else None
            out.append(Action(trigger, transition.dest, not reasons, transition.roles,
                              transition.comment_required, tuple(reasons), acting_for))
        return out

    def fire(self, stage: str, trigger: str, actor: Actor, history: Sequence[PastTransition],
             comment: str | None, *, preparer_id: int | None = None) -> Outcome:
        """Decide and perform one transition.

        Checks, in order: the trigger exists (422), it can fire from ``stage``
        (409), the actor holds a role for it, their own or delegated (403),
        separation of duties (403), and the required comment (422): one that
        is only whitespace or invisible characters (U+200B, U+FEFF, ...) is no
        comment (``workflow.text.is_blank``), and refused characters are
        refused here too, so the CLI gets the API's checks.

        Returns:
            The ``Outcome``: new stage, role and delegation used, effects to run.

        Raises:
            ValidationFailed, InvalidTransition, RoleMissing, SeparationOfDuties.
        """
        dest, transition = self.machine.fire(stage, trigger)
        signing, reasons = self._decide(trigger, stage, transition, actor, history, preparer_id)
        if signing is None:
            raise RoleMissing(f"{trigger} from {stage} {reasons[0].message}", required_roles=list(transition.roles))
        if reasons:
            raise SeparationOfDuties("; ".join(r.message for r in reasons))
        if comment is not None and (problem := text_problem(comment)):
            raise ValidationFailed({"comment": [problem]})
        comment = None if is_blank(comment) else comment.strip()
        if transition.comment_required and comment is None:
            raise ValidationFailed({"comment": [f"a comment is required to {trigger}; whitespace and "
                                                "invisible characters alone do not count"]})
        return Outcome(trigger, stage, dest, signing.role, comment, transition.effects, signing.delegation)
