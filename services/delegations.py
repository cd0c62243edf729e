"""Delegations: a user lends one of their roles to a named colleague from a
start to an expiry, for a reason (a reviewer on leave, an officer-in-charge;
issue 14 item 7, issue 12 item 3, docs/design.md §6).

While a delegation is active the colleague may sign workflow steps in that
role (``services.workflows``), and every step signed under it records the
delegator (``delegated_by``) in the record's history. It counts only for
workflow steps, where it is recorded; it does not lend the role's other
powers (editing PPAs, releasing allotments). It stops counting at its
expiry, when revoked, when its delegator is deactivated or loses the role;
an organization-scoped role (``moa_focal``) is lent only within the
delegator's organization and counts only on that organization's records.
A superuser role (``admin``) is never delegated.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import joinedload, lazyload

from db import db
from db.models import Delegation, User
from db.types import utcnow
from services.access import is_superuser
from services.runtime import get_runtime
from services.unit_of_work import transaction
from services.users import get_user
from workflow import engine
from workflow.errors import Conflict, Forbidden, NotFound, RoleMissing, ValidationFailed
from workflow.names import canonical_username
from workflow.text import is_blank, text_problem

MAX_REASON_LENGTH = 500
"""Characters a delegation's reason may have."""

LAPSED_WINDOW = timedelta(days=30)
"""How long after it ended a delegation is still named in a refusal
("your delegation of ... expired at ...")."""


def when(moment: datetime) -> str:
    """``moment`` in the schedule's time zone, for messages: ``2025-06-14 17:00 (Asia/Manila)``."""
    zone = get_runtime().rules.schedule.timezone
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"


# -- lending a role ------------------------------------------------------------------------------------------

def create_delegation(actor: User, fields: Mapping[str, Any]) -> Delegation:
    """Lend ``fields["role"]`` of the delegator to ``fields["delegate"]``.

    Args:
        actor: who asks: the delegator themselves, or an administrator
            acting for the delegator named in ``fields["delegator"]``.
        fields: ``role``; ``delegate`` (username); ``expires_at`` (aware);
            ``reason``; optionally ``starts_at`` (aware, default now) and
            ``delegator`` (username; default ``actor``).

    Returns:
        The delegation (committed).

    Raises:
        Forbidden: ``actor`` names another delegator and is no administrator.
        RoleMissing: ``actor`` delegates a role they do not hold.
        ValidationFailed: unknown or superuser role, unknown, deactivated or
            same delegate, a delegate outside the organization of an
            organization-scoped role, times out of order or past, no reason.
        Conflict: ``delegation_overlaps``: the same role is already lent to
            the same delegate for part of that time.
    """
    roles = get_runtime().rules.roles
    role, now = fields["role"], utcnow()
    errors: dict[str, list[str]] = {}
    with transaction() as session:
        delegator = _delegator(actor, fields.get("delegator"))
        if role not in roles:
            errors["role"] = [f"unknown role {role!r}; known: {', '.join(roles)}"]
        elif roles.roles[role].superuser:
            errors["role"] = [f"{role} is a superuser role and cannot be delegated"]
        elif role not in delegator.roles:
            if delegator.id == getattr(actor, "id", None):
                raise RoleMissing(f"you do not hold the role {role}, so you cannot delegate it",
                                  required_roles=[role])
            errors["role"] = [f"{delegator.username} does not hold the role {role}"]
        delegate = get_user(fields["delegate"])
        if delegate is None or not delegate.is_active:
            errors["delegate"] = [f"no active user {fields['delegate']!r}"]
        elif delegate.id == delegator.id:
            errors["delegate"] = ["a role cannot be delegated to its holder"]
        elif role in roles and roles.roles[role].organization_scoped and \
                delegate.organization_id != delegator.organization_id:
            org = delegator.organization.code if delegator.organization else "no organization"
            errors["delegate"] = [f"{role} counts only within {org}; delegate it to a colleague of {org}"]
        starts_at = fields.get("starts_at") or now
        expires_at = fields["expires_at"]
        if expires_at <= starts_at:
            errors["expires_at"] = ["must be after starts_at"]
        elif expires_at <= now:
            errors["expires_at"] = ["is already past"]
        reason = fields.get("reason")
        if reason is None or is_blank(reason):
            errors["reason"] = ["say why the role is delegated (e.g. on leave until ...)"]
        elif (problem := text_problem(reason)) or len(reason) > MAX_REASON_LENGTH:
            errors["reason"] = [problem or f"at most {MAX_REASON_LENGTH} characters"]
        if errors:
            raise ValidationFailed(errors)
        _refuse_overlap(delegator, delegate, role, starts_at, expires_at)
        scoped = roles.roles[role].organization_scoped
        delegation = Delegation(delegator_id=delegator.id, delegate_id=delegate.id, role=role,
                                organization_id=delegator.organization_id if scoped else None,
                                starts_at=starts_at, expires_at=expires_at, reason=reason.strip(),
                                created_by_id=getattr(actor, "id", None))
        session.add(delegation)
    return delegation


