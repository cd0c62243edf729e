"""Moving PPAs between rule sets (issue 14 item 2, docs/design.md §13).

A submitted PPA is pinned to the set it was submitted under
(``ppas.rules_hash``) and finishes under it unless a migration moves it:

- ``plan(to, mapping)``: where every PPA in flight under another set
  (pinned, not in a final stage of its set) would stand under ``to``: its
  stage (mapped or kept) and whether its stage or next step changes; a PPA
  in a stage ``to`` lacks with no mapping strands, and the plan is refused;
- ``apply(user, to, mapping)``: the same plan on the locked rows, then every
  PPA in it moved and re-pinned to ``to`` in one transaction, a history row
  each (``migrate``, "migrated from rules X to Y");
- ``draft_moves(...)``: activation's check of the PPAs that follow the
  active set (unpinned: drafts), used by ``rule_sets.activate``.

The comparison itself is pure (``rules.migration``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from db import db
from db.models import Ppa, StoredRuleSet, User
from rules.migration import MigrationPlan, plan_moves
from services import approvals
from services.runtime import Runtime, find, runtime_for
from services.unit_of_work import transaction
from workflow.errors import Conflict


def _in_flight(target: str, *, lock: bool) -> list[tuple[int, str, str, object]]:
    """``(id, pinned hash, stage, machine)`` of every PPA pinned to a set
    other than ``target`` and not in a final stage of its set, by id."""
    query = (select(Ppa.id, Ppa.rules_hash, Ppa.approval_status)
             .where(Ppa.rules_hash.is_not(None), Ppa.rules_hash != target).order_by(Ppa.id))
    if lock:
        query = query.with_for_update(of=Ppa)
    records = []
    for ppa_id, pinned, stage in db.session.execute(query):
        machine = runtime_for(pinned).rules.approval.machine
        state = machine.states.get(stage)
        if state is not None and state.final:  # it finished under its set
            continue
        records.append((ppa_id, pinned, stage, machine))
    return records


def plan(to: str, mapping: Mapping[str, str] | None = None, *, lock: bool = False) -> tuple[StoredRuleSet,
                                                                                           MigrationPlan]:
    """Where every PPA in flight under another set would stand under the
    stored set ``to`` (a hash or a unique start of one; ``rules.migration.
    plan_moves``). Writes nothing.

    Returns:
        ``(the target set's row, the plan)``; the plan may be ``refused``.

    Raises:
        NotFound: no stored set matches ``to``.
        RulesError: a set's stored files no longer load.
    """
    target = find(to)
    new = runtime_for(target.hash).rules
    return target, plan_moves(_in_flight(target.hash, lock=lock), target.hash, new.approval.machine,
                              dict(mapping or {}))


def refuse(migration: MigrationPlan) -> None:
    """Raise the plan's refusal, if it has one.

    Raises:
        Conflict (``stage_missing``): PPAs would strand or a mapping names a
            stage the new set lacks; ``stranded`` lists ``{ppa_id, stage}``.
    """
    if migration.refused:
        raise Conflict(migration.refusal(), code="stage_missing",
                       stranded=[{"ppa_id": s.record_id, "stage": s.stage} for s in migration.stranded])


def _move_all(migration: MigrationPlan, runtime: Runtime, user: User, role: str) -> None:
    session = db.session
    for move in migration.moves:
        ppa = session.get(Ppa, move.record_id)
        approvals.record_move(session, ppa, user, role, move.new_stage, runtime, approvals.MIGRATE,
                              f"migrated from rules {move.old_hash[:12]} to {runtime.rules.hash[:12]}")


def apply(user: User, to: str, mapping: Mapping[str, str] | None = None) -> MigrationPlan:
    """Move every PPA in flight under another set to the stored set ``to``,
    in one transaction: the plan is made again on the locked rows, refused
    as ``plan`` refuses, then each PPA is put in its stage under ``to``
    (mapped or kept) and pinned to it, with a history row each
    (``migrate``, "migrated from rules X to Y", signed by ``user`` in their
    administrator role). No transition's effects run.

    Returns:
        The plan carried out.

    Raises:
        RoleMissing: ``user`` is not an administrator.
        NotFound: no stored set matches ``to``.
        Conflict (``stage_missing``): the plan is refused; nothing moved.
    """
    role = approvals.administrator_role(user)
    with transaction():
        target, migration = plan(to, mapping, lock=True)
        refuse(migration)
        _move_all(migration, runtime_for(target.hash), user, role)
    return migration


def draft_moves(previous: str | None, new: Runtime, mapping: Mapping[str, str] | None) -> MigrationPlan:
    """Activation's plan for the PPAs that follow the active set (unpinned:
    drafts, and PPAs in flight before pins were kept): where each stands
    under ``new``; refused when one sits in a stage ``new`` lacks unmapped.
    Locks those rows (the caller's transaction)."""
    old = runtime_for(previous).rules.approval.machine
    rows = db.session.execute(select(Ppa.id, Ppa.approval_status).where(Ppa.rules_hash.is_(None))
                              .order_by(Ppa.id).with_for_update(of=Ppa))
    records = [(ppa_id, previous or "", stage, old) for ppa_id, stage in rows]
    return plan_moves(records, new.rules.hash, new.rules.approval.machine, dict(mapping or {}))


def move_drafts(migration: MigrationPlan, new: Runtime, user: User | None) -> int:
    """Carry out activation's mapping: every unpinned PPA whose stage is
    mapped moves there under ``new`` (history row ``migrate``). Returns how
    many moved.

    Raises:
        Conflict: PPAs are to move but no user activates (``--as``), or the
            user is not an administrator.
    """
    moving = [move for move in migration.moves if move.stage_changes]
    if not moving:
        return 0
    if user is None:
        raise Conflict(f"moving {len(moving)} PPA(s) to their mapped stage is recorded in their history, "
                       "signed by a user: activate as an administrator (--as USER)")
    role = approvals.administrator_role(user)
    session = db.session
    for move in moving:
        ppa = session.get(Ppa, move.record_id)
        approvals.record_move(session, ppa, user, role, move.new_stage, new, approvals.MIGRATE,
                              f"moved from stage {move.stage} on activating rules {new.rules.hash[:12]}")
    return len(moving)
