"""Diagrams drawn from a rule set (docs/design.md §6, "Diagrams"; issue 14 item 5).

Pure: a ``RuleSet`` in, text out; no Flask, no database. Two forms:

- ``mermaid``: a mermaid ``stateDiagram-v2`` of any machine of the set (every
  workflow of ``workflows/`` and the work item statuses): one edge per
  transition labelled ``trigger [role, role]``, the initial stage entered from
  ``[*]`` and every final stage marked ``--> [*]``.
- ``bpmn``: BPMN 2.0 XML of a workflow with people on its edges (the PPA
  approval by default): one process with a lane per role, a ``userTask`` per
  stage in which someone acts (every non-final stage), an ``exclusiveGateway``
  after each task whose outgoing flows are its triggers, each with the
  condition ``decision == "<trigger>"``, a start event into the initial stage
  and an end event per final stage; with diagram interchange (bpmndi) so a
  modeler lays it out. A BPMN engine runs it by completing each user task with
  the process variable ``decision`` set to the trigger the reviewer fires.

Both are drawn from the same objects the state machines are built from, so a
diagram cannot disagree with the rules that decide.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from rules.model import PPA_WORKFLOW, MachineRules, RuleSet, Transition, WorkflowRules
from workflow.errors import ValidationFailed

#: The diagram formats, and the media type each is served as.
FORMATS: Mapping[str, str] = {"mermaid": "text/plain; charset=utf-8", "bpmn": "application/xml"}

#: The name of the work item status machine among the diagrams' workflows.
WORK_ITEM_STATUS = "work_item_status"

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
for _prefix, _uri in (("bpmn", BPMN), ("bpmndi", BPMNDI), ("dc", DC), ("di", DI), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)


def machines(rules: RuleSet) -> dict[str, MachineRules]:
    """Every machine a diagram can be drawn of: workflow name -> its machine
    (the workflows of ``workflows/`` in load order, then ``work_item_status``)."""
    out = {name: workflow.machine for name, workflow in rules.workflows.items()}
    out[WORK_ITEM_STATUS] = rules.work_item_status
    return out


def render(rules: RuleSet, fmt: str, workflow: str | None = None) -> tuple[str, str]:
    """The diagram of ``workflow`` (default ``ppa_approval``) in ``fmt``.

    Args:
        rules: the rule set to draw.
        fmt: ``mermaid`` or ``bpmn`` (``FORMATS``).
        workflow: a name of ``machines(rules)``; BPMN only for workflows with
            people on their edges (not ``work_item_status``).

    Returns:
        ``(text, media type)``.

    Raises:
        ValidationFailed: unknown format or workflow, or BPMN asked of the
            work item statuses (``errors`` keyed ``format`` / ``workflow``).
    """
    if fmt not in FORMATS:
        raise ValidationFailed({"format": [f"must be one of: {', '.join(FORMATS)} (got {fmt!r})"]})
    name = workflow or PPA_WORKFLOW
    known = machines(rules)
    if name not in known:
        raise ValidationFailed({"workflow": [f"no workflow {name!r} in this rule set; known: {', '.join(known)}"]})
    if fmt == "mermaid":
        return mermaid(rules, name), FORMATS[fmt]
    if name not in rules.workflows:
        message = f"BPMN is drawn only of workflows with people on their edges ({', '.join(rules.workflows)})"
        raise ValidationFailed({"workflow": [f"{message}, not {name!r}"]})
    return bpmn(rules, name), FORMATS[fmt]


# --- mermaid -------------------------------------------------------------------------------------


def edge_label(transition: Transition) -> str:
    """``trigger [role, role]``, or the bare trigger when no role is named
    (work item statuses); a conditional route adds its guard:
    ``approve [technical_reviewer] [when sector = infrastructure]``."""
    roles = f" [{', '.join(transition.roles)}]" if transition.roles else ""
    guard = f" [when {transition.when.describe()}]" if transition.when is not None else ""
    return f"{transition.trigger}{roles}{guard}"


def stage_notes(state) -> list[str]:
    """What a stage adds in words: ``sign-off: 2 of BPDA, MPW, MFBM, MILG``,
    ``escalates after 15 business days to ...``."""
    notes = []
    if getattr(state, "sign_off", None) is not None:
        notes.append(f"sign-off: {state.sign_off.required} of {', '.join(state.sign_off.of)}")
    if getattr(state, "escalate", None) is not None:
        rule = state.escalate
        then = f", then {rule.then}" if rule.then else ""
        notes.append(f"escalates after {rule.after_business_days} business days to {', '.join(rule.notify)}{then}")
    return notes


_MERMAID_ENTITIES = str.maketrans({"#": "#35;", '"': "#quot;", ";": "#59;", ":": "#58;"})


def _mermaid_text(text: str) -> str:
    """Author text made inert inside a quoted mermaid string (entity codes)."""
    return " ".join(text.split()).translate(_MERMAID_ENTITIES)


#: The mermaid classes of a highlighted diagram: the record's stage now, and
#: the stages it passed through before (``mermaid(..., current=, path=)``).
CURRENT_CLASS, PATH_CLASS = "current_stage", "path_taken"
HIGHLIGHT_STYLES: Mapping[str, str] = {
    CURRENT_CLASS: "fill:#fde68a,stroke:#92400e,stroke-width:4px,color:#000,font-weight:bold",
    PATH_CLASS: "fill:#dbeafe,stroke:#1e40af,stroke-width:2px,color:#000",
}


def mermaid(rules: RuleSet, workflow: str = PPA_WORKFLOW, *, current: str | None = None,
            path: Sequence[str] = ()) -> str:
    """A mermaid ``stateDiagram-v2`` of the machine ``workflow`` of ``rules``.

    One ``state "Label" as name`` per stage, ``[*] --> initial``, one line
    ``source --> dest : trigger [roles]`` per transition (in file order; a
    conditional route ends ``[when <condition>]``), ``final --> [*]`` per
    final stage, and a note on each n-of-m sign-off or escalating stage.

    With ``current`` and/or ``path`` (a record's stage now and the stages it
    went through, oldest first, as its history says; docs/design.md §11) the
    diagram also highlights them: a ``classDef`` per class of
    ``HIGHLIGHT_STYLES``, ``class <stages> path_taken`` for the stages of
    ``path`` other than ``current``, and ``class <current> current_stage``.
    Stages this machine does not declare (a history written under another
    rule set) are left out; nothing is highlighted when neither is given.

    Raises:
        KeyError: ``workflow`` is not in ``machines(rules)``.
    """
    machine = machines(rules)[workflow]
    lines = ["stateDiagram-v2", f"    %% {workflow}, rule set {rules.hash[:12]}"]
    lines += [f'    state "{_mermaid_text(state.label)}" as {state.name}' for state in machine.states.values()]
    lines.append(f"    [*] --> {machine.initial}")
    lines += [f"    {t.source} --> {t.dest} : {_mermaid_text(edge_label(t))}" for t in machine.transitions]
    lines += [f"    {state.name} --> [*]" for state in machine.states.values() if state.final]
    for state in machine.states.values():
        for note in stage_notes(state):
            lines.append(f"    note right of {state.name} : {_mermaid_text(note)}")
    lines += highlights(machine, current=current, path=path)
    return "\n".join(lines) + "\n"


def highlights(machine: MachineRules, *, current: str | None = None, path: Sequence[str] = ()) -> list[str]:
    """The mermaid lines that highlight ``current`` and ``path`` on a diagram of
    ``machine`` (see ``mermaid``); ``[]`` when there is nothing to highlight."""
    now = current if current in machine.states else None
    passed = [stage for stage in dict.fromkeys(path) if stage in machine.states and stage != now]
    if now is None and not passed:
        return []
    lines = [f"    classDef {name} {style}" for name, style in HIGHLIGHT_STYLES.items()]
    if passed:
        lines.append(f"    class {','.join(passed)} {PATH_CLASS}")
    if now:
        lines.append(f"    class {now} {CURRENT_CLASS}")
    return lines


# --- BPMN ----------------------------------------------------------------------------------------

LANE_HEIGHT, COLUMN, TASK_W, TASK_H, GATE, EVENT = 150, 230, 110, 80, 50, 36
POOL_X, LANE_X, FIRST_X = 40, 70, 200


def performers(workflow: WorkflowRules, stage: str) -> tuple[str, ...]:
    """Who acts on a record in ``stage`` (its lane): the stage's reviewers,
    else the roles of the first transition leaving it (``submit``: ``moa_focal``)."""
    state = workflow.machine.states[stage]
    if state.reviewers:
        return state.reviewers
    leaving = [t for t in workflow.machine.transitions if t.source == stage]
    return leaving[0].roles if leaving else ()


def condition(trigger: str) -> str:
    """The condition of a gateway's flow: the ``decision`` variable names the trigger."""
    return f'decision == "{trigger}"'


