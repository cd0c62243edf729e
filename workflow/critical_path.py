"""Finish-to-start dependencies between work items and the critical path
(issue 16 §4, seed 001 §9.3). Pure: the caller loads the items and their
dependencies, calls ``schedule`` and saves or shows the result.

The convention, in calendar days (weekends and holidays are working days
here; business-day calendars are the job of ``workflow.calendar``):

- A work item's **duration** counts both its start and its due date: an item
  from 1 March to 3 March lasts 3 days. An item of 0 days is a milestone.
- Times are whole-day offsets from the **project start** (day 0). An item
  with early start ``ES`` and early finish ``EF = ES + duration`` works on
  days ``ES .. EF - 1``; as dates its start is ``project_start + ES`` and its
  finish (last working day, the due date) is ``project_start + EF - 1``. A
  milestone's finish is its start.
- **Finish-to-start**: a successor starts at the earliest on the day after
  its predecessor's last day (``ES(successor) >= EF(predecessor)``).
- An item's own planned start date, when given, is a *start no earlier
  than* constraint: the plan is never moved earlier than its author put it.
- Late dates count back from the project finish, or from a ``deadline``
  when one is given (then floats may be negative). Total float =
  ``LS - ES``; free float = the earliest successor start ``- EF`` (the
  project finish for an item without successors).
- **Critical** items are those with the least total float (0 when there is no
  deadline). A **critical path** is a chain of critical items, each starting
  the day after the previous one finishes, from one that nothing critical
  drives to one that drives nothing critical. Without planned starts and
  deadlines its durations add up to the project's length: it is a longest
  path through the dependency graph.

Cycles are refused with the cycle named, ids in dependency order.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from workflow.errors import ValidationFailed

#: At most this many critical paths are listed by default (a graph can have
#: exponentially many; ``Schedule.paths_truncated`` says when some were left out).
MAX_PATHS = 100


class DependencyCycle(ValidationFailed):
    """Dependencies that go round in a circle (422).

    Attributes:
        cycle: the work item ids in dependency order, starting at the smallest
            id: ``(3, 5, 7)`` means 3 before 5, 5 before 7 and 7 before 3.
    """

    code = "dependency_cycle"
    title = "Dependencies form a cycle"

    def __init__(self, cycle: Iterable[int]):
        ids = list(cycle)
        start = ids.index(min(ids))
        self.cycle = tuple(ids[start:] + ids[:start])
        chain = " → ".join(str(i) for i in (*self.cycle, self.cycle[0]))
        super().__init__({"dependencies": [
            f"work items {chain} form a cycle: each would have to finish before itself starts"]},
            cycle=list(self.cycle))


@dataclass(frozen=True, slots=True)
class Activity:
    """One work item to schedule.

    Attributes:
        id: the work item id.
        duration: calendar days, start and due date both counted (>= 0).
        earliest_start: its planned start date (start no earlier than), or
            ``None`` when only its predecessors decide.
    """

    id: int
    duration: int
    earliest_start: date | None = None


@dataclass(frozen=True, slots=True)
class ScheduledItem:
    """One work item's place in the schedule.

    Attributes:
        id, duration: as given (days).
        early_start, early_finish: the earliest first and last working days.
        late_start, late_finish: the latest first and last days that do not
            delay the project (or miss the deadline).
        total_float: days it can slip without delaying the project (negative
            when a deadline cannot be met).
        free_float: days it can slip without delaying any successor.
        critical: it has the least total float of all items.
    """

    id: int
    duration: int
    early_start: date
    early_finish: date
    late_start: date
    late_finish: date
    total_float: int
    free_float: int
    critical: bool


@dataclass(frozen=True, slots=True)
class Schedule:
    """The result of ``schedule``.

    Attributes:
        project_start: day 0.
        project_finish: the last working day of the project (its early finish).
        duration_days: the project's length in days (the longest path).
        items: id -> ``ScheduledItem``, in the order the activities were given.
        order: the ids in a dependency order (every predecessor first).
        critical_paths: each a tuple of ids, predecessor first; at most
            ``max_paths`` of them.
        paths_truncated: some critical paths were left out.
    """

    project_start: date
    project_finish: date
    duration_days: int
    items: dict[int, ScheduledItem]
    order: tuple[int, ...]
    critical_paths: tuple[tuple[int, ...], ...]
    paths_truncated: bool

    @property
    def critical_ids(self) -> list[int]:
        """The critical items' ids, in dependency order."""
        return [i for i in self.order if self.items[i].critical]


