"""Execution tracking of a PPA: enable it, read the budget tree, distribute
the budget, sync the PPA from its project (docs/design.md §4, §5).

Every write locks the PPA row first, so all writes to one WBS are
serialised and each sees the others' committed results; the tree is then
loaded in one query, changed in memory, and written set-based.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased

from db import db
from db.models import Ppa, User, WorkItem
from services import calendar, expenditure, performance, tree_cache, work_items
from services.access import can_see_ppa, require_tree_editor
from services.expenditure import DISBURSEMENTS, REPORTED, is_in_chain, tree_opening_balance
from services.ppas import get_ppa_or_raise
from services.runtime import active_hash_column, adopt_active_hash, get_runtime
from services.tree_cache import TreeKey
from services.trees import (apply_allocations, generate_execution_project, load_breakdown, load_project,
                            load_stored_tree, load_tree, require_unlocked, settle_allocations, sync_ppa)
from services.unit_of_work import rolled_back, transaction
from workflow.errors import Conflict, NotFound, ValidationFailed
from workflow.money import format_centavos, to_centavos
from workflow.tree import Breakdown, Tree, equal_shares, roll_up, tree_breakdown, weighted_shares
from workflow.wbs import plan_wbs


def require_project(ppa: Ppa) -> int:
    """The id of the PPA's execution project.

    Raises:
        Conflict: ``not_tracking``; the PPA has none.
    """
    if ppa.execution_project_id is None:
        raise Conflict(f"PPA {ppa.id} has no execution project; enable work item tracking first",
                       code="not_tracking")
    return ppa.execution_project_id


def enable_tracking(user: User, ppa_id: int, template: str | None = None) -> tuple[Ppa, Tree]:
    """Create the PPA's execution project from a WBS template.

    Args:
        template: ``program``, ``activity``, ``minimal`` or any template of
            rules/default/wbs_templates.yaml; default the PPA's ``wbs_template``, else
            its category's default.

    Returns:
        ``(ppa, tree)`` after the commit.

    Raises:
        NotFound, Forbidden, ValidationFailed (unknown template),
        Conflict: ``already_tracking``, or ``not_trackable`` in draft/rejected.
    """
    rules = get_runtime().rules
    if template is not None and template not in rules.wbs.templates:
        raise ValidationFailed({"structure_template": [
            f"unknown template {template!r}; known: {', '.join(rules.wbs.templates)}"]})
    with transaction() as session:
        ppa = get_ppa_or_raise(user, ppa_id, for_update=True)
        require_tree_editor(user, ppa)
        if ppa.execution_project_id is not None:
            raise Conflict(f"PPA {ppa.id} already has an execution project (work item {ppa.execution_project_id})",
                           code="already_tracking")
        if ppa.approval_status in rules.wbs.tracking_not_in_stages:
            stage = rules.approval.machine.states[ppa.approval_status].label
            raise Conflict(f"work item tracking cannot be enabled while the PPA is in the {stage} stage",
                           code="not_trackable")
        root_id = generate_execution_project(session, ppa, user.id, template)
        tree = load_tree(root_id)
    return ppa, tree


def enable_tracking_answer(user: User, ppa_id: int, template: str | None = None, *, dry_run: bool = False) -> dict:
    """The answer of ``POST .../enable_workitem_tracking/``: ``success``,
    ``dry_run``, the ``execution_project`` (its root work item, as
    ``work_items.get_work_item`` reads it), the generated
    ``budget_allocation_tree`` (as ``budget_allocation_tree``) and a message.

    Args:
        dry_run: run ``enable_tracking`` exactly as for real, checks and
            all, in a savepoint that is rolled back (``unit_of_work.rolled_back``):
            the answer is what the real call would answer, and nothing is
            written, audited or versioned (issue 14, item 6; docs/design.md §6,
            "Dry runs"). Its ids are provisional: no row keeps them.

    Raises:
        As ``enable_tracking``, for the dry run too.
    """

    with rolled_back() if dry_run else transaction():
        ppa, tree = enable_tracking(user, ppa_id, template)
        verb = "would be generated" if dry_run else "generated"
        return {"success": True, "dry_run": dry_run,
                "execution_project": work_items.get_work_item(user, tree.root.id),
                "budget_allocation_tree": tree_payload(ppa, tree),
                "message": f"work item tracking {'previewed' if dry_run else 'enabled'}: {len(tree)} work items {verb}"}


def tree_payload(ppa: Ppa, tree: Tree | None, *, in_chain: bool | None = None) -> dict:
    """The ``budget_allocation_tree`` response (docs/design.md §5) of a
    rolled-up ``tree`` (``None``: the PPA has no WBS), as ``breakdown_payload``."""
    threshold = get_runtime().rules.budget.on_budget_threshold_pct
    return breakdown_payload(ppa, tree_breakdown(tree, threshold) if tree else None, in_chain=in_chain)


def breakdown_payload(ppa: Ppa, shown: Breakdown | None, *, in_chain: bool | None = None) -> dict:
    """The ``budget_allocation_tree`` response (docs/design.md §5) around
    the PPA's WBS as shown (``workflow.tree.Breakdown``, ``None`` without a
    WBS). ``total_expended`` is the PPA's actual expenditure: the rolled-up
    work item expenditure, or the disbursements of a PPA without a WBS.
    ``expenditure_source`` says where it comes from (``"disbursements"`` in
    the money chain, else ``"reported"``) and ``opening_balance`` what the
    work items had reported before the PPA entered the chain (null outside
    it); docs/design.md §12, "Money spent and payables". ``in_chain``: whether
    the PPA is in the chain, when the caller has read it (else one query)."""
    chain = is_in_chain(ppa.id) if in_chain is None else in_chain
    budget = to_centavos(ppa.budget_allocation)
    allocated = shown.allocated_to_children if shown else 0
    return {
        "ppa_id": ppa.id,
        "ppa_budget": format_centavos(budget),
        "allocated_to_workitems": format_centavos(allocated),
        "unallocated": format_centavos(budget - allocated),
        "allocation_percentage": round(allocated * 100 / budget, 2) if budget else 0.0,  # percent, not money
        "total_expended": format_centavos(shown.expended if shown else to_centavos(ppa.actual_expenditure)),
        "expenditure_source": DISBURSEMENTS if chain else REPORTED,
        "opening_balance": format_centavos(tree_opening_balance(shown.root_id) if shown else 0) if chain else None,
        "breakdown": [shown.payload] if shown else [],
    }


def budget_allocation_tree(user: User, ppa_id: int) -> dict:
    """The PPA's budget tree with rollups, uncached: one query for the PPA,
    and the tree as ``services.trees.load_breakdown`` reads it.

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    if ppa.execution_project_id is None:
        return breakdown_payload(ppa, None)
    return breakdown_payload(ppa, load_breakdown(ppa.execution_project_id,
                                                 get_runtime().rules.budget.on_budget_threshold_pct))


