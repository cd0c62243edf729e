"""Loading a PPA's WBS in one query, keeping its stored rollups, and keeping
the PPA in step with it (docs/design.md §4, "Stored rollups").

Two ways to settle a change: ``settle_path`` for changes to some items' own
fields (their ancestors' stored rollups move, nothing else is read), and
``settle`` for writes that loaded the whole tree (allocations, cancellations,
generation); a distribution, which loads the whole tree to check its
envelopes, settles only the changed items' ancestors (``settle_allocations``).
``rollup_drift`` recomputes a tree from scratch to check the stored figures
(``ppaflow wbs verify``, the nightly sync). Used by the
tracking, work item and expenditure services and by the approval effects;
callers own the transaction."""

from __future__ import annotations

import functools
import operator
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

import orjson
from sqlalchemy import BigInteger, Row, Select, bindparam, func, or_, select, text, type_coerce, update
from sqlalchemy.orm import Session

from db import audit, db
from db.bulk import attach, insert_rows_returning, note_write, rendered_stamp, update_column, update_rows
from db.models import Ppa, WorkItem
from db.types import utcnow
from services import alerts
from services.runtime import get_runtime
from workflow.errors import Conflict, ValidationFailed
from workflow.money import format_centavos, from_centavos, to_centavos
from workflow.sync import PpaSync, follow_project
from workflow.rollups import Aggregate, Method, Share, decode_exact, encode_exact, expended, rolled_progress, share
from workflow.rollups import settle_path as settle_path_rollups
from workflow.tree import (Breakdown, Node, Tree, envelope_violations, machine_method, reallocate,
                           roll_up, settle_reallocation, settle_tree, stored_breakdown, tree_breakdown)
from workflow.wbs import plan_wbs

ITEMS = WorkItem.__table__

#: The columns of ``workflow.tree.ROW_FIELDS`` before ``stored``, money as raw centavos.
TREE_COLUMNS = (
    ITEMS.c.id, ITEMS.c.parent_id, ITEMS.c.position, ITEMS.c.work_type, ITEMS.c.title, ITEMS.c.level,
    ITEMS.c.status, ITEMS.c.progress, type_coerce(ITEMS.c.allocated_budget, BigInteger),
    type_coerce(ITEMS.c.actual_expenditure, BigInteger), ITEMS.c.budget_locked,
)
#: The stored rollups (docs/design.md §4 "Stored rollups"), as ``Node.stored``.
STORED_COLUMNS = (ITEMS.c.rolled_expended, ITEMS.c.rolled_progress, ITEMS.c.rollup)


def current_method() -> Method:
    """How the rules in force roll a tree up (rules/default/sync.yaml,
    rules/default/work_item_status.yaml), as ``workflow.rollups`` takes it."""
    rules = get_runtime().rules
    return machine_method(rules.work_item_status, rules.sync.progress_method, follow=rules.sync.roll_up_status)


#: ``load_tree``'s ``rollup_key`` when the caller has not read it.
UNREAD = object()


def load_tree(root_id: int, *, rolled: bool = True, rollup_key: str | None | object = UNREAD) -> Tree:
    """The whole tree under ``root_id`` in one indexed query.

    Args:
        rolled: fill every node's rolled-up figures (``expended``,
            ``rolled_progress``): from the stored rollups when they were
            computed under the rules in force, else in one pass in memory.
            ``False`` for writers, which load the stored rollups too
            (``Node.stored``) and settle afterwards.
        rollup_key: the root's ``rollup_key``, when the caller read it
            with something else (else one more statement reads it).
    """
    key = rollup_key
    if rolled and key is UNREAD:
        key = db.session.scalar(select(ITEMS.c.rollup_key).where(ITEMS.c.id == root_id))
    method = current_method()
    if rolled and key == method.key:
        rows = _in_tree_order(select(*TREE_COLUMNS, ITEMS.c.rolled_expended, ITEMS.c.rolled_progress)
                              .where(in_tree(root_id)))
        return Tree.from_stored_rows(rows)
    columns = TREE_COLUMNS if rolled else (*TREE_COLUMNS, *STORED_COLUMNS)
    rows = _in_tree_order(select(*columns).where(in_tree(root_id)))
    if rolled:
        return roll_up(Tree.from_rows(rows), method.progress)
    return Tree.from_rows([(*row[:-3], tuple(row[-3:])) for row in rows])


