"""A PPA's WBS as the web app's Work items and Budget tabs show it
(docs/design.md §4, §11; seed 002 Phase 3 "UI Mockup Requirements").

``get_outline`` reads the PPA and its whole tree (one statement each,
whatever the size of the tree) and answers what the pages show and offer,
so that no rule lives in a view or a template:

- each item's figures: allocated, expended (rolled up), variance, variance
  %, budget status, progress, share of its parent's allocation;
- what the user may do with an item: the status triggers of
  rules/default/work_item_status.yaml that leave its status, the work types
  rules/default/wbs_templates.yaml allows under it — offered only to those who
  change the WBS (the MOA's focal persons, administrators);
- the budget summary, the progress overview and the over-budget items;
- why allocations are locked (the approval that locked them).

Money is PHP ``Decimal`` (exact), percentages exact (``Fraction``) or in
hundredths as the API gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from sqlalchemy import and_, or_, select

from db import db
from db.models import Ppa, PpaTransition, User
from services.access import can_edit_ppas_of
from services.expenditure import (
    DISBURSEMENTS,
    REPORTED,
    SOURCE_LABELS,
    is_in_chain,
    tree_opening_balance,
)
from services.ppas import get_ppa_or_raise
from services.runtime import get_runtime
from services.trees import ITEMS, in_tree, load_tree
from workflow.errors import NotFound
from workflow.money import from_centavos
from workflow.tree import (
    Node,
    Tree,
    budget_status,
    overspent,
    shown_progress,
    status_counts,
    unallocated,
    variance_pct_hundredths,
)

#: The effects of rules/default/workflows/approval.yaml that freeze and free allocations (docs/design.md §3).
LOCKING_EFFECT, UNLOCKING_EFFECT = "lock_budget_allocations", "unlock_budget_allocations"


@dataclass(frozen=True)
class Figures:
    """One item's money and progress, as shown.

    Attributes:
        allocated: its own allocation (PHP), ``None`` when it has none.
        expended: its rolled-up expenditure (PHP).
        variance: allocated − expended (PHP; negative when over budget).
        variance_pct: variance / allocated × 100, two decimals (half-up),
            ``None`` when nothing is allocated.
        budget_status: ``over_budget``, ``on_budget`` or ``under_budget``.
        progress: rolled-up progress, whole percent (rounded once, half-up).
        share: its allocation as a percentage of its parent's (exact),
            ``None`` for the project or when either has none.
    """

    allocated: Decimal | None
    expended: Decimal
    variance: Decimal
    variance_pct: Decimal | None
    budget_status: str
    progress: int
    share: Fraction | None

    @property
    def over_by(self) -> Decimal:
        """How much more than its allocation the item has spent (PHP; zero when it has not)."""
        return max(-self.variance, Decimal("0.00"))


@dataclass(frozen=True)
class StatusAction:
    """A status trigger open from an item's status.

    Attributes:
        trigger: e.g. ``start``; dest: the status it leads to;
        final: nothing leaves ``dest`` (``cancel``), so a page asks twice.
    """

    trigger: str
    dest: str
    final: bool


@dataclass(frozen=True)
class Summary:
    """The Budget tab's figures (seed 002 Phase 3): the PPA's budget and how
    much of it the work items hold, what is spent, and how far along they are.

    Attributes:
        budget: the PPA's budget (PHP), the project's allocation.
        allocated: what the project's children hold (PHP).
        unallocated: budget − allocated (PHP).
        allocated_pct, unallocated_pct: of the budget, exact percent
            (``None`` for a zero budget).
        figures: the project's own figures (expended, variance, status).
        counts: work items below the project by status, every status of
            rules/default/work_item_status.yaml in its order; ``total``: all of them.
        overspent: the items spending above their allocation, in tree order.
    """

    budget: Decimal
    allocated: Decimal
    unallocated: Decimal
    allocated_pct: Fraction | None
    unallocated_pct: Fraction | None
    figures: Figures
    counts: Mapping[str, int]
    total: int
    overspent: list[Node]


@dataclass(frozen=True)
class WorkItemDates:
    """An item's planned dates (``None`` when not set)."""

    start_date: date | None
    due_date: date | None


