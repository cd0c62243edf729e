"""Approval use cases: fire a trigger, list the actions open to a user, read
the history (docs/design.md §3). The decisions are the workflow engine's,
through ``services.workflows`` like every workflow of the rules.

A transition and its side effects are one transaction: the PPA row is locked
and re-read, the stage re-checked on the locked row, the history row written,
the effects run, the owner and the next stage's reviewers notified
(``services.notifications.notify_stage_change``), and all of it commits or
none of it does. Two concurrent
approvals of one PPA therefore never both succeed.
"""

from __future__ import annotations

from db.models import Ppa, PpaTransition, User
from db.types import utcnow
from rules.model import PPA_WORKFLOW
from services import alerts, notifications, performance, users, workflows
from services.access import can_see_ppa
from services.concurrency import check_if_match
from services.ppas import committed_ppa, get_ppa_or_raise
from services.runtime import Runtime, get_runtime
from services.unit_of_work import transaction
from services.workflows import PPA_HISTORY, RecordKind
from workflow.engine import Action, Outcome
from workflow.errors import PreconditionFailed, ValidationFailed


def _entered_stage(ppa: Ppa, user: User, _outcome: Outcome) -> None:
    ppa.stage_entered_at = utcnow()
    ppa.updated_by_id = user.id


#: PPAs as the workflow service sees them: the PPA approval, the stage in
#: ``approval_status``, the history in ``ppa_transitions``.
PPA = workflows.register(RecordKind(
    "ppa", workflow=PPA_WORKFLOW, state="approval_status", organization_of=lambda ppa: ppa.organization_id,
    preparer_of=lambda ppa: ppa.created_by_id, history=PPA_HISTORY, on_move=_entered_stage, pin="rules_hash"))


def fire_transition(user: User, ppa_id: int, trigger: str, *, comment: str | None = None,
                    if_match: str | None = None) -> Ppa:
    """Fire ``trigger`` on PPA ``ppa_id`` as ``user`` (``services.workflows.fire``).

    Returns:
        The PPA in its new stage (committed).

    Raises:
        NotFound: the PPA is not visible to ``user``.
        PreconditionFailed: ``if_match`` is stale.
        ValidationFailed: unknown trigger, or a required comment is missing.
        InvalidTransition: the trigger cannot fire from the current stage.
        RoleMissing, SeparationOfDuties: ``user`` may not fire it.
    """
    with transaction() as session:
        ppa = get_ppa_or_raise(user, ppa_id, for_update=True)
        check_if_match(if_match, ppa.etag)
        runtime = workflows.runtime_of(PPA, ppa)  # the set that decides (pinned: its own)
        outcome = workflows.fire(user, PPA, ppa, trigger, comment=comment)
        if outcome.moved:  # a sign-off short of the K-th keeps the PPA where it is (docs/design.md §6)
            notifications.notify_stage_change(session, ppa, user, outcome.trigger, outcome.source, outcome.dest,
                                              outcome.comment, runtime)
            alerts.resolve_overdue_for(session, ppa.id)  # it moved on: not overdue any more
            if outcome.dest in (runtime.rules.budget.remarks.enacted_stages if runtime.rules.budget.remarks else ()):
                performance.capture_baseline(session, ppa)  # the earned value baseline (issue 16 §3)
    return committed_ppa(ppa_id)


def submit(user: User, ppa_id: int, **options) -> Ppa:
    """Submit a draft PPA for technical review (``fire_transition`` with ``submit``)."""
    return fire_transition(user, ppa_id, "submit", **options)


def approve(user: User, ppa_id: int, **options) -> Ppa:
    """Approve the PPA's current review stage (``fire_transition`` with ``approve``)."""
    return fire_transition(user, ppa_id, "approve", **options)


def enact(user: User, ppa_id: int, **options) -> Ppa:
    """Enact an approved PPA (``fire_transition`` with ``enact``)."""
    return fire_transition(user, ppa_id, "enact", **options)


def reject(user: User, ppa_id: int, *, comment: str, **options) -> Ppa:
    """Reject the PPA at its current review stage; a comment is required."""
    return fire_transition(user, ppa_id, "reject", comment=comment, **options)


def return_for_revision(user: User, ppa_id: int, *, comment: str, **options) -> Ppa:
    """Send the PPA back to draft for revision; a comment is required."""
    return fire_transition(user, ppa_id, "return_for_revision", comment=comment, **options)


