"""Work-item status transitions, budget distributions and variance-band
alerts record the hash of the rule set they were decided under (issue 14
item 1, docs/design.md §13), read per request: after an activation, the
next decision records the new hash."""

from __future__ import annotations

import pytest

from db import db
from services import rule_sets
from services.runtime import runtimes
from tests.api.test_rule_sets import rules_with_legal_review
from tests.conftest import ONE_BACKEND, one_backend_app


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    yield from one_backend_app(request, tmp_path)


def audit(world, field: str) -> list[dict]:
    return world.client.get(f"/api/audit?entity=work_item&field={field}", headers=world.admin.headers).get_json()


def test_distributions_status_transitions_and_alerts_record_the_rule_set_they_were_decided_under(app, world,
                                                                                                 tmp_path):
    ppa = world.create_ppa(wbs_template="activity")["id"]
    world.advance(ppa, "budget_review")
    tree = world.tree(ppa)
    leaf = tree["breakdown"][0]["children"][0]["children"][0]["work_item_id"]
    with app.app_context():
        shipped = runtimes().loaded.rules.hash

    distributed = world.client.post(f"/api/monitoring-entries/{ppa}/distribute_budget/", json={"method": "equal"},
                                    headers=world.focal.headers)
    with app.app_context():
        newer = rule_sets.activate(rule_sets.load_directory(rules_with_legal_review(tmp_path))).rule_set.hash
        db.session.remove()
    started = world.client.post(f"/api/work-items/{leaf}/transitions", json={"trigger": "start"},
                                headers=world.focal.headers)
    overspent = world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "999999.00"},
                                  headers=world.focal.headers)
    alerts = world.client.get(f"/api/alerts?ppa={ppa}", headers=world.focal.headers).get_json()

    assert (distributed.status_code, started.status_code, overspent.status_code) == (200, 200, 200)
    assert {row["rules_hash"] for row in audit(world, "allocated_budget")} == {shipped}
    assert [row["rules_hash"] for row in audit(world, "status") if row["entity_id"] == leaf] == [newer]
    assert alerts and {alert["rules_hash"] for alert in alerts} == {newer}
