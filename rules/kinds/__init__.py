"""The registry of rule-file kinds, one module each (docs/design.md §6).

Adding a kind of rule file: write a module here that reads it into a rule
object of ``rules.model`` (see ``base.RuleFileKind``), add a field for it to
``rules.model.RuleSet``, and add the module's ``KIND`` to ``KINDS`` below,
after the kinds it reads from. Adding a *file* of an existing many-file
kind (a workflow in ``workflows/``) needs no code here.
"""

from __future__ import annotations

from rules.kinds import (
    budget,
    calendar,
    chart,
    feedback,
    goals,
    needs,
    roles,
    scenarios,
    schedule,
    sync,
    validity,
    wbs_templates,
    work_item_status,
    workflow,
)
from rules.kinds.base import FileRead, LoadContext, RuleFileKind

#: Every kind, in load order: a kind may read the results of those before it.
KINDS: tuple[RuleFileKind, ...] = (
    roles.KIND,             # roles.yaml
    workflow.KIND,          # workflows/*.yaml (reads the roles)
    work_item_status.KIND,  # work_item_status.yaml
    wbs_templates.KIND,     # wbs_templates.yaml (reads the PPA approval's stages)
    sync.KIND,              # sync.yaml (reads the work item statuses)
    budget.KIND,            # budget.yaml (reads the PPA approval's stages)
    schedule.KIND,          # schedule.yaml
    calendar.KIND,          # calendar/<year>.yaml (the non-working days business days skip)
    validity.KIND,          # validity.yaml
    chart.FUND_CLUSTERS_KIND,  # fund_clusters.yaml
    chart.OBJECT_CODES_KIND,   # uacs_object_codes.yaml
    needs.NEEDS_KIND,          # needs.yaml
    needs.PLACES_KIND,         # psgc_barmm.yaml
    goals.KIND,                # goals.yaml (reads the PPA approval's stages; optional: defaults without it)
    scenarios.KIND,            # scenarios.yaml (optional: defaults without it)
    feedback.KIND,             # feedback.yaml (optional: defaults without it)
)

__all__ = ["KINDS", "FileRead", "LoadContext", "RuleFileKind"]
