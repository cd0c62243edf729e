"""Benchmark: the budget optimiser and earned value (issue 16), pure code.

- The optimiser on 2,000 candidate PPAs of 50 MOAs (each with an absorptive
  capacity) under 20 regional minimum shares and a ceiling of 35 % of their
  cost: its time and objective beside the greedy estimate's, measured in the
  same run.
- Earned value of a 10,000-item WBS (baseline prepared, then measured as of
  a day) beside a plain pass over the same items (one dict per item and a
  bottom-up sum of budgets and costs).

Run: ``make bench`` or ``python -m tests.bench optimiser``.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from tests.unit.test_earned_value import generated_wbs
from workflow.earned_value import Baseline
from workflow.optimiser import (
    Candidate,
    MinimumShare,
    MoaCap,
    Need,
    ObjectiveWeights,
    Problem,
    _greedy,
    _Prepared,
    optimise,
)


def scenario(seed: int = 7, candidates: int = 2_000, moas: int = 50, regions: int = 20, needs: int = 3_000) -> Problem:
    """Candidates costing PHP 100,000 to 50,000,000 addressing 1-4 of the
    needs each; every MOA may absorb half of what its candidates cost; each
    region must get at least 3 % of the total allocated."""
    rng = random.Random(seed)
    need_rows = tuple(Need(j + 1, votes=rng.randrange(500), urgency=rng.randrange(1, 6),
                           population=rng.randrange(50, 50_000)) for j in range(needs))
    rows = tuple(Candidate(
        k + 1, Decimal(rng.randrange(10_000_000, 5_000_000_000)) / 100, f"MOA{rng.randrange(moas):02d}",
        tuple(rng.sample(range(1, needs + 1), rng.randrange(1, 5))), region=f"R{rng.randrange(regions):02d}",
        sector=rng.choice(["health", "education", "agriculture", "infrastructure"])) for k in range(candidates))
    by_moa: dict[str, Decimal] = {}
    for row in rows:
        by_moa[row.moa] = by_moa.get(row.moa, Decimal(0)) + row.cost
    cent = Decimal("0.01")
    return Problem(
        ceiling=(sum(r.cost for r in rows) * Decimal("0.35")).quantize(cent), candidates=rows, needs=need_rows,
        weights=ObjectiveWeights(count=Decimal(1), votes=Decimal(1), urgency=Decimal(1), population=Decimal(1)),
        moa_caps=tuple(MoaCap(m, (v / 2).quantize(cent)) for m, v in sorted(by_moa.items())),
        minimum_shares=tuple(MinimumShare("region", f"R{r:02d}", Decimal(3)) for r in range(regions)))


def median_s(function: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def plain_pass(items) -> dict[int, list[int]]:
    """The same items read into dicts and summed bottom-up, nothing else."""
    rows = {i.id: {"parent": i.parent_id, "budget": int(i.budget * 100)} for i in items}
    sums = {i: [row["budget"], 0] for i, row in rows.items()}
    for item_id in sorted(rows, reverse=True):  # generated parents come before their children
        parent = rows[item_id]["parent"]
        if parent is not None:
            sums[parent][0] += sums[item_id][0]
    return sums


def run(echo: Callable[[str], None]) -> None:
    """Print both tables."""
    from web.console import table

    problem = scenario()
    echo("Optimiser: 2,000 candidate PPAs x 50 MOAs x 20 regional minimum shares ...")
    proposal = optimise(problem)
    optimise_s = median_s(lambda: optimise(problem), 3)
    prepared = _Prepared(problem, "all_or_nothing", Decimal(0))
    greedy_s = median_s(lambda: _greedy(prepared), 3)
    echo(table(("", "seconds (median of 3)", "objective", "funded", "total PHP"), [
        ("optimiser (MILP + explanation)", f"{optimise_s:.2f}", proposal.optimum.objective,
         len(proposal.optimum.allocations), f"{proposal.optimum.total:,}"),
        ("greedy estimate", f"{greedy_s:.2f}", proposal.greedy.objective, len(proposal.greedy.allocations),
         f"{proposal.greedy.total:,}"),
    ], align="lrrrr"))
    echo(f"status {proposal.status}; greedy {proposal.gap_percent} % below the optimum; optimiser / greedy time "
         f"{optimise_s / greedy_s:.1f}x; binding constraints {sum(c.binding for c in proposal.constraints)}")

    items, progress, actual = generated_wbs(11, 10_000)
    echo("Earned value of a 10,000-item WBS ...")
    as_of = date(2026, 7, 15)
    prepare_s = median_s(lambda: Baseline(items), 5)
    baseline = Baseline(items)
    measure_s = median_s(lambda: baseline.measure(as_of, progress, actual), 5)
    plain_s = median_s(lambda: plain_pass(items), 5)
    echo(table(("measurement", "median ms", "baseline", "baseline ms", "ratio"), [
        ("baseline prepared", f"{prepare_s * 1000:.1f}", "plain pass", f"{plain_s * 1000:.1f}",
         f"{prepare_s / plain_s:.1f}x"),
        ("measured as of a day (13 figures per node)", f"{measure_s * 1000:.1f}", "plain pass",
         f"{plain_s * 1000:.1f}", f"{measure_s / plain_s:.1f}x"),
    ], align="lrlrr"))
