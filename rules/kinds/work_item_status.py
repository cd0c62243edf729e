"""``work_item_status.yaml``: the work item status machine (docs/design.md §4).

A state machine without people on its edges: no roles, comments or effects.
"""

from __future__ import annotations

from rules.kinds.base import LoadContext, RuleFileKind
from rules.machines import read_machine
from rules.model import MachineRules
from rules.reading import FileReader, Item


def read_work_item_status(r: FileReader, doc: Item, _context: LoadContext) -> MachineRules | None:
    """The statuses and transitions; ``completed`` and ``cancelled`` must be
    declared (the rollups of ``workflow.tree`` give them a meaning)."""
    f = r.fields(doc, "work_item_status.yaml", required=["workflow", "initial_status", "statuses", "transitions"])
    if f is None:
        return None
    name = r.name(f["workflow"], "workflow") if "workflow" in f else None
    machine, states, _ = read_machine(r, f, name or "work_item_status", noun="status", people=False)
    for required in ("completed", "cancelled"):  # rollups give these two a meaning (workflow.tree)
        if "statuses" in f and required not in states:
            r.error(f["statuses"].line, f"statuses: {required!r} must be declared (rollups depend on it)")
    return machine if name else None


KIND = RuleFileKind(name="work_item_status", pattern="work_item_status.yaml", read=read_work_item_status)
