"""Conditions on a record's fields that choose a transition's destination
(``when:`` in a workflow file; docs/design.md §6 "Conditional routing";
issue 14 item 7).

Pure and safe: a condition is data (a small tree of comparisons), read by
the rules loader and evaluated here against a mapping of field values. No
``eval``: the only operators are ``eq``, ``ne``, ``gt``, ``ge``, ``lt``,
``le`` and ``in``, combined with ``all`` and ``any``.

The fields a condition may name are declared per workflow in ``FIELDS``
(name -> kind): the services hand the engine exactly those values of the
record (``services.workflows``). Kinds:

- ``money``: compared as ``Decimal`` (the YAML value is a quoted string,
  ``"50000000.00"``, never a float);
- ``text``: compared ignoring case and surrounding spaces;
- ``integer``, ``boolean``: as such.

A field the record leaves empty (``None``) satisfies no comparison, so a
PPA with no sector never takes an ``eq: infrastructure`` route.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

#: Workflow name -> the record fields its conditions may name, with their kinds.
FIELDS: Mapping[str, Mapping[str, str]] = {
    "ppa_approval": {
        "budget_allocation": "money",
        "sector": "text",
        "category": "text",
        "appropriation_class": "text",
        "funding_source": "text",
        "priority": "text",
        "fiscal_year": "integer",
    },
}

#: Comparison operators and how they read in words.
OPERATORS: Mapping[str, str] = {"eq": "=", "ne": "≠", "gt": ">", "ge": "≥", "lt": "<", "le": "≤", "in": "in"}

#: Combinators: every one of the conditions holds, or at least one does.
COMBINATORS = ("all", "any")


def _norm(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


@dataclass(frozen=True)
class Compare:
    """``field op value``; for ``in`` the value is a tuple of values."""

    field: str
    op: str
    value: Any

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """Whether the record's ``facts`` satisfy the comparison (an empty field never does)."""
        actual = facts.get(self.field)
        if actual is None:
            return False
        actual = _norm(actual)
        if self.op == "in":
            return actual in {_norm(v) for v in self.value}
        expected = _norm(self.value)
        try:
            return {
                "eq": actual == expected, "ne": actual != expected, "gt": actual > expected,
                "ge": actual >= expected, "lt": actual < expected, "le": actual <= expected,
            }[self.op]
        except TypeError:  # a value of another kind than declared: no route taken on it
            return False

    def fields(self) -> tuple[str, ...]:
        """The fields it names."""
        return (self.field,)

    def describe(self) -> str:
        """In words: ``budget_allocation > 50000000.00``, ``sector in (a, b)``."""
        if self.op == "in":
            return f"{self.field} in ({', '.join(_show(v) for v in self.value)})"
        return f"{self.field} {OPERATORS[self.op]} {_show(self.value)}"

    def python(self) -> str:
        """The comparison as a Python expression over variables named as the
        fields (for a BPMN engine's gateway conditions; never evaluated here)."""
        if self.op == "in":
            return f"{self.field} in ({', '.join(repr(_plain(v)) for v in self.value)},)"
        symbol = {"eq": "==", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}[self.op]
        return f"{self.field} {symbol} {_plain(self.value)!r}"


@dataclass(frozen=True)
class Combine:
    """``all`` (every one holds) or ``any`` (at least one holds) of ``items``."""

    mode: str
    items: tuple[Compare | Combine, ...]

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """Whether the record's ``facts`` satisfy it."""
        results = (item.holds(facts) for item in self.items)
        return all(results) if self.mode == "all" else any(results)

    def fields(self) -> tuple[str, ...]:
        """Every field it names, without repeats."""
        return tuple(dict.fromkeys(f for item in self.items for f in item.fields()))

    def describe(self) -> str:
        """In words, ``and``/``or`` between the parts."""
        joiner = " and " if self.mode == "all" else " or "
        parts = [item.describe() if isinstance(item, Compare) else f"({item.describe()})" for item in self.items]
        return joiner.join(parts)

    def python(self) -> str:
        """As ``Compare.python``."""
        joiner = " and " if self.mode == "all" else " or "
        return joiner.join(f"({item.python()})" for item in self.items)


Condition = Compare | Combine


def _show(value: Any) -> str:
    return f"{value:f}" if isinstance(value, Decimal) else str(value).lower() if isinstance(value, bool) else str(value)


def _plain(value: Any) -> Any:
    """Money as a float for a BPMN engine's expression only (a diagram; decisions use ``Decimal``)."""
    return float(value) if isinstance(value, Decimal) else value


def facts_of(workflow: str, record: Any) -> dict[str, Any]:
    """The values of ``record`` that conditions of ``workflow`` may name
    (``FIELDS``), read as attributes; a missing attribute is ``None``."""
    return {name: getattr(record, name, None) for name in FIELDS.get(workflow, {})}
