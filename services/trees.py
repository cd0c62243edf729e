"""Loading a PPA's WBS in one query, rolling it up, and keeping the PPA in
step with it (docs/design.md §4). Used by the tracking and work item services and
by the approval effects; callers own the transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import BigInteger, func, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from db import audit, db
from db.bulk import update_column
from db.models import Ppa, WorkItem
from services import alerts
from services.runtime import get_runtime
from workflow.errors import Conflict, ValidationFailed
from workflow.money import from_centavos, to_centavos
from workflow.sync import PpaSync, follow_project
from workflow.tree import Tree, envelope_violations, format_centavos, reallocate, roll_up, roll_up_statuses
from workflow.wbs import plan_wbs

ITEMS = WorkItem.__table__

#: The columns of ``workflow.tree.ROW_FIELDS``, money as raw centavos.
TREE_COLUMNS = (
    ITEMS.c.id, ITEMS.c.parent_id, ITEMS.c.position, ITEMS.c.work_type, ITEMS.c.title, ITEMS.c.level,
    ITEMS.c.status, ITEMS.c.progress, type_coerce(ITEMS.c.allocated_budget, BigInteger),
    type_coerce(ITEMS.c.actual_expenditure, BigInteger), ITEMS.c.budget_locked,
)


def load_tree(root_id: int, *, rolled: bool = True) -> Tree:
    """The whole tree under ``root_id``: one indexed query, then (unless
    ``rolled`` is false, for writers that settle afterwards) one pass of
    rollups."""
    rows = db.session.execute(
        select(*TREE_COLUMNS).where(in_tree(root_id))
        .order_by(ITEMS.c.position, ITEMS.c.id)
    ).all()
    tree = Tree.from_rows(rows)
    return roll_up(tree, get_runtime().rules.sync.progress_method) if rolled else tree


def load_trees(root_ids: Sequence[int]) -> dict[int, Tree | ValueError]:
    """Many whole trees in one query, rolled up; a tree whose rows do not
    form a tree maps to the ``ValueError`` describing why (so one broken
    tree never stops the others)."""
    if not root_ids:
        return {}
    tree_id = func.coalesce(ITEMS.c.root_id, ITEMS.c.id)
    rows = db.session.execute(
        select(tree_id, *TREE_COLUMNS).where(or_(ITEMS.c.id.in_(root_ids), ITEMS.c.root_id.in_(root_ids)))
        .order_by(tree_id, ITEMS.c.position, ITEMS.c.id)
    ).all()
    grouped: dict[int, list] = {root: [] for root in root_ids}
    for row in rows:
        grouped[row[0]].append(row[1:])
    method = get_runtime().rules.sync.progress_method
    trees: dict[int, Tree | ValueError] = {}
    for root, tree_rows in grouped.items():
        try:
            trees[root] = roll_up(Tree.from_rows(tree_rows), method)
        except (KeyError, ValueError) as exc:
            trees[root] = ValueError(f"work items of tree {root} do not form a tree: {exc!r}")
    return trees


def in_tree(root_id: int):
    """WHERE clause: the rows of the tree rooted at ``root_id``."""
    return or_(ITEMS.c.id == root_id, ITEMS.c.root_id == root_id)


def set_tree_locked(session: Session, ppa: Ppa, locked: bool) -> None:
    """Lock or unlock every allocation of the PPA's tree, in one UPDATE (audited)."""
    ids = session.scalars(update(ITEMS).where(in_tree(ppa.execution_project_id), ITEMS.c.budget_locked != locked)
                          .values(budget_locked=locked, version=ITEMS.c.version + 1).returning(ITEMS.c.id)).all()
    audit.record(session, "work_item", [(i, "budget_locked", not locked, locked, ppa.organization_id) for i in ids])
    bump_tree_version(session, ppa.execution_project_id)


def bump_tree_version(session: Session, root_id: int) -> None:
    """Count a write to the tree rooted at ``root_id``: one UPDATE of the
    root's ``tree_version`` (not its ``version``, the root item's own ETag),
    in the caller's transaction, so the cached budget tree keyed by it
    (``services.tree_cache``; docs/design.md §5, "The budget tree is
    cached") is never served after the write commits. Every writer of a
    tree's rows calls it: through ``settle``, or itself."""
    session.execute(update(ITEMS).where(ITEMS.c.id == root_id).values(tree_version=ITEMS.c.tree_version + 1))


def record_item_changes(session: Session, ppa: Ppa, field: str, changes: Mapping[int, tuple[object, object]]) -> None:
    """Audit a set-based change of one field of many work items."""
    audit.record(session, "work_item", [(i, field, old, new, ppa.organization_id) for i, (old, new) in changes.items()])


def sync_ppa(ppa: Ppa, tree: Tree, *, force: bool = False) -> PpaSync:
    """Make the PPA follow its rolled-up execution project.

    Args:
        force: sync progress and status even where the PPA's auto-sync flags
            are off (the on-demand ``sync_from_workitem``).

    Returns:
        What was applied (``None`` fields were left alone). The PPA row is
        written only when something changes.
    """
    rules = get_runtime().rules.sync
    wanted = follow_project(rules, tree.root.status, tree.root.rolled_progress,
                            progress=force or ppa.auto_sync_progress, status=force or ppa.auto_sync_status)
    if wanted.progress is not None and ppa.progress != wanted.progress:
        ppa.progress = wanted.progress
    if wanted.status is not None and (ppa.status, ppa.execution_flag) != (wanted.status, wanted.execution_flag):
        ppa.status = wanted.status
        ppa.execution_flag = wanted.execution_flag
    return wanted


