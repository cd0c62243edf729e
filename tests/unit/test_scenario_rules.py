"""``scenarios.yaml`` (``rules.kinds.scenarios``; docs/design.md §17): the
optimiser's weights, funding mode, declared MOA caps and minimum shares;
optional, with defaults; every mistake reported at its line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rules.kinds.scenarios import DEFAULT_SCENARIO_RULES
from tests.support import shipped_rules
from tests.unit.test_rules_loader import edit, errors_of, rules_dir  # noqa: F401 - the fixture


def test_the_shipped_file_counts_needs_votes_urgency_and_population_and_funds_whole_ppas():
    rules = shipped_rules().scenarios

    assert rules.weights.count == rules.weights.population == Decimal(1)
    assert rules.funding == "all_or_nothing" and rules.obligation_rate_years == 3


def test_a_rule_set_without_the_file_gets_the_defaults(rules_dir):  # noqa: F811
    (rules_dir / "scenarios.yaml").unlink()

    assert shipped_rules(rules_dir).scenarios == DEFAULT_SCENARIO_RULES


def test_declared_caps_and_shares_are_read_exactly(rules_dir):  # noqa: F811
    edit(rules_dir, "scenarios.yaml", "moa_caps: {}", 'moa_caps:\n  MSSD: "250000000.10"')
    edit(rules_dir, "scenarios.yaml", "minimum_shares: []",
         "minimum_shares:\n  - {dimension: sector, value: health, percent: 15.5, basis: ceiling}")

    rules = shipped_rules(rules_dir).scenarios

    assert rules.moa_caps["MSSD"] == Decimal("250000000.10")
    assert (rules.minimum_shares[0].value, rules.minimum_shares[0].percent) == ("health", Decimal("15.5"))


@pytest.mark.parametrize("old, new, expected", [
    ("funding: all_or_nothing", "funding: some", "funding: 'some' is not one of all_or_nothing, partial"),
    ("minimum_shares: []", "minimum_shares:\n  - {dimension: province, value: x, percent: 5}",
     "minimum_shares.dimension: 'province' is not one of region, sector"),
    ("obligation_rate_years: 3", "obligation_rate_years: 0", "obligation_rate_years: 0 is out of range"),
])
def test_a_wrong_value_is_reported_at_its_line(rules_dir, old, new, expected):  # noqa: F811
    line = edit(rules_dir, "scenarios.yaml", old, new)

    errors = errors_of(rules_dir)

    assert any(e.startswith(f"{rules_dir}/scenarios.yaml:") and expected in e for e in errors), errors
    assert any(f"scenarios.yaml:{line}" in e or f"scenarios.yaml:{line + 1}" in e for e in errors), errors