@dataclass(frozen=True)
class TreeRead:
    """A read of a PPA's budget tree, before its body is needed
    (``read_budget_tree``).

    Attributes:
        etag: the answer's strong entity tag: a client holding it gets 304.
        ppa: the PPA (visible to the reader).
        key: where its encoded answer is cached, ``None`` for a PPA without
            a WBS (never cached: its expenditure is its disbursements, which
            no version counts).
        in_chain: the PPA is in the money chain, as read with it.
        include: the per-node figures asked for (``key.include``), merged
            into the nodes after they are built (``merge_node_figures``).
    """

    etag: str
    ppa: Ppa
    key: TreeKey | None
    in_chain: bool
    _built: bytes | None = None
    #: the root's ``rollup_key`` as read with the PPA (docs/design.md §4, "Stored rollups")
    rollup_key: str | None = None
    include: tuple[str, ...] = ()

    def body(self, encode: Callable[[dict], bytes]) -> bytes:
        """The encoded answer: from the cache on a hit, else built (one tree
        query; without ``include``, the payload made from the stored rollups
        in one pass, ``services.trees.load_breakdown``; with it, the tree
        loaded and each node also carrying ``services.performance.tree_figures``
        as of the key's day), encoded with ``encode`` and kept for the next
        reader.

        Args:
            encode: the payload dict -> the response bytes (``web.jsonio.encode``).
        """
        if self._built is not None:
            return self._built
        cache = tree_cache.store()
        body = cache.get(self.key.text)
        if body is None:
            if self.include:
                tree = load_tree(self.ppa.execution_project_id, rollup_key=self.rollup_key)
                payload = tree_payload(self.ppa, tree, in_chain=self.in_chain)
                merge_node_figures(payload["breakdown"], performance.tree_figures(
                    self.ppa, tree, self.key.as_of, self.include, in_chain=self.in_chain))
                body = encode(payload)
            else:
                shown = load_breakdown(self.ppa.execution_project_id,
                                       get_runtime().rules.budget.on_budget_threshold_pct, rollup_key=self.rollup_key)
                body = encode(breakdown_payload(self.ppa, shown, in_chain=self.in_chain))
            cache.put(self.key.text, body)
        return body


