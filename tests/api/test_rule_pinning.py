"""In-flight PPAs are pinned to their rule set (issue 14 item 2,
docs/design.md §13): a submitted PPA finishes under the set it was
submitted under, a draft follows the active set, ``ppaflow rules migrate``
moves pinned PPAs, activation is refused while a draft would strand, and an
administrator has a recorded escape hatch.

Pinning is the services' own logic, the same on both databases: one backend.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from db import db
from db.models import Ppa
from rules import DEFAULT_RULES_DIR
from services import notifications, rule_sets
from services.runtime import get_runtime
from tests.api.test_rule_sets import rules_with_legal_review
from tests.conftest import ONE_BACKEND, one_backend_app
from tests.support import cli


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    yield from one_backend_app(request, tmp_path)


def rules_without_consultation(tmp_path: Path) -> Path:
    """A copy of the shipped rules whose PPA approval has no stakeholder
    consultation: budget review approves straight to executive approval."""
    folder = tmp_path / "rules-no-consultation"
    shutil.copytree(DEFAULT_RULES_DIR, folder)
    approval = folder / "workflows" / "approval.yaml"
    yaml = approval.read_text()
    stage = "  stakeholder_consultation:\n    label: Stakeholder consultation\n    reviewers: [planning_officer]\n"
    big = '    when: {budget_allocation: {gt: "50000000.00"}}\n'
    for old, new in [(stage + "    due_in_days: 15\n", ""),
                     ("    source: budget_review\n    dest: stakeholder_consultation\n"
                      "    effects: [lock_budget_allocations]\n",
                      "    source: budget_review\n    dest: inter_agency_consultation\n" + big
                      + "    effects: [lock_budget_allocations]\n\n  - trigger: approve\n"
                      "    source: budget_review\n    dest: executive_approval\n"
                      "    effects: [lock_budget_allocations]\n"),
                     ("  - trigger: approve\n    source: stakeholder_consultation\n    dest: inter_agency_consultation\n"
                      + big + "\n", ""),
                     ("  - trigger: approve\n    source: stakeholder_consultation\n    dest: executive_approval\n\n",
                      ""),
                     ("budget_review, stakeholder_consultation,\n", "budget_review,\n")]:  # reject and return
        assert old in yaml, old
        yaml = yaml.replace(old, new)
    approval.write_text(yaml)
    return folder


def rules_with_preparation(tmp_path: Path) -> Path:
    """A copy of the shipped rules whose approval's initial stage ``draft``
    is renamed ``preparation``."""
    folder = tmp_path / "rules-preparation"
    shutil.copytree(DEFAULT_RULES_DIR, folder)
    approval = folder / "workflows" / "approval.yaml"
    yaml = approval.read_text()
    for old, new in [("initial_stage: draft", "initial_stage: preparation"),
                     ("  draft:\n    label: Draft", "  preparation:\n    label: Preparation"),
                     ("source: draft", "source: preparation"), ("dest: draft", "dest: preparation")]:
        assert old in yaml, old
        yaml = yaml.replace(old, new)
    approval.write_text(yaml)
    templates = folder / "wbs_templates.yaml"
    templates.write_text(templates.read_text().replace("[draft, rejected]", "[preparation, rejected]"))
    return folder


def activate(app, folder: Path, **options) -> str:
    """Activate the rules in ``folder``; the app's next request decides with
    them, as every process does (docs/design.md §13). Returns its hash."""
    with app.app_context():
        new = rule_sets.load_directory(folder)
        rule_sets.activate(new, **options)
        return new.hash


def pin_of(world, ppa_id: int) -> str | None:
    return world.get(ppa_id, world.admin)["rules_hash"]


def history(world, ppa_id: int) -> list[dict]:
    return world.client.get(f"/api/monitoring-entries/{ppa_id}/history", headers=world.admin.headers).get_json()


def test_a_ppa_in_a_removed_stage_finishes_under_the_rules_it_was_submitted_under(app, world, tmp_path):
    with app.app_context():
        shipped = get_runtime().rules.hash
    draft = world.create_ppa()["id"]
    consulting = world.create_ppa()["id"]
    world.advance(consulting, "stakeholder_consultation")
    new = activate(app, rules_without_consultation(tmp_path))
    with app.app_context():
        reminded = notifications.send_deadline_reminders(date(2099, 1, 1))
    due = world.get(consulting, world.admin)["stage_due_at"]

    actions = world.client.get(f"/api/monitoring-entries/{consulting}/actions",
                               headers=world.planning_officer.headers).get_json()["actions"]
    approved = world.fire(consulting, "approve", world.planning_officer)
    submitted = world.fire(draft, "submit", world.focal)

    assert due is not None and reminded["ppas_due"] == 1 and reminded["overdue_alerts_opened"] == 1  # its set's 15 days
    assert next(a for a in actions if a["trigger"] == "approve")["open"] is True
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["approval_status"] == "executive_approval" and body["rules_hash"] == shipped
    assert {row["rules_hash"] for row in history(world, consulting)} == {shipped}
    assert submitted.get_json()["rules_hash"] == new
    assert world.advance(draft, "executive_approval")["rules_hash"] == new  # no consultation under the new set
    assert "stakeholder_consultation" not in [row["to_stage"] for row in history(world, draft)]


def test_a_return_unpins_and_resubmission_pins_to_the_then_active_set(app, world, tmp_path):
    with app.app_context():
        shipped = get_runtime().rules.hash
    returned, staying = world.create_ppa()["id"], world.create_ppa()["id"]
    world.advance(returned, "technical_review")
    world.advance(staying, "executive_approval")
    new = activate(app, rules_with_legal_review(tmp_path))

    back = world.fire(returned, "return_for_revision", world.technical_reviewer, comment="fix the dates").get_json()
    again = world.fire(returned, "submit", world.focal).get_json()
    finished = world.fire(staying, "approve", world.executive).get_json()

    assert back["approval_status"] == "draft" and back["rules_hash"] is None
    assert again["rules_hash"] == new and history(world, returned)[-1]["rules_hash"] == new
    assert finished["approval_status"] == "approved" and finished["rules_hash"] == shipped  # no legal review


def test_migrate_plans_refuses_a_stranded_stage_then_moves_pinned_ppas_with_a_history_row(app, world, tmp_path):
    with app.app_context():
        shipped = get_runtime().rules.hash
    consulting, reviewing = world.create_ppa()["id"], world.create_ppa()["id"]
    world.advance(consulting, "stakeholder_consultation")
    world.advance(reviewing, "budget_review")
    new = activate(app, rules_without_consultation(tmp_path))

    unmapped = cli(app, "rules", "migrate", "--to", new[:10], "--plan")
    plan = cli(app, "rules", "migrate", "--to", new, "--map", "stakeholder_consultation=executive_approval")
    unsigned = cli(app, "rules", "migrate", "--to", new, "--apply")
    world.admin  # noqa: B018  (creates the administrator)
    applied = cli(app, "rules", "migrate", "--to", new, "--apply", "--as", "admin",
                  "--map", "stakeholder_consultation=executive_approval")

    assert unmapped.exit_code == 1
    assert f"stage stakeholder_consultation is not in rule set {new[:12]} (PPA {consulting})" in unmapped.output
    assert plan.exit_code == 0, plan.output
    assert f"PPA {consulting}: rules {shipped[:12]} -> {new[:12]}, stage stakeholder_consultation -> " \
           "executive_approval" in plan.output
    assert f"PPA {reviewing}: rules {shipped[:12]} -> {new[:12]}, stage budget_review (kept)" in plan.output
    assert "- next step approve --> stakeholder_consultation [budget_analyst]" in plan.output
    assert "+ next step approve --> executive_approval [budget_analyst]" in plan.output
    assert "2 PPA(s) move" in plan.output and "nothing written" in plan.output
    assert unsigned.exit_code == 1 and "--as USER" in unsigned.output
    assert applied.exit_code == 0, applied.output
    assert world.get(consulting, world.admin)["approval_status"] == "executive_approval"
    assert pin_of(world, consulting) == pin_of(world, reviewing) == new
    last = history(world, consulting)[-1]
    assert (last["trigger"], last["from_stage"], last["to_stage"], last["actor"], last["rules_hash"]) == (
        "migrate", "stakeholder_consultation", "executive_approval", "admin", new)
    assert last["comment"] == f"migrated from rules {shipped[:12]} to {new[:12]}"
    moved_on = world.fire(reviewing, "approve", world.budget_analyst).get_json()
    assert moved_on["approval_status"] == "executive_approval"  # the new set's machine decides now


def test_activation_is_refused_while_a_draft_sits_in_a_stage_the_new_set_lacks_until_mapped(app, world, tmp_path):
    draft = world.create_ppa()["id"]
    folder = rules_with_preparation(tmp_path)
    world.admin  # noqa: B018

    refused = cli(app, "rules", "activate", str(folder))
    unsigned = cli(app, "rules", "activate", str(folder), "--map", "draft=preparation")
    mapped = cli(app, "rules", "activate", str(folder), "--map", "draft=preparation", "--as", "admin")

    assert refused.exit_code == 1 and "stage draft is not in rule set" in refused.output
    assert f"(PPA {draft}): map it with --map draft=STAGE" in refused.output
    assert unsigned.exit_code == 1 and "--as USER" in unsigned.output
    assert mapped.exit_code == 0, mapped.output
    assert "moved 1 draft(s) to their mapped stage" in mapped.output
    assert world.get(draft, world.admin)["approval_status"] == "preparation"
    assert pin_of(world, draft) is None  # still a draft: it follows the active set
    last = history(world, draft)[-1]
    assert (last["trigger"], last["from_stage"], last["to_stage"]) == ("migrate", "draft", "preparation")
    with app.app_context():
        assert rule_sets.active().hash == rule_sets.load_directory(folder).hash


def test_an_administrator_moves_a_ppa_to_a_declared_stage_of_its_set_with_a_recorded_comment(app, world, tmp_path):
    with app.app_context():
        shipped = get_runtime().rules.hash
    ppa = world.create_ppa()["id"]
    world.advance(ppa, "stakeholder_consultation")
    activate(app, rules_without_consultation(tmp_path))
    path = f"/api/monitoring-entries/{ppa}/actions/move"

    undeclared = world.client.post(path, json={"stage": "legal_review", "comment": "x"}, headers=world.admin.headers)
    silent = world.client.post(path, json={"stage": "technical_review", "comment": ""}, headers=world.admin.headers)
    by_reviewer = world.client.post(path, json={"stage": "technical_review", "comment": "stuck"},
                                    headers=world.planning_officer.headers)
    moved = world.client.post(path, json={"stage": "technical_review", "comment": "sent back by the board"},
                              headers=world.admin.headers)

    assert undeclared.status_code == 422 and "legal_review" in undeclared.get_json()["errors"]["stage"][0]
    assert silent.status_code == 422 and "comment" in silent.get_json()["errors"]
    assert by_reviewer.status_code == 403
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["approval_status"] == "technical_review" and moved.get_json()["rules_hash"] == shipped
    last = history(world, ppa)[-1]
    assert (last["trigger"], last["from_stage"], last["to_stage"], last["role"], last["comment"]) == (
        "move", "stakeholder_consultation", "technical_review", "admin", "sent back by the board")
    with app.app_context():
        assert db.session.get(Ppa, ppa).rules_hash == shipped
