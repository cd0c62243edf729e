"""``/rules``: the rules in force as a person reads them (issue 14 item 5;
docs/design.md §11): each workflow's state diagram (the approval, budget
proposal, ORS, DV and work item status machines, drawn by
``rules/diagrams.py`` and the vendored mermaid) with its stages and
transitions also as a table, the diagram's text alternative. Open to every
signed-in user, as ``GET /api/rules`` is."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template

from rules import diagrams
from rules.model import MachineRules
from services.runtime import get_runtime

bp = Blueprint("rules", __name__)


@dataclass(frozen=True)
class WorkflowDiagram:
    """One machine of the rule set on the page: its name, its heading
    (``PPA workflow``, ``ORS workflow``..., ``Work item status``), the
    machine itself, and its mermaid source."""

    name: str
    title: str
    machine: MachineRules
    mermaid: str


@bp.route("/rules")
def rules_page():
    """Every workflow of the rule set in force, diagram and table."""
    rules = get_runtime().rules
    workflows = [WorkflowDiagram(name, _title(rules, name), machine, diagrams.mermaid(rules, name))
                 for name, machine in diagrams.machines(rules).items()]
    return render_template("rules/index.html", rules_hash=rules.hash, workflows=workflows)


def _title(rules, name: str) -> str:
    if name not in rules.workflows:
        return "Work item status"
    record = rules.workflows[name].record
    return f"{record[0].upper()}{record[1:]} workflow"
