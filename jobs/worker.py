"""``ppaflow worker`` and ``ppaflow scheduler`` with ``REDIS_URL``: RQ's
worker and RQ's built-in cron scheduler, with two small extensions (without
Redis the schedule runs in-process: ``jobs.clock``).

- The worker forks a work horse per job; the horse disposes the database
  connections it inherited (sharing a socket with the parent corrupts both).
- RQ evaluates cron expressions in UTC; ``ZonedCronJob`` evaluates them in
  the time zone of rules/default/schedule.yaml (Asia/Manila), so "0 2 * * *" means
  02:00 in Manila.

``build_worker`` and ``build_scheduler`` are the entry points of a worker
process: called with the app ``ppaflow worker`` or ``ppaflow scheduler``
built (the current one by default), they hand it to the jobs
(``jobs.runner.use_app``), so every job runs in that app whatever RQ's
process does with the app context (docs/design.md §1, §7).
"""

from __future__ import annotations

import socket
from datetime import datetime
from zoneinfo import ZoneInfo

import rq
from flask import Flask, current_app
from rq.cron import CronJob, CronScheduler
from rq.utils import now

from db import db
from jobs import runner
from jobs.clock import active_schedule, entries, next_run
from jobs.queue import QUEUE_NAME, get_redis
from jobs.runner import enqueue_scheduled


class Worker(rq.Worker):
    """RQ's forking worker; each work horse disposes inherited DB connections."""

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)  # leave the parent's connections to the parent
        super().main_work_horse(job, queue)


class ZonedCronJob(CronJob):
    """RQ's ``CronJob`` with its cron expression read in a time zone.

    Args:
        timezone: the zone the expression's fields are in.
    """

    def __init__(self, *args, timezone: ZoneInfo, **kwargs):
        self.timezone = timezone
        super().__init__(*args, **kwargs)
        if self.cron:
            self.next_enqueue_time = self.next_after(now())

    def next_after(self, moment: datetime) -> datetime:
        """The first time after ``moment`` the expression fires (aware, UTC)."""
        return next_run(self.cron, self.timezone, moment)

    def get_next_enqueue_time(self) -> datetime:
        if self.cron:
            return self.next_after(self.latest_enqueue_time or now())
        return super().get_next_enqueue_time()


class ZonedCronScheduler(CronScheduler):
    """RQ's cron scheduler registering ``ZonedCronJob`` entries, following
    the active rule set: before each round (at most a minute apart) it
    reads the active set's schedule and, when an activation changed it,
    replaces its entries (docs/design.md §13)."""

    following: tuple | None = None

    def enqueue_jobs(self):
        """Follow the active set's schedule, then enqueue what is due (RQ's)."""
        self.follow_rules()
        return super().enqueue_jobs()

    def follow_rules(self) -> bool:
        """Replace the entries by those of the active rule set's schedule
        if they differ from the ones registered. Returns whether they did."""
        schedule = active_schedule()
        wanted = entries(schedule)
        if self.following is None or wanted == self.following:
            self.following = wanted
            return False
        self._cron_jobs = []
        register_schedule(self, schedule)
        self.following = wanted
        self.log.info("the active rule set's schedule is now in force")
        return True

    def register_zoned(self, func, queue_name: str, *, cron: str, timezone: ZoneInfo, kwargs: dict,
                       name: str) -> ZonedCronJob:
        """Register ``func(**kwargs)`` on ``cron`` read in ``timezone``."""
        job = ZonedCronJob(queue_name=queue_name, func=func, kwargs=kwargs, cron=cron, name=name, timezone=timezone)
        self._cron_jobs.append(job)
        self.log.info("Registered %s: cron %r in %s, next at %s", name, cron, timezone.key,
                      job.next_enqueue_time.astimezone(timezone).isoformat())
        return job


def require_redis():
    """The app's Redis, or a clear error when ``REDIS_URL`` is unset."""
    redis = get_redis()
    if redis is None:
        raise RuntimeError("REDIS_URL is not set: without Redis, jobs run inline in the API process "
                           "and the schedule runs in-process; no worker is needed")
    return redis


def build_scheduler(app: Flask | None = None) -> ZonedCronScheduler:
    """A cron scheduler with exactly the entries of rules/default/schedule.yaml.

    Each entry enqueues ``jobs.runner.enqueue_scheduled(kind=...)``, which
    records the run and enqueues the job kind with the usual retry policy.
    ``app`` (default: the current app) is handed to the jobs
    (``jobs.runner.use_app``).
    """
    runner.use_app(app or current_app._get_current_object())
    schedule = active_schedule()
    scheduler = ZonedCronScheduler(connection=require_redis(), name=f"ppaflow-scheduler:{socket.gethostname()}")
    register_schedule(scheduler, schedule)
    scheduler.following = entries(schedule)
    return scheduler


def register_schedule(scheduler: ZonedCronScheduler, schedule) -> None:
    """Register every entry of ``schedule`` (a ``rules.model.ScheduleRules``)."""
    zone = ZoneInfo(schedule.timezone)
    for entry in schedule.jobs:
        scheduler.register_zoned(enqueue_scheduled, QUEUE_NAME, cron=entry.cron, timezone=zone,
                                 kwargs={"kind": entry.name}, name=entry.name)


def build_worker(app: Flask | None = None, *, name: str | None = None,
                 worker_class: type[rq.Worker] = Worker) -> rq.Worker:
    """A worker on ppaflow's queue (``SimpleWorker`` for in-process runs);
    its jobs run in ``app`` (default: the current app; ``jobs.runner.use_app``)."""
    runner.use_app(app or current_app._get_current_object())
    return worker_class([QUEUE_NAME], connection=require_redis(), name=name)
