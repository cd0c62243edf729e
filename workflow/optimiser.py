"""Which PPAs to fund under a budget ceiling (issue 16 §1–2, seed 004 Task
6.2). Pure: the caller loads the candidates, needs and constraints of a
scenario, calls ``optimise`` and saves or shows the ``Proposal``.

The model:

- Each candidate PPA has a cost (PHP), an MOA, optionally a region and a
  sector, and the community needs it addresses.
- A need's **score** is ``count + votes·v/V + urgency·u/U + population·p/P``:
  the weights come from the rule files (``ObjectiveWeights``), ``v``, ``u``,
  ``p`` are the need's votes, urgency and population, and ``V``, ``U``, ``P``
  the largest of each among the needs in play, so every weight is unit-free.
  ``population=1`` alone maximises population served; ``count=1`` alone the
  number of needs addressed.
- The **objective** is the sum of the scores of the needs addressed; a need
  counts once however many funded PPAs address it. With partial funding a
  need is addressed in proportion to the funded shares of its PPAs, up to
  once.
- **Constraints**: the ceiling (total ≤ ceiling); per MOA, its absorptive
  capacity (total of its PPAs ≤ cap); per region or sector, a minimum share
  (its PPAs get at least ``percent`` of the total allocated, or of the
  ceiling).
- **Funding** is all-or-nothing by default: a mixed-integer programme
  (``scipy.optimize.milp``, HiGHS), optimal to HiGHS's tolerances with no
  gap allowed. ``partial`` funds any share of a PPA's cost from its
  ``minimum_funding_percent`` to 100 % (a linear programme with
  ``scipy.optimize.linprog`` when that minimum is 0; semi-continuous
  variables in ``milp`` otherwise).

Solvers work in floats; money never does. An all-or-nothing answer funds
each chosen PPA at its exact cost; a partial answer is floored to centavos
(raised to a PPA's minimum share), the centavos left under the solver's
total are handed out one each by largest remainder, and a constraint left a
few centavos short is mended from the PPAs' room. Every constraint is then
re-checked exactly (integer centavos and fractions); a choice the solver's
tolerances let through is cut off (or the constraint tightened) and the
model solved again, so an answer always holds exactly. Partial shares that
no rounding keeps within every constraint fall back to whole PPAs (status
``whole_ppas``).

Beside the optimum: the greedy estimate (best objective per peso first,
minimum shares filled first, and the best single PPA when it beats the
sum) with the gap; per constraint its exact slack, whether it binds and its
dual in the LP relaxation (what one more peso of it buys); the PPAs just in
and just out. Infeasible constraints are explained by a deletion filter: a
smallest set of them that cannot hold together, each of which could be
dropped to make the rest possible.
"""

from __future__ import annotations

import heapq
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_array, vstack

from workflow.errors import ServiceUnavailable, ValidationFailed
from workflow.money import from_centavos, to_centavos

ALL_OR_NOTHING = "all_or_nothing"
PARTIAL = "partial"
FUNDING_MODES = (ALL_OR_NOTHING, PARTIAL)
SHARE_DIMENSIONS = ("region", "sector")
SHARE_BASES = ("allocated", "ceiling")
#: Objective values and duals are ``Decimal``s with this many decimals.
OBJECTIVE_PLACES = Decimal("0.000001")
#: Feasibility tolerance asked of HiGHS (in scaled units; default 1e-6/1e-7).
SOLVER_TOLERANCE = 1e-9
#: Solves after which an answer that keeps failing the exact check is refused.
MAX_RESOLVES = 25


class InfeasibleConstraints(ValidationFailed):
    """The constraints cannot all hold together (422).

    Attributes:
        conflicting: the names of a smallest conflicting set of constraints
            (dropping any one of them makes the rest possible).
    """

    code = "infeasible_constraints"
    title = "The constraints cannot all be met"

    def __init__(self, conflicting: Sequence[tuple[str, str]]):
        self.conflicting = tuple(name for name, _ in conflicting)
        lines = [description for _, description in conflicting]
        if len(lines) == 1:
            detail = f"This constraint cannot be met by any choice of PPAs: {lines[0]}."
        else:
            detail = ("These constraints cannot all be met together, and dropping any one of them makes the "
                      "rest possible: " + "; ".join(lines) + ".")
        super().__init__({"constraints": lines}, detail=detail, conflicting=list(self.conflicting))


class OptimiserTimeLimit(ServiceUnavailable):
    """The solver found no answer within its time limit (503; a larger
    limit or a smaller problem may succeed)."""

    code = "optimiser_time_limit"
    title = "The optimiser ran out of time"


# -- the problem ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Need:
    """A community need (issue 15) as the optimiser sees it.

    Attributes:
        id: the need.
        votes: community votes (>= 0); urgency: its urgency level (>= 0,
            ``int`` or ``Decimal``); population: people affected (>= 0).
    """

    id: int
    votes: int = 0
    urgency: int | Decimal = 0
    population: int = 0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A PPA (or proposed PPA) that may be funded.

    Attributes:
        id: the PPA; cost: its full cost, PHP (> 0, to the centavo).
        moa: its implementing MOA; region, sector: for minimum shares.
        needs: the ids of the needs it addresses.
    """

    id: int
    cost: Decimal
    moa: str
    needs: tuple[int, ...] = ()
    region: str | None = None
    sector: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectiveWeights:
    """The weight of each part of a need's score (rule files; each >= 0)."""

    count: Decimal = Decimal(0)
    votes: Decimal = Decimal(1)
    urgency: Decimal = Decimal(1)
    population: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class MoaCap:
    """An MOA's absorptive capacity: at most ``limit`` PHP for its PPAs
    (from its past obligation rate, or a declared limit)."""

    moa: str
    limit: Decimal


@dataclass(frozen=True, slots=True)
class MinimumShare:
    """At least ``percent`` (0–100) of the total allocated (``basis``
    ``allocated``) or of the ceiling (``ceiling``) for the PPAs whose
    ``dimension`` (``region`` or ``sector``) is ``value``."""

    dimension: str
    value: str
    percent: Decimal
    basis: str = "allocated"