def load_stored_tree(root_id: int) -> tuple[Tree, bool]:
    """The whole tree under ``root_id`` in one indexed query, for a writer
    that changes allocations (``settle_allocations``): every node with its
    stored rollups (``Node.stored``, as ``load_tree(rolled=False)``) and
    whether they were computed under the rules in force. When they were,
    each node's rolled-up figures are the stored ones (``expended``,
    ``rolled_progress``; its aggregate is decoded only where a write needs
    it: ``settle_allocations`` fills the changed items' ancestors', and
    every other node's ``agg`` stays empty, so read a node's children from
    ``children``, not from ``agg``); else nothing is rolled up (settle the
    whole tree).

    Returns:
        ``(tree, current)``.
    """
    rows = _in_tree_order(select(*TREE_COLUMNS, *STORED_COLUMNS, ITEMS.c.rollup_key).where(in_tree(root_id)))
    key = next((row[-1] for row in rows if row[0] == root_id), None)
    current = key == current_method().key
    nodes = []
    for row in rows:
        node = Node(*row[:11], stored=tuple(row[11:14]))
        if current:
            node.expended, node.rolled_progress = row[11], decode_exact(row[12])
        nodes.append(node)
    return Tree(nodes), current


#: ``(position, id)`` of a row that starts with ``TREE_COLUMNS``.
_POSITION_ID = operator.itemgetter(2, 0)


def _in_tree_order(query: Select) -> list:
    """The rows of ``query`` (its columns starting with ``TREE_COLUMNS``) by
    position, then id, as ``Tree`` takes them. PostgreSQL sorts them; SQLite
    returns them as its indexes give them (the root, then by id: nearly in
    order already) and Python sorts them, which costs a few milliseconds
    for 10,000 rows where SQLite's sort of the wide rows in a temporary
    B-tree cost about three times that (issue 17 item 3; docs/design.md §9)."""
    if db.session.get_bind().dialect.name != "sqlite":
        return db.session.execute(query.order_by(ITEMS.c.position, ITEMS.c.id)).all()
    rows = db.session.execute(query).all()
    rows.sort(key=_POSITION_ID)
    return rows


#: The columns of ``workflow.tree.STORED_PAYLOAD_FIELDS``: what the budget
#: tree shows of each item, nothing more (``load_breakdown``).
PAYLOAD_COLUMNS = (
    ITEMS.c.id, ITEMS.c.parent_id, ITEMS.c.title, ITEMS.c.work_type, ITEMS.c.level, ITEMS.c.status,
    type_coerce(ITEMS.c.allocated_budget, BigInteger), ITEMS.c.rolled_expended, ITEMS.c.rolled_progress,
)


@functools.cache
def _stored_payload_rows() -> Select:
    """The query of ``load_breakdown``, for the tree rooted at ``:root_id``
    (built once per process on first use)."""
    return (select(*PAYLOAD_COLUMNS).where(in_tree(bindparam("root_id")))
            .order_by(ITEMS.c.position, ITEMS.c.id))


