"""Work item use cases: read with rollups, add children, edit, record
expenditure, move through the status machine (docs/design.md §4, §5).

Every write locks the owning PPA's row first (all writes to one WBS are
serialised), checks ``If-Match`` when given, applies the change, settles
the stored rollups along the item's ancestor path (the whole tree for
allocations and cancellations) and lets the PPA follow it when auto-sync is
on (docs/design.md §4, "Stored rollups").
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from db import db
from db.bulk import attach, loaded_columns, refresh_held
from db.models import Ppa, User, WorkItem
from db.types import utcnow
from services import alerts
from services.access import can_see_ppa, require_tree_editor
from services.concurrency import check_if_match
from services.expenditure import DISBURSEMENTS, REPORTED, in_chain, is_in_chain, opening_balance, require_reported
from services.runtime import get_runtime
from services.trees import (ITEMS, PATH_COLUMNS, OwnStatus, Path, apply_allocations, current_method, in_tree,
                            last_child_position, load_children, load_tree, path_of, path_query, record_item_changes,
                            require_unlocked_root, settle, settle_path)
from services.unit_of_work import transaction
from workflow.errors import Conflict, NotFound, ValidationFailed
from workflow.money import MAX_AMOUNT, MAX_CENTAVOS, from_centavos, to_centavos
from workflow.tree import CANCELLED, Node, Tree, budget_status, roll_up, shown_progress, variance_pct_hundredths

#: Fields ``update_work_item`` accepts.
EDITABLE = frozenset({"title", "description", "priority", "start_date", "due_date", "budget_notes", "progress",
                      "actual_expenditure", "allocated_budget"})


@dataclass
class Located:
    """A work item with its PPA and its ancestor path (stored rollups); the
    whole tree only for the writes that need it (allocations, which check
    every envelope, and cancellations, which reach every descendant)."""

    item: WorkItem
    #: The PPA as ``locate`` read it: a row of its columns (``db.bulk.loaded_columns``: attributes to read, not
    #: to assign, and no ``etag``, ``organization`` or deferred ``actual_expenditure``); or, once ``ppa`` was
    #: asked for, the ``Ppa`` itself, the object a write changes (made from the row and kept here).
    record: Any
    path: Path
    #: Whether the PPA is in the money chain (``services.expenditure``): read by ``locate`` with the path, else when first asked.
    chain: bool | None = None
    #: The whole tree, once ``whole_tree`` loaded it (or a read rolled it up in memory).
    tree: Tree | None = None
    #: The root's ``WorkItem`` as ``locate`` loaded it, held here because the session holds it only weakly.
    root_item: WorkItem | None = None

    @property
    def ppa(self) -> Ppa:
        """The PPA as an ORM object of the session, made from ``record``
        when first asked (no statement: ``db.bulk.attach``)."""
        self.record = attach(db.session, Ppa, self.record)
        return self.record

    def hold_ppa(self) -> None:
        """Make the PPA an object of the session (``ppa``; no statement)
        before the item is changed through the ORM: the audit of the flush
        finds the item's organization through its root and the PPA
        (``db.models``), which it then finds held, instead of reading it."""
        self.ppa  # noqa: B018 (made and held, for the audit's session.get)

    @property
    def node(self) -> Node:
        """The item's node: in the whole tree when loaded, else on its path."""
        return self.tree.by_id[self.item.id] if self.tree is not None else self.path.nodes[self.item.id]

    @property
    def root(self) -> Node:
        """The tree's root project (its stored figures)."""
        return self.tree.root if self.tree is not None else self.path.root

    def whole_tree(self) -> Tree:
        """The whole tree as it is now (pending changes flushed first), for
        a write that reaches beyond the ancestor path; ``finish`` then
        settles the whole tree."""
        if self.tree is None:
            db.session.flush()
            self.tree = load_tree(self.path.root.id, rolled=False)
        return self.tree

    @property
    def in_chain(self) -> bool:
        """The PPA is in the money chain: its expenditure comes from disbursements."""
        if self.chain is None:
            self.chain = is_in_chain(self.record.id)
        return self.chain