@dataclass(frozen=True)
class Problem:
    """Everything ``optimise`` needs.

    Attributes:
        ceiling: the budget ceiling, PHP.
        candidates: the PPAs that may be funded (ids unique).
        needs: at least every need a candidate addresses.
        weights: the objective's weights.
        moa_caps, minimum_shares: the constraints besides the ceiling.
    """

    ceiling: Decimal
    candidates: tuple[Candidate, ...]
    needs: tuple[Need, ...]
    weights: ObjectiveWeights = field(default_factory=ObjectiveWeights)
    moa_caps: tuple[MoaCap, ...] = ()
    minimum_shares: tuple[MinimumShare, ...] = ()


# -- the answer ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConstraintCheck:
    """One constraint checked exactly against an answer.

    Attributes:
        name: stable id: ``ceiling``, ``moa_cap:<moa>``,
            ``minimum_share:<dimension>:<value>``.
        description: the constraint in words.
        sense: ``at_most`` or ``at_least``.
        value: PHP the answer puts under it (the total, the MOA's total, the
            region's or sector's total).
        limit: the PHP bound it must respect (for a share of the total
            allocated: that share of the answer's total, rounded half-up).
        slack: how far inside the bound, PHP, rounded down (negative when
            broken).
        satisfied: exactly, not to a tolerance.
        binding: it keeps the answer from being better: a PPA worth funding
            would break it if added (``at_most``), or a funded PPA could not
            be dropped without breaking it (``at_least``).
        dual: objective gained per peso more of its limit in the LP
            relaxation (``None`` for a share of the total allocated, which has
            no peso limit).
    """

    name: str
    description: str
    sense: str
    value: Decimal
    limit: Decimal
    slack: Decimal
    satisfied: bool
    binding: bool = False
    dual: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """A funding plan and what it achieves.

    Attributes:
        allocations: PPA id -> PHP, funded PPAs only, in candidate order.
        total: their sum, PHP.
        objective: its objective value (rounded to ``OBJECTIVE_PLACES``).
        needs_addressed: the needs fully addressed.
        population_served: the population of those needs.
        feasible: it meets every constraint exactly.
    """

    allocations: dict[int, Decimal]
    total: Decimal
    objective: Decimal
    needs_addressed: tuple[int, ...]
    population_served: int
    feasible: bool


@dataclass(frozen=True, slots=True)
class Marginal:
    """A PPA at the edge of the answer.

    Attributes:
        id, cost: the PPA and its full cost, PHP.
        objective_change: what funding it (just out) or dropping it (just in)
            would add or take away.
        per_million: that change per PHP 1,000,000 of its amount.
        blocked_by: for a PPA just out, the constraints it would break if
            funded in full on top of the answer.
    """

    id: int
    cost: Decimal
    objective_change: Decimal
    per_million: Decimal
    blocked_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """The optimiser's answer.

    Attributes:
        status: ``optimal``; ``time_limit`` (the best found; ``mip_gap``
            bounds how far from the optimum it may be); or ``whole_ppas``
            (partial funding whose shares no rounding to centavos kept within
            every constraint: the all-or-nothing optimum is proposed).
        funding: ``all_or_nothing`` or ``partial``.
        optimum: the proposed funding plan (always exactly feasible).
        greedy: the greedy estimate (``feasible`` False when it could not
            meet every minimum share).
        gap: optimum − greedy objective; gap_percent: of the optimum (None
            when the optimum is 0 or the greedy is infeasible).
        constraints: every constraint checked against the optimum.
        ceiling_dual: objective per peso more of ceiling (LP relaxation).
        just_in, just_out: the funded PPAs that earn least per peso, and the
            unfunded ones that would earn most.
        explanation: the answer in a few plain sentences.
        mip_gap: HiGHS's relative gap at the end (0 when optimal).
    """

    status: str
    funding: str
    optimum: Selection
    greedy: Selection
    gap: Decimal
    gap_percent: Decimal | None
    constraints: tuple[ConstraintCheck, ...]
    ceiling_dual: Decimal | None
    just_in: tuple[Marginal, ...]
    just_out: tuple[Marginal, ...]
    explanation: tuple[str, ...]
    mip_gap: float = 0.0


