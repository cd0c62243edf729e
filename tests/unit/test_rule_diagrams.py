"""Diagrams from the same YAML (issue 14 item 5; docs/design.md §6 "Diagrams"):
the mermaid state diagram names every transition with its roles and every
final stage; the BPMN of the approval loads in SpiffWorkflow (validated
against the BPMN 2.0 schema) and runs the same paths as the state machine."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from rules import DEFAULT_RULES_DIR
from rules.diagrams import bpmn, machines, mermaid, render
from rules.model import PPA_WORKFLOW
from tests.support import shipped_rules
from web.cli import main
from workflow.errors import ValidationFailed
from workflow.machine import SharedMachine


@pytest.fixture(scope="module")
def rules():
    return shipped_rules()


def test_the_mermaid_diagram_of_each_machine_has_every_transition_with_its_roles_and_its_final_stages(rules):
    assert set(machines(rules)) == {*rules.workflows, "work_item_status"}
    for name, machine in machines(rules).items():
        lines = mermaid(rules, name).splitlines()

        assert lines[0] == "stateDiagram-v2"
        assert f"    [*] --> {machine.initial}" in lines
        for t in machine.transitions:
            roles = f" [{', '.join(t.roles)}]" if t.roles else ""
            guard = f" [when {t.when.describe()}]" if t.when is not None else ""
            assert f"    {t.source} --> {t.dest} : {t.trigger}{roles}{guard}" in lines, (name, t)
        assert {line.split()[0] for line in lines if line.endswith("--> [*]")} == {
            s.name for s in machine.states.values() if s.final}
        assert len([line for line in lines if " : " in line and " note " not in line]) == len(machine.transitions)

    approval = mermaid(rules).splitlines()
    assert "    technical_review --> budget_review : approve [technical_reviewer]" in approval
    assert "    enacted --> [*]" in approval and "    rejected --> [*]" in approval
    assert '    state "Technical review" as technical_review' in approval
    assert ("    stakeholder_consultation --> inter_agency_consultation : approve [planning_officer] "
            "[when budget_allocation > 50000000.00]") in approval
    assert "    note right of inter_agency_consultation : sign-off#58; 2 of BPDA, MPW, MFBM, MILG" in approval  # ":" ends a note
    assert any(line.startswith("    note right of bwc_endorsement : escalates after 15 business days")
               for line in approval)


def test_a_label_an_author_wrote_cannot_break_out_of_its_mermaid_string(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, folder)
    path = folder / "workflows/approval.yaml"
    path.write_text(path.read_text().replace("label: Technical review", "label: 'Review \"A\"; #1'"))

    text = mermaid(shipped_rules(folder))

    assert '    state "Review #quot;A#quot;#59; #35;1" as technical_review' in text


def spiff_workflow(xml: str, process: str) -> BpmnWorkflow:
    parser = BpmnParser(validator=BpmnValidator())  # the BPMN 2.0 XSD, then SpiffWorkflow's own parse
    parser.add_bpmn_str(xml.encode(), filename=f"{process}.bpmn")
    return BpmnWorkflow(parser.get_spec(process))


#: An ordinary PPA's fields, as the BPMN's conditional routes read them (process variables).
ORDINARY = {"sector": "social", "funding_source": "GAAB 2026", "budget_allocation": 1_000_000.0}


def run_in_spiff(xml: str, process: str, decisions: list[str],
                 facts: dict | None = None) -> tuple[list[tuple[str, str]], str]:
    """Complete each ready user task with the next decision, the record's
    fields ``facts`` set as process variables; returns the (task id, lane)
    of each task run and the id of the end event reached."""
    workflow, seen, pending = spiff_workflow(xml, process), [], list(decisions)
    while True:
        workflow.do_engine_steps()
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        assert len(ready) == 1, ready
        task = ready[0]
        seen.append((task.task_spec.bpmn_id, task.task_spec.lane))
        task.data.update(ORDINARY if facts is None else facts)
        task.data["decision"] = pending.pop(0)
        task.run()
    assert workflow.is_completed() and not pending
    [end] = [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
             if isinstance(t.task_spec, EndEvent)]
    return seen, end


BIG_ROAD = {"sector": "infrastructure", "funding_source": "GAAB 2026", "budget_allocation": 75_000_000.0}

PATHS = {
    "approved and enacted": (ORDINARY, ["submit", "approve", "approve", "approve", "approve", "enact"]),
    "returned, resubmitted, enacted": (ORDINARY, ["submit", "approve", "return_for_revision", "submit", "approve",
                                                  "approve", "approve", "approve", "enact"]),
    "a big road through MPW, the consultation and BPDA": (BIG_ROAD, [
        "submit", "approve", "approve", "approve", "approve", "approve", "approve", "approve", "enact"]),
    "rejected": (ORDINARY, ["submit", "approve", "approve", "reject"]),
}


def test_the_bpmn_runs_each_path_of_the_approval_through_the_same_stages_as_the_state_machine(rules):
    xml = bpmn(rules)
    machine = SharedMachine(rules.approval.machine, noun="stage")
    for path, (facts, triggers) in PATHS.items():
        stages, lanes, stage = [machine.rules.initial], [], machine.rules.initial
        for trigger in triggers:
            stage, transition = machine.fire(stage, trigger, facts)
            stages.append(stage)
            lanes.append(" or ".join(transition.roles))

        tasks, end = run_in_spiff(xml, PPA_WORKFLOW, triggers, facts)

        assert [task for task, _ in tasks] == [f"Task_{s}" for s in stages[:-1]], path
        assert end == f"End_{stages[-1]}", path
        assert [lane for _, lane in tasks] == lanes, path  # each task sits in the lane of the role that fires
    assert stages[-1] == "rejected" and rules.approval.machine.states["rejected"].final


def test_a_decision_the_stage_does_not_offer_stops_the_bpmn_process_at_its_gateway(rules):
    with pytest.raises(WorkflowException, match="No conditions satisfied for Gateway_technical_review"):
        run_in_spiff(bpmn(rules), PPA_WORKFLOW, ["submit", "enact"])


def test_every_workflow_with_people_loads_in_spiffworkflow_with_a_task_per_stage_and_an_end_per_final_stage(rules):
    for name, workflow in rules.workflows.items():
        spec = spiff_workflow(bpmn(rules, name), name).spec
        ids = {task.bpmn_id for task in spec.task_specs.values()}
        assert {f"Task_{s.name}" for s in workflow.machine.states.values() if not s.final} <= ids, name
        assert {f"End_{s.name}" for s in workflow.machine.states.values() if s.final} <= ids, name


def test_an_unknown_format_or_workflow_is_refused_naming_the_field(rules):
    for fmt, workflow, field in [("svg", None, "format"), ("mermaid", "nope", "workflow"),
                                 ("bpmn", "work_item_status", "workflow")]:
        with pytest.raises(ValidationFailed) as refused:
            render(rules, fmt, workflow)
        assert list(refused.value.errors) == [field]
    assert render(rules, "mermaid", "work_item_status")[0].startswith("stateDiagram-v2")


def test_rules_diagram_prints_the_diagram_of_a_folder_and_exits_1_for_an_unknown_workflow(rules):
    runner = CliRunner()
    folder = str(DEFAULT_RULES_DIR)

    drawn = runner.invoke(main, ["rules", "diagram", "--format", "bpmn", folder])
    states = runner.invoke(main, ["rules", "diagram", "--workflow", "dv", folder])
    unknown = runner.invoke(main, ["rules", "diagram", "--workflow", "nope", folder])

    assert drawn.exit_code == 0 and drawn.output == bpmn(rules)
    assert states.exit_code == 0 and states.output == mermaid(rules, "dv")
    assert unknown.exit_code == 1 and "no workflow 'nope'" in unknown.output
