"""Earned value on the WBS (issue 16 §3): textbook examples to the centavo,
planned value methods, EV from the leaves, forecasts, alerts, and a
generated 1,000-item WBS against an independent computation."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.earned_value import Baseline, BaselineItem, performance_alerts
from workflow.errors import ValidationFailed
from workflow.money import from_centavos, split_centavos

D = Decimal


def fence():
    """Rita Mulcahy, *PMP Exam Prep*, chapter "Cost", the earned value
    exercise of the four-sided fence: each side takes one day and is budgeted
    at $1,000; the sides are built one after the other. At the end of day 3:
    side 1 complete, $1,000 spent; side 2 complete, $1,200 spent; side 3 half
    done, $600 spent; side 4 not started."""
    day1 = date(2026, 6, 1)
    sides = [BaselineItem(10 + k, 1, D("1000.00"), day1 + timedelta(days=k), day1 + timedelta(days=k))
             for k in range(4)]
    baseline = Baseline([BaselineItem(1, None, D("4000.00"), day1, day1 + timedelta(days=3)), *sides])
    progress = {10: 100, 11: 100, 12: 50, 13: 0}
    actual = {10: D("1000.00"), 11: D("1200.00"), 12: D("600.00")}
    return baseline, day1 + timedelta(days=2), progress, actual


def test_the_fence_exercise_of_mulcahys_pmp_exam_prep_to_the_centavo():
    baseline, end_of_day_3, progress, actual = fence()

    fence_ = baseline.measure(end_of_day_3, progress, actual)[1]

    # The book's answers: PV 3,000; EV 2,500; AC 2,800; BAC 4,000; CV -300; SV -500; CPI .893; SPI .833.
    assert (fence_.pv, fence_.ev, fence_.ac, fence_.bac) == (D("3000.00"), D("2500.00"), D("2800.00"), D("4000.00"))
    assert (fence_.cv, fence_.sv) == (D("-300.00"), D("-500.00"))
    assert fence_.cpi == D("0.8929") and round(fence_.cpi, 3) == D("0.893")
    assert fence_.spi == D("0.8333") and round(fence_.spi, 3) == D("0.833")
    # The book divides by the rounded CPI: 4,000 / .893 = 4,479.28, "EAC 4,479, ETC 1,679, VAC -479".
    # Divided by the exact CPI (2,500 / 2,800) the forecast is 4,480.00 to the centavo.
    assert (D("4000") / D("0.893")).quantize(D("1")) == D("4479")
    assert (fence_.eac, fence_.etc, fence_.vac) == (D("4480.00"), D("1680.00"), D("-480.00"))


def test_schwalbes_one_year_project_exercise_to_the_centavo():
    """Kathy Schwalbe, *Information Technology Project Management* (4th ed.,
    2006), chapter 7 "Project Cost Management", exercise: a one-year
    project with PV $23,000, EV $20,000, AC $25,000 and BAC $120,000; the
    answers CV -5,000, SV -3,000, CPI 80 %, SPI 86.96 %, EAC = BAC / CPI =
    150,000. The WBS below is ours, laid out to give the exercise's sums at
    the end of January."""
    baseline = Baseline([
        BaselineItem(1, None, D("120000.00"), date(2026, 1, 1), date(2026, 12, 31)),
        BaselineItem(2, 1, D("20000.00"), date(2026, 1, 1), date(2026, 1, 31)),
        BaselineItem(3, 1, D("3000.00"), date(2026, 1, 1), date(2026, 1, 31)),
        BaselineItem(4, 1, D("97000.00"), date(2026, 2, 1), date(2026, 12, 31)),
    ])

    project = baseline.measure(date(2026, 1, 31), {2: 100}, {2: D("25000.00")})[1]

    assert (project.pv, project.ev, project.ac, project.bac) == (
        D("23000.00"), D("20000.00"), D("25000.00"), D("120000.00"))
    assert (project.cv, project.sv, project.cpi, project.spi) == (D("-5000.00"), D("-3000.00"), D("0.8000"),
                                                                  D("0.8696"))
    assert (project.eac, project.etc, project.vac) == (D("150000.00"), D("125000.00"), D("-30000.00"))
    assert project.tcpi == D("1.0526")  # (120,000 - 20,000) / (120,000 - 25,000)


def one_leaf(budget="100.00", start=date(2026, 1, 1), finish=date(2026, 1, 3)) -> Baseline:
    return Baseline([BaselineItem(1, None, D(budget), start, finish), BaselineItem(2, 1, D(budget))])


def test_linear_planned_value_splits_the_budget_over_the_days_by_largest_remainder():
    baseline = one_leaf()

    curve = baseline.planned_curve([date(2025, 12, 31) + timedelta(days=k) for k in range(5)])

    # 100.00 over 3 days: 33.34 + 33.33 + 33.33, the extra centavo on the first day.
    assert [pv for _, pv in curve] == [D("0.00"), D("33.34"), D("66.67"), D("100.00"), D("100.00")]


@pytest.mark.parametrize("method, expected", [
    ("start", ["0.00", "100.01", "100.01", "100.01"]),
    ("finish", ["0.00", "0.00", "0.00", "100.01"]),
    ("fifty_fifty", ["0.00", "50.01", "50.01", "100.01"]),
])
def test_other_planned_value_methods(method, expected):
    baseline = one_leaf("100.01")

    curve = baseline.planned_curve([date(2025, 12, 31) + timedelta(days=k) for k in range(4)], method)

    assert [pv for _, pv in curve] == [D(x) for x in expected]


@settings(max_examples=200, deadline=None)
@given(budget=st.integers(0, 10**13), days=st.integers(1, 800), elapsed=st.integers(-3, 803))
def test_linear_planned_value_is_the_running_sum_of_a_daily_largest_remainder_split(budget, days, elapsed):
    start = date(2026, 1, 1)
    baseline = one_leaf(str(from_centavos(budget)), start, start + timedelta(days=days - 1))

    pv = baseline.planned_value(start + timedelta(days=elapsed - 1)).get(2, 0)

    daily = split_centavos(budget, [1] * days)
    assert pv == sum(daily[: max(0, min(elapsed, days))])


def test_earned_value_comes_from_the_leaves_never_from_a_parents_progress():
    baseline = Baseline([
        BaselineItem(1, None, D("1000.00"), date(2026, 1, 1), date(2026, 1, 10)),
        BaselineItem(2, 1, D("600.00")),
        BaselineItem(3, 2, D("200.00")), BaselineItem(4, 2, D("400.00")),
        BaselineItem(5, 1, D("300.00")),  # 100.00 of the root stays undistributed
    ])

    figures = baseline.measure(date(2026, 1, 10), {1: 90, 2: 100, 3: 50, 4: 0, 5: D("33.33")}, {})

    assert figures[2].ev == D("100.00")  # 50 % of 200.00; item 2's own 100 % earns nothing
    assert figures[5].ev == D("99.99")
    assert figures[1].ev == D("199.99")
    assert figures[1].bac == D("900.00")  # the leaves' budgets, not the root's allocation
    assert figures[1].pv == D("900.00")


def test_items_without_dates_take_their_nearest_dated_ancestors():
    baseline = Baseline([
        BaselineItem(1, None, D("40.00"), date(2026, 1, 1), date(2026, 1, 4)),
        BaselineItem(2, 1, D("40.00"), date(2026, 1, 3), None),
        BaselineItem(3, 2, D("40.00")),
    ])

    assert baseline.planned_value(date(2026, 1, 3)) == {3: 2000}  # days 3-4 of 1-4: half on the 3rd


def test_actual_cost_rolls_up_from_any_item_charged():
    baseline, as_of, progress, actual = fence()

    figures = baseline.measure(as_of, progress, {**actual, 1: D("50.00")})

    assert figures[1].ac == D("2850.00")
    assert figures[12].ac == D("600.00")


def test_forecasts_follow_the_chosen_method_and_stay_undefined_without_data():
    baseline, as_of, progress, actual = fence()

    plan_rate = baseline.measure(as_of, progress, actual, eac_method="plan_rate")[1]
    cpi_spi = baseline.measure(as_of, progress, actual, eac_method="cpi_spi")[1]
    untouched = baseline.measure(as_of, {}, {})[13]

    assert plan_rate.eac == D("4300.00")  # 2,800 + (4,000 - 2,500)
    # 2,800 + 1,500 / (2,500/2,800 × 2,500/3,000) = 2,800 + 1,500 × 2,800 × 3,000 / 2,500² = 4,816.00
    assert cpi_spi.eac == D("4816.00")
    assert untouched.cpi is None and untouched.eac is None and untouched.spi is None  # PV 0 before its day
    assert untouched.sv == D("0.00")


def test_alerts_name_the_nodes_below_the_thresholds():
    baseline, as_of, progress, actual = fence()
    figures = baseline.measure(as_of, progress, actual)

    alerts = performance_alerts(figures, spi_below=D("0.90"), cpi_below=D("0.90"))

    assert [(a.id, a.index, a.value) for a in alerts] == [
        (1, "spi", D("0.8333")), (1, "cpi", D("0.8929")), (11, "cpi", D("0.8333")), (12, "spi", D("0.5000")),
        (12, "cpi", D("0.8333"))]


def test_bad_baselines_and_inputs_are_refused_with_the_item_named():
    with pytest.raises(ValidationFailed) as no_dates:
        Baseline([BaselineItem(1, None, D("1.00")), BaselineItem(2, 1, D("1.00"))])
    assert list(no_dates.value.errors) == ["baseline.2"]

    with pytest.raises(ValidationFailed) as inverted:
        Baseline([BaselineItem(1, None, D("1.00"), date(2026, 2, 1), date(2026, 1, 1))])
    assert "before it starts" in inverted.value.errors["baseline.1"][0]

    with pytest.raises(ValidationFailed) as two_roots:
        Baseline([BaselineItem(1, None, None), BaselineItem(2, None, None)])
    assert "exactly one root" in two_roots.value.errors["baseline"][0]

    baseline, as_of, _, _ = fence()
    with pytest.raises(ValidationFailed) as bad:
        baseline.measure(as_of, {10: 101}, {99: D("1.00")})
    assert set(bad.value.errors) == {"progress.10"}
    with pytest.raises(ValidationFailed) as unknown:
        baseline.measure(as_of, {}, {99: D("1.00"), 10: D("-1.00")})
    assert set(unknown.value.errors) == {"actual_cost.99", "actual_cost.10"}
    with pytest.raises(ValueError):
        baseline.measure(as_of, {}, {}, method="weekly")


# -- a generated WBS of 1,000 items against an independent computation --------


def generated_wbs(seed: int, size: int = 1_000):
    """A random tree: each item hangs under an earlier one; leaves get odd
    budgets, random dates in 2026 and random progress and costs."""
    rng = random.Random(seed)
    parents = [None] + [rng.randrange(max(0, i - 40), i) for i in range(1, size)]
    has_children = {p for p in parents if p is not None}
    items, progress, actual = [], {}, {}
    for i in range(size):
        start = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
        finish = start + timedelta(days=rng.randrange(0, 200))
        dated = i == 0 or rng.random() < 0.8
        budget = D(rng.randrange(0, 10**9)) / 100
        items.append(BaselineItem(i + 1, None if parents[i] is None else parents[i] + 1, budget,
                                  start if dated else None, finish if dated else None))
        if i not in has_children:
            progress[i + 1] = rng.choice([0, 100, rng.randrange(101), D(rng.randrange(10001)) / 100])
        if rng.random() < 0.6:
            actual[i + 1] = D(rng.randrange(0, 10**8)) / 100
    return items, progress, actual


def independent_figures(items, progress, actual, as_of):
    """PV, EV, AC and BAC per node the long way: every leaf's budget split
    day by day, progress in Fractions rounded by Decimal, and every amount
    added to each of its ancestors by walking up."""
    by_id = {item.id: item for item in items}
    parents_of = {item.parent_id for item in items}

    def dates(item):
        while item.start is None:
            item = by_id[item.parent_id]
        return item.start, item.finish

    sums = {item.id: [0, 0, 0, 0] for item in items}  # bac, pv, ev, ac in centavos

    def add(item_id, k, amount):
        while item_id is not None:
            sums[item_id][k] += amount
            item_id = by_id[item_id].parent_id

    for item in items:
        if item.id in actual:
            add(item.id, 3, int(actual[item.id] * 100))
        if item.id in parents_of:
            continue
        budget = int(item.budget * 100)
        start, finish = dates(item)
        days = (finish - start).days + 1
        elapsed = min(days, max(0, (as_of - start).days + 1))
        add(item.id, 0, budget)
        add(item.id, 1, sum(split_centavos(budget, [1] * days)[:elapsed]) if budget else 0)
        earned = Decimal(budget) * Decimal(Fraction(progress[item.id]).numerator) / Decimal(
            Fraction(progress[item.id]).denominator) / 100
        add(item.id, 2, int(earned.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    return sums


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_generated_1000_item_wbs_matches_an_independent_computation(seed):
    items, progress, actual = generated_wbs(seed)
    as_of = date(2026, 7, 15)

    figures = Baseline(items).measure(as_of, progress, actual)
    expected = independent_figures(items, progress, actual, as_of)

    assert len(figures) == 1_000
    for item_id, (bac, pv, ev, ac) in expected.items():
        node = figures[item_id]
        assert (node.bac, node.pv, node.ev, node.ac) == tuple(from_centavos(x) for x in (bac, pv, ev, ac))
        assert node.sv == node.ev - node.pv and node.cv == node.ev - node.ac
        if pv:
            assert node.spi == (Decimal(ev) / Decimal(pv)).quantize(D("0.0001"), rounding=ROUND_HALF_UP)
        if ev and ac:
            with localcontext(prec=60):
                eac = (Decimal(bac) * Decimal(ac) / Decimal(ev) / 100).quantize(D("0.01"), rounding=ROUND_HALF_UP)
            assert node.eac == eac
            assert node.etc == node.eac - node.ac and node.vac == node.bac - node.eac
    root = figures[1]
    assert root.ev == sum(figures[i].ev for i in figures if i not in {item.parent_id for item in items})


def test_costs_given_in_centavos_give_the_same_figures_and_the_same_refusals():
    items, progress, actual = generated_wbs(4, size=300)
    baseline, as_of = Baseline(items), date(2026, 7, 15)
    fields = ("bac", "pv", "ev", "ac", "sv", "cv", "spi", "cpi", "tcpi", "eac", "etc", "vac")

    for eac_method in ("cpi", "plan_rate", "cpi_spi"):
        in_pesos = baseline.measure(as_of, progress, actual, eac_method=eac_method)
        in_centavos = baseline.measure_centavos(as_of, progress, {k: int(v * 100) for k, v in actual.items()},
                                                eac_method=eac_method)
        assert list(in_centavos) == list(in_pesos)
        assert [[str(getattr(f, name)) for name in fields] for f in in_centavos.values()] == [
            [str(getattr(f, name)) for name in fields] for f in in_pesos.values()]

    with pytest.raises(ValidationFailed) as refused:
        baseline.measure_centavos(as_of, {}, {9999: 100, 1: -1})
    assert refused.value.errors == {"actual_cost.9999": ["work item 9999 is not in the baseline"],
                                    "actual_cost.1": ["must not be negative"]}