# -- internals: the problem in centavos and fractions --------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    """A constraint as ``value(group) <= / >= limit``, where the limit is a
    fixed amount of centavos or ``share`` × the total allocated."""

    name: str
    description: str
    sense: str  # at_most | at_least
    group: frozenset[int] | None  # candidate indexes; None = all
    fixed: int  # centavos (0 when proportional)
    share: Fraction  # of the total allocated (0 when fixed)

    def coefficient(self, index: int) -> Fraction:
        """d(value - limit) / d(allocation of candidate ``index``)."""
        inside = 1 if self.group is None or index in self.group else 0
        return inside - self.share

    def slack(self, group_total: int, total: int) -> Fraction:
        """How far inside the bound (negative when broken), centavos."""
        limit = self.fixed + self.share * total if self.share else self.fixed  # integers stay integers: fast
        return limit - group_total if self.sense == "at_most" else group_total - limit


class _Prepared:
    """The validated problem: costs in centavos, scores as fractions, needs
    and constraints as indexes."""

    def __init__(self, problem: Problem, funding: str, minimum_funding_percent: Decimal):
        errors: dict[str, list[str]] = {}
        if funding not in FUNDING_MODES:
            errors["funding"] = [f"must be one of {', '.join(FUNDING_MODES)}"]
        if not Decimal(0) <= minimum_funding_percent <= 100:
            errors["minimum_funding_percent"] = ["must be between 0 and 100"]
        self.ceiling = _centavos(problem.ceiling, "ceiling", errors)
        self.candidates = list(problem.candidates)
        self.costs: list[int] = []
        seen: set[int] = set()
        needs_by_id = {need.id: need for need in problem.needs}
        for candidate in self.candidates:
            key = f"candidates.{candidate.id}"
            if candidate.id in seen:
                errors.setdefault(key, []).append("appears twice")
            seen.add(candidate.id)
            cost = _centavos(candidate.cost, f"{key}.cost", errors)
            if cost == 0 and f"{key}.cost" not in errors:
                errors[f"{key}.cost"] = ["must be more than 0"]
            self.costs.append(cost)
            missing = [n for n in candidate.needs if n not in needs_by_id]
            if missing:
                errors.setdefault(key, []).append(f"addresses unknown needs {missing}")
        self.index = {c.id: k for k, c in enumerate(self.candidates)}
        for name in ("count", "votes", "urgency", "population"):
            if not getattr(problem.weights, name) >= 0:
                errors[f"weights.{name}"] = ["must not be negative"]
        # The needs in play, in first-seen order, each with the candidates addressing it.
        self.need_ids: list[int] = []
        self.addressed_by: list[list[int]] = []
        position: dict[int, int] = {}
        self.needs_of: list[list[int]] = []
        for k, candidate in enumerate(self.candidates):
            mine = []
            for need_id in dict.fromkeys(candidate.needs):
                if need_id not in needs_by_id:
                    continue
                if need_id not in position:
                    position[need_id] = len(self.need_ids)
                    self.need_ids.append(need_id)
                    self.addressed_by.append([])
                self.addressed_by[position[need_id]].append(k)
                mine.append(position[need_id])
            self.needs_of.append(mine)
        in_play = [needs_by_id[n] for n in self.need_ids]
        for need in in_play:
            if not (need.votes >= 0 and need.urgency >= 0 and need.population >= 0):
                errors[f"needs.{need.id}"] = ["votes, urgency and population must not be negative"]
        self.rows = self._rows(problem, errors)
        if errors:
            raise ValidationFailed(errors)
        self.funding = funding
        self.min_share = Fraction(minimum_funding_percent) / 100
        self.population = [needs_by_id[n].population for n in self.need_ids]
        self.scores = _scores(in_play, problem.weights)

    def _rows(self, problem: Problem, errors: dict[str, list[str]]) -> list[_Row]:
        rows = [_Row("ceiling", f"the total must not exceed the ceiling of {_php(self.ceiling)}", "at_most",
                     None, self.ceiling, Fraction(0))]
        caps: set[str] = set()
        for cap in problem.moa_caps:
            key = f"moa_caps.{cap.moa}"
            if cap.moa in caps:
                errors.setdefault(key, []).append("appears twice")
            caps.add(cap.moa)
            limit = _centavos(cap.limit, key, errors)
            group = frozenset(k for k, c in enumerate(self.candidates) if c.moa == cap.moa)
            rows.append(_Row(f"moa_cap:{cap.moa}", f"{cap.moa} can absorb at most {_php(limit)}", "at_most",
                             group, limit, Fraction(0)))
        summed: dict[tuple[str, str], Fraction] = {}
        for share in problem.minimum_shares:
            key = f"minimum_shares.{share.dimension}:{share.value}"
            if share.dimension not in SHARE_DIMENSIONS:
                errors[key] = [f"dimension must be one of {', '.join(SHARE_DIMENSIONS)}"]
                continue
            if share.basis not in SHARE_BASES:
                errors[key] = [f"basis must be one of {', '.join(SHARE_BASES)}"]
                continue
            if not Decimal(0) <= share.percent <= 100:
                errors[key] = ["percent must be between 0 and 100"]
                continue
            fraction = Fraction(share.percent) / 100
            summed[(share.dimension, share.basis)] = summed.get((share.dimension, share.basis), 0) + fraction
            group = frozenset(k for k, c in enumerate(self.candidates)
                              if getattr(c, share.dimension) == share.value)
            name = f"minimum_share:{share.dimension}:{share.value}"
            if share.basis == "ceiling":
                required = math.ceil(fraction * self.ceiling)
                rows.append(_Row(name, f"{share.dimension} {share.value} must get at least {share.percent} % of the "
                                 f"ceiling ({_php(required)})", "at_least", group, required, Fraction(0)))
            else:
                rows.append(_Row(name, f"{share.dimension} {share.value} must get at least {share.percent} % of "
                                 "the total allocated", "at_least", group, 0, fraction))
        for (dimension, basis), total in summed.items():
            if total > 1:
                errors[f"minimum_shares.{dimension}"] = [
                    f"the minimum shares by {dimension} of the {basis} add up to {float(total * 100):g} %, "
                    "more than 100 %"]
        if len({r.name for r in rows}) != len(rows):
            errors.setdefault("minimum_shares", []).append("a region or sector is named twice")
        return rows

    # exact evaluation

    def coverage(self, amounts: Sequence[int]) -> list[Fraction]:
        """Per need in play: how much of it is addressed (0..1)."""
        covered = []
        for addressing in self.addressed_by:
            total = Fraction(0)
            for k in addressing:
                if amounts[k]:
                    total += Fraction(amounts[k], self.costs[k])
                    if total >= 1:
                        break
            covered.append(min(total, Fraction(1)))
        return covered

    def objective(self, amounts: Sequence[int]) -> Fraction:
        return sum((s * c for s, c in zip(self.scores, self.coverage(amounts), strict=True)), Fraction(0))

    def row_state(self, row: _Row, amounts: Sequence[int]) -> tuple[int, int]:
        """(group total, total) in centavos."""
        total = sum(amounts)
        group_total = total if row.group is None else sum(amounts[k] for k in row.group)
        return group_total, total

    def check(self, amounts: Sequence[int]) -> list[tuple[_Row, int, int, Fraction]]:
        """Per row: (row, group total, total, exact slack)."""
        out = []
        for row in self.rows:
            group_total, total = self.row_state(row, amounts)
            out.append((row, group_total, total, row.slack(group_total, total)))
        return out

    def feasible(self, amounts: Sequence[int]) -> bool:
        return all(slack >= 0 for *_, slack in self.check(amounts)) and self.within_bounds(amounts)

    def within_bounds(self, amounts: Sequence[int]) -> bool:
        """Each amount is 0 or between the minimum share and the full cost
        (all-or-nothing: exactly the cost)."""
        for amount, cost in zip(amounts, self.costs, strict=True):
            if amount == 0:
                continue
            if self.funding == ALL_OR_NOTHING:
                if amount != cost:
                    return False
            elif not (self.min_share * cost <= amount <= cost):
                return False
        return True


def _scores(needs: Sequence[Need], weights: ObjectiveWeights) -> list[Fraction]:
    """Each need's score: the weighted sum of its normalised attributes."""
    largest = {name: max((Fraction(getattr(n, name)) for n in needs), default=Fraction(0))
               for name in ("votes", "urgency", "population")}
    scores = []
    for need in needs:
        score = Fraction(weights.count)
        for name in ("votes", "urgency", "population"):
            if largest[name]:
                score += Fraction(getattr(weights, name)) * Fraction(getattr(need, name)) / largest[name]
        scores.append(score)
    return scores


