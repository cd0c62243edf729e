"""``validity.yaml``: until when each fiscal year's appropriations may be
released, obligated and disbursed, by validity category, with the legal
basis of each rule and its amendments (docs/design.md §12, "Validity
periods and dates"; issue 12 item 2).

The file::

    years:
      2022:
        - effective_from: 2022-01-01          # the act itself: every category
          legal_basis: GAAB FY2022, Sec. 48
          deadlines:
            ps: {release: 2022-12-31, obligation: 2022-12-31, disbursement: 2022-12-31}
            ...
        - effective_from: 2022-12-29          # an amendment: the categories it changes
          legal_basis: ...
          deadlines:
            mooe_operations: {release: 2023-12-31, obligation: 2023-12-31, disbursement: 2024-03-31}

Checked: the year is a fiscal year; the first entry names every category
and later ones at least one, each known; entries are appended in order of
their effective dates (an amendment is a new entry, never an edit); each
deadline is a date (``disbursement`` may be ``until_fully_expended``) in or
after the fiscal year, release on or before obligation on or before
disbursement.
"""

from __future__ import annotations

from datetime import date

from rules.kinds.base import LoadContext, RuleFileKind
from rules.model import frozen_map
from rules.reading import FileReader, Item, describe, did_you_mean
from workflow.validity import STEPS, VALIDITY_CATEGORIES, Deadlines, ValidityEntry, ValidityRules
from workflow.vocabulary import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR

#: What ``disbursement`` says when payments have no deadline.
UNTIL_FULLY_EXPENDED = "until_fully_expended"


def _date(r: FileReader, item: Item, where: str, *, open_ended: bool = False) -> date | str | None:
    """A date written ``2023-12-31`` (or, with ``open_ended``, ``until_fully_expended``)."""
    value = item.value
    if open_ended and value == UNTIL_FULLY_EXPENDED:
        return UNTIL_FULLY_EXPENDED
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    also = f" or {UNTIL_FULLY_EXPENDED}" if open_ended else ""
    r.error(item.line, f"{where}: expected a date written YYYY-MM-DD{also}, got {describe(value)}")
    return None


def _deadlines(r: FileReader, item: Item, where: str, fiscal_year: int) -> Deadlines | None:
    """One category's release, obligation and disbursement deadlines."""
    f = r.fields(item, where, required=STEPS)
    if f is None or any(step not in f for step in STEPS):
        return None
    values = {step: _date(r, f[step], f"{where}.{step}", open_ended=step == "disbursement") for step in STEPS}
    if None in values.values():
        return None
    ok = True
    for step in STEPS:
        if values[step] != UNTIL_FULLY_EXPENDED and values[step].year < fiscal_year:
            r.error(f[step].line, f"{where}.{step}: {values[step].isoformat()} is before FY{fiscal_year} begins")
            ok = False
    if ok and values["obligation"] < values["release"]:
        r.error(f["obligation"].line, f"{where}.obligation: {values['obligation'].isoformat()} is before the release "
                                      f"deadline {values['release'].isoformat()}")
        ok = False
    paid = values["disbursement"]
    if ok and paid != UNTIL_FULLY_EXPENDED and paid < values["obligation"]:
        r.error(f["disbursement"].line, f"{where}.disbursement: {paid.isoformat()} is before the obligation "
                                        f"deadline {values['obligation'].isoformat()}")
        ok = False
    if not ok:
        return None
    return Deadlines(values["release"], values["obligation"], None if paid == UNTIL_FULLY_EXPENDED else paid)


def _entry(r: FileReader, item: Item, where: str, fiscal_year: int, first: bool) -> ValidityEntry | None:
    """The act (``first``: every category) or one amendment (the categories it changes)."""
    f = r.fields(item, where, required=["effective_from", "legal_basis", "deadlines"])
    if f is None or any(k not in f for k in ("effective_from", "legal_basis", "deadlines")):
        return None
    effective = _date(r, f["effective_from"], f"{where}.effective_from")
    basis = r.text(f["legal_basis"], f"{where}.legal_basis")
    deadlines: dict[str, Deadlines] = {}
    ok = effective is not None and basis is not None
    named = r.mapping(f["deadlines"], f"{where}.deadlines")
    for category, value, key_line in named:
        if category not in VALIDITY_CATEGORIES:
            r.error(key_line, f"{where}.deadlines: unknown validity category {category!r} "
                              f"(known: {', '.join(VALIDITY_CATEGORIES)})"
                              f"{did_you_mean(category, VALIDITY_CATEGORIES)}")
            ok = False
            continue
        read = _deadlines(r, value, f"{where}.deadlines.{category}", fiscal_year)
        ok = ok and read is not None
        if read is not None:
            deadlines[category] = read
    if first:
        for missing in [c for c in VALIDITY_CATEGORIES if not any(name == c for name, _, _ in named)]:
            r.error(f["deadlines"].line, f"{where}.deadlines: the act (the year's first entry) must name every "
                                         f"category; missing {missing!r}")
            ok = False
    elif isinstance(f["deadlines"].value, dict) and not named:
        r.error(f["deadlines"].line, f"{where}.deadlines: an amendment names at least one category")
        ok = False
    return ValidityEntry(effective, basis, frozen_map(deadlines)) if ok else None


def read_validity(r: FileReader, doc: Item, context: LoadContext) -> ValidityRules | None:
    """Every fiscal year's act and amendments, in file order."""
    f = r.fields(doc, "validity.yaml", required=["years"])
    if f is None or "years" not in f:
        return None
    ok = True
    years: dict[int, tuple[ValidityEntry, ...]] = {}
    for key, value, key_line in r.mapping(f["years"], "years"):
        if not key.isdigit() or not FIRST_FISCAL_YEAR <= int(key) <= LAST_FISCAL_YEAR:
            r.error(key_line, f"years: {key!r} is not a fiscal year ({FIRST_FISCAL_YEAR}-{LAST_FISCAL_YEAR})")
            ok = False
            continue
        fiscal_year = int(key)
        items = r.sequence(value, f"years.{key}")
        if isinstance(value.value, list) and not items:
            r.error(value.line, f"years.{key}: expected at least one entry (the act)")
        entries: list[ValidityEntry] = []
        for index, item in enumerate(items):
            entry = _entry(r, item, f"years.{key}[{index}]", fiscal_year, first=index == 0)
            if entry is None:
                ok = False
                continue
            if entries and entry.effective_from <= entries[-1].effective_from:
                r.error(item.line, f"years.{key}[{index}].effective_from: {entry.effective_from.isoformat()} is not "
                                   f"after the entry before it ({entries[-1].effective_from.isoformat()}); "
                                   "amendments are appended in the order they take effect")
                ok = False
            entries.append(entry)
        if not items:
            ok = False
        years[fiscal_year] = tuple(entries)
    return ValidityRules(frozen_map(years)) if ok else None


KIND = RuleFileKind(name="validity", pattern="validity.yaml", read=read_validity)