def _delegator(actor: User, username: str | None) -> User:
    """The delegator: ``actor`` itself, or (administrators only) the user
    called ``username``, locked so two delegations of theirs are checked for
    overlap one after the other."""
    actor_id = getattr(actor, "id", None)
    if username is None:
        if actor_id is None:  # the command line is nobody in particular
            raise ValidationFailed({"delegator": ["name the user whose role is delegated"]})
        user_id = actor_id
    else:
        if canonical_username(username) != getattr(actor, "username", None) and not is_superuser(actor):
            raise Forbidden("only an administrator may delegate another user's role")
        found = get_user(username)
        if found is None or not found.is_active:
            raise ValidationFailed({"delegator": [f"no active user {username!r}"]})
        user_id = found.id
    return db.session.scalars(select(User).where(User.id == user_id).with_for_update(of=User)
                              .execution_options(populate_existing=True)).one()


def _refuse_overlap(delegator: User, delegate: User, role: str, starts_at: datetime, expires_at: datetime) -> None:
    overlapping = db.session.scalar(select(Delegation).where(
        Delegation.delegator_id == delegator.id, Delegation.delegate_id == delegate.id, Delegation.role == role,
        Delegation.revoked_at.is_(None), Delegation.starts_at < expires_at, Delegation.expires_at > starts_at,
    ).limit(1))
    if overlapping is not None:
        raise Conflict(f"{delegator.username} already delegates {role} to {delegate.username} until "
                       f"{when(overlapping.expires_at)} (delegation {overlapping.id}); revoke it or choose "
                       "other dates", code="delegation_overlaps", delegation_id=overlapping.id)


# -- reading ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DelegationFilters:
    """Filters of ``GET /api/delegations`` and ``ppaflow delegation list`` (all optional).

    Attributes:
        user: username, as delegator or delegate.
        role: the delegated role.
        active: only those active now (true) or only those not (false).
    """

    user: str | None = None
    role: str | None = None
    active: bool | None = None


def list_delegations(actor: User, filters: DelegationFilters = DelegationFilters()) -> Select:
    """The delegations ``actor`` may see, newest first: administrators every
    one; everyone else those they gave or received."""
    query = select(Delegation).order_by(Delegation.id.desc())
    if not is_superuser(actor):
        query = query.where(or_(Delegation.delegator_id == actor.id, Delegation.delegate_id == actor.id))
    if filters.user:
        user = get_user(filters.user)
        user_id = user.id if user is not None else -1
        query = query.where(or_(Delegation.delegator_id == user_id, Delegation.delegate_id == user_id))
    if filters.role:
        query = query.where(Delegation.role == filters.role)
    if filters.active is not None:
        now = utcnow()
        live = (Delegation.revoked_at.is_(None) & (Delegation.starts_at <= now) & (Delegation.expires_at > now))
        query = query.where(live if filters.active else ~live)
    return query