def _centavos(amount: Decimal, key: str, errors: dict[str, list[str]]) -> int:
    try:
        value = to_centavos(Decimal(amount))
    except (ValueError, ArithmeticError):
        errors[key] = ["must be an amount in PHP with at most two decimals"]
        return 0
    if value < 0:
        errors[key] = ["must not be negative"]
        return 0
    return value


def _php(centavos: int | Fraction) -> str:
    return f"PHP {from_centavos(int(centavos)):,}"


def _decimal(value: Fraction | float, places: Decimal = OBJECTIVE_PLACES, rounding=ROUND_HALF_UP) -> Decimal:
    if isinstance(value, float):
        return Decimal(str(float(value))).quantize(places, rounding=rounding)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(places, rounding=rounding)


# -- internals: the solver -----------------------------------------------------


class _Model:
    """The float model HiGHS solves: x (one per candidate: the funded share
    of its cost) and z (one per need in play: how much of it is addressed).
    Money rows are divided by ``scale`` centavos so coefficients are O(1)."""

    def __init__(self, prepared: _Prepared):
        self.p = prepared
        self.n, self.m = len(prepared.costs), len(prepared.need_ids)
        self.scale = max([prepared.ceiling, 1, *prepared.costs])
        top = max(prepared.scores, default=Fraction(0))
        self.score_scale = float(top) if top else 1.0
        self.objective = np.concatenate([np.zeros(self.n),
                                         -np.array([float(s) for s in prepared.scores]) / self.score_scale])
        costs = np.array(prepared.costs, dtype=float) / self.scale
        self.row_matrix = {}
        for row in prepared.rows:
            coefficients = np.full(self.n, -float(row.share))
            members = np.arange(self.n) if row.group is None else np.fromiter(row.group, dtype=int)
            coefficients[members] += 1.0
            self.row_matrix[row.name] = coefficients * costs
        # Coverage: z_need - sum of x over the candidates addressing it <= 0.
        rows, cols, vals = [], [], []
        for j, addressing in enumerate(prepared.addressed_by):
            rows.append(j)
            cols.append(self.n + j)
            vals.append(1.0)
            for k in addressing:
                rows.append(j)
                cols.append(k)
                vals.append(-1.0)
        self.coverage = csr_array((vals, (rows, cols)), shape=(self.m, self.n + self.m))
        self.margin: dict[str, int] = {}  # centavos a row is tightened by after an exact check failed
        self.cuts: list[list[int]] = []  # sets of candidates (all-or-nothing) that failed the exact check

    def _constraint_rows(self, names: Iterable[str] | None = None, with_needs: bool = True):
        width = self.n + self.m if with_needs else self.n
        chosen = [r for r in self.p.rows if names is None or r.name in names]
        blocks, lower, upper = [], [], []
        for row in chosen:
            line = np.zeros(width)
            line[: self.n] = self.row_matrix[row.name]
            blocks.append(line)
            bound = (row.fixed + (self.margin.get(row.name, 0) * (-1 if row.sense == "at_most" else 1))) / self.scale
            lower.append(bound if row.sense == "at_least" else -np.inf)
            upper.append(bound if row.sense == "at_most" else np.inf)
        for cut in self.cuts if names is None else ():
            line = np.zeros(width)
            line[cut] = 1.0
            blocks.append(line)
            lower.append(-np.inf)
            upper.append(len(cut) - 1)
        return chosen, blocks, lower, upper

    def _bounds(self, relaxed: bool, with_needs: bool = True):
        lower = np.zeros(self.n + (self.m if with_needs else 0))
        upper = np.ones_like(lower)
        integrality = np.zeros_like(lower)
        if not relaxed:
            if self.p.funding == ALL_OR_NOTHING:
                integrality[: self.n] = 1
            elif self.p.min_share:
                integrality[: self.n] = 2  # semi-continuous: 0, or between the minimum share and 1
                lower[: self.n] = float(self.p.min_share)
        return lower, upper, integrality

    def solve(self, time_limit: float, names: Iterable[str] | None = None, feasibility_only: bool = False):
        """Solve the model (or, for a feasibility check, only the rows in
        ``names`` without the needs). Returns ``(status, x, mip_gap)``:
        status ``optimal``, ``infeasible`` or ``time_limit``."""
        with_needs = not feasibility_only
        _, blocks, lower, upper = self._constraint_rows(names, with_needs)
        matrix = csr_array(np.array(blocks)) if blocks else csr_array((0, self.n + (self.m if with_needs else 0)))
        constraints = [LinearConstraint(matrix, lower, upper)] if blocks else []
        if with_needs and self.m:
            constraints.append(LinearConstraint(self.coverage, -np.inf, 0.0))
        c = self.objective if with_needs else np.zeros(self.n)
        lb, ub, integrality = self._bounds(relaxed=False, with_needs=with_needs)
        options = {"time_limit": time_limit, "mip_rel_gap": 0.0, "mip_abs_gap": 0.0,
                   "mip_feasibility_tolerance": SOLVER_TOLERANCE, "primal_feasibility_tolerance": SOLVER_TOLERANCE}
        with warnings.catch_warnings():
            # mip_abs_gap and the tolerances go to HiGHS verbatim, as scipy documents, with a warning.
            warnings.filterwarnings("ignore", message="Unrecognized options", category=RuntimeWarning)
            result = milp(c, integrality=integrality, bounds=Bounds(lb, ub), constraints=constraints,
                          options=options)
        if result.status == 2:
            return "infeasible", None, None
        if result.x is None:
            if result.status == 1:
                raise OptimiserTimeLimit(f"the solver found no funding plan within {time_limit:g} seconds")
            raise RuntimeError(f"HiGHS failed: {result.message}")
        return ("optimal" if result.status == 0 else "time_limit"), result.x[: self.n], (result.mip_gap or 0.0)

    def relaxation_duals(self) -> dict[str, float]:
        """Per constraint: objective gained per centavo more of its limit in
        the LP relaxation (HiGHS's marginals, unscaled)."""
        chosen, blocks, lower, upper = self._constraint_rows()
        a_ub, b_ub = [], []
        for line, lo, hi in zip(blocks, lower, upper, strict=True):
            if np.isfinite(hi):
                a_ub.append(line)
                b_ub.append(hi)
            else:
                a_ub.append(-line)
                b_ub.append(-lo)
        matrix = csr_array(np.array(a_ub)) if a_ub else csr_array((0, self.n + self.m))
        if self.m:
            matrix = vstack([matrix, self.coverage]).tocsr()
            b_ub = [*b_ub, *([0.0] * self.m)]
        lb, ub, _ = self._bounds(relaxed=True)
        result = linprog(self.objective, A_ub=matrix, b_ub=np.array(b_ub), bounds=np.column_stack([lb, ub]),
                         method="highs", options={"primal_feasibility_tolerance": SOLVER_TOLERANCE})
        if result.status != 0:
            return {}
        marginals = result.ineqlin.marginals
        duals = {}
        for k, row in enumerate(chosen):
            sign = 1.0 if row.sense == "at_most" else -1.0
            # d(-objective/score_scale) / d(limit/scale) = marginal; flip to "objective per centavo".
            duals[row.name] = -sign * marginals[k] * self.score_scale / self.scale
        return duals


