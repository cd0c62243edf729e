"""Calendar feeds (iCalendar, RFC 5545) of work-item dates and approval due
dates, per user and per MOA, and the events of a month for the web app's
month view (docs/design.md §15, "Calendar feeds"; issue 16 item 5).

A feed is reached at ``/calendar/<token>.ics`` without signing in: the token
is the feed's own secret, never an API token. It reads ``<id>.<signature>``,
the signature an HMAC-SHA256 of the feed's id and generation under the
app's ``SECRET_KEY``; nothing secret is stored, and ``rotate`` bumps the
generation so every URL handed out before answers 404. A feed answers only
while its owner is active and, for a MOA feed, still belongs to that MOA.

What a feed shows:
- ``mine``: the approval steps waiting for the user (My work: the stage's
  due day, at close of business in the schedule's time zone, with an alarm
  ``reminders.days_before_due`` days before, as the reminder e-mails go),
  and the work items of the PPAs the user prepared;
- ``moa``: every dated work item of the MOA's tracked PPAs and the due day
  of each of its PPAs in an approval stage with a due time.
A work item is an all-day event from its start date to its due date
(either alone makes a one-day event); cancelled items and those due before
1 January of last year are left out, and the due times of the newest PPAs
first, at most ``FEED_LIMIT`` of each.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Alarm, Calendar, Event
from sqlalchemy import and_, func, or_, select

from db import db
from db.models import CalendarFeed, Organization, Ppa, User, WorkItem
from db.types import utcnow
from services import calendar
from services.access import visible_ppas
from services.my_work import my_work
from services.runtime import get_runtime, runtime_for
from services.unit_of_work import transaction
from workflow.errors import NotFound

#: The hour (local) an approval stage falls due on its due day: close of business.
CLOSE_OF_BUSINESS = time(17, 0)
#: At most this many approval steps and work items per feed (the oldest first are kept).
FEED_LIMIT = 2000
#: The shape of a feed token: the feed's id, a dot, the base64url HMAC-SHA256 (43 characters).
TOKEN = re.compile(r"(?P<id>[0-9]{1,12})\.(?P<signature>[A-Za-z0-9_-]{43})", re.ASCII)
#: The iCalendar product id of the feeds.
PRODID = "-//ppaflow//PPA calendar//EN"


@dataclass(frozen=True)
class CalendarEvent:
    """One date on a calendar.

    Attributes:
        uid: stable across reads (``work-item-<id>``, ``ppa-<id>-<stage>-due``),
            so a client updates an event instead of doubling it.
        kind: ``work_item`` or ``approval_due``.
        start, end: the first and last day (inclusive; the same for one day).
        at: for ``approval_due``, the moment it falls due (aware, in the
            schedule's time zone); ``None`` for an all-day event.
        alarm_days: remind this many days before (``None``: no alarm).
        ppa_id: the PPA it belongs to (for links).
    """

    uid: str
    kind: str
    summary: str
    description: str
    start: date
    end: date
    ppa_id: int
    at: datetime | None = None
    alarm_days: int | None = None


@dataclass(frozen=True)
class FeedLink:
    """A feed the user may subscribe to: its scope, the MOA (for ``moa``),
    its URL path (``/calendar/<token>.ics``) and when it was last rotated."""

    scope: str
    moa: str | None
    path: str
    rotated_at: datetime | None


# -- tokens ------------------------------------------------------------------------------


def _signature(feed_id: int, generation: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"calendar-feed:{feed_id}:{generation}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_of(feed: CalendarFeed) -> str:
    """The secret part of the feed's URL: ``<id>.<signature>``."""
    return f"{feed.id}.{_signature(feed.id, feed.generation)}"


def get_feed_by_token(token: str) -> CalendarFeed | None:
    """The feed the token opens, or ``None``: an unknown or malformed token,
    a rotated one, an inactive owner, or an owner who left the feed's MOA."""
    match = TOKEN.fullmatch(token)
    if match is None:
        return None
    feed = db.session.get(CalendarFeed, int(match["id"]))
    if feed is None or not hmac.compare_digest(match["signature"].encode(),
                                               _signature(feed.id, feed.generation).encode()):
        return None
    if not feed.user.is_active or (feed.scope == "moa" and feed.user.organization_id != feed.organization_id):
        return None
    return feed


def get_feed_by_token_or_raise(token: str) -> CalendarFeed:
    """``get_feed_by_token``, or NotFound (the same for every reason, so a
    token cannot be probed)."""
    feed = get_feed_by_token(token)
    if feed is None:
        raise NotFound("no such calendar feed")
    return feed


# -- the user's feeds --------------------------------------------------------------------


def _wanted_scopes(user: User) -> list[tuple[str, int | None]]:
    scopes: list[tuple[str, int | None]] = [("mine", None)]
    if user.organization_id is not None:
        scopes.append(("moa", user.organization_id))
    return scopes


def _ensure_feeds(session, user: User) -> list[CalendarFeed]:
    """The user's feeds, created on first use; a MOA feed follows the user's
    current MOA (moving MOA rotates it)."""
    existing = {f.scope: f for f in session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user.id))}
    feeds = []
    for scope, organization_id in _wanted_scopes(user):
        feed = existing.get(scope)
        if feed is None:
            feed = CalendarFeed(user_id=user.id, scope=scope, organization_id=organization_id, generation=1)
            session.add(feed)
        elif feed.organization_id != organization_id:
            feed.organization_id, feed.generation, feed.rotated_at = organization_id, feed.generation + 1, utcnow()
        feeds.append(feed)
    session.flush()
    return feeds