def available_actions(user: User, ppa_id: int, *, if_match: str | None = None) -> tuple[Ppa, list[Action]]:
    """Every trigger of the workflow on this PPA, whether ``user`` may fire it
    now, and machine-readable reasons for the closed ones.

    Args:
        if_match: the ETag the caller holds; when stale, every action is
            closed with ``stale_version``.

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    try:
        check_if_match(if_match, ppa.etag)
        stale = False
    except PreconditionFailed:
        stale = True
    return ppa, workflows.actions(user, PPA, ppa, stale=stale)


def simulate_actions(admin: User, ppa_id: int, username: str) -> tuple[Ppa, User, bool, list[Action]]:
    """What ``username`` could do with the PPA now, and why not, as the
    ``/actions`` they would read (issue 14, item 6; docs/design.md §6 "Dry
    runs"): the same ``workflows.actions`` with them as the actor, their
    roles, organization and delegations; nothing is written.

    Returns:
        ``(ppa, user, visible, actions)``: ``visible`` false (and no
        actions) when the user may not even see the PPA.

    Raises:
        Forbidden (``RoleMissing``): ``admin`` is not an administrator.
        NotFound: no such PPA.
        ValidationFailed: ``username`` names no user.
    """
    users.require_administrator(admin)
    ppa = get_ppa_or_raise(admin, ppa_id)
    subject = users.get_user(username)
    if subject is None:
        raise ValidationFailed({"username": [f"no user {username!r}"]})
    if not can_see_ppa(subject, ppa):
        return ppa, subject, False, []
    return ppa, subject, True, workflows.actions(subject, PPA, ppa, stale=False)


def history(user: User, ppa_id: int) -> list[PpaTransition]:
    """The PPA's approval history, oldest first.

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    return workflows.history(PPA, ppa.id)


def returned_by(user: User, ppa_id: int) -> PpaTransition | None:
    """The transition that sent the PPA back to the workflow's initial stage
    (a return for revision, with the reviewer's comment), when that is where
    it is now; ``None`` for a PPA that was never submitted or has moved on.

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    initial = workflows.runtime_of(PPA, ppa).rules.approval.machine.initial
    if ppa.approval_status != initial:
        return None
    past = workflows.history(PPA, ppa.id)
    return past[-1] if past and past[-1].to_stage == initial else None


#: The history trigger of a move by ``ppaflow rules migrate`` or by a
#: mapping at activation, and of an administrator's escape hatch
#: (docs/design.md §13): neither is a transition of the rules.
MIGRATE, MOVE = "migrate", "move"


def administrator_role(user: User) -> str:
    """The superuser role ``user`` signs a migration or an escape-hatch move
    in (recorded on the history row).

    Raises:
        RoleMissing: ``user`` holds none (``users.require_administrator``).
    """
    users.require_administrator(user)
    return min(user.roles & set(get_runtime().rules.roles.superuser_roles))


def record_move(session, ppa: Ppa, user: User, role: str, stage: str, runtime: Runtime, trigger: str,
                comment: str) -> None:
    """Put ``ppa`` in ``stage`` of ``runtime``'s approval, pinned to that set
    (unpinned in its initial stage, ``workflows.set_stage``), and write the
    history row (``trigger``: ``MIGRATE`` or ``MOVE``; the hash of the set
    it now decides under). No transition's effects run and nobody is
    notified; an overdue alert of the stage it left resolves. In the
    caller's transaction, on the locked row."""
    source = ppa.approval_status
    workflows.set_stage(PPA, ppa, stage, runtime)
    if stage != source:
        ppa.stage_entered_at = utcnow()
        alerts.resolve_overdue_for(session, ppa.id)
    ppa.updated_by_id = user.id
    session.add(PpaTransition(ppa_id=ppa.id, actor_id=user.id, role=role, trigger=trigger, from_stage=source,
                              to_stage=stage, comment=comment, rules_hash=runtime.rules.hash))


def move_to_stage(admin: User, ppa_id: int, stage: str, comment: str, *, if_match: str | None = None) -> Ppa:
    """The administrator's escape hatch (issue 14 item 2, docs/design.md
    §13): put PPA ``ppa_id`` in ``stage``, any stage its rule set declares
    (the pinned set, a draft's the rules in force), whatever the
    transitions say; recorded in the history as ``move`` with the
    comment. Effects of transitions do not run.

    Raises:
        RoleMissing: ``admin`` is not an administrator.
        NotFound: no such PPA.
        PreconditionFailed: ``if_match`` is stale.
        ValidationFailed: ``stage`` is not a stage of its set, or the
            comment is empty (per field).
    """
    role = administrator_role(admin)
    comment = (comment or "").strip()
    with transaction() as session:
        ppa = get_ppa_or_raise(admin, ppa_id, for_update=True)
        check_if_match(if_match, ppa.etag)
        runtime = workflows.runtime_of(PPA, ppa)
        stages = runtime.rules.approval.machine.states
        errors = {}
        if stage not in stages:
            errors["stage"] = [(f"{stage!r} is not a stage of the PPA's rule set {runtime.rules.hash[:12]}; "
                                f"its stages are {', '.join(stages)}")]
        if not comment:
            errors["comment"] = ["required: say why the PPA is moved outside its workflow"]
        if errors:
            raise ValidationFailed(errors)
        record_move(session, ppa, admin, role, stage, runtime, MOVE, comment)
    return ppa