class Outline:
    """A PPA and its rolled-up WBS, with what the pages show and offer.

    Attributes:
        ppa: the PPA.
        tree: its WBS rolled up, ``None`` before tracking is enabled.
        may_edit: the user changes this WBS (the MOA's focal persons and
            administrators): status, expenditure, new items, distribution.
    """

    def __init__(self, ppa: Ppa, tree: Tree | None, may_edit: bool):
        self.ppa = ppa
        self.tree = tree
        self.may_edit = may_edit
        rules = get_runtime().rules
        self._threshold = rules.budget.on_budget_threshold_pct
        self._statuses = rules.work_item_status
        self._allowed_children = rules.wbs.allowed_children
        self._wbs = rules.wbs
        self._approval = rules.approval.machine

    # -- items ---------------------------------------------------------------------------

    def figures(self, node: Node) -> Figures:
        """``node``'s figures (docs/design.md §4)."""
        allocated = node.allocated
        pct = variance_pct_hundredths(allocated, node.expended)
        parent = self.tree.by_id.get(node.parent_id) if node.parent_id is not None else None
        share = None
        if parent is not None and parent.allocated and allocated is not None:
            share = Fraction(allocated * 100, parent.allocated)
        return Figures(
            allocated=None if allocated is None else from_centavos(allocated),
            expended=from_centavos(node.expended),
            variance=from_centavos((allocated or 0) - node.expended),
            variance_pct=None if pct is None else Decimal(pct) / 100,
            budget_status=budget_status(allocated, node.expended, self._threshold),
            progress=shown_progress(node.rolled_progress),
            share=share,
        )

    def status_actions(self, node: Node) -> tuple[StatusAction, ...]:
        """The status triggers that leave ``node``'s status, in the order of
        rules/default/work_item_status.yaml; none for a user who may not edit."""
        if not self.may_edit:
            return ()
        return tuple(StatusAction(t.trigger, t.dest, self._statuses.states[t.dest].final)
                     for t in self._statuses.transitions if t.source == node.status)

    def child_types(self, node: Node) -> tuple[str, ...]:
        """The work types allowed directly under ``node``; none for a user
        who may not edit, or under a cancelled item."""
        if not self.may_edit or self._statuses.states[node.status].final:
            return ()
        return tuple(self._allowed_children.get(node.work_type, ()))

    def parents(self) -> list[Node]:
        """The items that have children, in tree order (what a distribution can split)."""
        return [node for node in self.tree.preorder() if node.children] if self.tree else []

    def item(self, item_id: int) -> Node:
        """The item ``item_id`` of this WBS.

        Raises:
            NotFound: not a work item of this PPA.
        """
        node = self.tree.by_id.get(item_id) if self.tree else None
        if node is None:
            raise NotFound(f"work item {item_id} not found in PPA {self.ppa.id}")
        return node

    def unallocated(self, node: Node) -> Decimal | None:
        """What ``node`` has left to give its children (PHP; negative when
        they hold more), ``None`` when it has no allocation."""
        left = unallocated(node)
        return None if left is None else from_centavos(left)

    def dates(self, ids: Iterable[int]) -> dict[int, WorkItemDates]:
        """The planned dates of the items ``ids`` (one statement)."""
        wanted = list(ids)
        if not wanted or self.tree is None:
            return {}
        rows = db.session.execute(select(ITEMS.c.id, ITEMS.c.start_date, ITEMS.c.due_date).where(
            in_tree(self.tree.root.id), ITEMS.c.id.in_(wanted)))
        return {item_id: WorkItemDates(start, due) for item_id, start, due in rows}

    # -- the whole ----------------------------------------------------------------------------

    @cached_property
    def summary(self) -> Summary | None:
        """The budget summary and progress overview, ``None`` without a WBS."""
        if self.tree is None:
            return None
        budget = from_centavos(self.tree.root.allocated or 0)
        allocated = from_centavos(self.tree.allocated_to_children())
        found = status_counts(self.tree)
        counts = {status: found.get(status, 0) for status in self._statuses.states}
        whole = self.tree.root.allocated or 0
        return Summary(
            budget=budget, allocated=allocated, unallocated=budget - allocated,
            allocated_pct=Fraction(self.tree.allocated_to_children() * 100, whole) if whole else None,
            unallocated_pct=Fraction((whole - self.tree.allocated_to_children()) * 100, whole) if whole else None,
            figures=self.figures(self.tree.root), counts=counts, total=sum(counts.values()),
            overspent=overspent(self.tree))

    @cached_property
    def in_chain(self) -> bool:
        """The PPA is in the money chain: its expenditure is what its
        disbursements paid, and none is entered directly (services.expenditure)."""
        return is_in_chain(self.ppa.id)

    @property
    def expenditure_source(self) -> str:
        """``"disbursements"`` in the money chain, else ``"reported"``."""
        return DISBURSEMENTS if self.in_chain else REPORTED

    @property
    def expenditure_label(self) -> str:
        """How the pages label the expenditure: "disbursed" or "reported, not disbursed"."""
        return SOURCE_LABELS[self.expenditure_source]

    @cached_property
    def opening_balance(self) -> Decimal | None:
        """In the money chain, what the work items had reported before the
        PPA entered it (PHP, part of the expenditure); else ``None``."""
        if not self.in_chain or self.tree is None:
            return None
        return from_centavos(tree_opening_balance(self.tree.root.id))

    @property
    def may_record_expenditure(self) -> bool:
        """The user may enter expenditure directly: they edit the WBS and
        the PPA is outside the money chain."""
        return self.may_edit and not self.in_chain

    @property
    def locked(self) -> bool:
        """Allocations are frozen (from budget review approval until a return for revision)."""
        return bool(self.tree and self.tree.root.locked)

    @cached_property
    def locked_by(self) -> PpaTransition | None:
        """The approval that locked the allocations (the latest transition
        whose rule has the ``lock_budget_allocations`` effect), ``None``
        when they are not locked (one statement)."""
        if not self.locked:
            return None
        locking = [and_(PpaTransition.trigger == t.trigger, PpaTransition.from_stage == t.source)
                   for t in self._approval.transitions if LOCKING_EFFECT in t.effects]
        if not locking:
            return None
        return db.session.scalar(select(PpaTransition).where(PpaTransition.ppa_id == self.ppa.id, or_(*locking))
                                 .order_by(PpaTransition.id.desc()).limit(1))

    @property
    def unlocking_triggers(self) -> list[str]:
        """The approval triggers that unlock allocations again (the
        ``unlock_budget_allocations`` effect of rules/default/workflows/approval.yaml)."""
        return list(dict.fromkeys(t.trigger for t in self._approval.transitions if UNLOCKING_EFFECT in t.effects))

    def templates(self) -> list[tuple[str, str]]:
        """``(name, label)`` of every WBS template of rules/default/wbs_templates.yaml."""
        return [(name, template.label) for name, template in self._wbs.templates.items()]

    def default_template(self) -> str:
        """The template tracking would use: the PPA's own, else its category's default."""
        return self._wbs.template_for(self.ppa.category, self.ppa.wbs_template).name


def get_outline(user: User, ppa_id: int) -> Outline:
    """The PPA ``ppa_id`` and its rolled-up WBS as ``user`` sees them.

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    tree = load_tree(ppa.execution_project_id) if ppa.execution_project_id is not None else None
    return Outline(ppa, tree, can_edit_ppas_of(user, ppa.organization_id))


def require_item_of(user: User, ppa_id: int, item_id: int) -> None:
    """Make sure ``item_id`` is a work item of the PPA ``ppa_id`` that
    ``user`` may see (two statements), before a page changes it.

    Raises:
        NotFound: it is not.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    if ppa.execution_project_id is None or db.session.scalar(
            select(ITEMS.c.id).where(ITEMS.c.id == item_id, in_tree(ppa.execution_project_id))) is None:
        raise NotFound(f"work item {item_id} not found in PPA {ppa_id}")
