"""Moving any record through its workflow, and writing its history
(docs/design.md §6): the one place every workflow step goes through.

A kind of record that follows a workflow of the rules is described once by a
``RecordKind`` (which workflow, which attribute holds its stage, its
organization and preparer, where its history goes) and registered with
``register``: the rules loader then refuses a rule set without that
workflow. Its service locks the row and checks ``If-Match`` in its own
transaction, then calls ``fire``; ``actions`` answers ``GET .../actions``.

PPAs keep their history in ``ppa_transitions`` (``services.approvals``);
every other kind writes ``workflow_transitions`` (``RECORD_HISTORY``), one
append-only table for all of them. Both record the signer, the role, the
delegator when signed under a delegation, the comment, the time and the
rule-set hash.

Example (a budget proposal's service)::

    BUDGET_PROPOSAL = workflows.register(RecordKind("budget_proposal", workflow="budget_proposal"))

    def fire_transition(user, proposal_id, trigger, *, comment=None, if_match=None):
        with transaction():
            proposal = get_proposal_or_raise(user, proposal_id, for_update=True)
            check_if_match(if_match, proposal.etag)
            workflows.fire(user, BUDGET_PROPOSAL, proposal, trigger, comment=comment)
        return proposal
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, defaultload
from sqlalchemy.orm.attributes import flag_modified

from db import db
from db.models import PpaTransition, User, WorkflowTransition
from services.access import roles_in
from services.delegations import signing_delegations
from services.effects import EffectContext, run_effects
from services.runtime import Runtime, get_runtime, runtime_for
from workflow.conditions import facts_of
from workflow.engine import Action, Actor, Outcome, PastTransition


class History(Protocol):
    """Where a kind of record's steps are kept."""

    def past(self, kind: RecordKind, record_id: int) -> list[PastTransition]:
        """The record's steps as the rules see them, oldest first."""

    def append(self, session: Session, kind: RecordKind, row: Any, user: User, outcome: Outcome, rules_hash: str,
               organization_id: int | None) -> None:
        """Record one step (in the caller's transaction)."""

    def rows(self, kind: RecordKind, record_id: int) -> list:
        """The record's history rows, oldest first (for the API)."""


class RecordHistory:
    """``workflow_transitions``: the history of every kind but PPAs."""

    def past(self, kind: RecordKind, record_id: int) -> list[PastTransition]:
        t = WorkflowTransition
        query = (select(t.actor_id, t.trigger, t.from_stage, t.to_stage, t.delegated_by_id, t.signed_for,
                        User.username)
                 .join(User, User.id == t.actor_id)
                 .where(t.record_type == kind.name, t.record_id == record_id, t.workflow == kind.workflow)
                 .order_by(t.id))
        return [PastTransition(*row) for row in db.session.execute(query)]

    def append(self, session: Session, kind: RecordKind, row: Any, user: User, outcome: Outcome, rules_hash: str,
               organization_id: int | None) -> None:
        session.add(WorkflowTransition(
            workflow=kind.workflow, record_type=kind.name, record_id=row.id, trigger=outcome.trigger,
            from_stage=outcome.source, to_stage=outcome.dest, actor_id=user.id, role=outcome.role,
            delegated_by_id=outcome.delegated_by,
            delegation_id=outcome.delegation.id if outcome.delegation else None, comment=outcome.comment,
            rules_hash=rules_hash, organization_id=organization_id, signed_for=outcome.signed_for))

    def rows(self, kind: RecordKind, record_id: int) -> list[WorkflowTransition]:
        t = WorkflowTransition
        return list(db.session.scalars(select(t).where(
            t.record_type == kind.name, t.record_id == record_id, t.workflow == kind.workflow).order_by(t.id)
            .options(*_signers_without_roles(t))))


class PpaHistory:
    """``ppa_transitions``: the PPA approval's history (kept as it was)."""

    def past(self, kind: RecordKind, record_id: int) -> list[PastTransition]:
        return [PastTransition(*row) for row in db.session.execute(_ppa_past(), {"ppa_id": record_id})]

    def append(self, session: Session, kind: RecordKind, row: Any, user: User, outcome: Outcome, rules_hash: str,
               organization_id: int | None) -> None:
        session.add(PpaTransition(
            ppa_id=row.id, actor_id=user.id, role=outcome.role, trigger=outcome.trigger,
            from_stage=outcome.source, to_stage=outcome.dest, comment=outcome.comment, rules_hash=rules_hash,
            delegated_by_id=outcome.delegated_by,
            delegation_id=outcome.delegation.id if outcome.delegation else None, signed_for=outcome.signed_for))

    def rows(self, kind: RecordKind, record_id: int) -> list[PpaTransition]:
        return list(db.session.scalars(_ppa_rows(), {"ppa_id": record_id}))


