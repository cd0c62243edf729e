"""My work: the PPAs waiting for an action the user may take now, for a page
of PPAs at a time and in a constant number of statements (docs/design.md §3,
§11; issue 11).

A PPA is on a user's My work when at least one trigger of the approval
workflow is open to them on it, by the same rules as ``GET .../actions``
(``workflow.engine.WorkflowEngine.actions``): the trigger leaves the PPA's
stage, the user holds one of its roles (or a superuser role), and no
separation-of-duties rule closes it. The rules become one SQL condition
(``work_condition``), so the list is paged and counted by the database; the
actions of the page's PPAs are then decided by the domain itself, from their
histories read in one query. An organization-scoped role (``moa_focal``)
counts only on its own organization's PPAs, as ``services.access.require_role``
has it, so a user with a reviewer role and ``moa_focal`` is not offered other
MOAs' drafts.

For a focal person the same list holds their MOA's drafts (``submit`` is open
to them there), told apart as ``returned`` (the last transition brought the
PPA back to draft, with the reviewer's comment) and ``draft``.

Which PPAs are listed is decided with the rules in force; each listed PPA's
actions and due day with the rule set it is pinned to (docs/design.md §13).
A PPA pinned to an older set whose stage or reviewers the active set
changed is listed by the active set's transitions (reading every pinned
set's would cost a statement per page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select

from db import db
from db.models import Alert, Delegation, Notification, Organization, Ppa, PpaTransition, User
from rules.model import PPA_WORKFLOW, DutyRule, Transition
from services import calendar, delegations
from services.access import is_superuser, roles_in, visible_ppas, visible_rows
from services.runtime import get_runtime, runtime_for
from workflow.conditions import FIELDS, facts_of
from workflow.engine import Action, Actor, PastTransition

#: The PPA columns conditional routes may name (``workflow.conditions.FIELDS``), besides the budget read anyway.
FACT_COLUMNS = tuple(getattr(Ppa, name) for name in FIELDS[PPA_WORKFLOW] if name != "budget_allocation")

REVIEW, RETURNED, DRAFT = "review", "returned", "draft"


@dataclass(frozen=True)
class WorkEntry:
    """One PPA on My work.

    Attributes:
        kind: ``review`` (in a review stage), ``returned`` (back in draft
            after a review) or ``draft``.
        budget: the PPA's budget allocation, PHP.
        due: the day the stage falls due (``None`` for stages without a due
            time), from ``services.calendar.due_date`` (business days).
        days_overdue: days past ``due`` today in Asia/Manila (0 when not overdue).
        actions: every trigger with ``open`` and the reasons it is closed.
        last_comment: the comment of the PPA's last transition (the
            reviewer's words for a returned PPA), if any.
    """

    ppa_id: int
    title: str
    moa: str
    stage: str
    kind: str
    budget: Decimal
    stage_entered_at: datetime
    due: date | None
    days_overdue: int
    actions: tuple[Action, ...]
    last_comment: str | None

    @property
    def overdue(self) -> bool:
        """Past its due day."""
        return self.days_overdue > 0


@dataclass(frozen=True)
class WorkPage:
    """A page of My work, oldest stage entry first (the longest waiting)."""

    entries: list[WorkEntry]
    total: int
    page: int
    page_size: int

    def of_kind(self, kind: str) -> list[WorkEntry]:
        """The page's entries of one kind (``review``, ``returned``, ``draft``)."""
        return [entry for entry in self.entries if entry.kind == kind]


@dataclass(frozen=True)
class Counts:
    """The numbers in the navigation: PPAs waiting for the user, open alerts
    they can see, their unread notifications."""

    work: int
    alerts: int
    notifications: int


def _theirs(user_id: int) -> ColumnElement[bool]:
    """A history row that counts for ``user_id``: signed by them, or signed
    for them under a delegation (``PastTransition.people``)."""
    return and_(PpaTransition.ppa_id == Ppa.id,
                or_(PpaTransition.actor_id == user_id, PpaTransition.delegated_by_id == user_id))


def _duty_terms(rule: DutyRule, transition: Transition, user_id: int) -> list[ColumnElement[bool]]:
    """``rule`` (rules/default/workflows/approval.yaml ``separation_of_duties``)
    as conditions on ``Ppa`` under which it leaves ``transition`` open to
    ``user_id``: the engine's ``_breach``, in SQL."""
    if transition.trigger not in rule.triggers:
        return []
    if rule.form == "whoever_fired":
        return [~exists().where(_theirs(user_id), PpaTransition.trigger.in_(rule.after))]
    if rule.form == "one_step_per_person":
        return [~exists().where(_theirs(user_id), PpaTransition.trigger.in_(rule.triggers),
                                or_(PpaTransition.trigger != transition.trigger,
                                    PpaTransition.from_stage != transition.source))]
    return [or_(Ppa.created_by_id.is_(None), Ppa.created_by_id != user_id)]  # preparer_may_not_fire


