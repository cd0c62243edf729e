"""Calendar feeds (issue 16 item 5, docs/design.md §15 "Calendar feeds"): a
focal person subscribes to their MOA's feed and a reviewer to their own;
the feeds parse with a second iCalendar library (vobject) and show due
times in Manila; rotating a feed retires its old URL; no other secret opens
one (the month view: tests/web/test_calendar_page.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import vobject

from services.runtime import get_runtime
from tests.conftest import ONE_BACKEND, one_backend_app
from tests.support import STAGE_ENTERED


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    """The application on ``ONE_BACKEND`` only (nothing here depends on the database)."""
    yield from one_backend_app(request, tmp_path)


def _feeds(world, who) -> dict[str, str]:
    response = world.client.get("/api/me/calendar", headers=who.headers)
    assert response.status_code == 200, response.get_json()
    return {feed["scope"]: urlsplit(feed["url"]).path for feed in response.get_json()}


def _events(world, path: str) -> dict[str, object]:
    """The feed at ``path``, fetched without signing in, parsed by vobject: UID -> VEVENT."""
    response = world.client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/calendar"
    calendar = vobject.readOne(response.get_data(as_text=True))
    return {event.uid.value: event for event in calendar.contents.get("vevent", [])}


def _dated_ppa(world) -> tuple[int, int]:
    """A tracked MSSD PPA whose first task runs 1-10 March 2025."""
    ppa, task = world.tracked_ppa("budget_review")
    assert world.patch(f"/api/work-items/{task}", world.focal, {
        "title": "Water system survey", "start_date": "2025-03-01", "due_date": "2025-03-10"}).status_code == 200
    return ppa["id"], task


def test_a_focal_person_subscribes_to_the_moa_feed_with_work_items_and_due_times_in_manila(world):
    ppa, task = _dated_ppa(world)
    reviewing = world.ppa_in_stage_since("technical_review", title="Madrasah repair")
    feeds = _feeds(world, world.focal)

    assert set(feeds) == {"mine", "moa"}
    events = _events(world, feeds["moa"])

    survey = events[f"work-item-{task}@ppaflow"]
    assert survey.summary.value == "Water system survey"
    assert survey.dtstart.value == date(2025, 3, 1) and survey.dtend.value == date(2025, 3, 11)  # exclusive end
    due = events[f"ppa-{reviewing['id']}-technical_review-due@ppaflow"]
    assert due.dtstart.value.utcoffset() == timedelta(hours=8)  # Asia/Manila
    assert (due.dtstart.value.hour, due.dtstart.value.minute) == (17, 0)
    assert due.dtstart.value.date() > STAGE_ENTERED.date()
    with world.app.app_context():
        reminder = get_runtime().rules.schedule.reminder_days_before  # schedule.yaml reminders.days_before_due
    assert due.valarm.trigger.value == timedelta(days=-reminder)
    assert "Madrasah repair" in due.summary.value and "Technical" in due.summary.value
    assert f"/ppas/{ppa}" in events[f"work-item-{task}@ppaflow"].url.value


def test_a_reviewers_own_feed_has_the_steps_waiting_for_them_and_no_one_elses(world):
    waiting = world.ppa_in_stage_since("technical_review", title="Madrasah repair")
    world.ppa_in_stage_since("budget_review", title="Someone else's step")

    feeds = _feeds(world, world.technical_reviewer)

    events = _events(world, feeds["mine"])
    assert list(events) == [f"ppa-{waiting['id']}-technical_review-due@ppaflow"]
    assert isinstance(events[f"ppa-{waiting['id']}-technical_review-due@ppaflow"].dtstart.value, datetime)


def test_rotating_retires_the_old_urls_and_no_other_secret_opens_a_feed(world):
    _dated_ppa(world)
    before = _feeds(world, world.focal)

    rotated = world.client.post("/api/me/calendar/rotate", headers=world.focal.headers)

    assert rotated.status_code == 200
    after = {feed["scope"]: urlsplit(feed["url"]).path for feed in rotated.get_json()}
    assert after == _feeds(world, world.focal) and set(after.values()).isdisjoint(before.values())
    for path in before.values():
        assert world.client.get(path).status_code == 404
    assert world.client.get(after["moa"]).status_code == 200
    feed_id = after["moa"].split("/")[-1].split(".")[0]
    api_token = world.focal.headers["Authorization"].split()[-1]
    for forged in (f"{feed_id}.{'A' * 43}", api_token, f"{feed_id}", "0.x", "../../etc/passwd", "1.%C3%A9",
                   "%C2%B2.x", f"{feed_id}.{'é' * 43}"):
        assert world.client.get(f"/calendar/{forged}.ics").status_code == 404


def test_a_moa_feed_stops_when_its_owner_is_deactivated(world):
    _dated_ppa(world)
    feeds = _feeds(world, world.focal)
    me = world.client.get("/api/me", headers=world.focal.headers).get_json()

    response = world.patch(f"/api/users/{me['id']}", world.admin, {"active": False})

    assert response.status_code == 200, response.get_json()
    assert world.client.get(feeds["moa"]).status_code == 404



def test_the_api_refuses_a_token_in_a_url_even_beside_a_good_header(world):
    token = world.focal.headers["Authorization"].split()[-1]

    response = world.client.get(f"/api/me/calendar?access_token={token}", headers=world.focal.headers)

    assert response.status_code == 401 and "never taken from a URL" in response.get_json()["detail"]


def test_a_focal_person_moved_to_another_moa_no_longer_sees_the_old_moas_ppas_in_any_feed(world):
    _, task = _dated_ppa(world)
    world.other_focal  # noqa: B018 - MTIT exists
    before = _feeds(world, world.focal)
    assert f"work-item-{task}@ppaflow" in _events(world, before["mine"])  # a PPA they prepared
    me = world.client.get("/api/me", headers=world.focal.headers).get_json()

    assert world.patch(f"/api/users/{me['id']}", world.admin, {"organization": "MTIT"}).status_code == 200

    after = _feeds(world, world.focal)
    assert world.client.get(before["moa"]).status_code == 404 and after["moa"] != before["moa"]
    assert f"work-item-{task}@ppaflow" not in _events(world, after["mine"])
    assert f"work-item-{task}@ppaflow" not in _events(world, after["moa"])
