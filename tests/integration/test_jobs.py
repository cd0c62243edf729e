"""Background jobs on real Redis and inline (docs/design.md §7): records, retries,
idempotence, transactions, the schedule, and the forking worker."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue, Retry, SimpleWorker
from sqlalchemy import func, select, text, update

import jobs.queue
from db import db
from db.models import Alert, JobRecord, Notification, Ppa, WorkItem
from jobs.queue import QUEUE_NAME, enqueue, redispatch_lost
from jobs.registry import KINDS
from jobs.worker import Worker, build_scheduler, build_worker
from services.unit_of_work import transaction
from tests.integration import flaky
from tests.support import World, shipped_rules

RULES = shipped_rules()


def scenario(app) -> World:
    """Two PPAs with work for every job: a tracked PPA whose progress drifted
    and whose item overspent behind the services' back, and a PPA sitting in
    technical review since June 2025 (overdue, reminders due)."""
    world = World(app)
    tracked, task = world.tracked_ppa("budget_review")
    world.client.post(f"/api/work-items/{task}/transitions", json={"trigger": "complete"}, headers=world.focal.headers)
    waiting = world.ppa_in_stage_since("technical_review", title="Mosque Repair")
    world.person("bpda.reviewer2", "technical_reviewer", org="BPDA")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE ppas SET progress = 0, status = 'planning' WHERE id = :id"),
                           {"id": tracked["id"]})
        connection.execute(text("UPDATE work_items SET actual_expenditure = 600000000 WHERE id = :id"), {"id": task})
    world.tracked, world.waiting = tracked["id"], waiting["id"]
    return world


def state(app) -> dict:
    """What the jobs change, comparable between runs."""
    with app.app_context():
        return {
            "alerts": sorted(db.session.execute(select(Alert.type, Alert.subject, Alert.resolved_at.is_(None))).all()),
            "notifications": sorted(db.session.execute(
                select(Notification.recipient_id, Notification.ppa_id, Notification.stage, Notification.day)).all()),
            "ppas": sorted(db.session.execute(
                select(Ppa.id, Ppa.progress, Ppa.status, Ppa.execution_flag, Ppa.version)).all()),
            "work_items": sorted(db.session.execute(select(
                WorkItem.id, WorkItem.status, WorkItem.rolled_expended, WorkItem.rolled_progress, WorkItem.rollup,
                WorkItem.rollup_key)).all()),
        }


def run(app, kind: str, **arguments) -> str:
    with app.app_context():
        with transaction():
            return enqueue(kind, **arguments).id


def record(app, job_id: str) -> JobRecord:
    with app.app_context():
        job = db.session.get(JobRecord, job_id)
        db.session.expunge(job)
        return job


def work(app) -> None:
    with app.app_context():
        build_worker(worker_class=SimpleWorker).work(burst=True)


JOBS = [("sync_tracked_ppas", {}), ("detect_budget_variances", {}),
        ("send_approval_deadline_reminders", {"today": "2025-06-22"})]


def test_a_job_waits_in_redis_until_a_worker_runs_it_and_its_record_tells_how_it_went(redis_app):
    world = scenario(redis_app)

    job_id = run(redis_app, "sync_tracked_ppas")
    queued = record(redis_app, job_id)
    waiting = Queue(QUEUE_NAME, connection=Redis.from_url(redis_app.config["REDIS_URL"])).count
    work(redis_app)

    done = world.client.get(f"/api/jobs/{job_id}", headers=world.admin.headers).get_json()
    assert (queued.status, waiting) == ("queued", 1)
    assert (done["status"], done["runner"], done["attempts"]) == ("finished", "rq", 1)
    # The overspending behind the services' back is drift in the stored rollups: the job repairs it first,
    # and that repair lets the PPA follow its project (docs/design.md §4, "Stored rollups").
    assert done["result"] == {"synced": 1, "errors": 0, "changed": 0, "failed_ppa_ids": [],
                              "rollups": {"trees": 1, "drifted": 1, "repaired": 1, "errors": 0}}
    assert world.get(world.tracked, world.focal)["progress"] == 100


def test_a_job_that_fails_twice_then_succeeds_is_retried(redis_app, monkeypatch):
    monkeypatch.setitem(KINDS, "flaky", flaky.fail_twice)
    monkeypatch.setattr(jobs.queue, "retry_policy", lambda: Retry(max=3, interval=0))

    job_id = run(redis_app, "flaky", key="retry-test")
    work(redis_app)

    done = record(redis_app, job_id)
    assert (done.status, done.attempts, done.error) == ("finished", 3, None)
    assert done.result == '{"attempt": 3}'


def test_a_job_that_keeps_failing_ends_failed_with_its_error(redis_app, monkeypatch):
    monkeypatch.setitem(KINDS, "flaky", flaky.always_fail)
    monkeypatch.setattr(jobs.queue, "retry_policy", lambda: Retry(max=2, interval=0))

    job_id = run(redis_app, "flaky", key="fail-test")
    work(redis_app)

    done = record(redis_app, job_id)
    assert (done.status, done.attempts) == ("failed", 3)
    assert "TransientFailure: still down" in done.error


@pytest.mark.parametrize("kind, arguments", JOBS, ids=[k for k, _ in JOBS])
def test_running_a_job_twice_leaves_the_same_state_as_once(redis_app, kind, arguments):
    scenario(redis_app)
    before = state(redis_app)

    run(redis_app, kind, **arguments)
    work(redis_app)
    once = state(redis_app)
    run(redis_app, kind, **arguments)
    work(redis_app)

    assert state(redis_app) == once
    assert once != before


def test_a_job_enqueued_in_a_transaction_that_rolls_back_never_runs(redis_app):
    scenario(redis_app)
    before = state(redis_app)

    with redis_app.app_context(), pytest.raises(RuntimeError, match="changed my mind"):
        with transaction():
            enqueue("sync_tracked_ppas")
            raise RuntimeError("changed my mind")
    work(redis_app)

    with redis_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JobRecord)) == 0
    assert Queue(QUEUE_NAME, connection=Redis.from_url(redis_app.config["REDIS_URL"])).count == 0
    assert state(redis_app) == before


@pytest.mark.parametrize("kind, arguments", JOBS, ids=[k for k, _ in JOBS])
def test_inline_mode_gives_the_same_results_as_the_worker(redis_app, kind, arguments):
    world = scenario(redis_app)
    start = state(redis_app)

    redis_app.config["REDIS_URL"] = None
    inline = record(redis_app, run(redis_app, kind, **arguments))
    after_inline = state(redis_app)
    _reset(redis_app, world, start)
    redis_app.config["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    worker_id = run(redis_app, kind, **arguments)
    work(redis_app)
    by_worker = record(redis_app, worker_id)

    assert (inline.runner, by_worker.runner) == ("inline", "rq")
    assert inline.result == by_worker.result
    assert _without_versions(state(redis_app)) == _without_versions(after_inline)


def _reset(app, world, start) -> None:
    """Put the scenario back as it was before a job ran."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM alerts"))
        # What the job wrote goes; the notices of the scenario's own stage changes stay.
        connection.execute(text("DELETE FROM notifications WHERE kind <> 'stage_changed'"))
        for ppa_id, progress, status, flag, _ in start["ppas"]:
            connection.execute(text("UPDATE ppas SET progress = :p, status = :s, execution_flag = :f WHERE id = :id"),
                               {"p": progress, "s": status, "f": flag, "id": ppa_id})
        for item_id, status, expended, progress, rollup, key in start["work_items"]:  # the drift, back again
            connection.execute(text("UPDATE work_items SET status = :s, rolled_expended = :e, rolled_progress = :p, "
                                    "rollup = :r, rollup_key = :k WHERE id = :id"),
                               {"s": status, "e": expended, "p": progress, "r": rollup, "k": key, "id": item_id})