def load_breakdown(root_id: int, threshold_pct: Decimal, *, rollup_key: str | None | object = UNREAD) -> Breakdown:
    """The tree under ``root_id`` as the budget tree shows it
    (``workflow.tree.Breakdown``): when its stored rollups were computed
    under the rules in force, one query of the columns shown, made into
    the payload in one pass with no ``Node`` (``stored_breakdown``;
    docs/design.md §4 "Stored rollups", §5 "The budget tree is cached");
    else ``load_tree`` rolls it up in memory.

    Args:
        threshold_pct: the on-budget band, percent (rules/default/budget.yaml).
        rollup_key: as ``load_tree``.
    """
    key = rollup_key
    if key is UNREAD:
        key = db.session.scalar(select(ITEMS.c.rollup_key).where(ITEMS.c.id == root_id))
    if key == current_method().key:
        result = db.session.execute(_stored_payload_rows(), {"root_id": root_id})
        try:  # the driver's tuples: no Row made per item (a cold read of 10,000 items: issue 17 item 2)
            rows = result.cursor.fetchall()
        finally:
            result.close()
        return stored_breakdown(rows, threshold_pct)
    return tree_breakdown(load_tree(root_id, rollup_key=key), threshold_pct)


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
    tree's rows calls it: through ``settle``, or itself; ``settle_path``
    bumps the counter in its path's one UPDATE instead (``_write_path``)."""
    session.execute(update(ITEMS).where(ITEMS.c.id == root_id).values(  # not the row's content: updated_at stays
        tree_version=ITEMS.c.tree_version + 1, updated_at=ITEMS.c.updated_at))


def record_item_changes(session: Session, ppa: Ppa, field: str, changes: Mapping[int, tuple[object, object]]) -> None:
    """Audit a set-based change of one field of many work items."""
    audit.record(session, "work_item", item_changes(ppa, field, changes))


def item_changes(ppa: Ppa, field: str, changes: Mapping[int, tuple[object, object]]
                 ) -> list[tuple[int, str, object, object, int | None]]:
    """Work item id -> ``(old, new)`` of ``field`` as the audit log takes
    them (``db.audit.record``'s ``changes``: id, field, old, new, the PPA's
    organization)."""
    return [(i, field, old, new, ppa.organization_id) for i, (old, new) in changes.items()]


def sync_ppa(ppa: Ppa | Row, status: str, progress: int | Fraction, *, force: bool = False) -> PpaSync:
    """Make the PPA follow its execution project, whose root is in ``status``
    with rolled-up ``progress`` (percent, exact).

    Args:
        ppa: the ``Ppa``, or a row of its columns as ``db.bulk.loaded_columns``
            reads them (``services.work_items.locate``): made the session's
            ORM object (``db.bulk.attach``, no statement) only when it
            changes, so that its flush writes and audits it as usual.
        force: sync progress and status even where the PPA's auto-sync flags
            are off (the on-demand ``sync_from_workitem``).

    Returns:
        What was applied (``None`` fields were left alone). The PPA row is
        written only when something changes.
    """
    rules = get_runtime().rules.sync
    wanted = follow_project(rules, status, progress,
                            progress=force or ppa.auto_sync_progress, status=force or ppa.auto_sync_status)
    progress_moves = wanted.progress is not None and ppa.progress != wanted.progress
    status_moves = wanted.status is not None and (ppa.status, ppa.execution_flag) != (wanted.status,
                                                                                        wanted.execution_flag)
    if progress_moves or status_moves:
        ppa = attach(db.session, Ppa, ppa)
    if progress_moves:
        ppa.progress = wanted.progress
    if status_moves:
        ppa.status = wanted.status
        ppa.execution_flag = wanted.execution_flag
    return wanted


def settle(session: Session, ppa: Ppa, tree: Tree) -> None:
    """After a change to a whole loaded tree (``load_tree(rolled=False)``):
    roll it up from scratch, letting parents follow their children's
    statuses (rules/default/sync.yaml ``roll_up_status``); write the changed
    statuses (one statement, audited) and the stored rollups that changed
    (one statement); let the PPA follow its project, and open or resolve the
    tree's alerts at once. For a change to one item, ``settle_path`` does
    the same along its ancestors only (docs/design.md §4 "Stored rollups")."""
    method = current_method()
    statuses = settle_tree(tree, method)
    _write_statuses(session, ppa, statuses)
    _write_rollups(session, tree.preorder())
    session.execute(update(ITEMS).where(ITEMS.c.id == tree.root.id, or_(
        ITEMS.c.rollup_key.is_(None), ITEMS.c.rollup_key != method.key)).values(
            rollup_key=method.key, updated_at=ITEMS.c.updated_at))
    sync_ppa(ppa, tree.root.status, tree.root.rolled_progress)
    alerts.reconcile_tree(session, ppa, tree)
    bump_tree_version(session, tree.root.id)


