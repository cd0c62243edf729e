"""The calendar of rules/default/schedule.yaml: today in its time zone, and stage
due dates in days or business days (weekends and public holidays of the
configured country skipped, from the ``holidays`` package)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from services.runtime import get_runtime, runtime_for
from workflow.calendar import add_days


def today() -> date:
    """Today in the schedule's time zone (Asia/Manila)."""
    return datetime.now(ZoneInfo(get_runtime().rules.schedule.timezone)).date()


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the schedule's time zone."""
    return moment.astimezone(ZoneInfo(get_runtime().rules.schedule.timezone)).date()


@lru_cache(maxsize=32)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=[year, year + 1]))


def is_day_off(day: date) -> bool:
    """A Saturday, a Sunday, or a public holiday of the schedule's country."""
    country = get_runtime().rules.schedule.holidays_country
    return day.weekday() >= 5 or day in _public_holidays(country, day.year)


def due_date(entered_at: datetime, due_in_days: int) -> date:
    """The date a stage entered at ``entered_at`` falls due: ``due_in_days``
    days later, business days when rules/default/schedule.yaml asks for them."""
    schedule = get_runtime().rules.schedule
    return add_days(local_date(entered_at), due_in_days, is_day_off=is_day_off if schedule.business_days else None)


def stage_due_date(stage: str, entered_at: datetime | None, rules_hash: str | None = None) -> date | None:
    """The date an approval stage falls due, as reminders and overdue alerts
    count it (rules/default/workflows/approval.yaml ``due_in_days``, docs/design.md §3, §7).

    Args:
        stage: the PPA's approval stage.
        entered_at: when the PPA entered it (aware).
        rules_hash: the rule set the PPA is pinned to (its ``due_in_days``
            count; docs/design.md §13), ``None`` for the rules in force.

    Returns:
        The due date in the schedule's time zone, or ``None`` for a stage
        without a due time (draft, approved, enacted, rejected).
    """
    state = runtime_for(rules_hash).rules.approval.machine.states.get(stage)
    if state is None or not state.due_in_days or entered_at is None:
        return None
    return due_date(entered_at, state.due_in_days)
