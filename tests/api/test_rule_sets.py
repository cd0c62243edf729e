"""Rule sets are versions (issue 14 item 1, docs/design.md §13): every set
that governs anything is stored by its hash and can be read back, and the
database keeps exactly one active."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from db import db
from rules import DEFAULT_RULES_DIR
from services import rule_sets

LEGAL_REVIEW = """  legal_review:
    label: Legal review
    reviewers: [executive]
"""


def rules_with_legal_review(tmp_path: Path) -> Path:
    """A copy of the shipped rules whose PPA approval has one more stage,
    ``legal_review``, between executive approval and approved."""
    folder = tmp_path / "rules-legal"
    shutil.copytree(DEFAULT_RULES_DIR, folder)
    approval = folder / "workflows" / "approval.yaml"
    yaml = approval.read_text()
    yaml = yaml.replace("  approved:\n    label: Approved\n", LEGAL_REVIEW + "  approved:\n    label: Approved\n")
    yaml = yaml.replace("    source: executive_approval\n    dest: approved\n",
                        "    source: executive_approval\n    dest: legal_review\n\n"
                        "  - trigger: approve\n    source: legal_review\n    dest: approved\n")
    approval.write_text(yaml)
    return folder


def test_a_history_rows_hash_reads_back_its_rules_after_new_files_are_activated(app, world, tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, folder)
    app.config["PPAFLOW_RULES_DIR"] = str(folder)
    ppa = world.create_ppa()["id"]
    world.fire(ppa, "submit", world.focal)
    history = world.client.get(f"/api/monitoring-entries/{ppa}/history", headers=world.admin.headers).get_json()
    decided_under = history[-1]["rules_hash"]
    before = world.client.get("/api/rules", headers=world.focal.headers).get_json()

    shutil.copy(rules_with_legal_review(tmp_path) / "workflows" / "approval.yaml", folder / "workflows")
    changed_on_disk = world.client.get("/api/rules", headers=world.focal.headers).get_json()
    with app.app_context():
        new_hash = rule_sets.activate(rule_sets.load_directory(folder)).rule_set.hash
    after = world.client.get("/api/rules", headers=world.focal.headers).get_json()
    old = world.client.get(f"/api/rules/{decided_under}", headers=world.focal.headers)

    assert before["active_hash"] == before["hash"] == decided_under and before["disk_differs"] is False
    assert {"source": "draft", "trigger": "submit", "dest": "technical_review", "roles": ["moa_focal"],
            "comment_required": False, "when": None} in before["transitions"]
    assert "program" in {t["name"] for t in before["wbs_templates"]}
    assert changed_on_disk["disk_differs"] is True and changed_on_disk["active_hash"] == decided_under
    assert after["active_hash"] == after["hash"] == new_hash != decided_under and after["disk_differs"] is False
    assert "legal_review" in [s["name"] for s in after["stages"]]
    assert old.status_code == 200
    body = old.get_json()
    assert body["hash"] == decided_under and body["active"] is False and body["active_hash"] == new_hash
    assert "legal_review" not in [s["name"] for s in body["stages"]]
    approval = next(f for f in body["files"] if f["name"] == "workflows/approval.yaml")
    assert approval["content"] == (DEFAULT_RULES_DIR / "workflows" / "approval.yaml").read_text()


def test_an_unknown_hash_is_a_404_problem(world):
    response = world.client.get(f"/api/rules/{'0' * 64}", headers=world.focal.headers)

    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert "no rule set with hash" in response.get_json()["detail"]


def test_the_database_refuses_two_active_rule_sets(app, tmp_path):
    with app.app_context():
        rule_sets.activate(rule_sets.load_directory(rules_with_legal_review(tmp_path)))
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(text("UPDATE rule_sets SET active = true"))
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM rule_sets WHERE active")).scalar() == 1
