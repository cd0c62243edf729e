"""Side effects of approval transitions, dispatched through one registry.

rules/approval.yaml names the effects of each transition (``effects:``);
the loader refuses names that are not registered here. Effects run inside
the transition's transaction: they land with it or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.models import Ppa, User
from services.runtime import Runtime
from services.trees import ITEMS, generate_execution_project, load_tree, record_item_changes, set_tree_locked, settle
from services.work_items import cancel_open_items
from workflow.approval import Outcome


@dataclass(frozen=True)
class EffectContext:
    """What an effect may use: the open session, the PPA (already in its new
    stage), the acting user, the transition's outcome and the runtime."""

    session: Session
    ppa: Ppa
    actor: User
    outcome: Outcome
    runtime: Runtime


Effect = Callable[[EffectContext], None]

#: Effect name -> function. Filled by ``@effect`` below.
EFFECTS: dict[str, Effect] = {}


def effect(name: str) -> Callable[[Effect], Effect]:
    """Register the decorated function as the effect ``name``."""

    def register(function: Effect) -> Effect:
        EFFECTS[name] = function
        return function

    return register


def known_effects() -> frozenset[str]:
    """Names of every registered effect (passed to the rules loader)."""
    return frozenset(EFFECTS)


def run_effects(names: Iterable[str], context: EffectContext) -> None:
    """Run the named effects in order, in the caller's transaction."""
    for name in names:
        EFFECTS[name](context)


# -- the effects of rules/approval.yaml (docs/design.md §3) ---------------------------


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
