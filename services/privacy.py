"""Personal data of community needs under the Data Privacy Act of 2012
(RA 10173): the privacy notice, erasure on request and the retention purge
(issue 15 item 7, docs/design.md §14).

What is personal here: who raised a need (``needs.submitted_by_id``) and
who voted (``need_votes.user_id``). A need has no other personal field: its
title and description describe a place's need, and the public view never
shows who raised or voted for it (``services.needs.public_view``).

Erasing or purging *detaches* rows from the person, it does not delete
them: the need stays, and each vote row stays with its weight and without
its voter, so a need's ``votes`` and ``vote_weight`` still equal its rows'
count and sum (anonymous counts, as the issue asks).

Other modules add their own personal data with ``eraser`` and ``purger``
(feedback photos, say): each is a function ``(session, user_id, dry_run)``
or ``(session, cutoff, dry_run)`` returning ``{what: count}``; it must only
count when ``dry_run`` is true. They run in the caller's one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.audit import AuditEntry, get_context
from db.models import Need, NeedVote, User
from db.types import utcnow
from services.access import is_superuser
from services.calendar import today
from services.runtime import current_hash, get_runtime
from services.unit_of_work import transaction
from workflow.errors import Forbidden, NotFound

#: The ``audit_log`` entity of erasures and purges (``services.audit_log.AUDITED_ENTITIES``).
AUDIT_ENTITY = "personal_data"

#: ``(session, user_id, dry_run) -> {what: count}``: erase one person's links (``eraser``).
Eraser = Callable[[Session, int, bool], dict[str, int]]
#: ``(session, cutoff, dry_run) -> {what: count}``: detach what is older than ``cutoff`` (``purger``).
Purger = Callable[[Session, "Cutoff", bool], dict[str, int]]

#: The erasers ``erase_person`` runs, in order (``eraser`` adds one).
ERASERS: list[Eraser] = []
#: The purgers ``purge`` runs, in order (``purger`` adds one).
PURGERS: list[Purger] = []


def eraser(function: Eraser) -> Eraser:
    """Register ``function`` as an eraser of a person's personal data (a decorator)."""
    ERASERS.append(function)
    return function


def purger(function: Purger) -> Purger:
    """Register ``function`` as a purger of personal data past retention (a decorator)."""
    PURGERS.append(function)
    return function


@dataclass(frozen=True)
class Cutoff:
    """The retention limit: rows from before ``day`` (Asia/Manila) or
    ``moment`` (the start of that day, UTC) are past it."""

    day: date
    moment: datetime


