"""The rules loader: every mistake a rule author can make is reported as
``file:line: message``, all at once, and a broken set never loads (docs/design.md §6)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from rules import DEFAULT_RULES_DIR
from tests.support import shipped_rules as load_rules
from web.cli import main
from workflow.errors import RulesError


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    """A copy of the shipped rules to break."""
    target = tmp_path / "rules"
    target.mkdir()
    for path in DEFAULT_RULES_DIR.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def edit(rules_dir: Path, name: str, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` in a rule file; return the 1-based line of the change."""
    path = rules_dir / name
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return text[: text.index(old)].count("\n") + 1


def errors_of(rules_dir: Path) -> list[str]:
    with pytest.raises(RulesError) as caught:
        load_rules(rules_dir)
    return caught.value.errors


def test_shipped_rules_load_with_a_stable_hash():
    first, second = load_rules(), load_rules()

    assert first.hash == second.hash
    assert len(first.hash) == 64
    assert first.approval.machine.initial == "draft"


def test_hash_changes_when_a_rule_file_changes(rules_dir):
    before = load_rules(rules_dir).hash
    edit(rules_dir, "approval.yaml", "due_in_days: 10", "due_in_days: 12")

    assert load_rules(rules_dir).hash != before


def test_two_mistakes_are_both_reported_with_their_lines(rules_dir):
    line_a = edit(rules_dir, "approval.yaml", "    reviewers: [budget_analyst]", "    reviewers: [budget_analist]")
    line_b = edit(rules_dir, "work_item_status.yaml", "    label: At risk", "    label: 12")

    errors = errors_of(rules_dir)

    assert errors == [
        f"{rules_dir}/approval.yaml:{line_a}: stage budget_review: unknown role 'budget_analist' in reviewers",
        f"{rules_dir}/work_item_status.yaml:{line_b}: at_risk.label: expected a non-empty string, got number 12",
    ]


@pytest.mark.parametrize("name, old, new, expected", [
    ("approval.yaml", "    label: Budget review\n", "    label: Budget review\n    colour: blue\n",
     "stage budget_review: unknown key 'colour'"),
    ("approval.yaml", "    dest: budget_review\n", "    dest: budget_reveiw\n",
     "transition approve: unknown stage 'budget_reveiw' in dest"),
    ("approval.yaml", "    roles: [moa_focal]", "    roles: [moa_focals]", "transition submit: unknown role 'moa_focals'"),
    ("approval.yaml", "  - trigger: enact\n    source: approved", "  - trigger: enact\n    source: enacted",
     "transition enact: exits 'enacted', which is final"),
    ("approval.yaml", "    due_in_days: 7", "    due_in_days: a week", "due_in_days: expected a whole number"),
    ("approval.yaml", "    comment_required: true", "    comment_required: yes please",
     "comment_required: expected true or false"),
    ("approval.yaml", "  approved:\n    label: Approved\n", "  approved:\n    label: Approved\n  archived:\n    label: Archived\n    final: true\n",
     "stage 'archived' is unreachable from 'draft'"),
    ("approval.yaml", "workflow: ppa_approval\n", "workflow: ppa_approval\nworkflow: again\n",
     "duplicate key 'workflow'"),
    ("approval.yaml", "initial_stage: draft", "initial_stage: drafting", "initial stage 'drafting' is not declared"),
    ("work_item_status.yaml", "  - trigger: reopen\n    source: completed\n", "  - trigger: reopen\n    source: cancelled\n",
     "transition reopen: exits 'cancelled', which is final"),
    ("work_item_status.yaml", "statuses:\n", "statuses: [\n", "YAML syntax error"),
    ("schedule.yaml", '    cron: "0 2 * * *"', '    cron: "0 25 * * *"', "is not a five-field cron expression"),
    ("schedule.yaml", "timezone: Asia/Manila", "timezone: Asia/Marawi", "unknown time zone 'Asia/Marawi'"),
    ("schedule.yaml", "  sync_tracked_ppas:", "  sync_everything:", "jobs: unknown job 'sync_everything'"),
    ("wbs_templates.yaml", "      - title: Planning & Design\n        work_type: sub_project\n        budget_pct: 20",
     "      - title: Planning & Design\n        work_type: sub_project\n        budget_pct: 25",
     "budget_pct of this level sums to 105, not 100"),
    ("budget.yaml", "{severity: high}", "{severity: urgent}", "unknown severity 'urgent'"),
])
def test_each_kind_of_mistake_names_file_and_line(rules_dir, name, old, new, expected):
    line = edit(rules_dir, name, old, new)

    errors = errors_of(rules_dir)

    matching = [e for e in errors if expected in e]
    assert matching, errors
    reported_line = int(matching[0].split(":")[1])
    assert matching[0].startswith(f"{rules_dir}/{name}:")
    assert line <= reported_line <= line + new.count("\n") + 1


