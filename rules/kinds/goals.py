"""``goals.yaml``: strategic goals, policies and the public PPA page
(docs/design.md §16; issue 15 items 4-5).

Keys: ``goal_statuses`` and ``policy_statuses`` (name -> label, at least
one; the first is a new record's), ``progress`` (``budget_weighted`` or
``average``: how a goal's progress follows from its PPAs') and
``public_ppa`` (``stages``: approval stages of the PPA workflow whose PPAs
are public; ``fields``: which of ``PUBLIC_PPA_FIELDS`` the public page
shows), and optionally ``coordination`` (``focal_person_kinds``: name ->
label, must hold ``primary``; ``report_lead_days``: 0-90, the default lead
time of a coordination meeting's pre-meeting report; docs/design.md §16
"Focal persons and coordination meetings", issue 15 item 6; defaults
``rules.model.DEFAULT_FOCAL_PERSON_KINDS`` and 7 days without it). Reads
the approval workflow (stages are checked against it).
Optional: a set without it (stored before it existed) gets
``DEFAULT_GOAL_RULES``, the shipped values.
"""

from __future__ import annotations

from rules.kinds.base import FileRead, LoadContext, RuleFileKind
from rules.kinds.needs import _labels
from rules.model import GoalRules, frozen_map
from rules.reading import FileReader, Item

#: How a goal's progress may follow from its PPAs'.
PROGRESS_METHODS = ("budget_weighted", "average")

#: Every field the public PPA page can show (``services.goals.public_ppa``);
#: none of them names a person.
PUBLIC_PPA_FIELDS = ("title", "summary", "moa", "fiscal_year", "category", "sector", "funding_source",
                     "start_date", "target_end_date", "status", "budget", "obligated", "disbursed", "progress",
                     "needs", "goals", "photos")


def _choices(r: FileReader, item: Item, where: str, known: tuple[str, ...] | list[str]) -> tuple[str, ...] | None:
    out, ok = [], True
    for element in r.names(item, where):
        if element.value not in known:
            r.error(element.line, f"{where}: unknown {element.value!r} (known: {', '.join(known)})")
            ok = False
        else:
            out.append(element.value)
    if ok and not out:
        r.error(item.line, f"{where}: name at least one")
    return tuple(out) if ok and out else None


def read_goals(r: FileReader, doc: Item, context: LoadContext) -> GoalRules | None:
    """``goals.yaml`` (see the module's docstring)."""
    f = r.fields(doc, "goals.yaml", required=("goal_statuses", "policy_statuses", "progress", "public_ppa"),
                 optional=("coordination",))
    if f is None or any(key not in f for key in ("goal_statuses", "policy_statuses", "progress", "public_ppa")):
        return None
    coordination = _coordination(r, f["coordination"]) if "coordination" in f else {}
    if coordination is None:
        return None
    goal_statuses = _labels(r, f["goal_statuses"], "goal_statuses")
    policy_statuses = _labels(r, f["policy_statuses"], "policy_statuses")
    progress = r.name(f["progress"], "progress")
    if progress is not None and progress not in PROGRESS_METHODS:
        r.error(f["progress"].line, f"progress: unknown method {progress!r} (known: {', '.join(PROGRESS_METHODS)})")
        progress = None
    public = r.fields(f["public_ppa"], "public_ppa", required=("stages", "fields"))
    stages = fields = None
    if public is not None and len(public) == 2:
        known = context.stages()
        stages = _choices(r, public["stages"], "public_ppa.stages", known) if known else None
        fields = _choices(r, public["fields"], "public_ppa.fields", PUBLIC_PPA_FIELDS)
    if None in (goal_statuses, policy_statuses, progress, stages, fields):
        return None
    return GoalRules(goal_statuses=frozen_map(goal_statuses), policy_statuses=frozen_map(policy_statuses),
                     progress=progress, public_stages=stages, public_fields=fields, **coordination)


def _coordination(r: FileReader, item: Item) -> dict | None:
    """The ``coordination`` block: ``{focal_person_kinds, report_lead_days}``
    for ``GoalRules``, or ``None`` after recording its mistakes by line."""
    c = r.fields(item, "coordination", required=("focal_person_kinds", "report_lead_days"))
    if c is None or len(c) < 2:
        return None
    kinds = _labels(r, c["focal_person_kinds"], "coordination.focal_person_kinds")
    if kinds is not None and "primary" not in kinds:
        r.error(c["focal_person_kinds"].line, "coordination.focal_person_kinds: must name primary "
                                              "(the one current focal person of a MOA)")
        kinds = None
    days = r.integer(c["report_lead_days"], "coordination.report_lead_days", minimum=0, maximum=90)
    if kinds is None or days is None:
        return None
    return {"focal_person_kinds": frozen_map(kinds), "report_lead_days": days}


#: The rules of a set without ``goals.yaml`` (one stored before the file
#: existed, to which PPAs may still be pinned): the shipped file's values.
DEFAULT_GOAL_RULES = GoalRules(
    goal_statuses=frozen_map({"planned": "Planned", "on_track": "On track", "at_risk": "At risk",
                              "achieved": "Achieved", "dropped": "Dropped"}),
    policy_statuses=frozen_map({"draft": "Draft", "adopted": "Adopted", "in_implementation": "In implementation",
                                "completed": "Completed", "repealed": "Repealed"}),
    progress="budget_weighted", public_stages=("enacted",),
    public_fields=("title", "summary", "moa", "fiscal_year", "category", "sector", "start_date", "target_end_date",
                   "status", "budget", "obligated", "disbursed", "progress", "needs", "goals"))
# A set stored before completion photos existed shows none: ``photos`` is not in its fields.


def combine_goals(files: list[FileRead], context: LoadContext) -> GoalRules | None:
    """The one file's rules, or ``DEFAULT_GOAL_RULES`` when the set has none."""
    if any(f.result is None for f in files):
        return None
    return files[0].result if files else DEFAULT_GOAL_RULES


KIND = RuleFileKind(name="goals", pattern="goals.yaml", read=read_goals, combine=combine_goals)
