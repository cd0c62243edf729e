"""Earned value and critical path of a tracked PPA's WBS (issue 16 items
3-4; docs/design.md "Earned value and critical path"). Thin over the pure
cores ``workflow.earned_value`` and ``workflow.critical_path``: load the
baseline, progress, actual costs and dependencies, call the core, shape the
answer.

- The baseline (each item's allocation and dates) is captured when the PPA
  is enacted (``capture_baseline``, from ``services.approvals``); a PPA
  enacted before this feature gets one at its first computation, flagged
  ``baseline_captured_late``.
- Progress is each baselined leaf's rolled-up progress now (an item split
  after the baseline earns by its children's progress).
- Actual cost is each item's ``actual_expenditure`` (for a PPA in the money
  chain: its opening balance + the disbursements charged, the single source
  of ``services.expenditure``), less disbursements dated after ``as_of``;
  an item added after the baseline charges its nearest baselined ancestor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select

from db import db
from db.models import (
    Ppa,
    User,
    WorkItem,
)
from db.models.schedule import EvBaseline, EvBaselineItem, WorkItemDependency
from db.types import utcnow
from services import alerts, calendar
from services.access import can_see_ppa, require_tree_editor
from services.expenditure import (
    chain_ppa_ids,
    disbursed_by_item,
    disbursed_by_item_of,
    is_in_chain,
)
from services.ppas import get_ppa_or_raise
from services.runtime import get_runtime, runtime_for
from services.trees import ITEMS, bump_tree_version, in_tree, load_tree, load_trees
from services.unit_of_work import transaction
from workflow import critical_path as cp
from workflow.earned_value import Baseline, BaselineItem, performance_alerts
from workflow.errors import Conflict, NotFound, ValidationFailed
from workflow.money import format_centavos, from_centavos
from workflow.tree import CANCELLED

SPI_LOW, CPI_LOW = "workitem_schedule_performance", "workitem_cost_performance"
#: A critical item of the baseline schedule that now finishes later (docs/design.md §15).
SLIPPED = "workitem_critical_slip"
EV_TYPES = (SPI_LOW, CPI_LOW, SLIPPED)


def _money(value: Decimal | None) -> Decimal | None:
    return value


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _require_tracked(ppa: Ppa) -> int:
    if ppa.execution_project_id is None:
        raise Conflict(f"PPA {ppa.id} has no work-breakdown structure yet", code="not_tracked")
    return ppa.execution_project_id


def _plan_rows(session, ppa: Ppa) -> list:
    """The WBS as it stands (allocation and dates of every item), as plain
    rows with the attributes of a baseline item (``work_item_id``,
    ``parent_id``, ``budget``, ``start_date``, ``due_date``): what
    ``_measure_loaded`` reads, without building an ORM object per item."""
    return session.execute(select(ITEMS.c.id.label("work_item_id"), ITEMS.c.parent_id,
                                  ITEMS.c.allocated_budget.label("budget"), ITEMS.c.start_date, ITEMS.c.due_date)
                           .where(in_tree(ppa.execution_project_id))).all()


def _stored_rows(session, ppa: Ppa) -> list:
    """The PPA's stored baseline items as plain rows (the attributes of
    ``_plan_rows``), one statement."""
    return session.execute(select(EvBaselineItem.work_item_id, EvBaselineItem.parent_id, EvBaselineItem.budget,
                                  EvBaselineItem.start_date, EvBaselineItem.due_date)
                           .where(EvBaselineItem.ppa_id == ppa.id)).all()


def _plan_items(session, ppa: Ppa) -> list[EvBaselineItem]:
    """The WBS as it stands (allocation and dates of every item), as
    baseline rows not yet added to the session."""
    return [EvBaselineItem(ppa_id=ppa.id, work_item_id=r.work_item_id, parent_id=r.parent_id, budget=r.budget,
                           start_date=r.start_date, due_date=r.due_date) for r in _plan_rows(session, ppa)]


def capture_baseline(session, ppa: Ppa, *, late: bool = False) -> EvBaseline | None:
    """Store the PPA's WBS as its earned value baseline (allocation and dates
    of every item), once; later calls return the stored one. ``None`` when
    the PPA has no WBS. Runs in the caller's transaction; a capture bumps
    the tree's ``tree_version``, so a budget tree read with its earned
    value (docs/design.md §5) is not served from before it."""
    existing = session.get(EvBaseline, ppa.id)
    if existing is not None or ppa.execution_project_id is None:
        return existing
    baseline = EvBaseline(ppa_id=ppa.id, captured_late=late)
    session.add(baseline)
    session.flush()
    session.add_all(_plan_items(session, ppa))
    session.flush()
    bump_tree_version(session, ppa.execution_project_id)  # the tree's earned value figures now use it
    return baseline


def _readable_baseline(session, ppa: Ppa) -> tuple[EvBaseline, list] | None:
    """The baseline and its items (rows of ``_stored_rows``/``_plan_rows``)
    as far as they can be read without a write: the stored one; for a PPA
    not enacted yet, its plan as it stands (an unsaved baseline row,
    nothing stored, so the baseline taken at enactment is the plan then);
    ``None`` for an enacted PPA without one (enacted before baselines
    existed: ``_baseline_rows`` captures it)."""
    baseline = session.get(EvBaseline, ppa.id)
    if baseline is None:
        remarks = runtime_for(ppa.rules_hash).rules.budget.remarks
        if ppa.approval_status not in (remarks.enacted_stages if remarks else ()):
            return EvBaseline(ppa_id=ppa.id, captured_late=False, captured_at=utcnow()), _plan_rows(session, ppa)
        return None
    return baseline, _stored_rows(session, ppa)


def _baseline_rows(session, ppa: Ppa) -> tuple[EvBaseline, list]:
    """The stored baseline and its items (rows with the attributes of a
    baseline item). An enacted PPA without one (enacted
    before baselines existed) gets one now, flagged late; a PPA not enacted
    yet is measured against its plan as it stands, and nothing is stored,
    so the baseline taken at enactment is the plan then."""
    readable = _readable_baseline(session, ppa)
    if readable is not None:
        return readable
    baseline = capture_baseline(session, ppa, late=True)
    return baseline, _stored_rows(session, ppa)


def _measure(session, ppa: Ppa, day: date, *, late_costs: bool = True):
    """The baseline row, the loaded tree, the core baseline and its figures
    as of ``day`` (see the module's docstring for progress and actual cost)."""
    baseline_row, rows = _baseline_rows(session, ppa)
    tree = load_tree(ppa.execution_project_id)
    later = disbursed_by_item(ppa, after=day) if late_costs and is_in_chain(ppa.id) else {}
    core, results = _measure_loaded(rows, tree, later, day)
    return baseline_row, tree, core, results


def _measure_loaded(rows, tree, later: dict[int, int], day: date):
    """The core baseline of the baseline ``rows`` and its figures as of
    ``day``, from the PPA's loaded (rolled-up) ``tree`` and the centavos
    disbursed after ``day`` by work item (``later``); no statement.

    Raises:
        ValidationFailed: a baseline the core refuses.
    """
    rules = get_runtime().rules.budget
    core = Baseline(BaselineItem(r.work_item_id, r.parent_id, r.budget, r.start_date, r.due_date) for r in rows)
    progress = {}
    for leaf in core.leaves:
        if leaf in tree.by_id:
            value = tree.by_id[leaf].rolled_progress
            progress[leaf] = Decimal(value.numerator) / Decimal(value.denominator) \
                if isinstance(value, Fraction) else value
    actual: dict[int, int] = defaultdict(int)
    for node in tree.preorder():
        target = node.id
        while target not in core.parent:  # added after the baseline: charges its baselined ancestor
            target = tree.by_id[target].parent_id
        actual[target] += max(node.spent - later.get(node.id, 0), 0)
    results = core.measure_centavos(day, progress, actual, method=rules.pv_method, eac_method=rules.eac_method)
    return core, results


def spi_cpi(ppas: Sequence[Ppa], day: date) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    """The SPI and CPI of many PPAs as of the end of ``day``, each equal to
    the ``ppa`` figures of ``earned_value`` for that PPA and day, in a fixed
    number of statements whatever the number of PPAs (the MFBM report's
    columns, docs/design.md §8 and §15): the stored baselines and their
    items, the trees (``services.trees.load_trees``), which PPAs are in the
    money chain and what they disbursed after ``day`` (one statement each).

    Read-only: unlike ``earned_value`` it captures no baseline and touches
    no alert. A PPA without a WBS, without a stored baseline, whose tree
    cannot be loaded or whose baseline the core refuses maps to ``(None,
    None)``; SPI is ``None`` when PV is zero, CPI when AC is.

    Returns:
        ``{ppa id: (spi, cpi)}`` for every PPA given: ``Decimal`` ratios to
        4 decimals (``workflow.earned_value.RATIO_PLACES``) or ``None``.
    """
    out: dict[int, tuple[Decimal | None, Decimal | None]] = {ppa.id: (None, None) for ppa in ppas}
    tracked = [ppa for ppa in ppas if ppa.execution_project_id is not None]
    if not tracked:
        return out
    session = db.session
    baselined = set(session.scalars(select(EvBaseline.ppa_id).where(EvBaseline.ppa_id.in_([p.id for p in tracked]))))
    tracked = [ppa for ppa in tracked if ppa.id in baselined]
    if not tracked:
        return out
    rows: dict[int, list[EvBaselineItem]] = defaultdict(list)
    for row in session.scalars(select(EvBaselineItem).where(EvBaselineItem.ppa_id.in_([p.id for p in tracked]))):
        rows[row.ppa_id].append(row)
    trees = load_trees([ppa.execution_project_id for ppa in tracked])
    in_chain = chain_ppa_ids(ppa.id for ppa in tracked)
    later = disbursed_by_item_of([ppa for ppa in tracked if ppa.id in in_chain], after=day)
    for ppa in tracked:
        tree = trees.get(ppa.execution_project_id)
        if tree is None or isinstance(tree, ValueError):
            continue
        try:
            core, results = _measure_loaded(rows[ppa.id], tree, later.get(ppa.id, {}), day)
        except ValidationFailed:
            continue
        figures = results[core.root_id]
        out[ppa.id] = (figures.spi, figures.cpi)
    return out


def _figures(f) -> dict[str, Any]:
    return {"bac": _money(f.bac), "pv": _money(f.pv), "ev": _money(f.ev), "ac": _money(f.ac),
            "sv": _money(f.sv), "cv": _money(f.cv), "spi": _ratio(f.spi), "cpi": _ratio(f.cpi),
            "tcpi": _ratio(f.tcpi), "eac": _money(f.eac), "etc": _money(f.etc), "vac": _money(f.vac)}


def earned_value(user: User, ppa_id: int, as_of: date | None = None) -> dict[str, Any]:
    """The PPA's earned value as of the end of ``as_of`` (default today,
    Asia/Manila): the PPA's figures and each baselined node's. The first
    computation of a PPA without a baseline captures one (late); a
    computation as of today also opens or resolves the SPI/CPI alerts.

    Returns:
        ``{ppa_id, as_of, baseline_captured_at, baseline_captured_late,
        pv_method, eac_method, ppa: figures, nodes: [figures with
        work_item_id, parent_id, title]}``; figures: ``bac pv ev ac sv cv
        eac etc vac`` PHP ``Decimal``s (strings in JSON), ``spi cpi tcpi`` ratio strings with 4
        decimals (``None`` when the denominator is zero).

    Raises:
        NotFound; Conflict ``not_tracked`` (no WBS); ValidationFailed (a
        baseline the core refuses, e.g. a budgeted leaf without dates).
    """
    rules = get_runtime().rules.budget
    with transaction() as session:
        ppa = get_ppa_or_raise(user, ppa_id)
        _require_tracked(ppa)
        day = as_of or calendar.today()
        baseline_row, tree, core, results = _measure(session, ppa, day)
        if day == calendar.today():
            _reconcile(session, ppa, tree, results, day)
    titles = {n.id: n.title for n in tree.preorder()}
    return {
        "ppa_id": ppa.id, "as_of": day, "baseline_captured_at": baseline_row.captured_at,
        "baseline_captured_late": baseline_row.captured_late, "pv_method": rules.pv_method,
        "eac_method": rules.eac_method, "ppa": _figures(results[core.root_id]),
        "nodes": [{"work_item_id": node, "parent_id": core.parent[node], "title": titles.get(node, ""),
                   **_figures(f)} for node, f in results.items()],
    }


def s_curve(user: User, ppa_id: int, points: int = 24) -> dict[str, Any]:
    """The S-curve of the PPA's earned value (the web app's Performance tab):
    planned value over the whole baseline, actual cost up to today, and
    today's earned value.

    PV is planned on ``points`` days spread evenly from the day before the
    first baselined start to the last finish (or today, if later). AC on a
    past day is today's less what was disbursed after that day (PPAs in the
    money chain); a PPA that reports its expenditure has only today's AC.
    EV is today's alone: progress has no history to draw a line from.

    Returns:
        ``{"as_of", "bac", "planned": [(day, PHP)], "actual": [(day, PHP)],
        "today": figures of ``earned_value``}``, PHP as ``Decimal``.

    Raises:
        NotFound; Conflict ``not_tracked``; ValidationFailed (no budgeted,
        dated work item to plan, or a baseline the core refuses).
    """
    rules = get_runtime().rules.budget
    with transaction() as session:
        ppa = get_ppa_or_raise(user, ppa_id)
        _require_tracked(ppa)
        today = calendar.today()
        _, _, core, results = _measure(session, ppa, today)
        if core.span is None:
            raise ValidationFailed({"baseline": ["no work item has a budget and dates to plan its value from"]})
        first, last = core.span[0] - timedelta(days=1), max(core.span[1], today)
        step = max((last - first).days / max(points - 1, 1), 1)
        days = sorted({first + timedelta(days=round(step * n)) for n in range(points)} | {last, today})
        today_ac = results[core.root_id].ac
        actual = [(today, today_ac)]
        if is_in_chain(ppa.id):
            actual = [(day, max(today_ac - from_centavos(sum(disbursed_by_item(ppa, after=day).values())), Decimal(0)))
                      for day in days if day <= today]
        return {"as_of": today, "bac": results[core.root_id].bac, "planned": core.planned_curve(days, rules.pv_method),
                "actual": actual, "today": _figures(results[core.root_id])}


def reconcile_performance(session, ppa: Ppa, as_of: date) -> dict[str, int]:
    """Open or resolve the SPI/CPI alerts of a baselined PPA's WBS as of
    ``as_of`` (the sweep). A PPA without WBS or baseline is left alone.

    Returns:
        ``{"opened", "resolved"}``.
    """
    if ppa.execution_project_id is None or session.get(EvBaseline, ppa.id) is None:
        return {"opened": 0, "resolved": 0}
    _, tree, _, results = _measure(session, ppa, as_of)
    return _reconcile(session, ppa, tree, results, as_of)


def _reconcile(session, ppa: Ppa, tree, results, as_of: date) -> dict[str, int]:
    """Alerts for the nodes whose SPI or CPI is below the thresholds of
    rules/default/budget.yaml ``earned_value`` (cancelled items raise none)."""
    rules = get_runtime().rules.budget
    wanted = []
    for alert in performance_alerts(results, spi_below=rules.spi_alert_below, cpi_below=rules.cpi_alert_below):
        node = tree.by_id.get(alert.id)
        if node is None or node.status == CANCELLED:
            continue
        wanted.append(alerts.Condition(
            SPI_LOW if alert.index == "spi" else CPI_LOW, f"work_item:{node.id}", ppa.id, ppa.organization_id,
            f"{node.title!r} has {alert.index.upper()} {alert.value} as of {as_of.isoformat()}, below "
            f"{alert.threshold}", node.id,
            {"index": alert.index, "value": str(alert.value), "threshold": str(alert.threshold),
             "as_of": as_of.isoformat()}))
    for slip in _slips(session, ppa, tree):
        node = tree.by_id[slip.id]
        wanted.append(alerts.Condition(
            SLIPPED, f"work_item:{node.id}", ppa.id, ppa.organization_id,
            f"{node.title!r} is on the critical path and now finishes {slip.current_finish.isoformat()}, "
            f"{slip.days} day(s) after its baseline {slip.baseline_finish.isoformat()}: the PPA finishes late "
            f"unless the time is made up", node.id,
            {"days": slip.days, "baseline_finish": slip.baseline_finish.isoformat(),
             "current_finish": slip.current_finish.isoformat()}))
    return alerts.reconcile(session, [ppa.id], EV_TYPES, wanted)


# -- dependencies and the critical path --------------------------------------


def _item_and_ppa(user: User, item_id: int) -> tuple[WorkItem, Ppa, int]:
    root_id = db.session.scalar(select(func.coalesce(ITEMS.c.root_id, ITEMS.c.id)).where(ITEMS.c.id == item_id))
    ppa = db.session.scalar(select(Ppa).where(Ppa.execution_project_id == root_id)) if root_id else None
    if ppa is None or not can_see_ppa(user, ppa):
        raise NotFound(f"work item {item_id} not found")
    return db.session.get(WorkItem, item_id), ppa, root_id


def list_dependencies(user: User, item_id: int) -> dict[str, list[int]]:
    """The work item's predecessors and successors (ids).

    Raises:
        NotFound: unknown, or its PPA is not visible to ``user``.
    """
    _item_and_ppa(user, item_id)
    rows = db.session.execute(select(WorkItemDependency.predecessor_id, WorkItemDependency.successor_id).where(
        (WorkItemDependency.successor_id == item_id) | (WorkItemDependency.predecessor_id == item_id))).all()
    return {"work_item_id": item_id,
            "predecessors": sorted(p for p, s in rows if s == item_id),
            "successors": sorted(s for p, s in rows if p == item_id)}


def add_dependency(user: User, item_id: int, predecessor_id: int) -> dict[str, list[int]]:
    """Make ``item_id`` start at the earliest the day after ``predecessor_id``
    finishes (finish-to-start); the tree editor of the PPA only. A new
    dependency bumps the tree's ``tree_version`` (the budget tree's
    critical flags, docs/design.md §5).

    Raises:
        NotFound, Forbidden,
        NotFound: either item unknown (or not visible);
        ValidationFailed: under ``predecessor_id``: itself, or of another
            PPA's WBS; ``DependencyCycle`` (422, ``cycle``): it would
            close a cycle, named in dependency order.
    """
    with transaction() as session:
        _, ppa, root_id = _item_and_ppa(user, item_id)
        session.scalar(select(Ppa.id).where(Ppa.id == ppa.id).with_for_update())
        require_tree_editor(user, ppa)
        if predecessor_id == item_id:
            raise ValidationFailed({"predecessor_id": ["a work item cannot depend on itself"]})
        other_root = session.scalar(select(func.coalesce(ITEMS.c.root_id, ITEMS.c.id))
                                    .where(ITEMS.c.id == predecessor_id))
        if other_root is None:
            raise NotFound(f"work item {predecessor_id} not found")
        if other_root != root_id:
            raise ValidationFailed({"predecessor_id": [(
                f"work item {predecessor_id} belongs to another PPA's work-breakdown structure; dependencies link "
                "work items of one PPA")]})
        pairs = _pairs(session, root_id)
        if (predecessor_id, item_id) not in pairs:
            ids = {i for pair in pairs for i in pair} | {item_id, predecessor_id}
            cp.dependency_order(ids, [*pairs, (predecessor_id, item_id)])  # raises DependencyCycle
            session.add(WorkItemDependency(root_id=root_id, predecessor_id=predecessor_id, successor_id=item_id,
                                           created_by_id=user.id))
            session.flush()
            bump_tree_version(session, root_id)  # the tree's critical flags (docs/design.md §5)
    return list_dependencies(user, item_id)


def remove_dependency(user: User, item_id: int, predecessor_id: int) -> None:
    """Remove the dependency of ``item_id`` on ``predecessor_id``;
    idempotent (removing one that is not there changes nothing). A removal
    bumps the tree's ``tree_version``, as ``add_dependency`` does.

    Raises:
        NotFound: unknown item, or its PPA not visible; Forbidden.
    """
    with transaction() as session:
        _, ppa, root_id = _item_and_ppa(user, item_id)
        require_tree_editor(user, ppa)
        row = session.scalar(select(WorkItemDependency).where(WorkItemDependency.successor_id == item_id,
                                                              WorkItemDependency.predecessor_id == predecessor_id))
        if row is not None:
            session.delete(row)
            bump_tree_version(session, root_id)  # the tree's critical flags (docs/design.md §5)


def _pairs(session, root_id: int) -> list[tuple[int, int]]:
    return [tuple(r) for r in session.execute(
        select(WorkItemDependency.predecessor_id, WorkItemDependency.successor_id)
        .where(WorkItemDependency.root_id == root_id)).all()]


def _scheduled_items(session, tree, root_id: int, pairs) -> list[tuple[int, date, date]]:
    """``(id, start, due)`` of what the schedule covers now: the
    not-cancelled leaves with both dates, and any dated item in a dependency."""
    rows = session.execute(select(ITEMS.c.id, ITEMS.c.start_date, ITEMS.c.due_date).where(in_tree(root_id))).all()
    leaves = {n.id for n in tree.preorder() if not n.children and n.status != CANCELLED}
    linked = {i for pair in pairs for i in pair}
    return [(i, s, d) for i, s, d in rows if s is not None and d is not None and (i in leaves or i in linked)]


def _schedule(dated, pairs) -> cp.Schedule:
    ids = {i for i, _, _ in dated}
    return cp.schedule(cp.activities_from_work_items(dated), [(p, s) for p, s in pairs if p in ids and s in ids])


def _slips(session, ppa: Ppa, tree) -> list[cp.Slip]:
    """The critical items of the baseline's schedule (the baselined leaves'
    dates, today's dependencies) that now finish later; none without dated work."""
    _, rows = _baseline_rows(session, ppa)
    parents = {r.parent_id for r in rows}
    pairs = _pairs(session, ppa.execution_project_id)
    planned = [(r.work_item_id, r.start_date, r.due_date) for r in rows
               if r.work_item_id not in parents and r.start_date is not None and r.due_date is not None]
    current = _scheduled_items(session, tree, ppa.execution_project_id, pairs)
    if not planned or not current:
        return []
    return cp.slipped_critical_items(_schedule(planned, pairs), _schedule(current, pairs))


def critical_path(user: User, ppa_id: int) -> dict[str, Any]:
    """The PPA's schedule over its dated leaf work items and their
    dependencies (``workflow.critical_path.schedule``): early and late
    dates, total and free float, the critical items and paths.

    Raises:
        NotFound; Conflict ``not_tracked``; ValidationFailed (no dated item).
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    root_id = _require_tracked(ppa)
    tree = load_tree(root_id)
    pairs = _pairs(db.session, root_id)
    dated = _scheduled_items(db.session, tree, root_id, pairs)
    if not dated:
        raise ValidationFailed({"work_items": ["no work item has both a start and a due date to schedule"]})
    plan = _schedule(dated, pairs)
    titles = {n.id: n.title for n in tree.preorder()}
    return {
        "ppa_id": ppa.id, "project_start": plan.project_start, "project_finish": plan.project_finish,
        "duration_days": plan.duration_days, "critical_paths": [list(p) for p in plan.critical_paths],
        "dependencies": [{"predecessor_id": p, "successor_id": s} for p, s in sorted(pairs)],
        "items": [{"work_item_id": i.id, "title": titles.get(i.id, ""), "duration": i.duration,
                   "early_start": i.early_start, "early_finish": i.early_finish, "late_start": i.late_start,
                   "late_finish": i.late_finish, "total_float": i.total_float, "free_float": i.free_float,
                   "critical": i.critical} for i in plan.items.values()],
    }


# -- the budget tree's per-node figures (docs/design.md §5, §15) ----------------

#: What ``GET .../budget_allocation_tree/?include=`` may add to every node.
EARNED_VALUE, CRITICAL_PATH = "earned_value", "critical_path"
TREE_FIGURES = (CRITICAL_PATH, EARNED_VALUE)


def tree_figures(ppa: Ppa, tree, day: date, include: Collection[str], *, in_chain: bool) -> dict[int, dict[str, Any]]:
    """What the budget tree's nodes carry beside their own figures when a
    reader asks for them (``include``), by work item id, for every node of
    ``tree`` (the PPA's loaded, rolled-up tree: not read again). Read-only,
    and a fixed number of statements whatever the size of the tree (at most
    five: the baseline, its items or the plan, the disbursements after
    ``day``, the dependencies, the items' dates).

    - ``earned_value``: ``{"pv", "ev", "ac"}`` (PHP strings) and ``{"spi",
      "cpi"}`` (4-decimal strings, ``None`` when undefined) as of the end of
      ``day``, the node's figures of ``earned_value`` (``_measure_loaded``,
      the same computation). ``None`` for a node the baseline does not hold
      (added after it), and for every node when there is nothing to
      measure without a write — an enacted PPA without a stored baseline,
      which ``earned_value`` would capture late — or when the core refuses
      the baseline (``earned_value`` answers 422 then).
    - ``critical_path``: ``critical`` (bool) and ``total_float_days``
      (calendar days; ``None`` for an item the schedule does not hold) as
      ``critical_path`` computes them; every node not critical when
      nothing is dated.

    Args:
        day: the as-of day (the tree's: ``calendar.today()``).
        include: names of ``TREE_FIGURES``.
        in_chain: the PPA is in the money chain (as read with it).

    Returns:
        ``{work item id: {"earned_value": figures | None, "critical": bool,
        "total_float_days": int | None}}``, with the keys of what was asked.
    """
    out: dict[int, dict[str, Any]] = {node.id: {} for node in tree.preorder()}
    if EARNED_VALUE in include:
        values = _tree_earned_value(ppa, tree, day, in_chain)
        for node_id, extras in out.items():
            extras[EARNED_VALUE] = values.get(node_id)
    if CRITICAL_PATH in include:
        items = _tree_schedule(tree)
        for node_id, extras in out.items():
            item = items.get(node_id)
            extras["critical"] = bool(item is not None and item.critical)
            extras["total_float_days"] = None if item is None else item.total_float
    return out


def _tree_earned_value(ppa: Ppa, tree, day: date, in_chain: bool) -> dict[int, dict[str, str | None]]:
    session = db.session
    readable = _readable_baseline(session, ppa)
    if readable is None:
        return {}
    later = disbursed_by_item(ppa, after=day) if in_chain else {}
    try:
        _, results = _measure_loaded(readable[1], tree, later, day)
    except ValidationFailed:
        return {}
    # Money straight from the centavos: the strings format_amount makes of the same figures, without a Decimal.
    return {node: {"pv": format_centavos(f.pv_centavos), "ev": format_centavos(f.ev_centavos),
                   "ac": format_centavos(f.ac_centavos), "spi": _ratio(f.spi), "cpi": _ratio(f.cpi)}
            for node, f in results.items()}


def _tree_schedule(tree) -> dict[int, cp.ScheduledItem]:
    root_id = tree.root.id
    pairs = _pairs(db.session, root_id)
    dated = _scheduled_items(db.session, tree, root_id, pairs)
    if not dated:
        return {}
    try:
        return dict(_schedule(dated, pairs).items)
    except ValidationFailed:  # a cycle the writes refuse: nothing to schedule
        return {}
