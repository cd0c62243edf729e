"""``ppaflow rules activate`` and ``ppaflow rules diff`` against a real
database (issue 14 items 1-3, docs/design.md §13)."""

from __future__ import annotations

from sqlalchemy import select

from db import db
from db.models import StoredRuleSet
from services import rule_sets
from services.runtime import get_runtime, runtimes
from tests.api.test_rule_sets import rules_with_legal_review
from tests.support import cli


def test_activating_a_folder_twice_stores_and_activates_it_once(app, world, tmp_path):
    folder = rules_with_legal_review(tmp_path)
    world.admin  # noqa: B018  (creates the administrator)

    first = cli(app, "rules", "activate", str(folder), "--as", "admin")
    second = cli(app, "rules", "activate", str(folder))

    assert first.exit_code == 0, first.output
    assert "stages +1 -0" in first.output and "+ stage ppa_approval: legal_review" in first.output
    assert "activated rule set" in first.output and "stored now, by admin" in first.output
    assert second.exit_code == 0 and "is already active; nothing changed" in second.output
    with app.app_context():
        folder_hash, loaded_hash = rule_sets.load_directory(folder).hash, runtimes().loaded.rules.hash
        stored = {s.hash: s for s in db.session.scalars(select(StoredRuleSet))}
        assert stored[loaded_hash].active is False and stored[folder_hash].active is True  # stored once each
        assert [s.hash for s in stored.values() if s.active] == [folder_hash]
        assert stored[folder_hash].activated_by_id == world.admin.id
        assert get_runtime().rules.hash == folder_hash  # the running app follows the database at once


def test_diff_from_the_active_set_to_the_folder_lists_a_removed_stage(app, tmp_path):
    cli(app, "rules", "activate", str(rules_with_legal_review(tmp_path)))

    result = cli(app, "rules", "diff")  # the active set -> PPAFLOW_RULES_DIR (the shipped rules)
    unknown = cli(app, "rules", "diff", "abcdef12")

    assert result.exit_code == 0, result.output
    assert "- stage ppa_approval: legal_review" in result.output
    assert "- transition ppa_approval: legal_review --approve--> approved [executive]" in result.output
    assert "stages +0 -1" in result.output
    assert unknown.exit_code == 1 and "no stored rule set has a hash starting abcdef12" in unknown.output
