"""One vote per user per need, enforced by the database under concurrency
(issue 15 item 2, docs/design.md §14): PostgreSQL only, as the race is the
subject."""

from __future__ import annotations

from tests.api.test_needs_api import RAISED, _community, _fire, _post
from tests.support import World, race


def test_fifty_simultaneous_votes_of_one_user_count_once(pg_app):
    world = World(pg_app)
    rep = _community(world)
    need = _post(world, "/api/needs", rep, RAISED).get_json()["id"]
    _fire(world, need, "validate", world.planning_officer)

    responses = race(pg_app, [lambda client: client.post(f"/api/needs/{need}/votes", headers=rep.headers)] * 50)

    assert sorted(r.status_code for r in responses) == [201] + [409] * 49
    assert world.client.get(f"/api/needs/{need}", headers=rep.headers).get_json()["votes"] == 1
