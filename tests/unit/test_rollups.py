"""Stored rollups kept along the ancestor path (``workflow.rollups``;
docs/design.md §4, "Stored rollups"): after any change to one item's own
fields, or a new child, updating only its ancestors gives exactly what a
fold of the whole tree from scratch gives; and the fold gives what the
definitions give, computed by plain recursion."""

from __future__ import annotations

import copy
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import shipped_rules
from workflow.rollups import Aggregate, Item, Method, fold, rolled_progress, settle_path, share
from workflow.tree import machine_method

RULES = shipped_rules()
STATUSES = sorted(RULES.work_item_status.states)
METHODS = ("average", "budget_weighted", "completed_count")


@st.composite
def trees(draw):
    """A random tree of 1–40 items (parents before children), its fields random."""
    size = draw(st.integers(1, 40))
    items = []
    for i in range(size):
        parent = None if i == 0 else draw(st.integers(0, i - 1))
        level = 0 if parent is None else items[parent].level + 1
        items.append(Item(i, parent, level, draw(st.sampled_from(STATUSES)), draw(st.integers(0, 100)),
                          draw(st.one_of(st.none(), st.integers(0, 10**9))), draw(st.integers(0, 10**7))))
    return items


def ancestors(items: list[Item], item_id: int) -> list[int]:
    out, current = [], item_id
    while current is not None:
        out.append(current)
        current = items[current].parent_id
    return out


def encoded(items: list[Item], method: Method) -> dict[int, tuple]:
    return {i.id: (i.status, i.agg.encode(), rolled_progress(i, method.progress)) for i in items}


@settings(max_examples=150)
@given(items=trees(), method_name=st.sampled_from(METHODS), follow=st.booleans(), data=st.data())
def test_settling_the_ancestor_path_equals_folding_the_whole_tree(items, method_name, follow, data):
    method = machine_method(RULES.work_item_status, method_name, follow=follow)
    fold(items, method)
    target = data.draw(st.integers(0, len(items) - 1))
    path = {i: items[i] for i in ancestors(items, target)}
    before = {i: share(item, method, keep=True) for i, item in path.items()}
    changed = items[target]
    field = data.draw(st.sampled_from(["status", "progress", "allocated", "spent"]))
    if field == "status":
        changed.status = data.draw(st.sampled_from(STATUSES))
    elif field == "progress":
        changed.progress = data.draw(st.integers(0, 100))
    elif field == "allocated":
        changed.allocated = data.draw(st.one_of(st.none(), st.integers(0, 10**9)))
    else:
        changed.spent = data.draw(st.integers(0, 10**7))
    expected = copy.deepcopy(items)

    settle_path(path, before, method)
    fold(expected, method)

    assert encoded(items, method) == encoded(expected, method)


@settings(max_examples=100)
@given(items=trees(), method_name=st.sampled_from(METHODS), data=st.data())
def test_a_new_child_settles_along_its_parents_path_as_a_fold_would(items, method_name, data):
    method = machine_method(RULES.work_item_status, method_name)
    fold(items, method)
    parent = data.draw(st.integers(0, len(items) - 1))
    child = Item(len(items), parent, items[parent].level + 1, RULES.work_item_status.initial, 0, None, 0)
    path = {i: items[i] for i in ancestors(items, parent)}
    before = {i: share(item, method, keep=True) for i, item in path.items()}
    items.append(child)
    path[child.id] = child
    expected = copy.deepcopy(items)

    settle_path(path, before, method)
    fold(expected, method)

    assert encoded(items, method) == encoded(expected, method)


@settings(max_examples=100)
@given(items=trees(), method_name=st.sampled_from(METHODS))
def test_an_aggregate_reads_back_as_it_was_stored(items, method_name):
    fold(items, machine_method(RULES.work_item_status, method_name))
    for item in items:
        assert Aggregate.decode(item.agg.encode()) == item.agg


def brute_force(items: list[Item], method_name: str) -> dict[int, tuple[int, Fraction]]:
    """``(expended, progress)`` per item, by plain recursion from the
    definitions of docs/design.md §4 (independent of ``workflow.rollups``)."""
    children: dict[int, list[Item]] = {}
    for item in items:
        if item.parent_id is not None:
            children.setdefault(item.parent_id, []).append(item)

    def expended(item: Item) -> int:
        return item.spent + sum(expended(c) for c in children.get(item.id, []))

    def progress(item: Item) -> Fraction:
        counted = [c for c in children.get(item.id, []) if c.status != "cancelled"]
        if not counted:
            return Fraction(100 if item.status == "completed" else item.progress)
        if method_name == "completed_count":
            return Fraction(100 * sum(c.status == "completed" for c in counted), len(counted))
        weighted = [c for c in counted if c.allocated]
        if method_name == "budget_weighted" and weighted:
            return sum(progress(c) * c.allocated for c in weighted) / sum(c.allocated for c in weighted)
        return sum(progress(c) for c in counted) / len(counted)

    return {item.id: (expended(item), progress(item)) for item in items}


@settings(max_examples=100)
@given(items=trees(), method_name=st.sampled_from(METHODS))
def test_the_fold_gives_what_the_definitions_give(items, method_name):
    expected = brute_force(items, method_name)
    fold(items, Method(method_name, RULES.work_item_status.initial))
    for item in items:
        assert (item.spent + item.agg.children_expended, rolled_progress(item, method_name)) == expected[item.id]


def test_rollups_stored_under_another_status_roll_up_are_not_current():
    follows = machine_method(RULES.work_item_status, "average")
    stays = machine_method(RULES.work_item_status, "average", follow=False)
    weighted = machine_method(RULES.work_item_status, "budget_weighted")
    assert len({follows.key, stays.key, weighted.key}) == 3
    assert follows.key == machine_method(RULES.work_item_status, "average").key
