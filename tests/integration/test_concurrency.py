"""Concurrent requests on PostgreSQL (row locks): transitions of one PPA
never both succeed."""

from __future__ import annotations

import threading

from sqlalchemy import text

from db import db


def race(app, requests):
    """Run the request functions at the same moment, one thread each; return
    the responses in order."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, request):
        client = app.test_client()
        barrier.wait()
        results[index] = request(client)

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_concurrent_approvals_of_one_ppa_one_succeeds_one_history_row(pg_app):
    from tests.support import World

    world = World(pg_app)
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