def _links(feeds: Iterable[CalendarFeed]) -> list[FeedLink]:
    return [FeedLink(scope=f.scope, moa=f.organization.code if f.organization else None,
                     path=f"/calendar/{token_of(f)}.ics", rotated_at=f.rotated_at) for f in feeds]


def feed_links(user: User) -> list[FeedLink]:
    """The feeds ``user`` may subscribe to (``GET /api/me/calendar``): their
    own, and their MOA's when they belong to one. Created on first call."""
    with transaction() as session:
        return _links(_ensure_feeds(session, user))


def rotate(user: User) -> list[FeedLink]:
    """Replace the secret of every feed of ``user`` (``POST
    /api/me/calendar/rotate``): the old URLs answer 404 from now on."""
    with transaction() as session:
        feeds = _ensure_feeds(session, user)
        for feed in feeds:
            feed.generation, feed.rotated_at = feed.generation + 1, utcnow()
        session.flush()
        return _links(feeds)


# -- events ------------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(get_runtime().rules.schedule.timezone)


def _due_event(ppa_id: int, title: str, moa: str, stage: str, due: date, rules_hash: str | None) -> CalendarEvent:
    state = runtime_for(rules_hash).rules.approval.machine.states.get(stage)
    label = state.label if state is not None else stage
    return CalendarEvent(
        uid=f"ppa-{ppa_id}-{stage}-due", kind="approval_due", summary=f"Due: {label} — {title}",
        description=f"{moa} PPA {ppa_id} is in {label}; the stage falls due on {due:%d %B %Y}.",
        start=due, end=due, ppa_id=ppa_id, at=datetime.combine(due, CLOSE_OF_BUSINESS, _zone()),
        alarm_days=get_runtime().rules.schedule.reminder_days_before)


def _work_item_events(condition, first: date | None = None, last: date | None = None) -> list[CalendarEvent]:
    root = WorkItem.__table__.alias("root")
    items = WorkItem.__table__
    rows = db.session.execute(
        select(items.c.id, items.c.title, items.c.status, items.c.start_date, items.c.due_date, Ppa.id.label("ppa_id"),
               Ppa.title.label("ppa_title"))
        .select_from(items)
        .join(root, root.c.id == func.coalesce(items.c.root_id, items.c.id))
        .join(Ppa, Ppa.execution_project_id == root.c.id)
        .where(condition, items.c.status != "cancelled",
               or_(items.c.start_date.is_not(None), items.c.due_date.is_not(None)),
               func.coalesce(items.c.due_date, items.c.start_date) >= (first or _window_start()),
               *([func.coalesce(items.c.start_date, items.c.due_date) <= last] if last else []))
        .order_by(func.coalesce(items.c.start_date, items.c.due_date), items.c.id).limit(FEED_LIMIT)).all()
    events = []
    for row in rows:
        start, end = row.start_date or row.due_date, row.due_date or row.start_date
        start, end = min(start, end), max(start, end)
        events.append(CalendarEvent(
            uid=f"work-item-{row.id}", kind="work_item", summary=row.title,
            description=f"{row.ppa_title} (PPA {row.ppa_id}), status {row.status.replace('_', ' ')}",
            start=start, end=end, ppa_id=row.ppa_id))
    return events