def settle(session: Session, ppa: Ppa, tree: Tree) -> None:
    """After any change to a tree: let parents follow their children's
    statuses (rules/default/sync.yaml ``roll_up_status``; the changed statuses are
    written in one statement), roll progress and expenditure up, let the PPA
    follow its project, and open or resolve the tree's alerts at once."""
    rules = get_runtime().rules
    if rules.sync.roll_up_status:
        statuses = roll_up_statuses(tree, rules.work_item_status)
        update_column(session, ITEMS, "status", {i: new for i, (_, new) in statuses.items()})
        record_item_changes(session, ppa, "status", statuses)
    roll_up(tree, rules.sync.progress_method)
    sync_ppa(ppa, tree)
    alerts.reconcile_tree(session, ppa, tree)
    bump_tree_version(session, tree.root.id)


def generate_execution_project(session: Session, ppa: Ppa, user_id: int, template_name: str | None = None) -> int:
    """Create the PPA's execution project from a WBS template, in the
    caller's transaction.

    Args:
        template_name: a template of rules/default/wbs_templates.yaml; default the
            PPA's ``wbs_template``, else its category's default.

    Returns:
        The root work item's id. The PPA links to it
        (``execution_project_id``), is marked as tracking, and is synced.
    """
    rules = get_runtime().rules
    template = rules.wbs.template_for(ppa.category, template_name or ppa.wbs_template)
    plan = plan_wbs(template, title=ppa.title, budget=to_centavos(ppa.budget_allocation),
                    start=ppa.start_date, end=ppa.target_end_date)
    status = rules.sync.ppa_to_work_item[ppa.status]
    ids: dict[int, int] = {}
    root_id: int | None = None
    for level in sorted({p.level for p in plan}):
        rows = [p for p in plan if p.level == level]
        items = [WorkItem(
            root_id=root_id, parent_id=ids.get(p.parent_ref) if p.parent_ref is not None else None,
            ppa_id=ppa.id if p.parent_ref is None else None, work_type=p.work_type, title=p.title,
            description=ppa.summary if p.parent_ref is None else "", position=p.position, level=p.level,
            status=status, priority=ppa.priority, start_date=p.start_date, due_date=p.due_date,
            allocated_budget=from_centavos(p.allocated), created_by_id=user_id, updated_by_id=user_id,
        ) for p in rows]
        session.add_all(items)
        session.flush()
        ids.update({p.ref: item.id for p, item in zip(rows, items, strict=True)})
        root_id = ids[0]
    ppa.execution_project_id = root_id
    ppa.enable_workitem_tracking = True
    session.flush()
    settle(session, ppa, load_tree(root_id, rolled=False))
    return root_id


def apply_allocations(session, ppa: Ppa, tree: Tree, explicit: Mapping[int, int], *,
                      write: bool = True) -> dict[int, tuple[int | None, int | None]]:
    """Set ``explicit`` allocations, rescale descendants, check every
    envelope, and write (and audit) in one statement each; the caller
    settles the tree.

    Args:
        explicit: item id -> new allocation (centavos).
        write: ``False`` for a dry run: the same computation and checks, and
            the tree in memory changed the same way, but nothing is written.

    Returns:
        item id -> ``(allocation before, allocation after)`` in centavos,
        for every item whose allocation changes.

    Raises:
        ValidationFailed: some item's children would sum above it (under
            ``allocations.<item id>``, with the amounts; ``over_allocated``
            lists them as data).
    """
    changes = reallocate(tree, explicit)
    violations = envelope_violations(tree, changes)
    if violations:
        raise ValidationFailed({
            f"allocations.{node.id}": [
                f"the children of {node.title!r} would get {format_centavos(total)}, "
                f"{format_centavos(total - limit)} more than its allocation of {format_centavos(limit)}"]
            for node, total, limit in violations}, over_allocated=[
            {"work_item_id": node.id, "title": node.title, "children_total": format_centavos(total),
             "allocation": format_centavos(limit)} for node, total, limit in violations])
    moved = {i: (tree.by_id[i].allocated, amount) for i, amount in changes.items()}
    if write:
        update_column(session, ITEMS, "allocated_budget", changes)
        record_item_changes(session, ppa, "allocated_budget", {
            i: (_php(before), _php(after)) for i, (before, after) in moved.items()})
    for item_id, amount in changes.items():
        tree.by_id[item_id].allocated = amount
    return moved


def _php(centavos: int | None):
    return None if centavos is None else from_centavos(centavos)


def require_unlocked(tree: Tree) -> None:
    """Raises ``Conflict`` (``budget_locked``) while the tree's allocations
    are frozen (after budget review approval, until returned for revision)."""
    if tree.root.locked:
        raise Conflict("allocations are locked since budget review approval; they unlock if the PPA is "
                       "returned for revision", code="budget_locked")
