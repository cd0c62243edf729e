"""The schedule without Redis (issue 10; docs/design.md §7): the entries of
rules/default/schedule.yaml run in-process on APScheduler, in Manila time, exactly
once however many processes serve the database (the schedule lease: a
PostgreSQL advisory lock, or a lock file beside a SQLite database)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from sqlalchemy import select, text

from db import db
from db.models import JobRecord
from jobs.clock import ZonedCronTrigger, build_local_scheduler, fire
from jobs.lease import ScheduleLease
from tests.integration.test_jobs import record, scenario
from tests.support import cli, shipped_rules
from web import create_app

RULES = shipped_rules()
MANILA = ZoneInfo("Asia/Manila")
REPOSITORY = Path(__file__).resolve().parents[2]


def kinds(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return db.session.execute(select(JobRecord.kind, JobRecord.status, JobRecord.runner)
                                  .order_by(JobRecord.enqueued_at)).all()


def test_scheduler_list_works_without_redis(app):
    result = cli(app, "scheduler", "--list")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[2:]] == [entry.name for entry in RULES.schedule.jobs]
    assert all("Asia/Manila" in line and " PST" in line for line in lines[2:])  # next run, Philippine time


def test_the_in_process_schedule_has_the_cron_entries_of_the_rules_in_manila(app):
    scheduler = build_local_scheduler(app)

    triggers = {job.id: job.trigger for job in scheduler.get_jobs()}

    at_8am_manila = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert [(name, triggers[name].cron) for name in list(triggers)[:6]] == [
        (entry.name, entry.cron) for entry in RULES.schedule.jobs]
    assert [triggers[entry.name].get_next_fire_time(None, at_8am_manila) for entry in RULES.schedule.jobs] == [
        datetime(2026, 1, 1, 18, 0, tzinfo=UTC),  # sync: 02:00 on 2 January in Manila
        datetime(2026, 1, 1, 4, 0, tzinfo=UTC),  # variances: 12:00 in Manila
        datetime(2026, 1, 2, 0, 0, tzinfo=UTC),  # reminders: 08:00 on 2 January in Manila
        datetime(2026, 1, 1, 0, 30, tzinfo=UTC),  # escalations: 08:30 in Manila
        datetime(2026, 1, 1, 18, 30, tzinfo=UTC),  # retention purge: 02:30 on 2 January in Manila
        datetime(2026, 1, 1, 0, 15, tzinfo=UTC),  # lost-job sweep: every 15 minutes
    ]
    assert "redispatch_lost_jobs:at-start" in triggers  # and the sweep, once, at start


def test_weekdays_count_as_in_crontab_not_as_in_apschedulers_own_cron_trigger():
    mondays = ZonedCronTrigger("0 8 * * 1", MANILA)  # crontab: 1 is Monday (APScheduler 3's CronTrigger: Tuesday)

    fires = mondays.get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=UTC))  # a Thursday

    assert fires.astimezone(MANILA) == datetime(2026, 1, 5, 8, 0, tzinfo=MANILA)
    assert fires.astimezone(MANILA).strftime("%A") == "Monday"


def test_the_lease_is_held_by_one_process_and_passes_on_when_it_goes(app):
    url = app.config["DATABASE_URL"]
    first, second = ScheduleLease(url), ScheduleLease(url)

    try:
        assert (first.acquire(), second.acquire(), first.acquire()) == (True, False, True)
        first.release()  # as when its process ends
        assert (second.acquire(), first.acquire()) == (True, False)
    finally:
        first.release()
        second.release()


def test_a_holder_whose_database_session_ended_loses_the_lease_to_the_next(pg_app):
    url = pg_app.config["DATABASE_URL"]
    first, second = ScheduleLease(url), ScheduleLease(url)
    try:
        assert first.acquire()
        with pg_app.app_context(), db.engine.begin() as connection:  # a database restart, or the process killed
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                                    "AND objid = 1 AND classid = CAST(1886413158 AS oid)"))

        assert (second.acquire(), first.acquire()) == (True, False)
    finally:
        first.release()
        second.release()


def test_an_entry_fired_in_three_processes_at_once_runs_once(app):
    world = scenario(app)
    workers = [app] + [create_app({"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": None, "TESTING": True})
                       for _ in range(2)]  # as three gunicorn workers: an app, an engine and a lease each
    executed, done = [], threading.Event()

    def listen(event):
        executed.append(event.job_id)
        if executed.count("sync_tracked_ppas") == len(workers):
            done.set()

    schedulers = [build_local_scheduler(worker, ScheduleLease(app.config["DATABASE_URL"])) for worker in workers]
    try:
        for scheduler in schedulers:
            scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
            scheduler.start()
        now = datetime.now(MANILA)
        for scheduler in schedulers:
            scheduler.modify_job("sync_tracked_ppas", next_run_time=now)  # 02:00 has come, in every worker
        assert done.wait(60), executed
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
        for worker in workers[1:]:
            with worker.app_context():
                db.engine.dispose()

    assert sorted(kinds(app)) == [("redispatch_lost_jobs", "finished", "inline"),
                                  ("sync_tracked_ppas", "finished", "inline")]
    assert world.get(world.tracked, world.focal)["progress"] == 100


def test_a_firing_in_a_process_without_the_lease_does_nothing(app):
    holder, other = ScheduleLease(app.config["DATABASE_URL"]), ScheduleLease(app.config["DATABASE_URL"])
    try:
        assert holder.acquire()

        assert fire(app, other, "detect_budget_variances") is None
        job_id = fire(app, holder, "detect_budget_variances")
    finally:
        holder.release()
        other.release()

    assert (record(app, job_id).status, len(kinds(app))) == ("finished", 1)


# -- the processes that run it ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(app, *args: str, log: Path) -> Iterator[subprocess.Popen]:
    """``ppaflow ARGS`` on ``app``'s database without Redis, stopped after the block."""
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "web.cli", *args], cwd=REPOSITORY, stdout=out,
                                   stderr=subprocess.STDOUT,
                                   env=os.environ | {"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": ""})
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


COMMANDS = {
    "make run (the development server)": ("serve", "--port", "{port}"),
    "gunicorn with 3 workers": ("serve", "--port", "{port}", "--workers", "3"),
    "ppaflow scheduler": ("scheduler",),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_without_redis_the_schedule_runs_in_the_serving_processes_once(app, tmp_path, command):
    args = [a.format(port=free_port()) for a in COMMANDS[command]]
    processes = 3 if "--workers" in args else 1
    log = tmp_path / "server.log"

    with running(app, *args, log=log):
        started = wait_for(lambda: log.read_text().count("runs in-process") >= processes
                           or log.read_text().count("running the schedule in this process") >= processes)
        swept = wait_for(lambda: ("redispatch_lost_jobs", "finished", "inline") in kinds(app))
        if processes > 1:
            time.sleep(2)  # every worker has fired its sweep at start by now
        jobs = kinds(app)

    assert started and swept, log.read_text()[-3000:]
    assert jobs == [("redispatch_lost_jobs", "finished", "inline")]  # fired by each process, run by one
