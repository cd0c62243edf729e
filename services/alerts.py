"""Alerts (docs/design.md §7): raised at once by the change that crosses the line,
and again by the 6-hourly sweep (``services.sweeps``) for anything missed; one open alert per
type and subject; resolved when the condition clears.

- ``workitem_budget_variance``: an item's rolled-up expended exceeds its
  allocation;
- ``workitem_execution_blocked``: an item is blocked;
- ``approval_overdue``: a PPA's review stage is past its due date.

Severities come from rules/default/budget.yaml. Cancelled items raise nothing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, String, Table, and_, bindparam, cast, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db import db
from db.models import Alert, Organization, Ppa, User
from db.types import utcnow
from services import calendar
from services.access import visible_organization, visible_rows
from services.pins import approval_stages_by_pin
from services.runtime import get_runtime
from services.unit_of_work import transaction
from workflow.errors import NotFound
from workflow.money import format_centavos
from workflow.tree import CANCELLED, Node, Tree

VARIANCE, BLOCKED, OVERDUE = "workitem_budget_variance", "workitem_execution_blocked", "approval_overdue"
TREE_TYPES = (VARIANCE, BLOCKED)
ALERTS: Table = Alert.__table__


@dataclass(frozen=True)
class Condition:
    """A condition that should have an open alert."""

    type: str
    subject: str
    ppa_id: int
    organization_id: int
    message: str
    work_item_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def tree_conditions(ppa_id: int, organization_id: int, tree: Tree) -> list[Condition]:
    """Overspent and blocked items of a rolled-up tree (cancelled ones left out)."""
    return item_conditions(ppa_id, organization_id, tree.preorder())


def item_conditions(ppa_id: int, organization_id: int, nodes: Iterable[Node]) -> list[Condition]:
    """Overspent and blocked items among ``nodes`` (rolled up; cancelled ones left out)."""
    out = []
    for node in nodes:
        if node.status == CANCELLED:
            continue
        allocated = node.allocated or 0
        if node.expended > allocated:
            out.append(Condition(
                VARIANCE, f"work_item:{node.id}", ppa_id, organization_id,
                f"{node.title!r} has spent PHP {format_centavos(node.expended)}, PHP "
                f"{format_centavos(node.expended - allocated)} more than its allocation of PHP "
                f"{format_centavos(allocated)}",
                node.id, {"allocated": format_centavos(allocated), "expended": format_centavos(node.expended)}))
        if node.status == "blocked":
            out.append(Condition(BLOCKED, f"work_item:{node.id}", ppa_id, organization_id,
                                 f"{node.title!r} is blocked", node.id))
    return out


def reconcile(session: Session, ppa_ids: Sequence[int], types: Sequence[str],
              wanted: Iterable[Condition], *, subjects: Collection[str] | None = None,
              open_now: Mapping[tuple[str, str], int] | None = None) -> dict[str, int]:
    """Make the open alerts of ``types`` on ``ppa_ids`` match ``wanted``:
    open the missing ones, resolve those whose condition cleared.

    Args:
        subjects: only these subjects are reconciled (``wanted`` holds their
            conditions); ``None``: every subject of ``ppa_ids``.
        open_now: the open alerts of ``types`` on ``ppa_ids`` (of
            ``subjects``), ``(type, subject)`` -> id, when the caller read
            them earlier in this transaction (``open_alerts_column``); else
            one SELECT reads them.

    Returns:
        ``{"opened", "resolved"}``.
    """
    wanted = {(c.type, c.subject): c for c in wanted}
    if not ppa_ids:
        return {"opened": 0, "resolved": 0}
    if open_now is None:
        query = select(Alert.id, Alert.type, Alert.subject).where(
            Alert.ppa_id.in_(ppa_ids), Alert.type.in_(types), Alert.resolved_at.is_(None))
        if subjects is not None:
            query = query.where(Alert.subject.in_(subjects))
        open_now = {(t, s): i for i, t, s in session.execute(query)}
    rules = get_runtime().rules
    severities = rules.budget.alert_severities
    now = utcnow()
    missing = [{"type": c.type, "severity": severities[c.type], "subject": c.subject, "ppa_id": c.ppa_id,
                "work_item_id": c.work_item_id, "organization_id": c.organization_id, "message": c.message,
                "details": json.dumps(c.details), "opened_at": now, "rules_hash": rules.hash}
               for key, c in wanted.items() if key not in open_now]
    if missing:
        dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        # A concurrent sweep may open the same alert first: the partial unique index keeps one.
        session.execute(dialect_insert(Alert).on_conflict_do_nothing(
            index_elements=["type", "subject"], index_where=Alert.resolved_at.is_(None)), missing)
    cleared = [i for key, i in open_now.items() if key not in wanted]
    if cleared:
        session.execute(update(Alert).where(Alert.id.in_(cleared)).values(resolved_at=now))
    return {"opened": len(missing), "resolved": len(cleared)}


def reconcile_tree(session: Session, ppa: Ppa, tree: Tree) -> dict[str, int]:
    """Alerts of one rolled-up tree, right after a change to it."""
    return reconcile(session, [ppa.id], TREE_TYPES, tree_conditions(ppa.id, ppa.organization_id, tree))


def reconcile_items(session: Session, ppa: Ppa, nodes: Collection[Node], *,
                    open_now: Mapping[tuple[str, str], int] | None = None) -> dict[str, int]:
    """Alerts of some rolled-up items of one tree (the ancestor path of a
    change, the only items whose figures it can move), leaving the alerts of
    the others as they are.

    Args:
        open_now: the open tree alerts of ``nodes`` when the caller read
            them in this transaction, as ``item_alerts`` rows give them (an
            item without a row among them has none open); else one SELECT.
    """
    return reconcile(session, [ppa.id], TREE_TYPES, item_conditions(ppa.id, ppa.organization_id, nodes),
                     subjects=[item_subject(node.id) for node in nodes], open_now=open_now)


def item_subject(item_id: int) -> str:
    """The subject of a work item's alerts (``work_item:<id>``)."""
    return f"work_item:{item_id}"


