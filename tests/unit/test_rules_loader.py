"""The rules loader: every mistake a rule author can make is reported as
``file:line: message``, all at once, and a broken set never loads (docs/design.md §6)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from rules import DEFAULT_RULES_DIR
from rules.model import PrivacyRules
from tests.support import shipped_rules as load_rules
from web.cli import main
from workflow.errors import RulesError


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    """A copy of the shipped rules to break."""
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
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
    edit(rules_dir, "workflows/approval.yaml", "due_in_days: 10", "due_in_days: 12")

    assert load_rules(rules_dir).hash != before


def test_two_mistakes_are_both_reported_with_their_lines(rules_dir):
    line_a = edit(rules_dir, "workflows/approval.yaml", "    reviewers: [budget_analyst]", "    reviewers: [budget_analist]")
    line_b = edit(rules_dir, "work_item_status.yaml", "    label: At risk", "    label: 12")

    errors = errors_of(rules_dir)

    assert errors == [
        (f"{rules_dir}/workflows/approval.yaml:{line_a}: stage budget_review: unknown role 'budget_analist' in "
         "reviewers; did you mean 'budget_analyst'?"),
        f"{rules_dir}/work_item_status.yaml:{line_b}: at_risk.label: expected a non-empty string, got number 12",
    ]


@pytest.mark.parametrize("name, old, new, expected", [
    ("workflows/approval.yaml", "    label: Budget review\n", "    label: Budget review\n    colour: blue\n",
     "stage budget_review: unknown key 'colour'"),
    ("workflows/approval.yaml", "    dest: budget_review\n", "    dest: budget_reveiw\n",
     "transition approve: unknown stage 'budget_reveiw' in dest"),
    ("workflows/approval.yaml", "    roles: [moa_focal]", "    roles: [moa_focals]", "transition submit: unknown role 'moa_focals'"),
    ("workflows/approval.yaml", "  - trigger: enact\n    source: approved", "  - trigger: enact\n    source: enacted",
     "transition enact: exits 'enacted', which is final"),
    ("workflows/approval.yaml", "    due_in_days: 7", "    due_in_days: a week", "due_in_days: expected a whole number"),
    ("workflows/approval.yaml", "    comment_required: true", "    comment_required: yes please",
     "comment_required: expected true or false"),
    ("workflows/approval.yaml", "  approved:\n    label: Approved\n", "  approved:\n    label: Approved\n  archived:\n    label: Archived\n    final: true\n",
     "stage 'archived' is unreachable from 'draft'"),
    ("workflows/approval.yaml", "workflow: ppa_approval\n", "workflow: ppa_approval\nworkflow: again\n",
     "duplicate key 'workflow'"),
    ("workflows/approval.yaml", "initial_stage: draft", "initial_stage: drafting", "initial stage 'drafting' is not declared"),
    ("work_item_status.yaml", "  - trigger: reopen\n    source: completed\n", "  - trigger: reopen\n    source: cancelled\n",
     "transition reopen: exits 'cancelled', which is final"),
    ("work_item_status.yaml", "statuses:\n", "statuses: [\n", "the '[' opened on this line is never closed with ']'"),
    ("schedule.yaml", '    cron: "0 2 * * *"', '    cron: "0 25 * * *"', "the hour field is 25; hours run 0–23"),
    ("schedule.yaml", "timezone: Asia/Manila", "timezone: Asia/Marawi", "unknown time zone 'Asia/Marawi'"),
    ("schedule.yaml", "  sync_tracked_ppas:", "  sync_everything:", "jobs: unknown job 'sync_everything'"),
    ("wbs_templates.yaml", "      - title: Planning & Design\n        work_type: sub_project\n        budget_pct: 20",
     "      - title: Planning & Design\n        work_type: sub_project\n        budget_pct: 25",
     "budget_pct of this level sums to 105, not 100"),
    ("budget.yaml", "{severity: high}", "{severity: urgent}", "unknown severity 'urgent'"),
    ("budget.yaml", "{measure: disbursement_rate, below: 50,", "{measure: cash_rate, below: 50,",
     "report_remarks.rules[3].measure: unknown measure 'cash_rate'"),
    ("budget.yaml", "{measure: obligation_rate, below: 50,", "{measure: obligation_rate, below: 50, above: 90,",
     "report_remarks.rules[1]: give exactly one of 'below' and 'above'"),
    ("budget.yaml", "  enacted_stages: [enacted]", "  enacted_stages: [enacted, in_force]",
     "report_remarks.enacted_stages: unknown stage 'in_force'"),
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
    edit(rules_dir, "workflows/approval.yaml", "  - trigger: enact\n    source: approved\n    dest: enacted\n    roles: [budget_analyst]\n", "")

    errors = errors_of(rules_dir)

    assert any("stage 'approved' is not final but no transition leaves it" in e for e in errors)
    assert any("stage 'enacted' is unreachable" in e for e in errors)


def test_a_removed_exit_is_named_by_its_two_ends_not_only_by_the_stages_it_cut_off(rules_dir):
    edit(rules_dir, "workflows/approval.yaml", "  - trigger: approve\n    source: executive_approval\n    dest: approved\n", "")

    errors = errors_of(rules_dir)

    assert any("stage 'approved' is unreachable from 'draft': no transition leads to it" in e for e in errors)
    assert any("stage 'enacted' is unreachable from 'draft': only 'approved' leads to it, and stages cut off from "
               "the start are 'approved'" in e for e in errors), errors


def test_a_dead_end_names_the_exit_it_lost(rules_dir):
    edit(rules_dir, "workflows/approval.yaml", "  - trigger: enact\n    source: approved\n    dest: enacted\n    roles: [budget_analyst]\n", "")

    errors = errors_of(rules_dir)

    assert any("its missing exit is likely the transition to 'enacted'" in e for e in errors), errors
    assert any("'enacted' is unreachable from 'draft': no transition leads to it (the transition from 'approved' "
               "to it is missing?)" in e for e in errors), errors


def test_effects_must_be_registered(rules_dir):
    line = edit(rules_dir, "workflows/approval.yaml", "    roles: [moa_focal]", "    roles: [moa_focal]\n    effects: [send_fax]")

    errors = errors_of(rules_dir)

    assert len(errors) == 1
    assert errors[0].startswith(f"{rules_dir}/workflows/approval.yaml:{line + 1}: transition submit: unknown effect 'send_fax' "
                                "(known: activate_execution_project, cancel_execution_project, ")


def test_bytes_that_are_not_utf8_are_a_line_error(rules_dir):
    path = rules_dir / "workflows/approval.yaml"
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
    (rules_dir / "workflows/approval.yaml").write_text("")

    assert any("expected a mapping at the top level" in e for e in errors_of(rules_dir))


def test_rules_check_prints_errors_and_exits_1(rules_dir):
    edit(rules_dir, "workflows/approval.yaml", "    reviewers: [executive]", "    reviewers: [chief]")
    edit(rules_dir, "work_item_status.yaml", "initial_status: not_started", "initial_status: new")

    result = CliRunner().invoke(main, ["rules", "check", str(rules_dir)])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith(f"{rules_dir}/workflows/approval.yaml:") and "unknown role 'chief'" in line for line in lines)
    assert any(line.startswith(f"{rules_dir}/work_item_status.yaml:") and "'new' is not declared" in line
               for line in lines)


def test_rules_check_prints_a_summary_and_the_hash_when_valid(rules_dir):
    result = CliRunner().invoke(main, ["rules", "check", str(rules_dir)])

    assert result.exit_code == 0
    assert f"rule-set hash {load_rules(rules_dir).hash}" in result.output
    assert "12 stages" in result.output


def test_server_refuses_to_start_on_broken_rules(rules_dir, tmp_path):
    edit(rules_dir, "workflows/approval.yaml", "initial_stage: draft", "initial_stage: nowhere")

    result = CliRunner().invoke(main, ["serve"], env={"PPAFLOW_RULES_DIR": str(rules_dir),
                                                      "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})

    assert result.exit_code == 1
    assert "refusing to start" in result.output
    assert "initial stage 'nowhere' is not declared" in result.output


# -- rule-file bombs (issue 10, item 10) -----------------------------------------------------------

def nested_aliases(levels: int = 6, fanout: int = 10) -> str:
    """A template of ``levels`` nested levels of ``fanout`` items written
    with aliases: a few hundred bytes that expand to 1,111,110 work items."""
    def level(n: int) -> str:
        if n == 1:
            return "&l1 {title: L1, work_type: subtask, budget_pct: 10}"
        aliases = f", *l{n - 1}" * (fanout - 1)
        return f"&l{n} {{title: L{n}, work_type: sub_project, budget_pct: 10, children: [{level(n - 1)}{aliases}]}}"
    return f"  bomb:\n    children: [{level(levels)}{f', *l{levels}' * (fanout - 1)}]\n"


def add_template(rules_dir: Path, text: str) -> int:
    """Append a template to wbs_templates.yaml (sub-projects may nest); return its first line."""
    edit(rules_dir, "wbs_templates.yaml", "  sub_project: [activity, task, subtask]",
         "  sub_project: [sub_project, activity, task, subtask]")
    path = rules_dir / "wbs_templates.yaml"
    before = path.read_text()
    path.write_text(before + text)
    return before.count("\n") + 1


def test_a_template_bomb_of_nested_aliases_is_refused_at_its_line(rules_dir):
    line = add_template(rules_dir, nested_aliases())
    assert len(nested_aliases()) < 4700  # the size of the file that took 52 s and 720 MB

    errors = errors_of(rules_dir)

    assert (f"{rules_dir}/wbs_templates.yaml:{line + 1}: anchor &l6: rule files may not use YAML anchors and "
            "aliases; write the value out") in errors
    assert (f"{rules_dir}/wbs_templates.yaml:{line + 1}: alias *l1: rule files may not use YAML aliases; "
            "write the value out") in errors
    assert len(errors) == 6 + 6 * 9  # every anchor and every alias, nothing else


@pytest.mark.parametrize("name, old, new", [
    ("budget.yaml", "variance:\n", "variance: &v\n"),
    ("schedule.yaml", "timezone: Asia/Manila", "timezone: &tz Asia/Manila\nholidays_country: *tz"),
    ("workflows/approval.yaml", "    label: Budget review\n", "    label: &l Budget review\n    <<: {label: *l}\n"),
])
def test_anchors_aliases_and_merge_keys_are_refused_in_every_file(rules_dir, name, old, new):
    line = edit(rules_dir, name, old, new)

    errors = errors_of(rules_dir)

    assert errors and all(e.startswith(f"{rules_dir}/{name}:") and "may not use YAML" in e for e in errors)
    assert all(line <= int(e.split(":")[1]) <= line + new.count("\n") for e in errors)


def test_a_template_deeper_than_max_depth_is_refused_at_its_line(rules_dir):
    nested = "    children:\n"
    for depth in range(1, 6):
        indent = "  " * (2 + 2 * depth)
        nested += f"{indent[:-2]}- title: Level {depth}\n{indent}work_type: sub_project\n{indent}budget_pct: 100\n"
        if depth < 5:
            nested += f"{indent}children:\n"
    first = add_template(rules_dir, "  deep:\n" + nested)

    errors = errors_of(rules_dir)

    assert errors == [f"{rules_dir}/wbs_templates.yaml:{first + 2 + 4 * 4}: template deep > Level 1 > Level 2 > "
                      "Level 3 > Level 4: nested 5 levels below the project; templates may have at most 4 "
                      "(limits.max_depth)"]


def test_a_template_with_more_items_than_max_items_is_refused_at_its_line(rules_dir):
    items = "".join(f"      - {{title: Item {n}, work_type: task, budget_pct: 0.5}}\n" for n in range(201))
    first = add_template(rules_dir, "  huge:\n    children:\n" + items)

    errors = errors_of(rules_dir)

    assert errors == [f"{rules_dir}/wbs_templates.yaml:{first + 2}: template huge: the template has more than 200 "
                      "work items (limits.max_items)"]


def test_template_limits_are_read_from_the_yaml_within_their_ceilings(rules_dir):
    line = edit(rules_dir, "wbs_templates.yaml", "  max_items: 200", "  max_items: 10")
    lowered = errors_of(rules_dir)
    edit(rules_dir, "wbs_templates.yaml", "  max_items: 10", "  max_items: 5001")
    raised = errors_of(rules_dir)

    assert any("template program > Monitoring & Evaluation: the template has more than 10 work items" in e
               for e in lowered)
    assert raised == [f"{rules_dir}/wbs_templates.yaml:{line}: limits.max_items: 5001 is out of range "
                      "(must be between 1 and 5000)"]


def test_without_limits_the_documented_defaults_apply(rules_dir):
    from rules.model import TemplateLimits

    path = rules_dir / "wbs_templates.yaml"
    path.write_text(re.sub(r"\nlimits:\n(  .*\n)+", "\n", path.read_text()))

    assert load_rules(rules_dir).wbs.limits == TemplateLimits() == TemplateLimits(max_depth=4, max_items=200)


def test_goals_yaml_names_its_mistakes_by_line_a_progress_method_a_stage_and_a_public_field(rules_dir):
    method = edit(rules_dir, "goals.yaml", "progress: budget_weighted", "progress: by_headcount")
    stage = edit(rules_dir, "goals.yaml", "stages: [enacted]", "stages: [enactd]")
    field = edit(rules_dir, "goals.yaml", "fields: [title,", "fields: [preparer_email,")

    errors = errors_of(rules_dir)

    assert any(f"goals.yaml:{method}:" in e and "by_headcount" in e for e in errors)
    assert any(f"goals.yaml:{stage}:" in e and "enactd" in e for e in errors)
    assert any(f"goals.yaml:{field}:" in e and "preparer_email" in e for e in errors)


def test_a_rule_set_stored_before_goals_and_the_later_alert_types_still_loads_with_their_defaults(rules_dir):
    """PPAs stay pinned to the set they were submitted under (docs/design.md §13):
    one stored before goals.yaml and the earned value alerts existed must load."""
    (rules_dir / "goals.yaml").unlink()
    for line in ("  workitem_schedule_performance: {severity: medium}", "  workitem_cost_performance: {severity: high}",
                 "  workitem_critical_slip: {severity: high}"):
        edit(rules_dir, "budget.yaml", line, "")

    rules = load_rules(rules_dir)

    assert rules.goals.progress == "budget_weighted" and rules.goals.public_stages == ("enacted",)
    assert rules.budget.alert_severities["workitem_critical_slip"] == "high"
    assert rules.budget.alert_severities["approval_overdue"] == "medium"


def test_needs_yaml_names_a_retention_out_of_range_by_line_and_without_privacy_the_defaults_apply(rules_dir):
    assert load_rules(rules_dir).needs.privacy.retention_years == 5
    line = edit(rules_dir, "needs.yaml", "retention_years: 5", "retention_years: 0")

    assert any(f"needs.yaml:{line}:" in e and "retention_years" in e for e in errors_of(rules_dir))

    path = rules_dir / "needs.yaml"
    path.write_text(re.sub(r"\nprivacy:\n(  .*\n)+", "\n", path.read_text()))
    assert load_rules(rules_dir).needs.privacy == PrivacyRules()


def test_goals_yaml_coordination_must_name_a_primary_and_a_lead_time_of_at_most_90_days(rules_dir):
    edit(rules_dir, "goals.yaml", "    primary: Primary focal person", "    principal: Principal")
    days = edit(rules_dir, "goals.yaml", "report_lead_days: 7", "report_lead_days: 365")

    errors = errors_of(rules_dir)

    assert any("goals.yaml:" in e and "must name primary" in e for e in errors), errors
    assert any(f"goals.yaml:{days}:" in e and "365" in e for e in errors)


def test_goals_yaml_without_coordination_keeps_the_three_focal_person_kinds_and_seven_days(rules_dir):
    path = rules_dir / "goals.yaml"
    path.write_text(path.read_text().split("\ncoordination:")[0] + "\n")

    goals = load_rules(rules_dir).goals

    assert (list(goals.focal_person_kinds), goals.report_lead_days) == (["primary", "alternate", "technical"], 7)


def test_vote_milestones_must_be_counts_listed_once_smallest_first(rules_dir):
    line = edit(rules_dir, "needs.yaml", "vote_milestones: [10, 50, 100, 500]", "vote_milestones: [50, 10, 0]")

    errors = errors_of(rules_dir)

    assert any(f"needs.yaml:{line}:" in e and "vote_milestones" in e for e in errors), errors


def test_a_transition_without_a_trigger_is_a_line_error_not_a_crash(rules_dir):
    line = edit(rules_dir, "workflows/budget_proposal.yaml", "  - trigger: submit\n    source: draft",
                "  - source: draft")

    errors = errors_of(rules_dir)

    assert any(f"budget_proposal.yaml:{line}:" in e and "missing required key 'trigger'" in e for e in errors), errors