def locate(user: User, item_id: int, *, for_update: bool = False) -> Located:
    """The work item ``item_id``, its PPA and its ancestor path, if ``user``
    may see the PPA, in two statements: the PPA (found through the item's
    root, locked for a write; read as a row, the ORM object made from it
    only if a write needs it: ``Located.ppa``), then, once it is locked,
    the item, its ancestors' stored rollups, their open tree alerts and
    whether the PPA is in the money chain. Reads of a tree whose stored
    rollups are not current (docs/design.md §4 "Stored rollups") roll the
    whole tree up in memory.

    Args:
        for_update: lock the PPA row (serialises every write to the tree;
            the lock order of docs/design.md §12: the PPA before its work
            items, whose rows are read only after it is held, in a
            statement of their own, so they are read as the last writer
            committed them).

    Raises:
        NotFound: no such item, or its PPA is not visible to ``user``.
    """
    ppa = db.session.execute(_ppa_of_item(for_update), {"item_id": item_id}).first()
    if ppa is None or not can_see_ppa(user, ppa):
        raise NotFound(f"work item {item_id} not found")
    if for_update:  # a PPA the session already holds gets what was read under the lock (populate_existing)
        refresh_held(db.session, Ppa, ppa)
    rows = db.session.execute(_item_and_path(for_update), {"item_id": item_id, "ppa_id": ppa.id}).all()
    end = len(PATH_COLUMNS)
    item = next((row[end] for row in rows if row[0] == item_id), None)
    if item is None:
        raise NotFound(f"work item {item_id} not found")
    path = path_of(rows, [item_id])
    path.open_alerts = {(row[end + 2], alerts.item_subject(row[0])): row[end + 1]
                        for row in rows if row[end + 1] is not None}
    root_item = next(row[end] for row in rows if row[0] == path.root.id)
    located = Located(item, ppa, path, bool(rows[0][end + 3]), root_item=root_item)
    if not path.current:  # stored under other rules, or never: the whole tree, rolled up in memory
        located.tree = load_tree(path.root.id) if not for_update else roll_up(
            load_tree(path.root.id, rolled=False), current_method().progress)
    return located


@functools.cache
def _ppa_of_item(for_update: bool) -> Select:
    """``locate``'s first statement (built once per process): the columns of
    the PPA whose execution project holds the item ``:item_id``
    (``db.bulk.loaded_columns``), locked ``for_update``."""
    ppas = Ppa.__table__
    root_id = select(func.coalesce(ITEMS.c.root_id, ITEMS.c.id)).where(ITEMS.c.id == bindparam("item_id"))
    query = select(*loaded_columns(Ppa)).where(ppas.c.execution_project_id == root_id.scalar_subquery())
    return query.with_for_update(of=ppas) if for_update else query


@functools.cache
def _item_and_path(for_update: bool) -> Select:
    """``locate``'s second statement (built once per process): one row per
    item of the path of ``:item_id`` and per open tree alert of it
    (``PATH_COLUMNS``, then the ``WorkItem`` for the item itself and for the
    root, else ``None``; the alert's id and type, else ``None``; whether the
    PPA ``:ppa_id`` is in the money chain). The root is loaded as an entity
    so that the audit of the item's flush finds the item's organization
    through it (``db.models``) without a statement of its own."""
    item = aliased(WorkItem)
    alert_table, alert_on = alerts.item_alerts(bindparam("ppa_id"), ITEMS.c.id)
    query = (select(*PATH_COLUMNS, item, alert_table.c.id, alert_table.c.type, in_chain(bindparam("ppa_id")))
             .select_from(ITEMS)
             .outerjoin(item, and_(item.id == ITEMS.c.id,
                                   or_(ITEMS.c.id == bindparam("item_id"), ITEMS.c.parent_id.is_(None))))
             .outerjoin(alert_table, alert_on)
             .where(ITEMS.c.id.in_(path_query(bindparam("item_id")))))
    return query.execution_options(populate_existing=True) if for_update else query