def _floor(value: float) -> int:
    """Floor of a solver's amount in centavos, reading 4999.9999999 as the
    5000 it stands for (a millionth of a centavo, or 1e-12 relative)."""
    return math.floor(value + max(1e-6, abs(value) * 1e-12))


def _round_shares(prepared: _Prepared, x: np.ndarray) -> list[int]:
    """The solver's shares as centavos: full costs (all-or-nothing), or
    floors (raised to a PPA's minimum share, never above its cost), then the
    centavos still under the solver's total handed out one each by largest
    remainder, only where the ceiling and every cap still have room."""
    p = prepared
    costs = p.costs
    if p.funding == ALL_OR_NOTHING:
        return [cost if share > 0.5 else 0 for cost, share in zip(costs, x, strict=True)]
    exact = [max(0.0, float(share)) * cost for share, cost in zip(x, costs, strict=True)]
    amounts = []
    for value, cost in zip(exact, costs, strict=True):
        least = math.ceil(p.min_share * cost)
        funded = value >= least / 2 if least else True
        amounts.append(min(cost, max(_floor(value), least)) if funded else 0)
    missing = min(p.ceiling, _floor(sum(exact))) - sum(amounts)
    if missing > 0:
        state = {row.name: p.row_state(row, amounts) for row in p.rows if row.sense == "at_most"}
        packing = [row for row in p.rows if row.sense == "at_most"]
        order = sorted((k for k, (a, c) in enumerate(zip(amounts, costs, strict=True)) if 0 < a < c),
                       key=lambda k: (-(exact[k] - math.floor(exact[k])), k))
        for k in order[:missing]:
            rows = [row for row in packing if row.group is None or k in row.group]
            if all(row.slack(state[row.name][0] + 1, state[row.name][1] + 1) >= 0 for row in rows):
                amounts[k] += 1
                for row in rows:
                    state[row.name] = (state[row.name][0] + 1, state[row.name][1] + 1)
    return amounts


def _repair(p: _Prepared, amounts: list[int]) -> None:
    """Partial funding: mend the few centavos by which flooring (or raising
    to a minimum share) left a constraint broken, in place: a cap or the
    ceiling over by some centavos gives them back from its PPAs funded above
    their minimum; a minimum share short by some centavos takes them from
    the room its own PPAs still have, after freeing room by trimming PPAs
    outside it. What cannot be mended is left for a solve with that
    constraint tightened."""
    least = [math.ceil(p.min_share * c) if p.min_share else 1 for c in p.costs]

    def inside(row: _Row, k: int) -> bool:
        return row.group is None or k in row.group

    def room(k: int) -> int:
        """Centavos k could still take under the ceiling and the caps."""
        free = p.costs[k] - amounts[k]
        for row in p.rows:
            if row.sense == "at_most" and inside(row, k):
                free = min(free, math.floor(row.slack(*p.row_state(row, amounts))))
        return max(0, free) if amounts[k] or free >= least[k] else 0

    for row in p.rows:
        if row.sense == "at_most":
            excess = -row.slack(*p.row_state(row, amounts))
            for k in sorted((k for k in range(len(amounts)) if amounts[k] > least[k] and inside(row, k)),
                            key=lambda k: amounts[k] - least[k], reverse=True):
                if excess <= 0:
                    break
                give_back = min(amounts[k] - least[k], math.ceil(excess))
                amounts[k] -= give_back
                excess -= give_back
    for row in p.rows:
        if row.sense != "at_least" or row.group is None:
            continue
        for trim in (False, True):
            if trim:  # free room outside the share's region or sector: 1 centavo above the minimum at a time
                for k in range(len(amounts)):
                    if row.slack(*p.row_state(row, amounts)) >= 0:
                        break
                    if k not in row.group and amounts[k] > least[k]:
                        amounts[k] -= min(amounts[k] - least[k], math.ceil(-row.slack(*p.row_state(row, amounts))))
            for k in sorted(row.group):
                short = -row.slack(*p.row_state(row, amounts))
                if short <= 0:
                    break
                needed = math.ceil(short / (1 - row.share)) if row.share < 1 else 0
                amounts[k] += min(room(k), needed)