def _without_versions(snapshot: dict) -> dict:
    return snapshot | {"ppas": [row[:4] for row in snapshot["ppas"]]}


def test_without_redis_jobs_run_inline_right_after_the_commit(app):
    world = scenario(app)

    job_id = run(app, "sync_tracked_ppas")

    done = record(app, job_id)
    assert (done.status, done.runner) == ("finished", "inline")
    assert world.get(world.tracked, world.focal)["progress"] == 100


def test_an_unreachable_redis_falls_back_to_inline_and_says_so(app):
    world = scenario(app)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    job_id = run(app, "sync_tracked_ppas")

    done = record(app, job_id)
    assert (done.status, done.runner) == ("finished", "inline")
    assert done.note.startswith("Redis was unreachable at dispatch (ConnectionError); ran inline")
    assert world.get(world.tracked, world.focal)["progress"] == 100


def test_scheduler_registers_exactly_the_cron_entries_of_the_rules_in_manila(redis_app):
    with redis_app.app_context():
        scheduler = build_scheduler()

    entries = scheduler.get_jobs()
    assert [(j.name, j.cron) for j in entries] == [(j.name, j.cron) for j in RULES.schedule.jobs]
    assert {j.timezone.key for j in entries} == {"Asia/Manila"}
    at_8am_manila = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert [j.next_after(at_8am_manila) for j in entries] == [
        datetime(2026, 1, 1, 18, 0, tzinfo=UTC),  # sync: 02:00 on 2 January in Manila
        datetime(2026, 1, 1, 4, 0, tzinfo=UTC),   # variances: 12:00 in Manila, the next 6-hour mark
        datetime(2026, 1, 2, 0, 0, tzinfo=UTC),   # reminders: 08:00 on 2 January in Manila
        datetime(2026, 1, 1, 0, 30, tzinfo=UTC),  # escalations: 08:30 in Manila
        datetime(2026, 1, 1, 18, 30, tzinfo=UTC),  # retention purge: 02:30 on 2 January in Manila
        datetime(2026, 1, 1, 0, 15, tzinfo=UTC),  # lost-job sweep: every 15 minutes
    ]