def settle_allocations(session: Session, ppa: Ppa, tree: Tree, moved: Mapping[int, tuple[int | None, int | None]],
                       *, current: bool) -> None:
    """After ``apply_allocations`` on a tree read by ``load_stored_tree``:
    when its stored rollups are ``current``, settle only the changed items'
    ancestors from their stored aggregates (``workflow.tree.settle_reallocation``:
    the changed items' own figures do not move), audit the statuses that
    changed and write them, the stored rollups that changed and the root's
    ``tree_version`` bump in one statement (``_write_path``, as
    ``settle_path`` does), let the PPA follow its project and reconcile the
    tree's alerts; else ``settle`` the whole tree (docs/design.md §4
    "Stored rollups").

    Args:
        moved: item id -> ``(allocation before, allocation after)``
            (centavos), as ``apply_allocations`` returns it.
    """
    if not current:
        settle(session, ppa, tree)
        return
    method = current_method()
    nodes, statuses = settle_reallocation(tree, moved, method)
    _write_path(session, Path(nodes, tree.root, True, method), statuses, None, item_changes(ppa, "status", statuses))
    sync_ppa(ppa, tree.root.status, tree.root.rolled_progress)
    alerts.reconcile_tree(session, ppa, tree)


@dataclass(frozen=True)
class Drift:
    """How a tree's stored rollups differ from a full recomputation
    (``rollup_drift``).

    Attributes:
        items: items whose stored rolled-up expenditure, progress or
            aggregate differ.
        statuses: parents whose status should follow their children's and
            does not (rules/default/sync.yaml ``roll_up_status``).
        current: the stored rollups were computed under the rules in force.
    """

    items: int
    statuses: int
    current: bool

    @property
    def clean(self) -> bool:
        """Nothing to repair."""
        return self.current and not self.items and not self.statuses


def rollup_drift(root_id: int) -> Drift:
    """Recompute the tree under ``root_id`` from scratch, in memory, and
    compare with what is stored (two statements; nothing written)."""
    key = db.session.scalar(select(ITEMS.c.rollup_key).where(ITEMS.c.id == root_id))
    tree = load_tree(root_id, rolled=False)
    method = current_method()
    statuses = settle_tree(tree, method)
    items = sum(1 for node in tree.preorder() if _stored_figures(node) != node.stored)
    return Drift(items, len(statuses), key == method.key)


def _write_statuses(session: Session, ppa: Ppa, statuses: Mapping[int, tuple[str, str]]) -> None:
    """Write the statuses the roll-up changed (one statement) and audit them."""
    if statuses:
        update_column(session, ITEMS, "status", {i: new for i, (_, new) in statuses.items()})
        record_item_changes(session, ppa, "status", statuses)


def _stored_figures(node: Node) -> tuple[int, str, str]:
    """A rolled-up node's figures as the ``STORED_COLUMNS`` hold them."""
    return node.expended, encode_exact(node.rolled_progress), node.agg.encode()


def _write_rollups(session: Session, nodes: Iterable[Node]) -> None:
    """Write the stored rollups of ``nodes`` (rolled up) that differ from
    what they were loaded with, in one statement; the rows' versions stay."""
    rows = []
    for node in nodes:
        stored = _stored_figures(node)
        if stored != node.stored:
            rows.append({"id": node.id, "rolled_expended": stored[0], "rolled_progress": stored[1],
                         "rollup": stored[2]})
            node.stored = stored
    update_rows(session, ITEMS, rows, ["rolled_expended", "rolled_progress", "rollup"], bump=False)


#: The columns of an ancestor path: ``TREE_COLUMNS`` and ``STORED_COLUMNS``, then the root's ``rollup_key``.
PATH_COLUMNS = (*TREE_COLUMNS, *STORED_COLUMNS, ITEMS.c.rollup_key)


