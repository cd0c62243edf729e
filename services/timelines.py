"""A PPA's history as one timeline (issue 11; docs/design.md §3, §11): its
approval transitions (actor, role, comment, time, rule-set version) and the
audited changes of its fields and supporting documents (``db.audit``), in one
list by time.

The audit trail records every field a transition changes too; the stage and
the time it was entered are left out of the field changes, since the
transition itself says them better. Changes written by one request at one
moment are one entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from db import db
from db.audit import AuditEntry
from db.models import Attachment, Organization, PpaTransition, User
from services.ppas import get_ppa_or_raise

#: PPA fields a transition changes, shown by the transition rather than as field changes (the pin,
#: ``rules_hash``, is the rule set each transition row names; docs/design.md §13).
TRANSITION_FIELDS = frozenset({"approval_status", "stage_entered_at", "rules_hash"})
TRANSITION, CREATED, CHANGED, ATTACHED = "transition", "created", "changed", "attached"


@dataclass(frozen=True)
class FieldChange:
    """One field's old and new value, decoded from the audit log's JSON
    (money as its string, dates in ISO 8601; the implementing MOA,
    ``organization_id``, as its organization code)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a PPA.

    Attributes:
        kind: ``transition``, ``created``, ``changed`` or ``attached``.
        at: when (aware, UTC).
        actor: the username (``job:<kind>`` for a background job).
        role, trigger, from_stage, to_stage, comment, rules_hash: of a transition.
        changes: of a ``changed`` entry.
        file_name: of an ``attached`` entry.
    """

    kind: str
    at: datetime
    actor: str
    role: str | None = None
    trigger: str | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    comment: str | None = None
    rules_hash: str | None = None
    changes: tuple[FieldChange, ...] = ()
    file_name: str | None = None


def _decoded(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def ppa_timeline(user: User, ppa_id: int) -> list[TimelineEntry]:
    """Every transition and audited change of PPA ``ppa_id``, oldest first
    (three statements: transitions, audit rows, attachment names).

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    entries = [TimelineEntry(TRANSITION, t.created_at, t.actor.username, role=t.role, trigger=t.trigger,
                             from_stage=t.from_stage, to_stage=t.to_stage, comment=t.comment,
                             rules_hash=t.rules_hash)
               for t in db.session.scalars(select(PpaTransition).where(PpaTransition.ppa_id == ppa.id)
                                           .order_by(PpaTransition.id))]
    files = dict(db.session.execute(select(Attachment.id, Attachment.file_name).where(
        Attachment.record_type == "ppa", Attachment.record_id == ppa.id)).all())
    rows = db.session.scalars(select(AuditEntry).where(or_(
        and_(AuditEntry.entity == "ppa", AuditEntry.entity_id == ppa.id),
        and_(AuditEntry.entity == "attachment", AuditEntry.entity_id.in_(files), AuditEntry.action == "create")))
        .order_by(AuditEntry.id))
    changes: dict[tuple, list[FieldChange]] = {}
    for row in rows:
        if row.entity == "attachment":
            entries.append(TimelineEntry(ATTACHED, row.created_at, row.actor, file_name=files[row.entity_id]))
        elif row.action == "create":
            entries.append(TimelineEntry(CREATED, row.created_at, row.actor))
        elif row.field not in TRANSITION_FIELDS:
            changes.setdefault((row.created_at, row.actor, row.request_id), []).append(
                FieldChange(row.field, _decoded(row.old_value), _decoded(row.new_value)))
    moved = {value for fields in changes.values() for change in fields if change.field == "organization_id"
             for value in (change.old, change.new) if value is not None}
    codes = dict(db.session.execute(select(Organization.id, Organization.code).where(Organization.id.in_(moved)))
                 .all()) if moved else {}
    entries += [TimelineEntry(CHANGED, at, actor, changes=tuple(
        FieldChange(c.field, codes.get(c.old, c.old), codes.get(c.new, c.new)) if c.field == "organization_id" else c
        for c in fields)) for (at, actor, _), fields in changes.items()]
    order = {CREATED: 0, CHANGED: 1, ATTACHED: 2, TRANSITION: 3}
    return sorted(entries, key=lambda entry: (entry.at, order[entry.kind]))