@dataclass(frozen=True, slots=True)
class Slip:
    """A critical item that finishes later than its baseline (a schedule
    variance alert, issue 16 §4).

    Attributes:
        id: the work item.
        baseline_finish, current_finish: its early finish then and now.
        days: how many days later (> 0).
    """

    id: int
    baseline_finish: date
    current_finish: date
    days: int


def activities_from_work_items(rows: Iterable[tuple[int, date | None, date | None]]) -> list[Activity]:
    """Activities from work items' planned dates.

    Args:
        rows: ``(id, start_date, due_date)`` per work item.

    Returns:
        One ``Activity`` per row, lasting from its start to its due date
        (both counted) and starting no earlier than its start date.

    Raises:
        ValidationFailed: under ``work_items.<id>``, an item without both
            dates or due before it starts.
    """
    activities, errors = [], {}
    for item_id, start, due in rows:
        if start is None or due is None:
            errors[f"work_items.{item_id}"] = ["needs a start and a due date to be scheduled"]
        elif due < start:
            errors[f"work_items.{item_id}"] = [f"is due ({due}) before it starts ({start})"]
        else:
            activities.append(Activity(item_id, (due - start).days + 1, start))
    if errors:
        raise ValidationFailed(errors)
    return activities


def dependency_order(item_ids: Iterable[int], dependencies: Iterable[tuple[int, int]]) -> tuple[int, ...]:
    """The item ids in an order where every predecessor comes first.

    Args:
        item_ids: every work item that may take part.
        dependencies: ``(predecessor, successor)`` pairs, finish-to-start.

    Raises:
        ValidationFailed: a dependency names an unknown item.
        DependencyCycle: the dependencies go round in a circle (an item
            depending on itself is a cycle of one).
    """
    ids = list(item_ids)
    predecessors = _predecessors(ids, dependencies)
    return _topological(ids, predecessors)


def schedule(activities: Iterable[Activity], dependencies: Iterable[tuple[int, int]], *,
             project_start: date | None = None, deadline: date | None = None,
             max_paths: int = MAX_PATHS) -> Schedule:
    """Early and late dates, floats and critical paths (the critical path
    method, forward and backward pass over a dependency order).

    Args:
        activities: the work items to schedule (ids unique).
        dependencies: ``(predecessor, successor)`` pairs, finish-to-start;
            duplicates are harmless.
        project_start: day 0; by default the earliest ``earliest_start``.
            Items are never scheduled before it.
        deadline: when given, the last day the project may work on; late
            dates and floats count back from it instead of the project finish.
        max_paths: list at most this many critical paths.

    Returns:
        A ``Schedule`` (see the module's conventions).

    Raises:
        ValidationFailed: a duplicate id, a negative duration, a dependency
            naming an unknown item, or no ``project_start`` and no dates.
        DependencyCycle: the dependencies go round in a circle.
    """
    acts = list(activities)
    errors: dict[str, list[str]] = {}
    by_id: dict[int, Activity] = {}
    for act in acts:
        if act.id in by_id:
            errors[f"work_items.{act.id}"] = ["appears twice"]
        if act.duration < 0:
            errors[f"work_items.{act.id}"] = ["has a negative duration"]
        by_id[act.id] = act
    if project_start is None:
        starts = [a.earliest_start for a in acts if a.earliest_start is not None]
        if starts:
            project_start = min(starts)
        elif acts:
            errors["project_start"] = ["needed when no work item has a start date"]
        else:
            project_start = date.min
    if errors:
        raise ValidationFailed(errors)
    ids = list(by_id)
    predecessors = _predecessors(ids, dependencies)
    order = _topological(ids, predecessors)
    successors: dict[int, list[int]] = {i: [] for i in ids}
    for item_id in ids:
        for p in predecessors[item_id]:
            successors[p].append(item_id)

    # Forward pass: earliest start = the latest of its own planned start and its predecessors' finishes.
    es: dict[int, int] = {}
    ef: dict[int, int] = {}
    for i in order:
        act = by_id[i]
        start = 0 if act.earliest_start is None else max(0, (act.earliest_start - project_start).days)
        for p in predecessors[i]:
            if ef[p] > start:
                start = ef[p]
        es[i], ef[i] = start, start + act.duration
    finish = max(ef.values(), default=0)
    horizon = finish if deadline is None else (deadline - project_start).days + 1

    # Backward pass: latest finish = the earliest of its successors' latest starts.
    ls: dict[int, int] = {}
    lf: dict[int, int] = {}
    for i in reversed(order):
        lf[i] = min((ls[s] for s in successors[i]), default=horizon)
        ls[i] = lf[i] - by_id[i].duration
    least_float = min((ls[i] - es[i] for i in ids), default=0)

    def day(offset: int) -> date:
        return project_start + timedelta(days=offset)

    items = {}
    for i in ids:
        total_float = ls[i] - es[i]
        free_float = min((es[s] for s in successors[i]), default=finish) - ef[i]
        duration = by_id[i].duration
        items[i] = ScheduledItem(
            id=i, duration=duration, early_start=day(es[i]), early_finish=day(ef[i] - 1 if duration else es[i]),
            late_start=day(ls[i]), late_finish=day(lf[i] - 1 if duration else ls[i]),
            total_float=total_float, free_float=free_float, critical=total_float == least_float)
    critical = {i for i in ids if items[i].critical}
    paths, truncated = _critical_paths(order, critical, predecessors, successors, es, ef, max_paths)
    return Schedule(project_start=project_start, project_finish=day(finish - 1 if finish else 0),
                    duration_days=finish, items=items, order=order, critical_paths=paths,
                    paths_truncated=truncated)


