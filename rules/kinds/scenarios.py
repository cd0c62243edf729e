"""``scenarios.yaml``: what the budget scenarios and their optimiser read
(docs/design.md §17; issue 16 items 1-2). Optional: a rule set without it
gets ``DEFAULT_SCENARIO_RULES`` (votes, urgency and population weighted 1,
all-or-nothing funding, no declared caps or shares)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from rules.kinds.base import FileRead, LoadContext, RuleFileKind
from rules.reading import FileReader, Item
from workflow.money import parse_amount
from workflow.optimiser import (
    FUNDING_MODES,
    SHARE_BASES,
    SHARE_DIMENSIONS,
    MinimumShare,
    ObjectiveWeights,
)


@dataclass(frozen=True)
class ScenarioRules:
    """The optimiser's objective weights and funding mode, each MOA's
    declared absorptive capacity (MOA code -> PHP; it replaces the one
    derived from the past obligation rate), the minimum shares by region or
    sector, and how many past years the obligation rate is read over."""

    weights: ObjectiveWeights = field(default_factory=ObjectiveWeights)
    funding: str = "all_or_nothing"
    minimum_funding_percent: Decimal = Decimal(0)
    moa_caps: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    minimum_shares: tuple[MinimumShare, ...] = ()
    obligation_rate_years: int = 3


DEFAULT_SCENARIO_RULES = ScenarioRules()

HUNDRED = Decimal(100)


def read_scenarios(r: FileReader, doc: Item, context: LoadContext) -> ScenarioRules | None:
    """Read ``scenarios.yaml`` (every key optional)."""
    f = r.fields(doc, "scenarios.yaml", required=[], optional=[
        "objective", "funding", "minimum_funding_percent", "moa_caps", "minimum_shares", "obligation_rate_years"])
    if f is None:
        return None
    ok = True
    weights = ObjectiveWeights()
    if "objective" in f:
        of = r.fields(f["objective"], "objective", required=[], optional=["count", "votes", "urgency", "population"])
        values = {key: r.decimal(item, f"objective.{key}", Decimal(0), Decimal(1000)) for key, item in (of or {}).items()}
        ok = ok and of is not None and None not in values.values()
        weights = ObjectiveWeights(**{k: v for k, v in values.items() if v is not None} | {
            k: Decimal(0) for k in ("count", "votes", "urgency", "population") if k not in values})
    funding = "all_or_nothing"
    if "funding" in f:
        funding = r.text(f["funding"], "funding")
        if funding not in FUNDING_MODES:
            r.error(f["funding"].line, f"funding: {funding!r} is not one of {', '.join(FUNDING_MODES)}")
            ok = False
    minimum = Decimal(0)
    if "minimum_funding_percent" in f:
        minimum = r.decimal(f["minimum_funding_percent"], "minimum_funding_percent", Decimal(0), HUNDRED)
        ok = ok and minimum is not None
    caps: dict[str, Decimal] = {}
    for moa, item, line in r.mapping(f["moa_caps"], "moa_caps") if "moa_caps" in f else []:
        try:
            caps[moa] = parse_amount(str(item.value))
        except (ValueError, ArithmeticError, TypeError) as exc:
            r.error(line, f"moa_caps.{moa}: {exc} (write PHP as a quoted decimal, e.g. \"50000000.00\")")
            ok = False
    shares: list[MinimumShare] = []
    for element in r.sequence(f["minimum_shares"], "minimum_shares") if "minimum_shares" in f else []:
        sf = r.fields(element, "minimum_shares[]", required=["dimension", "value", "percent"], optional=["basis"])
        if not sf or any(key not in sf for key in ("dimension", "value", "percent")):
            ok = False
            continue
        dimension, value = r.text(sf["dimension"], "minimum_shares.dimension"), r.text(sf["value"], "minimum_shares.value")
        percent = r.decimal(sf["percent"], "minimum_shares.percent", Decimal(0), HUNDRED)
        basis = r.text(sf["basis"], "minimum_shares.basis") if "basis" in sf else "allocated"
        if dimension not in SHARE_DIMENSIONS:
            r.error(sf["dimension"].line, f"minimum_shares.dimension: {dimension!r} is not one of "
                                          f"{', '.join(SHARE_DIMENSIONS)}")
            ok = False
        elif basis not in SHARE_BASES:
            r.error(sf["basis"].line, f"minimum_shares.basis: {basis!r} is not one of {', '.join(SHARE_BASES)}")
            ok = False
        elif None in (value, percent):
            ok = False
        else:
            shares.append(MinimumShare(dimension=dimension, value=value, percent=percent, basis=basis))
    years = 3
    if "obligation_rate_years" in f:
        years = r.integer(f["obligation_rate_years"], "obligation_rate_years", 1, 10)
        ok = ok and years is not None
    if not ok:
        return None
    return ScenarioRules(weights=weights, funding=funding, minimum_funding_percent=minimum,
                         moa_caps=MappingProxyType(caps), minimum_shares=tuple(shares), obligation_rate_years=years)


def combine_scenarios(files: list[FileRead], context: LoadContext) -> ScenarioRules | None:
    """The one file's rules, or the defaults when the rule set has none."""
    if any(f.result is None for f in files):
        return None
    return files[0].result if files else DEFAULT_SCENARIO_RULES


KIND = RuleFileKind(name="scenarios", pattern="scenarios.yaml", read=read_scenarios, combine=combine_scenarios)