@dataclass
class Outcome:
    """What an erasure or a purge did (or, with ``dry_run``, would do):
    ``counts`` ``{what: rows}``, e.g. ``{"needs": 2, "votes": 5}``."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    cutoff: date | None = None

    def add(self, counts: dict[str, int]) -> None:
        for what, number in counts.items():
            self.counts[what] = self.counts.get(what, 0) + number

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def notice() -> dict[str, str]:
    """The privacy notice of the active rule set: ``{version, text}``
    (needs.yaml ``privacy``), for the public pages and the public API."""
    rules = get_runtime().rules.needs.privacy
    return {"version": rules.notice_version, "text": rules.notice}


def retention_cutoff(on: date | None = None) -> Cutoff:
    """The day before which personal data is past retention: ``on`` (today
    in Asia/Manila by default) less needs.yaml's ``retention_years`` (29
    February becomes 28 February in a common year)."""
    on = on or today()
    years = get_runtime().rules.needs.privacy.retention_years
    try:
        day = on.replace(year=on.year - years)
    except ValueError:
        day = on.replace(year=on.year - years, day=28)
    zone = ZoneInfo(get_runtime().rules.schedule.timezone)
    return Cutoff(day, datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC")))


# -- needs and votes ------------------------------------------------------------------------


def _detach_needs(session: Session, where, dry_run: bool) -> int:
    if dry_run:
        return session.scalar(select(func.count()).select_from(Need).where(where)) or 0
    # A new version: a cached copy that still names the person is stale (its ETag no longer matches).
    return session.execute(update(Need).where(where).values(
        submitted_by_id=None, version=Need.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount


def _detach_votes(session: Session, where, dry_run: bool) -> int:
    if dry_run:
        return session.scalar(select(func.count()).select_from(NeedVote).where(where)) or 0
    return session.execute(update(NeedVote).where(where).values(user_id=None)
                           .execution_options(synchronize_session=False)).rowcount


@eraser
def erase_needs_and_votes(session: Session, user_id: int, dry_run: bool) -> dict[str, int]:
    """The person's needs lose who raised them; their votes lose their voter
    (weights and the needs' counts stay)."""
    return {"needs": _detach_needs(session, Need.submitted_by_id == user_id, dry_run),
            "votes": _detach_votes(session, NeedVote.user_id == user_id, dry_run)}


@purger
def purge_needs_and_votes(session: Session, cutoff: Cutoff, dry_run: bool) -> dict[str, int]:
    """Needs raised before the cutoff day lose who raised them; votes cast
    before it lose their voter."""
    return {"needs": _detach_needs(session, (Need.submitted_by_id.is_not(None)) & (Need.submitted_on < cutoff.day),
                                   dry_run),
            "votes": _detach_votes(session, (NeedVote.user_id.is_not(None)) & (NeedVote.created_at < cutoff.moment),
                                   dry_run)}


# -- the use cases --------------------------------------------------------------------------


def _record(session: Session, action: str, entity_id: int, details: dict[str, Any]) -> None:
    """One audit row for an erasure or purge: who did it and the counts,
    never the person's data or the rows that were theirs."""
    context = get_context()
    session.add(AuditEntry(entity=AUDIT_ENTITY, entity_id=entity_id, action=action, field=None, old_value=None,
                           new_value=json.dumps(details, sort_keys=True), actor_id=context.actor_id,
                           actor=context.actor, request_id=context.request_id, organization_id=None,
                           rules_hash=current_hash()))


def _require_admin(actor: User, action: str) -> None:
    if not is_superuser(actor):
        raise Forbidden(f"to {action} you need the role admin")


def erase_person(session: Session, user: User, *, dry_run: bool = False) -> Outcome:
    """Run every registered eraser for ``user`` in ``session`` (the caller's
    transaction) and return the counts.

    Returns:
        ``Outcome``: ``{"needs": n, "votes": m, ...}`` rows detached (with
        ``dry_run``: that would be; nothing is written).
    """
    outcome = Outcome(dry_run=dry_run)
    for function in ERASERS:
        outcome.add(function(session, user.id, dry_run))
    return outcome


def erase(actor: User, username: str, *, dry_run: bool = False) -> Outcome:
    """Erase a person's personal data on their request, in one transaction:
    ``erase_person`` and one audit row (entity ``personal_data``, the
    person's user id, action ``erase``, the counts as ``new_value``). Their
    account itself is managed as any account (``ppaflow user set --inactive``).

    Raises:
        Forbidden: ``actor`` is not an administrator.
        NotFound: no user ``username``.
    """
    _require_admin(actor, "erase a person's personal data")
    with transaction() as session:
        person = session.scalar(select(User).where(User.username == username))
        if person is None:
            raise NotFound(f"user {username!r} not found")
        outcome = erase_person(session, person, dry_run=dry_run)
        if not dry_run:
            _record(session, "erase", person.id, outcome.counts)
    return outcome


def purge(actor: User | None = None, *, on: date | None = None, dry_run: bool = False) -> Outcome:
    """Detach personal data older than needs.yaml's ``retention_years``
    (``retention_cutoff``) with every registered purger, in one transaction,
    and record one audit row (entity ``personal_data``, id 0, action
    ``purge``, the cutoff and counts) when something changed. Nightly-able:
    a second run the same day finds nothing.

    ``actor``: the administrator, or ``None`` for the operator (a schedule).

    Raises:
        Forbidden: ``actor`` is not an administrator.
    """
    if actor is not None:
        _require_admin(actor, "purge personal data")
    cutoff = retention_cutoff(on)
    outcome = Outcome(dry_run=dry_run, cutoff=cutoff.day)
    with transaction() as session:
        for function in PURGERS:
            outcome.add(function(session, cutoff, dry_run))
        if not dry_run and outcome.total:
            _record(session, "purge", 0, {"before": cutoff.day.isoformat(), **outcome.counts})
    return outcome
