"""The notification outbox: stage changes and approval deadline reminders
(docs/design.md §7, §11).

When a PPA changes stage, its owner (its author) and the reviewers of the
stage it enters are told, in the same transaction as the transition
(``notify_stage_change``, called by ``services.approvals``): one
notification per recipient, PPA and stage (a return to the stage on the
same day brings the one notification back as unread), never to the person
who fired the transition.

Reminders go to the PPA's owner (its author) and to every active user
holding one of the stage's reviewer roles, when the stage is due within
rules/default/schedule.yaml ``reminders.days_before_due`` days or overdue; at most
once per recipient, PPA, stage and day (a database constraint), so running
the job twice sends nothing more. With ``SMTP_URL`` set, pending messages
are delivered by SMTP; otherwise they stay in the outbox, readable through
``GET /api/notifications``.
"""

from __future__ import annotations

import functools
import logging
import smtplib
from datetime import date
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import Integer, Select, bindparam, select, true, union, update
from sqlalchemy.dialects import postgresql, sqlite

from db import db
from db.models import Notification, Ppa, User, UserRole
from db.types import utcnow
from services import alerts, calendar
from services.background import enqueue
from services.pins import approval_stages_by_pin
from services.runtime import Runtime, get_runtime
from services.unit_of_work import transaction
from workflow.errors import NotFound

log = logging.getLogger("ppaflow.notifications")

REMINDER = "approval_deadline"
STAGE_CHANGED = "stage_changed"
#: A need forwarded to a MOA reached a vote count of needs.yaml ``vote_milestones``.
VOTE_MILESTONE = "need_vote_milestone"
#: The stages of a need forwarded to a MOA (rules/default/workflows/need.yaml).
FORWARDED_STAGES = ("forwarded", "addressed")
MAX_ATTEMPTS = 5


def send_deadline_reminders(day: date | None = None) -> dict[str, Any]:
    """Queue reminders for every PPA whose review stage is due soon or
    overdue on ``day`` (default: today in the schedule's time zone), and
    reconcile the ``approval_overdue`` alerts.

    Returns:
        ``{"day", "ppas_due", "notifications", "overdue_alerts_opened"}``
        (``notifications`` counts only the ones created now).
    """
    runtime = get_runtime()
    day = day or calendar.today()
    window = runtime.rules.schedule.reminder_days_before
    with transaction() as session:
        # A pinned PPA's stage is due, and reviewed, as its own rule set says (docs/design.md §13).
        by_set = approval_stages_by_pin(session, lambda state: bool(state.due_in_days and state.reviewers))
        ppas = [row for row in session.execute(
            select(Ppa.id, Ppa.title, Ppa.approval_status, Ppa.stage_entered_at, Ppa.created_by_id, Ppa.rules_hash)
            .where(Ppa.approval_status.in_(set().union(*by_set.values()))).order_by(Ppa.id))
            if row.approval_status in by_set.get(row.rules_hash, {})]
        roles = {role for stages in by_set.values() for stage in stages.values() for role in stage.reviewers}
        reviewers: dict[str, set[int]] = {}
        for user_id, role in session.execute(select(User.id, UserRole.role).join(UserRole, UserRole.user_id == User.id)
                                             .where(UserRole.role.in_(roles), User.is_active.is_(True))):
            reviewers.setdefault(role, set()).add(user_id)
        rows, due_count = [], 0
        for ppa_id, title, stage_name, entered, owner, rules_hash in ppas:
            stage = by_set[rules_hash][stage_name]
            due = calendar.due_date(entered, stage.due_in_days)
            days_left = (due - day).days
            if days_left > window:
                continue
            due_count += 1
            when = (f"is due {due.isoformat()}" if days_left >= 0
                    else f"was due {due.isoformat()} ({-days_left} day(s) overdue)")
            recipients = set().union(*(reviewers.get(r, set()) for r in stage.reviewers))
            if owner is not None:
                recipients.add(owner)
            for recipient in sorted(recipients):
                rows.append({"recipient_id": recipient, "kind": REMINDER, "ppa_id": ppa_id, "stage": stage_name,
                             "day": day, "status": "pending", "attempts": 0, "created_at": utcnow(),
                             "subject": f"[ppaflow] {stage.label} of PPA {ppa_id} {when}",
                             "body": f"{stage.label} of PPA {ppa_id} '{title}' {when}.\n"
                                     f"Open it: /api/monitoring-entries/{ppa_id}/actions\n"})
        created = 0
        if rows:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            created = len(session.execute(
                insert(Notification).on_conflict_do_nothing(
                    index_elements=["recipient_id", "kind", "ppa_id", "stage", "day"])
                .returning(Notification.id), rows).all())
        overdue = alerts.reconcile_overdue(session, day)
        if created and current_app.config.get("SMTP_URL"):
            enqueue("deliver_notifications")
    return {"day": day.isoformat(), "ppas_due": due_count, "notifications": created,
            "overdue_alerts_opened": overdue["opened"]}


