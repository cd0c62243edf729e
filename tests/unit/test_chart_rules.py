"""``fund_clusters.yaml`` and ``uacs_object_codes.yaml``, read by one reader
(``rules.kinds.chart.read_codes``; docs/design.md §12 "Appropriations"):
what they hold, and every mistake reported at its line."""

from __future__ import annotations

import pytest

from tests.support import shipped_rules
from tests.unit.test_rules_loader import edit, errors_of, rules_dir  # noqa: F401 - the fixture


def test_the_shipped_chart_has_the_seven_fund_clusters_and_classes_by_longest_prefix():
    rules = shipped_rules()

    assert list(rules.fund_clusters.names) == ["01", "02", "03", "04", "05", "06", "07"]
    assert rules.fund_clusters.names["01"] == "Regular Agency Fund"
    assert rules.uacs_object_codes.class_of("50202010-01") == "mooe"
    assert rules.uacs_object_codes.class_of("50604020-00") == "co"
    assert rules.uacs_object_codes.class_of("40101010-00") is None


@pytest.mark.parametrize("name, old, new, expected", [
    ("fund_clusters.yaml", '  "07": Trust Receipts', '  "7": Trust Receipts',
     "fund_clusters: '7' is not a two-digit fund cluster code (quote it: \"01\")"),
    ("fund_clusters.yaml", '  "07": Trust Receipts', '  "07": 7',
     "fund_clusters.07: expected a non-empty string, got number 7"),
    ("uacs_object_codes.yaml", '  "506": co', '  "5-06": co',
     "object_code_classes: '5-06' is not a prefix of digits (quote it: \"502\")"),
    ("uacs_object_codes.yaml", '  "506": co', '  "506": capital',
     "object_code_classes.506: unknown allotment class 'capital' (known: ps, mooe, finex, co)"),
    ("uacs_object_codes.yaml", '  "506": co', '  "506": Capital Outlay',
     "object_code_classes.506: 'Capital Outlay' is not a valid name"),
])
def test_a_wrong_code_or_value_is_reported_at_its_line(rules_dir, name, old, new, expected):  # noqa: F811
    line = edit(rules_dir, name, old, new)

    errors = errors_of(rules_dir)

    assert [e for e in errors if expected in e] == [e for e in errors if e.startswith(f"{rules_dir}/{name}:")]
    assert any(e.startswith(f"{rules_dir}/{name}:{line}: {expected}") for e in errors), errors


@pytest.mark.parametrize("name, key, expected", [
    ("fund_clusters.yaml", "fund_clusters", "fund_clusters: declare at least one fund cluster"),
    ("uacs_object_codes.yaml", "object_code_classes", "object_code_classes: map at least one prefix"),
])
def test_an_empty_table_asks_for_at_least_one_entry(rules_dir, name, key, expected):  # noqa: F811
    (rules_dir / name).write_text(f"{key}: {{}}\n")

    assert f"{rules_dir}/{name}:1: {expected}" in errors_of(rules_dir)