def slipped_critical_items(baseline: Schedule, current: Schedule) -> list[Slip]:
    """Critical items of the baseline schedule that now finish later (the
    schedule-variance alert of issue 16 §4).

    Args:
        baseline: the schedule as planned (e.g. at enactment).
        current: the schedule from today's dates.

    Returns:
        One ``Slip`` per baseline-critical item still scheduled whose early
        finish moved later, in the baseline's dependency order.
    """
    slips = []
    for item_id in baseline.critical_ids:
        now = current.items.get(item_id)
        then = baseline.items[item_id]
        if now is not None and now.early_finish > then.early_finish:
            slips.append(Slip(item_id, then.early_finish, now.early_finish,
                              (now.early_finish - then.early_finish).days))
    return slips


# -- internals ---------------------------------------------------------------


def _predecessors(ids: list[int], dependencies: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    """id -> its distinct predecessors, refusing unknown ids and self-loops."""
    known = set(ids)
    predecessors: dict[int, list[int]] = {i: [] for i in ids}
    seen: set[tuple[int, int]] = set()
    errors: dict[str, list[str]] = {}
    for pair in dependencies:
        before, after = pair
        for end in (before, after):
            if end not in known:
                errors.setdefault("dependencies", []).append(f"work item {end} is not part of this schedule")
        if before == after and before in known:
            raise DependencyCycle([before])
        if pair not in seen and before in known and after in known:
            seen.add(pair)
            predecessors[after].append(before)
    if errors:
        raise ValidationFailed(errors)
    return predecessors


def _topological(ids: list[int], predecessors: Mapping[int, list[int]]) -> tuple[int, ...]:
    """A dependency order (graphlib), or ``DependencyCycle`` naming one cycle."""
    sorter = graphlib.TopologicalSorter({i: predecessors[i] for i in ids})
    try:
        return tuple(sorter.static_order())
    except graphlib.CycleError as error:
        # graphlib reports [a, b, ..., a], each node followed by one that depends on it.
        raise DependencyCycle(error.args[1][:-1]) from None


def _critical_paths(order, critical, predecessors, successors, es, ef, max_paths):
    """Chains of critical items linked by driving dependencies (the successor
    starts exactly when the predecessor finishes), depth first."""
    def driving_successors(i):
        return [s for s in successors[i] if s in critical and es[s] == ef[i]]

    starts = [i for i in order if i in critical
              and not any(p in critical and ef[p] == es[i] for p in predecessors[i])]
    paths: list[tuple[int, ...]] = []
    for first in starts:
        stack = [(first, (first,))]
        while stack:
            node, path = stack.pop()
            nexts = driving_successors(node)
            if not nexts:
                if len(paths) == max_paths:
                    return tuple(paths), True
                paths.append(path)
                continue
            stack.extend((s, path + (s,)) for s in reversed(nexts))
    return tuple(paths), False