@functools.cache
def _ppa_and_tree_key() -> Select:
    """The one query of ``read_budget_tree`` (built once per process on first
    use: building it costs more than running it): the PPA ``:ppa_id``, its
    root's ``tree_version``, whether it is in the money chain, and the
    active rule set's hash."""
    root = aliased(WorkItem)
    return (select(Ppa, root.tree_version, expenditure.in_chain(Ppa.id), active_hash_column(), root.rollup_key)
            .outerjoin(root, root.id == Ppa.execution_project_id).where(Ppa.id == bindparam("ppa_id")))


def merge_node_figures(breakdown: list[dict], figures: Mapping[int, Mapping]) -> None:
    """Add to every node dict of ``breakdown`` (as ``tree_payload`` builds
    it, children nested) the entries of its ``figures`` (by
    ``work_item_id``; ``services.performance.tree_figures``), in place.
    No statement; one pass over the nodes."""
    stack = list(breakdown)
    while stack:
        node = stack.pop()
        extras = figures.get(node["work_item_id"])
        if extras:
            node.update(extras)
        stack.extend(node["children"])


def read_budget_tree(user: User, ppa_id: int, encode: Callable[[dict], bytes],
                     include: Collection[str] = ()) -> TreeRead:
    """What ``GET .../budget_allocation_tree/`` needs before deciding
    between 304 and 200 (docs/design.md §5, "The budget tree is cached"):
    one query reads the PPA, its project's ``tree_version``, whether it is
    in the money chain and the active rule set's hash; the visibility of
    the PPA is checked on every read, cached or not. The body, when wanted,
    is ``TreeRead.body``: a cache get on a hit.

    Args:
        encode: as ``TreeRead.body`` (used here only for a PPA without a
            WBS, whose small answer is built at once and tagged by its
            content).
        include: per-node figures to add (``services.performance.TREE_FIGURES``:
            ``earned_value``, ``critical_path``), each node's as of today;
            part of the cache key and so of the ETag. Without them the
            answer is the plain tree, byte for byte.

    Raises:
        NotFound: the PPA does not exist or is not visible to ``user``.
        ValidationFailed: an ``include`` name it does not know.
    """
    row = db.session.execute(_ppa_and_tree_key(), {"ppa_id": ppa_id}).first()
    if row is None:
        raise NotFound(f"PPA {ppa_id} not found")
    ppa, tree_version, chain, rule_hash, rollup_key = row
    rules_hash = adopt_active_hash(rule_hash).rules.hash
    if not can_see_ppa(user, ppa):
        raise NotFound(f"PPA {ppa_id} not found")
    chain = bool(chain)
    wanted = tuple(sorted(set(include)))
    if unknown := [name for name in wanted if name not in performance.TREE_FIGURES]:
        raise ValidationFailed({"include": [f"unknown {', '.join(map(repr, unknown))}; known: "
                                            f"{', '.join(performance.TREE_FIGURES)}"]})
    if tree_version is None:
        body = encode(tree_payload(ppa, None, in_chain=chain))
        etag = f'"tree-{ppa.id}-{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
        return TreeRead(etag, ppa, None, chain, body)
    key = TreeKey(ppa.id, ppa.created_at, ppa.version, tree_version, chain, rules_hash, calendar.today(), wanted)
    return TreeRead(key.etag, ppa, key, chain, rollup_key=rollup_key, include=wanted)


