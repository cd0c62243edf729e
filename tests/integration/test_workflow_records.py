"""Any record through any workflow of the rules (docs/design.md §6): the
generic service decides with the engine, sets the record's stage and writes
the one append-only history, ``workflow_transitions``, that budget proposals,
ORS, DV and community needs share; delegations are recorded there too."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from db import db
from db.models import BudgetProposal, WorkflowTransition
from rules import DEFAULT_RULES_DIR
from services import rule_sets, users, workflows
from services.runtime import get_runtime, runtimes
from services.unit_of_work import transaction
from services.workflows import RecordKind
from web import create_app
from workflow.errors import SeparationOfDuties

#: A budget proposal's lifecycle, cut short: enough to drive the generic service.
PROPOSAL = """\
workflow: proposal_demo
record: budget proposal
initial_stage: draft
stages:
  draft:
  submitted:
  reviewed:
    final: true
transitions:
  - {trigger: submit, source: draft, dest: submitted, roles: [moa_focal]}
  - {trigger: approve, source: submitted, dest: reviewed, roles: [budget_analyst], comment_required: true}
  - {trigger: return_for_revision, source: submitted, dest: draft, roles: [budget_analyst]}
separation_of_duties:
  - preparer_may_not_fire: [approve]
"""

KIND = RecordKind("budget_proposal", workflow="proposal_demo")


@pytest.fixture
def proposals_app(app, tmp_path):
    """An app on ``app``'s database whose rules have the proposal workflow."""
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    (rules / "workflows" / "proposal.yaml").write_text(PROPOSAL)
    other = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PPAFLOW_RULES_DIR": str(rules),
                        "REDIS_URL": None, "TESTING": True})
    with other.app_context():  # the database's active set is the one in force (docs/design.md §13)
        rule_sets.activate(runtimes().loaded.rules)
        db.session.remove()
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def fire(app, username: str, proposal_id: int, trigger: str, comment: str | None = None):
    with app.app_context(), transaction():
        user = users.get_user_or_raise(username)
        proposal = db.session.scalars(select(BudgetProposal).where(BudgetProposal.id == proposal_id)
                                      .with_for_update(of=BudgetProposal)).one()
        return workflows.fire(user, KIND, proposal, trigger, comment=comment)


def test_a_record_of_another_workflow_moves_and_leaves_its_history(world, proposals_app):
    focal, analyst = world.focal, world.budget_analyst
    proposal = world.client.post("/api/budget-proposals", json={"organization": "MSSD", "fiscal_year": 2026,
                                                                 "title": "FY2026"}, headers=focal.headers).get_json()
    preparer = world.person("mssd.budget", "moa_focal", "budget_analyst", org="MSSD")
    with proposals_app.app_context(), transaction():  # prepared by the MSSD budget officer
        db.session.get(BudgetProposal, proposal["id"]).created_by_id = preparer.id

    fire(proposals_app, "mssd.focal", proposal["id"], "submit")
    with pytest.raises(SeparationOfDuties, match="you prepared this budget proposal, so you cannot approve it"):
        fire(proposals_app, "mssd.budget", proposal["id"], "approve", "checked")
    outcome = fire(proposals_app, "mfbm.analyst", proposal["id"], "approve", "  within the ceiling ")

    with proposals_app.app_context():
        rows = workflows.history(KIND, proposal["id"])
        status = db.session.get(BudgetProposal, proposal["id"]).status
        rules_hash = get_runtime().rules.hash
        organization = users.get_organization("MSSD").id
    assert (outcome.dest, status) == ("reviewed", "reviewed")
    assert [(r.workflow, r.record_type, r.trigger, r.from_stage, r.to_stage, r.actor_id, r.role, r.comment)
            for r in rows] == [
        ("proposal_demo", "budget_proposal", "submit", "draft", "submitted", focal.id, "moa_focal", None),
        ("proposal_demo", "budget_proposal", "approve", "submitted", "reviewed", analyst.id, "budget_analyst",
         "within the ceiling")]
    assert {(r.rules_hash, r.organization_id, r.delegated_by_id) for r in rows} == {(rules_hash, organization, None)}


def test_a_step_signed_under_a_delegation_records_the_delegator(world, proposals_app):
    proposal = world.client.post("/api/budget-proposals", json={"organization": "MSSD", "fiscal_year": 2026,
                                                                 "title": "FY2026"}, headers=world.focal.headers)
    proposal_id = proposal.get_json()["id"]
    lent = world.client.post("/api/delegations", json={
        "role": "budget_analyst", "delegate": world.executive.username, "reason": "officer-in-charge",
        "expires_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, headers=world.budget_analyst.headers)
    assert lent.status_code == 201, lent.get_json()

    fire(proposals_app, "mssd.focal", proposal_id, "submit")
    fire(proposals_app, "ocm.executive", proposal_id, "return_for_revision")

    with proposals_app.app_context():
        last = workflows.history(KIND, proposal_id)[-1]
        actions = {a.trigger: a for a in workflows.actions(users.get_user_or_raise("ocm.executive"), KIND,
                                                           db.session.get(BudgetProposal, proposal_id))}
        assert (last.actor.username, last.role, last.delegated_by.username, last.delegation_id) == (
            "ocm.executive", "budget_analyst", "mfbm.analyst", lent.get_json()["id"])
    assert actions["submit"].reasons[0].message.startswith("requires role moa_focal")


def test_the_workflow_history_is_append_only_in_the_database(world, proposals_app):
    proposal = world.client.post("/api/budget-proposals", json={"organization": "MSSD", "fiscal_year": 2026,
                                                                 "title": "FY2026"}, headers=world.focal.headers)
    fire(proposals_app, "mssd.focal", proposal.get_json()["id"], "submit")

    with proposals_app.app_context():
        for statement in ("UPDATE workflow_transitions SET to_stage = 'approved'", "DELETE FROM workflow_transitions"):
            with pytest.raises(DBAPIError, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text(statement))
        assert db.session.scalar(select(WorkflowTransition.to_stage)) == "submitted"


def test_the_rules_must_declare_the_workflow_of_every_registered_kind(app, monkeypatch):
    from workflow.errors import RulesError

    monkeypatch.setitem(workflows.KINDS, "budget_proposal", KIND)

    with pytest.raises(RulesError) as refused:
        create_app({"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": None})

    assert "no workflow 'proposal_demo' in workflows/" in refused.value.errors[0]