def test_a_stage_nobody_leaves_is_a_dead_end(rules_dir):
    edit(rules_dir, "approval.yaml", "  - trigger: enact\n    source: approved\n    dest: enacted\n    roles: [budget_analyst]\n", "")

    errors = errors_of(rules_dir)

    assert any("stage 'approved' is not final but no transition leaves it" in e for e in errors)
    assert any("stage 'enacted' is unreachable" in e for e in errors)


def test_effects_must_be_registered(rules_dir):
    line = edit(rules_dir, "approval.yaml", "    roles: [moa_focal]", "    roles: [moa_focal]\n    effects: [send_fax]")

    errors = errors_of(rules_dir)

    assert len(errors) == 1
    assert errors[0].startswith(f"{rules_dir}/approval.yaml:{line + 1}: transition submit: unknown effect 'send_fax' "
                                "(known: activate_execution_project, cancel_execution_project, ")


def test_bytes_that_are_not_utf8_are_a_line_error(rules_dir):
    path = rules_dir / "approval.yaml"
    path.write_bytes(path.read_bytes().replace(b"label: Draft", b"label: Dr\xe1ft"))

    errors = errors_of(rules_dir)

    assert len(errors) == 1
    assert "approval.yaml:" in errors[0] and "not valid UTF-8" in errors[0]


def test_missing_and_unknown_files_are_reported(rules_dir):
    (rules_dir / "work_item_status.yaml").unlink()
    (rules_dir / "aproval.yaml").write_text("x: 1\n")

    errors = errors_of(rules_dir)

    assert f"{rules_dir}/work_item_status.yaml:1: rules file is missing" in errors
    assert any(e.startswith(f"{rules_dir}/aproval.yaml:1: unknown rules file") for e in errors)


def test_empty_file_is_an_error_not_a_crash(rules_dir):
    (rules_dir / "approval.yaml").write_text("")

    assert any("expected a mapping at the top level" in e for e in errors_of(rules_dir))


def test_rules_check_prints_errors_and_exits_1(rules_dir):
    edit(rules_dir, "approval.yaml", "    reviewers: [executive]", "    reviewers: [chief]")
    edit(rules_dir, "work_item_status.yaml", "initial_status: not_started", "initial_status: new")

    result = CliRunner().invoke(main, ["rules", "check", str(rules_dir)])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith(f"{rules_dir}/approval.yaml:") and "unknown role 'chief'" in line for line in lines)
    assert any(line.startswith(f"{rules_dir}/work_item_status.yaml:") and "'new' is not declared" in line
               for line in lines)


def test_rules_check_prints_a_summary_and_the_hash_when_valid(rules_dir):
    result = CliRunner().invoke(main, ["rules", "check", str(rules_dir)])

    assert result.exit_code == 0
    assert f"rule-set hash {load_rules(rules_dir).hash}" in result.output
    assert "8 stages" in result.output


def test_server_refuses_to_start_on_broken_rules(rules_dir, tmp_path):
    edit(rules_dir, "approval.yaml", "initial_stage: draft", "initial_stage: nowhere")

    result = CliRunner().invoke(main, ["serve"], env={"PPAFLOW_RULES_DIR": str(rules_dir),
                                                      "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})

    assert result.exit_code == 1
    assert "refusing to start" in result.output
    assert "initial stage 'nowhere' is not declared" in result.output