@dataclass
class Path:
    """Some work items of one tree and all their ancestors, with their
    stored rollups: what a change to those items can move
    (docs/design.md §4 "Stored rollups").

    Attributes:
        nodes: item id -> ``workflow.tree.Node`` (``agg`` decoded from the
            store, ``expended`` and ``rolled_progress`` as stored;
            ``children`` not filled).
        root: the tree's root project.
        current: the stored rollups were computed under the rules in force
            (``False``: a writer must settle the whole tree instead).
        before: each node's share in its parent before the change.
        open_alerts: the open tree alerts of the path's items, as
            ``alerts.reconcile`` reads them (``(type, subject)`` -> alert
            id), when the statement that read the path read them too
            (``services.work_items.locate``); ``None``: ``settle_path``
            reads them.
    """

    nodes: dict[int, Node]
    root: Node
    current: bool
    method: Method
    before: dict[int, Share] = field(default_factory=dict)
    open_alerts: dict[tuple[str, str], int] | None = None


def path_query(item_ids):
    """The recursive query up the parents: the ids of ``item_ids`` (a
    collection, or a bound parameter: for one id, or expanding for a list)
    and of their ancestors, as a subquery for ``ITEMS.c.id.in_(...)``."""
    many = isinstance(item_ids, Collection) or getattr(item_ids, "expanding", False)
    start = ITEMS.c.id.in_(item_ids) if many else ITEMS.c.id == item_ids
    up = select(ITEMS.c.id, ITEMS.c.parent_id).where(start).cte("up", recursive=True)
    up = up.union(select(ITEMS.c.id, ITEMS.c.parent_id).join(up, ITEMS.c.id == up.c.parent_id))
    return select(up.c.id)


def load_path(item_ids: Collection[int]) -> Path:
    """``item_ids`` (of one tree) and every ancestor of theirs, with their
    stored rollups, in one statement (a recursive query up the parents).

    Raises:
        ValueError: no such items.
    """
    rows = db.session.execute(_path_rows(), {"item_ids": list(item_ids)}).all()
    return path_of(rows, item_ids)


@functools.cache
def _path_rows() -> Select:
    """``load_path``'s statement, for the ids ``:item_ids`` (built once per process)."""
    return select(*PATH_COLUMNS).where(ITEMS.c.id.in_(path_query(bindparam("item_ids", expanding=True))))


@functools.cache
def _root_row() -> Select:
    """``load_project``'s statement: the root ``:root_id`` alone, its path (built once per process)."""
    return select(*PATH_COLUMNS).where(ITEMS.c.id == bindparam("root_id"))


def path_of(rows: Iterable[Sequence], item_ids: Collection[int]) -> Path:
    """The ``Path`` of rows of ``PATH_COLUMNS`` (a row may come more than
    once: the first is kept), for ``item_ids``.

    Raises:
        ValueError: no root among the rows.
    """
    method = current_method()
    nodes, root, key = {}, None, None
    for row in rows:
        if row[0] in nodes:
            continue
        node = _stored_node(row)
        nodes[node.id] = node
        if node.parent_id is None:
            root, key = node, row[len(PATH_COLUMNS) - 1]
    if root is None:
        raise ValueError(f"work items {sorted(item_ids)} are not in a tree")
    path = Path(nodes, root, key == method.key, method)
    path.before = {i: share(node, method, keep=True) for i, node in nodes.items()} if path.current else {}
    return path


def load_project(root_id: int) -> Node:
    """The root project of a tree with its rolled-up figures (``status``,
    ``expended``, ``rolled_progress``): its stored rollups, one statement
    (of its row alone: a root is its own path, no recursive query), when
    current; else the whole tree rolled up in memory.

    Raises:
        ValueError: ``root_id`` is not a tree's root."""
    path = path_of(db.session.execute(_root_row(), {"root_id": root_id}).all(), [root_id])
    return path.root if path.current else load_tree(root_id).root


def load_children(item_id: int) -> list[Node]:
    """The direct children of ``item_id``, in order, with their stored
    rollups (``expended``, ``rolled_progress``, ``agg``), in one statement."""
    rows = db.session.execute(select(*PATH_COLUMNS).where(ITEMS.c.parent_id == item_id)
                              .order_by(ITEMS.c.position, ITEMS.c.id)).all()
    return [_stored_node(row) for row in rows]