def _top_up(p: _Prepared, amounts: list[int], x: np.ndarray) -> None:
    """Partial funding: a need the solver addressed in full can fall a
    fraction of a centavo short once amounts are floored; add the centavos
    that complete it to one of its funded PPAs, where every constraint still
    holds exactly (in place)."""
    state = {row.name: list(p.row_state(row, amounts)) for row in p.rows}
    for j, addressing in enumerate(p.addressed_by):
        covered = sum((Fraction(amounts[k], p.costs[k]) for k in addressing if amounts[k]), Fraction(0))
        if covered >= 1 or sum(float(x[k]) for k in addressing) < 1 - 1e-6:
            continue
        for k in addressing:
            more = math.ceil((1 - covered) * p.costs[k])
            if not amounts[k] or amounts[k] + more > p.costs[k]:
                continue
            inside = [row.group is None or k in row.group for row in p.rows]
            if all(row.slack(state[row.name][0] + (more if i else 0), state[row.name][1] + more) >= 0
                   for row, i in zip(p.rows, inside, strict=True)):
                amounts[k] += more
                for row, i in zip(p.rows, inside, strict=True):
                    state[row.name][1] += more
                    state[row.name][0] += more if i else 0
                break


# -- the greedy estimate --------------------------------------------------------


def _greedy(prepared: _Prepared) -> list[int]:
    """The greedy estimate (seed 004: "greedy algorithm for quick
    estimates"), in centavos per candidate.

    1. Each minimum share of the ceiling is filled with its own PPAs, best
       objective per peso first.
    2. Every PPA that still fits under the ceiling and the caps is added,
       best objective per peso first (a lazy priority queue: a PPA's gain
       only shrinks as needs get covered). With partial funding a PPA that
       does not fit in full gets what is left, if that reaches its minimum
       share.
    3. While a minimum share of the total allocated is unmet, the best PPA
       of its region or sector that fits is added, or else the funded PPA
       outside it that earns least per peso is dropped.
    4. The best single PPA replaces the lot when it alone scores more (the
       classic guard of the greedy for budgeted coverage).
    """
    p = prepared
    amounts = [0] * len(p.costs)
    coverage = [Fraction(0)] * len(p.need_ids)  # uncapped: the funded shares addressing each need
    state = {row.name: [0, 0] for row in p.rows}  # group total, total

    def change(k: int, amount: int) -> Fraction:
        """Objective gained by adding ``amount`` to k (negative amount: lost by taking it away)."""
        fraction = Fraction(amount, p.costs[k])
        return sum((p.scores[j] * (min(Fraction(1), coverage[j] + fraction) - min(Fraction(1), coverage[j]))
                    for j in p.needs_of[k]), Fraction(0))

    def largest_fit(k: int) -> int:
        """The most of k that the ceiling and the caps leave room for (0 when it cannot be funded)."""
        room = p.costs[k] - amounts[k]
        for row in p.rows:
            if row.sense == "at_most" and (row.group is None or k in row.group):
                room = min(room, math.floor(row.slack(*state[row.name])))
        if p.funding == ALL_OR_NOTHING:
            return room if room == p.costs[k] else 0
        if amounts[k] == 0 and room < max(1, math.ceil(p.min_share * p.costs[k])):
            return 0
        return max(room, 0)

    def add(k: int, amount: int) -> None:
        fraction = Fraction(amount, p.costs[k])
        for j in p.needs_of[k]:
            coverage[j] += fraction
        amounts[k] += amount
        for row in p.rows:
            state[row.name][1] += amount
            if row.group is None or k in row.group:
                state[row.name][0] += amount

    def fill(members: Iterable[int], until=None) -> None:
        heap = []
        for k in members:
            rest = p.costs[k] - amounts[k]
            if rest:
                heap.append((-change(k, rest) / rest, k))
        heapq.heapify(heap)
        while heap and (until is None or not until()):
            _, k = heapq.heappop(heap)
            amount = largest_fit(k)
            if amount <= 0:
                continue
            ratio = change(k, amount) / amount
            if heap and -heap[0][0] > ratio:  # stale: its gain shrank since it was queued
                heapq.heappush(heap, (-ratio, k))
                continue
            if ratio <= 0 and until is None:
                break
            add(k, amount)

    def unmet() -> _Row | None:
        return next((row for row in p.rows if row.sense == "at_least" and row.slack(*state[row.name]) < 0), None)

    for row in p.rows:
        if row.sense == "at_least" and not row.share and row.group:
            fill(sorted(row.group), until=lambda row=row: row.slack(*state[row.name]) >= 0)
    fill(range(len(p.costs)))
    for _ in range(2 * len(p.costs)):
        row = unmet()
        if row is None or row.group is None:
            break
        fits = [(change(k, a) / a, -k, k, a) for k in row.group if (a := largest_fit(k)) > 0]
        if fits:
            *_, k, amount = max(fits)
            add(k, amount)
            continue
        outside = [(-change(k, -amounts[k]) / amounts[k], k) for k, a in enumerate(amounts) if a and k not in row.group]
        if not outside:
            break
        _, k = min(outside)
        add(k, -amounts[k])
    best = _best_single(p)
    if best is not None and (unmet() is not None or p.objective(best) > p.objective(amounts)):
        return best
    return amounts


def _best_single(p: _Prepared) -> list[int] | None:
    """The one PPA that, funded alone and in full, meets every constraint
    and scores most (``None`` when none can stand alone)."""
    best, best_value = None, Fraction(-1)
    for k, cost in enumerate(p.costs):
        if all(row.slack(cost if row.group is None or k in row.group else 0, cost) >= 0 for row in p.rows):
            value = sum((p.scores[j] for j in p.needs_of[k]), Fraction(0))
            if value > best_value:
                best, best_value = k, value
    if best is None:
        return None
    amounts = [0] * len(p.costs)
    amounts[best] = p.costs[best]
    return amounts


