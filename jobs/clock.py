"""When the cron entries of rules/default/schedule.yaml fire, and the in-process
schedule that fires them without Redis (docs/design.md §7).

With ``REDIS_URL``, ``ppaflow scheduler`` runs RQ's cron scheduler
(``jobs.worker``). Without it (``make run``, or a deployment without Redis)
the same entries run in-process on APScheduler 3: every serving process
starts the schedule (the development server in ``ppaflow serve``, each
gunicorn worker in ``web/gunicorn_conf.py``, or ``ppaflow scheduler`` on its
own) and each firing runs only in the process holding the
``jobs.lease.ScheduleLease`` (a PostgreSQL advisory lock, or a lock file
beside a SQLite database), so every entry runs exactly once. A firing
records the job and runs it inline, like ``ppaflow job enqueue``.

Cron expressions are read by croniter in the schedule's time zone
(Asia/Manila), as the rules loader validates them and as the RQ scheduler
reads them; APScheduler 3's own ``CronTrigger`` counts weekdays from Monday
= 0, so it is not used.
"""

from __future__ import annotations

import atexit
import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from croniter import croniter
from flask import Flask

from db import db
from jobs.lease import ScheduleLease
from jobs.runner import enqueue_scheduled
from services.runtime import forget, get_runtime

log = logging.getLogger("ppaflow.jobs")

#: The job that re-dispatches jobs left queued (``jobs.queue.redispatch_lost``),
#: also run once when a schedule starts.
SWEEP = "redispatch_lost_jobs"

#: A firing missed by at most this many seconds (a busy or sleeping machine) still runs.
MISFIRE_GRACE_SECONDS = 600

#: How often a running schedule looks for a newly activated rule set whose
#: ``schedule.yaml`` differs (docs/design.md §13 "Reload").
FOLLOW_SECONDS = 60


def active_schedule():
    """The ``schedule.yaml`` of the database's active rule set, read afresh
    (``services.runtime.forget``; needs an app context; leaves no
    transaction open: a scheduler idles between firings)."""
    forget()
    try:
        return get_runtime().rules.schedule
    finally:
        db.session.remove()


def entries(schedule) -> tuple:
    """What a schedule fires, comparable: its time zone and ``(kind, cron)`` per entry."""
    return schedule.timezone, tuple((entry.name, entry.cron) for entry in schedule.jobs)


def next_run(cron: str, zone: ZoneInfo, after: datetime) -> datetime:
    """The first time strictly after ``after`` that ``cron`` (five fields,
    read in ``zone``) fires, as an aware datetime in UTC."""
    return croniter(cron, after.astimezone(zone)).get_next(datetime).astimezone(UTC)


def upcoming(now: datetime | None = None) -> list[tuple[str, str, ZoneInfo, datetime]]:
    """The entries of rules/default/schedule.yaml and when each fires next.

    Returns:
        ``(job kind, cron, time zone, next run in that zone)`` per entry, in file order.
    """
    schedule = get_runtime().rules.schedule
    zone = ZoneInfo(schedule.timezone)
    now = now or datetime.now(UTC)
    return [(entry.name, entry.cron, zone, next_run(entry.cron, zone, now).astimezone(zone))
            for entry in schedule.jobs]


class ZonedCronTrigger(BaseTrigger):
    """An APScheduler trigger for a five-field cron expression read in a
    time zone, by croniter (the dialect of the rules loader and of RQ's cron
    scheduler: 0 and 7 are Sunday).

    Args:
        cron: the expression of a rules/default/schedule.yaml entry.
        zone: the schedule's time zone.
    """

    def __init__(self, cron: str, zone: ZoneInfo):
        self.cron, self.zone = cron, zone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        return next_run(self.cron, self.zone, previous_fire_time or now)

    def __str__(self) -> str:
        return f"cron[{self.cron!r} in {self.zone.key}]"


def fire(app: Flask, lease: ScheduleLease, kind: str) -> str | None:
    """What each in-process firing runs: record and run job ``kind`` inline,
    if this process holds the lease; else nothing.

    Returns:
        The job's id, or ``None`` when another process fired it.
    """
    with app.app_context():
        if not lease.acquire():
            log.debug("schedule: %s fired in another process", kind)
            return None
        return enqueue_scheduled(kind)


def build_local_scheduler(app: Flask, lease: ScheduleLease | None = None, *, blocking: bool = False) -> BaseScheduler:
    """An APScheduler scheduler (not started) with every entry of
    rules/default/schedule.yaml, and one run of the lost-job sweep at its start.

    Args:
        lease: who fires (default: a lease on the app's database).
        blocking: a ``BlockingScheduler`` for ``ppaflow scheduler``, else a
            ``BackgroundScheduler`` (a daemon thread in a serving process).
    """
    lease = lease or ScheduleLease(app.config["DATABASE_URL"])
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # "running job ..." every firing: ours says more
    with app.app_context():
        schedule = active_schedule()
    zone = ZoneInfo(schedule.timezone)
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(
        timezone=zone, executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS})
    _add_entries(scheduler, app, lease, schedule)
    scheduler.add_job(fire, args=(app, lease, SWEEP), id=f"{SWEEP}:at-start", name=f"{SWEEP} at start",
                      next_run_time=datetime.now(zone))
    following = {"entries": entries(schedule)}
    scheduler.add_job(follow_rules, "interval", seconds=FOLLOW_SECONDS, args=(scheduler, app, lease, following),
                      id="follow-active-rules", name="follow the active rule set's schedule")
    return scheduler


def _add_entries(scheduler: BaseScheduler, app: Flask, lease: ScheduleLease, schedule) -> None:
    zone = ZoneInfo(schedule.timezone)
    for entry in schedule.jobs:
        scheduler.add_job(fire, ZonedCronTrigger(entry.cron, zone), args=(app, lease, entry.name), id=entry.name,
                          name=entry.name, replace_existing=True)


def follow_rules(scheduler: BaseScheduler, app: Flask, lease: ScheduleLease, following: dict) -> bool:
    """Replace the cron entries of a running in-process schedule by those
    of the active rule set when an activation changed them (every
    ``FOLLOW_SECONDS``; the jobs themselves always run under the active set).

    Returns:
        Whether the entries changed.
    """
    with app.app_context():
        schedule = active_schedule()
    wanted = entries(schedule)
    if wanted == following["entries"]:
        return False
    for name, _cron in following["entries"][1]:
        if scheduler.get_job(name) is not None:
            scheduler.remove_job(name)
    _add_entries(scheduler, app, lease, schedule)
    following["entries"] = wanted
    log.info("schedule: the active rule set's entries are now in force: %s",
             ", ".join(f"{name} {cron!r}" for name, cron in wanted[1]))
    return True


def start_local_scheduler(app: Flask) -> BackgroundScheduler | None:
    """Start the in-process schedule in this serving process, unless
    ``REDIS_URL`` is set (then ``ppaflow scheduler`` runs RQ's). Stops when
    the process exits.

    Returns:
        The running scheduler (also ``app.extensions["ppaflow_scheduler"]``), or ``None``.
    """
    if app.config.get("REDIS_URL"):
        return None
    scheduler: Any = build_local_scheduler(app)
    scheduler.start()
    atexit.register(lambda: scheduler.running and scheduler.shutdown(wait=False))
    app.extensions["ppaflow_scheduler"] = scheduler
    log.info("schedule of rules/default/schedule.yaml runs in-process (no REDIS_URL)")
    return scheduler
