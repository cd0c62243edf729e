"""Property-based: after any sequence of API operations on a WBS, no parent's
children sum above it, a locked tree's allocations never change, every
rollup equals a brute-force recomputation from the stored rows, and the
stored rollups, kept along the ancestor path, equal a full recomputation
(docs/design.md §4).

The brute force below is written independently of ``workflow.tree``: plain
recursion, ``Decimal`` with ROUND_HALF_UP, exact ``Fraction`` progress rounded
once, half-up, straight from docs/design.md.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import or_, select

from db import db
from db.models import WorkItem
from services.trees import rollup_drift
from tests.support import World, shipped_rules

RULES = shipped_rules()
AMOUNTS = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("3000000.00"), places=2)
TRIGGERS = st.sampled_from(RULES.work_item_status.triggers)


def brute_force(rows: list[WorkItem], threshold: Decimal) -> dict[int, dict]:
    """Expected rollups per item id, from the definitions of docs/design.md."""
    children: dict[int | None, list[WorkItem]] = {}
    for row in sorted(rows, key=lambda r: (r.position, r.id)):
        children.setdefault(row.parent_id, []).append(row)

    def expended(item) -> Decimal:
        return item.actual_expenditure + sum((expended(c) for c in children.get(item.id, [])), Decimal(0))

    def progress(item) -> Fraction:
        counted = [c for c in children.get(item.id, []) if c.status != "cancelled"]
        if not counted:
            return Fraction(100 if item.status == "completed" else item.progress)
        return sum((progress(c) for c in counted), Fraction(0)) / len(counted)

    def shown(value: Fraction) -> int:
        return math.floor(value + Fraction(1, 2))

    out = {}
    for row in rows:
        spent, allocated = expended(row), row.allocated_budget or Decimal(0)
        pct = None if not allocated else ((allocated - spent) * 100 / allocated).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)
        if spent > allocated:
            status = "over_budget"
        elif pct is None or abs(pct) <= threshold:
            status = "on_budget"
        else:
            status = "under_budget"
        out[row.id] = {"actual_expenditure": f"{spent:.2f}", "progress": shown(progress(row)),
                       "variance": f"{allocated - spent:.2f}", "variance_pct": None if pct is None else float(pct),
                       "budget_status": status}
    return out


class WbsOperations(RuleBasedStateMachine):
    """Random API operations on one tracked PPA."""

    world: World  # set by the test

    @initialize(template=st.sampled_from(sorted(RULES.wbs.templates)),
                budget=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2))
    def start(self, template, budget):
        self.ppa = self.world.create_ppa(wbs_template=template, budget_allocation=str(budget))["id"]
        self.world.advance(self.ppa, "budget_review")
        self.locked_snapshot = None

    # -- helpers --------------------------------------------------------------
    def tree(self):
        return self.world.tree(self.ppa)["breakdown"][0]

    def nodes(self):
        out, stack = [], [self.tree()]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(node["children"])
        return out

    @staticmethod
    def pick(data, candidates):
        """One of ``candidates``, or ``None`` when there are none (e.g. all cancelled)."""
        return data.draw(st.sampled_from(candidates)) if candidates else None

    def post(self, path, body):
        return self.world.client.post(path, json=body, headers=self.world.focal.headers)

    def expect_allocation_result(self, response):
        if self.locked_snapshot is not None:
            assert response.status_code == 409, response.get_json()
        else:
            assert response.status_code in (200, 201, 422), response.get_json()

    # -- operations -----------------------------------------------------------
    @rule(data=st.data())
    def distribute_equal(self, data):
        parent = self.pick(data, [n for n in self.nodes() if n["children"] and n["allocated_budget"] is not None])
        if parent is None:
            return
        self.expect_allocation_result(self.post(f"/api/monitoring-entries/{self.ppa}/distribute_budget/",
                                                {"method": "equal", "parent_id": parent["work_item_id"]}))

    @rule(data=st.data())
    def distribute_weighted(self, data):
        parent = self.pick(data, [n for n in self.nodes() if n["children"] and n["allocated_budget"] is not None])
        if parent is None:
            return
        raw = data.draw(st.lists(st.integers(1, 1000), min_size=len(parent["children"]),
                                 max_size=len(parent["children"])))
        weights = {str(c["work_item_id"]): str(Decimal(w) / sum(raw)) for c, w in zip(parent["children"], raw)}
        self.expect_allocation_result(self.post(f"/api/monitoring-entries/{self.ppa}/distribute_budget/",
                                                {"method": "weighted", "parent_id": parent["work_item_id"],
                                                 "weights": weights}))

    @rule(data=st.data())
    def distribute_manual(self, data):
        items = [n for n in self.nodes() if n["level"] > 0]
        if not items:
            return
        chosen = data.draw(st.lists(st.sampled_from(items), min_size=1, max_size=3, unique_by=lambda n: n["work_item_id"]))
        allocations = {str(n["work_item_id"]): str(data.draw(AMOUNTS)) for n in chosen}
        self.expect_allocation_result(self.post(f"/api/monitoring-entries/{self.ppa}/distribute_budget/",
                                                {"method": "manual", "allocations": allocations}))

    @rule(data=st.data(), amount=AMOUNTS)
    def patch_allocation(self, data, amount):
        item = self.pick(data, [n for n in self.nodes() if n["level"] > 0])
        if item is None:
            return
        response = self.world.patch(f"/api/work-items/{item['work_item_id']}", self.world.focal,
                                    {"allocated_budget": str(amount)})
        if self.locked_snapshot is not None and item["allocated_budget"] == f"{amount:.2f}":
            assert response.status_code == 200  # no change asked: nothing to refuse
        else:
            self.expect_allocation_result(response)

    @rule(data=st.data(), with_budget=st.booleans(), amount=AMOUNTS)
    def add_child(self, data, with_budget, amount):
        parent = self.pick(data, [n for n in self.nodes()
                                  if RULES.wbs.allowed_children[n["work_type"]] and n["status"] != "cancelled"])
        if parent is None:
            return
        work_type = data.draw(st.sampled_from(RULES.wbs.allowed_children[parent["work_type"]]))
        body = {"parent_id": parent["work_item_id"], "work_type": work_type, "title": "Added"}
        if with_budget:
            body["allocated_budget"] = str(amount)
            self.expect_allocation_result(self.post("/api/work-items", body))
        else:
            assert self.post("/api/work-items", body).status_code == 201

    @rule(data=st.data(), amount=st.decimals(min_value=Decimal("-50000.00"), max_value=Decimal("2000000.00"), places=2))
    def record_expenditure(self, data, amount):
        item = data.draw(st.sampled_from(self.nodes()))
        response = self.post(f"/api/work-items/{item['work_item_id']}/expenditures", {"amount": str(amount)})
        assert response.status_code in (200, 422)

    @rule(data=st.data(), trigger=TRIGGERS)
    def fire(self, data, trigger):
        item = data.draw(st.sampled_from(self.nodes()))
        response = self.post(f"/api/work-items/{item['work_item_id']}/transitions", {"trigger": trigger})
        assert response.status_code in (200, 409)

    @rule(progress=st.integers(0, 100), data=st.data())
    def set_leaf_progress(self, progress, data):
        leaf = data.draw(st.sampled_from([n for n in self.nodes() if not n["children"]]))
        response = self.world.patch(f"/api/work-items/{leaf['work_item_id']}", self.world.focal, {"progress": progress})
        assert response.status_code == 200

    @rule()
    def lock(self):
        if self.locked_snapshot is None:
            self.world.advance(self.ppa, "stakeholder_consultation")
            self.locked_snapshot = {n["work_item_id"]: n["allocated_budget"] for n in self.nodes()}

    @rule()
    def unlock(self):
        if self.locked_snapshot is not None:
            response = self.world.fire(self.ppa, "return_for_revision", self.world.planning_officer, "Revise.")
            assert response.status_code == 200
            self.world.advance(self.ppa, "budget_review")
            self.locked_snapshot = None

    # -- invariants -----------------------------------------------------------
    @invariant()
    def children_never_sum_above_their_parent(self):
        for node in self.nodes():
            total = sum(Decimal(c["allocated_budget"] or 0) for c in node["children"])
            assert total <= Decimal(node["allocated_budget"] or 0), node["title"]

    @invariant()
    def locked_allocations_never_change(self):
        if self.locked_snapshot is not None:
            now = {n["work_item_id"]: n["allocated_budget"] for n in self.nodes()}
            for item_id, amount in now.items():
                assert amount == self.locked_snapshot.get(item_id), item_id

    @invariant()
    def parents_follow_their_childrens_statuses(self):
        for node in self.nodes():
            counted = [c for c in node["children"] if c["status"] != "cancelled"]
            if not counted:
                continue
            if node["status"] == "not_started":
                assert all(c["status"] == "not_started" for c in counted), node["title"]
            if all(c["status"] == "completed" for c in counted) and node["status"] in ("not_started", "in_progress",
                                                                                       "at_risk"):
                raise AssertionError(f"{node['title']} should have completed with its children")

    @invariant()
    def stored_rollups_equal_a_full_recomputation(self):
        root = self.tree()["work_item_id"]
        with self.world.app.app_context():
            assert rollup_drift(root).clean  # docs/design.md §4, "Stored rollups"

    @invariant()
    def rollups_equal_a_brute_force_recomputation(self):
        nodes = self.nodes()
        root = next(n["work_item_id"] for n in nodes if n["level"] == 0)
        with self.world.app.app_context():
            rows = db.session.scalars(select(WorkItem).where(or_(WorkItem.id == root, WorkItem.root_id == root))).all()
            expected = brute_force(rows, RULES.budget.on_budget_threshold_pct)
        for node in nodes:
            got = {k: node[k] for k in ("actual_expenditure", "progress", "variance", "variance_pct", "budget_status")}
            assert got == expected[node["work_item_id"]], node["title"]
        ppa = self.world.get(self.ppa, self.world.focal)
        assert ppa["progress"] == expected[root]["progress"]


def test_any_sequence_of_operations_keeps_the_wbs_consistent(world):
    WbsOperations.world = world
    run_state_machine_as_test(WbsOperations, settings=settings(
        max_examples=20, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
