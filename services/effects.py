"""Side effects of workflow transitions, dispatched through one registry.

A workflow file names the effects of each transition (``effects:``); the
loader refuses names that are not registered here for that workflow.
Effects run inside the transition's transaction (``services.workflows.fire``):
they land with it or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.models import Ppa, User
from rules.model import PPA_WORKFLOW
from services.runtime import Runtime
from services.trees import ITEMS, generate_execution_project, load_tree, record_item_changes, set_tree_locked, settle
from services.work_items import cancel_open_items
from workflow.engine import Outcome


@dataclass(frozen=True)
class EffectContext:
    """What an effect may use: the open session, the record (already in its
    new stage), the acting user, the transition's outcome and the runtime."""

    session: Session
    record: Any
    actor: User
    outcome: Outcome
    runtime: Runtime

    @property
    def ppa(self) -> Ppa:
        """The record, when the workflow is the PPA approval."""
        return self.record


Effect = Callable[[EffectContext], None]

#: (workflow name, effect name) -> function. Filled by ``@effect`` below and
#: by the modules of other workflows.
EFFECTS: dict[tuple[str, str], Effect] = {}


def effect(name: str, *, workflow: str = PPA_WORKFLOW) -> Callable[[Effect], Effect]:
    """Register the decorated function as the effect ``name`` of ``workflow``."""

    def register(function: Effect) -> Effect:
        EFFECTS[(workflow, name)] = function
        return function

    return register


def known_effects() -> Mapping[str, frozenset[str]]:
    """Workflow name -> names of its registered effects (passed to the rules loader)."""
    out: dict[str, set[str]] = {}
    for workflow, name in EFFECTS:
        out.setdefault(workflow, set()).add(name)
    return {workflow: frozenset(names) for workflow, names in out.items()}


def run_effects(workflow: str, names: Iterable[str], context: EffectContext) -> None:
    """Run the named effects of ``workflow`` in order, in the caller's transaction."""
    for name in names:
        EFFECTS[(workflow, name)](context)


# -- the effects of the PPA approval, workflows/approval.yaml (docs/design.md §3) --------


@effect("create_execution_project")
def create_execution_project(ctx: EffectContext) -> None:
    """Generate the execution project when the PPA has none (its
    ``wbs_template``, else its category's default)."""
    if ctx.ppa.execution_project_id is None:
        generate_execution_project(ctx.session, ctx.ppa, ctx.actor.id)


@effect("lock_budget_allocations")
def lock_budget_allocations(ctx: EffectContext) -> None:
    """Freeze every allocation of the execution project."""
    if ctx.ppa.execution_project_id is not None:
        set_tree_locked(ctx.session, ctx.ppa, True)


@effect("unlock_budget_allocations")
def unlock_budget_allocations(ctx: EffectContext) -> None:
    """Allow allocations to change again (after a return for revision)."""
    if ctx.ppa.execution_project_id is not None:
        set_tree_locked(ctx.session, ctx.ppa, False)


@effect("activate_execution_project")
def activate_execution_project(ctx: EffectContext) -> None:
    """Start the execution project (``not_started`` -> ``in_progress``); a
    project already under way is left as it is."""
    root_id = ctx.ppa.execution_project_id
    if root_id is None:
        return
    tree = load_tree(root_id, rolled=False)
    edge = ctx.runtime.rules.work_item_status.transition_from("start", tree.root.status)
    if edge is None:
        return
    new_status, _ = ctx.runtime.work_item_status.fire(tree.root.status, "start")
    ctx.session.execute(update(ITEMS).where(ITEMS.c.id == root_id)
                        .values(status=new_status, version=ITEMS.c.version + 1))
    record_item_changes(ctx.session, ctx.ppa, "status", {root_id: (tree.root.status, new_status)})
    tree.root.status = new_status
    settle(ctx.session, ctx.ppa, tree)


@effect("cancel_execution_project")
def cancel_execution_project(ctx: EffectContext) -> None:
    """Cancel the execution project and every open item in it."""
    root_id = ctx.ppa.execution_project_id
    if root_id is None:
        return
    tree = load_tree(root_id, rolled=False)
    cancel_open_items(ctx.session, ctx.ppa, tree, tree.root, include_top=True)
    settle(ctx.session, ctx.ppa, tree)