#: The columns ``notify_stage_change`` writes, in the order its INSERT ... SELECT gives them.
_STAGE_CHANGE_COLUMNS = ("recipient_id", "kind", "ppa_id", "stage", "day", "status", "attempts", "created_at",
                         "subject", "body")


@functools.cache
def _stage_change_upsert(dialect: str, reviewers: bool, scoped: bool):
    """``notify_stage_change``'s one statement (built once per shape and
    dialect on first use): an ``INSERT ... SELECT`` of one row per
    recipient, in the order of their ids: the owner ``:owner_id`` (when not
    ``None``) and, with ``reviewers``, every active user holding one of
    ``:roles`` (a role of ``:scoped_roles``, with ``scoped``, only in the
    organization ``:organization_id``), except ``:actor_id``. A row already
    there (same recipient, kind, PPA, stage and day) takes the new subject,
    body and time and is pending and unread again. Returns one row per
    recipient."""
    table = Notification.__table__
    owner_id = bindparam("owner_id", type_=Integer)
    owner = select(owner_id.label("recipient_id")).where(owner_id.is_not(None), owner_id != bindparam("actor_id"))
    people = owner
    if reviewers:
        holders = (select(User.id.label("recipient_id")).join(UserRole, UserRole.user_id == User.id)
                   .where(User.is_active.is_(True), UserRole.role.in_(bindparam("roles", expanding=True)),
                          User.id != bindparam("actor_id")))
        if scoped:
            holders = holders.where(UserRole.role.not_in(bindparam("scoped_roles", expanding=True))
                                    | (User.organization_id == bindparam("organization_id")))
        people = union(owner, holders)
    recipients = people.subquery("recipients")
    constants = [bindparam(name, type_=table.c[name].type) for name in _STAGE_CHANGE_COLUMNS[1:]]
    # WHERE true: SQLite reads an upsert's INSERT ... SELECT unambiguously only with a WHERE clause.
    rows = select(recipients.c.recipient_id, *constants).where(true()).order_by(recipients.c.recipient_id)
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)  # Core: the rows are SQL's
    statement = statement.from_select(list(_STAGE_CHANGE_COLUMNS), rows)
    return statement.on_conflict_do_update(
        index_elements=["recipient_id", "kind", "ppa_id", "stage", "day"],
        set_={"subject": statement.excluded.subject, "body": statement.excluded.body,
              "created_at": statement.excluded.created_at, "status": "pending", "attempts": 0, "error": None,
              "sent_at": None, "read_at": None}).returning(table.c.recipient_id)


def notify_stage_change(session, ppa: Ppa, actor: User, trigger: str, source: str, dest: str,
                        comment: str | None, runtime: Runtime | None = None) -> int:
    """Queue the notifications of one stage change, in the caller's
    transaction (the transition's own), and have them e-mailed after the
    commit when ``SMTP_URL`` is set.

    Recipients: the PPA's owner (its author) and every active user holding a
    reviewer role of ``dest`` (rules/default/workflows/approval.yaml ``reviewers``; an
    organization-scoped role only in the PPA's organization), except
    ``actor``. One row per recipient, PPA and stage (``uq_notifications_once``,
    which also counts the day): entering the same stage again the same day
    makes that row unread and pending again with the new message. The
    recipients are found and written in one statement (an
    ``INSERT ... SELECT``, issue 17).
    ``runtime``: the rules that decided the change (a pinned PPA's set,
    docs/design.md §13), by default the rules in force.

    Returns:
        How many recipients were notified.
    """
    runtime = runtime or get_runtime()
    states = runtime.rules.approval.machine.states
    roles = set(states[dest].reviewers)
    scoped = roles & set(runtime.rules.roles.organization_scoped_roles)
    if not roles and ppa.created_by_id in (None, actor.id):
        return 0
    source_label, dest_label = states[source].label, states[dest].label
    body = (f"PPA {ppa.id} '{ppa.title}' ({ppa.organization.code}) moved from {source_label} to {dest_label}: "
            f"{trigger.replace('_', ' ')} by {actor.username}.\n"
            + (f"Comment: {comment}\n" if comment else "")
            + f"Open it: /ppas/{ppa.id}\n")
    parameters = {"owner_id": ppa.created_by_id, "actor_id": actor.id, "roles": sorted(roles),
                  "scoped_roles": sorted(scoped), "organization_id": ppa.organization_id,
                  "kind": STAGE_CHANGED, "ppa_id": ppa.id, "stage": dest, "day": calendar.today(),
                  "status": "pending", "attempts": 0, "created_at": utcnow(),
                  "subject": f"[ppaflow] PPA {ppa.id} is now in {dest_label}", "body": body}
    notified = len(session.execute(_stage_change_upsert(session.get_bind().dialect.name, bool(roles), bool(scoped)),
                                   parameters).all())
    if notified and current_app.config.get("SMTP_URL"):
        enqueue("deliver_notifications")
    return notified