def route_condition(transition: Transition, routes: tuple[Transition, ...]) -> str:
    """A flow's condition: the decision, and for a conditional route its
    ``when`` over process variables named as the record's fields; the
    unconditional route holds when none of the others does."""
    text = condition(transition.trigger)
    if transition.when is not None:
        return f"{text} and ({transition.when.python()})"
    others = [t.when.python() for t in routes if t.when is not None]
    return text + "".join(f" and not ({other})" for other in others)


def _el(parent: ET.Element, tag: str, ns: str = BPMN, **attrs: object) -> ET.Element:
    return ET.SubElement(parent, f"{{{ns}}}{tag}", {k: str(v) for k, v in attrs.items()})


def bpmn(rules: RuleSet, workflow: str = PPA_WORKFLOW) -> str:
    """BPMN 2.0 XML of the workflow ``workflow`` of ``rules`` (see the module
    docstring for its shape). Element ids: process ``<workflow>``, start event ``Start_<initial stage>``, tasks
    ``Task_<stage>``, gateways ``Gateway_<stage>``, end events ``End_<stage>``,
    flows ``Flow_<stage>_<trigger>``, lanes ``Lane_<role>[__<role>]``.

    Raises:
        KeyError: ``workflow`` is not a workflow of ``rules``.
    """
    wf = rules.workflows[workflow]
    machine = wf.machine
    tasks = [s for s in machine.states.values() if not s.final]
    ends = [s for s in machine.states.values() if s.final]
    node = {s.name: f"Task_{s.name}" for s in tasks} | {s.name: f"End_{s.name}" for s in ends}

    # Lanes: one per role (or group of roles acting together), in order of first appearance.
    lane_of: dict[str, tuple[str, ...]] = {s.name: performers(wf, s.name) for s in tasks}
    for end in ends:
        first = next(t for t in machine.transitions if t.dest == end.name)
        lane_of[end.name] = lane_of[first.source]
    lanes = list(dict.fromkeys(lane_of[s.name] for s in tasks))
    lane_members: dict[tuple[str, ...], list[str]] = {lane: [] for lane in lanes}

    root = ET.Element(f"{{{BPMN}}}definitions", {
        "id": f"Definitions_{workflow}", "targetNamespace": f"urn:ppaflow:rules:{rules.hash}",
        "exporter": "ppaflow", "exporterVersion": rules.hash[:12]})
    collaboration = _el(root, "collaboration", id=f"Collaboration_{workflow}")
    _el(collaboration, "participant", id=f"Participant_{workflow}", name=f"{wf.record} ({workflow})",
        processRef=workflow)
    process = _el(root, "process", id=workflow, name=f"{wf.record} ({workflow})", isExecutable="true")
    lane_set = _el(process, "laneSet", id=f"LaneSet_{workflow}")

    start_id = f"Start_{machine.initial}"  # not "Start": SpiffWorkflow names its own start task so
    flows: list[tuple[str, str, str, str | None, str | None]] = []  # id, source, target, name, condition
    flows.append((f"Flow_start_{machine.initial}", start_id, node[machine.initial], None, None))
    for state in tasks:
        flows.append((f"Flow_{state.name}_decide", node[state.name], f"Gateway_{state.name}", None, None))
        for t in machine.transitions:
            if t.source == state.name:
                routes = machine.routes(t.trigger, t.source)
                flow_id = f"Flow_{state.name}_{t.trigger}" + (f"_{t.dest}" if len(routes) > 1 else "")
                flows.append((flow_id, f"Gateway_{state.name}", node[t.dest],
                              edge_label(t) + (" (comment required)" if t.comment_required else ""),
                              route_condition(t, routes)))
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for flow_id, source, target, _, _ in flows:
        outgoing.setdefault(source, []).append(flow_id)
        incoming.setdefault(target, []).append(flow_id)

    def wire(element: ET.Element, element_id: str) -> None:
        for flow_id in incoming.get(element_id, []):
            _el(element, "incoming").text = flow_id
        for flow_id in outgoing.get(element_id, []):
            _el(element, "outgoing").text = flow_id

    start = _el(process, "startEvent", id=start_id, name="Start")
    wire(start, start_id)
    lane_members[lane_of[machine.initial]].append(start_id)
    for state in tasks:
        task = _el(process, "userTask", id=node[state.name], name=state.label)
        roles = ", ".join(lane_of[state.name]) or "nobody"
        due = f"; due in {state.due_in_days} days" if state.due_in_days else ""
        _el(task, "documentation").text = (f"Stage {state.name}, acted on by {roles}{due}. Complete it with "
                                           f"the variable decision set to the trigger fired.")
        wire(task, node[state.name])
        gateway = _el(process, "exclusiveGateway", id=f"Gateway_{state.name}", name=f"{state.label}: decision")
        wire(gateway, f"Gateway_{state.name}")
        lane_members[lane_of[state.name]] += [node[state.name], f"Gateway_{state.name}"]
    for state in ends:
        end = _el(process, "endEvent", id=node[state.name], name=state.label)
        wire(end, node[state.name])
        lane_members[lane_of[state.name]].append(node[state.name])
    for flow_id, source, target, name, expression in flows:
        flow = _el(process, "sequenceFlow", id=flow_id, sourceRef=source, targetRef=target,
                   **({"name": name} if name else {}))
        if expression:
            cond = _el(flow, "conditionExpression", **{f"{{{XSI}}}type": "bpmn:tFormalExpression"})
            cond.text = expression
    for lane in lanes:
        element = _el(lane_set, "lane", id=f"Lane_{'__'.join(lane) or 'nobody'}", name=" or ".join(lane) or "nobody")
        for member in lane_members[lane]:
            _el(element, "flowNodeRef").text = member
    # laneSet must come first among the process's children (the XSD's order).
    process.remove(lane_set)
    process.insert(0, lane_set)

    _diagram(root, workflow, machine, tasks, ends, lanes, lane_of, node, flows)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _diagram(root, workflow, machine, tasks, ends, lanes, lane_of, node, flows) -> None:
    """Diagram interchange: lanes as bands, stages in file order left to
    right (task, then its gateway), end events after the last stage."""
    diagram = _el(root, "BPMNDiagram", BPMNDI, id=f"Diagram_{workflow}")
    plane = _el(diagram, "BPMNPlane", BPMNDI, id=f"Plane_{workflow}", bpmnElement=f"Collaboration_{workflow}")
    bounds: dict[str, tuple[int, int, int, int]] = {}

    def lane_y(lane: tuple[str, ...]) -> int:
        return lanes.index(lane) * LANE_HEIGHT

    def mid(lane: tuple[str, ...]) -> int:
        return lane_y(lane) + LANE_HEIGHT // 2

    x = FIRST_X
    bounds[f"Start_{machine.initial}"] = (x - 80, mid(lane_of[machine.initial]) - EVENT // 2, EVENT, EVENT)
    for state in tasks:
        m = mid(lane_of[state.name])
        bounds[node[state.name]] = (x, m - TASK_H // 2, TASK_W, TASK_H)
        bounds[f"Gateway_{state.name}"] = (x + TASK_W + 40, m - GATE // 2, GATE, GATE)
        x += COLUMN
    for state in ends:
        bounds[node[state.name]] = (x, mid(lane_of[state.name]) - EVENT // 2, EVENT, EVENT)
        x += 100
    width = x + 40 - POOL_X
    height = max(len(lanes), 1) * LANE_HEIGHT

    def shape(element: str, box: tuple[int, int, int, int], **extra: object) -> None:
        s = _el(plane, "BPMNShape", BPMNDI, id=f"{element}_di", bpmnElement=element, **extra)
        _el(s, "Bounds", DC, x=box[0], y=box[1], width=box[2], height=box[3])

    shape(f"Participant_{workflow}", (POOL_X, 0, width, height), isHorizontal="true")
    for lane in lanes:
        shape(f"Lane_{'__'.join(lane) or 'nobody'}", (LANE_X, lane_y(lane), width - (LANE_X - POOL_X), LANE_HEIGHT),
              isHorizontal="true")
    for element, box in bounds.items():
        shape(element, box)
    for flow_id, source, target, _, _ in flows:
        sx, sy, sw, sh = bounds[source]
        tx, ty, tw, th = bounds[target]
        edge = _el(plane, "BPMNEdge", BPMNDI, id=f"{flow_id}_di", bpmnElement=flow_id)
        start, end = (sx + sw, sy + sh // 2), (tx, ty + th // 2)
        if tx < sx:  # a way back (return for revision): under the boxes, into the target from below
            start, end = (sx + sw // 2, sy + sh), (tx + tw // 2, ty + th)
            low = max(sy + sh, ty + th) + 20
            points = [start, (start[0], low), (end[0], low), end]
        elif start[1] == end[1]:
            points = [start, end]
        else:
            points = [start, (start[0] + 20, start[1]), (start[0] + 20, end[1]), end]
        for px, py in points:
            _el(edge, "waypoint", DI, x=px, y=py)
