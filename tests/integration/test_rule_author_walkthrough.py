"""The README's rules section, done as a rule author does it (issue 14,
"Done when"): a copy of the shipped rules gains a stage, a WBS template, a
conditional route and an n-of-m sign-off; the author checks, draws and
activates it with PPAs in flight, previews the template, and nothing
strands: the submitted PPA finishes its old route, the draft takes the new
one (docs/design.md §6, §13)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rules import DEFAULT_RULES_DIR
from tests.conftest import ONE_BACKEND, one_backend_app
from tests.support import cli

CLIMATE_STAGE = """  climate_review:
    label: Climate change review
    reviewers: [planning_officer]
    due_in_days: 10
    sign_off:
      required: 2
      of: [MPW, MILG]
"""

CLIMATE_ROUTE = """  - trigger: approve
    source: budget_review
    dest: climate_review
    when: {sector: {eq: environment}}
    effects: [lock_budget_allocations]

  - trigger: approve
    source: climate_review
    dest: stakeholder_consultation

"""

CLIMATE_TEMPLATE = """  climate_adaptation:
    label: Climate adaptation (assessment, works, monitoring)
    children:
      - {title: Vulnerability Assessment, work_type: activity, budget_pct: 20, duration_pct: 25}
      - {title: Adaptation Works, work_type: activity, budget_pct: 70, duration_pct: 60}
      - {title: Monitoring, work_type: activity, budget_pct: 10, duration_pct: 15}
"""


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    """The walk depends on no database feature: one backend."""
    yield from one_backend_app(request, tmp_path)


def edited_rules(tmp_path: Path) -> Path:
    """``cp -r rules/default rules/ours`` and the README's four edits."""
    folder = tmp_path / "ours"
    shutil.copytree(DEFAULT_RULES_DIR, folder)
    approval = folder / "workflows" / "approval.yaml"
    text = approval.read_text()
    ordinary = "  - trigger: approve\n    source: budget_review\n    dest: stakeholder_consultation\n"
    for old, new in [("  stakeholder_consultation:\n", CLIMATE_STAGE + "  stakeholder_consultation:\n"),
                     (ordinary, CLIMATE_ROUTE + ordinary),  # a conditional route goes before the ordinary one
                     ("budget_review, stakeholder_consultation,", "budget_review, climate_review, stakeholder_consultation,")]:
        assert old in text, old
        text = text.replace(old, new)
    approval.write_text(text)
    templates = folder / "wbs_templates.yaml"
    templates.write_text(templates.read_text().replace("templates:\n", "templates:\n" + CLIMATE_TEMPLATE, 1))
    return folder


def test_a_rule_author_adds_a_stage_a_template_a_route_and_a_sign_off_and_nothing_in_flight_strands(app, world,
                                                                                                       tmp_path):
    folder = edited_rules(tmp_path)
    in_review = world.create_ppa(sector="environment")["id"]
    world.advance(in_review, "budget_review")  # submitted under the shipped rules: pinned to them
    draft = world.create_ppa(sector="environment")["id"]
    milg_planner = world.person("milg.planner", "planning_officer", org="MILG")

    checked = cli(app, "rules", "check", str(folder))
    drawn = cli(app, "rules", "diagram", str(folder))
    activated = cli(app, "rules", "activate", str(folder), "--as", "admin")
    preview = world.client.get("/api/wbs-templates/climate_adaptation/preview?budget=1000000.00"
                               "&start_date=2026-01-05&end_date=2026-12-18", headers=world.focal.headers)
    old_route = world.fire(in_review, "approve", world.budget_analyst)
    world.advance(draft, "budget_review")
    new_route = world.fire(draft, "approve", world.budget_analyst)
    first_sign_off = world.fire(draft, "approve", world.mpw_planner)
    second_sign_off = world.fire(draft, "approve", milg_planner)

    assert checked.exit_code == 0, checked.output
    assert drawn.exit_code == 0 and "budget_review --> climate_review" in drawn.output
    assert "[when sector = environment]" in drawn.output and "sign-off#58; 2 of MPW, MILG" in drawn.output
    assert activated.exit_code == 0, activated.output
    assert "+ stage ppa_approval: climate_review" in activated.output and "climate_adaptation" in activated.output
    assert preview.status_code == 200, preview.get_json()
    assert old_route.status_code == 200 and old_route.get_json()["approval_status"] == "stakeholder_consultation"
    assert new_route.status_code == 200 and new_route.get_json()["approval_status"] == "climate_review"
    assert first_sign_off.get_json()["approval_status"] == "climate_review"  # one of two: it waits
    assert second_sign_off.get_json()["approval_status"] == "stakeholder_consultation"
    assert old_route.get_json()["rules_hash"] != second_sign_off.get_json()["rules_hash"]