def get_delegation_or_raise(actor: User, delegation_id: int, *, for_update: bool = False) -> Delegation:
    """One delegation ``actor`` may see (as delegator, delegate or administrator).

    Raises:
        NotFound: no such delegation, or ``actor`` may not see it.
    """
    query = select(Delegation).where(Delegation.id == delegation_id)
    if for_update:
        query = query.with_for_update(of=Delegation).execution_options(populate_existing=True)
    delegation = db.session.scalar(query)
    if delegation is None or not (is_superuser(actor) or actor.id in (delegation.delegator_id,
                                                                      delegation.delegate_id)):
        raise NotFound(f"delegation {delegation_id} not found")
    return delegation


def revoke_delegation(actor: User, delegation_id: int) -> Delegation:
    """End a delegation now: its delegator or an administrator may.

    Raises:
        NotFound: as ``get_delegation_or_raise``.
        Forbidden: ``actor`` is its delegate (who may see it, not revoke it).
        Conflict: ``delegation_ended``: it was revoked already or has expired.
    """
    with transaction():
        delegation = get_delegation_or_raise(actor, delegation_id, for_update=True)
        if not (is_superuser(actor) or actor.id == delegation.delegator_id):
            raise Forbidden("only the delegator or an administrator may revoke a delegation")
        now = utcnow()
        state = delegation.state_at(now)
        if state in ("revoked", "expired"):
            ended = delegation.revoked_at if state == "revoked" else delegation.expires_at
            raise Conflict(f"delegation {delegation.id} already ended: {state} at {when(ended)}",
                           code="delegation_ended")
        delegation.revoked_at = now
        delegation.revoked_by_id = getattr(actor, "id", None)
    return delegation


# -- signing under a delegation (services.workflows) -----------------------------------------------------------

#: What ``signing_delegations`` reads of a delegation beside its row: its delegator (with the
#: delegator's organization) and its organization, joined as the model loads them; not the
#: delegate (``user``, already loaded) nor who revoked it, whose joins would double the statement
#: that every transition sends (issue 17), for columns it never reads.
_SIGNING_LOADS = (lazyload(Delegation.delegate), lazyload(Delegation.revoked_by))


def signing_delegations(user: User, organization_id: int | None, *, lock: bool = False
                        ) -> tuple[tuple[engine.Delegation, ...], tuple[tuple[str, str], ...]]:
    """The delegations ``user`` may sign under on a record of
    ``organization_id`` now, and why the others lent to them recently do not
    count.

    Args:
        lock: lock the active delegations' rows (``FOR SHARE``) so that a
            revocation committing at the same moment waits for the step
            signed under it, or the step sees it revoked (a write path).

    Returns:
        ``(active, lapsed)``: ``engine.Delegation`` objects, and
        ``(role, why)`` pairs (``workflow.engine.Actor``).
    """
    now = utcnow()
    # One narrow statement in the usual case, built once: has anything been lent to ``user`` that is
    # live or ended (or starts) inside the window? (A live delegation expires in the future, so inside
    # the window too.) Most signers have none, and the entities' statement below, with its joins,
    # cost a transition more than the rest of its statements (issue 17).
    if db.session.execute(_lent_recently(), {"delegate_id": user.id, "since": now - LAPSED_WINDOW}).first() is None:
        return (), ()
    roles = get_runtime().rules.roles
    live = (Delegation.revoked_at.is_(None) & (Delegation.starts_at <= now) & (Delegation.expires_at > now))
    recently = ~live & (Delegation.expires_at > now - LAPSED_WINDOW)
    # Every delegation lent to ``user`` that is live or ended (or starts) inside the window, each
    # marked live or not. When some are live and ``lock`` is asked, both are read again: the live
    # ones locked, which may wait for a revocation, and then the others, which may now include one
    # just revoked.
    found = db.session.execute(select(Delegation, live.label("live")).where(
        Delegation.delegate_id == user.id, live | recently).options(*_SIGNING_LOADS)).all()
    current = sorted((d for d, is_live in found if is_live), key=lambda d: d.id)
    recent = sorted((d for d, is_live in found if not is_live), key=lambda d: d.id, reverse=True)
    if lock and current:
        current = list(db.session.scalars(
            select(Delegation).where(Delegation.delegate_id == user.id, live).order_by(Delegation.id)
            .options(*_SIGNING_LOADS)
            .with_for_update(read=True, of=Delegation).execution_options(populate_existing=True)))
        recent = list(db.session.scalars(
            select(Delegation).where(Delegation.delegate_id == user.id, recently).order_by(Delegation.id.desc())
            .options(*_SIGNING_LOADS).execution_options(populate_existing=True)))
    active, lapsed = [], {}
    for d in current:
        why = _does_not_count(d, user, organization_id, roles)
        if why is None:
            active.append(_engine_delegation(d))
        else:
            lapsed.setdefault(d.role, why)
    for d in recent:
        state = d.state_at(now)
        moment = {"revoked": d.revoked_at, "scheduled": d.starts_at}.get(state, d.expires_at)
        verb = {"revoked": "was revoked at", "scheduled": "starts at"}.get(state, "expired at")
        lapsed.setdefault(d.role, f"your delegation of {d.role} from {d.delegator.username} {verb} {when(moment)}")
    return tuple(active), tuple(lapsed.items())


