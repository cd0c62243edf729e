"""``POST .../actions/simulate`` (issue 14, item 6): an administrator asks what
a named user could do with a PPA now, and why not; the answer is that
user's own ``/actions``."""

from __future__ import annotations


def simulate(world, ppa_id, username, who=None):
    return world.client.post(f"/api/monitoring-entries/{ppa_id}/actions/simulate", json={"username": username},
                             headers=(who or world.admin).headers)


def test_a_simulation_answers_what_the_user_reads_on_their_own_actions(world):
    ppa = world.create_ppa()
    world.advance(ppa["id"], "technical_review")
    own = world.client.get(f"/api/monitoring-entries/{ppa['id']}/actions",
                           headers=world.technical_reviewer.headers).get_json()

    response = simulate(world, ppa["id"], world.technical_reviewer.username)

    assert response.status_code == 200
    body = response.get_json()
    assert (body["username"], body["visible"]) == (world.technical_reviewer.username, True)
    assert body["actions"] == own["actions"]
    assert any(a["trigger"] == "approve" and a["open"] for a in body["actions"])


def test_a_user_who_cannot_see_the_ppa_is_answered_as_such(world):
    ppa = world.create_ppa()

    body = simulate(world, ppa["id"], world.other_focal.username).get_json()

    assert (body["visible"], body["actions"]) == (False, [])


def test_only_administrators_simulate_and_an_unknown_user_is_422(world):
    ppa = world.create_ppa()

    assert simulate(world, ppa["id"], "mssd.focal", world.focal).status_code == 403
    unknown = simulate(world, ppa["id"], "nobody.here")
    assert unknown.status_code == 422 and set(unknown.get_json()["errors"]) == {"username"}
