"""Postings of the money chain by period (docs/design.md §12 "Posted rows
never change"; issue 12 item 4).

A posted row never changes; what happens to it later is a posting of its
own, dated when it happens. An allotment, obligation or disbursement posts
its amount on its own date (release, ORS, DV); an adjustment (allotment
reduction, withdrawal or augmentation, NORSA) posts its signed amount on
its date; a cancellation or void posts the reversal of the active amount on
its business date (``cancelled_on`` / ``voided_on``). So a June DV voided
in November still counts in Q2, and the void counts, negative, in Q4.

Quarters come from dates, year included: ``period_of(date(2026, 8, 3))``
is ``(2026, 3)`` (``workflow.validity.period_of``). Amounts are PHP ``Decimal``. Pure: no database here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from workflow.money import ZERO
from workflow.validity import period_of

#: The levels a posting counts at.
LEVELS = ("allotted", "obligated", "disbursed")


@dataclass(frozen=True)
class Posting:
    """One movement of money at one level, in the period of its date.

    Attributes:
        level: ``allotted``, ``obligated`` or ``disbursed``.
        kind: ``original``, ``adjustment`` or ``reversal`` (a cancellation or void).
        day: the business date it posts on.
        amount: PHP, signed (a reversal or a reduction is negative).
        source: what it comes from, e.g. ``"obligation 12"``.
    """

    level: str
    kind: str
    day: date
    amount: Decimal
    source: str

    @property
    def period(self) -> tuple[int, int]:
        """Its (fiscal year, quarter)."""
        return period_of(self.day)


def net_by_quarter(postings: Iterable[Posting]) -> dict[tuple[int, int], dict[str, Decimal]]:
    """The net amount per level of every (fiscal year, quarter) with a
    posting, in period order: ``{(2026, 1): {"allotted": ..., "obligated":
    ..., "disbursed": ...}}`` (PHP, exact)."""
    out: dict[tuple[int, int], dict[str, Decimal]] = {}
    for posting in postings:
        sums = out.setdefault(posting.period, dict.fromkeys(LEVELS, ZERO))
        sums[posting.level] += posting.amount
    return dict(sorted(out.items()))
