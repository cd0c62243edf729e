"""Reload without restart (issue 14 item 3, docs/design.md §13): the
database's active rule set is the one every running process decides with,
read per request and per job, and the CLI and the API always agree."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import httpx
import pytest

from db import db
from jobs.clock import build_local_scheduler
from jobs.runner import _in_app
from rules import DEFAULT_RULES_DIR
from services import rule_sets
from services.runtime import get_runtime, runtimes
from tests.api.test_rule_sets import rules_with_legal_review
from tests.conftest import ONE_BACKEND, REDIS_PROBLEM, REDIS_URL, _dispose, _make_app, one_backend_app
from tests.integration.test_schedule import free_port, running, wait_for
from tests.support import cli


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    yield from one_backend_app(request, tmp_path)


@pytest.fixture(params=[ONE_BACKEND] if REDIS_PROBLEM is None else [])
def redis_app(request, tmp_path):
    application = _make_app(request.param, request, tmp_path, REDIS_URL=REDIS_URL)
    yield application
    _dispose(application)  # empties the database: the set activated here must not stay in force for later tests


def rules_with_sync_at_half_past_three(tmp_path: Path) -> Path:
    """A copy of the shipped rules whose nightly sync runs at 03:30, not 02:00."""
    folder = tmp_path / "rules-sync"
    shutil.copytree(DEFAULT_RULES_DIR, folder)
    schedule = folder / "schedule.yaml"
    schedule.write_text(schedule.read_text().replace('cron: "0 2 * * *"', 'cron: "30 3 * * *"'))
    return folder


def activate(app, folder: Path) -> str:
    with app.app_context():
        activated = rule_sets.activate(rule_sets.load_directory(folder)).rule_set.hash
        db.session.remove()
    return activated


def actions(world, ppa: int, who) -> dict[str, tuple[bool, str | None]]:
    """What the API offers ``who`` on the PPA: trigger -> (open to them, destination)."""
    body = world.client.get(f"/api/monitoring-entries/{ppa}/actions", headers=who.headers).get_json()
    return {action["trigger"]: (action["open"], action["dest"]) for action in body["actions"]}


def test_after_activation_the_cli_and_the_running_api_decide_with_the_new_rules(app, world, tmp_path):
    world.admin  # noqa: B018  (creates the administrator)
    ppa = world.create_ppa()["id"]

    activated = cli(app, "rules", "activate", str(rules_with_legal_review(tmp_path)))
    world.advance(ppa, "executive_approval")
    offered = actions(world, ppa, world.executive)
    by_cli = cli(app, "ppa", "transition", str(ppa), "approve", "--as", world.executive.username)
    seen_by_api = world.get(ppa, world.admin)["approval_status"]

    assert activated.exit_code == 0, activated.output
    assert offered["approve"] == (True, "legal_review")
    assert by_cli.exit_code == 0 and "is now in legal_review" in by_cli.output, by_cli.output
    legal = world.person("ocm.legal", "executive", org="OCM")  # one step per person: another executive
    assert seen_by_api == "legal_review" and actions(world, ppa, legal)["approve"] == (True, "approved")
    assert world.fire(ppa, "approve", legal).get_json()["approval_status"] == "approved"


def test_a_long_lived_worker_context_reads_the_active_set_again_for_each_job(app, tmp_path):
    new = rule_sets.load_directory(rules_with_legal_review(tmp_path))
    with app.app_context():
        before = get_runtime().rules.hash  # the worker's context caches the set it read
        rule_sets.activate(new)
        same_job = get_runtime().rules.hash
        next_job = _in_app(lambda: get_runtime().rules.hash)
        db.session.remove()

    assert before == runtimes(app).loaded.rules.hash != new.hash
    assert same_job == before  # one job decides with one set throughout
    assert next_job == new.hash


def test_a_database_whose_active_set_differs_from_the_disk_keeps_it_at_start(app, tmp_path, caplog):
    from web import create_app

    new = rule_sets.load_directory(rules_with_legal_review(tmp_path))
    with app.app_context():
        rule_sets.activate(new)
        db.session.remove()
    restarted = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": None, "TESTING": True})
    ready = restarted.test_client().get("/readyz").get_json()
    with restarted.app_context():
        db.engine.dispose()

    assert ready["rules"]["active_hash"] == new.hash and ready["rules"]["disk_differs"] is True
    assert "the database's active rule set" in caplog.text


def test_readiness_says_which_set_is_active_and_whether_the_disk_differs(app, world, tmp_path):
    ready = world.client.get("/readyz").get_json()
    with app.app_context():
        loaded = runtimes().loaded.rules.hash

    assert ready["status"] == "ready" and ready["checks"]["rules"] == f"loaded ({loaded[:12]})"
    assert ready["rules"] == {"active_hash": loaded, "stored": True, "disk_hash": loaded, "disk_differs": False}


def test_both_gunicorn_workers_decide_with_a_newly_activated_set_at_their_next_request(pg_app, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    folder = rules_with_legal_review(tmp_path)

    def answers(count: int) -> list[str]:
        with httpx.Client(base_url=base, timeout=10, headers={"Connection": "close"}) as client:
            return [client.get("/readyz").json()["rules"]["active_hash"] for _ in range(count)]

    def served() -> dict[int, set[str]]:  # worker pid -> the rule-set hashes its requests decided with
        by_pid: dict[int, set[str]] = {}
        for line in log.read_text().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("logger") == "ppaflow.access" and record.get("rules_hash"):
                    by_pid.setdefault(record["process"], set()).add(record["rules_hash"])
        return by_pid

    with running(pg_app, "serve", "--port", str(port), "--workers", "2", "--threads", "1", log=log):
        assert wait_for(lambda: log.read_text().count("runs in-process") >= 2, 30), log.read_text()[-3000:]
        old = answers(1)[0]
        assert wait_for(lambda: answers(4) and len(served()) == 2, 10), log.read_text()[-3000:]  # both warm
        new = activate(pg_app, folder)  # as ppaflow rules activate does, from another process than the server's
        mark = time.monotonic()
        first = answers(1)
        after = answers(20)
        seconds = time.monotonic() - mark
        lines_before = {pid: hashes for pid, hashes in served().items()}

    assert old != new and first == [new] and set(after) == {new}, (old, new, first, set(after))
    assert len(lines_before) == 2 and all(hashes == {old, new} for hashes in lines_before.values()), lines_before
    assert seconds < 10


def test_a_running_in_process_schedule_takes_the_cron_entries_of_a_newly_activated_set(app, tmp_path):
    scheduler = build_local_scheduler(app)
    follow = scheduler.get_job("follow-active-rules")
    unchanged = follow.func(*follow.args)
    activate(app, rules_with_sync_at_half_past_three(tmp_path))
    changed = follow.func(*follow.args)

    assert (unchanged, changed) == (False, True)
    assert scheduler.get_job("sync_tracked_ppas").trigger.cron == "30 3 * * *"
    assert scheduler.get_job("send_approval_deadline_reminders").trigger.cron == "0 8 * * *"


def test_the_rq_cron_scheduler_takes_the_cron_entries_of_a_newly_activated_set(redis_app, tmp_path):
    from jobs.worker import build_scheduler

    with redis_app.app_context():
        scheduler = build_scheduler()
        unchanged = scheduler.follow_rules()
    activate(redis_app, rules_with_sync_at_half_past_three(tmp_path))
    with redis_app.app_context():
        changed = scheduler.follow_rules()

    assert (unchanged, changed) == (False, True)
    assert next((j.name, j.cron) for j in scheduler.get_jobs()) == ("sync_tracked_ppas", "30 3 * * *")
    with redis_app.app_context():
        assert len(scheduler.get_jobs()) == len(get_runtime().rules.schedule.jobs)  # every entry, none twice