# -- explaining -------------------------------------------------------------------


def _selection(p: _Prepared, amounts: Sequence[int]) -> Selection:
    coverage = p.coverage(amounts)
    addressed = [j for j, c in enumerate(coverage) if c == 1]
    return Selection(
        allocations={p.candidates[k].id: from_centavos(a) for k, a in enumerate(amounts) if a},
        total=from_centavos(sum(amounts)), objective=_decimal(p.objective(amounts)),
        needs_addressed=tuple(p.need_ids[j] for j in addressed),
        population_served=sum(p.population[j] for j in addressed), feasible=p.feasible(amounts))


def _marginals(p: _Prepared, amounts: Sequence[int], top: int):
    """The funded PPAs that earn least per peso (just in) and the unfunded
    or partly funded ones that would earn most (just out)."""
    coverage = [Fraction(0)] * len(p.need_ids)
    for k, amount in enumerate(amounts):
        if amount:
            for j in p.needs_of[k]:
                coverage[j] += Fraction(amount, p.costs[k])
    capped = [min(Fraction(1), c) for c in coverage]
    checks = {row.name: (row, *p.row_state(row, amounts)) for row in p.rows}
    ins, outs = [], []
    for k, amount in enumerate(amounts):
        if amount:
            loss = sum((p.scores[j] * (capped[j] - min(Fraction(1), coverage[j] - Fraction(amount, p.costs[k])))
                        for j in p.needs_of[k]), Fraction(0))
            ins.append((loss / amount, k, loss))
        if amount < p.costs[k]:
            more = p.costs[k] - amount
            gain = sum((p.scores[j] * (min(Fraction(1), coverage[j] + Fraction(more, p.costs[k])) - capped[j])
                        for j in p.needs_of[k]), Fraction(0))
            if gain > 0:
                # The least that could be added: the rest (all-or-nothing), else a centavo or its minimum share.
                least = more if p.funding == ALL_OR_NOTHING else (
                    1 if amount else max(1, math.ceil(p.min_share * p.costs[k])))
                outs.append((gain / more, k, gain, more, least))
    ins.sort(key=lambda t: (t[0], t[1]))
    outs.sort(key=lambda t: (-t[0], t[1]))

    def blocked(k: int, more: int) -> tuple[str, ...]:
        names = []
        for row, group_total, total in checks.values():
            inside = row.group is None or k in row.group
            if row.slack(group_total + (more if inside else 0), total + more) < 0:
                names.append(row.name)
        return tuple(names)

    just_in = tuple(Marginal(p.candidates[k].id, from_centavos(p.costs[k]), -_decimal(loss),
                             -_decimal(ratio * 100_000_000)) for ratio, k, loss in ins[:top])
    just_out = tuple(Marginal(p.candidates[k].id, from_centavos(p.costs[k]), _decimal(gain),
                              _decimal(ratio * 100_000_000), blocked(k, more))
                     for ratio, k, gain, more, _ in outs[:top])
    return just_in, just_out, ins, outs


def _constraint_checks(p: _Prepared, amounts: Sequence[int], duals: Mapping[str, float],
                       ins: Sequence, outs: Sequence) -> tuple[ConstraintCheck, ...]:
    checks = []
    for row, group_total, total, slack in p.check(amounts):
        # Binding: some PPA worth funding (just out) would break it, or dropping a funded one would.
        if row.sense == "at_most":
            binding = any((row.group is None or k in row.group) and slack < least for _, k, _, _, least in outs)
        else:
            binding = any(row.slack(group_total - (amounts[k] if row.group is None or k in row.group else 0),
                                    total - amounts[k]) < 0 for _, k, _ in ins)
        limit = row.fixed + row.share * total
        dual = duals.get(row.name) if not row.share else None
        checks.append(ConstraintCheck(
            name=row.name, description=row.description, sense=row.sense, value=from_centavos(group_total),
            limit=_decimal(limit / 100, Decimal("0.01")), slack=_decimal(slack / 100, Decimal("0.01"), ROUND_FLOOR),
            satisfied=slack >= 0, binding=binding,
            dual=None if dual is None else _decimal(dual * 100, Decimal("0.000000000001"))))
    return tuple(checks)


def _explain(p: _Prepared, optimum: Selection, greedy_: Selection, checks, ceiling_dual, just_out, gap_percent):
    lines = [f"Funds {len(optimum.allocations)} of {len(p.candidates)} candidate PPAs for "
             f"{_php(to_centavos(optimum.total))} of the {_php(p.ceiling)} ceiling "
             f"({_php(p.ceiling - to_centavos(optimum.total))} left); objective {optimum.objective}, "
             f"{len(optimum.needs_addressed)} needs addressed, population {optimum.population_served:,}."]
    if greedy_.feasible:
        lines.append(f"The greedy estimate scores {greedy_.objective}"
                     + (f", {gap_percent} % below the optimum." if gap_percent else ", as much as the optimum."))
    else:
        lines.append("The greedy estimate could not meet every minimum share.")
    binding = [c.description for c in checks if c.binding]
    lines.append("Binding: " + "; ".join(binding) + "." if binding else "No constraint binds.")
    if ceiling_dual == 0:
        lines.append("More ceiling would add nothing to the objective (LP relaxation).")
    elif ceiling_dual is not None:
        lines.append(f"One more peso of ceiling would add {ceiling_dual:f} to the objective in the LP relaxation "
                     f"({(ceiling_dual * 1_000_000).quantize(Decimal('0.0001')):f} per million pesos).")
    for marginal in just_out[:3]:
        reason = f", blocked by {', '.join(marginal.blocked_by)}" if marginal.blocked_by else ""
        lines.append(f"Just out: PPA {marginal.id} ({_php(to_centavos(marginal.cost))}, would add "
                     f"{marginal.objective_change}{reason}).")
    return tuple(lines)