@functools.cache
def _lent_recently() -> Select:
    """``signing_delegations``' first statement: one delegation lent to
    ``:delegate_id`` that expires after ``:since``, if any (its id). A
    table-level statement does not autoflush: a delegation added to the
    session and not yet flushed is not found."""
    table = Delegation.__table__
    return (select(table.c.id).where(table.c.delegate_id == bindparam("delegate_id"),
                                     table.c.expires_at > bindparam("since", type_=table.c.expires_at.type))
            .limit(1))


def live_delegations(user: User) -> list[Delegation]:
    """The delegations lent to ``user`` that are live now (started, not
    expired, not revoked), with their delegators and the delegators' roles,
    in one statement (for a page that asks about many records at once)."""
    now = utcnow()
    return list(db.session.scalars(
        select(Delegation).where(Delegation.delegate_id == user.id, Delegation.revoked_at.is_(None),
                                 Delegation.starts_at <= now, Delegation.expires_at > now)
        .options(joinedload(Delegation.delegator).joinedload(User.role_rows)).order_by(Delegation.id)).unique())


def counting_delegations(user: User, organization_id: int | None,
                         live: list[Delegation]) -> tuple[engine.Delegation, ...]:
    """Those of ``live`` (``live_delegations``) that ``user`` may sign under
    on a record of ``organization_id``."""
    roles = get_runtime().rules.roles
    return tuple(_engine_delegation(d) for d in live if _does_not_count(d, user, organization_id, roles) is None)


def _does_not_count(d: Delegation, user: User, organization_id: int | None, roles) -> str | None:
    """Why an active delegation does not count on a record of
    ``organization_id`` (``None`` when it does)."""
    prefix = f"your delegation of {d.role} from {d.delegator.username}"
    if not d.delegator.is_active:
        return f"{prefix} does not count: {d.delegator.username} is deactivated"
    if d.role not in d.delegator.roles or d.role not in roles or roles.roles[d.role].superuser:
        return f"{prefix} does not count: {d.delegator.username} no longer holds {d.role}"
    if roles.roles[d.role].organization_scoped and (organization_id is None or organization_id != d.organization_id
                                                    or user.organization_id != d.organization_id):
        org = d.organization.code if d.organization else "their organization"
        return f"{prefix} counts only on {org}'s records"
    return None


def _engine_delegation(d: Delegation) -> engine.Delegation:
    """``d`` as the workflow engine sees it, with the delegator's
    organization (what a sign-off under it signs for, docs/design.md §6)."""
    organization = d.delegator.organization.code if d.delegator.organization is not None else None
    return engine.Delegation(d.id, d.delegator_id, d.delegator.username, d.role, organization)
