"""The budget tree is cached and answers If-None-Match (issue 17 item 2;
docs/design.md §5, "The budget tree is cached"): a repeated read is the
same bytes with the same ETag, a client holding it gets 304, and every
write that changes what the tree shows changes the answer at once."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from redis import Redis

from db import db
from rules import DEFAULT_RULES_DIR
from services import rule_sets, tree_cache
from tests.conftest import REDIS_URL

TREE = "/api/monitoring-entries/{}/budget_allocation_tree/"


def read(world, ppa_id, who=None, **headers):
    return world.client.get(TREE.format(ppa_id), headers=(who or world.focal).headers | headers)


def tracked(world, template="activity", stage="budget_review", **overrides):
    """A PPA whose WBS was generated on technical review approval, and its tree's first read."""
    ppa = world.create_ppa(wbs_template=template, **overrides)
    world.advance(ppa["id"], stage)
    first = read(world, ppa["id"])
    assert first.status_code == 200
    return ppa["id"], first


def node(tree, *path):
    out = tree["breakdown"][0]
    for index in path:
        out = out["children"][index]
    return out


def changed(world, ppa_id, before):
    """The tree read again after a write: it must not be the answer read
    before it, and the ETag read before must no longer get 304."""
    after = read(world, ppa_id)
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert read(world, ppa_id, **{"If-None-Match": before.headers["ETag"]}).status_code == 200
    return after.get_json()


# -- ETag and 304 ---------------------------------------------------------------


def test_a_second_read_is_the_same_answer_with_the_same_strong_etag(world):
    ppa, first = tracked(world)

    second = read(world, ppa)

    assert first.headers["ETag"] == second.headers["ETag"] and not first.headers["ETag"].startswith("W/")
    assert second.data == first.data and second.mimetype == "application/json"


def test_if_none_match_with_the_current_etag_is_304_without_a_body(world):
    ppa, first = tracked(world)
    etag = first.headers["ETag"]

    for sent in (etag, "W/" + etag, f'"something-else", {etag}', "*"):
        answer = read(world, ppa, **{"If-None-Match": sent})
        assert (answer.status_code, answer.data, answer.headers["ETag"]) == (304, b"", etag), sent

    assert read(world, ppa, **{"If-None-Match": '"tree-0-stale"'}).status_code == 200


def test_another_moa_gets_404_from_a_cached_tree_even_with_its_etag(world):
    ppa, first = tracked(world)

    for headers in ({}, {"If-None-Match": first.headers["ETag"]}):
        answer = read(world, ppa, world.other_focal, **headers)
        assert answer.status_code == 404 and first.headers["ETag"] not in answer.headers.get("ETag", "")


def test_a_ppa_without_a_wbs_has_an_etag_and_answers_304_too(world):
    ppa = world.create_ppa()["id"]
    first = read(world, ppa)

    assert first.get_json()["breakdown"] == [] and first.headers["ETag"]
    assert read(world, ppa, **{"If-None-Match": first.headers["ETag"]}).status_code == 304


# -- every write that changes the tree changes the answer ------------------------


def test_editing_a_work_item_changes_the_tree(world):
    ppa, before = tracked(world)
    leaf = node(before.get_json(), 0, 0)["work_item_id"]

    assert world.patch(f"/api/work-items/{leaf}", world.focal, {"title": "Site survey"}).status_code == 200

    assert node(changed(world, ppa, before), 0, 0)["title"] == "Site survey"


def test_recording_expenditure_changes_the_tree(world):
    ppa, before = tracked(world)
    leaf = node(before.get_json(), 2, 1)["work_item_id"]

    response = world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "190000.00"},
                                 headers=world.focal.headers)
    assert response.status_code in (200, 201), response.get_json()

    tree = changed(world, ppa, before)
    assert node(tree, 2, 1)["actual_expenditure"] == "190000.00" and tree["total_expended"] == "190000.00"


def test_distributing_the_budget_changes_the_tree(world):
    ppa, before = tracked(world)

    response = world.client.post(f"/api/monitoring-entries/{ppa}/distribute_budget/", json={"method": "equal"},
                                 headers=world.focal.headers)
    assert response.status_code == 200, response.get_json()

    assert [c["allocated_budget"] for c in changed(world, ppa, before)["breakdown"][0]["children"]] == [
        "1666666.67", "1666666.67", "1666666.66"]


def transition(world, item_id, trigger):
    response = world.client.post(f"/api/work-items/{item_id}/transitions", json={"trigger": trigger},
                                 headers=world.focal.headers)
    assert response.status_code == 200, response.get_json()


def test_a_work_item_status_transition_changes_the_tree(world):
    ppa, before = tracked(world)
    leaf = node(before.get_json(), 0, 0)["work_item_id"]

    transition(world, leaf, "start")
    started = changed(world, ppa, before)
    assert node(started, 0, 0)["status"] == "in_progress" and node(started)["status"] == "in_progress"

    before = read(world, ppa)
    transition(world, leaf, "block")  # nothing above it moves: the PPA row stays as it is

    assert node(changed(world, ppa, before), 0, 0)["status"] == "blocked"


