"""Stored rollups of a WBS, kept up to date along the ancestor path
(docs/design.md §4, "Stored rollups"; issue 17 item 1).

Every work item stores what its subtree rolls up to, as an ``Aggregate`` of
its direct children's *shares*: how many there are, how many count (not
cancelled), are completed or have started, the sum of their exact rolled
progress (plain and weighted by allocation), their expended amounts and the
statuses of every descendant. A parent's rolled expenditure and progress
follow from its own fields and that aggregate (``expended``,
``rolled_progress``), so a change to one item changes its share, and only
its ancestors' aggregates need updating: a subtraction of the old share and
an addition of the new one per level (``settle_path``). ``fold`` computes
the same aggregates for a whole tree from scratch, in one post-order pass;
the two must always agree (``ppaflow wbs verify`` checks it, and a property
test drives random writes against it).

Pure: no database. Money in centavos; progress is percent, exact (``int`` or
``Fraction``), and rounded only where it is shown (``workflow.tree.shown_progress``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

COMPLETED = "completed"
CANCELLED = "cancelled"

Exact = int | Fraction

#: The stored aggregate of an item without children.
EMPTY = json.dumps({"children": 0, "children_expended": 0, "completed": 0, "counted": 0, "progress_sum": "0",
                    "started": 0, "statuses": {}, "weight_sum": 0, "weighted_sum": "0"},
                   sort_keys=True, separators=(",", ":"))


def exact_ratio(numerator: Exact, denominator: int) -> Exact:
    """``numerator / denominator`` exactly: an ``int`` when it divides evenly
    (the common case, and cheap), else a ``Fraction`` (denominator > 0)."""
    if isinstance(numerator, int):
        whole, rest = divmod(numerator, denominator)
        return whole if not rest else Fraction(numerator, denominator)
    ratio = numerator / denominator
    return ratio.numerator if ratio.denominator == 1 else ratio


def encode_exact(value: Exact) -> str:
    """An exact percent as stored: ``"38"`` or ``"800/21"``."""
    return str(value)


def decode_exact(text: str) -> Exact:
    """The inverse of ``encode_exact``."""
    if "/" not in text:
        return int(text)
    value = Fraction(text)
    return value.numerator if value.denominator == 1 else value


def _plain(value: Exact) -> Exact:
    """A ``Fraction`` with denominator 1 as the ``int`` it is."""
    if type(value) is Fraction and value.denominator == 1:  # noqa: E721 - exact type: fast, and bool/int stay
        return value.numerator
    return value


@dataclass(slots=True)
class Aggregate:
    """What a work item's direct children add up to.

    Attributes:
        children: direct children, whatever their status.
        counted: those not cancelled (progress and status roll-up count these).
        completed: counted children that are completed.
        started: counted children no longer in the status machine's initial status.
        progress_sum: sum of the counted children's rolled progress (percent, exact).
        weighted_sum: sum of rolled progress × allocation (centavos) of the
            counted children with an allocation.
        weight_sum: sum of those children's allocations (centavos).
        children_expended: sum of every child's rolled expended amount (centavos).
        statuses: status -> number of descendants (every level) in it.
    """

    children: int = 0
    counted: int = 0
    completed: int = 0
    started: int = 0
    progress_sum: Exact = 0
    weighted_sum: Exact = 0
    weight_sum: int = 0
    children_expended: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, share: Share, sign: int = 1) -> None:
        """Add (``sign`` 1) or take away (``sign`` -1) one child's share."""
        counted, completed, started, progress, weighted, weight, expended_, status, below = share
        self.children += sign
        if counted:
            self.counted += sign
            self.completed += sign * completed
            self.started += sign * started
            if progress:
                total = self.progress_sum + sign * progress
                self.progress_sum = total if type(total) is int else _plain(total)  # noqa: E721
            if weight:
                total = self.weighted_sum + sign * weighted
                self.weighted_sum = total if type(total) is int else _plain(total)  # noqa: E721
                self.weight_sum += sign * weight
        self.children_expended += sign * expended_
        statuses = self.statuses
        left = statuses.get(status, 0) + sign  # _count, inline: once per child of a whole tree's fold
        if left:
            statuses[status] = left
        else:
            del statuses[status]
        for name, count in below.items():
            _count(statuses, name, sign * count)

    def encode(self) -> str:
        """The aggregate as stored (JSON text, keys sorted: equal aggregates
        encode equally)."""
        if not self.children:
            return EMPTY
        return json.dumps({
            "children": self.children, "counted": self.counted, "completed": self.completed,
            "started": self.started, "progress_sum": encode_exact(self.progress_sum),
            "weighted_sum": encode_exact(self.weighted_sum), "weight_sum": self.weight_sum,
            "children_expended": self.children_expended, "statuses": dict(sorted(self.statuses.items())),
        }, sort_keys=True, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> Aggregate:
        """The inverse of ``encode``; ``None`` (never computed) is an empty aggregate."""
        if not text:
            return cls()
        data = json.loads(text)
        return cls(data["children"], data["counted"], data["completed"], data["started"],
                   decode_exact(data["progress_sum"]), decode_exact(data["weighted_sum"]), data["weight_sum"],
                   data["children_expended"], dict(data["statuses"]))


def _count(statuses: dict[str, int], status: str, change: int) -> None:
    left = statuses.get(status, 0) + change
    if left:
        statuses[status] = left
    else:
        del statuses[status]


#: What one work item adds to its parent's ``Aggregate`` (``share``): whether
#: it counts, is completed, has started (0 or 1 each), its rolled progress,
#: progress × allocation, allocation (0 when it does not count or has none),
#: its rolled expended amount, its own status, and its descendants' statuses.
#: A plain tuple: a whole tree is folded through 10,000s of them.
Share = tuple[int, int, int, Exact, Exact, int, int, str, Mapping[str, int]]


@dataclass(slots=True, eq=False)
class Item:
    """A work item as the rollups see it: its own fields and its stored aggregate.

    Attributes:
        id, parent_id, level: its place in the tree.
        status, progress (own percent), allocated (centavos or ``None``),
            spent (own expenditure, centavos).
        agg: the aggregate of its direct children.
    """

    id: int
    parent_id: int | None
    level: int
    status: str
    progress: int
    allocated: int | None
    spent: int
    agg: Aggregate = field(default_factory=Aggregate)


@dataclass(frozen=True, slots=True)
class Method:
    """How progress and statuses roll up (rules/default/sync.yaml,
    rules/default/work_item_status.yaml).

    Attributes:
        progress: ``average``, ``budget_weighted`` or ``completed_count``.
        initial: the work-item status machine's initial status.
        transition: ``(trigger, status) -> new status or None`` for the
            status roll-up, or ``None`` when parents do not follow their
            children's statuses (``roll_up_status: false``).
    """

    progress: str
    initial: str
    transition: Callable[[str, str], str | None] | None = None
    #: A digest of the transitions the status roll-up may take (``machine_method``).
    edges: str = ""

    @property
    def key(self) -> str:
        """What the stored figures depend on besides the rows (the progress
        method, the initial status, whether and how parents follow their
        children): stamped on the root, so a tree stored under other rules
        is recomputed (docs/design.md §4, "Stored rollups")."""
        follow = f"follow-{self.edges}" if self.transition is not None else "stay"
        return f"{self.progress}:{self.initial}:{follow}"


def expended(item: Item) -> int:
    """The item's rolled-up expenditure: its own plus its children's (centavos)."""
    return item.spent + item.agg.children_expended


def rolled_progress(item: Item, progress_method: str) -> Exact:
    """The item's rolled-up progress (percent, exact), as ``workflow.tree.roll_up``
    defines it: a leaf (or an item whose children are all cancelled) shows
    100 when completed, else its own progress; a parent follows its counted
    children by ``progress_method``."""
    agg = item.agg
    if not agg.counted:
        return 100 if item.status == COMPLETED else item.progress
    if progress_method == "completed_count":
        return exact_ratio(100 * agg.completed, agg.counted)
    if progress_method == "budget_weighted" and agg.weight_sum:
        return exact_ratio(agg.weighted_sum, agg.weight_sum)
    return exact_ratio(agg.progress_sum, agg.counted)


def share(item: Item, method: Method, *, keep: bool = False) -> Share:
    """What ``item`` adds to its parent's aggregate; ``keep``: a snapshot
    that later changes to the item's aggregate leave as it is."""
    status = item.status
    agg = item.agg
    below = dict(agg.statuses) if keep else agg.statuses
    if status == CANCELLED:
        return 0, 0, 0, 0, 0, 0, item.spent + agg.children_expended, status, below
    # rolled_progress, its first case inline (every leaf of a tree comes here)
    progress = (100 if status == COMPLETED else item.progress) if not agg.counted else \
        rolled_progress(item, method.progress)
    weight = item.allocated or 0
    weighted = progress * weight if weight else 0
    if type(weighted) is not int:  # noqa: E721
        weighted = _plain(weighted)
    return (1, int(status == COMPLETED), int(status != method.initial), progress, weighted, weight, item.spent + agg.children_expended, status, below)


def reweigh(agg: Aggregate, progress: Exact, old: int, new: int) -> None:
    """Move a parent's aggregate by one counted child's allocation changing
    from ``old`` to ``new`` (centavos, 0 for none) while the child's rolled
    ``progress`` stays as it is: the only part of the child's ``share`` that
    moves (its weight and weighted progress), as taking the old share out
    and putting the new one in would (``Aggregate.add``), without making
    either (a distribution over 10,000 children: issue 17 item 3)."""
    if old == new:
        return
    total = agg.weighted_sum + progress * (new - old)
    agg.weighted_sum = total if type(total) is int else _plain(total)  # noqa: E721
    agg.weight_sum += new - old


def follow_children(item: Item, method: Method) -> str | None:
    """The status a parent takes from its children, or ``None`` to stay
    (rules/default/sync.yaml ``roll_up_status``; docs/design.md §4): it
    completes when all its counted children are completed, and starts when
    it is in the initial status and one of them has left it; each only where
    the status machine allows it. Nothing is reopened or cancelled."""
    agg = item.agg
    if method.transition is None or not agg.counted:
        return None
    if agg.completed == agg.counted:
        return method.transition("complete", item.status)
    if item.status == method.initial and agg.started:
        return method.transition("start", item.status)
    return None


def fold(items: Iterable[Item], method: Method) -> dict[int, tuple[str, str]]:
    """Compute every item's aggregate from scratch, in one post-order pass,
    letting parents follow their children's statuses on the way up.

    Args:
        items: every item of one tree, parents before children (pre-order
            or by level).

    Returns:
        item id -> ``(old status, new status)`` for the items whose status
        the roll-up changed (also changed on the items).
    """
    ordered = list(items)
    by_id = {item.id: item for item in ordered}
    for item in ordered:
        item.agg = Aggregate()
    changes: dict[int, tuple[str, str]] = {}
    for item in reversed(ordered):
        if item.agg.counted:  # an item with no counted child follows none (follow_children)
            _follow(item, method, changes)
        if item.parent_id is not None:
            by_id[item.parent_id].agg.add(share(item, method))
    return changes


def _follow(item: Item, method: Method, changes: dict[int, tuple[str, str]]) -> None:
    new = follow_children(item, method)
    if new is not None and new != item.status:
        first = changes.get(item.id, (item.status,))[0]
        changes[item.id] = (first, new)
        item.status = new


def settle_path(path: Mapping[int, Item], before: Mapping[int, Share], method: Method) -> dict[int, tuple[str, str]]:
    """Bring the stored aggregates up to date after some items changed their
    own fields, touching only those items' ancestors.

    Args:
        path: the changed items and every ancestor of theirs, by id (each
            with the aggregate it has stored, already changed own fields).
        before: the share of each item of ``path`` before the change
            (``share(..., keep=True)`` taken when it was loaded); an item without one is
            new, and is added to its parent.

    Returns:
        item id -> ``(old status, new status)`` for the ancestors whose
        status the roll-up changed. The aggregates of ``path`` are updated
        in place: deepest level first, each item's change of share is taken
        out of and added to its parent's aggregate.

    Raises:
        KeyError: an ancestor of a changed item is missing from ``path``.
    """
    changes: dict[int, tuple[str, str]] = {}
    for item in sorted(path.values(), key=lambda i: -i.level):
        _follow(item, method, changes)
        if item.parent_id is None:
            continue
        now, then = share(item, method), before.get(item.id)
        if now != then:
            parent = path[item.parent_id]
            if then is not None:
                parent.agg.add(then, -1)
            parent.agg.add(now)
    return changes