def _window_start() -> date:
    """How far back a feed reaches: work items due before 1 January of last
    year (the fiscal year before this one) are left out."""
    return date(calendar.today().year - 1, 1, 1)


def _moa_due_events(organization_id: int) -> list[CalendarEvent]:
    """The due times of the organization's PPAs in a stage with one (the
    stages with ``due_in_days`` of the rules in force and of any pinned set,
    filtered in SQL before the limit)."""
    timed = {name for name, state in get_runtime().rules.approval.machine.states.items() if state.due_in_days}
    pins = db.session.scalars(select(Ppa.rules_hash).distinct().where(
        Ppa.organization_id == organization_id, Ppa.rules_hash.is_not(None))).all()
    for pin in pins:
        timed |= {n for n, s in runtime_for(pin).rules.approval.machine.states.items() if s.due_in_days}
    rows = db.session.execute(
        select(Ppa.id, Ppa.title, Organization.code, Ppa.approval_status, Ppa.stage_entered_at, Ppa.rules_hash)
        .join(Organization, Organization.id == Ppa.organization_id)
        .where(Ppa.organization_id == organization_id, Ppa.approval_status.in_(sorted(timed)))
        .order_by(Ppa.stage_entered_at.desc(), Ppa.id).limit(FEED_LIMIT)).all()
    events = []
    for row in rows:
        due = calendar.stage_due_date(row.approval_status, row.stage_entered_at, row.rules_hash)
        if due is not None:
            events.append(_due_event(row.id, row.title, row.code, row.approval_status, due, row.rules_hash))
    return events


def feed_events(feed: CalendarFeed, first: date | None = None, last: date | None = None) -> list[CalendarEvent]:
    """The events of a feed (see the module docstring), due dates first;
    work items touching ``first``-``last`` only, when given (else those due
    since 1 January of last year)."""
    if feed.scope == "moa":
        return _moa_due_events(feed.organization_id) + _work_item_events(
            Ppa.organization_id == feed.organization_id, first, last)
    waiting = [entry for entry in my_work(feed.user, page_size=FEED_LIMIT).entries if entry.due]
    pins = dict(db.session.execute(select(Ppa.id, Ppa.rules_hash).where(Ppa.id.in_([e.ppa_id for e in waiting]))).all())
    due = [_due_event(e.ppa_id, e.title, e.moa, e.stage, e.due, pins.get(e.ppa_id)) for e in waiting]
    return due + _work_item_events(and_(Ppa.created_by_id == feed.user_id, visible_ppas(feed.user)), first, last)


def month_events(user: User, year: int, month: int) -> list[CalendarEvent]:
    """The events of ``user``'s feeds that touch the month (for the web
    app's month view), each once, by first day."""
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    with transaction() as session:
        feeds = _ensure_feeds(session, user)
        seen: dict[str, CalendarEvent] = {}
        for feed in feeds:
            for event in feed_events(feed, first, last):
                if event.start <= last and event.end >= first:
                    seen.setdefault(event.uid, event)
    return sorted(seen.values(), key=lambda e: (e.start, e.uid))


# -- iCalendar ---------------------------------------------------------------------------


def feed_ics(token: str, base_url: str) -> bytes:
    """The feed the token opens as an iCalendar document (RFC 5545; built
    with ``icalendar``): all-day work items, approval due times in the
    schedule's time zone (a VTIMEZONE is included) with their alarms, each
    event linking to its PPA under ``base_url``.

    Raises:
        NotFound: the token opens no feed (``get_feed_by_token``).
    """
    feed = get_feed_by_token_or_raise(token)
    zone = get_runtime().rules.schedule.timezone
    name = f"ppaflow — {feed.organization.code} PPAs" if feed.scope == "moa" else f"ppaflow — {feed.user.username}"
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", zone)
    stamp = utcnow()
    for item in feed_events(feed):
        event = Event()
        event.add("uid", f"{item.uid}@ppaflow")
        event.add("dtstamp", stamp)
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("url", f"{base_url.rstrip('/')}/ppas/{item.ppa_id}")
        if item.at is not None:
            event.add("dtstart", item.at)
            event.add("dtend", item.at + timedelta(minutes=30))
        else:
            event.add("dtstart", item.start)
            event.add("dtend", item.end + timedelta(days=1))  # DTEND of an all-day event is exclusive
        if item.alarm_days:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", item.summary)
            alarm.add("trigger", timedelta(days=-item.alarm_days))
            event.add_component(alarm)
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
