"""The calendar's month view (issue 16 item 5, docs/design.md §15
"Calendar feeds"): the dates of the user's feeds, day by day, and the
addresses to subscribe to."""

from __future__ import annotations

from tests.api.test_calendar_feeds import _dated_ppa


def test_the_month_view_shows_the_work_items_of_the_month(world, browser_for):
    _, task = _dated_ppa(world)
    browser = browser_for(world.focal)

    march = browser.client.get("/calendar?month=2025-03").get_data(as_text=True)
    april = browser.client.get("/calendar?month=2025-04").get_data(as_text=True)

    assert "Calendar: March 2025" in march and march.count("Water system survey") == 10  # each of its 10 days
    assert "Water system survey" not in april and "/calendar/" in april  # the feed URLs to subscribe to


def test_months_out_of_range_or_malformed_show_this_month(world, browser_for):
    browser = browser_for(world.focal)

    for month in ("9999-12", "0001-01", "2025-13", "x"):
        response = browser.client.get(f"/calendar?month={month}")
        assert response.status_code == 200 and "Calendar:" in response.get_data(as_text=True)
