"""``calendar/<year>.yaml``: the non-working days business days skip, one
file per year (docs/design.md §7; issue 14 item 8).

The file (its name is the year it covers)::

    days:
      - date: 2026-01-21
        name: Bangsamoro Foundation Day
        kind: barmm_regular
      - date: 2026-03-20
        name: Eid'l Fitr
        kind: national_regular
        proclaimed: true
        note: Palace declaration of 12 March 2026

Checked, each on its line: the file is named after a year (2000–2100); every
entry has a date written YYYY-MM-DD that is a real day of that year, a name
and a known kind (``workflow.calendar.DAY_KINDS``); no date is listed twice.
A year without a file is not an error (its business days skip weekends
only); ``ppaflow rules check`` warns about this year and the next.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import PurePosixPath
from types import MappingProxyType

from rules.kinds.base import FileRead, LoadContext, RuleFileKind
from rules.reading import FileReader, Item, describe, did_you_mean
from workflow.calendar import DAY_KINDS, Calendar, NonWorkingDay
from workflow.vocabulary import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR

YEAR_FILE = re.compile(r"[0-9]{4}\.yaml")


def file_year(r: FileReader) -> int | None:
    """The year a calendar file covers, from its name (``calendar/2026.yaml``);
    records an error and returns ``None`` for any other name."""
    name = PurePosixPath(r.file).name
    if not YEAR_FILE.fullmatch(name) or not FIRST_FISCAL_YEAR <= int(name[:4]) <= LAST_FISCAL_YEAR:
        r.error(1, f"a calendar file is named after the year it covers, {FIRST_FISCAL_YEAR}–{LAST_FISCAL_YEAR} "
                   f"(calendar/2026.yaml), not {name!r}")
        return None
    return int(name[:4])


def _date(r: FileReader, item: Item, where: str) -> date | None:
    """A date written ``2026-01-21``."""
    value = item.value
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    r.error(item.line, f"{where}: expected a date written YYYY-MM-DD, got {describe(value)}")
    return None


def read_calendar(r: FileReader, doc: Item, context: LoadContext) -> tuple[int, tuple[NonWorkingDay, ...]] | None:
    """One year's non-working days, in date order: ``(year, days)``."""
    year = file_year(r)
    f = r.fields(doc, PurePosixPath(r.file).name, required=["days"])
    if f is None or "days" not in f:
        return None
    ok = year is not None
    seen: dict[date, int] = {}
    days: list[NonWorkingDay] = []
    # ``days:`` with nothing under it (or ``[]``): a year without non-working days besides weekends
    for element in r.sequence(f["days"], "days") if f["days"].value is not None else []:
        e = r.fields(element, f"days (line {element.line})", required=["date", "name", "kind"],
                     optional=["proclaimed", "note"])
        if e is None:
            ok = False
            continue
        day = _date(r, e["date"], "date") if "date" in e else None
        name = r.text(e["name"], "name") if "name" in e else None
        kind = r.text(e["kind"], "kind") if "kind" in e else None
        if kind is not None and kind not in DAY_KINDS:
            r.error(e["kind"].line, f"kind: unknown kind {kind!r} (known: {', '.join(DAY_KINDS)})"
                                    f"{did_you_mean(kind, DAY_KINDS)}")
            kind = None
        proclaimed = r.boolean(e["proclaimed"], "proclaimed") if "proclaimed" in e else False
        note = r.text(e["note"], "note") if "note" in e else None
        if "note" in e and note is None:
            ok = False
        if day is not None and year is not None and day.year != year:
            r.error(e["date"].line, f"date: {day.isoformat()} is not in {year}, the year this file covers "
                                    f"(move it to calendar/{day.year}.yaml)")
            day = None
        elif day is not None and day in seen:
            r.error(e["date"].line, f"date: {day.isoformat()} is already listed on line {seen[day]}; one entry "
                                    "per day (name both observances in one entry)")
            day = None
        elif day is not None:
            seen[day] = e["date"].line
        if None in (day, name, kind, proclaimed) or len(e) < 3:
            ok = False
            continue
        days.append(NonWorkingDay(day=day, name=name.strip(), kind=kind, proclaimed=proclaimed,
                                  note=note.strip() if note else None))
    if not ok:
        return None
    return year, tuple(sorted(days, key=lambda d: d.day))


def combine_calendar(files: list[FileRead], context: LoadContext) -> Calendar | None:
    """Every year's file into one ``Calendar`` (none: weekends only)."""
    if any(f.result is None for f in files):
        return None
    return Calendar(years=MappingProxyType(dict(f.result for f in files)))


KIND = RuleFileKind(name="calendar", pattern="calendar/*.yaml", read=read_calendar, combine=combine_calendar)
