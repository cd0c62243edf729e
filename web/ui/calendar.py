"""Calendars (docs/design.md §15, "Calendar feeds"; issue 16 item 5):
``/calendar/<token>.ics``, a feed for calendar clients, opened by the
feed's own secret without signing in; ``/calendar``, the signed-in user's
month view of the same events. The views are thin:
``services.calendar_feeds`` decides."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template, request

from services import calendar, calendar_feeds
from web.ui.pages import signed_in
from workflow.errors import NotFound

bp = Blueprint("calendar", __name__)

#: The endpoints anyone may open (added to ``web.ui.PUBLIC_ENDPOINTS``): the feed checks its token.
PUBLIC = frozenset({"ui.calendar.feed"})


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    """The iCalendar feed the token opens; 404 for any token that opens none."""
    try:
        body = calendar_feeds.feed_ics(token, request.host_url)
    except NotFound:
        abort(404)
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = 'inline; filename="ppaflow.ics"'
    return response


#: The years the month view shows (fiscal years of the budget, with room either side).
FIRST_YEAR, LAST_YEAR = 1900, 2999


def _month(text: str | None) -> date:
    """The first day of ``YYYY-MM`` (this month when absent, malformed or
    outside ``FIRST_YEAR``-``LAST_YEAR``)."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        if FIRST_YEAR <= year <= LAST_YEAR:
            return date(year, month, 1)
    except ValueError:
        pass
    return calendar.today().replace(day=1)


@bp.route("/calendar")
def month():
    """The month view: a week a row, each day with its events, and the
    feed URLs to subscribe to."""
    user = signed_in()
    first = _month(request.args.get("month"))
    events = calendar_feeds.month_events(user, first.year, first.month)
    following = (first + timedelta(days=32)).replace(day=1)
    start = first - timedelta(days=first.weekday())  # the Monday on or before the 1st
    days = (following - start).days + (-(following - start).days % 7)  # whole weeks to the month's end
    grid = [start + timedelta(days=n) for n in range(days)]
    weeks = [[(day, [e for e in events if e.start <= day <= e.end]) for day in grid[i:i + 7]]
             for i in range(0, len(grid), 7)]
    previous = (first - timedelta(days=1)).replace(day=1)
    return render_template("calendar/month.html", first=first, weeks=weeks, previous=previous,
                           following=following, today=calendar.today(),
                           feeds=calendar_feeds.feed_links(user), host=request.host_url.rstrip("/"))