@functools.cache
def _ppa_past() -> Select:
    """``PpaHistory.past``'s statement for PPA ``:ppa_id`` (built once: every
    transition and every ``/actions`` sends it; issue 17). A table-level
    statement does not autoflush: a step added to the session and not yet
    flushed is not among those it reads (``fire`` reads them first)."""
    t, users = PpaTransition.__table__, User.__table__
    return (select(t.c.actor_id, t.c.trigger, t.c.from_stage, t.c.to_stage, t.c.delegated_by_id, t.c.signed_for,
                   users.c.username)
            .join(users, users.c.id == t.c.actor_id)
            .where(t.c.ppa_id == bindparam("ppa_id")).order_by(t.c.id))


@functools.cache
def _ppa_rows() -> Select:
    """``PpaHistory.rows``' statement for PPA ``:ppa_id`` (built once: ``GET
    .../history`` sends it)."""
    return (select(PpaTransition).where(PpaTransition.ppa_id == bindparam("ppa_id")).order_by(PpaTransition.id)
            .options(*_signers_without_roles(PpaTransition)))


def _signers_without_roles(model) -> tuple:
    """Loader options for history rows: their signer and delegator come
    joined as always, but not those users' roles (one more statement, which
    a history reply never shows; read on first use if someone asks)."""
    return (defaultload(model.actor).lazyload(User.role_rows),
            defaultload(model.delegated_by).lazyload(User.role_rows))


RECORD_HISTORY = RecordHistory()
PPA_HISTORY = PpaHistory()


@dataclass(frozen=True)
class RecordKind:
    """A kind of record that moves through a workflow of the rules.

    Attributes:
        name: the record type as the history names it (``budget_proposal``).
        workflow: the workflow it follows (``workflow:`` of a file in
            ``workflows/``).
        state: the row attribute holding its stage.
        organization_of: ``row -> organization id`` (organization-scoped roles
            and delegations count only there; recorded on each step).
        preparer_of: ``row -> user id`` of who prepared it, for
            ``preparer_may_not_fire`` rules (``None``: nobody).
        history: where its steps are kept.
        on_move: ``(row, user, outcome) -> None``, run right after the row's
            stage is set and before its history row and effects (PPAs:
            ``stage_entered_at``, ``updated_by``).
        pin: the row attribute holding the hash of the rule set it is
            pinned to (docs/design.md §13; PPAs: ``rules_hash``), ``None``
            for a kind that always follows the rules in force. A pinned row
            decides with its set (``runtime_for``); an unpinned one with the
            rules in force, and is pinned to them when it leaves the
            workflow's initial stage; a return to the initial stage unpins it.
    """

    name: str
    workflow: str
    state: str = "status"
    organization_of: Callable[[Any], int | None] = field(default=lambda row: row.organization_id)
    preparer_of: Callable[[Any], int | None] = field(default=lambda row: getattr(row, "created_by_id", None))
    history: History = RECORD_HISTORY
    on_move: Callable[[Any, User, Outcome], None] | None = None
    pin: str | None = None


#: Record type -> kind; filled by ``register`` in the service of each kind.
KINDS: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> RecordKind:
    """Make ``kind`` known: the rules loader then requires its workflow."""
    KINDS[kind.name] = kind
    return kind


def required_workflows() -> frozenset[str]:
    """The workflows the registered kinds follow (passed to the rules loader)."""
    return frozenset(kind.workflow for kind in KINDS.values())


def actor_for(user: User, organization_id: int | None, *, lock: bool = False) -> Actor:
    """The engine's view of ``user`` acting on a record of ``organization_id``:
    the roles that count there (``services.access.roles_in``), the roles
    held only elsewhere, and the delegations they may sign under
    (``services.delegations.signing_delegations``; ``lock`` on write paths)."""
    roles = roles_in(user, organization_id)
    active, lapsed = signing_delegations(user, organization_id, lock=lock)
    organization = user.organization.code if getattr(user, "organization", None) is not None else None
    return Actor(user_id=user.id, roles=roles, held_elsewhere=user.roles - roles, delegations=active, lapsed=lapsed,
                 organization=organization, username=user.username)


def facts(kind: RecordKind, row: Any) -> dict[str, Any]:
    """The fields of ``row`` that conditions of ``kind``'s workflow may
    name (``workflow.conditions.FIELDS``), for conditional routes."""
    return facts_of(kind.workflow, row)


