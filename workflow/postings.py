"""Postings of the money chain by period (docs/design.md §12 "Posted rows
never change"; issue 12 item 4).

A posted row never changes; what happens to it later is a posting of its
own, dated when it happens. An allotment, obligation or disbursement posts
its amount on its own date (release, ORS, DV); an adjustment (allotment
reduction, withdrawal or augmentation, NORSA) posts its signed amount on
its date; a cancellation or void posts the reversal of the active amount on
its business date (``cancelled_on`` / ``voided_on``). So a June DV voided
in November still counts in Q2, and the void counts, negative, in Q4.

Adjustments and transfers (docs/design.md §12 "Adjustments and transfers")
post in columns of their own, never netted silently into the originals: an
appropriation adjustment posts at the level ``appropriated`` (an
augmentation or modification as an ``adjustment``; a transfer's two rows as
``transfer_to`` and ``transfer_from``); a realignment is an ``adjustment``
of each allotment; a sub-allotment posts the giver's ``transfer_to``
(negative) and the receiver's allotment as ``transfer_from`` (FAR No. 1
columns 8 and 9). ``columns_by_quarter`` gives every period's figures per
level and column; ``net_by_quarter`` nets the chain's levels.

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

#: The levels of the chain a posting counts at (``net_by_quarter``).
LEVELS = ("allotted", "obligated", "disbursed")
#: Every level, the appropriation's adjustments first (``columns_by_quarter``).
ALL_LEVELS = ("appropriated", *LEVELS)
#: Posting kind -> the column it is shown in.
COLUMNS = {"original": "originals", "adjustment": "adjustments", "transfer_to": "transfers_to",
           "transfer_from": "transfers_from", "reversal": "reversals"}


@dataclass(frozen=True)
class Posting:
    """One movement of money at one level, in the period of its date.

    Attributes:
        level: ``appropriated`` (appropriation adjustments only), ``allotted``,
            ``obligated`` or ``disbursed``.
        kind: ``original``, ``adjustment``, ``transfer_to`` (a transfer's or
            sub-allotment's giving side, negative), ``transfer_from`` (its
            receiving side) or ``reversal`` (a cancellation or void).
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
    """The net amount per level of the chain (``LEVELS``) of every (fiscal
    year, quarter) with a posting at one of them, in period order:
    ``{(2026, 1): {"allotted": ..., "obligated": ..., "disbursed": ...}}``
    (PHP, exact). Appropriation adjustments (level ``appropriated``) are in
    ``columns_by_quarter``."""
    out: dict[tuple[int, int], dict[str, Decimal]] = {}
    for posting in postings:
        if posting.level not in LEVELS:
            continue
        sums = out.setdefault(posting.period, dict.fromkeys(LEVELS, ZERO))
        sums[posting.level] += posting.amount
    return dict(sorted(out.items()))


def columns_by_quarter(postings: Iterable[Posting]) -> dict[tuple[int, int], dict[str, dict[str, Decimal]]]:
    """Every (fiscal year, quarter) with a posting, in period order, with
    each level of ``ALL_LEVELS`` split into its columns (``COLUMNS``:
    ``originals``, ``adjustments``, ``transfers_to``, ``transfers_from``,
    ``reversals``) and their ``net`` (PHP, signed, exact):
    ``{(2026, 1): {"allotted": {"originals": ..., "transfers_to": ..., ..., "net": ...}, ...}}``."""
    out: dict[tuple[int, int], dict[str, dict[str, Decimal]]] = {}
    for posting in postings:
        levels = out.setdefault(posting.period, {level: dict.fromkeys((*COLUMNS.values(), "net"), ZERO)
                                                 for level in ALL_LEVELS})
        columns = levels[posting.level]
        columns[COLUMNS[posting.kind]] += posting.amount
        columns["net"] += posting.amount
    return dict(sorted(out.items()))
