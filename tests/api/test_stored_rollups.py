"""Stored rollups (issue 17 item 1; docs/design.md §4, "Stored rollups"): a
change to one work item, by any path, updates only its ancestors' stored
figures, in the same transaction, and they always equal a recomputation of
the whole tree from scratch; ``ppaflow wbs verify`` finds drift and, with
``--repair`` or in the nightly job, mends it."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import event, select, text, update

from db import db
from db.models import Ppa, WorkItem
from jobs import tasks
from services import tree_cache, work_items
from services.tracking import tree_payload
from services.trees import current_method, load_tree, rollup_drift
from web import jsonio
from workflow.tree import settle_tree
from tests.bench.wbs import insert_tree
from tests.support import cli, shipped_rules

RULES = shipped_rules()


def drift_of(world, ppa_id: int):
    """What a full recomputation of the PPA's tree finds against the store."""
    with world.app.app_context():
        root = db.session.scalar(select(WorkItem.id).where(WorkItem.ppa_id == ppa_id))
        return rollup_drift(root)


def nodes(world, ppa_id: int) -> list[dict]:
    out, stack = [], [world.tree(ppa_id)["breakdown"][0]]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node["children"])
    return out


class ChainPostings(RuleBasedStateMachine):
    """Random money-chain postings (obligations charged to random work
    items, disbursements, voids, cancellations) mixed with progress and
    status changes, on one enacted PPA in the money chain."""

    world = None  # set by the test
    chain = None
    allotment = None

    def __init__(self):
        super().__init__()
        self.obligations: list[int] = []
        self.paid: list[int] = []

    def post(self, path, body, who=None):
        return self.world.client.post(path, json=body, headers=(who or self.world.focal).headers)

    @rule(data=st.data(), amount=st.integers(1, 5_000_000))
    def charge_and_pay(self, data, amount):
        item = data.draw(st.sampled_from(nodes(self.world, self.chain.ppa)))
        body = self.chain.post("/api/obligations", self.world.focal, 201, allotment_id=self.allotment,
                               payee="Cotabato Training Services Cooperative", particulars="Training venue",
                               obligation_date="2025-03-10", amount=f"{Decimal(amount) / 100 + 1000:.2f}",
                               work_item_id=item["work_item_id"])
        obligation = self.chain.certify(body["id"])["id"]
        self.obligations.append(obligation)
        self.paid.append(self.chain.disburse(obligation, f"{Decimal(amount) / 100:.2f}")["id"])

    @rule(data=st.data())
    def void_a_disbursement(self, data):
        if self.paid:
            disbursement = self.paid.pop(data.draw(st.integers(0, len(self.paid) - 1)))
            response = self.post(f"/api/disbursements/{disbursement}/void", {"reason": "Issued twice"})
            assert response.status_code == 200, response.get_json()

    @rule(progress=st.integers(0, 100), data=st.data())
    def set_leaf_progress(self, progress, data):
        leaf = data.draw(st.sampled_from([n for n in nodes(self.world, self.chain.ppa) if not n["children"]]))
        response = self.world.patch(f"/api/work-items/{leaf['work_item_id']}", self.world.focal, {"progress": progress})
        assert response.status_code == 200, response.get_json()

    @rule(data=st.data(), trigger=st.sampled_from(RULES.work_item_status.triggers))
    def fire(self, data, trigger):
        item = data.draw(st.sampled_from(nodes(self.world, self.chain.ppa)))
        response = self.post(f"/api/work-items/{item['work_item_id']}/transitions", {"trigger": trigger})
        assert response.status_code in (200, 409), response.get_json()

    @invariant()
    def stored_rollups_equal_a_full_recomputation(self):
        assert drift_of(self.world, self.chain.ppa).clean

    @invariant()
    def the_project_has_spent_what_was_disbursed(self):
        tree = self.world.tree(self.chain.ppa)
        assert tree["breakdown"][0]["actual_expenditure"] == tree["total_expended"]


