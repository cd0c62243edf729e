"""Earned value of a PPA's work-breakdown structure (issue 16 §3, seed 001
§9.1). Pure: the caller loads the baseline, the leaves' progress and the
actual costs, calls ``Baseline.measure`` and shows or saves the result.

The rules, per node of the WBS, as of the end of a given day:

- **Baseline**: each work item's allocation and planned dates, captured once
  (at enactment). An item without dates takes its nearest dated ancestor's.
- **BAC** (budget at completion) = the sum of the budgets of the node's
  leaves. Money a parent keeps undistributed (its allocation less its
  children's) is outside the measurement baseline, like a management
  reserve, and earns nothing.
- **PV** (planned value) = the sum over the node's leaves of the part of the
  leaf's budget planned by that day. The method (``PV_METHODS``, set from the
  rule files) is ``linear`` by default: the leaf's budget is split over its
  calendar days, start and due date both counted, by the largest-remainder
  method (docs/design.md §2; the extra centavos fall on the earlier days), and
  PV counts the days up to and including ``as_of``. ``start`` plans the whole
  budget on the first day, ``finish`` on the due date, ``fifty_fifty`` half on
  each (the larger half first).
- **EV** (earned value) = the sum over the node's leaves of leaf progress ×
  leaf budget, each rounded half-up to the centavo. A parent's own progress
  never earns (that would count its children's work a second time).
- **AC** (actual cost) = the actual costs charged to the node and to its
  descendants (issue 12: the disbursements charged).
- SV = EV − PV, CV = EV − AC, SPI = EV / PV, CPI = EV / AC,
  TCPI = (BAC − EV) / (BAC − AC); EAC by ``EAC_METHODS``: ``cpi``
  (BAC / CPI, the default), ``plan_rate`` (AC + BAC − EV) or ``cpi_spi``
  (AC + (BAC − EV) / (CPI × SPI)); ETC = EAC − AC; VAC = BAC − EAC.

Money is integer centavos inside and ``Decimal`` (PHP, to the centavo)
outside. Ratios are ``Decimal`` rounded half-up to ``RATIO_PLACES``; EAC is
computed from the exact ratios, not the rounded ones, and rounded once,
half-up, to the centavo. A ratio or forecast whose denominator is zero is
``None`` (undefined), never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from workflow.errors import ValidationFailed
from workflow.money import div_half_up, from_centavos, to_centavos

#: How planned value accrues within a leaf's dates.
PV_METHODS = ("linear", "start", "finish", "fifty_fifty")
#: How the estimate at completion is forecast.
EAC_METHODS = ("cpi", "plan_rate", "cpi_spi")
#: SPI, CPI and TCPI are rounded half-up to this many decimals (0.8929).
RATIO_PLACES = 4


@dataclass(frozen=True, slots=True)
class BaselineItem:
    """One work item as baselined.

    Attributes:
        id, parent_id: the item and its parent (``None`` for the root).
        budget: its allocation, PHP (``Decimal``, to the centavo; ``None`` or
            0 for none).
        start, finish: its planned first and last day (the due date), or
            ``None`` to take its nearest dated ancestor's.
    """

    id: int
    parent_id: int | None
    budget: Decimal | None
    start: date | None = None
    finish: date | None = None


@dataclass(frozen=True, slots=True)
class EarnedValue:
    """The earned value figures of one node as of a day: its four sums and
    its EAC kept in integer centavos, each figure made a PHP ``Decimal``
    (ratios: ``Decimal`` or ``None`` when undefined) when it is read, so a
    caller reading some figures of many nodes (the budget tree's, the
    MFBM report's root SPI and CPI) pays for those only.

    Attributes:
        id: the node.
        bac_centavos, pv_centavos, ev_centavos, ac_centavos: BAC, PV, EV
            and AC in centavos.
        eac_centavos: EAC in centavos (rounded once, half-up), ``None``
            when undefined.
    """

    id: int
    bac_centavos: int
    pv_centavos: int
    ev_centavos: int
    ac_centavos: int
    eac_centavos: int | None

    @property
    def bac(self) -> Decimal:
        """Budget at completion, PHP."""
        return from_centavos(self.bac_centavos)

    @property
    def pv(self) -> Decimal:
        """Planned value, PHP."""
        return from_centavos(self.pv_centavos)

    @property
    def ev(self) -> Decimal:
        """Earned value, PHP."""
        return from_centavos(self.ev_centavos)

    @property
    def ac(self) -> Decimal:
        """Actual cost, PHP."""
        return from_centavos(self.ac_centavos)

    @property
    def sv(self) -> Decimal:
        """Schedule variance EV - PV, PHP."""
        return from_centavos(self.ev_centavos - self.pv_centavos)

    @property
    def cv(self) -> Decimal:
        """Cost variance EV - AC, PHP."""
        return from_centavos(self.ev_centavos - self.ac_centavos)

    @property
    def spi(self) -> Decimal | None:
        """EV / PV to ``RATIO_PLACES``, ``None`` when PV is zero."""
        return _ratio(self.ev_centavos, self.pv_centavos)

    @property
    def cpi(self) -> Decimal | None:
        """EV / AC to ``RATIO_PLACES``, ``None`` when AC is zero."""
        return _ratio(self.ev_centavos, self.ac_centavos)

    @property
    def tcpi(self) -> Decimal | None:
        """(BAC - EV) / (BAC - AC) to ``RATIO_PLACES``, ``None`` when BAC = AC."""
        return _ratio(self.bac_centavos - self.ev_centavos, self.bac_centavos - self.ac_centavos)

    @property
    def eac(self) -> Decimal | None:
        """Estimate at completion, PHP, ``None`` when undefined."""
        return None if self.eac_centavos is None else from_centavos(self.eac_centavos)

    @property
    def etc(self) -> Decimal | None:
        """Estimate to complete EAC - AC, PHP, ``None`` when EAC is."""
        return None if self.eac_centavos is None else from_centavos(self.eac_centavos - self.ac_centavos)

    @property
    def vac(self) -> Decimal | None:
        """Variance at completion BAC - EAC, PHP, ``None`` when EAC is."""
        return None if self.eac_centavos is None else from_centavos(self.bac_centavos - self.eac_centavos)


@dataclass(frozen=True, slots=True)
class PerformanceAlert:
    """A node whose SPI or CPI is below its threshold (rule files).

    Attributes:
        id: the node; index: ``"spi"`` or ``"cpi"``; value, threshold: ratios.
    """

    id: int
    index: str
    value: Decimal
    threshold: Decimal


class Baseline:
    """A WBS baseline, checked and prepared once, measured as of any day.

    Args:
        items: every item of one tree, parents before or after children.

    Raises:
        ValidationFailed: not exactly one root, an unknown parent, a loop of
            parents, a negative or sub-centavo budget, a finish before its
            start, or a leaf with budget and no dates on it or above it
            (messages under ``baseline.<id>``).
    """

    def __init__(self, items: Iterable[BaselineItem]):
        rows = list(items)
        errors: dict[str, list[str]] = {}
        by_id: dict[int, BaselineItem] = {}
        for row in rows:
            if row.id in by_id:
                errors.setdefault(f"baseline.{row.id}", []).append("appears twice")
            by_id[row.id] = row
        children: dict[int, list[int]] = {i: [] for i in by_id}
        roots = []
        for row in rows:
            if row.parent_id is None:
                roots.append(row.id)
            elif row.parent_id in by_id:
                children[row.parent_id].append(row.id)
            else:
                errors.setdefault(f"baseline.{row.id}", []).append(f"its parent {row.parent_id} is not in the WBS")
        if len(roots) != 1:
            errors["baseline"] = [f"a WBS has exactly one root, found {len(roots)}"]
        if errors:
            raise ValidationFailed(errors)
        self.root_id: int = roots[0]
        # Pre-order from the root; items not reached hang on a loop of parents.
        order, stack = [], [self.root_id]
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(reversed(children[node]))
        if len(order) != len(by_id):
            stray = sorted(set(by_id) - set(order))[:5]
            raise ValidationFailed({"baseline": [f"items {stray} are not under the root (a loop of parents)"]})
        self.order: tuple[int, ...] = tuple(order)
        self.children = children
        self.parent = {row.id: row.parent_id for row in rows}
        self._spans: dict[int, tuple[int, int]] = {}  # leaf -> (first day, last day) as ordinals
        self._budget: dict[int, int] = {}  # leaf -> centavos
        dates: dict[int, tuple[date | None, date | None]] = {}
        for node in order:
            row = by_id[node]
            inherited = dates.get(row.parent_id, (None, None))
            start = row.start if row.start is not None else inherited[0]
            finish = row.finish if row.finish is not None else inherited[1]
            dates[node] = (start, finish)
            key = f"baseline.{node}"
            try:
                budget = 0 if row.budget is None else to_centavos(row.budget)
            except ValueError:
                errors[key] = ["budget has more than two decimal places"]
                continue
            if budget < 0:
                errors[key] = ["budget must not be negative"]
            elif start is not None and finish is not None and finish < start:
                errors[key] = [f"finishes ({finish}) before it starts ({start})"]
            elif not children[node] and budget:
                if start is None or finish is None:
                    errors[key] = ["a leaf with a budget needs a start and a finish date (its own or an ancestor's)"]
                else:
                    self._budget[node] = budget
                    self._spans[node] = (start.toordinal(), finish.toordinal())
        if errors:
            raise ValidationFailed(errors)
        self.leaves: tuple[int, ...] = tuple(self._budget)

    def __len__(self) -> int:
        return len(self.order)

    def planned_value(self, as_of: date, method: str = "linear") -> dict[int, int]:
        """PV in centavos of every leaf with a budget as of the end of ``as_of``.

        Raises:
            ValueError: an unknown ``method`` (the rule loader checks it first).
        """
        day = as_of.toordinal()
        pv: dict[int, int] = {}
        if method == "linear":
            for leaf, budget in self._budget.items():
                first, last = self._spans[leaf]
                if day >= last:
                    pv[leaf] = budget
                elif day < first:
                    pv[leaf] = 0
                else:  # cumulative largest-remainder split of the budget over its days
                    elapsed = day - first + 1
                    per_day, extra = divmod(budget, last - first + 1)
                    pv[leaf] = elapsed * per_day + min(elapsed, extra)
        elif method in ("start", "finish", "fifty_fifty"):
            for leaf, budget in self._budget.items():
                first, last = self._spans[leaf]
                if method == "start":
                    pv[leaf] = budget if day >= first else 0
                elif method == "finish":
                    pv[leaf] = budget if day >= last else 0
                else:
                    pv[leaf] = budget if day >= last else (budget - budget // 2 if day >= first else 0)
        else:
            raise ValueError(f"unknown planned value method {method!r}; use one of {', '.join(PV_METHODS)}")
        return pv

    @property
    def span(self) -> tuple[date, date] | None:
        """The first start and the last finish of the budgeted leaves (the
        planned line's extent), ``None`` when no leaf has a budget."""
        if not self._spans:
            return None
        return (date.fromordinal(min(first for first, _ in self._spans.values())),
                date.fromordinal(max(last for _, last in self._spans.values())))

    def planned_curve(self, days: Sequence[date], method: str = "linear") -> list[tuple[date, Decimal]]:
        """The whole PPA's PV on each of ``days`` (the S-curve's planned line)."""
        return [(day, from_centavos(sum(self.planned_value(day, method).values()))) for day in days]

    def measure(self, as_of: date, progress: Mapping[int, int | Decimal], actual_cost: Mapping[int, Decimal], *,
                method: str = "linear", eac_method: str = "cpi") -> dict[int, EarnedValue]:
        """Every node's earned value figures as of the end of ``as_of``.

        Args:
            progress: leaf id -> percent complete, 0-100 (``int`` or
                ``Decimal``); a missing leaf is 0; entries for parents are
                ignored (their progress never earns).
            actual_cost: item id -> PHP charged to that item (any item; a
                node's AC adds its descendants').
            method: one of ``PV_METHODS``; eac_method: one of ``EAC_METHODS``.

        Returns:
            item id -> ``EarnedValue``, the root's being the PPA's.

        Raises:
            ValidationFailed: a progress outside 0-100, an actual cost that is
                negative, sub-centavo or for an unknown item.
            ValueError: an unknown method.
        """
        return self._measure(as_of, progress, lambda: self._actual(actual_cost), method, eac_method)

    def measure_centavos(self, as_of: date, progress: Mapping[int, int | Decimal], actual_cost: Mapping[int, int],
                         *, method: str = "linear", eac_method: str = "cpi") -> dict[int, EarnedValue]:
        """``measure`` with the actual costs in integer centavos (what the
        services read), not converted to PHP and back per item; the same
        figures and the same refusals (no sub-centavo amount to refuse).
        """
        return self._measure(as_of, progress, lambda: self._actual_centavos(actual_cost), method, eac_method)

    def _measure(self, as_of: date, progress: Mapping[int, int | Decimal], actual: Callable[[], dict[int, int]],
                 method: str, eac_method: str) -> dict[int, EarnedValue]:
        if eac_method not in EAC_METHODS:
            raise ValueError(f"unknown EAC method {eac_method!r}; use one of {', '.join(EAC_METHODS)}")
        pv = self.planned_value(as_of, method)
        ev = self._earned(progress)
        ac = actual()
        bac = dict(self._budget)
        totals: dict[int, tuple[int, int, int, int]] = {}
        results: dict[int, EarnedValue] = {}
        for node in reversed(self.order):
            b, p, e, a = bac.get(node, 0), pv.get(node, 0), ev.get(node, 0), ac.get(node, 0)
            for child in self.children[node]:
                cb, cp, ce, ca = totals[child]
                b, p, e, a = b + cb, p + cp, e + ce, a + ca
            totals[node] = (b, p, e, a)
            results[node] = _figures(node, b, p, e, a, eac_method)
        return {node: results[node] for node in self.order}

    def _earned(self, progress: Mapping[int, int | Decimal]) -> dict[int, int]:
        ev, errors = {}, {}
        for leaf, budget in self._budget.items():
            percent = progress.get(leaf, 0)
            if not 0 <= percent <= 100:
                errors[f"progress.{leaf}"] = ["must be between 0 and 100"]
                continue
            numerator, denominator = percent.as_integer_ratio()  # exact, as Fraction(percent), without making one
            ev[leaf] = div_half_up(budget * numerator, 100 * denominator)
        if errors:
            raise ValidationFailed(errors)
        return ev

    def _actual_centavos(self, actual_cost: Mapping[int, int]) -> Mapping[int, int]:
        errors = {}
        for item_id, centavos in actual_cost.items():
            if item_id not in self.parent:
                errors[f"actual_cost.{item_id}"] = [f"work item {item_id} is not in the baseline"]
            elif centavos < 0:
                errors[f"actual_cost.{item_id}"] = ["must not be negative"]
        if errors:
            raise ValidationFailed(errors)
        return actual_cost

    def _actual(self, actual_cost: Mapping[int, Decimal]) -> dict[int, int]:
        ac, errors = {}, {}
        for item_id, amount in actual_cost.items():
            key = f"actual_cost.{item_id}"
            if item_id not in self.parent:
                errors[key] = [f"work item {item_id} is not in the baseline"]
                continue
            try:
                ac[item_id] = to_centavos(amount)
            except ValueError:
                errors[key] = ["has more than two decimal places"]
                continue
            if ac[item_id] < 0:
                errors[key] = ["must not be negative"]
        if errors:
            raise ValidationFailed(errors)
        return ac


def performance_alerts(results: Mapping[int, EarnedValue], *, spi_below: Decimal | None = None,
                       cpi_below: Decimal | None = None) -> list[PerformanceAlert]:
    """Nodes whose SPI or CPI fell below a threshold (issue 16 §3; the
    thresholds come from the rule files). Undefined indices raise no alert.

    Returns:
        One ``PerformanceAlert`` per node and index below its threshold, in
        the order of ``results``, SPI before CPI.
    """
    alerts = []
    for node, figures in results.items():
        for index, threshold in (("spi", spi_below), ("cpi", cpi_below)):
            value = getattr(figures, index)
            if threshold is not None and value is not None and value < threshold:
                alerts.append(PerformanceAlert(node, index, value, threshold))
    return alerts


# -- arithmetic --------------------------------------------------------------


_RATIO_SCALE = 10 ** RATIO_PLACES


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    return Decimal(div_half_up(numerator * _RATIO_SCALE, denominator)).scaleb(-RATIO_PLACES)


def _figures(node: int, bac: int, pv: int, ev: int, ac: int, eac_method: str) -> EarnedValue:
    """One node's figures from its four sums (centavos); EAC from the exact
    ratios: BAC / (EV/AC) = BAC·AC/EV, and (CPI·SPI) = EV² / (AC·PV)."""
    if eac_method == "plan_rate":
        eac = ac + bac - ev
    elif ev == 0 or ac == 0 or (eac_method == "cpi_spi" and pv == 0):
        eac = None
    elif eac_method == "cpi":
        eac = div_half_up(bac * ac, ev)
    else:
        eac = ac + div_half_up((bac - ev) * ac * pv, ev * ev)
    return EarnedValue(node, bac, pv, ev, ac, eac)