@dataclass(frozen=True)
class Distribution:
    """What ``distribute_budget`` did, or would do in a dry run.

    Attributes:
        ppa: the PPA.
        tree: its WBS with the new allocations, rolled up (centavos).
        changes: item id -> ``(allocation before, allocation after)`` in
            centavos, for every item whose allocation changes (the items
            named and their rescaled descendants), in tree order.
        dry_run: nothing was written.
    """

    ppa: Ppa
    tree: Tree
    changes: Mapping[int, tuple[int | None, int | None]]
    dry_run: bool

    def payload(self) -> dict:
        """The answer of ``POST .../distribute_budget/`` (docs/design.md §5):
        the budget tree after the distribution, ``dry_run``, and ``changes``
        (``work_item_id``, ``title``, ``allocated_before``,
        ``allocated_after``, money as strings)."""
        body = tree_payload(self.ppa, self.tree)
        body["dry_run"] = self.dry_run
        by_id = self.tree.by_id
        body["changes"] = [{"work_item_id": item_id, "title": by_id[item_id].title,
                            "allocated_before": format_centavos(before), "allocated_after": format_centavos(after)}
                           for item_id, (before, after) in self.changes.items()]
        return body


def distribute_budget(user: User, ppa_id: int, method: str | None = None, *, parent_id: int | None = None,
                      weights: Mapping[int, Decimal] | None = None,
                      allocations: Mapping[int, Decimal] | None = None, dry_run: bool = False) -> Distribution:
    """Distribute budget over the PPA's work items, all or nothing.

    Args:
        method: ``equal`` or ``weighted`` split ``parent_id``'s allocation
            (default the root's) over its direct children; ``manual`` sets
            ``allocations`` (item id -> PHP) on any items below the root.
            Default: the PPA's ``budget_distribution_policy``.
        weights: child id -> weight, for ``weighted`` (sum 1 within the
            tolerance of rules/default/budget.yaml).
        dry_run: compute and check everything exactly as for real, and write
            nothing (issue 14, item 6): the preview of the web app's Budget
            tab and ``"dry_run": true`` of the API. It needs the same rights
            and is refused the same way.

    Every changed item's descendants are rescaled in proportion, so each
    level keeps its shares and sums exactly.

    Returns:
        The ``Distribution``: the tree after it, and what changed.

    Raises:
        NotFound, Forbidden,
        Conflict: ``not_tracking``, ``budget_locked``,
        ValidationFailed: bad ids, weights, or a parent whose children would
            exceed it (with the amounts).
    """
    rules = get_runtime().rules
    with transaction() as session:
        ppa = get_ppa_or_raise(user, ppa_id, for_update=not dry_run)
        require_tree_editor(user, ppa)
        tree, current = load_stored_tree(require_project(ppa))
        require_unlocked(tree)
        method = method or ppa.budget_distribution_policy
        parent = parent_id if parent_id is not None else tree.root.id
        if method == "equal":
            explicit = equal_shares(tree, parent)
        elif method == "weighted":
            if not weights:
                raise ValidationFailed({"weights": ["required for the weighted method: {work_item_id: weight}"]})
            explicit = weighted_shares(tree, parent, weights, rules.budget.weights_tolerance)
        elif method == "manual":
            explicit = manual_allocations(tree, allocations or {})
        else:
            raise ValidationFailed({"method": [f"unknown method {method!r}; use equal, weighted or manual"]})
        changes = apply_allocations(session, ppa, tree, explicit, write=not dry_run)
        if dry_run:
            roll_up(tree, rules.sync.progress_method)
        else:
            settle_allocations(session, ppa, tree, changes, current=current)
        in_order = {node.id: changes[node.id] for node in tree.preorder() if node.id in changes}
        return Distribution(ppa, tree, in_order, dry_run)


