"""Concurrent requests and faults on PostgreSQL (row locks, real
connections): transitions of one PPA never both succeed, concurrent writes
all count, idempotent retries have one effect, a dead connection is a 503
and the next request reconnects by itself."""

from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal

from sqlalchemy import create_engine, text

from db import db
from tests.support import ppa_body, race


def test_two_concurrent_approvals_of_one_ppa_one_succeeds_one_history_row(pg_app, pg_world):
    world = pg_world
    reviewer = world.technical_reviewer
    second = world.person("bpda.reviewer2", "technical_reviewer", org="BPDA")
    for _ in range(10):
        ppa = world.create_ppa()
        world.fire(ppa["id"], "submit", world.focal)

        def approve(who):
            return lambda client: client.post(f"/api/monitoring-entries/{ppa['id']}/transitions",
                                              json={"trigger": "approve"}, headers=who.headers)

        responses = race(pg_app, [approve(reviewer), approve(second)])

        codes = sorted(r.status_code for r in responses)
        assert codes[0] == 200 and codes[1] in (403, 409), [r.get_json() for r in responses]
        with pg_app.app_context():
            approvals = db.session.scalar(text(
                "SELECT count(*) FROM ppa_transitions WHERE ppa_id = :id AND trigger = 'approve'"), {"id": ppa["id"]})
        assert approvals == 1
        assert world.get(ppa["id"], world.admin)["approval_status"] == "budget_review"


def test_fifty_clients_approving_one_ppa_one_succeeds_and_one_history_row(pg_app, pg_world):
    world = pg_world
    reviewers = [world.person(f"bpda.reviewer{i}", "technical_reviewer", org="BPDA") for i in range(50)]
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)

    responses = race(pg_app, [
        (lambda who: lambda client: client.post(f"/api/monitoring-entries/{ppa['id']}/transitions",
                                                json={"trigger": "approve"}, headers=who.headers))(r)
        for r in reviewers])

    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 1 and set(codes) - {200} <= {403, 409}, codes
    with pg_app.app_context():
        rows = db.session.scalar(text("SELECT count(*) FROM ppa_transitions WHERE ppa_id = :id AND trigger = 'approve'"),
                                 {"id": ppa["id"]})
    assert rows == 1


def test_fifty_concurrent_expenditures_all_count_in_the_rollup(pg_app, pg_world):
    world = pg_world
    ppa, task = world.tracked_ppa("enacted")
    amounts = [f"{1000 + i}.{i:02d}" for i in range(50)]

    responses = race(pg_app, [
        (lambda amount: lambda client: client.post(f"/api/work-items/{task}/expenditures", json={"amount": amount},
                                                   headers=world.focal.headers))(a) for a in amounts])

    accepted = sum(Decimal(a) for a, r in zip(amounts, responses, strict=True) if r.status_code == 200)
    assert all(r.status_code == 200 for r in responses), [r.get_json() for r in responses if r.status_code != 200]
    after = world.tree(ppa["id"])
    assert Decimal(after["total_expended"]) == accepted == sum(Decimal(a) for a in amounts)
    assert Decimal(after["breakdown"][0]["children"][0]["actual_expenditure"]) == accepted


def test_the_same_idempotency_key_sent_twenty_times_at_once_has_one_effect(pg_app, pg_world):
    world = pg_world
    headers = world.focal.headers | {"Idempotency-Key": "one-livelihood-program"}

    responses = race(pg_app, [lambda client: client.post("/api/monitoring-entries", json=ppa_body(),
                                                          headers=headers)] * 20)

    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 19
    with pg_app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM ppas")) == 1


def test_a_request_whose_database_connection_dies_gets_503_and_the_next_one_works(pg_app, pg_world, monkeypatch):
    from services import approvals
    world = pg_world
    ppa = world.create_ppa()
    original = approvals.history

    def slow_history(user, ppa_id):
        db.session.execute(text("SELECT pg_sleep(5) /* ppaflow-fault-test */"))
        return original(user, ppa_id)

    monkeypatch.setattr(approvals, "history", slow_history)
    outcome = {}

    def in_flight():
        outcome["response"] = pg_app.test_client().get(f"/api/monitoring-entries/{ppa['id']}/history",
                                                       headers=world.focal.headers)

    thread = threading.Thread(target=in_flight)
    thread.start()
    killer = create_engine(pg_app.config["DATABASE_URL"])
    with killer.begin() as connection:  # what a database restart does to the connections it had
        for _ in range(50):
            killed = connection.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query LIKE '%ppaflow-fault-test%' AND pid <> pg_backend_pid()")).scalar()
            if killed:
                break
            time.sleep(0.1)
    killer.dispose()
    thread.join()
    monkeypatch.setattr(approvals, "history", original)

    failed = outcome["response"]
    assert failed.status_code == 503, failed.get_json()
    assert failed.headers["Retry-After"] == "1" and failed.get_json()["code"] == "service_unavailable"
    assert world.client.get(f"/api/monitoring-entries/{ppa['id']}/history", headers=world.focal.headers).status_code == 200


def test_a_connection_the_database_drops_after_the_work_is_done_does_not_spoil_the_answer(pg_app, pg_world):
    """A restart between the end of the work and the end of the request:
    the created PPA is answered 201, not 500, and the next request works."""
    from web.logs import configure

    world = pg_world
    killer = create_engine(pg_app.config["DATABASE_URL"])

    @pg_app.after_request
    def database_restarts(response):
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))  # the request's connection, in a transaction
        with killer.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return response

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure()  # the access log's filter must not touch the database either
    try:
        created = world.client.post("/api/monitoring-entries", json=ppa_body(), headers=world.focal.headers)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        killer.dispose()

    assert created.status_code == 201, created.get_data(as_text=True)
    pg_app.after_request_funcs[None].remove(database_restarts)
    assert world.get(created.get_json()["id"], world.focal)["title"] == ppa_body()["title"]
