"""Checks that explain themselves (issue 14 item 4, docs/design.md §6
"Checks"): each kind of mistake gives the rule author one plain sentence
on the line to fix, with a "did you mean" for a misspelt name."""

from __future__ import annotations

import pytest

from rules import DEFAULT_RULES_DIR
from rules.loader import load_rule_files, read_rule_files
from tests.support import shipped_rules
from workflow.errors import RulesError

SHIPPED = read_rule_files(DEFAULT_RULES_DIR)


@pytest.fixture(scope="module")
def registries():
    """What the app passes the loader (effects, jobs, workflows), as ``shipped_rules`` does."""
    shipped_rules()  # imports every service, so every kind of record has registered its workflow
    from jobs.registry import known_jobs
    from services.effects import known_effects
    from services.workflows import required_workflows

    return {"known_effects": known_effects(), "known_jobs": known_jobs(), "required_workflows": required_workflows()}


def errors_with(registries, name: str, old: str, new: str) -> tuple[list[str], int]:
    """The errors of the shipped rules with ``old`` replaced by ``new`` in
    ``name``, and the 1-based line where ``new`` starts."""
    text = SHIPPED[name].decode()
    assert old in text, old
    files = dict(SHIPPED, **{name: text.replace(old, new, 1).encode()})
    with pytest.raises(RulesError) as caught:
        load_rule_files(files, "rules", **registries)
    return caught.value.errors, text[: text.index(old)].count("\n") + 1


REVIEW_LOOP = """  approved:
    label: Approved
  review:
    reviewers: [executive]
  revision:
    reviewers: [moa_focal]
"""
REVIEW_LOOP_EDGES = """  - trigger: reject
    source: [technical_review, mpw_endorsement, bwc_endorsement, budget_review, stakeholder_consultation,
             inter_agency_consultation, bpda_certification, executive_approval]
"""


def test_a_loop_with_no_way_to_a_final_stage_is_refused_naming_its_stages_in_order(registries):
    text = SHIPPED["workflows/approval.yaml"].decode()
    text = text.replace("  approved:\n    label: Approved\n", REVIEW_LOOP, 1).replace(REVIEW_LOOP_EDGES, (
        "  - trigger: send_to_review\n    source: executive_approval\n    dest: review\n"
        "  - trigger: ask_revision\n    source: review\n    dest: revision\n"
        "  - trigger: resubmit_review\n    source: revision\n    dest: review\n" + REVIEW_LOOP_EDGES), 1)
    review_line = text.splitlines().index("  review:") + 1

    with pytest.raises(RulesError) as caught:
        load_rule_files(dict(SHIPPED, **{"workflows/approval.yaml": text.encode()}), "rules", **registries)

    assert caught.value.errors == [
        f"rules/workflows/approval.yaml:{review_line}: review ⇄ revision: no transition leads out to a final stage"]


def test_a_longer_trap_is_named_in_the_order_a_record_goes_round(registries):
    text = SHIPPED["work_item_status.yaml"].decode()
    text = text.replace("source: [not_started, in_progress, at_risk]\n", "source: not_started\n", 1)
    text = text.replace("source: [not_started, in_progress, at_risk, blocked]\n", "source: not_started\n", 1)
    in_progress_line = text.splitlines().index("  in_progress:") + 1

    with pytest.raises(RulesError) as caught:
        load_rule_files(dict(SHIPPED, **{"work_item_status.yaml": text.encode()}), "rules", **registries)

    assert caught.value.errors == [(f"rules/work_item_status.yaml:{in_progress_line}: in_progress → at_risk → "
                                    "blocked → in_progress: no transition leads out to a final status")]


@pytest.mark.parametrize("old, new, shift, sentence", [
    ("timezone: Asia/Manila\n", "timezone: Asia/Manila\n  business_days: true\n", 1,
     "this line is indented more than the one above"),
    ("timezone: Asia/Manila\n", "timezone: Asia/Manila\n\tbusiness_days: true\n", 1,
     "tabs are not allowed; use spaces"),
    ("jobs:\n", "jobs\n", 0, "a colon is missing after 'jobs'"),
    ("timezone: Asia/Manila\n", 'timezone: "Asia/Manila\n', 0, 'the quote " opened on this line is never closed'),
    ("retry_intervals_seconds: [10, 60, 300]", "retry_intervals_seconds: [10, 60, 300", 0,
     "the '[' opened on this line is never closed with ']'"),
    ("timezone: Asia/Manila\n", "timezone: Asia: Manila\n", 0,
     "this line has two ': '; put a value that holds ': ' in quotes"),
    ("    cron: \"0 2 * * *\"", "    cron: \"0 2 * * *\"\n   other: 1", 1,
     "this line is indented less than the one above but lines up with no key before it"),
    ("timezone: Asia/Manila\n", "timezone: ]\n", 0,
     "this is not valid YAML (the parser says: expected the node content, but found ']')"),
])
def test_yaml_mistakes_read_as_plain_sentences_on_the_line_to_fix(registries, old, new, shift, sentence):
    errors, line = errors_with(registries, "schedule.yaml", old, new)

    assert errors == [f"rules/schedule.yaml:{line + shift}: {sentence}"]


@pytest.mark.parametrize("cron, sentence", [
    ("0 25 * * *", "the hour field is 25; hours run 0–23"),
    ("0 2 32 * *", "the day-of-month field is 32; days of the month run 1–31"),
    ("0 2 * * *  *", ("'0 2 * * *  *' has 6 fields; a cron expression has five: minute, hour, day-of-month, "
                      "month, day-of-week")),
])
def test_a_cron_field_out_of_range_is_named(registries, cron, sentence):
    errors, line = errors_with(registries, "schedule.yaml", '    cron: "0 2 * * *"', f'    cron: "{cron}"')

    assert errors == [f"rules/schedule.yaml:{line}: {sentence}"]


@pytest.mark.parametrize("name, old, new, sentence", [
    ("workflows/approval.yaml", "    reviewers: [budget_analyst]", "    reviewers: [budget_analist]",
     "stage budget_review: unknown role 'budget_analist' in reviewers; did you mean 'budget_analyst'?"),
    ("workflows/approval.yaml", "    dest: budget_review\n", "    dest: budget_reveiw\n",
     "transition approve: unknown stage 'budget_reveiw' in dest; did you mean 'budget_review'?"),
    ("workflows/approval.yaml", "    may_not_fire: [approve]", "    may_not_fire: [aprove]",
     "separation_of_duties.may_not_fire: unknown trigger 'aprove'; did you mean 'approve'?"),
    ("wbs_templates.yaml", "  moa_ppa: activity", "  moa_ppa: activty",
     "category_defaults.moa_ppa: unknown template 'activty'; did you mean 'activity'?"),
    ("uacs_object_codes.yaml", '  "502": mooe ', '  "502": moe ',
     "object_code_classes.502: unknown allotment class 'moe' (known: ps, mooe, finex, co); did you mean 'mooe'?"),
    ("schedule.yaml", "  sync_tracked_ppas:", "  sync_traked_ppas:",
     "jobs: unknown job 'sync_traked_ppas' (known: "),
])
def test_a_misspelt_name_gets_a_did_you_mean(registries, name, old, new, sentence):
    errors, line = errors_with(registries, name, old, new)

    assert [e for e in errors if sentence in e] == [e for e in errors if e.startswith(f"rules/{name}:{line}: ")]
    assert any(e.startswith(f"rules/{name}:{line}: {sentence}") for e in errors), errors
