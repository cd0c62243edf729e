"""The calendar of the rules in force: today in the schedule's time zone, and
stage due dates in days or business days (weekends and the non-working days
of the rule set's ``calendar/<year>.yaml`` files skipped; docs/design.md §7).

Due dates, reminders and escalations all count business days here
(``is_day_off``, ``add_business_days``, ``due_date``), so they agree.
"""

from __future__ import annotations

import functools
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.runtime import get_runtime, runtime_for
from workflow.calendar import Calendar, add_days

log = logging.getLogger(__name__)

#: Years already warned about in this process (a year without a calendar file).
_warned: set[tuple[str, int]] = set()


def today() -> date:
    """Today in the schedule's time zone (Asia/Manila)."""
    return datetime.now(ZoneInfo(get_runtime().rules.schedule.timezone)).date()


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the schedule's time zone."""
    return moment.astimezone(ZoneInfo(get_runtime().rules.schedule.timezone)).date()


def calendar() -> Calendar:
    """The non-working days of the rules in force, by year."""
    return get_runtime().rules.calendar


def is_day_off(day: date) -> bool:
    """A Saturday, a Sunday, or a non-working day of the rule set's calendar
    file for ``day``'s year. A year without a file counts weekends only, and
    is logged once per process and rule set."""
    rules = get_runtime().rules
    if not rules.calendar.covers(day.year) and (rules.hash, day.year) not in _warned:
        _warned.add((rules.hash, day.year))
        log.warning("no calendar/%s.yaml in the rules in force: business days in %s skip weekends only",
                    day.year, day.year)
    return rules.calendar.is_day_off(day)


def add_business_days(start: date, days: int) -> date:
    """The date ``days`` business days after ``start`` (never a day off)."""
    return add_days(start, days, is_day_off=is_day_off)


def due_date(entered_at: datetime, due_in_days: int) -> date:
    """The date a stage entered at ``entered_at`` falls due: ``due_in_days``
    days later, business days when rules/default/schedule.yaml asks for them."""
    return _due_date(get_runtime().rules.hash, local_date(entered_at), due_in_days)


@functools.lru_cache(maxsize=4096)
def _due_date(rules_hash: str, start: date, days: int) -> date:
    """``due_date`` from the local date a stage was entered, under the rules
    in force (``rules_hash``: their hash, which names their schedule and
    calendar files). Cached: a page of PPAs asks it once per PPA in review,
    mostly for the same few days."""
    schedule = get_runtime().rules.schedule
    return add_days(start, days, is_day_off=is_day_off if schedule.business_days else None)


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


def non_working_days(year: int) -> dict:
    """The body of ``GET /api/calendar``: the non-working days in force in
    ``year`` besides weekends.

    Returns:
        ``{"year", "file"`` (``calendar/<year>.yaml``, ``None`` when the rule
        set has none: weekends only), ``"business_days"`` (whether due dates
        count them), ``"rule_set"`` (hash), ``"days"``: ``[{"date", "weekday",
        "name", "kind", "proclaimed", "note"}]`` in date order``}``.
    """
    rules = get_runtime().rules
    days = rules.calendar.years.get(year, ())
    return {
        "year": year,
        "file": f"calendar/{year}.yaml" if rules.calendar.covers(year) else None,
        "business_days": rules.schedule.business_days,
        "rule_set": rules.hash,
        "days": [{"date": d.day, "weekday": d.day.strftime("%A"), "name": d.name, "kind": d.kind,
                  "proclaimed": d.proclaimed, "note": d.note} for d in days],
    }
