"""Approval use cases: fire a trigger, list the actions open to a user, read
the history (docs/design.md §3).

A transition and its side effects are one transaction: the PPA row is locked
and re-read, the stage re-checked on the locked row, the history row written,
the effects run, the owner and the next stage's reviewers notified
(``services.notifications.notify_stage_change``), and all of it commits or
none of it does. Two concurrent
approvals of one PPA therefore never both succeed.
"""

from __future__ import annotations

from sqlalchemy import select

from db import db
from db.models import Ppa, PpaTransition, User
from db.types import utcnow
from services import alerts, notifications
from services.access import actor_of
from services.concurrency import check_if_match
from services.effects import EffectContext, run_effects
from services.ppas import get_ppa_or_raise
from services.runtime import get_runtime
from services.unit_of_work import transaction
from workflow.approval import Action, PastTransition
from workflow.errors import PreconditionFailed


def past_transitions(ppa_id: int) -> list[PastTransition]:
    """The PPA's history as the approval rules see it (oldest first)."""
    rows = db.session.execute(
        select(PpaTransition.actor_id, PpaTransition.trigger, PpaTransition.from_stage, PpaTransition.to_stage)
        .where(PpaTransition.ppa_id == ppa_id).order_by(PpaTransition.id)
    )
    return [PastTransition(*row) for row in rows]


def fire_transition(user: User, ppa_id: int, trigger: str, *, comment: str | None = None,
                    if_match: str | None = None) -> Ppa:
    """Fire ``trigger`` on PPA ``ppa_id`` as ``user``.

    Returns:
        The PPA in its new stage (committed).

    Raises:
        NotFound: the PPA is not visible to ``user``.
        PreconditionFailed: ``if_match`` is stale.
        ValidationFailed: unknown trigger, or a required comment is missing.
        InvalidTransition: the trigger cannot fire from the current stage.
        RoleMissing, SeparationOfDuties: ``user`` may not fire it.
    """
    runtime = get_runtime()
    with transaction() as session:
        ppa = get_ppa_or_raise(user, ppa_id, for_update=True)
        check_if_match(if_match, ppa.etag)
        outcome = runtime.approval.fire(ppa.approval_status, trigger, actor_of(user, ppa.organization_id),
                                        past_transitions(ppa.id), comment)
        ppa.approval_status = outcome.dest
        ppa.stage_entered_at = utcnow()
        ppa.updated_by_id = user.id
        session.add(PpaTransition(
            ppa_id=ppa.id, actor_id=user.id, role=outcome.role, trigger=outcome.trigger,
            from_stage=outcome.source, to_stage=outcome.dest, comment=outcome.comment,
            rules_hash=runtime.rules.hash,
        ))
        run_effects(outcome.effects, EffectContext(session, ppa, user, outcome, runtime))
        notifications.notify_stage_change(session, ppa, user, outcome.trigger, outcome.source, outcome.dest,
                                          outcome.comment)
        alerts.resolve_overdue_for(session, ppa.id)  # it moved on: not overdue any more
    return ppa


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
    actions = get_runtime().approval.actions(ppa.approval_status, actor_of(user, ppa.organization_id),
                                             past_transitions(ppa.id), stale=stale)
    return ppa, actions


def history(user: User, ppa_id: int) -> list[PpaTransition]:
    """The PPA's approval history, oldest first.

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    return list(db.session.scalars(
        select(PpaTransition).where(PpaTransition.ppa_id == ppa.id).order_by(PpaTransition.id)))


def returned_by(user: User, ppa_id: int) -> PpaTransition | None:
    """The transition that sent the PPA back to the workflow's initial stage
    (a return for revision, with the reviewer's comment), when that is where
    it is now; ``None`` for a PPA that was never submitted or has moved on.

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    initial = get_runtime().rules.approval.machine.initial
    if ppa.approval_status != initial:
        return None
    last = db.session.scalar(select(PpaTransition).where(PpaTransition.ppa_id == ppa.id)
                             .order_by(PpaTransition.id.desc()).limit(1))
    return last if last is not None and last.to_stage == initial else None
