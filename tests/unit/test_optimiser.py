"""The budget optimiser (issue 16 §1–2): the all-or-nothing optimum equals a
brute-force enumeration, the greedy estimate never beats it, allocations are
exact and respect every constraint, partial funding, the explanation, and
infeasible constraints named by a smallest conflicting set.

The brute force and the checks below are written from the model's
definition (workflow/optimiser.py's module docstring), not from its code."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflow.errors import ValidationFailed
from workflow.optimiser import (
    Candidate,
    InfeasibleConstraints,
    MinimumShare,
    MoaCap,
    Need,
    ObjectiveWeights,
    Problem,
    evaluate,
    optimise,
)

D = Decimal
VOTES_ONLY = ObjectiveWeights(count=D(0), votes=D(1), urgency=D(0), population=D(0))
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- the model, independently ---------------------------------------------------


def scores(problem: Problem) -> dict[int, Fraction]:
    in_play = {n for c in problem.candidates for n in c.needs}
    needs = [n for n in problem.needs if n.id in in_play]
    w = problem.weights
    out = {}
    for need in needs:
        score = Fraction(w.count)
        for name in ("votes", "urgency", "population"):
            largest = max(Fraction(getattr(n, name)) for n in needs)
            if largest:
                score += Fraction(getattr(w, name)) * Fraction(getattr(need, name)) / largest
        out[need.id] = score
    return out


def objective(problem: Problem, allocations: dict[int, Decimal]) -> Fraction:
    """Each need counts once, in proportion to the funded shares of its PPAs, at most once."""
    weight = scores(problem)
    addressed: dict[int, Fraction] = {}
    for c in problem.candidates:
        share = Fraction(allocations.get(c.id, D(0))) / Fraction(c.cost)
        for n in set(c.needs):
            addressed[n] = addressed.get(n, Fraction(0)) + share
    return sum((weight[n] * min(Fraction(1), a) for n, a in addressed.items()), Fraction(0))


def broken_constraints(problem: Problem, allocations: dict[int, Decimal], *, without=()) -> list[str]:
    """The names of the constraints the allocations break (exactly)."""
    total = sum(allocations.values(), D(0))
    broken = []
    if "ceiling" not in without and total > problem.ceiling:
        broken.append("ceiling")
    for cap in problem.moa_caps:
        spent = sum((a for i, a in allocations.items() if candidate(problem, i).moa == cap.moa), D(0))
        if f"moa_cap:{cap.moa}" not in without and spent > cap.limit:
            broken.append(f"moa_cap:{cap.moa}")
    for share in problem.minimum_shares:
        name = f"minimum_share:{share.dimension}:{share.value}"
        got = sum((a for i, a in allocations.items() if getattr(candidate(problem, i), share.dimension) == share.value),
                  D(0))
        base = total if share.basis == "allocated" else problem.ceiling
        if name not in without and got * 100 < share.percent * base:
            broken.append(name)
    return broken


def candidate(problem: Problem, ppa_id: int) -> Candidate:
    return next(c for c in problem.candidates if c.id == ppa_id)


def brute_force(problem: Problem, *, without=()) -> Fraction | None:
    """The best objective over every subset of candidates funded in full
    (``None`` when no subset meets the constraints)."""
    best = None
    for size in range(len(problem.candidates) + 1):
        for chosen in combinations(problem.candidates, size):
            allocations = {c.id: c.cost for c in chosen}
            if not broken_constraints(problem, allocations, without=without):
                value = objective(problem, allocations)
                best = value if best is None else max(best, value)
    return best


def assert_exact_and_within_every_constraint(problem: Problem, allocations: dict[int, Decimal]) -> None:
    assert all(a == a.quantize(D("0.01")) and a > 0 for a in allocations.values())
    assert sum(allocations.values(), D(0)) <= problem.ceiling
    assert broken_constraints(problem, allocations) == []


# -- random small problems --------------------------------------------------------


@st.composite
def problems(draw, max_candidates: int = 9):
    n = draw(st.integers(1, max_candidates))
    need_count = draw(st.integers(1, 7))
    needs = tuple(Need(100 + j, votes=draw(st.integers(0, 20)), urgency=draw(st.integers(0, 5)),
                       population=draw(st.integers(0, 1000))) for j in range(need_count))
    moas = ["MSSD", "MOH", "MBHTE"][: draw(st.integers(1, 3))]
    regions = ["Lanao del Sur", "Maguindanao", "Sulu"]
    candidates = tuple(Candidate(
        id=k + 1, cost=D(draw(st.integers(1, 5000))) / 100 * draw(st.sampled_from([1, 100, 10_000])),
        moa=draw(st.sampled_from(moas)),
        needs=tuple(draw(st.lists(st.sampled_from([n.id for n in needs]), max_size=3))),
        region=draw(st.sampled_from(regions)), sector=draw(st.sampled_from(["health", "education"])),
    ) for k in range(n))
    total_cost = sum(c.cost for c in candidates)
    ceiling = (total_cost * draw(st.integers(0, 120)) / 100).quantize(D("0.01"))
    caps = tuple(MoaCap(m, (total_cost * draw(st.integers(0, 80)) / 100).quantize(D("0.01")))
                 for m in draw(st.lists(st.sampled_from(moas), unique=True, max_size=2)))
    shares = []
    for dimension, value in draw(st.lists(st.sampled_from([("region", r) for r in regions[:2]]
                                                          + [("sector", "health")]), unique=True, max_size=2)):
        shares.append(MinimumShare(dimension, value, D(draw(st.integers(0, 45))),
                                   draw(st.sampled_from(["allocated", "ceiling"]))))
    weights = ObjectiveWeights(*(D(draw(st.integers(0, 4))) / 2 for _ in range(4)))
    return Problem(ceiling, candidates, needs, weights, caps, tuple(shares))


@PROPERTY
@given(problems())
def test_the_all_or_nothing_optimum_equals_brute_force_and_greedy_never_beats_it(problem):
    best = brute_force(problem)

    if best is None:
        with pytest.raises(InfeasibleConstraints):
            optimise(problem)
        return
    proposal = optimise(problem)

    chosen = proposal.optimum.allocations
    assert_exact_and_within_every_constraint(problem, chosen)
    assert all(chosen[c.id] == c.cost for c in problem.candidates if c.id in chosen)  # all or nothing
    assert objective(problem, chosen) == best
    assert proposal.optimum.total == sum(chosen.values(), D(0))
    assert proposal.status == "optimal"
    greedy = proposal.greedy.allocations
    assert proposal.greedy.feasible == (broken_constraints(problem, greedy) == [])
    if proposal.greedy.feasible:
        assert objective(problem, greedy) <= best
        assert proposal.gap >= 0
    assert all(c.satisfied for c in proposal.constraints)


@PROPERTY
@given(problems(), st.sampled_from([D(0), D(25), D(60)]))
def test_partial_funding_is_exact_within_bounds_and_at_least_as_good_as_all_or_nothing(problem, minimum):
    whole = brute_force(problem)
    if whole is None:
        return

    proposal = optimise(problem, funding="partial", minimum_funding_percent=minimum)

    chosen = proposal.optimum.allocations
    assert_exact_and_within_every_constraint(problem, chosen)
    for c in problem.candidates:
        if c.id in chosen:
            assert c.cost * minimum / 100 <= chosen[c.id] <= c.cost
    # Floors to the centavo may cost a sliver of a need: at most a few centavos' worth per PPA.
    weight = scores(problem)
    sliver = sum((3 * sum(weight[n] for n in set(c.needs)) / (Fraction(c.cost) * 100) for c in problem.candidates),
                 Fraction(0))
    assert objective(problem, chosen) >= whole - sliver


@PROPERTY
@given(problems(max_candidates=7))
def test_infeasible_constraints_are_named_by_a_smallest_conflicting_set(problem):
    if brute_force(problem) is not None:
        return

    with pytest.raises(InfeasibleConstraints) as refused:
        optimise(problem)

    names = ["ceiling", *(f"moa_cap:{c.moa}" for c in problem.moa_caps),
             *(f"minimum_share:{s.dimension}:{s.value}" for s in problem.minimum_shares)]
    conflicting = set(refused.value.conflicting)
    others = [n for n in names if n not in conflicting]
    assert brute_force(problem, without=others) is None  # the named ones conflict on their own
    for name in conflicting:  # and each of them is needed for the conflict
        assert brute_force(problem, without=[*others, name]) is not None
    assert refused.value.errors["constraints"]


# -- a worked example -------------------------------------------------------------------


def knapsack_example() -> Problem:
    """Three PPAs under a PHP 100.00 ceiling, one need each, scored by votes
    (2, 10 and 8 of at most 10): A (PHP 10, 0.2), B (PHP 60, 1.0), C (PHP 40, 0.8)."""
    needs = (Need(1, votes=2), Need(2, votes=10), Need(3, votes=8))
    candidates = (Candidate(1, D("10.00"), "MSSD", (1,), "Sulu"), Candidate(2, D("60.00"), "MOH", (2,), "Sulu"),
                  Candidate(3, D("40.00"), "MOH", (3,), "Maguindanao"))
    return Problem(D("100.00"), candidates, needs, VOTES_ONLY)


def test_worked_example_funds_b_and_c_where_greedy_stops_at_a_and_c():
    proposal = optimise(knapsack_example())

    assert proposal.optimum.allocations == {2: D("60.00"), 3: D("40.00")}
    assert proposal.optimum.objective == D("1.800000")
    # Greedy by objective per peso: A and C (0.02 per peso each), then B no longer fits.
    assert proposal.greedy.allocations == {1: D("10.00"), 3: D("40.00")}
    assert (proposal.gap, proposal.gap_percent) == (D("0.800000"), D("44.44"))
    ceiling = proposal.constraints[0]
    assert (ceiling.name, ceiling.value, ceiling.slack, ceiling.binding) == ("ceiling", D("100.00"), D("0.00"), True)
    # LP relaxation: A and C in full, 5/6 of B; one more peso buys 1/60 of B's need.
    assert proposal.ceiling_dual == D("0.016666666667")
    assert [m.id for m in proposal.just_in] == [2, 3]  # B earns 1/60 per peso, C 1/50
    assert [(m.id, m.objective_change, m.blocked_by) for m in proposal.just_out] == [(1, D("0.200000"), ("ceiling",))]
    assert any("the total must not exceed the ceiling of PHP 100.00" in line for line in proposal.explanation)
    assert any("44.44 % below the optimum" in line for line in proposal.explanation)


def test_absorptive_capacity_and_a_minimum_share_change_the_answer():
    problem = knapsack_example()
    capped = Problem(D("200.00"), problem.candidates, problem.needs, VOTES_ONLY, (MoaCap("MOH", D("50.00")),))
    sulu_first = Problem(problem.ceiling, problem.candidates, problem.needs, VOTES_ONLY,
                         minimum_shares=(MinimumShare("region", "Maguindanao", D("50")),))

    by_cap = optimise(capped)
    by_share = optimise(sulu_first)

    assert by_cap.optimum.allocations == {1: D("10.00"), 3: D("40.00")}  # MOH can absorb C, not B
    assert [c.name for c in by_cap.constraints if c.binding] == ["moa_cap:MOH"]
    assert by_share.optimum.allocations == {1: D("10.00"), 3: D("40.00")}  # B would leave Maguindanao 40 %
    assert by_share.constraints[1].limit == D("25.00") and by_share.constraints[1].binding


def test_partial_funding_funds_the_marginal_ppa_in_part_to_the_centavo():
    partial = optimise(knapsack_example(), funding="partial")
    at_least_90 = optimise(knapsack_example(), funding="partial", minimum_funding_percent=D(90))

    assert partial.optimum.allocations == {1: D("10.00"), 2: D("50.00"), 3: D("40.00")}
    assert partial.optimum.objective == D("1.833333")
    # B needs at least 54.00, leaving 46.00 for A and C (equally good per peso): 0.2 + 0.9 + 0.72.
    assert at_least_90.optimum.objective == D("1.820000")
    assert at_least_90.optimum.total == D("100.00") and at_least_90.optimum.allocations[2] == D("54.00")


def test_a_choice_one_centavo_over_the_ceiling_is_never_proposed():
    # HiGHS's tolerance would accept 1,000,000,000,000.00 under a ceiling of 999,999,999,999.99.
    needs = (Need(1), Need(2), Need(3))
    candidates = (Candidate(1, D("500000000000.00"), "A", (1,)), Candidate(2, D("499999999999.99"), "B", (2,)),
                  Candidate(3, D("0.01"), "C", (3,)))
    problem = Problem(D("999999999999.99"), candidates, needs,
                      ObjectiveWeights(count=D(1), votes=D(0), urgency=D(0), population=D(0)))

    proposal = optimise(problem)

    assert proposal.optimum.total <= problem.ceiling
    assert len(proposal.optimum.allocations) == 2
    assert objective(problem, proposal.optimum.allocations) == brute_force(problem) == 2


def test_a_need_counts_once_however_many_funded_ppas_address_it():
    needs = (Need(1, votes=5), Need(2, votes=5))
    candidates = (Candidate(1, D("10.00"), "A", (1,)), Candidate(2, D("10.00"), "A", (1,)),
                  Candidate(3, D("15.00"), "A", (2,)))
    proposal = optimise(Problem(D("25.00"), candidates, needs, VOTES_ONLY))

    assert set(proposal.optimum.allocations) in ({1, 3}, {2, 3})
    assert proposal.optimum.needs_addressed == (1, 2)


def test_infeasible_example_names_the_two_constraints_that_conflict():
    problem = knapsack_example()
    conflict = Problem(problem.ceiling, problem.candidates, problem.needs, VOTES_ONLY,
                       moa_caps=(MoaCap("MOH", D("30.00")), MoaCap("MSSD", D("10.00"))),
                       minimum_shares=(MinimumShare("region", "Maguindanao", D("35"), "ceiling"),))

    with pytest.raises(InfeasibleConstraints) as refused:
        optimise(conflict)

    assert refused.value.conflicting == ("moa_cap:MOH", "minimum_share:region:Maguindanao")
    assert refused.value.detail == (
        "These constraints cannot all be met together, and dropping any one of them makes the rest possible: "
        "MOH can absorb at most PHP 30.00; region Maguindanao must get at least 35 % of the ceiling (PHP 35.00).")


def test_evaluate_scores_any_funding_plan_exactly():
    problem = knapsack_example()

    assert evaluate(problem, {2: D("60.00"), 3: D("40.00")}) == (Fraction(9, 5), True)
    assert evaluate(problem, {1: D("10.00"), 2: D("60.00"), 3: D("40.00")})[1] is False
    assert evaluate(problem, {2: D("30.00")}, funding="partial") == (Fraction(1, 2), True)
    assert evaluate(problem, {2: D("30.00")}, funding="partial", minimum_funding_percent=D(60))[1] is False


def test_bad_input_is_refused_field_by_field():
    needs = (Need(1),)
    problem = Problem(D("10.001"), (Candidate(1, D("0"), "A", (1, 9)), Candidate(1, D("5.00"), "A")), needs,
                      moa_caps=(MoaCap("A", D("-1")),),
                      minimum_shares=(MinimumShare("region", "X", D(60)), MinimumShare("region", "Y", D(50)),
                                      MinimumShare("province", "Z", D(5))))

    with pytest.raises(ValidationFailed) as refused:
        optimise(problem, funding="some")

    assert set(refused.value.errors) == {
        "funding", "ceiling", "candidates.1.cost", "candidates.1", "moa_caps.A", "minimum_shares.region",
        "minimum_shares.province:Z"}
    assert "110 %" in refused.value.errors["minimum_shares.region"][0]
    assert refused.value.detail.startswith("funding: must be one of all_or_nothing, partial")