def _stored_node(row) -> Node:
    """A ``Node`` from a row of ``PATH_COLUMNS`` (further columns after
    them ignored), its stored rollups decoded."""
    end = len(PATH_COLUMNS)
    rolled, progress, aggregate = row[end - 4:end - 1]
    return Node(*row[:end - 4], stored=(rolled, progress, aggregate), expended=rolled,
                rolled_progress=decode_exact(progress), agg=Aggregate.decode(aggregate))


def last_child_position(item_id: int) -> int:
    """The largest ``position`` among the direct children of ``item_id``, -1 without any."""
    return db.session.scalar(select(func.coalesce(func.max(ITEMS.c.position), -1))
                             .where(ITEMS.c.parent_id == item_id))


@dataclass(frozen=True)
class OwnStatus:
    """A change of one item's own status that ``settle_path`` writes with
    its path's rollups, in the same statement, instead of the ORM's flush:
    the same row change (``status``, ``updated_by_id``, ``version`` + 1,
    ``updated_at``), the same optimistic check (the row must still have
    ``version``, else ``Conflict``) and the same audit row.

    Attributes:
        item_id: the item.
        old, new: its status before and after (different).
        version: the row's version as read.
        user_id: the author (``updated_by_id``).
        at: the time written to ``updated_at`` (UTC).
    """

    item_id: int
    old: str
    new: str
    version: int
    user_id: int
    at: datetime


def settle_path(session: Session, ppa: Ppa | Row, path: Path, *, own: OwnStatus | None = None) -> set[int] | None:
    """After a change to the own fields (status, progress, expenditure,
    allocation) of some items of ``path``, already written (or, for a
    status, handed over as ``own``): update their ancestors' stored
    rollups, one share at a time up the path (``workflow.rollups.settle_path``),
    audit the statuses that changed and write them, the stored rollups
    that changed and the root's ``tree_version`` bump (``_write_path``: one
    statement on PostgreSQL, the audit INSERT inside the UPDATE's ``WITH``;
    two on SQLite), let the PPA follow its project's stored
    figures, and reconcile the alerts of the path's items (from
    ``path.open_alerts`` when the path was read with them). Statements and
    time depend on the depth of the tree, not its size. ``ppa`` may be a
    row of its columns (``sync_ppa``).

    A tree whose stored rollups are not current (never computed, or under
    other rules) is settled whole instead (``settle``); ``own`` is then
    refused: its caller writes the status through the ORM.

    Returns:
        The ids of the items whose own row (status, ``version``) was
        rewritten behind the ORM's back: a loaded ``WorkItem`` among them
        must be read again (or be told, for ``own``). ``None``: the whole
        tree was settled.

    Raises:
        Conflict: ``concurrent_update``, a row of the path changed
            version since it was read (``own``) or is gone.
        ValueError: ``own`` given for a tree that is not current.
    """
    if not path.current:
        if own is not None:
            raise ValueError("a status handed to settle_path needs a tree whose stored rollups are current")
        settle(session, attach(session, Ppa, ppa), load_tree(path.root.id, rolled=False))
        return None
    method = path.method
    statuses = settle_path_rollups(path.nodes, path.before, method)
    if own is not None:  # the item's own change first, then what the roll-up made of it
        statuses = {own.item_id: (own.old, statuses.get(own.item_id, (None, own.new))[1])} | {
            i: change for i, change in statuses.items() if i != own.item_id}
    for node in path.nodes.values():
        node.expended = expended(node)
        node.rolled_progress = rolled_progress(node, method.progress)
    _write_path(session, path, statuses, own, item_changes(ppa, "status", statuses))
    sync_ppa(ppa, path.root.status, path.root.rolled_progress)
    alerts.reconcile_items(session, ppa, list(path.nodes.values()), open_now=path.open_alerts)
    return set(statuses)


#: ``_write_path``'s columns and their PostgreSQL types.
_PATH_WRITE = {"id": "integer", "status": "text", "updated_by_id": "integer", "stamp": "integer",
               "version": "integer", "rolled_expended": "bigint", "rolled_progress": "text", "rollup": "text",
               "tree_version": "integer"}