def work_condition(user: User, live: list[Delegation]) -> ColumnElement[bool]:
    """A WHERE clause on ``Ppa``: some approval trigger is open to ``user``
    (stage, role — their own or one lent to them by a delegation of
    ``live`` —, organization scope and separation of duties), among the PPAs
    they may see."""
    rules = get_runtime().rules.approval
    # Every role the user holds and those lent to them; the terms below confine the
    # organization-scoped ones to the user's organization.
    lent = {d.role for d in live}
    scoped = set(rules.roles.organization_scoped_roles)
    superuser = is_superuser(user)
    terms = []
    for transition in rules.machine.transitions:
        usable = set(transition.roles) & (user.roles | lent)
        if not usable and not superuser:
            continue
        term = [Ppa.approval_status == transition.source]
        if not superuser and usable <= scoped:
            term.append(Ppa.organization_id == user.organization_id)
        for rule in rules.separation_of_duties:
            term += _duty_terms(rule, transition, user.id)
        terms.append(and_(*term))
    return and_(visible_ppas(user), or_(*terms)) if terms else false()


def my_work(user: User, *, page: int = 1, page_size: int = 50) -> WorkPage:
    """A page of the PPAs waiting for ``user``, with their open and closed
    actions; three statements whatever the number of PPAs (the delegations
    lent to the user, the page with its total, then the page's histories).

    Args:
        page: 1-based page number.
        page_size: PPAs per page.
    """
    runtime = get_runtime()
    initial = runtime.rules.approval.machine.initial
    live = delegations.live_delegations(user)
    own_code = user.organization.code if getattr(user, "organization", None) is not None else None
    rows = db.session.execute(
        select(Ppa.id, Ppa.title, Organization.code, Ppa.organization_id, Ppa.created_by_id, Ppa.approval_status,
               Ppa.budget_allocation, Ppa.stage_entered_at, Ppa.rules_hash, *FACT_COLUMNS,
               func.count().over().label("total"))
        .join(Organization, Organization.id == Ppa.organization_id)
        .where(work_condition(user, live)).order_by(Ppa.stage_entered_at, Ppa.id)
        .offset((page - 1) * page_size).limit(page_size)).all()
    total = rows[0].total if rows else (0 if page == 1 else count_work(user, live))
    histories: dict[int, list] = {row.id: [] for row in rows}
    if rows:
        for transition in db.session.execute(
                select(PpaTransition.ppa_id, PpaTransition.actor_id, PpaTransition.trigger,
                       PpaTransition.from_stage, PpaTransition.to_stage, PpaTransition.comment,
                       PpaTransition.delegated_by_id, PpaTransition.signed_for, User.username)
                .join(User, User.id == PpaTransition.actor_id)
                .where(PpaTransition.ppa_id.in_(histories)).order_by(PpaTransition.id)):
            histories[transition.ppa_id].append(transition)
    today = calendar.today()
    actors: dict[int, Actor] = {}  # one actor (roles, delegations) per organization on the page
    dues: dict[tuple[str, date, str | None], date | None] = {}  # same stage, day and rule set: same due day
    entries = []
    for row in rows:
        history = histories[row.id]
        last = history[-1] if history else None
        if row.approval_status != initial:
            kind = REVIEW
        else:
            kind = RETURNED if last is not None and last.to_stage == initial else DRAFT
        key = (row.approval_status, calendar.local_date(row.stage_entered_at), row.rules_hash)
        if key not in dues:
            dues[key] = calendar.stage_due_date(row.approval_status, row.stage_entered_at, row.rules_hash)
        due = dues[key]
        past = [PastTransition(h.actor_id, h.trigger, h.from_stage, h.to_stage, h.delegated_by_id, h.signed_for,
                               h.username) for h in history]
        if row.organization_id not in actors:
            roles = roles_in(user, row.organization_id)
            actors[row.organization_id] = Actor(user.id, roles, user.roles - roles, delegations.counting_delegations(
                user, row.organization_id, live), organization=own_code, username=user.username)
        entries.append(WorkEntry(
            ppa_id=row.id, title=row.title, moa=row.code, stage=row.approval_status, kind=kind,
            budget=row.budget_allocation, stage_entered_at=row.stage_entered_at, due=due,
            days_overdue=max(0, (today - due).days) if due else 0,
            actions=tuple(runtime_for(row.rules_hash).approval.actions(
                row.approval_status, actors[row.organization_id], past, preparer_id=row.created_by_id,
                facts=facts_of(PPA_WORKFLOW, row))),
            last_comment=last.comment if last is not None else None))
    return WorkPage(entries, total, page, page_size)


def count_work(user: User, live: list[Delegation]) -> int:
    """How many PPAs wait for ``user`` (one statement; ``live``:
    ``delegations.live_delegations(user)``)."""
    return db.session.scalar(select(func.count()).select_from(Ppa).where(work_condition(user, live)))


def counts(user: User) -> Counts:
    """The navigation's numbers for ``user``, in two statements (the
    delegations lent to them, then the three counts)."""
    work = (select(func.count()).select_from(Ppa)
            .where(work_condition(user, delegations.live_delegations(user))).scalar_subquery())
    open_alerts = (select(func.count()).select_from(Alert)
                   .where(visible_rows(user, Alert.organization_id), Alert.resolved_at.is_(None)).scalar_subquery())
    unread = (select(func.count()).select_from(Notification)
              .where(Notification.recipient_id == user.id, Notification.read_at.is_(None)).scalar_subquery())
    row = db.session.execute(select(work, open_alerts, unread)).one()
    return Counts(*row)