# -- the entry point ----------------------------------------------------------------


def optimise(problem: Problem, *, funding: str = ALL_OR_NOTHING, minimum_funding_percent: Decimal = Decimal(0),
             time_limit: float = 60.0, top: int = 5) -> Proposal:
    """Propose which PPAs to fund, and explain the proposal.

    Args:
        problem: the ceiling, candidates, needs, weights and constraints.
        funding: ``all_or_nothing`` (default) or ``partial`` (rule files).
        minimum_funding_percent: with partial funding, the least share of a
            PPA's cost it may get if funded at all (0–100).
        time_limit: seconds HiGHS may take (the best answer found so far is
            returned with status ``time_limit``).
        top: how many PPAs to list just in and just out.

    Returns:
        A ``Proposal`` whose ``optimum`` meets every constraint exactly.

    Raises:
        ValidationFailed: bad input, per field (``candidates.<id>.cost``,
            ``moa_caps.<moa>``, ``minimum_shares.<dimension>``, ...).
        InfeasibleConstraints: no choice of PPAs meets the constraints; names
            a smallest conflicting set.
        OptimiserTimeLimit: HiGHS found no answer within ``time_limit``.
    """
    p = _Prepared(problem, funding, minimum_funding_percent)
    model = _Model(p)
    try:
        status, amounts, mip_gap = _solve_exactly(p, model, time_limit)
    except _NotRoundable:
        # Partial shares that no rounding to centavos keeps within every constraint (a share met only to
        # within a centavo): whole PPAs always round exactly, and are feasible partial answers too.
        _, amounts, mip_gap = _solve_exactly(_Prepared(problem, ALL_OR_NOTHING, Decimal(0)), None, time_limit)
        status = "whole_ppas"
    estimate = _greedy(p)
    optimum_selection, greedy_selection = _selection(p, amounts), _selection(p, estimate)
    duals = model.relaxation_duals()
    just_in, just_out, ins, outs = _marginals(p, amounts, top)
    checks = _constraint_checks(p, amounts, duals, ins, outs)
    best, rough = p.objective(amounts), p.objective(estimate)
    gap = _decimal(best - rough)
    gap_percent = _decimal((best - rough) * 100 / best, Decimal("0.01")) if best and greedy_selection.feasible \
        else None
    ceiling_dual = next((c.dual for c in checks if c.name == "ceiling"), None)
    return Proposal(
        status=status, funding=funding, optimum=optimum_selection, greedy=greedy_selection, gap=gap,
        gap_percent=gap_percent, constraints=checks, ceiling_dual=ceiling_dual, just_in=just_in,
        just_out=just_out,
        explanation=(("Partial shares could not be rounded to centavos within every constraint; whole PPAs are "
                      "proposed instead.",) if status == "whole_ppas" else ())
        + _explain(p, optimum_selection, greedy_selection, checks, ceiling_dual, just_out, gap_percent),
        mip_gap=float(mip_gap or 0.0))


class _NotRoundable(Exception):
    """Partial shares that could not be rounded to centavos within every constraint."""


def _solve_exactly(p: _Prepared, model: _Model | None, time_limit: float) -> tuple[str, list[int], float]:
    """Solve, round to centavos and check exactly; solve again while the
    answer breaks a constraint by what HiGHS's tolerances let through.

    Returns:
        ``(status, centavos per candidate, mip gap)``.

    Raises:
        InfeasibleConstraints: with a smallest conflicting set.
        _NotRoundable: partial shares that rounding keeps breaking.
    """
    model = model or _Model(p)
    for _ in range(MAX_RESOLVES):
        status, x, mip_gap = model.solve(time_limit)
        if status == "infeasible" and model.margin:
            raise _NotRoundable
        if status == "infeasible":
            raise InfeasibleConstraints(_conflicting(model, time_limit))
        amounts = _round_shares(p, x)
        if p.funding == PARTIAL:
            _repair(p, amounts)
            _top_up(p, amounts, x)
        broken = [(row, slack) for row, _, _, slack in p.check(amounts) if slack < 0]
        if not broken and p.within_bounds(amounts):
            return status, amounts, mip_gap
        # Within HiGHS's tolerances but not exactly: cut this choice off (all-or-nothing) or tighten
        # the broken rows by what they missed (partial), then solve again.
        if p.funding == ALL_OR_NOTHING:
            model.cuts.append([k for k, a in enumerate(amounts) if a])
        else:
            for row, slack in broken:
                model.margin[row.name] = model.margin.get(row.name, 0) + math.ceil(-slack) + 1
    if p.funding == PARTIAL:
        raise _NotRoundable
    raise RuntimeError("the solver's answers kept failing the exact check")


def _conflicting(model: _Model, time_limit: float) -> list[tuple[str, str]]:
    """A deletion filter over the constraints: drop each in turn and keep it
    out when the rest are still infeasible; what remains is an irreducible
    infeasible set (each of its members is needed for the conflict)."""
    names = [row.name for row in model.p.rows]
    kept = list(names)
    for name in names:
        trial = [n for n in kept if n != name]
        status, _, _ = model.solve(time_limit, names=trial, feasibility_only=True)
        if status == "infeasible":
            kept = trial
    by_name = {row.name: row for row in model.p.rows}
    return [(name, by_name[name].description) for name in kept]


def evaluate(problem: Problem, allocations: Mapping[int, Decimal], *, funding: str = ALL_OR_NOTHING,
             minimum_funding_percent: Decimal = Decimal(0)) -> tuple[Fraction, bool]:
    """The exact objective of a funding plan and whether it meets every
    constraint (and each amount's bounds): for comparing scenarios and for
    tests.

    Args:
        allocations: PPA id -> PHP (absent = not funded).

    Returns:
        ``(objective as a Fraction, feasible)``.
    """
    p = _Prepared(problem, funding, minimum_funding_percent)
    amounts = [0] * len(p.costs)
    for ppa_id, amount in allocations.items():
        amounts[p.index[ppa_id]] = to_centavos(amount)
    return p.objective(amounts), p.feasible(amounts)
