"""My work as a service: exactly the PPAs with an action open to the user
(the ``/actions`` rules), in a constant number of statements (issue 11)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from db import db
from services import approvals, users
from services.my_work import counts, my_work
from workflow.errors import NotFound


@contextmanager
def statements(app):
    """Count the SQL statements sent inside the block."""
    seen = []

    def count(*_args, **_kwargs):
        seen.append(1)

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", count)


def _ppas_in_every_stage(world) -> list[int]:
    dual = world.person("mssd.dual", "moa_focal", "technical_reviewer", org="MSSD")
    ids = []
    for stage in ("draft", "technical_review", "budget_review", "stakeholder_consultation", "executive_approval",
                  "approved", "enacted"):
        ids.append(world.advance(world.create_ppa(title=f"In {stage}")["id"], stage)["id"])
    rejected = world.advance(world.create_ppa(title="Rejected")["id"], "budget_review")["id"]
    assert world.fire(rejected, "reject", world.budget_analyst, comment="Not fundable").status_code == 200
    returned = world.advance(world.create_ppa(title="Returned")["id"], "technical_review")["id"]
    assert world.fire(returned, "return_for_revision", world.technical_reviewer, comment="Add costs").status_code == 200
    own = world.create_ppa(dual, title="Submitted by the dual-role user")["id"]
    assert world.fire(own, "submit", dual).status_code == 200
    other = world.create_ppa(world.other_focal, title="MTIT draft")["id"]
    return ids + [rejected, returned, own, other]


def test_my_work_lists_exactly_the_ppas_with_an_action_open_to_the_user(app, world):
    ppa_ids = _ppas_in_every_stage(world)
    cast = ["mssd.focal", "mtit.focal", "bpda.reviewer", "mfbm.analyst", "bpda.planner", "ocm.executive", "admin",
            "mssd.dual"]
    world.admin  # noqa: B018 - created for the cast
    with app.app_context():
        for username in cast:
            user = users.get_user(username)
            expected = set()
            for ppa_id in ppa_ids:
                try:
                    ppa, actions = approvals.available_actions(user, ppa_id)
                except NotFound:  # not visible to this user
                    continue
                open_triggers = {a.trigger for a in actions if a.open}
                if open_triggers == {"submit"} and "admin" not in user.roles \
                        and ppa.organization_id != user.organization_id:
                    continue  # moa_focal counts only in the user's own MOA
                if open_triggers:
                    expected.add(ppa_id)
            work = my_work(user)
            assert {entry.ppa_id for entry in work.entries} == expected, username
            assert work.total == len(expected)
            for entry in work.entries:  # the page's actions are the /actions answer
                assert list(entry.actions) == approvals.available_actions(user, entry.ppa_id)[1]


def test_my_work_tells_returned_ppas_from_drafts_and_keeps_the_reviewers_comment(app, world):
    _ppas_in_every_stage(world)
    with app.app_context():
        entries = {e.title: e for e in my_work(users.get_user("mssd.focal")).entries}
    assert entries["Returned"].kind == "returned" and entries["Returned"].last_comment == "Add costs"
    assert entries["In draft"].kind == "draft"
    assert "MTIT draft" not in entries


def test_the_submitter_has_approve_closed_and_reject_open(app, world):
    _ppas_in_every_stage(world)
    with app.app_context():
        entry = next(e for e in my_work(users.get_user("mssd.dual")).entries
                     if e.title == "Submitted by the dual-role user")
    actions = {a.trigger: a for a in entry.actions}
    assert not actions["approve"].open
    assert [r.code for r in actions["approve"].reasons] == ["separation_of_duties"]
    assert actions["reject"].open


def test_my_work_costs_the_same_statements_for_few_and_for_many_ppas(app, world):
    reviewer = world.technical_reviewer
    for number in range(3):
        world.fire(world.create_ppa(title=f"PPA {number}")["id"], "submit", world.focal)
    with app.app_context():
        user = users.get_user(reviewer.username)
    with statements(app) as few:
        assert my_work(user).total == 3
    for number in range(3, 30):
        world.fire(world.create_ppa(title=f"PPA {number}")["id"], "submit", world.focal)
    with statements(app) as many:
        assert my_work(user).total == 30
    # the active rule set (docs/design.md §13), delegations lent to the user, the page and its total, the histories
    assert len(few) == len(many) == 4
    with statements(app) as navigation:
        assert counts(user).work == 30
    assert len(navigation) == 3  # the active rule set, delegations lent to the user, the three counts


def test_my_work_pages_hold_fifty_ppas_and_the_total(app, world):
    for number in range(53):
        world.fire(world.create_ppa(title=f"PPA {number}")["id"], "submit", world.focal)
    with app.app_context():
        user = users.get_user(world.technical_reviewer.username)
        first, second = my_work(user), my_work(user, page=2)
        beyond = my_work(user, page=3)
    assert (len(first.entries), len(second.entries), first.total, second.total) == (50, 3, 53, 53)
    assert not {e.ppa_id for e in first.entries} & {e.ppa_id for e in second.entries}
    assert beyond.entries == [] and beyond.total == 53


def test_a_colleague_standing_in_for_a_reviewer_finds_the_ppas_on_my_work_and_signs_for_them(app, world):
    ppa = world.create_ppa(title="Barangay water system")["id"]
    world.fire(ppa, "submit", world.focal)
    planner = world.planning_officer
    lent = world.client.post("/api/delegations", headers=world.technical_reviewer.headers, json={
        "role": "technical_reviewer", "delegate": planner.username, "reason": "on leave",
        "expires_at": (datetime.now(UTC) + timedelta(days=5)).isoformat()})
    assert lent.status_code == 201, lent.get_json()
    with app.app_context():
        user = users.get_user(planner.username)
        page, navigation = my_work(user), counts(user)
    entry = next(e for e in page.entries if e.ppa_id == ppa)
    approve = next(a for a in entry.actions if a.trigger == "approve")
    assert (approve.open, approve.acting_for) == (True, world.technical_reviewer.username)
    assert navigation.work == page.total == 1