def runtime_of(kind: RecordKind, row: Any) -> Runtime:
    """The runtime ``row`` decides with: the rule set it is pinned to, else
    the rules in force (docs/design.md §13).

    Raises:
        NotFound: its pinned set is not stored (never, as pins are written).
    """
    return runtime_for(getattr(row, kind.pin)) if kind.pin else get_runtime()


def set_stage(kind: RecordKind, row: Any, stage: str, runtime: Runtime) -> None:
    """Put ``row`` in ``stage`` of ``runtime``'s workflow, and pin or unpin
    it (``RecordKind.pin``): unpinned in the initial stage, else pinned to
    ``runtime``'s set."""
    setattr(row, kind.state, stage)
    if kind.pin:
        initial = runtime.workflow(kind.workflow).rules.machine.initial
        setattr(row, kind.pin, None if stage == initial else runtime.rules.hash)


def fire(user: User, kind: RecordKind, row: Any, trigger: str, *, comment: str | None = None) -> Outcome:
    """Fire ``trigger`` on ``row`` (a record of ``kind``) as ``user``: decide
    with the workflow engine, set the row's stage, write the history row
    (with the delegator when signed under a delegation and the rule-set
    hash) and run the transition's effects, all in the caller's transaction.

    The caller has locked ``row`` (``SELECT ... FOR UPDATE``) and checked
    ``If-Match`` inside the same ``transaction()``.

    Returns:
        The ``Outcome`` (new stage, role, delegation, effects).

    Raises:
        ValidationFailed: unknown trigger, missing or refused comment.
        InvalidTransition: not possible from the row's stage.
        RoleMissing, SeparationOfDuties: ``user`` may not fire it.
    """
    runtime = runtime_of(kind, row)
    organization_id = kind.organization_of(row)
    engine = runtime.workflow(kind.workflow)
    outcome = engine.fire(getattr(row, kind.state), trigger, actor_for(user, organization_id, lock=True),
                          kind.history.past(kind, row.id), comment, preparer_id=kind.preparer_of(row),
                          facts=facts(kind, row))
    return _record(runtime, kind, row, user, outcome, organization_id)


def _record(runtime: Runtime, kind: RecordKind, row: Any, user: User, outcome: Outcome,
            organization_id: int | None) -> Outcome:
    """Set the row's stage (and its pin), write the history row, run the effects."""
    set_stage(kind, row, outcome.dest, runtime)
    if kind.on_move is not None and outcome.moved:
        kind.on_move(row, user, outcome)
    if not outcome.moved:  # a sign-off short of the K-th: the row is written anyway, so its version (ETag) moves on
        flag_modified(row, kind.state)
    session = db.session
    kind.history.append(session, kind, row, user, outcome, runtime.rules.hash, organization_id)
    run_effects(kind.workflow, outcome.effects, EffectContext(session, row, user, outcome, runtime))
    return outcome


def fire_by_system(system_user: User, kind: RecordKind, row: Any, trigger: str, comment: str) -> Outcome:
    """Fire ``trigger`` on ``row`` by itself (an escalation's ``then``,
    docs/design.md §6): no role or separation-of-duties check; the history
    row names ``system_user`` (the ``system`` account) with the role
    ``system``. In the caller's transaction, on the locked row; decided
    with the set ``row`` is pinned to (docs/design.md §13)."""
    runtime = runtime_of(kind, row)
    engine = runtime.workflow(kind.workflow)
    outcome = engine.fire_by_system(getattr(row, kind.state), trigger, comment, facts=facts(kind, row))
    return _record(runtime, kind, row, system_user, outcome, kind.organization_of(row))


def actions(user: User, kind: RecordKind, row: Any, *, stale: bool = False) -> list[Action]:
    """Every trigger of ``kind``'s workflow, whether ``user`` may fire it on
    ``row`` now (under which delegation), and the reasons the closed ones
    are closed (``stale``: the caller's copy is out of date)."""
    organization_id = kind.organization_of(row)
    return runtime_of(kind, row).workflow(kind.workflow).actions(
        getattr(row, kind.state), actor_for(user, organization_id), kind.history.past(kind, row.id),
        preparer_id=kind.preparer_of(row), stale=stale, facts=facts(kind, row))


def history(kind: RecordKind, record_id: int) -> list:
    """The history rows of record ``record_id`` of ``kind``, oldest first
    (the caller has checked that the user may see the record)."""
    return kind.history.rows(kind, record_id)
