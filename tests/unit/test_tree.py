"""The pure WBS core: generation plans, one-pass rollups, reallocation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.support import shipped_rules
from workflow.rollups import encode_exact
from workflow.tree import (
    Node,
    Tree,
    envelope_violations,
    machine_method,
    overspent,
    reallocate,
    roll_up,
    settle_reallocation,
    settle_tree,
    status_counts,
    unallocated,
)
from workflow.wbs import lay_out_dates, plan_wbs

RULES = shipped_rules()


def test_activity_plan_splits_five_million_like_the_seeds_at_every_level():
    plan = plan_wbs(RULES.wbs.templates["activity"], title="Halal", budget=500_000_000,
                    start=date(2025, 1, 1), end=date(2025, 12, 31))

    by_level = {level: [p.allocated for p in plan if p.level == level] for level in (0, 1, 2)}
    assert by_level[0] == [500_000_000]
    assert by_level[1] == [75_000_000, 375_000_000, 50_000_000]
    assert by_level[2] == [37_500_000, 37_500_000, 300_000_000, 75_000_000, 30_000_000, 20_000_000]
    assert [p.parent_ref for p in plan[:4]] == [None, 0, 1, 1]


def test_plan_of_an_odd_budget_still_sums_exactly_per_level():
    plan = plan_wbs(RULES.wbs.templates["program"], title="P", budget=100_000_003, start=None, end=None)

    for parent in plan:
        children = [p.allocated for p in plan if p.parent_ref == parent.ref]
        assert not children or sum(children) == parent.allocated


def test_dates_tile_the_range_even_when_a_share_rounds_to_no_day():
    ranges = lay_out_dates(date(2025, 1, 1), date(2025, 1, 3), [Decimal(90), Decimal(5), Decimal(5)])

    assert ranges == [(date(2025, 1, 1), date(2025, 1, 3)), (date(2025, 1, 3), date(2025, 1, 3)),
                      (date(2025, 1, 3), date(2025, 1, 3))]


def small_tree(statuses=("not_started", "completed", "cancelled")) -> Tree:
    nodes = [Node(1, None, 0, "project", "P", 0, "not_started", 0, 1000, 10)]
    nodes += [Node(10 + i, 1, i, "task", f"T{i}", 1, s, 40, 300, 100 * i) for i, s in enumerate(statuses)]
    return Tree(nodes)


def test_rollup_counts_completed_as_100_and_leaves_cancelled_out():
    tree = roll_up(small_tree())

    assert tree.root.rolled_progress == 70  # (40 + 100) / 2
    assert tree.root.expended == 10 + 0 + 100 + 200
    assert tree.root.allocated == 1000  # own allocation, never the children's sum


def test_budget_weighted_and_completed_count_methods():
    weighted = small_tree(("in_progress", "completed"))
    weighted.by_id[10].allocated, weighted.by_id[11].allocated = 100, 300

    assert roll_up(weighted, "budget_weighted").root.rolled_progress == 85  # (40*100 + 100*300) / 400
    assert roll_up(small_tree(("in_progress", "completed")), "completed_count").root.rolled_progress == 50


def test_status_rollup_starts_and_completes_parents_through_the_machine():
    tree = small_tree(("completed", "completed", "cancelled"))

    changes = settle_tree(tree, machine_method(RULES.work_item_status, "average"))

    assert changes == {1: ("not_started", "completed")}
    started = small_tree(("blocked", "not_started", "not_started"))
    assert settle_tree(started, machine_method(RULES.work_item_status, "average")) == {
        1: ("not_started", "in_progress")}


def test_reallocating_a_parent_rescales_the_levels_below_and_keeps_unallocated_ones_empty():
    nodes = [Node(1, None, 0, "project", "P", 0, "not_started", 0, 1000, 0),
             Node(2, 1, 0, "activity", "A", 1, "not_started", 0, 600, 0),
             Node(3, 1, 1, "activity", "B", 1, "not_started", 0, 400, 0),
             Node(4, 2, 0, "task", "A1", 2, "not_started", 0, 450, 0),
             Node(5, 2, 1, "task", "A2", 2, "not_started", 0, 150, 0),
             Node(6, 3, 0, "task", "B1", 2, "not_started", 0, None, 0)]

    changes = reallocate(Tree(nodes), {2: 301})

    assert changes == {2: 301, 4: 226, 5: 75}  # 3:1 kept, 226 + 75 = 301


@given(parent=st.integers(0, 10**12), old=st.lists(st.integers(0, 10**9), min_size=1, max_size=8),
       new=st.integers(0, 10**12))
def test_reallocation_of_a_full_level_sums_exactly_to_the_new_parent(parent, old, new):
    total = sum(old)
    nodes = [Node(1, None, 0, "project", "P", 0, "not_started", 0, total + 1, 0),
             Node(2, 1, 0, "activity", "A", 1, "not_started", 0, total, 0)]
    nodes += [Node(10 + i, 2, i, "task", "t", 2, "not_started", 0, amount, 0) for i, amount in enumerate(old)]
    tree = Tree(nodes)

    changes = reallocate(tree, {2: new})

    children = [changes.get(10 + i, amount) for i, amount in enumerate(old)]
    if total:
        assert sum(children) == new
    assert [n for n, *_ in envelope_violations(tree, changes) if n.id == 2] == []


def test_business_days_skip_the_days_off_and_never_end_on_one():
    from workflow.calendar import add_days

    weekend = lambda d: d.weekday() >= 5  # noqa: E731
    friday = date(2025, 6, 6)

    assert add_days(friday, 1, is_day_off=weekend) == date(2025, 6, 9)
    assert add_days(friday, 0, is_day_off=lambda d: d == friday or weekend(d)) == date(2025, 6, 9)
    assert add_days(friday, 3) == date(2025, 6, 9)


def seven_activities() -> Tree:
    """A project of seven activities: the first with tasks at 40, 40 and 45 %
    (125/3), six with tasks at 25 and 50 % (37.5 each). Exactly, the project
    is (125/3 + 6 x 37.5) / 7 = 800/21 = 38.10 %."""
    nodes = [Node(1, None, 0, "project", "P", 0, "in_progress", 0, None, 0)]
    tasks = [[40, 40, 45]] + [[25, 50]] * 6
    for a, progresses in enumerate(tasks):
        activity = 10 + a
        nodes.append(Node(activity, 1, a, "activity", f"A{a}", 1, "in_progress", 0, None, 0))
        nodes += [Node(100 * activity + t, activity, t, "task", f"T{t}", 2, "in_progress", p, None, 0)
                  for t, p in enumerate(progresses)]
    return Tree(nodes)


def test_progress_stays_exact_through_the_levels_and_is_rounded_once_where_shown():
    from fractions import Fraction

    from workflow.tree import shown_progress, tree_breakdown

    tree = roll_up(seven_activities())

    assert tree.root.rolled_progress == Fraction(800, 21)  # 38.0952...
    assert shown_progress(tree.root.rolled_progress) == 38  # rounding each activity first would read 39
    assert tree_breakdown(tree, Decimal(5)).payload["progress"] == 38
    assert [shown_progress(a.rolled_progress) for a in tree.root.children] == [42] + [38] * 6  # 41.67, 37.5 half-up


def test_following_the_project_rounds_its_exact_progress_once_half_up():
    from fractions import Fraction

    from workflow.sync import follow_project

    follow = RULES.sync
    assert follow_project(follow, "in_progress", Fraction(800, 21), progress=True, status=True).progress == 38
    assert follow_project(follow, "in_progress", Fraction(77, 2), progress=True, status=True).progress == 39


def test_status_counts_leave_the_project_out():
    tree = small_tree(("not_started", "completed", "completed", "cancelled"))

    assert status_counts(tree) == {"not_started": 1, "completed": 2, "cancelled": 1}


def test_overspent_lists_items_spending_above_their_allocation_except_cancelled_ones():
    tree = small_tree(("in_progress", "completed", "cancelled", "in_progress"))  # spent 0, 100, 200, 300 of 300 each
    tree.by_id[13].spent = 301
    tree.by_id[12].spent = 900  # cancelled: left out
    roll_up(tree)

    assert [node.id for node in overspent(tree)] == [1, 13]  # the project: 10 + 0 + 100 + 900 + 301 > 1000


def test_unallocated_is_what_an_item_has_left_for_its_children():
    tree = small_tree()  # 1000 for the project, 300 to each of three children
    tree.by_id[11].allocated = None

    assert unallocated(tree.root) == 1000 - 300 - 300
    assert unallocated(tree.by_id[10]) == 300  # no children: all of it
    assert unallocated(tree.by_id[11]) is None


@st.composite
def rolled_trees(draw):
    """A random tree of 1–40 nodes, positions drawn so that a child may sort
    before its parent, every field random, rolled up under the shipped
    status machine with a random progress method."""
    size = draw(st.integers(1, 40))
    statuses = sorted(RULES.work_item_status.states)
    nodes = []
    for i in range(size):
        parent = None if i == 0 else draw(st.integers(0, i - 1))
        nodes.append(Node(i + 1, None if parent is None else parent + 1, draw(st.integers(0, 5)), "task",
                          draw(st.text(max_size=5)), 0 if parent is None else nodes[parent].level + 1,
                          draw(st.sampled_from(statuses)), draw(st.integers(0, 100)),
                          draw(st.one_of(st.none(), st.just(0), st.integers(1, 10**9))), draw(st.integers(0, 10**7))))
    tree = Tree(sorted(nodes, key=lambda n: (n.position, n.id)))
    method = machine_method(RULES.work_item_status, draw(st.sampled_from(["average", "budget_weighted",
                                                                            "completed_count"])))
    settle_tree(tree, method)
    return tree


@given(tree=rolled_trees(), threshold=st.sampled_from([Decimal(0), Decimal(5), Decimal("2.5")]))
def test_the_budget_tree_from_stored_rows_is_the_one_shown_from_a_rolled_up_tree(tree, threshold):
    import json

    from workflow.rollups import encode_exact
    from workflow.tree import stored_breakdown, tree_breakdown

    rows = [(n.id, n.parent_id, n.title, n.work_type, n.level, n.status, n.allocated, n.expended,
             encode_exact(n.rolled_progress)) for n in sorted(tree.by_id.values(), key=lambda n: (n.position, n.id))]
    stored, rolled = stored_breakdown(rows, threshold), tree_breakdown(tree, threshold)

    assert (stored.root_id, stored.expended, stored.allocated_to_children) == (
        rolled.root_id, rolled.expended, rolled.allocated_to_children)
    assert json.dumps(stored.payload) == json.dumps(rolled.payload)  # key order too: the same bytes


@given(tree=rolled_trees(), threshold=st.sampled_from([Decimal(0), Decimal(5), Decimal("2.5")]))
def test_every_node_of_the_budget_tree_shows_its_figures_as_the_field_rules_give_them(tree, threshold):
    import json

    from workflow.money import format_centavos
    from workflow.tree import (
        budget_status,
        shown_progress,
        tree_breakdown,
        variance_pct_hundredths,
    )

    def expected(node) -> dict:  # each field by its own rule, one at a time (docs/design.md §5)
        hundredths = variance_pct_hundredths(node.allocated, node.expended)
        return {"work_item_id": node.id, "title": node.title, "work_type": node.work_type, "level": node.level,
                "status": node.status, "progress": shown_progress(node.rolled_progress),
                "allocated_budget": format_centavos(node.allocated),
                "actual_expenditure": format_centavos(node.expended),
                "variance": format_centavos((node.allocated or 0) - node.expended),
                "variance_pct": None if hundredths is None else hundredths / 100,
                "budget_status": budget_status(node.allocated, node.expended, threshold),
                "children": [expected(child) for child in node.children]}

    assert json.dumps(tree_breakdown(tree, threshold).payload) == json.dumps(expected(tree.root))


def test_the_budget_tree_draws_the_on_budget_band_inclusively_and_shows_negative_variance_exactly():
    from workflow.tree import tree_breakdown

    spent = {2: (10_000, 10_000), 3: (10_000, 9_500), 4: (10_000, 9_499), 5: (10_000, 10_001), 6: (None, 0),
             7: (0, 5), 8: (None, 123_456)}  # id: (allocated, spent), centavos
    tree = roll_up(Tree([Node(1, None, 0, "project", "P", 0, "in_progress", 0, 100_000, 0)] + [
        Node(i, 1, i, "task", f"T{i}", 1, "in_progress", 0, allocated, amount)
        for i, (allocated, amount) in spent.items()]))

    shown = tree_breakdown(tree, Decimal(5)).payload
    assert [(c["budget_status"], c["variance"], c["variance_pct"]) for c in shown["children"]] == [
        ("on_budget", "0.00", 0.0), ("on_budget", "5.00", 5.0), ("under_budget", "5.01", 5.01),
        ("over_budget", "-0.01", -0.01), ("on_budget", "0.00", None), ("over_budget", "-0.05", None),
        ("over_budget", "-1234.56", None)]
    assert (shown["actual_expenditure"], shown["variance"], shown["variance_pct"]) == ("1624.61", "-624.61", -62.46)
    assert tree_breakdown(tree, Decimal(0)).payload["children"][0]["budget_status"] == "on_budget"


def test_money_strings_are_exact_for_every_centavo_and_sign():
    from workflow.money import format_centavos

    assert [format_centavos(c) for c in (0, 5, 99, 100, 123456, -5, -100, -123456, None)] == [
        "0.00", "0.05", "0.99", "1.00", "1234.56", "-0.05", "-1.00", "-1234.56", None]
    assert format_centavos(99_999_999_999_999_999) == "999999999999999.99"


@st.composite
def rolled_trees_and_methods(draw):
    """A random rolled-up tree (as ``rolled_trees``: every field random,
    allocations too, so a level may sum above its parent) and the method it
    was rolled up under."""
    method = machine_method(RULES.work_item_status, draw(st.sampled_from(["average", "budget_weighted",
                                                                            "completed_count"])),
                            follow=draw(st.booleans()))
    size = draw(st.integers(1, 40))
    nodes = []
    for i in range(size):
        parent = None if i == 0 else draw(st.integers(0, i - 1))
        nodes.append(Node(i + 1, None if parent is None else parent + 1, draw(st.integers(0, 5)), "task", "T",
                          0 if parent is None else nodes[parent].level + 1,
                          draw(st.sampled_from(sorted(RULES.work_item_status.states))), draw(st.integers(0, 100)),
                          draw(st.one_of(st.none(), st.just(0), st.integers(1, 10**9))), draw(st.integers(0, 10**7))))
    tree = Tree(sorted(nodes, key=lambda n: (n.position, n.id)))
    settle_tree(tree, method)
    return tree, method


def read_back(tree: Tree, *, stored: bool = True) -> Tree:
    """A fresh copy of ``tree``'s own fields; ``stored``: each node with its
    rolled-up figures as stored and read back (``services.trees.load_stored_tree``:
    ``Node.stored``, ``expended`` and ``rolled_progress``, the aggregate not decoded)."""
    copies = []
    for n in sorted(tree.by_id.values(), key=lambda n: (n.position, n.id)):
        copy = Node(n.id, n.parent_id, n.position, n.work_type, n.title, n.level, n.status, n.progress, n.allocated,
                    n.spent, n.locked)
        if stored:
            copy.stored = (n.expended, encode_exact(n.rolled_progress), n.agg.encode())
            copy.expended, copy.rolled_progress = n.expended, n.rolled_progress
        copies.append(copy)
    return Tree(copies)


@given(drawn=rolled_trees_and_methods(), data=st.data())
def test_settling_a_reallocation_along_its_ancestors_gives_what_rolling_up_the_whole_tree_gives(drawn, data):
    rolled, method = drawn
    tree = read_back(rolled)
    explicit = data.draw(st.dictionaries(st.sampled_from(sorted(tree.by_id)),
                                         st.one_of(st.just(0), st.integers(1, 10**9)), max_size=4))
    changes = reallocate(tree, explicit)
    moved = {i: (tree.by_id[i].allocated, amount) for i, amount in changes.items()}
    for item_id, amount in changes.items():
        tree.by_id[item_id].allocated = amount
    expected = read_back(tree, stored=False)

    path, statuses = settle_reallocation(tree, moved, method)

    assert statuses == settle_tree(expected, method)
    for node in tree.by_id.values():
        aggregate = node.agg.encode() if node.id in path else node.stored[2]  # the others keep what is stored
        shown = expected.by_id[node.id]
        assert (node.status, node.expended, node.rolled_progress, aggregate) == (
            shown.status, shown.expended, shown.rolled_progress, shown.agg.encode()), node.id
    assert tree.root.id in path and all(tree.by_id[i].parent_id in path for i in moved if i != tree.root.id)