def manual_allocations(tree: Tree, allocations: Mapping[int, Decimal]) -> dict[int, int]:
    """Check manual allocations against the tree; return them in centavos.

    Raises:
        ValidationFailed: empty, an id outside the tree, or the root.
    """
    if not allocations:
        raise ValidationFailed({"allocations": ["required for the manual method: {work_item_id: \"amount\"}"]})
    errors = {}
    for item_id in allocations:
        if item_id not in tree.by_id:
            errors[f"allocations.{item_id}"] = ["not a work item of this PPA's WBS"]
        elif item_id == tree.root.id:
            errors[f"allocations.{item_id}"] = ["the project's allocation is the PPA's budget; change the PPA instead"]
    if errors:
        raise ValidationFailed(errors)
    return {item_id: to_centavos(amount) for item_id, amount in allocations.items()}


def sync_from_workitem(user: User, ppa_id: int) -> dict:
    """Sync the PPA's progress and status from its execution project now,
    whatever its auto-sync flags say.

    Returns:
        ``{"progress", "status", "message"}``.

    Raises:
        NotFound, Forbidden, Conflict (``not_tracking``).
    """
    with transaction():
        ppa = get_ppa_or_raise(user, ppa_id, for_update=True)
        require_tree_editor(user, ppa)
        project = load_project(require_project(ppa))
        before = (ppa.progress, ppa.status)
        sync_ppa(ppa, project.status, project.rolled_progress, force=True)
        result = {"progress": ppa.progress, "status": ppa.status}
        changed = before != (ppa.progress, ppa.status)
    result["message"] = ("PPA synced from its execution project" if changed
                         else "PPA already matches its execution project")
    return result


def preview_template(name: str, budget: Decimal, start: date | None = None, end: date | None = None) -> dict:
    """A WBS template laid out on a budget and date range, written nowhere:
    the same ``workflow.wbs.plan_wbs`` that ``enable_tracking`` generates
    with (budgets split exactly at every level by the largest-remainder
    method, days by the duration percentages), under the rules in force
    (issue 14, item 6; docs/design.md §4, §6 "Dry runs").

    Args:
        name: a template of rules/default/wbs_templates.yaml.
        budget: PHP (Decimal, two places at most), the root's allocation.
        start, end: the inclusive date range, or ``None``.

    Returns:
        ``{"template", "label", "budget", "start_date", "end_date", "items",
        "root"}``: ``root`` the project with nested ``children``, each node
        ``title``, ``work_type``, ``level``, ``position``,
        ``allocated_budget`` (PHP string), ``start_date``, ``due_date``.

    Raises:
        NotFound: no such template.
    """
    template = get_runtime().rules.wbs.templates.get(name)
    if template is None:
        raise NotFound(f"no WBS template {name!r}")
    plan = plan_wbs(template, title=template.label, budget=to_centavos(budget), start=start, end=end)
    nodes = [{"title": p.title, "work_type": p.work_type, "level": p.level, "position": p.position,
              "allocated_budget": format_centavos(p.allocated), "start_date": p.start_date, "due_date": p.due_date,
              "children": []} for p in plan]
    for p in plan[1:]:
        nodes[p.parent_ref]["children"].append(nodes[p.ref])
    return {"template": template.name, "label": template.label, "budget": format_centavos(plan[0].allocated),
            "start_date": start, "end_date": end, "items": len(plan), "root": nodes[0]}
