"""Due dates in days or business days, and the calendar of non-working days
they count in (docs/design.md §7). Pure: the caller hands in the days off
(the rule set's ``calendar/<year>.yaml`` files, read by ``rules.kinds.calendar``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

#: The kinds of non-working day a calendar file may name: the national
#: regular holidays and special (non-working) days of the President's yearly
#: proclamation (RA 9492 as amended), and the regional regular and special
#: non-working holidays of the Bangsamoro Holidays Act (BAA No. 39, 2023).
DAY_KINDS: Mapping[str, str] = MappingProxyType({
    "national_regular": "regular holiday (national)",
    "national_special": "special non-working day (national)",
    "barmm_regular": "regular non-working holiday (BARMM)",
    "barmm_special": "special non-working holiday (BARMM)",
})


@dataclass(frozen=True)
class NonWorkingDay:
    """One day offices are closed.

    Attributes:
        day: the date.
        name: what is observed (``Eid'l Fitr``).
        kind: one of ``DAY_KINDS``.
        proclaimed: its date is fixed by a proclamation each year (the
            Islamic days, the movable national days); the file holds the
            proclaimed date, or the expected one until it is proclaimed.
        note: the author's note (which proclamation; "expected").
    """

    day: date
    name: str
    kind: str
    proclaimed: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Calendar:
    """The non-working days of a rule set, by year.

    Attributes:
        years: year -> its days in date order; a year is *covered* when the
            rule set has a file for it (even an empty one). A year without a
            file counts weekends only.
    """

    years: Mapping[int, tuple[NonWorkingDay, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "_dates", frozenset(d.day for days in self.years.values() for d in days))

    @property
    def dates(self) -> frozenset[date]:
        """Every listed non-working day, of every year."""
        return self._dates  # type: ignore[attr-defined]

    def covers(self, year: int) -> bool:
        """True when the rule set has a calendar file for ``year``."""
        return year in self.years

    def missing(self, years: Iterable[int]) -> list[int]:
        """Those of ``years`` without a calendar file, in order."""
        return sorted(y for y in set(years) if y not in self.years)

    def is_day_off(self, day: date) -> bool:
        """A Saturday, a Sunday, or a listed non-working day."""
        return day.weekday() >= 5 or day in self._dates  # type: ignore[attr-defined]


def add_days(start: date, days: int, *, is_day_off: Callable[[date], bool] | None = None) -> date:
    """The date ``days`` days after ``start``.

    Args:
        is_day_off: when given, only days for which it is false are counted
            (business days); the result is never a day off.
    """
    if is_day_off is None:
        return start + timedelta(days=days)
    current, left = start, days
    while left > 0 or is_day_off(current):
        current += timedelta(days=1)
        if not is_day_off(current):
            left -= 1
    return current