#: ``_write_path``'s assignments: a status (with ``stamp``: a change of the row's content, which bumps its
#: ``version`` and ``updated_at``, as ``db.bulk.update_rows`` does) only where given, the stored rollups
#: always (not the row's content), the root's ``tree_version`` (``bump_tree_version``'s effect).
_PATH_SETS = ("status = coalesce({v}status, {t}status), updated_by_id = coalesce({v}updated_by_id, {t}updated_by_id), "
              "version = {t}version + {v}stamp, updated_at = CASE WHEN {v}stamp = 1 THEN {now} ELSE {t}updated_at END, "
              "rolled_expended = {v}rolled_expended, rolled_progress = {v}rolled_progress, rollup = {v}rollup, "
              "tree_version = {t}tree_version + {v}tree_version")


#: ``_write_path``'s UPDATE on PostgreSQL, after the optional ``WITH audited AS (...)``: the rows from the
#: JSON array ``%(rows)s`` (``json_to_recordset``, typed by ``_PATH_WRITE``).
_PATH_UPDATE = (f"UPDATE work_items AS t SET {_PATH_SETS.format(v='v.', t='t.', now='%(now)s')} "
                f"FROM json_to_recordset(CAST(%(rows)s AS json)) AS v("
                f"{', '.join(f'{n} {t}' for n, t in _PATH_WRITE.items())}) "
                "WHERE t.id = v.id AND (v.version IS NULL OR t.version = v.version)")


def _write_path(session: Session, path: Path, statuses: Mapping[int, tuple[str, str]], own: OwnStatus | None,
                audits: Sequence[tuple[int, str, object, object, int | None]] = ()) -> None:
    """Write, in one statement (``UPDATE ... FROM json_to_recordset`` on
    PostgreSQL, the rows as one JSON parameter; one ``executemany`` on
    SQLite: a path is a few rows), every row of
    the path that moved: the statuses of ``statuses`` (``version`` and
    ``updated_at`` bumped), the stored rollups that differ from what was
    loaded, the root's ``tree_version`` + 1, and ``own`` (its version
    checked); and the audit rows of the statuses.

    Args:
        audits: the statuses' audit rows (``item_changes``). On PostgreSQL
            their INSERT (``db.audit.record_statement``) goes in the same
            statement (``WITH audited AS (INSERT ...) UPDATE ...``): one
            round trip for both; on SQLite ``db.audit.record`` sends it
            first. Should the UPDATE miss a row, the ``Conflict`` rolls the
            transaction back, audit rows with it.

    Raises:
        Conflict: ``concurrent_update``: a row was not written (``own``'s
            version moved, or a row is gone).
    """
    rows = []
    for node in path.nodes.values():
        stored = _stored_figures(node)
        change = statuses.get(node.id)
        mine = own is not None and node.id == own.item_id
        if stored != node.stored or change is not None or node is path.root or mine:
            rows.append({"id": node.id, "status": change[1] if change else None,
                         "updated_by_id": own.user_id if mine else None, "stamp": int(change is not None or mine),
                         "version": own.version if mine else None, "rolled_expended": stored[0],
                         "rolled_progress": stored[1], "rollup": stored[2], "tree_version": int(node is path.root)})
            node.stored = stored
    now = own.at if own is not None else utcnow()
    note_write(session)  # driver SQL: no ORM event notes it
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":  # the rows as one JSON parameter: one value to adapt, not nine arrays
        audited = audit.record_statement(session, "work_item", audits)
        insert, inserted = (f"WITH audited AS ({audited[0]}) ", audited[1]) if audited else ("", {})
        written = session.connection().exec_driver_sql(
            f"{insert}{_PATH_UPDATE}", {"rows": orjson.dumps(rows).decode(), "now": now} | inserted).rowcount
    else:  # SQLite runs in process: one executemany
        audit.record(session, "work_item", audits)
        stamp = rendered_stamp(ITEMS, dialect, now)
        sets = _PATH_SETS.format(v=":", t="", now=":now")
        written = session.execute(text(
            f"UPDATE work_items SET {sets} WHERE id = :id AND (:version IS NULL OR version = :version)"),
            [row | {"now": stamp} for row in rows]).rowcount
    if written != len(rows):
        raise Conflict("the record was changed by another request at the same time; read it again and retry",
                       code="concurrent_update")


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
    now = utcnow()
    # One INSERT per level (a level's parents must have their ids; db.bulk.insert_rows_returning) and
    # one audit INSERT for all the items, with the rows the ORM's flush would have audited (issue 17:
    # the ORM's unit of work cost more than the rest of the transition that generates the tree).
    constants = {"status": status, "priority": ppa.priority, "progress": 0,
                 "actual_expenditure": Decimal("0.00"), "expenditure_opening_balance": None, "budget_notes": "",
                 "budget_locked": False, "created_by_id": user_id, "updated_by_id": user_id, "created_at": now,
                 "updated_at": now, "version": 1, "tree_version": 1}
    created: list[dict] = []
    for level in sorted({p.level for p in plan}):
        rows = [p for p in plan if p.level == level]
        fixed = constants | {"root_id": root_id}  # None on the first level: the root has no root above it
        values = [{
            "parent_id": ids.get(p.parent_ref) if p.parent_ref is not None else None,
            "ppa_id": ppa.id if p.parent_ref is None else None, "work_type": p.work_type, "title": p.title,
            "description": ppa.summary if p.parent_ref is None else "", "position": p.position, "level": p.level,
            "start_date": p.start_date, "due_date": p.due_date, "allocated_budget": from_centavos(p.allocated),
        } | fixed for p in rows]
        columns = {name: [row[name] for row in values] for name in _LEVEL_COLUMNS}
        written = {(parent, position): item_id for item_id, parent, position in insert_rows_returning(
            session, ITEMS, columns, fixed, ("id", "parent_id", "position"))}
        if len(written) != len(values):  # siblings of a plan have distinct positions (workflow.wbs)
            raise ValueError(f"the WBS plan has siblings at one position on level {level}")
        for row in values:
            row["id"] = written[row["parent_id"], row["position"]]
        created += values
        ids.update({p.ref: row["id"] for p, row in zip(rows, values, strict=True)})
        root_id = ids[0]
    audit.record_creates(session, WorkItem, ppa.organization_id, created)
    ppa.execution_project_id = root_id
    ppa.enable_workitem_tracking = True
    session.flush()
    settle(session, ppa, load_tree(root_id, rolled=False))
    return root_id