@pytest.mark.one_backend
def test_any_sequence_of_chain_postings_keeps_the_stored_rollups_exact(chain, world):
    ChainPostings.world, ChainPostings.chain = world, chain
    ChainPostings.allotment = chain.allot("5000000.00")["id"]
    run_state_machine_as_test(ChainPostings, settings=settings(
        max_examples=4, stateful_step_count=8, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


def big_tree(world, size: int) -> tuple[int, int]:
    """A draft PPA with a generated ``size``-item WBS (a 20-ary tree), its
    rollups computed by ``ppaflow wbs verify --repair``. Returns ``(ppa id, a leaf id)``."""
    ppa = world.create_ppa(budget_allocation="999999999.99")["id"]
    with world.app.app_context():
        first = (db.session.scalar(select(db.func.max(WorkItem.id))) or 0) + 1
        db.session.remove()
        insert_tree(ppa, size, 20, 99_999_999_999, first)
        with db.engine.begin() as connection:  # nothing spent: no variance alert to open on one tree and not the other
            connection.execute(text("UPDATE work_items SET actual_expenditure = 0 WHERE id >= :first"), {"first": first})
    assert cli(world.app, "wbs", "verify", str(ppa), "--repair").exit_code == 0
    return ppa, first + size - 1


def statements_of(world, request) -> int:
    with world.app.app_context():
        engine = db.engine
    counted = {"n": 0}

    def before(*_args, **_kwargs):
        counted["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        response = request()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200, response.get_json()
    return counted["n"]


@pytest.mark.both_backends
def test_completing_a_leaf_costs_the_same_statements_in_a_small_and_a_large_tree(world):
    counts = []
    for size in (30, 900):
        ppa, leaf = big_tree(world, size)
        with world.app.app_context():  # the PPA's shown progress would move in one tree and not the other
            db.session.execute(text("UPDATE ppas SET auto_sync_progress = false WHERE id = :id"), {"id": ppa})
            db.session.commit()
        for trigger in ("start", "complete"):
            counts.append(statements_of(world, lambda: world.client.post(
                f"/api/work-items/{leaf}/transitions", json={"trigger": trigger}, headers=world.focal.headers)))
        assert drift_of(world, ppa).clean
    # complete: the token, the PPA (locked, found through the item's root), the item with its path, their open
    # alerts and the chain flag, the audit rows, one UPDATE of the path (statuses, stored rollups, tree_version);
    # on PostgreSQL the audit rows go in with the UPDATE, in one statement. Start also moves the PPA's status
    # (its UPDATE and its audit row).
    with world.app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
    assert counts == ([6, 4] if postgresql else [7, 5]) * 2, counts


def test_a_completed_leaf_moves_its_ancestors_figures_and_nothing_else(world):
    ppa, leaf = big_tree(world, 30)  # root, 20 children, 9 grandchildren under the first child
    world.client.post(f"/api/work-items/{leaf}/transitions", json={"trigger": "start"}, headers=world.focal.headers)
    with world.app.app_context():
        before = dict(db.session.execute(select(WorkItem.id, WorkItem.rolled_progress)).all())
        stamped = dict(db.session.execute(select(WorkItem.id, WorkItem.updated_at)).all())
    response = world.client.post(f"/api/work-items/{leaf}/transitions", json={"trigger": "complete"},
                                 headers=world.focal.headers)
    assert response.status_code == 200, response.get_json()
    with world.app.app_context():
        after = dict(db.session.execute(select(WorkItem.id, WorkItem.rolled_progress)).all())
        parent = db.session.scalar(select(WorkItem.parent_id).where(WorkItem.id == leaf))
        root = db.session.scalar(select(WorkItem.id).where(WorkItem.ppa_id == ppa))
        restamped = {i for i, at in db.session.execute(select(WorkItem.id, WorkItem.updated_at)) if at != stamped[i]}
    changed = {i for i in after if after[i] != before.get(i)}
    assert changed == {leaf, parent, root}
    assert restamped == {leaf}  # the ancestors' figures moved, not their content: their updated_at stays
    assert (after[leaf], after[parent]) == ("100", "100/9")
    assert world.get(ppa, world.focal)["progress"] == 1  # (100/9) / 20 children = 0.56 %, shown as 1


def test_wbs_verify_reports_tampered_rollups_and_repair_mends_them(world):
    ppa, leaf = big_tree(world, 30)
    with world.app.app_context():
        db.session.execute(update(WorkItem).where(WorkItem.id == leaf).values(rolled_expended=123))
        db.session.commit()

    found = cli(world.app, "wbs", "verify", str(ppa))
    assert found.exit_code == 1
    assert "1 drifted, 0 repaired" in found.output
    assert not drift_of(world, ppa).clean

    assert cli(world.app, "wbs", "verify", "--repair").exit_code == 0
    assert drift_of(world, ppa).clean
    assert cli(world.app, "wbs", "verify", str(ppa)).exit_code == 0


def test_the_nightly_sync_repairs_drift_and_syncs_from_the_repaired_figures(world):
    ppa, leaf = big_tree(world, 30)
    for trigger in ("start", "complete"):
        world.client.post(f"/api/work-items/{leaf}/transitions", json={"trigger": trigger},
                          headers=world.focal.headers)
    with world.app.app_context():
        root = db.session.scalar(select(WorkItem.id).where(WorkItem.ppa_id == ppa))
        db.session.execute(update(WorkItem).where(WorkItem.id == root).values(rolled_progress="77"))
        db.session.commit()
        result = tasks.sync_tracked_ppas()
    assert result["rollups"]["repaired"] >= 1
    assert drift_of(world, ppa).clean
    assert world.get(ppa, world.focal)["progress"] == 1


def test_a_tree_stored_under_other_rules_reads_right_and_its_next_write_recomputes_it(world):
    ppa, leaf = big_tree(world, 30)
    expected = world.tree(ppa)
    with world.app.app_context():
        db.session.execute(text("UPDATE work_items SET rollup_key = 'budget_weighted:other', rolled_progress = '5', "
                                "rolled_expended = 0"))
        db.session.commit()
    assert world.tree(ppa) == expected  # rolled up in memory, not read from the stale store
    assert not drift_of(world, ppa).current

    with world.app.app_context():  # a parent's progress is still refused: it has children, stored or not
        parent = db.session.scalar(select(WorkItem.parent_id).where(WorkItem.id == leaf))
    response = world.patch(f"/api/work-items/{parent}", world.focal, {"progress": 80})
    assert response.status_code == 422, response.get_json()
    assert "has children" in response.get_json()["errors"]["progress"][0]

    response = world.patch(f"/api/work-items/{leaf}", world.focal, {"progress": 40})
    assert response.status_code == 200, response.get_json()
    assert drift_of(world, ppa).clean


def mixed_tree(world, size: int, seed: int) -> int:
    """A PPA whose ``size``-item WBS (a ternary tree, five levels deep at
    120 items) mixes every status, own progress, expenditure below, at and
    above the allocation, items without an allocation or with a zero one,
    and titles JSON must escape; its rollups stored by ``ppaflow wbs verify
    --repair`` (parents follow their children). Returns the PPA's id."""
    ppa = world.create_ppa(budget_allocation="999999999.99")["id"]
    rng = random.Random(seed)
    statuses = list(RULES.work_item_status.states)
    with world.app.app_context():
        first = (db.session.scalar(select(db.func.max(WorkItem.id))) or 0) + 1
        db.session.remove()
        insert_tree(ppa, size, 3, 99_999_999_999, first)
        rows = []
        for item_id in range(first + 1, first + size):
            allocated = rng.choice([None, 0, rng.randrange(1, 10**6), rng.randrange(10**6, 10**9)])
            rows.append({"id": item_id, "status": rng.choice(statuses),
                         "progress": rng.randrange(101), "spent": rng.choice([0, rng.randrange(1, 10**7)]),
                         "allocated": allocated, "title": rng.choice(["Plain", 'Say "hi"\\ \u00f1 \U0001f600 \u2028',
                                                                       "Tab\there"])})
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE work_items SET status = :status, progress = :progress, "
                                    "actual_expenditure = :spent, allocated_budget = :allocated, title = :title "
                                    "WHERE id = :id"), rows)
    assert cli(world.app, "wbs", "verify", str(ppa), "--repair").exit_code == 0
    return ppa


def recomputed_bytes(world, ppa_id: int) -> bytes:
    """The PPA's budget tree answer from a roll-up of its rows from scratch,
    in memory (no stored figure read), encoded as the API encodes it."""
    with world.app.test_request_context():
        ppa = db.session.get(Ppa, ppa_id)
        tree = load_tree(ppa.execution_project_id, rolled=False)
        assert settle_tree(tree, current_method()) == {}  # the store is settled: no status left to follow
        return jsonio.encode(tree_payload(ppa, tree))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_cold_read_is_byte_for_byte_the_answer_of_a_full_recomputation(world, seed):
    ppa = mixed_tree(world, 120, seed)
    expected = recomputed_bytes(world, ppa)
    with world.app.app_context():
        tree_cache.store().clear()
    cold = world.client.get(f"/api/monitoring-entries/{ppa}/budget_allocation_tree/", headers=world.focal.headers)
    assert cold.status_code == 200, cold.get_json()
    assert cold.data == expected
    shown = {node["budget_status"] for node in nodes(world, ppa)}
    assert shown == {"over_budget", "on_budget", "under_budget"}  # the tree exercises every branch
    assert {node["status"] for node in nodes(world, ppa)} >= {"completed", "cancelled", "in_progress"}
    assert any(node["allocated_budget"] is None for node in nodes(world, ppa))
    with world.app.app_context():
        assert any("/" in progress for progress in db.session.scalars(select(WorkItem.rolled_progress)))


def test_a_status_written_with_its_path_is_refused_when_its_row_moved_since_it_was_read(world, monkeypatch):
    ppa, leaf = big_tree(world, 30)
    real_locate = work_items.locate

    def locate_then_another_write(user, item_id, **kwargs):  # a write that slipped in between the read and the UPDATE
        located = real_locate(user, item_id, **kwargs)
        db.session.execute(update(WorkItem).where(WorkItem.id == item_id).values(version=WorkItem.version + 1)
                           .execution_options(synchronize_session=False))
        return located

    with world.app.app_context():
        before = db.session.execute(select(WorkItem.id, WorkItem.status, WorkItem.rolled_progress)).all()
    monkeypatch.setattr(work_items, "locate", locate_then_another_write)
    response = world.client.post(f"/api/work-items/{leaf}/transitions", json={"trigger": "start"},
                                 headers=world.focal.headers)
    assert response.status_code == 409 and response.get_json()["code"] == "concurrent_update", response.get_json()
    with world.app.app_context():
        assert db.session.execute(select(WorkItem.id, WorkItem.status, WorkItem.rolled_progress)).all() == before
    assert drift_of(world, ppa).clean
