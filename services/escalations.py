"""Escalation of an overdue approval stage (``escalate:`` of a stage in
workflows/approval.yaml; docs/design.md §6 "Escalation"; issue 14 item 7).

A stage that declares ``escalate: {after_business_days: N, notify: [role],
then: trigger}`` escalates a PPA that has stayed in it N business days
(weekends and the schedule's public holidays skipped, ``services.calendar``):
every active holder of a ``notify`` role (an organization-scoped role only in
the PPA's organization) is told once per stay, and with ``then`` the trigger
fires by itself, recorded in the history as by the ``system`` account with
the role ``system``. The job ``escalate_overdue_stages`` (schedule.yaml)
runs it; ``/actions`` says when the PPA's stage escalates.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from db.models import Notification, Ppa, User, UserRole
from db.types import utcnow
from services import alerts, calendar, notifications, workflows
from services.approvals import PPA
from services.pins import approval_stages_by_pin
from services.runtime import runtime_for
from services.unit_of_work import transaction
from services.users import username_skeleton
from workflow.calendar import add_days

log = logging.getLogger("ppaflow.jobs")

ESCALATED = "stage_escalated"
"""Notification kind of an escalation."""

SYSTEM_USERNAME = "system"
"""The account automatic transitions are recorded under (created inactive, without roles, when first needed)."""


def _stage(stage: str, rules_hash: str | None):
    """The approval stage ``stage`` of the rule set ``rules_hash`` (``None``:
    the rules in force; a pinned PPA escalates by its own set, docs/design.md §13)."""
    return runtime_for(rules_hash).rules.approval.machine.states.get(stage)


def escalates_on(stage: str, entered_at: datetime | None, rules_hash: str | None = None) -> date | None:
    """The day a PPA that entered ``stage`` at ``entered_at`` escalates
    (``after_business_days`` business days later) under the rule set
    ``rules_hash`` (the PPA's pin; ``None``: the rules in force), or
    ``None`` when the stage does not escalate."""
    state = _stage(stage, rules_hash)
    if state is None or state.escalate is None or entered_at is None:
        return None
    return add_days(calendar.local_date(entered_at), state.escalate.after_business_days,
                    is_day_off=calendar.is_day_off)


def escalation_of(ppa: Ppa) -> dict[str, Any] | None:
    """What ``/actions`` says of the PPA's stage escalation:
    ``{"after_business_days", "escalates_on", "notify", "then", "message"}``, or ``None``."""
    state = _stage(ppa.approval_status, ppa.rules_hash)
    day = escalates_on(ppa.approval_status, ppa.stage_entered_at, ppa.rules_hash)
    if state is None or state.escalate is None or day is None:
        return None
    rule = state.escalate
    then = f", then {rule.then.replace('_', ' ')} fires by itself" if rule.then else ""
    verb = "escalated" if day <= calendar.today() else "escalates"
    return {"after_business_days": rule.after_business_days, "escalates_on": day, "notify": list(rule.notify),
            "then": rule.then,
            "message": f"{state.label} {verb} on {day.isoformat()} (after {rule.after_business_days} business "
                       f"days): {' and '.join(rule.notify)} notified{then}"}


def system_user(session) -> User:
    """The ``system`` account (inactive, no roles), created when first needed."""
    user = session.scalar(select(User).where(User.username == SYSTEM_USERNAME))
    if user is None:
        user = User(username=SYSTEM_USERNAME, username_skeleton=username_skeleton(SYSTEM_USERNAME),
                    full_name="ppaflow (automatic transitions)", is_active=False)
        session.add(user)
        session.flush()
    return user


def escalate_overdue_stages(day: date | None = None) -> dict[str, Any]:
    """Escalate every PPA that has stayed in an escalating stage its
    ``after_business_days`` as of ``day`` (default today in the schedule's
    time zone): notify, and fire ``then`` if declared. One transaction per
    PPA, so one failure never stops the rest; running it twice notifies
    nobody twice (one notification per recipient, PPA, stage and escalation day).

    Returns:
        ``{"day", "overdue", "notifications", "fired", "errors"}``: PPAs past
        their escalation day (escalated now or before), notifications sent
        now, triggers fired now, PPAs that failed.
    """
    day = day or calendar.today()
    result = {"day": day.isoformat(), "overdue": 0, "notifications": 0, "fired": 0, "errors": 0}
    with transaction() as session:
        # each PPA escalates by the rule set it is pinned to (None: the rules in force)
        escalating = approval_stages_by_pin(session, lambda state: state.escalate is not None)
        where = [(Ppa.rules_hash.is_(None) if pin is None else Ppa.rules_hash == pin) & Ppa.approval_status.in_(names)
                 for pin, names in escalating.items() if names]
        if not where:
            return result
        candidates = session.execute(select(Ppa.id, Ppa.approval_status, Ppa.stage_entered_at, Ppa.rules_hash)
                                     .where(or_(*where)).order_by(Ppa.id)).all()
    due = [(ppa_id, stage) for ppa_id, stage, entered, pin in candidates
           if (when := escalates_on(stage, entered, pin)) is not None and when <= day]
    for ppa_id, stage in due:
        try:
            with transaction() as session:
                ppa = session.scalar(select(Ppa).where(Ppa.id == ppa_id).with_for_update(of=Ppa)
                                     .execution_options(populate_existing=True))
                if ppa is None or ppa.approval_status != stage:
                    continue  # moved on meanwhile
                when = escalates_on(stage, ppa.stage_entered_at, ppa.rules_hash)
                if when is None or when > day:
                    continue
                state = _stage(stage, ppa.rules_hash)
                rule = state.escalate
                result["notifications"] += _notify(session, ppa, state, when)
                result["overdue"] += 1
                if rule.then:
                    system = system_user(session)
                    comment = (f"escalated: {state.label} was left {rule.after_business_days} business "
                               f"days (since {calendar.local_date(ppa.stage_entered_at).isoformat()})")
                    outcome = workflows.fire_by_system(system, PPA, ppa, rule.then, comment)
                    notifications.notify_stage_change(session, ppa, system, outcome.trigger, outcome.source,
                                                      outcome.dest, outcome.comment, runtime_for(ppa.rules_hash))
                    alerts.resolve_overdue_for(session, ppa.id)
                    result["fired"] += 1
        except Exception as exc:  # noqa: BLE001 - logged and counted, the others go on
            log.error("escalation: PPA %s skipped: %s", ppa_id, exc)
            result["errors"] += 1
    return result


def _notify(session, ppa: Ppa, stage, when: date) -> int:
    """One notification per holder of the stage's ``notify`` roles (an
    organization-scoped role only in the PPA's organization), keyed on the
    escalation day so a second run adds none."""
    rule = stage.escalate
    scoped = set(rule.notify) & set(runtime_for(ppa.rules_hash).rules.roles.organization_scoped_roles)
    query = (select(User.id).join(UserRole, UserRole.user_id == User.id)
             .where(User.is_active.is_(True), UserRole.role.in_(rule.notify)))
    if scoped:
        query = query.where(UserRole.role.not_in(scoped) | (User.organization_id == ppa.organization_id))
    recipients = sorted(set(session.scalars(query)))
    if not recipients:
        return 0
    then = f"; {rule.then.replace('_', ' ')} fires by itself" if rule.then else ""
    rows = [{"recipient_id": recipient, "kind": ESCALATED, "ppa_id": ppa.id, "stage": stage.name, "day": when,
             "status": "pending", "attempts": 0, "created_at": utcnow(),
             "subject": f"[ppaflow] Escalated: {stage.label} of PPA {ppa.id}",
             "body": f"{stage.label} of PPA {ppa.id} '{ppa.title}' has waited {rule.after_business_days} business "
                     f"days (escalated on {when.isoformat()}){then}.\nOpen it: /ppas/{ppa.id}\n"}
            for recipient in recipients]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return len(session.execute(insert(Notification).on_conflict_do_nothing(
        index_elements=["recipient_id", "kind", "ppa_id", "stage", "day"]).returning(Notification.id), rows).all())
