"""``work_item_status.yaml``: the work item status machine (docs/design.md §4).

A state machine without people on its edges: no roles, comments or effects.
"""

from __future__ import annotations

from rules.kinds.base import LoadContext, RuleFileKind
from rules.machines import build_machine, read_states, read_transitions
from rules.model import MachineRules
from rules.reading import FileReader, Item


def read_work_item_status(r: FileReader, doc: Item, _context: LoadContext) -> MachineRules | None:
    """The statuses and transitions; ``completed`` and ``cancelled`` must be
    declared (the rollups of ``workflow.tree`` give them a meaning)."""
    f = r.fields(doc, "work_item_status.yaml", required=["workflow", "initial_status", "statuses", "transitions"])
    if f is None:
        return None
    name = r.name(f["workflow"], "workflow") if "workflow" in f else None
    states = read_states(r, f["statuses"], "statuses", noun="status", people=False, known_roles={}) \
        if "statuses" in f else {}
    specs = read_transitions(r, f["transitions"], people=False) if "transitions" in f else []
    initial = None
    if "initial_status" in f:
        value = r.name(f["initial_status"], "initial_status")
        initial = Item(value, f["initial_status"].line) if value else None
    machine = build_machine(r, name or "work_item_status", initial, states, specs, noun="status")
    for required in ("completed", "cancelled"):  # rollups give these two a meaning (workflow.tree)
        if "statuses" in f and required not in states:
            r.error(f["statuses"].line, f"statuses: {required!r} must be declared (rollups depend on it)")
    return machine if name else None


KIND = RuleFileKind(name="work_item_status", pattern="work_item_status.yaml", read=read_work_item_status)
