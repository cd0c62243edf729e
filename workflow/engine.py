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

from rules.model import DutyRule, SignOff, Transition, WorkflowRules
from workflow.errors import Conflict, RoleMissing, SeparationOfDuties, ValidationFailed
from workflow.machine import SharedMachine
from workflow.text import is_blank, text_problem


#: The role recorded on a step no person signed (an escalation's automatic transition).
SYSTEM_ROLE = "system"


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
        delegator_organization: the code of the delegator's organization:
            what a sign-off under this delegation signs for (the delegate
            stands in for the delegator's agency, not their own).
    """

    id: int
    delegator_id: int
    delegator: str
    role: str
    delegator_organization: str | None = None


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
        organization: the code of the user's organization (``MPW``): what
            they sign for in an n-of-m sign-off stage listing agencies.
        username: for sign-off progress (who signed for whom).
    """

    user_id: int
    roles: frozenset[str]
    held_elsewhere: frozenset[str] = frozenset()
    delegations: tuple[Delegation, ...] = ()
    lapsed: tuple[tuple[str, str], ...] = ()
    organization: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class PastTransition:
    """One step of a record's history, as far as the rules care.

    Attributes:
        actor_id: who signed it.
        trigger, from_stage, to_stage: what it did.
        delegated_by: the delegator when it was signed under a delegation.
        signed_for: in an n-of-m sign-off stage, the agency or role the
            step signed off for (docs/design.md §6).
        actor: the signer's username, when known (sign-off progress).
    """

    actor_id: int
    trigger: str
    from_stage: str
    to_stage: str
    delegated_by: int | None = None
    signed_for: str | None = None
    actor: str | None = None

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
        route: why it leads to ``dest`` when its edge is chosen by a
            condition on the record's fields (``when``), in words; else ``None``.
        sign_off: the n-of-m progress when it signs off the stage.
    """

    trigger: str
    dest: str | None
    open: bool
    roles: tuple[str, ...]
    comment_required: bool
    reasons: tuple[Reason, ...]
    acting_for: str | None = None
    route: str | None = None
    sign_off: SignOffProgress | None = None


@dataclass(frozen=True)
class SignOffProgress:
    """Where an n-of-m sign-off stage stands (docs/design.md §6).

    Attributes:
        required: sign-offs needed to move on (K).
        signed: ``(agency or role, username)`` of each sign-off so far, oldest first.
        awaiting: the listed agencies or roles that have not signed off yet.
    """

    required: int
    signed: tuple[tuple[str, str | None], ...]
    awaiting: tuple[str, ...]


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
    signed_for: str | None = None

    @property
    def moved(self) -> bool:
        """The record changed stage (a sign-off short of K keeps it where it is)."""
        return self.source != self.dest

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
                preparer_id: int | None = None, stale: bool = False, facts=None) -> list[Action]:
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
            facts: the record's condition fields (``workflow.conditions``),
                which choose between conditional routes.
        """
        out = []
        record = self.rules.record
        article = "an" if record[:1].lower() in "aeiou" else "a"
        for trigger in self.rules.machine.triggers:
            transition = self.rules.machine.transition_from(trigger, stage, facts)
            if transition is None:
                out.append(Action(trigger, None, False, (), False, (
                    Reason("wrong_stage", f"cannot {trigger} {article} {record} in {stage}"),)))
                continue
            signing, reasons = self._decide(trigger, stage, transition, actor, history, preparer_id)
            dest, progress = transition.dest, None
            sign_off = self._sign_off(stage, trigger)
            if sign_off is not None:
                progress = self.sign_off_progress(stage, history)
                if signing is not None:
                    reasons += self._sign_off_reasons(sign_off, progress, actor, signing, stage, history)
                if len(progress.signed) + 1 < sign_off.required:
                    dest = stage
            if stale:
                reasons.append(Reason("stale_version", f"the {record} changed since you read it; read it again"))
            acting_for = signing.delegation.delegator if signing and signing.delegation and not reasons else None
            out.append(Action(trigger, dest, not reasons, transition.roles, transition.comment_required,
                              tuple(reasons), acting_for, self.route_reason(trigger, stage, transition), progress))
        return out

    # -- conditional routes and n-of-m sign-off (docs/design.md §6) ----------------------------------
    def route_reason(self, trigger: str, stage: str, transition: Transition) -> str | None:
        """Why ``trigger`` from ``stage`` leads where it does, when conditions
        choose: ``to mpw_endorsement because sector = infrastructure``, or
        ``to budget_review: no condition holds (sector = infrastructure → mpw_endorsement)``."""
        routes = self.rules.machine.routes(trigger, stage)
        if len(routes) < 2:
            return None
        if transition.when is not None:
            return f"to {transition.dest} because {transition.when.describe()}"
        others = "; ".join(f"{t.when.describe()} → {t.dest}" for t in routes if t.when is not None)
        return f"to {transition.dest}: no condition holds ({others})"

    def _sign_off(self, stage: str, trigger: str) -> SignOff | None:
        state = self.rules.machine.states.get(stage)
        sign_off = state.sign_off if state is not None else None
        return sign_off if sign_off is not None and sign_off.trigger == trigger else None

    def sign_off_progress(self, stage: str, history: Sequence[PastTransition]) -> SignOffProgress | None:
        """The sign-offs of the record's current stay in ``stage`` (the steps
        after it last entered the stage that kept it there), or ``None`` when
        ``stage`` is no sign-off stage."""
        state = self.rules.machine.states.get(stage)
        if state is None or state.sign_off is None:
            return None
        stay: list[PastTransition] = []
        for h in history:
            if h.to_stage == stage and h.from_stage != stage:
                stay = []  # entered (again): earlier sign-offs no longer count
            elif h.from_stage == stage and h.to_stage == stage and h.signed_for is not None:
                stay.append(h)
        signed = tuple((h.signed_for, h.actor) for h in stay)
        done = {agency for agency, _ in signed}
        return SignOffProgress(state.sign_off.required, signed,
                               tuple(a for a in state.sign_off.of if a not in done))

    def _signs_for(self, sign_off: SignOff, actor: Actor, signing: _Signing) -> str | None:
        """The agency (or role) ``signing`` signs off for: under a delegation,
        the delegator's organization; else the actor's own."""
        organization = signing.delegation.delegator_organization if signing.delegation else actor.organization
        return sign_off.signs_for(organization, signing.role)

    def _sign_off_reasons(self, sign_off: SignOff, progress: SignOffProgress, actor: Actor, signing: _Signing,
                          stage: str, history: Sequence[PastTransition]) -> list[Reason]:
        """What keeps ``actor`` from signing off: not a listed agency or
        role, their agency already signed, or they signed already."""
        agency = self._signs_for(sign_off, actor, signing)
        if agency is None:
            org = actor.organization or "no organization"
            return [Reason("sign_off_not_listed",
                           f"this stage needs sign-offs of {', '.join(sign_off.of)}; you sign as {signing.role} "
                           f"of {org}, which is not listed")]
        for done, who in progress.signed:
            if done == agency:
                return [Reason("sign_off_duplicate", f"{agency} has already signed off"
                                                     + (f" (by {who})" if who else "") + "; one sign-off each")]
        if actor.username is not None and any(who == actor.username for _, who in progress.signed):
            return [Reason("sign_off_duplicate", "you have already signed off this stage; one sign-off each")]
        return []

    def fire(self, stage: str, trigger: str, actor: Actor, history: Sequence[PastTransition],
             comment: str | None, *, preparer_id: int | None = None, facts=None) -> Outcome:
        """Decide and perform one transition.

        Checks, in order: the trigger exists (422), it can fire from ``stage``
        (409), the actor holds a role for it, their own or delegated (403),
        separation of duties (403), in an n-of-m sign-off stage the actor's
        agency is listed (403) and has not signed yet (409
        ``sign_off_duplicate``), and the required comment (422): one that
        is only whitespace or invisible characters (U+200B, U+FEFF, ...) is no
        comment (``workflow.text.is_blank``), and refused characters are
        refused here too, so the CLI gets the API's checks.

        Returns:
            The ``Outcome``: new stage, role and delegation used, effects to run.

        Raises:
            ValidationFailed, InvalidTransition, RoleMissing, SeparationOfDuties.
        """
        transition = self.machine.edge(trigger, stage, facts)
        signing, reasons = self._decide(trigger, stage, transition, actor, history, preparer_id)
        if signing is None:
            raise RoleMissing(f"{trigger} from {stage} {reasons[0].message}", required_roles=list(transition.roles))
        if reasons:
            raise SeparationOfDuties("; ".join(r.message for r in reasons))
        sign_off, signed_for = self._sign_off(stage, trigger), None
        if sign_off is not None:
            progress = self.sign_off_progress(stage, history)
            refusals = self._sign_off_reasons(sign_off, progress, actor, signing, stage, history)
            if refusals and refusals[0].code == "sign_off_duplicate":
                raise Conflict(refusals[0].message, code="sign_off_duplicate")
            if refusals:
                raise RoleMissing(refusals[0].message, required_roles=list(transition.roles))
            signed_for = self._signs_for(sign_off, actor, signing)
        if comment is not None and (problem := text_problem(comment)):
            raise ValidationFailed({"comment": [problem]})
        comment = None if is_blank(comment) else comment.strip()
        if transition.comment_required and comment is None:
            raise ValidationFailed({"comment": [f"a comment is required to {trigger}; whitespace and "
                                                "invisible characters alone do not count"]})
        if sign_off is not None and len(progress.signed) + 1 < sign_off.required:
            return Outcome(trigger, stage, stage, signing.role, comment, (), signing.delegation, signed_for)
        dest, _ = self.machine.fire(stage, trigger, facts)
        return Outcome(trigger, stage, dest, signing.role, comment, transition.effects, signing.delegation,
                       signed_for)

    def fire_by_system(self, stage: str, trigger: str, comment: str, *, facts=None) -> Outcome:
        """Fire ``trigger`` from ``stage`` by itself (an escalation's
        ``then``; docs/design.md §6): no person signs, so no role or
        separation-of-duties check; recorded with the role ``system``.

        Raises:
            ValidationFailed, InvalidTransition: as ``fire``.
        """
        dest, transition = self.machine.fire(stage, trigger, facts)
        return Outcome(trigger, stage, dest, SYSTEM_ROLE, comment, transition.effects)
