"""A diagram that shows where a record is (issue 14 item 5; docs/design.md §11):
the mermaid diagram highlights the stage now and the stages passed through."""

from __future__ import annotations

from rules.diagrams import CURRENT_CLASS, PATH_CLASS, mermaid
from rules.model import PPA_WORKFLOW
from tests.support import shipped_rules


def test_the_stage_now_and_the_stages_passed_are_highlighted_each_once_and_the_rest_are_not():
    rules = shipped_rules()
    path = ["draft", "technical_review", "draft", "technical_review", "budget_review"]

    lines = mermaid(rules, PPA_WORKFLOW, current="budget_review", path=path).splitlines()

    assert f"    class draft,technical_review {PATH_CLASS}" in lines
    assert f"    class budget_review {CURRENT_CLASS}" in lines
    assert [line.split()[1] for line in lines if line.lstrip().startswith("classDef")] == [CURRENT_CLASS, PATH_CLASS]
    assert len([line for line in lines if line.lstrip().startswith("class ")]) == 2


def test_without_a_stage_or_path_the_diagram_is_the_plain_one_and_unknown_stages_are_left_out():
    rules = shipped_rules()
    plain = mermaid(rules, PPA_WORKFLOW)

    assert "classDef" not in plain
    assert mermaid(rules, PPA_WORKFLOW, current="gone", path=["also_gone"]) == plain
    assert mermaid(rules, PPA_WORKFLOW, current="draft", path=["gone", "draft"]).splitlines()[-1] == (
        f"    class draft {CURRENT_CLASS}")
