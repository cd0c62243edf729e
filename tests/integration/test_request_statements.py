"""The requests ``make load`` sends most, by the SQL statements each sends
(issue 17 item 4: less work per request). A transition, the history and the
list of PPAs send a fixed number, whatever the PPA's history, the number of
PPAs on the page or how many reviewers are notified; a transition that
generates the execution project adds one INSERT per level of the template
and one audit INSERT, not per item; recording expenditure on a leaf, or
editing a work item, sends six."""

from __future__ import annotations

from contextlib import contextmanager

from db import db
from tests.bench.wbs import count_statements


@contextmanager
def statements(app):
    """Count the statements the app sends inside the block (``["n"]``)."""
    with app.app_context():
        engine = db.engine
    with count_statements(engine) as counter:
        yield counter


def test_a_transition_sends_ten_statements_whatever_the_history_before_it(pg_app, pg_world):
    world = pg_world
    world.focal, world.technical_reviewer  # tokens made (and used once) before counting
    world.client.get("/api/me", headers=world.focal.headers)
    world.client.get("/api/me", headers=world.technical_reviewer.headers)
    fresh = world.create_ppa()["id"]
    revised = world.create_ppa()["id"]
    for trigger, by, comment in (("submit", world.focal, None),
                                 ("return_for_revision", world.technical_reviewer, "Attach the work plan."),
                                 ("submit", world.focal, None),
                                 ("return_for_revision", world.technical_reviewer, "Attach it again.")):
        assert world.fire(revised, trigger, by, comment).status_code == 200

    counted = []
    for ppa in (fresh, revised):
        with statements(pg_app) as sent:
            response = world.fire(ppa, "submit", world.focal)
        assert response.status_code == 200, response.get_json()
        counted.append(sent["n"])

    # token; the PPA locked; delegations; past steps; the step; the PPA; audit; the notifications
    # (their recipients found by the INSERT itself); overdue alerts resolved; the committed PPA
    # with its expenditure
    assert counted == [10, 10]


def test_the_approval_that_generates_the_execution_project_sends_statements_by_level_not_by_item(
        pg_app, pg_world):
    world = pg_world
    world.client.get("/api/me", headers=world.technical_reviewer.headers)
    counted = {}
    for template in ("program", None):
        ppa = world.create_ppa(wbs_template=template)["id"]
        assert world.fire(ppa, "submit", world.focal).status_code == 200
        with statements(pg_app) as sent:
            response = world.fire(ppa, "approve", world.technical_reviewer)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["execution_project_id"] is not None
        counted[template] = sent["n"]

    assert counted["program"] <= 19
    assert counted["program"] - counted[None] <= 3  # at most an INSERT per extra level (one audit INSERT for all)


def test_the_history_sends_three_statements_however_many_signers(pg_app, pg_world):
    world = pg_world
    ppa = world.create_ppa()["id"]
    world.advance(ppa, "budget_review")
    world.client.get("/api/me", headers=world.focal.headers)

    with statements(pg_app) as sent:
        response = world.client.get(f"/api/monitoring-entries/{ppa}/history", headers=world.focal.headers)

    assert response.status_code == 200
    assert len({step["actor"] for step in response.get_json()}) >= 2
    assert sent["n"] == 3  # token; the PPA; its steps with their signers


def test_a_page_of_the_list_sends_three_statements_for_one_ppa_as_for_twenty(pg_app, pg_world):
    world = pg_world
    world.create_ppa()
    world.client.get("/api/me", headers=world.focal.headers)
    counted = []
    for _ in range(2):
        with statements(pg_app) as sent:
            response = world.client.get("/api/monitoring-entries?page_size=20", headers=world.focal.headers)
        assert response.status_code == 200
        counted.append((len(response.get_json()), sent["n"]))
        for n in range(19):
            world.create_ppa(title=f"PPA {n}")

    assert counted == [(1, 3), (20, 3)]  # token; the count; the page (each PPA with its expenditure)


def enacted_leaf(world) -> dict:
    """The first leaf of a new PPA's enacted program tree (its budget tree node), the focal person's
    token used once before counting."""
    ppa = world.create_ppa(wbs_template="program")["id"]
    world.advance(ppa, "enacted")
    tree = world.client.get(f"/api/monitoring-entries/{ppa}/budget_allocation_tree/",
                            headers=world.focal.headers).get_json()
    leaf = tree["breakdown"][0]
    while leaf["children"]:
        leaf = leaf["children"][0]
    world.client.get("/api/me", headers=world.focal.headers)
    return leaf


def test_recording_expenditure_on_a_leaf_sends_six_statements(pg_app, pg_world):
    world = pg_world
    leaf = enacted_leaf(world)

    counted = []
    for amount in ("12.50", "0.75"):
        with statements(pg_app) as sent:
            response = world.client.post(f"/api/work-items/{leaf['work_item_id']}/expenditures",
                                         json={"amount": amount}, headers=world.focal.headers)
        assert response.status_code == 200, response.get_json()
        counted.append(sent["n"])

    assert response.get_json()["actual_expenditure"] == "13.25"
    # token; the PPA locked; the path (with its alerts and whether the PPA is in the money chain);
    # the item's expenditure; its audit row; the path's stored rollups
    assert counted == [6, 6]


def test_editing_a_work_item_sends_six_statements(pg_app, pg_world):
    world = pg_world
    leaf = enacted_leaf(world)

    counted = []
    for title in ("Survey the site", "Survey the site again"):
        with statements(pg_app) as sent:
            response = world.client.patch(f"/api/work-items/{leaf['work_item_id']}", json={"title": title},
                                          headers=world.focal.headers | {"If-Match": "*"})
        assert response.status_code == 200, response.get_json()
        counted.append(sent["n"])

    assert response.get_json()["title"] == "Survey the site again"
    # token; the PPA locked; the path (with its alerts and whether the PPA is in the money chain); the item's
    # UPDATE; its audit row (its organization found through the PPA already read, not read again); the path's
    # stored rollups
    assert counted == [6, 6]