def view(located: Located, node: Node | None = None) -> dict[str, Any]:
    """A work item as the API shows it: stored fields plus rollups (PHP
    ``Decimal`` money; ``expended`` and ``progress`` are rolled up,
    ``actual_expenditure`` and ``own_progress`` are the item's own).

    ``expenditure_source`` is ``"disbursements"`` for a PPA in the money
    chain (``actual_expenditure`` = ``opening_balance`` + the disbursements
    charged to the item), else ``"reported"`` (``opening_balance`` null);
    docs/design.md §12, "Money spent and payables"."""
    item, node = located.item, node or located.node
    threshold = get_runtime().rules.budget.on_budget_threshold_pct
    pct = variance_pct_hundredths(node.allocated, node.expended)
    return {
        "id": item.id, "parent_id": item.parent_id, "ppa_id": located.record.id, "work_type": item.work_type,
        "title": item.title, "description": item.description, "position": item.position, "level": item.level,
        "status": node.status, "priority": item.priority, "progress": shown_progress(node.rolled_progress),
        "own_progress": item.progress, "start_date": item.start_date, "due_date": item.due_date,
        "allocated_budget": item.allocated_budget, "actual_expenditure": item.actual_expenditure,
        "expenditure_source": DISBURSEMENTS if located.in_chain else REPORTED,
        "opening_balance": opening_balance(item, located.in_chain),
        "expended": from_centavos(node.expended),
        "variance": from_centavos((node.allocated or 0) - node.expended),
        "variance_pct": None if pct is None else Decimal(pct) / 100,
        "budget_status": budget_status(node.allocated, node.expended, threshold),
        "budget_notes": item.budget_notes, "budget_locked": item.budget_locked,
        "children_count": node.agg.children, "version": item.version, "etag": item.etag,
        "created_at": item.created_at, "updated_at": item.updated_at,
    }


def get_work_item(user: User, item_id: int) -> dict[str, Any]:
    """One work item with its rollups.

    Raises:
        NotFound: unknown, or its PPA is not visible to ``user``.
    """
    return view(locate(user, item_id))


def list_children(user: User, item_id: int) -> list[dict[str, Any]]:
    """The direct children of a work item, in order, with their rollups.

    Raises:
        NotFound: unknown, or its PPA is not visible to ``user``.
    """
    located = locate(user, item_id)
    if located.tree is not None:
        children = {c.id: c for c in located.node.children}
    else:
        children = {c.id: c for c in load_children(item_id)}
    rows = db.session.scalars(select(WorkItem).where(WorkItem.id.in_(children))).all() if children else []
    by_id = {row.id: row for row in rows}
    return [view(Located(by_id[child_id], located.record, located.path, located.in_chain, located.tree),
                 children[child_id]) for child_id in children]