def test_a_scheduled_entry_enqueues_a_recorded_job_that_a_worker_runs(redis_app):
    world = scenario(redis_app)
    with redis_app.app_context():
        scheduler = build_scheduler()
        sync = next(j for j in scheduler.get_jobs() if j.name == "sync_tracked_ppas")
        sync.next_enqueue_time = datetime(2000, 1, 1, tzinfo=UTC)  # due now

        enqueued = scheduler.enqueue_jobs()
    work(redis_app)

    assert [j.name for j in enqueued] == ["sync_tracked_ppas"]
    with redis_app.app_context():
        kinds = db.session.execute(select(JobRecord.kind, JobRecord.status)).all()
    assert kinds == [("sync_tracked_ppas", "finished")]
    assert world.get(world.tracked, world.focal)["progress"] == 100


def test_the_forking_worker_runs_jobs_in_a_work_horse(redis_app):
    world = scenario(redis_app)
    job_id = run(redis_app, "sync_tracked_ppas")

    with redis_app.app_context():
        worker = build_worker()
        assert isinstance(worker, Worker)
        worker.work(burst=True)

    assert record(redis_app, job_id).status == "finished"
    assert world.get(world.tracked, world.focal)["progress"] == 100


def test_job_records_are_visible_to_their_requester_and_reviewers_only(app):
    world = scenario(app)
    with app.app_context():
        from services.users import get_user_or_raise

        with transaction():
            job_id = enqueue("detect_budget_variances", requested_by=get_user_or_raise("mssd.focal")).id

    own = world.client.get(f"/api/jobs/{job_id}", headers=world.focal.headers)
    other = world.client.get(f"/api/jobs/{job_id}", headers=world.other_focal.headers)
    reviewer = world.client.get(f"/api/jobs/{job_id}", headers=world.budget_analyst.headers)

    assert (own.status_code, other.status_code, reviewer.status_code) == (200, 404, 200)
    assert own.get_json()["result"]["opened"] == 3  # the overspent task, its project, the overdue stage


def test_a_job_killed_mid_run_runs_again_to_the_same_result(redis_app, monkeypatch):
    import signal
    import threading
    import time

    world = scenario(redis_app)
    monkeypatch.setitem(KINDS, "flaky", flaky.stall_first_attempt)
    monkeypatch.setattr(jobs.queue, "retry_policy", lambda: Retry(max=2, interval=0))
    redis = Redis.from_url(redis_app.config["REDIS_URL"])
    job_id = run(redis_app, "flaky", key="killed")
    killed = []

    def kill_the_work_horse():
        for _ in range(600):
            pid = redis.get("flaky:killed:pid")
            if pid:
                os.kill(int(pid), signal.SIGKILL)  # as the kernel's OOM killer would
                killed.append(int(pid))
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_work_horse)
    killer.start()
    with redis_app.app_context():
        build_worker().work(burst=True)  # the forking worker: each attempt in a work horse
    killer.join()

    done = record(redis_app, job_id)
    assert killed, "the first attempt never started"
    assert (done.status, done.attempts) == ("finished", 2)
    assert json.loads(done.result)["attempt"] == 2
    assert world.get(world.tracked, world.focal)["progress"] == 100  # as after one clean run


# -- jobs lost with Redis (issue 10, item 7) --------------------------------------------------------------


def age(app, job_id: str, minutes: int = 10) -> None:
    """Make a job record look enqueued ``minutes`` ago (a Redis restart is noticed later)."""
    with app.app_context():
        db.session.execute(update(JobRecord).where(JobRecord.id == job_id)
                           .values(enqueued_at=datetime.now(UTC) - timedelta(minutes=minutes)))
        db.session.commit()


def sweep(app, **kwargs) -> dict:
    with app.app_context():
        return redispatch_lost(**kwargs)


def flush_redis(app) -> None:
    """What a Redis restart without persistence leaves: nothing."""
    Redis.from_url(app.config["REDIS_URL"]).flushdb()


