"""Due dates in days or business days (docs/design.md §3, §7). Pure: the caller says
which days are off (weekends, public holidays)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta


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
