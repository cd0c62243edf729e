"""``GET /api/calendar?year=`` and the business days it explains (issue 14
item 8; docs/design.md §7): the national and BARMM non-working days of the
rules in force, which stage due dates skip. Nothing here depends on the
database: one backend."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services import calendar
from tests.conftest import ONE_BACKEND, one_backend_app


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    """The application on ``ONE_BACKEND`` only."""
    yield from one_backend_app(request, tmp_path)


def test_the_calendar_of_2026_lists_the_barmm_days_with_the_national_ones(world):
    answer = world.client.get("/api/calendar?year=2026", headers=world.focal.headers)

    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["year"], body["file"], body["business_days"]) == (2026, "calendar/2026.yaml", True)
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-01-21"] == {"date": "2026-01-21", "weekday": "Wednesday", "name": "Bangsamoro Foundation Day",
                                  "kind": "barmm_regular", "proclaimed": False, "note": None}
    assert days["2026-03-20"]["name"] == "Eid'l Fitr" and days["2026-03-20"]["proclaimed"] is True
    assert days["2026-06-12"]["kind"] == "national_regular"
    assert [d["date"] for d in body["days"]] == sorted(days)


def test_a_year_without_a_calendar_file_answers_no_file_and_no_days(world):
    body = world.client.get("/api/calendar?year=2031", headers=world.focal.headers).get_json()

    assert (body["file"], body["days"]) == (None, [])


def test_a_year_out_of_range_is_refused_by_name(world):
    answer = world.client.get("/api/calendar?year=1900", headers=world.focal.headers)

    assert answer.status_code == 422
    assert "year" in str(answer.get_json())


def test_a_stage_due_date_skips_bangsamoro_foundation_day(app):
    with app.app_context():
        # entered on Tuesday 20 January 2026 (Manila): one business day later is Thursday, not the 21st
        assert calendar.due_date(datetime(2026, 1, 20, 1, tzinfo=UTC), 1) == date(2026, 1, 22)
        assert calendar.add_business_days(date(2026, 3, 17), 1) == date(2026, 3, 19)  # Day of Shuhada