def test_a_job_lost_with_a_redis_restart_is_dispatched_again_and_runs(redis_app):
    world = scenario(redis_app)
    job_id = run(redis_app, "sync_tracked_ppas")
    flush_redis(redis_app)
    age(redis_app, job_id)

    swept = sweep(redis_app)
    work(redis_app)

    done = record(redis_app, job_id)
    assert swept == {"waiting": 1, "redispatched": 1}
    assert (done.status, done.runner, done.attempts) == ("finished", "rq", 1)
    assert "its RQ job was gone from Redis" in done.note
    assert world.get(world.tracked, world.focal)["progress"] == 100


def test_a_job_whose_rq_job_still_exists_is_not_dispatched_twice(redis_app):
    scenario(redis_app)
    job_id = run(redis_app, "sync_tracked_ppas")
    age(redis_app, job_id)

    swept = sweep(redis_app)
    waiting = Queue(QUEUE_NAME, connection=Redis.from_url(redis_app.config["REDIS_URL"])).count
    work(redis_app)

    done = record(redis_app, job_id)
    assert (swept, waiting) == ({"waiting": 1, "redispatched": 0}, 1)
    assert (done.status, done.attempts, done.note) == ("finished", 1, None)


def test_a_job_just_enqueued_is_not_taken_for_lost(redis_app):
    scenario(redis_app)
    job_id = run(redis_app, "sync_tracked_ppas")
    flush_redis(redis_app)  # its dispatch could still be on its way

    assert sweep(redis_app) == {"waiting": 0, "redispatched": 0}
    assert record(redis_app, job_id).status == "queued"


def test_a_retry_lost_with_redis_runs_again(redis_app, monkeypatch):
    monkeypatch.setitem(KINDS, "flaky", flaky.fail_twice)
    monkeypatch.setattr(jobs.queue, "retry_policy", lambda: Retry(max=3, interval=600))  # retries wait 10 minutes
    job_id = run(redis_app, "flaky", key="lost-retry")
    work(redis_app)
    assert record(redis_app, job_id).status == "retrying"
    flush_redis(redis_app)  # the retry waited in Redis
    age(redis_app, job_id)
    monkeypatch.setattr(jobs.queue, "retry_policy", lambda: Retry(max=3, interval=0))

    sweep(redis_app)
    work(redis_app)

    done = record(redis_app, job_id)
    assert done.status == "finished"
    assert done.attempts == 4  # one before the restart; the flaky counter, kept in Redis, started over after it


def test_two_sweeps_racing_for_a_lost_job_dispatch_it_once(redis_app):
    from services.job_records import claim_redispatch, waiting_since

    scenario(redis_app)
    job_id = run(redis_app, "sync_tracked_ppas")
    flush_redis(redis_app)
    age(redis_app, job_id)
    with redis_app.app_context():
        [(_, enqueued_at)] = waiting_since(datetime.now(UTC))

        claims = [claim_redispatch(job_id, enqueued_at, "first"), claim_redispatch(job_id, enqueued_at, "second")]

    assert claims == [True, False]
    assert record(redis_app, job_id).note == "first"


def test_a_worker_starting_after_a_redis_restart_runs_the_lost_jobs(redis_app):
    from click.testing import CliRunner

    from web.cli import main

    world = scenario(redis_app)
    job_id = run(redis_app, "sync_tracked_ppas")
    flush_redis(redis_app)
    age(redis_app, job_id)

    result = CliRunner().invoke(main, ["worker", "--burst"], catch_exceptions=False, env={
        "DATABASE_URL": redis_app.config["DATABASE_URL"], "REDIS_URL": redis_app.config["REDIS_URL"]})

    assert result.exit_code == 0, result.output
    assert "lost jobs: 1 re-dispatched of 1 waiting" in result.output
    assert record(redis_app, job_id).status == "finished"
    assert world.get(world.tracked, world.focal)["progress"] == 100


def test_without_redis_a_job_whose_process_died_before_running_it_runs_on_the_next_sweep(app):
    from services import job_records

    world = scenario(app)
    with app.app_context():
        with transaction():  # recorded, but the process ended before its after-commit dispatch
            job_id = job_records.new_record("died-before-dispatch", "sync_tracked_ppas", {}, None).id
    age(app, job_id)

    swept = sweep(app)

    done = record(app, job_id)
    assert swept == {"waiting": 1, "redispatched": 1}
    assert (done.status, done.runner) == ("finished", "inline")
    assert done.note.startswith("re-dispatched") and "no process ran it" in done.note
    assert world.get(world.tracked, world.focal)["progress"] == 100
