"""A WBS in memory: one pass of rollups, and exact budget (re)distribution
(docs/design.md §4, §5).

The tree is built from rows loaded in one query and rolled up in one
post-order pass: no per-node queries, no ancestor-by-ancestor saves. Money
is integer centavos throughout; percentages are integer hundredths until
they are shown.

Rollups:
- expended(item) = own actual expenditure + the children's expended;
- allocated(item) = the item's own allocation (never added to its
  descendants': that would double count);
- variance = allocated - expended; variance % = variance / allocated × 100
  (undefined when nothing is allocated);
- budget status: ``over_budget`` when expended > allocated, ``on_budget``
  when |variance %| <= the threshold of rules/default/budget.yaml, else
  ``under_budget``;
- progress: a completed leaf is 100, a cancelled item is left out, another
  leaf has its own progress; a parent follows its children by the method of
  rules/default/sync.yaml. Rolled-up progress is an exact rational (``int`` or
  ``Fraction``, percent) at every level; it is rounded once, half-up, by
  ``shown_progress`` where it is shown (docs/design.md §4).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from rules.model import MachineRules
from workflow.errors import ValidationFailed
from workflow.money import CENTS, div_half_up, split_centavos
from workflow.rollups import (CANCELLED, COMPLETED, Aggregate, Method, decode_exact, exact_ratio, expended, fold,
                              reweigh, rolled_progress, settle_path, share)

__all__ = ["CANCELLED", "COMPLETED", "Node", "Tree", "exact_ratio", "roll_up", "settle_tree"]


@dataclass(slots=True, eq=False)
class Node:
    """One work item of a loaded tree. Money in centavos.

    ``expended`` and ``rolled_progress`` are filled by ``roll_up``;
    ``rolled_progress`` is exact (percent as ``int`` or ``Fraction``): show it
    with ``shown_progress``.
    """

    id: int
    parent_id: int | None
    position: int
    work_type: str
    title: str
    level: int
    status: str
    progress: int
    allocated: int | None
    spent: int
    locked: bool = False
    #: As stored (``rolled_expended``, ``rolled_progress``, the aggregate's
    #: JSON), when loaded with them: a writer compares and writes what changed.
    stored: tuple | None = None
    children: list[Node] = field(default_factory=list)
    expended: int = 0
    rolled_progress: int | Fraction = 0
    #: The aggregate of its direct children (``workflow.rollups``), filled by ``roll_up``.
    agg: Aggregate = field(default_factory=Aggregate)


#: The columns, in order, that ``Tree.from_rows`` expects (``stored`` optional).
ROW_FIELDS = ("id", "parent_id", "position", "work_type", "title", "level", "status", "progress",
              "allocated", "spent", "locked", "stored")


class Tree:
    """A whole WBS: its root project and every descendant.

    Args:
        nodes: every node of one tree, ordered by position then id (the
            order children are listed in).

    Raises:
        ValueError: not exactly one root, or a parent missing.
    """

    def __init__(self, nodes: Iterable[Node]):
        ordered = list(nodes)
        self.by_id: dict[int, Node] = {node.id: node for node in ordered}
        roots = []
        by_id = self.by_id
        for node in ordered:
            if node.parent_id is None:
                roots.append(node)
            else:
                by_id[node.parent_id].children.append(node)
        if len(roots) != 1:
            raise ValueError(f"a tree has exactly one root, found {len(roots)}")
        self.root = roots[0]
        self._preorder: list[Node] | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence]) -> Tree:
        """Build from rows with the columns of ``ROW_FIELDS``."""
        return cls([Node(*row) for row in rows])

    @classmethod
    def from_stored_rows(cls, rows: Iterable[Sequence]) -> Tree:
        """Build a rolled-up tree from rows with the columns of ``ROW_FIELDS``
        up to ``locked``, then the stored ``rolled_expended`` (centavos) and
        ``rolled_progress`` (exact percent as text): no roll-up pass
        (docs/design.md §4 "Stored rollups")."""
        nodes = []
        for row in rows:
            node = Node(*row[:11])
            node.expended = row[11]
            node.rolled_progress = decode_exact(row[12])
            nodes.append(node)
        return cls(nodes)

    def add(self, node: Node) -> None:
        """Attach a new node under its parent (kept in position order)."""
        parent = self.by_id[node.parent_id]
        parent.children.append(node)
        parent.children.sort(key=lambda n: (n.position, n.id))
        self.by_id[node.id] = node
        self._preorder = None

    def preorder(self) -> list[Node]:
        """Every node, parents before children, siblings in order (cached
        until the shape changes)."""
        if self._preorder is None:
            out, stack = [], [self.root]
            while stack:
                node = stack.pop()
                out.append(node)
                stack.extend(reversed(node.children))
            self._preorder = out
        return self._preorder

    def __len__(self) -> int:
        return len(self.by_id)

    def allocated_to_children(self) -> int:
        """Sum of the root's children's allocations (centavos)."""
        return sum(c.allocated or 0 for c in self.root.children)


def shown_progress(progress: int | Fraction) -> int:
    """Exact rolled-up progress as shown (API, PPA column): a whole percent,
    rounded once, half-up (docs/design.md §4: 800/21 = 38.10 shows as 38)."""
    if isinstance(progress, int):
        return progress
    return div_half_up(progress.numerator, progress.denominator)


def roll_up(tree: Tree, method: str = "average") -> Tree:
    """Fill ``expended``, ``rolled_progress`` and ``agg`` of every node, in
    one post-order pass (``workflow.rollups.fold``; statuses are left as
    they are).

    Progress stays exact through every level (no rounding before a parent
    averages its children, which could read a point high); round it with
    ``shown_progress`` where it is shown.

    Args:
        method: ``average``, ``budget_weighted`` or ``completed_count``
            (rules/default/sync.yaml ``progress_method``).
    """
    settle_tree(tree, Method(method, ""))
    return tree


def settle_tree(tree: Tree, method: Method) -> dict[int, tuple[str, str]]:
    """Roll the whole tree up from scratch: let parents follow their
    children's statuses when ``method`` says so (rules/default/sync.yaml
    ``roll_up_status``), and fill every node's ``agg``, ``expended`` and
    ``rolled_progress``.

    Returns:
        item id -> ``(old status, new status)``, for the items whose status
        the roll-up changed (also updated in the tree).
    """
    order = tree.preorder()
    changes = fold(order, method)
    progress_method = method.progress
    for node in order:
        agg = node.agg
        node.expended = node.spent + agg.children_expended  # expended(node), inline
        # rolled_progress(node, ...), its first case (every leaf) inline
        node.rolled_progress = (100 if node.status == COMPLETED else node.progress) if not agg.counted else \
            rolled_progress(node, progress_method)
    return changes


def machine_method(machine: MachineRules, progress_method: str, *, follow: bool = True) -> Method:
    """The ``workflow.rollups.Method`` of a status machine and a progress
    method; ``follow`` false: parents do not follow their children's statuses."""
    def transition(trigger: str, status: str) -> str | None:
        edge = machine.transition_from(trigger, status)
        return None if edge is None else edge.dest

    taken = sorted(f"{trigger}:{status}>{transition(trigger, status)}" for trigger in ("start", "complete")
                   for status in machine.states)
    edges = hashlib.sha256(" ".join(taken).encode()).hexdigest()[:12]
    return Method(progress_method, machine.initial, transition if follow else None, edges)