def item_alerts(ppa_id, item_id) -> tuple[Table, ColumnElement[bool]]:
    """The open tree alerts (``TREE_TYPES``) of the PPA ``ppa_id`` on the
    work item ``item_id`` (values or columns: a column of an enclosing
    query), as ``(table, ON clause)`` to join outer: ``reconcile_items``'s SELECT folded
    into the statement that reads the items (``services.work_items.locate``)."""
    subject = literal("work_item:", String) + cast(item_id, String)
    return ALERTS, and_(ALERTS.c.ppa_id == ppa_id, ALERTS.c.subject == subject, ALERTS.c.type.in_(TREE_TYPES),
                        ALERTS.c.resolved_at.is_(None))


def overdue_conditions(session: Session, day: date) -> tuple[list[int], list[Condition]]:
    """PPAs in a review stage with a due date, and those past it on ``day``.

    Returns:
        ``(ids of PPAs with a due date, conditions for the overdue ones)``.
    """
    # A pinned PPA's stage falls due as its own rule set says (docs/design.md §13).
    by_set = approval_stages_by_pin(session, lambda state: bool(state.due_in_days))
    rows = session.execute(select(Ppa.id, Ppa.organization_id, Ppa.title, Ppa.approval_status, Ppa.stage_entered_at,
                                  Ppa.rules_hash)
                           .where(Ppa.approval_status.in_(set().union(*by_set.values())))).all()
    in_scope, conditions = [], []
    for ppa_id, organization_id, title, stage, entered, rules_hash in rows:
        stages = by_set.get(rules_hash, {})
        if stage not in stages:
            continue
        in_scope.append(ppa_id)
        due = calendar.due_date(entered, stages[stage].due_in_days)
        if day > due:
            conditions.append(Condition(
                OVERDUE, f"ppa:{ppa_id}:{stage}", ppa_id, organization_id,
                f"{stages[stage].label} of {title!r} was due {due.isoformat()} ({(day - due).days} day(s) overdue)",
                details={"stage": stage, "due_date": due.isoformat()}))
    return in_scope, conditions


def reconcile_overdue(session: Session, day: date) -> dict[str, int]:
    """Open and resolve ``approval_overdue`` alerts as of ``day``; alerts of
    PPAs that left their stage resolve too."""
    in_scope, conditions = overdue_conditions(session, day)
    stale = session.scalars(select(Alert.ppa_id).where(Alert.type == OVERDUE, Alert.resolved_at.is_(None))).all()
    return reconcile(session, sorted(set(in_scope) | set(stale)), [OVERDUE], conditions)


def resolve_overdue_for(session: Session, ppa_id: int) -> None:
    """A PPA moved on: its overdue alert, if any, resolves at once (one
    UPDATE of the table, built once: every transition sends it, and the
    ORM's UPDATE of the entity cost more than the statement; issue 17).
    An ``Alert`` object the session already holds is not updated: no
    caller loads one before it."""
    session.execute(_resolve_overdue(), {"moved_ppa_id": ppa_id, "resolved_now": utcnow()})


@functools.cache
def _resolve_overdue():
    """``resolve_overdue_for``'s statement: the open overdue alert of PPA
    ``:moved_ppa_id`` resolved at ``:resolved_now``."""
    table = Alert.__table__
    return (update(table).where(table.c.ppa_id == bindparam("moved_ppa_id"), table.c.type == OVERDUE,
                                table.c.resolved_at.is_(None))
            .values(resolved_at=bindparam("resolved_now", type_=table.c.resolved_at.type)))


# -- reading and acknowledging ---------------------------------------------------------


@dataclass(frozen=True)
class AlertFilters:
    """Filters of ``GET /api/alerts``."""

    type: str | None = None
    severity: str | None = None
    status: str | None = None  # open | resolved
    ppa: int | None = None
    moa: str | None = None


def list_alerts(user: User, filters: AlertFilters) -> Select:
    """The alerts ``user`` may see (their organization's, or all for
    reviewers), newest first."""
    query = select(Alert).where(visible_rows(user, Alert.organization_id))
    if filters.type:
        query = query.where(Alert.type == filters.type)
    if filters.severity:
        query = query.where(Alert.severity == filters.severity)
    if filters.status == "open":
        query = query.where(Alert.resolved_at.is_(None))
    elif filters.status == "resolved":
        query = query.where(Alert.resolved_at.is_not(None))
    if filters.ppa is not None:
        query = query.where(Alert.ppa_id == filters.ppa)
    if filters.moa:
        query = query.where(Alert.organization_id.in_(select(Organization.id).where(Organization.code == filters.moa)))
    return query.order_by(Alert.id.desc())


def acknowledge(user: User, alert_id: int) -> Alert:
    """Record that ``user`` has seen the alert (the first acknowledgement is kept).

    Raises:
        NotFound: unknown, or not visible to ``user``.
    """
    with transaction():
        alert = db.session.scalar(select(Alert).where(Alert.id == alert_id).with_for_update(of=Alert))
        if alert is None or not visible_organization(user, alert.organization_id):
            raise NotFound(f"alert {alert_id} not found")
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by_id = utcnow(), user.id
    return alert
