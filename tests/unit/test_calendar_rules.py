"""The calendar is a rule file (issue 14 item 8; docs/design.md §7): one
``calendar/<year>.yaml`` per year lists the national and BARMM non-working
days business days skip; its mistakes are reported as ``file:line``; a year
without a file counts weekends only and ``rules check`` says so."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from rules import DEFAULT_RULES_DIR
from tests.support import shipped_rules as load_rules
from web.cli import main
from workflow.calendar import Calendar, NonWorkingDay, add_days
from workflow.errors import RulesError

#: A year no shipped calendar file covers.
UNCOVERED = 2031


@pytest.fixture(scope="module")
def shipped():
    return load_rules()


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    """A copy of the shipped rules to edit."""
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def write_calendar(rules_dir: Path, name: str, days: str) -> Path:
    path = rules_dir / "calendar" / name
    path.write_text("# a test calendar\ndays:\n" + days)
    return path


def errors_of(rules_dir: Path) -> list[str]:
    with pytest.raises(RulesError) as caught:
        load_rules(rules_dir)
    return caught.value.errors


def test_the_shipped_calendar_lists_national_and_barmm_days_of_2026(shipped):
    days = {d.day: d for d in shipped.calendar.years[2026]}

    assert days[date(2026, 1, 21)].name == "Bangsamoro Foundation Day"
    assert days[date(2026, 1, 21)].kind == "barmm_regular"
    assert days[date(2026, 3, 18)].kind == "barmm_regular"  # Day of Shuhada
    assert days[date(2026, 5, 27)].proclaimed and "1264" in days[date(2026, 5, 27)].note  # Eid'l Adha
    assert days[date(2026, 12, 30)].kind == "national_regular"  # Rizal Day
    assert {2025, 2026, 2027} <= set(shipped.calendar.years)


def test_a_due_date_across_a_barmm_holiday_skips_it(shipped):
    tuesday = date(2026, 1, 20)  # the day before Bangsamoro Foundation Day (Wednesday 21 January)

    assert add_days(tuesday, 1, is_day_off=shipped.calendar.is_day_off) == date(2026, 1, 22)
    assert add_days(date(2026, 3, 17), 1, is_day_off=shipped.calendar.is_day_off) == date(2026, 3, 19)  # Shuhada


def test_a_due_date_across_eid_and_the_barmm_days_around_it_skips_them_all(shipped):
    monday = date(2026, 5, 25)  # Arafah Tue 26, Eid'l Adha Wed 27, first day of Tashriq Thu 28 May

    assert add_days(monday, 1, is_day_off=shipped.calendar.is_day_off) == date(2026, 5, 29)


def test_a_year_without_a_file_counts_weekends_only(shipped):
    assert not shipped.calendar.covers(UNCOVERED)
    assert add_days(date(UNCOVERED, 12, 24), 1, is_day_off=shipped.calendar.is_day_off) == date(UNCOVERED, 12, 25)
    assert shipped.calendar.is_day_off(date(UNCOVERED, 12, 27))  # a Saturday


def test_a_calendar_takes_only_the_days_it_is_given():
    calendar = Calendar(years={2030: (NonWorkingDay(date(2030, 1, 2), "Test day", "barmm_special"),)})

    assert calendar.is_day_off(date(2030, 1, 2)) and not calendar.is_day_off(date(2030, 1, 3))
    assert calendar.missing([2029, 2030, 2031]) == [2029, 2031]


def test_every_mistake_of_a_calendar_file_is_reported_on_its_line(rules_dir):
    path = write_calendar(rules_dir, "2030.yaml", (
        "  - date: 2030-01-01\n"           # line 3
        "    name: New Year's Day\n"
        "    kind: national_regular\n"
        "  - date: 2029-12-31\n"           # line 6: not in 2030
        "    name: Last Day\n"
        "    kind: national_special\n"
        "  - date: 2030-01-01\n"           # line 9: listed twice
        "    name: Again\n"
        "    kind: national_regular\n"
        "  - date: 2030-01-21\n"
        "    name: Bangsamoro Foundation Day\n"
        "    kind: barmm_reguler\n"         # line 14: unknown kind
        "  - date: next tuesday\n"         # line 15: not a date
        "    name: Someday\n"
        "    kind: barmm_special\n"
        "    holiday: yes\n"))              # line 18: unknown key

    errors = errors_of(rules_dir)

    assert [e for e in errors if e.startswith(f"{path}:")] == [
        f"{path}:6: date: 2029-12-31 is not in 2030, the year this file covers (move it to calendar/2029.yaml)",
        (f"{path}:9: date: 2030-01-01 is already listed on line 3; one entry per day (name both observances in "
         "one entry)"),
        (f"{path}:14: kind: unknown kind 'barmm_reguler' (known: national_regular, national_special, barmm_regular, "
         "barmm_special); did you mean 'barmm_regular'?"),
        f"{path}:15: date: expected a date written YYYY-MM-DD, got string 'next tuesday'",
        f"{path}:18: days (line 15): unknown key 'holiday' (allowed: date, kind, name, note, proclaimed)",
    ]


def test_a_day_that_does_not_exist_is_named_on_its_line(rules_dir):
    path = write_calendar(rules_dir, "2030.yaml", "  - date: 2030-02-30\n    name: X\n    kind: national_special\n")

    assert errors_of(rules_dir) == [f"{path}:3: 2030-02-30 is not a day of the calendar (day is out of range for month)"]


def test_a_calendar_file_is_named_after_its_year(rules_dir):
    path = write_calendar(rules_dir, "next.yaml", "  []\n")

    assert [e for e in errors_of(rules_dir) if "calendar" in e] == [
        (f"{path}:1: a calendar file is named after the year it covers, 2000–2100 (calendar/2026.yaml), "
         "not 'next.yaml'")]


def test_an_empty_year_loads_and_covers_its_year(rules_dir):
    write_calendar(rules_dir, "2030.yaml", "")

    loaded = load_rules(rules_dir)

    assert loaded.calendar.covers(2030) and loaded.calendar.years[2030] == ()


def test_rules_check_warns_about_this_year_and_the_next_without_a_file(rules_dir):
    shutil.rmtree(rules_dir / "calendar")

    result = CliRunner().invoke(main, ["rules", "check", str(rules_dir)])

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert all("business days in" in w and "skip weekends only" in w for w in warnings)
    assert "calendar: no years" in result.output


def test_holidays_country_is_warned_about_not_refused(rules_dir):
    schedule = rules_dir / "schedule.yaml"
    schedule.write_text(schedule.read_text().replace("business_days: true\n", "business_days: true\n"
                                                                             "holidays_country: PH\n"))

    loaded = load_rules(rules_dir)
    result = CliRunner().invoke(main, ["rules", "check", str(rules_dir)])

    assert len(loaded.warnings) == 1 and "holidays_country is no longer read" in loaded.warnings[0]
    assert f"warning: {schedule}:" in result.output


def test_a_moved_islamic_date_shows_in_the_diff_as_one_day_removed_and_one_added(shipped, rules_dir):
    from rules.diff import diff_rule_sets

    path = rules_dir / "calendar" / "2027.yaml"
    path.write_text(path.read_text().replace("date: 2027-05-16\n    name: Eid'l Adha", "date: 2027-05-18\n    name: Eid'l Adha"))

    change = diff_rule_sets(shipped, load_rules(rules_dir))

    assert change.removed["days"] == ("2027-05-16 Eid'l Adha (national_regular)",)
    assert change.added["days"] == ("2027-05-18 Eid'l Adha (national_regular)",)
    assert "  + non-working day 2027-05-18 Eid'l Adha (national_regular)" in change.lines()