#: The columns of ``generate_execution_project``'s items that differ from item to item of a level.
_LEVEL_COLUMNS = ("parent_id", "ppa_id", "work_type", "title", "description", "position", "level", "start_date",
                  "due_date", "allocated_budget")


def apply_allocations(session, ppa: Ppa, tree: Tree, explicit: Mapping[int, int], *,
                      write: bool = True) -> dict[int, tuple[int | None, int | None]]:
    """Set ``explicit`` allocations, rescale descendants, check every
    envelope, and write them with their audit rows (``db.audit.update_amounts``:
    the old allocations rendered by the database); the caller settles the
    tree (``settle``, or ``settle_allocations`` after ``load_stored_tree``).

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
    by_id = tree.by_id
    moved = {i: (by_id[i].allocated, amount) for i, amount in changes.items()}
    if write:  # the audit rows read the old allocations in the database: none travels back
        audit.update_amounts(session, "work_item", ITEMS, "allocated_budget", ppa.organization_id, changes)
    for item_id, amount in changes.items():
        by_id[item_id].allocated = amount
    return moved


def require_unlocked(tree: Tree) -> None:
    """Raises ``Conflict`` (``budget_locked``) while the tree's allocations
    are frozen (after budget review approval, until returned for revision)."""
    require_unlocked_root(tree.root)


def require_unlocked_root(root: Node) -> None:
    """``require_unlocked`` given the tree's root project only."""
    if root.locked:
        raise Conflict("allocations are locked since budget review approval; they unlock if the PPA is "
                       "returned for revision", code="budget_locked")
