"""Dependencies and the critical path (issue 16 §4): a worked example, the
calendar-day convention, cycles named, and the method against a brute-force
longest path on random dependency graphs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.critical_path import (
    Activity,
    DependencyCycle,
    activities_from_work_items,
    dependency_order,
    schedule,
    slipped_critical_items,
)
from workflow.errors import ValidationFailed

MONDAY = date(2026, 3, 2)


def worked_example():
    """Six items: A, then B and C; D after B; E after C; F after D and E."""
    a, b, c, d, e, f = 1, 2, 3, 4, 5, 6
    activities = [Activity(a, 3), Activity(b, 4), Activity(c, 2), Activity(d, 5), Activity(e, 3), Activity(f, 2)]
    dependencies = [(a, b), (a, c), (b, d), (c, e), (d, f), (e, f)]
    return activities, dependencies


def test_worked_example_has_the_textbook_dates_floats_and_critical_path():
    activities, dependencies = worked_example()

    plan = schedule(activities, dependencies, project_start=MONDAY)

    # Forward pass: A 0-3, B 3-7, C 3-5, D 7-12, E 5-8, F 12-14; backward pass from day 14.
    assert plan.duration_days == 14
    assert plan.project_finish == date(2026, 3, 15)
    assert {i: s.total_float for i, s in plan.items.items()} == {1: 0, 2: 0, 3: 4, 4: 0, 5: 4, 6: 0}
    assert {i: s.free_float for i, s in plan.items.items()} == {1: 0, 2: 0, 3: 0, 4: 0, 5: 4, 6: 0}
    assert plan.critical_paths == ((1, 2, 4, 6),)
    assert plan.critical_ids == [1, 2, 4, 6]
    b, c = plan.items[2], plan.items[3]
    assert (b.early_start, b.early_finish) == (date(2026, 3, 5), date(2026, 3, 8))  # 4 days, both ends counted
    assert (c.early_start, c.early_finish) == (date(2026, 3, 5), date(2026, 3, 6))
    assert (c.late_start, c.late_finish) == (date(2026, 3, 9), date(2026, 3, 10))  # may slip 4 days
    assert plan.items[6].late_finish == plan.project_finish


def test_successor_starts_the_day_after_its_predecessor_is_due():
    plan = schedule(activities_from_work_items([(1, date(2026, 1, 5), date(2026, 1, 5)),
                                                (2, date(2026, 1, 5), date(2026, 1, 9))]), [(1, 2)])

    assert plan.items[1].duration == 1
    assert plan.items[2].early_start == date(2026, 1, 6)
    assert plan.items[2].early_finish == date(2026, 1, 10)  # pushed one day by item 1


def test_a_planned_start_is_a_start_no_earlier_than():
    plan = schedule([Activity(1, 2, date(2026, 1, 1)), Activity(2, 3, date(2026, 1, 10))], [(1, 2)])

    assert plan.items[2].early_start == date(2026, 1, 10)
    assert plan.items[1].total_float == 7  # item 1 may slip until the day before item 2's own start
    assert plan.critical_paths == ((2,),)


def test_two_equally_long_chains_are_both_critical_paths():
    plan = schedule([Activity(1, 1), Activity(2, 5), Activity(3, 5), Activity(4, 1)],
                    [(1, 2), (1, 3), (2, 4), (3, 4)], project_start=MONDAY)

    assert plan.critical_paths == ((1, 2, 4), (1, 3, 4))


def test_a_deadline_before_the_finish_gives_negative_float_on_the_critical_path():
    activities, dependencies = worked_example()

    plan = schedule(activities, dependencies, project_start=MONDAY, deadline=date(2026, 3, 13))

    assert plan.items[1].total_float == -2
    assert plan.items[3].total_float == 2
    assert plan.critical_ids == [1, 2, 4, 6]


def test_a_milestone_takes_no_day():
    plan = schedule([Activity(1, 3), Activity(2, 0), Activity(3, 2)], [(1, 2), (2, 3)], project_start=MONDAY)

    milestone = plan.items[2]
    assert milestone.early_start == milestone.early_finish == date(2026, 3, 5)
    assert plan.items[3].early_start == date(2026, 3, 5)
    assert plan.duration_days == 5


def test_a_cycle_is_refused_with_its_items_named_in_order():
    with pytest.raises(DependencyCycle) as refused:
        schedule([Activity(i, 1) for i in (5, 7, 9, 11)], [(11, 5), (5, 9), (9, 7), (7, 5)], project_start=MONDAY)

    assert refused.value.cycle == (5, 9, 7)
    assert refused.value.extra["cycle"] == [5, 9, 7]
    assert "5 → 9 → 7 → 5" in refused.value.errors["dependencies"][0]


def test_a_new_dependency_that_closes_a_loop_is_refused_naming_the_loop():
    existing = [(1, 2), (2, 3), (3, 4)]
    assert dependency_order([1, 2, 3, 4], existing) == (1, 2, 3, 4)

    with pytest.raises(DependencyCycle) as refused:
        dependency_order([1, 2, 3, 4], existing + [(4, 2)])

    assert refused.value.cycle == (2, 3, 4)


def test_an_item_depending_on_itself_is_a_cycle_of_one():
    with pytest.raises(DependencyCycle) as refused:
        dependency_order([1, 2], [(2, 2)])

    assert refused.value.cycle == (2,)


def test_unknown_items_and_bad_dates_are_named():
    with pytest.raises(ValidationFailed) as unknown:
        dependency_order([1, 2], [(1, 3)])
    assert unknown.value.errors == {"dependencies": ["work item 3 is not part of this schedule"]}

    with pytest.raises(ValidationFailed) as dates:
        activities_from_work_items([(1, None, date(2026, 1, 1)), (2, date(2026, 1, 2), date(2026, 1, 1))])
    assert set(dates.value.errors) == {"work_items.1", "work_items.2"}


def test_a_critical_item_that_slips_raises_an_alert_with_its_days():
    activities, dependencies = worked_example()
    baseline = schedule(activities, dependencies, project_start=MONDAY)
    slipped = [Activity(2, 6) if a.id == 2 else a for a in activities]  # B takes 2 days more
    late = [Activity(3, 5) if a.id == 3 else a for a in activities]  # C takes 3 more: within its float

    slips = slipped_critical_items(baseline, schedule(slipped, dependencies, project_start=MONDAY))

    assert [(s.id, s.days) for s in slips] == [(2, 2), (4, 2), (6, 2)]
    assert slipped_critical_items(baseline, schedule(late, dependencies, project_start=MONDAY)) == []


# -- against brute force -----------------------------------------------------


@st.composite
def random_dags(draw):
    """Up to 8 items; edges only from a lower to a higher index (so acyclic),
    shuffled ids; durations 0-9 days; some planned starts; maybe a deadline."""
    n = draw(st.integers(min_value=1, max_value=8))
    ids = draw(st.permutations(range(100, 100 + n)))
    durations = draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    leads = draw(st.lists(st.one_of(st.none(), st.integers(0, 12)), min_size=n, max_size=n))
    edges = [(ids[i], ids[j]) for i in range(n) for j in range(i + 1, n) if draw(st.booleans())]
    extra = draw(st.one_of(st.none(), st.integers(-5, 5)))
    return ids, durations, leads, edges, extra


def all_paths(ids, edges):
    """Every path of the graph (each at least one item), by enumeration."""
    successors = {i: [b for a, b in edges if a == i] for i in ids}
    paths, stack = [], [(i,) for i in ids]
    while stack:
        path = stack.pop()
        paths.append(path)
        stack.extend(path + (s,) for s in successors[path[-1]])
    return paths


@settings(max_examples=300, deadline=None)
@given(random_dags())
def test_the_critical_path_method_agrees_with_brute_force_longest_paths(dag):
    ids, durations, leads, edges, extra = dag
    duration = dict(zip(ids, durations, strict=True))
    lead = {i: x or 0 for i, x in zip(ids, leads, strict=True)}
    paths = all_paths(ids, edges)

    def length(path):  # a path starts at its first item's planned start
        return lead[path[0]] + sum(duration[i] for i in path)

    longest = max(length(p) for p in paths)
    deadline = None if extra is None else MONDAY + timedelta(days=longest + extra - 1)
    activities = [Activity(i, duration[i], None if x is None else MONDAY + timedelta(days=x))
                  for i, x in zip(ids, leads, strict=True)]

    plan = schedule(activities, edges, project_start=MONDAY, deadline=deadline)

    assert plan.duration_days == longest
    horizon = longest if extra is None else longest + extra
    for i in ids:
        ending_here = max(length(p) for p in paths if p[-1] == i)
        through = max(length(p) for p in paths if i in p)
        item = plan.items[i]
        assert (item.early_start - MONDAY).days == ending_here - duration[i]
        assert item.total_float == horizon - through
        assert item.critical == (through == longest)
    if not any(leads) and extra is None:
        sources = {i for i in ids if not any(b == i for _, b in edges)}
        sinks = {i for i in ids if not any(a == i for a, _ in edges)}
        brute = {p for p in paths if p[0] in sources and p[-1] in sinks and length(p) == longest}
        assert set(plan.critical_paths) == brute
        assert not plan.paths_truncated


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2, max_value=7), st.data())
def test_any_closed_loop_is_named_with_the_loop_itself(n, data):
    ids = data.draw(st.permutations(range(1, n + 1)))
    loop = ids[: data.draw(st.integers(min_value=1, max_value=n))]
    edges = [(loop[k], loop[(k + 1) % len(loop)]) for k in range(len(loop))]
    edges += [(ids[k], ids[k + 1]) for k in range(len(loop), n - 1)]

    with pytest.raises(DependencyCycle) as refused:
        dependency_order(range(1, n + 1), data.draw(st.permutations(edges)))

    cycle = refused.value.cycle
    assert set(cycle) == set(loop)
    assert all((cycle[k], cycle[(k + 1) % len(cycle)]) in edges for k in range(len(cycle)))