def variance_pct_hundredths(allocated: int | None, expended: int) -> int | None:
    """Variance as integer hundredths of a percent (``3333`` = 33.33 %),
    rounded half-up; ``None`` when nothing is allocated."""
    if not allocated:
        return None
    return div_half_up((allocated - expended) * 10000, allocated)


def budget_status(allocated: int | None, expended: int, threshold_pct: Decimal) -> str:
    """``over_budget``, ``on_budget`` or ``under_budget`` (docs/design.md §4).

    Args:
        allocated, expended: centavos.
        threshold_pct: the on-budget band, percent (rules/default/budget.yaml).
    """
    return _budget_status(allocated or 0, expended, Fraction(threshold_pct) * 100)


def _budget_status(allocated: int, expended: int, band_hundredths: Fraction) -> str:
    if expended > allocated:
        return "over_budget"
    if not allocated:
        return "on_budget"
    pct = div_half_up((allocated - expended) * 10000, allocated)
    return "on_budget" if abs(pct) <= band_hundredths else "under_budget"


def payload_band(threshold_pct: Decimal) -> tuple[int, int]:
    """The on-budget band as ``payload_breakdown`` takes it: the threshold
    (percent, rules/default/budget.yaml) in hundredths of a percent, as the
    numerator and denominator of an exact fraction."""
    band = Fraction(threshold_pct) * 100
    return band.numerator, band.denominator


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A WBS as ``budget_allocation_tree`` shows it (docs/design.md §5).

    Attributes:
        root_id: the project's id.
        expended: the project's rolled-up expended amount (centavos).
        allocated_to_children: the sum of the project's children's
            allocations (centavos; ``Tree.allocated_to_children``).
        payload: the project's node (``payload_breakdown``) with its whole
            subtree nested in ``children``, siblings by position then id.
    """

    root_id: int
    expended: int
    allocated_to_children: int
    payload: dict


def tree_breakdown(tree: Tree, threshold_pct: Decimal) -> Breakdown:
    """The ``Breakdown`` of a rolled-up tree: its nodes in pre-order made
    into the payload by ``payload_breakdown``.

    Args:
        threshold_pct: the on-budget band, percent (rules/default/budget.yaml).
    """
    return payload_breakdown([(node.id, node.parent_id, node.title, node.work_type, node.level, node.status,
                               node.allocated, node.expended, node.rolled_progress) for node in tree.preorder()],
                             threshold_pct)


#: The columns, in order, of the rows ``stored_breakdown`` takes: an item's
#: own fields (``allocated`` in centavos) and its stored ``rolled_expended``
#: (centavos) and ``rolled_progress`` (exact percent as text, ``"38"`` or ``"800/21"``).
STORED_PAYLOAD_FIELDS = ("id", "parent_id", "title", "work_type", "level", "status", "allocated",
                         "rolled_expended", "rolled_progress")


def stored_breakdown(rows: Sequence[Sequence], threshold_pct: Decimal) -> Breakdown:
    """The ``Breakdown`` of a tree straight from its rows and their stored
    rollups (docs/design.md §4 "Stored rollups"), with no ``Node`` and no
    roll-up: the same answer as ``tree_breakdown`` of the tree rolled up
    from scratch (``payload_breakdown`` of the rows as they are).

    Args:
        rows: every item of one tree with the columns of
            ``STORED_PAYLOAD_FIELDS``, ordered by position then id (the
            order children are listed in), as ``Tree`` takes its nodes.
        threshold_pct: the on-budget band, percent (rules/default/budget.yaml).

    Raises:
        ValueError: not exactly one root. KeyError: a parent missing.
    """
    return payload_breakdown(rows, threshold_pct)


def _shown(progress: int | Fraction | str) -> int:
    """``shown_progress`` of an exact progress, also as stored (text:
    ``"38"``, ``"800/21"``, ``workflow.rollups.encode_exact``)."""
    if progress.__class__ is str:
        numerator, _, denominator = progress.partition("/")
        return div_half_up(int(numerator), int(denominator)) if denominator else int(numerator)
    return shown_progress(progress)


def payload_breakdown(rows: Sequence[Sequence], threshold_pct: Decimal) -> Breakdown:
    """The ``Breakdown`` of a tree whose rolled-up figures are known: one
    pass over ``rows`` makes each node of ``budget_allocation_tree``
    (docs/design.md §5) and appends it to its parent's ``children``; the one
    place a node's fields are made (``tree_breakdown``, ``stored_breakdown``).

    Args:
        rows: every item of one tree as ``(id, parent_id, title, work_type,
            level, status, allocated, expended, progress)``: ``allocated`` the
            item's own allocation (centavos, ``None`` when none), ``expended``
            its rolled-up expended amount (centavos, shown as
            ``actual_expenditure``), ``progress`` its exact rolled-up
            progress (``int``, ``Fraction``, or as stored: text), shown
            rounded once, half-up (``shown_progress``); siblings in the order
            they are listed (position then id), parents before or after
            their children.
        threshold_pct: the on-budget band, percent (rules/default/budget.yaml).

    Money is formatted as ``format_centavos`` does, inline (a 10,000-item
    tree makes 30,000 of these strings; this loop is most of a cold read of
    the budget tree: issue 17 item 2); ``variance_pct`` is percent with 2
    decimals, half-up, a display number, not money.

    Raises:
        ValueError: not exactly one root. KeyError: a parent missing.
    """
    band, band_denominator = payload_band(threshold_pct)
    cents = CENTS
    children_of: dict[int | None, list[dict]] = defaultdict(list)  # the root is the child of None
    shown_of: dict[int | Fraction | str, int] = {}  # progress -> as shown: few distinct values in a tree
    for item_id, parent_id, title, work_type, level, status, allocated, rolled, progress in rows:
        shown_progress_ = shown_of.get(progress)
        if shown_progress_ is None:
            shown_progress_ = shown_of[progress] = _shown(progress)
        spent = f"{rolled // 100}{cents[rolled % 100]}" if rolled else "0.00"
        if allocated:
            shown = f"{allocated // 100}{cents[allocated % 100]}"
            if rolled > allocated:  # |variance %| in hundredths, half-up, then negative
                variance = rolled - allocated
                budget, pct = "over_budget", -((20000 * variance + allocated) // (2 * allocated)) / 100
                shown_variance = f"-{variance // 100}{cents[variance % 100]}"
            else:
                variance = allocated - rolled
                hundredths = (20000 * variance + allocated) // (2 * allocated)
                budget = "on_budget" if hundredths * band_denominator <= band else "under_budget"
                pct = hundredths / 100
                shown_variance = f"{variance // 100}{cents[variance % 100]}" if rolled else shown
        else:
            budget, pct = ("over_budget" if rolled > 0 else "on_budget"), None
            shown = None if allocated is None else "0.00"
            shown_variance = ("-" + spent if rolled > 0
                              else f"{-rolled // 100}{cents[-rolled % 100]}")
        children_of[parent_id].append({
            "work_item_id": item_id,
            "title": title,
            "work_type": work_type,
            "level": level,
            "status": status,
            "progress": shown_progress_,
            "allocated_budget": shown,
            "actual_expenditure": spent,
            "variance": shown_variance,
            "variance_pct": pct,
            "budget_status": budget,
            "children": children_of[item_id],
        })
    roots = children_of.pop(None, ())
    if len(roots) != 1:
        raise ValueError(f"a tree has exactly one root, found {len(roots)}")
    if len(children_of) != len(rows):  # a list for each item, and one for each parent that is not one
        known = {row[0] for row in rows}
        missing = [parent for parent in children_of if parent not in known]
        raise KeyError(missing[0]) if missing else ValueError("a work item is listed twice")
    root_id = roots[0]["work_item_id"]
    root_expended = allocated_to_children = 0
    for row in rows:
        if row[1] == root_id:
            allocated_to_children += row[6] or 0
        elif row[0] == root_id:
            root_expended = row[7]
    return Breakdown(root_id, root_expended, allocated_to_children, roots[0])


def status_counts(tree: Tree) -> dict[str, int]:
    """How many work items below the project are in each status (the
    project itself is not counted): the progress overview of seed 002
    Phase 3 ("42 Total, 18 Completed, 15 In Progress, 9 Not Started")."""
    counts: dict[str, int] = {}
    for node in tree.preorder():
        if node is not tree.root:
            counts[node.status] = counts.get(node.status, 0) + 1
    return counts


def overspent(tree: Tree) -> list[Node]:
    """The rolled-up items, in tree order, whose expended amount is above
    their allocation (``over_budget``), cancelled ones left out, as the
    budget variance alerts count them (docs/design.md §4, §7)."""
    return [node for node in tree.preorder()
            if node.status != CANCELLED and node.expended > (node.allocated or 0)]


def unallocated(node: Node) -> int | None:
    """What an item has left to give its children: its allocation minus
    theirs (centavos; negative when they are above it), ``None`` when it
    has no allocation."""
    if node.allocated is None:
        return None
    return node.allocated - sum(child.allocated or 0 for child in node.children)


# -- distribution ------------------------------------------------------------


def _children_of(tree: Tree, parent_id: int) -> tuple[Node, list[Node]]:
    parent = tree.by_id.get(parent_id)
    if parent is None:
        raise ValidationFailed({"parent_id": [f"work item {parent_id} is not part of this PPA's WBS"]})
    if not parent.children:
        raise ValidationFailed({"parent_id": [f"work item {parent_id} has no children to distribute over"]})
    if parent.allocated is None:
        raise ValidationFailed({"parent_id": [f"work item {parent_id} has no allocation to distribute"]})
    return parent, parent.children


def equal_shares(tree: Tree, parent_id: int) -> dict[int, int]:
    """The parent's allocation split equally over its direct children
    (largest remainder, extra centavos to the earlier children)."""
    parent, children = _children_of(tree, parent_id)
    amounts = split_centavos(parent.allocated, [1] * len(children))
    return {c.id: a for c, a in zip(children, amounts, strict=True)}


def weighted_shares(tree: Tree, parent_id: int, weights: Mapping[int, Decimal],
                    tolerance: Decimal) -> dict[int, int]:
    """The parent's allocation split over its direct children by ``weights``.

    Args:
        weights: child id -> weight, one per direct child; they must sum to 1
            within ``tolerance`` (rules/default/budget.yaml). The amounts still sum
            exactly to the parent's allocation.

    Raises:
        ValidationFailed: per-child messages under ``weights.<id>``.
    """
    parent, children = _children_of(tree, parent_id)
    child_ids = [c.id for c in children]
    known = set(child_ids)
    errors: dict[str, list[str]] = {}
    for child_id in weights:
        if child_id not in known:
            errors[f"weights.{child_id}"] = [f"not a direct child of work item {parent_id}"]
    for child_id in child_ids:
        if child_id not in weights:
            errors[f"weights.{child_id}"] = ["missing: give a weight to every direct child"]
        elif not (weights[child_id] >= 0):
            errors[f"weights.{child_id}"] = ["must not be negative"]
    if not errors:
        total = sum(weights[i] for i in child_ids)
        if abs(total - 1) > tolerance:
            errors["weights"] = [f"must sum to 1 (within {tolerance}); they sum to {total}"]
        elif total == 0:
            errors["weights"] = ["at least one weight must be positive"]
    if errors:
        raise ValidationFailed(errors)
    amounts = split_centavos(parent.allocated, [weights[i] for i in child_ids])
    return dict(zip(child_ids, amounts, strict=True))


def reallocate(tree: Tree, explicit: Mapping[int, int]) -> dict[int, int | None]:
    """Apply new allocations and rescale the descendants of every item whose
    allocation changes, in proportion, so each level keeps its shares.

    Args:
        explicit: item id -> new allocation (centavos). Items named here keep
            exactly these values; their descendants follow them.

    Returns:
        item id -> new allocation, for every item whose allocation changes.
        At each rescaled level the children's new amounts are split by the
        largest-remainder method over their old amounts, so a fully allocated
        level still sums exactly to its parent; a partly allocated one keeps
        its unallocated share (rounded down). Children that had no
        allocation keep none.
    """
    new: dict[int, int | None] = dict(explicit)
    for node in tree.preorder():
        old = node.allocated
        value = new.get(node.id, old)
        if value == old or not old or value is None or not node.children:
            continue
        group = [c for c in node.children if c.id not in explicit and c.allocated is not None]
        group_old = sum(c.allocated for c in group)
        if group_old == 0:
            continue
        target = group_old * value // old
        for child, amount in zip(group, split_centavos(target, [c.allocated for c in group]), strict=True):
            new[child.id] = amount
    return {i: v for i, v in new.items() if v != tree.by_id[i].allocated}


def settle_reallocation(tree: Tree, moved: Mapping[int, tuple[int | None, int | None]], method: Method
                        ) -> tuple[dict[int, Node], dict[int, tuple[str, str]]]:
    """Bring a tree's stored rollups up to date after allocations changed,
    touching only the changed items' ancestors (docs/design.md §4 "Stored
    rollups").

    An allocation is part of an item's share in its parent (its weight in
    a budget-weighted progress), so the aggregates of the changed items'
    ancestors move, and nothing else: a changed item with no changed item
    below it keeps its own figures, and only the weight of its share moves
    (``reweigh``: no share made for each of 10,000 children); every
    ancestor of a changed item is settled from its stored aggregate, deepest
    first (``workflow.rollups.settle_path``), with the share it had before.

    Args:
        tree: the whole tree, the new allocations applied, every node
            with its stored rollups (``Node.stored``) and its rolled-up
            figures read from them; the stored rollups must be current
            (computed under ``method``).
        moved: item id -> ``(allocation before, allocation after)``
            (centavos), every item whose allocation changed.
        method: how the tree rolls up (``workflow.rollups.Method``).

    Returns:
        ``(path, statuses)``: the root and every ancestor of a changed
        item, by id, with their aggregates (decoded from ``stored``) and
        rolled-up figures updated (the nodes whose stored rollups may
        differ now); item id -> ``(old status, new status)`` for those
        whose status the roll-up changed.
    """
    by_id = tree.by_id
    path = {tree.root.id: tree.root}
    for item_id in moved:
        parent_id = by_id[item_id].parent_id
        while parent_id is not None and parent_id not in path:
            path[parent_id] = by_id[parent_id]
            parent_id = by_id[parent_id].parent_id
    before = {}
    for item_id, node in path.items():
        node.agg = Aggregate.decode(node.stored[2])
        after = node.allocated
        node.allocated = moved[item_id][0] if item_id in moved else after  # its share as it was stored
        before[item_id] = share(node, method, keep=True)
        node.allocated = after
    for item_id, (old, new) in moved.items():
        node = by_id[item_id]
        if item_id not in path and node.parent_id is not None and node.status != CANCELLED:
            reweigh(by_id[node.parent_id].agg, node.rolled_progress, old or 0, new or 0)
    statuses = settle_path(path, before, method)
    for node in path.values():
        node.expended = expended(node)
        node.rolled_progress = rolled_progress(node, method.progress)
    return path, statuses


def envelope_violations(tree: Tree, changes: Mapping[int, int | None]) -> list[tuple[Node, int, int]]:
    """Items whose children would sum above their own allocation.

    Returns:
        ``(item, children_total, allocation)`` per violation, centavos.
    """
    def allocation(node: Node) -> int:
        return (changes[node.id] if node.id in changes else node.allocated) or 0

    out = []
    for node in tree.preorder():
        if node.children:
            total = sum(allocation(c) for c in node.children)
            if total > allocation(node):
                out.append((node, total, allocation(node)))
    return out