def create_work_item(user: User, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Add a work item under an existing one.

    Args:
        fields: ``parent_id``, ``work_type``, ``title`` and optionally
            ``description``, ``priority``, dates, ``allocated_budget`` (PHP),
            ``position`` (default: after the last sibling).

    Raises:
        NotFound, Forbidden,
        ValidationFailed: a type not allowed under the parent
            (rules/default/wbs_templates.yaml), dates out of order, or an allocation
            beyond what the parent has left.
        Conflict: ``budget_locked`` (with an allocation), or a cancelled parent.
    """
    values = dict(fields)
    rules = get_runtime().rules
    with transaction() as session:
        parent = locate(user, values.pop("parent_id"), for_update=True)
        require_tree_editor(user, parent.record)
        node = parent.node
        allowed = rules.wbs.allowed_children.get(node.work_type, ())
        if values["work_type"] not in allowed:
            raise ValidationFailed({"work_type": [
                f"a {values['work_type']} cannot be placed under a {node.work_type} "
                f"(allowed: {', '.join(allowed) or 'nothing'})"]})
        if node.status == CANCELLED:
            raise Conflict(f"work item {node.id} is cancelled; nothing can be added under it", code="parent_cancelled")
        _check_dates(values)
        amount = values.pop("allocated_budget", None)
        root = parent.root
        if amount is not None:
            require_unlocked_root(root)
        position = values.pop("position", None)
        if position is None:
            position = last_child_position(node.id) + 1
        parent.hold_ppa()
        item = WorkItem(**values, parent_id=node.id, root_id=root.id, position=position,
                        level=node.level + 1, status=rules.work_item_status.initial,
                        budget_locked=root.locked, created_by_id=user.id, updated_by_id=user.id)
        session.add(item)
        session.flush()
        parent.path.nodes[item.id] = Node(item.id, node.id, position, item.work_type, item.title, item.level,
                                          item.status, 0, None, 0, item.budget_locked)
        located = Located(item, parent.record, parent.path, parent.chain)
        if amount is not None:
            apply_allocations(session, located.ppa, located.whole_tree(), {item.id: to_centavos(amount)})
        return finish(session, located)


def update_work_item(user: User, item_id: int, changes: Mapping[str, Any], *,
                     if_match: str | None = None) -> dict[str, Any]:
    """Edit a work item (``PATCH``).

    ``actual_expenditure`` (PHP) may be recorded at any time while the PPA
    is outside the money chain (a changed figure on a PPA in it is refused:
    it comes from disbursements, ``services.expenditure``);
    ``allocated_budget`` only while the tree is unlocked, within what the
    parent has left, and its descendants are rescaled in proportion;
    ``progress`` only on an item without children (a parent's is rolled up).

    Raises:
        NotFound, Forbidden, PreconditionFailed (stale ``If-Match``),
        Conflict (``budget_locked``; ``expenditure_from_disbursements``),
        ValidationFailed.
    """
    values = dict(changes)
    with transaction() as session:
        located = locate(user, item_id, for_update=True)
        require_tree_editor(user, located.record)
        check_if_match(if_match, located.item.etag)
        item, node = located.item, located.node
        if "progress" in values and node.agg.children:
            raise ValidationFailed({"progress": ["this item has children: its progress is rolled up from them"]})
        _check_dates({"start_date": item.start_date, "due_date": item.due_date} | values)
        if "actual_expenditure" in values and values["actual_expenditure"] != item.actual_expenditure:
            require_reported(located.record, "actual_expenditure", in_the_chain=located.in_chain)
        if "actual_expenditure" in values:
            _require_total_within_maximum(located.root, to_centavos(values["actual_expenditure"]) - node.spent,
                                          "actual_expenditure")
        located.hold_ppa()
        if "actual_expenditure" in values and values["actual_expenditure"] != item.actual_expenditure:
            item.expenditure_opening_balance = None  # a reported figure; captured again if the PPA enters the chain
        amount = values.pop("allocated_budget", None)
        for name, value in values.items():
            setattr(item, name, value)
        item.updated_by_id = user.id
        session.flush()
        node.title, node.progress = item.title, item.progress
        node.spent = to_centavos(item.actual_expenditure)
        if amount is not None and to_centavos(amount) != node.allocated:
            require_unlocked_root(located.root)
            if node is located.root:
                raise ValidationFailed({"allocated_budget": [
                    "the project's allocation is the PPA's budget; change the PPA instead"]})
            apply_allocations(session, located.ppa, located.whole_tree(), {item.id: to_centavos(amount)})
        return finish(session, located)


def record_expenditure(user: User, item_id: int, amount: Decimal) -> dict[str, Any]:
    """Add ``amount`` (PHP; negative to correct) to a work item's actual
    expenditure, atomically. Allowed at any time, also while allocations are
    locked, for a PPA outside the money chain.

    Raises:
        NotFound, Forbidden,
        Conflict: ``expenditure_from_disbursements``, the PPA is in the money
            chain (its expenditure comes from disbursements),
        ValidationFailed: the expenditure would become negative, or the
            project's total expenditure would exceed ``MAX_AMOUNT``.
    """
    with transaction() as session:
        located = locate(user, item_id, for_update=True)
        require_tree_editor(user, located.record)
        require_reported(located.record, "amount", in_the_chain=located.in_chain)
        centavos = to_centavos(amount)
        if located.node.spent + centavos < 0:
            raise ValidationFailed({"amount": [
                f"would make the expenditure negative (it is {located.item.actual_expenditure})"]})
        _require_total_within_maximum(located.root, centavos, "amount")
        # A Core UPDATE (the row's onupdate stamp included) whose RETURNING tells the loaded item what
        # was written: what the ORM's "fetch" synchronisation did, without its per-statement work (issue 17).
        written = session.execute(_add_expenditure(), {
            "item_id": item_id, "amount": amount, "user_id": user.id}).one()
        for name, value in zip(_EXPENDITURE_RETURNED, written, strict=True):
            set_committed_value(located.item, name, value)
        record_item_changes(session, located.record, "actual_expenditure", {
            item_id: (from_centavos(located.node.spent), from_centavos(located.node.spent + centavos))})
        located.node.spent += centavos
        return finish(session, located)


#: The columns ``record_expenditure``'s UPDATE writes and returns.
_EXPENDITURE_RETURNED = ("actual_expenditure", "expenditure_opening_balance", "version", "updated_by_id",
                         "updated_at")


@functools.cache
def _add_expenditure():
    """``record_expenditure``'s UPDATE (built once per process): add
    ``:amount`` (PHP) to the item ``:item_id``'s actual expenditure, clear
    its opening balance, bump its version, stamp ``:user_id`` and the time;
    returns ``_EXPENDITURE_RETURNED``."""
    spent = ITEMS.c.actual_expenditure
    return (update(ITEMS).where(ITEMS.c.id == bindparam("item_id"))
            .values(actual_expenditure=spent + bindparam("amount", type_=spent.type),
                    expenditure_opening_balance=None, version=ITEMS.c.version + 1,
                    updated_by_id=bindparam("user_id"))
            .returning(*(ITEMS.c[name] for name in _EXPENDITURE_RETURNED)))


def fire_work_item_transition(user: User, item_id: int, trigger: str, *, if_match: str | None = None) -> dict:
    """Move a work item through the status machine (rules/default/work_item_status.yaml).

    ``cancel`` also cancels the item's open descendants.

    Raises:
        NotFound, Forbidden, PreconditionFailed,
        ValidationFailed: unknown trigger,
        InvalidTransition: not possible from the item's status.
    """
    runtime = get_runtime()
    with transaction() as session:
        located = locate(user, item_id, for_update=True)
        require_tree_editor(user, located.record)
        check_if_match(if_match, located.item.etag)
        item = located.item
        old_status = item.status
        new_status, _ = runtime.work_item_status.fire(old_status, trigger)
        located.node.status = new_status
        if located.tree is None and new_status not in (CANCELLED, old_status):  # the path's one write carries it
            return finish(session, located, own=OwnStatus(item.id, old_status, new_status, item.version, user.id,
                                                          utcnow()))
        located.hold_ppa()
        item.status = new_status
        item.updated_by_id = user.id
        if new_status == CANCELLED:
            cancel_open_items(session, located.ppa, located.whole_tree(), located.node)
        return finish(session, located)


def finish(session, located: Located, *, own: OwnStatus | None = None) -> dict[str, Any]:
    """Settle the change (status roll-up, stored rollups, PPA sync, alerts)
    along the item's ancestor path, or over the whole tree when the write
    loaded it or the stored rollups are not current; re-read the item when
    a set-based write may have changed it behind the ORM's back (a whole
    tree's settling, or its own status rolled up along the path; an
    attribute a Core write expired loads by itself), and return its view.

    Args:
        own: the item's change of status, not made on the ORM object but
            written by ``settle_path`` with the path (only for a tree whose
            stored rollups are current and not loaded whole); the object is
            then told what was written.
    """
    session.flush()
    if located.tree is None and not located.path.current:
        located.whole_tree()
    if located.tree is not None:
        settle(session, located.ppa, located.tree)
        rewritten = None
    else:
        rewritten = settle_path(session, located.record, located.path, own=own)
    session.flush()
    item = located.item
    if own is not None:
        for name, value in (("status", located.node.status), ("updated_by_id", own.user_id),
                            ("version", own.version + 1), ("updated_at", own.at)):
            set_committed_value(item, name, value)
    elif rewritten is None or item.id in rewritten:
        session.refresh(item)
    return view(located)


def cancel_open_items(session, ppa: Ppa, tree: Tree, top: Node, *, include_top: bool = False) -> list[int]:
    """Cancel ``top``'s descendants (and ``top`` itself with ``include_top``)
    that can still be cancelled, in one UPDATE (audited). Returns their ids."""
    machine = get_runtime().work_item_status.rules
    stack = [top] if include_top else list(top.children)
    changes: dict[int, tuple[str, str]] = {}
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if machine.transition_from("cancel", node.status) is not None:
            changes[node.id] = (node.status, CANCELLED)
            node.status = CANCELLED
    if changes:
        session.execute(update(ITEMS).where(in_tree(tree.root.id), ITEMS.c.id.in_(changes))
                        .values(status=CANCELLED, version=ITEMS.c.version + 1))
        record_item_changes(session, ppa, "status", changes)
    return list(changes)


def _require_total_within_maximum(root: Node, added: int, field: str) -> None:
    """Refuse a change of expenditure by ``added`` centavos that would take
    the project's rolled-up expenditure above ``MAX_AMOUNT``: no total
    ppaflow shows may exceed the largest amount it accepts (docs/design.md
    §2). Expenditures are never negative, so the root's total is the largest
    in the tree and bounds every item's too.

    Raises:
        ValidationFailed: under ``field``, with the total it would reach.
    """
    total = root.expended + added
    if total > MAX_CENTAVOS:
        raise ValidationFailed({field: [
            f"would bring the project's total expenditure to {from_centavos(total):,}, above the maximum "
            f"{MAX_AMOUNT:,} (PHP)"]})


def _check_dates(values: Mapping[str, Any]) -> None:
    start, due = values.get("start_date"), values.get("due_date")
    if start is not None and due is not None and due < start:
        raise ValidationFailed({"due_date": [f"must be on or after start_date ({start.isoformat()})"]})