def test_a_new_ppa_budget_changes_the_tree(world):
    ppa, _ = tracked(world)
    world.advance(ppa, "stakeholder_consultation")
    world.fire(ppa, "return_for_revision", world.planning_officer, "Reduce to 4M.")
    before = read(world, ppa)

    assert world.patch(f"/api/monitoring-entries/{ppa}", world.focal,
                       {"budget_allocation": "4000000.00"}).status_code == 200

    tree = changed(world, ppa, before)
    assert tree["ppa_budget"] == "4000000.00" and node(tree, 1)["allocated_budget"] == "3000000.00"


def test_an_approval_effect_on_the_project_changes_the_tree(world):
    ppa, _ = tracked(world, stage="approved")
    before = read(world, ppa)

    world.advance(ppa, "enacted")  # activates the execution project

    assert node(changed(world, ppa, before))["status"] == "in_progress"


@pytest.mark.one_backend
def test_releasing_and_cancelling_an_allotment_each_change_the_tree(chain, world):
    before = read(world, chain.ppa)
    assert before.get_json()["expenditure_source"] == "reported"

    allotment = chain.allot("1000000.00")["id"]
    released = read(world, chain.ppa)
    assert changed(world, chain.ppa, before)["expenditure_source"] == "disbursements"

    chain.post(f"/api/allotments/{allotment}/cancel", world.budget_analyst, reason="Re-released in Q2")
    tree = changed(world, chain.ppa, released)
    assert (tree["expenditure_source"], tree["opening_balance"]) == ("reported", None)


@pytest.mark.one_backend
def test_paying_a_disbursement_changes_the_tree(chain, world):
    allotment = chain.allot("1000000.00")["id"]
    obligation = chain.obligate(allotment, "100000.00")["id"]
    before = read(world, chain.ppa)

    chain.disburse(obligation, "75000.00")

    tree = changed(world, chain.ppa, before)
    assert (tree["total_expended"], tree["breakdown"][0]["actual_expenditure"]) == ("75000.00", "75000.00")


def test_activating_a_rule_set_with_another_on_budget_band_changes_the_tree(app, world, tmp_path):
    ppa, _ = tracked(world)
    leaf = node(read(world, ppa).get_json(), 2, 1)["work_item_id"]  # 200,000.00 allocated
    world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "185000.00"},
                      headers=world.focal.headers)
    before = read(world, ppa)
    assert node(before.get_json(), 2, 1)["budget_status"] == "under_budget"  # 7.5 % left, band 5 %

    folder = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, folder)
    budget = folder / "budget.yaml"
    budget.write_text(budget.read_text().replace("on_budget_threshold_pct: 5", "on_budget_threshold_pct: 10"))
    with app.app_context():
        rule_sets.activate(rule_sets.load_directory(folder))

    assert node(changed(world, ppa, before), 2, 1)["budget_status"] == "on_budget"


def test_the_next_day_in_manila_is_a_new_answer(world, monkeypatch):
    ppa, before = tracked(world)

    monkeypatch.setattr("services.calendar.today", lambda: date(2099, 1, 2))

    assert changed(world, ppa, before) == before.get_json()


def test_every_write_to_a_tree_counts_on_its_root_only(app, world):
    from db.models import Ppa, WorkItem

    ppa, before = tracked(world)
    leaf = node(before.get_json(), 0, 0)["work_item_id"]

    def versions():
        with app.app_context():
            root = db.session.get(Ppa, ppa).execution_project_id
            out = (db.session.get(WorkItem, root).tree_version, db.session.get(WorkItem, leaf).tree_version)
            db.session.remove()
            return out

    start = versions()
    world.patch(f"/api/work-items/{leaf}", world.focal, {"title": "Site survey"})

    assert versions() == (start[0] + 1, 1)


# -- the store -------------------------------------------------------------------


def test_with_redis_the_answer_is_kept_in_redis_for_a_day(redis_app):
    from tests.support import World

    world = World(redis_app)
    ppa, first = tracked(world)
    redis = Redis.from_url(REDIS_URL)

    keys = redis.keys(tree_cache.PREFIX + "*")

    assert len(keys) == 1 and redis.get(keys[0]) == first.data
    assert 0 < redis.ttl(keys[0]) <= tree_cache.TTL_SECONDS
    assert read(world, ppa).data == first.data


@pytest.mark.one_backend
def test_an_unreachable_redis_is_a_miss_not_an_error(app, world):
    ppa, first = tracked(world)
    with app.app_context():
        app.extensions[tree_cache._EXTENSION] = tree_cache.RedisStore(
            Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2))

    again = read(world, ppa)

    assert (again.status_code, again.data, again.headers["ETag"]) == (200, first.data, first.headers["ETag"])


def test_the_process_store_keeps_the_most_recently_used_answers_within_its_bytes():
    store = tree_cache.MemoryStore(limit=10)
    store.put("a", b"1111")
    store.put("b", b"2222")
    store.get("a")
    store.put("c", b"3333")
    store.put("huge", b"x" * 11)

    assert [store.get(key) for key in ("a", "b", "c", "huge")] == [b"1111", None, b"3333", None]