def notify_vote_milestone(session, need, votes: int) -> int:
    """Tell the focal persons of the MOA a need was forwarded to that its
    votes reached ``votes``, one of needs.yaml ``vote_milestones`` (issue 15
    item 2), in the caller's transaction (the vote's), once per need and
    count whoever votes and withdraws around it; e-mailed after the commit
    when ``SMTP_URL`` is set. A need with no MOA yet notifies no one.

    Returns:
        How many people were notified.
    """
    marker = f"need-{need.id}:{votes}"
    if need.organization_id is None or need.status not in FORWARDED_STAGES or session.scalar(select(Notification.id).where(
            Notification.kind == VOTE_MILESTONE, Notification.stage == marker).limit(1)) is not None:
        return 0
    recipients = session.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id).where(
        User.is_active.is_(True), UserRole.role == "moa_focal", User.organization_id == need.organization_id)).all()
    now = utcnow()
    session.add_all([Notification(
        recipient_id=recipient, kind=VOTE_MILESTONE, ppa_id=None, stage=marker, day=calendar.today(),
        status="pending", attempts=0, created_at=now,
        subject=f"[ppaflow] Need {need.id} reached {votes} votes",
        body=f"The community need '{need.title}' forwarded to your MOA now has {votes} votes.\n"
             f"Open it: /needs/{need.id}\n") for recipient in sorted(set(recipients))])
    if recipients and current_app.config.get("SMTP_URL"):
        enqueue("deliver_notifications")
    return len(set(recipients))


def deliver_pending(limit: int = 500) -> dict[str, int]:
    """Send pending notifications by SMTP (``SMTP_URL``:
    ``smtp://[user:password@]host[:port][?from=addr&starttls=1]``, or
    ``smtps://...``). Without ``SMTP_URL`` they stay in the outbox.

    Returns:
        ``{"sent", "failed", "kept"}``.
    """
    url = current_app.config.get("SMTP_URL")
    with transaction() as session:
        pending = session.scalars(select(Notification).where(Notification.status == "pending")
                                  .order_by(Notification.id).limit(limit)
                                  .with_for_update(skip_locked=True, of=Notification)).all()
        if not url:
            return {"sent": 0, "failed": 0, "kept": len(pending)}
        sent = failed = 0
        with SmtpSession(url) as (server, sender):
            for note in pending:
                if not note.recipient.email:
                    note.status, note.error = "failed", "the recipient has no email address"
                    failed += 1
                    continue
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = sender, note.recipient.email, note.subject
                message.set_content(note.body)
                note.attempts += 1
                try:
                    server.send_message(message)
                except smtplib.SMTPException as exc:
                    note.error = str(exc)[:1000]
                    if note.attempts >= MAX_ATTEMPTS:
                        note.status = "failed"
                    failed += 1
                    continue
                note.status, note.sent_at, note.error = "sent", utcnow(), None
                sent += 1
    return {"sent": sent, "failed": failed, "kept": 0}


class SmtpSession:
    """``with SmtpSession(url) as (server, sender)``: an SMTP session from a URL."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.secure = parts.scheme == "smtps"
        self.starttls = query.get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.host, self.port = parts.hostname or "localhost", parts.port or (465 if self.secure else 25)
        self.user, self.password = unquote(parts.username or ""), unquote(parts.password or "")
        self.sender = query.get("from", [f"ppaflow@{self.host}"])[0]

    def __enter__(self):
        cls = smtplib.SMTP_SSL if self.secure else smtplib.SMTP
        self.server = cls(self.host, self.port, timeout=30)
        if self.starttls:
            self.server.starttls()
        if self.user:
            self.server.login(self.user, self.password)
        return self.server, self.sender

    def __exit__(self, *exc):
        try:
            self.server.quit()
        except smtplib.SMTPException:
            pass


def list_notifications(user: User) -> Select:
    """The caller's own notifications, newest first."""
    return select(Notification).where(Notification.recipient_id == user.id).order_by(Notification.id.desc())


def get_notification_or_raise(user: User, notification_id: int) -> Notification:
    """The caller's notification ``notification_id``.

    Raises:
        NotFound: it is not one of the caller's.
    """
    note = db.session.scalar(select(Notification).where(
        Notification.id == notification_id, Notification.recipient_id == user.id))
    if note is None:
        raise NotFound(f"notification {notification_id} not found")
    return note


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark the caller's notification ``notification_id`` read, or all their
    unread ones when it is ``None``; reading twice keeps the first time.

    Returns:
        How many changed.

    Raises:
        NotFound: ``notification_id`` is not one of the caller's.
    """
    with transaction() as session:
        query = update(Notification).where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        if notification_id is not None:
            get_notification_or_raise(user, notification_id)
            query = query.where(Notification.id == notification_id)
        return session.execute(query.values(read_at=utcnow())).rowcount
