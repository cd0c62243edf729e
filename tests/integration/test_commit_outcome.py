"""What a client is told when the database goes away around the COMMIT of
its request (issue 10, item 5), on PostgreSQL with real connections.

A 503 promises that nothing was saved, so a client may simply retry. Work
that committed is answered with its 2xx even if the database restarts the
moment after the COMMIT (the response is built before it); when the
connection is lost during the COMMIT itself nobody knows whether it
committed: 500 ``commit_outcome_unknown``, never 503.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from db import db
from tests.api.test_stored_rollups import big_tree
from tests.support import Chain


@dataclass
class Restart:
    """Kills the database connection of the first COMMIT that carries a
    write to ``table``, then refuses new connections (a database
    restarting) until the block of ``around()`` ends.

    ``moment`` is ``after`` (the COMMIT succeeds, then the connection dies)
    or ``during`` (the connection dies as the COMMIT is sent).
    """

    engine: object
    killer: object
    table: str | None = None
    moment: str = "after"
    doomed: set = field(default_factory=set)
    down: bool = False
    commits_lost: int = 0

    @contextmanager
    def around(self, table: str, moment: str) -> Iterator[None]:
        """Restart the database at ``moment`` of the COMMIT that writes to
        ``table`` within the block; the database is back after it, and
        exactly one COMMIT must have been hit."""
        self.table, self.moment, self.doomed, self.down, self.commits_lost = table, moment, set(), False, 0
        try:
            yield
        finally:
            self.over()
        assert self.commits_lost == 1, f"no COMMIT writing to {table} was seen"

    def over(self) -> None:
        self.table, self.down = None, False

    # -- engine hooks ---------------------------------------------------------
    def saw_statement(self, conn, _cursor, statement, *_args) -> None:
        # A write may follow a WITH clause (``WITH audited AS (INSERT ...) UPDATE work_items ...``).
        if self.table and re.match(rf"\s*(WITH .*\)\s*)?(INSERT INTO|UPDATE) {self.table}\b", statement, re.DOTALL):
            self.doomed.add(id(conn.connection))  # the pool's proxy, which do_commit is given

    def refuse_connections(self, *_args) -> None:
        if self.down:
            raise psycopg.OperationalError("the database system is starting up")

    def commit(self, original, connection) -> None:
        if id(connection) not in self.doomed:
            original(connection)
            return
        self.doomed.discard(id(connection))
        self.commits_lost += 1
        if self.moment == "after":
            original(connection)
            self._kill(connection)
        else:
            self._kill(connection)
            original(connection)  # raises: the server is gone

    def _kill(self, proxied_connection) -> None:
        pid = proxied_connection.dbapi_connection.info.backend_pid
        with self.killer.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        self.down = True
        self.engine.pool.dispose()  # the idle pooled connections die with the server too


@pytest.fixture
def restart(pg_app, monkeypatch) -> Iterator[Restart]:
    with pg_app.app_context():
        engine = db.engine
    killer = create_engine(pg_app.config["DATABASE_URL"], poolclass=NullPool)
    trap = Restart(engine, killer)
    original = engine.dialect.do_commit
    monkeypatch.setattr(engine.dialect, "do_commit", lambda connection: trap.commit(original, connection))
    event.listen(engine, "after_cursor_execute", trap.saw_statement)
    event.listen(engine, "do_connect", trap.refuse_connections)
    yield trap
    trap.over()
    event.remove(engine, "after_cursor_execute", trap.saw_statement)
    event.remove(engine, "do_connect", trap.refuse_connections)
    killer.dispose()


def count(app, sql: str) -> int:
    with app.app_context():
        return db.session.scalar(text(sql))


OBLIGATION = {"payee": "Cotabato Training Services Cooperative", "ors_number": "02-01-2025-03-00101",
              "particulars": "Training venue and meals", "obligation_date": "2025-03-10", "amount": "150000.00"}


@pytest.fixture
def allotment(pg_world) -> tuple[Chain, int]:
    chain = Chain(pg_world)
    return chain, chain.allot("1000000.00")["id"]


def obligate(chain: Chain, allotment_id: int):
    return chain.world.client.post("/api/obligations", json=OBLIGATION | {"allotment_id": allotment_id},
                                   headers=chain.world.focal.headers)


def test_an_obligation_committed_just_before_the_database_restarts_is_answered_201(pg_app, allotment, restart):
    chain, allotment_id = allotment

    with restart.around("obligations", "after"):
        response = obligate(chain, allotment_id)

    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["ors_number"], response.get_json()["amount"], response.get_json()["status"]) == (
        "02-01-2025-03-00101", "150000.00", "draft")  # prepared: it obligates at Box B
    assert response.headers["ETag"]
    assert count(pg_app, "SELECT count(*) FROM obligations WHERE ors_number = '02-01-2025-03-00101'") == 1


def test_a_payment_committed_just_before_the_database_restarts_is_answered_201_and_a_keyed_retry_pays_once(
        pg_app, allotment, restart):
    chain, allotment_id = allotment
    obligation = chain.obligate(allotment_id, "150000.00")
    payment = {"obligation_id": obligation["id"], "dv_number": "2025-04-0101", "payment_method": "mds_check",
               "disbursement_date": "2025-04-15", "amount": "50000.00"}
    headers = chain.world.focal.headers | {"Idempotency-Key": "pay-cotabato-coop-april"}
    pg_app.config["IDEMPOTENCY_WAIT_SECONDS"] = 0.5  # the retry finds the claim committed, its answer unstored

    with restart.around("disbursements", "after"):
        response = chain.world.client.post("/api/disbursements", json=payment, headers=headers)
    retry = chain.world.client.post("/api/disbursements", json=payment, headers=headers)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["dv_number"] == "2025-04-0101"
    assert (retry.status_code, retry.get_json()["code"]) == (409, "idempotency_key_in_progress"), retry.get_json()
    assert count(pg_app, "SELECT count(*) FROM disbursements") == 1
    assert count(pg_app, "SELECT count(*) FROM disbursements WHERE status = 'draft'") == 1  # prepared once


def test_a_transition_committed_just_before_the_database_restarts_is_answered_200(pg_app, pg_world, restart):
    world = pg_world
    ppa = world.create_ppa()

    with restart.around("ppa_transitions", "after"):
        response = world.fire(ppa["id"], "submit", world.focal)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["approval_status"] == "technical_review"
    assert count(pg_app, "SELECT count(*) FROM ppa_transitions") == 1


def test_a_connection_lost_during_the_commit_is_500_commit_outcome_unknown_never_503(pg_app, allotment, restart):
    chain, allotment_id = allotment

    with restart.around("obligations", "during"):
        response = obligate(chain, allotment_id)

    problem = response.get_json()
    assert (response.status_code, problem["code"]) == (500, "commit_outcome_unknown"), problem
    assert "Retry-After" not in response.headers
    assert "Idempotency-Key" in problem["detail"]


def test_a_connection_lost_before_the_commit_is_still_503_and_nothing_is_saved(pg_app, allotment, restart,
                                                                                monkeypatch):
    from services import budget

    chain, allotment_id = allotment
    original = budget.check_work_item

    def database_restarts_midway(*args):
        restart._kill(db.session.connection().connection)
        return original(*args)

    monkeypatch.setattr(budget, "check_work_item", database_restarts_midway)
    response = obligate(chain, allotment_id)
    restart.over()

    assert (response.status_code, response.get_json()["code"]) == (503, "service_unavailable")
    assert response.headers["Retry-After"] == "1"
    assert count(pg_app, "SELECT count(*) FROM obligations") == 0


def test_a_request_that_fails_while_building_its_response_saves_nothing_and_its_retry_works(app, world,
                                                                                            monkeypatch):
    """The response is built inside the request's transaction: a failure
    there rolls the work back, so the key's retry does it, once."""
    from tests.support import ppa_body
    from web.api import ppas as view

    def serialising_fails(*_args):
        raise RuntimeError("serialising the answer failed")

    headers = world.focal.headers | {"Idempotency-Key": "create-once"}
    with monkeypatch.context() as patch:
        patch.setattr(view, "with_etag", serialising_fails)
        with pytest.raises(RuntimeError):  # the test client re-raises what a server answers with 500
            world.client.post("/api/monitoring-entries", json=ppa_body(), headers=headers)
    assert count(app, "SELECT count(*) FROM ppas") == 0

    retried = world.client.post("/api/monitoring-entries", json=ppa_body(), headers=headers)

    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert count(app, "SELECT count(*) FROM ppas") == 1


def test_a_leaf_completed_by_set_based_writes_alone_is_500_commit_outcome_unknown_when_the_commit_is_lost(
        pg_app, pg_world, restart):
    # Completing a leaf writes its audit row and its path in driver SQL only (docs/design.md §4, "Stored
    # rollups"): no ORM flush notes the write, so the writers note it themselves.
    ppa, leaf = big_tree(pg_world, 30)
    url = f"/api/work-items/{leaf}/transitions"
    assert pg_world.client.post(url, json={"trigger": "start"}, headers=pg_world.focal.headers).status_code == 200

    with restart.around("work_items", "during"):
        response = pg_world.client.post(url, json={"trigger": "complete"}, headers=pg_world.focal.headers)

    problem = response.get_json()
    assert (response.status_code, problem["code"]) == (500, "commit_outcome_unknown"), problem
