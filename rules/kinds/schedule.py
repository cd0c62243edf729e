"""``schedule.yaml``: background jobs and the calendar they count in (docs/design.md §7)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import croniter

from rules.kinds.base import LoadContext, RuleFileKind
from rules.model import ScheduledJob, ScheduleRules
from rules.reading import FileReader, Item, did_you_mean

#: The five fields of a cron expression: (name, plural, lowest, highest, names allowed).
CRON_FIELDS = (
    ("minute", "minutes run 0–59", 0, 59, ()),
    ("hour", "hours run 0–23", 0, 23, ()),
    ("day-of-month", "days of the month run 1–31", 1, 31, ()),
    ("month", "months run 1–12 (or jan–dec)", 1, 12,
     ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day-of-week", "days of the week run 0–6 from Sunday (or sun–sat)", 0, 7,
     ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)

#: One part of a cron field: ``*``, ``5``, ``1-5``, ``mon``, each with an optional ``/step``.
CRON_PART = re.compile(r"(?P<range>\*|\?|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(?P<step>[0-9]+))?")


def cron_problem(cron: str) -> str | None:
    """What is wrong with a cron expression, in words naming the field:
    ``the hour field is 25; hours run 0–23``; ``None`` when nothing this
    check knows (croniter then has the last word). Five fields: minute,
    hour, day of month, month, day of week (docs/design.md §7)."""
    fields = cron.split()
    if len(fields) != 5:
        return (f"{cron!r} has {len(fields)} field{'s' if len(fields) != 1 else ''}; a cron expression has five: "
                "minute, hour, day-of-month, month, day-of-week")
    for value, (name, span, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        for part in value.lower().split(","):
            match = CRON_PART.fullmatch(part)
            if match is None:
                return f"the {name} field {value!r} is not a number, a range (1-5), a list (1,3) or * ({span})"
            if match["step"] is not None and int(match["step"]) == 0:
                return f"the {name} field {value!r} steps by 0; a step (/n) is at least 1"
            for bound in match["range"].split("-") if match["range"] not in ("*", "?") else ():
                if bound in names:
                    continue
                if not bound.isdigit():
                    return f"the {name} field has {bound!r}, which is not a number ({span})"
                if not low <= int(bound) <= high:
                    shown = f"is {bound}" if value == bound else f"{value!r} has {bound}"
                    return f"the {name} field {shown}; {span}"
    return None


def read_schedule(r: FileReader, doc: Item, context: LoadContext) -> ScheduleRules | None:
    """Time zone, business days, reminders, retry intervals and the cron
    entries (each a job kind the code knows). The non-working days are the
    calendar files' (``rules.kinds.calendar``); ``holidays_country``, which
    named the country of the ``holidays`` package before them, is still
    accepted (so stored rule sets keep loading) and only warned about."""
    known_jobs = context.known_jobs
    f = r.fields(doc, "schedule.yaml", required=["timezone", "jobs"], optional=[
        "business_days", "holidays_country", "reminders", "retry_intervals_seconds"])
    if f is None:
        return None
    ok = True
    timezone = r.text(f["timezone"], "timezone") if "timezone" in f else None
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            r.error(f["timezone"].line, f"timezone: unknown time zone {timezone!r} (use an IANA name, e.g. Asia/Manila)"
                                        f"{did_you_mean(timezone, available_timezones())}")
            timezone = None
    business = r.boolean(f["business_days"], "business_days") if "business_days" in f else False
    if "holidays_country" in f:
        r.warn(f["holidays_country"].line, "holidays_country is no longer read: business days skip the "
                                           "non-working days of calendar/<year>.yaml; delete this line")
    days_before = 1
    if "reminders" in f:
        rf = r.fields(f["reminders"], "reminders", required=["days_before_due"])
        days_before = (r.integer(rf["days_before_due"], "reminders.days_before_due", 0, 60)
                       if rf and "days_before_due" in rf else None)
    intervals: list[int] = [10, 60, 300]
    if "retry_intervals_seconds" in f:
        intervals = []
        for element in r.sequence(f["retry_intervals_seconds"], "retry_intervals_seconds"):
            value = r.integer(element, "retry_intervals_seconds", 0, 86_400)
            ok = ok and value is not None
            intervals.append(value or 0)
    jobs: list[ScheduledJob] = []
    for key, value, key_line in r.mapping(f["jobs"], "jobs") if "jobs" in f else []:
        jf = r.fields(value, f"jobs.{key}", required=["cron"])
        if known_jobs and key not in known_jobs:
            r.error(key_line, f"jobs: unknown job {key!r} (known: {', '.join(sorted(known_jobs))})"
                              f"{did_you_mean(key, known_jobs)}")
            continue
        if not jf or "cron" not in jf:
            continue
        cron = r.text(jf["cron"], f"jobs.{key}.cron")
        if cron is not None and (len(cron.split()) != 5 or not croniter.is_valid(cron)):
            r.error(jf["cron"].line, cron_problem(cron) or f"jobs.{key}.cron: {cron!r} is not a five-field cron "
                                                           "expression")
            cron = None
        if cron is not None:
            jobs.append(ScheduledJob(name=key, cron=cron))
    if None in (timezone, business, days_before) or not ok:
        return None
    return ScheduleRules(timezone=timezone, business_days=business, reminder_days_before=days_before,
                         retry_intervals=tuple(intervals), jobs=tuple(jobs))


KIND = RuleFileKind(name="schedule", pattern="schedule.yaml", read=read_schedule)
