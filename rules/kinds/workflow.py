"""``workflows/*.yaml``: workflows with people on their edges (docs/design.md §6).

One file per workflow: the PPA approval (``workflows/approval.yaml``), and
the budget proposal, ORS, DV and community-need workflows of later issues.
Each names its stages, its transitions with the roles that may fire them
(from ``roles.yaml``), comment rules, effects, and separation-of-duties
rules in one of three declarative forms (``rules.model.DutyRule``).
"""

from __future__ import annotations

from string import Formatter

from ruamel.yaml.comments import CommentedMap

from rules.kinds.base import FileRead, LoadContext, RuleFileKind
from rules.machines import read_machine
from rules.model import DutyRule, WorkflowRules, frozen_map
from rules.reading import FileReader, Item, did_you_mean

#: Keys a workflow file had before the roles moved to ``roles.yaml`` (issue 14).
MOVED_TO_ROLES = ("roles", "superuser_roles", "organization_scoped_roles")

#: Placeholders ``explain`` may use, per form of rule.
PLACEHOLDERS = {
    "whoever_fired": ("record",),
    "one_step_per_person": ("record", "stages", "triggers"),
    "preparer_may_not_fire": ("record",),
}


def read_workflow(r: FileReader, doc: Item, context: LoadContext) -> WorkflowRules | None:
    """One workflow file: name, record noun, stages, transitions and
    separation of duties, checked against the rule set's roles and the
    effects the code registered for this workflow."""
    f = r.fields(doc, r.file, required=["workflow", "initial_stage", "stages", "transitions"],
                 optional=["record", "records", "separation_of_duties", *MOVED_TO_ROLES])
    if f is None:
        return None
    for key in MOVED_TO_ROLES:
        if key in f:
            r.error(f[key].line, f"{key}: roles are declared once for the whole rule set, in roles.yaml "
                                 "(description, organization_scoped, superuser); remove this key")
    name = r.name(f["workflow"], "workflow") if "workflow" in f else None
    record = r.text(f["record"], "record") if "record" in f else (name or "record").replace("_", " ")
    records = r.text(f["records"], "records") if "records" in f else f"{record}s"
    machine, _, triggers = read_machine(r, f, name or "workflow", noun="stage", people=True,
                                     known_roles=context.known_roles(), known_effects=context.effects_for(name or ""))
    duties = read_duties(r, f.get("separation_of_duties"), triggers)
    roles = context.roles()
    if machine is None or name is None or duties is None or roles is None or record is None or records is None \
            or any(key in f for key in MOVED_TO_ROLES):
        return None
    return WorkflowRules(name=name, record=record, records=records, machine=machine, roles=roles,
                         separation_of_duties=duties, file=r.file)


def read_duties(r: FileReader, item: Item | None, triggers: set[str]) -> tuple[DutyRule, ...] | None:
    """``separation_of_duties``: a list of rules, each of one form:
    ``whoever_fired`` + ``may_not_fire``, ``one_step_per_person`` or
    ``preparer_may_not_fire``, with an optional ``explain``."""
    if item is None:
        return ()
    if isinstance(item.value, CommentedMap):
        r.error(item.line, "separation_of_duties: expected a list of rules (whoever_fired with may_not_fire, "
                           "one_step_per_person, preparer_may_not_fire); submitter_cannot_approve and "
                           "one_stage_per_approver are written as such rules now (see the rule set's README)")
        return None
    rules, ok = [], True
    for element in r.sequence(item, "separation_of_duties"):
        rule = _read_duty(r, element, triggers)
        ok = ok and rule is not None
        if rule is not None:
            rules.append(rule)
    return tuple(rules) if ok else None


def _read_duty(r: FileReader, element: Item, triggers: set[str]) -> DutyRule | None:
    where = "separation_of_duties"
    f = r.fields(element, f"{where} rule", optional=[
        "whoever_fired", "may_not_fire", "one_step_per_person", "preparer_may_not_fire", "explain"])
    if f is None:
        return None
    forms = [form for form in PLACEHOLDERS if form in f]
    if len(forms) != 1:
        r.error(element.line, f"{where}: each rule has exactly one of whoever_fired (with may_not_fire), "
                              f"one_step_per_person, preparer_may_not_fire; this one has "
                              f"{', '.join(forms) if forms else 'none'}")
        return None
    form = forms[0]
    if (form == "whoever_fired") != ("may_not_fire" in f):
        r.error(element.line, f"{where}: whoever_fired and may_not_fire go together")
        return None
    restricted_key = "may_not_fire" if form == "whoever_fired" else form
    restricted = _triggers(r, f[restricted_key], f"{where}.{restricted_key}", triggers)
    after = _triggers(r, f["whoever_fired"], f"{where}.whoever_fired", triggers) if form == "whoever_fired" else ()
    explain = _explain(r, f["explain"], form) if "explain" in f else None
    if restricted is None or after is None or ("explain" in f and explain is None):
        return None
    return DutyRule(form=form, triggers=restricted, after=after, explain=explain)


def _triggers(r: FileReader, item: Item, where: str, triggers: set[str]) -> tuple[str, ...] | None:
    names = r.names(item, where)
    unknown = [n for n in names if n.value not in triggers]
    for n in unknown:
        r.error(n.line, f"{where}: unknown trigger {n.value!r}{did_you_mean(n.value, triggers)}")
    if not names and not unknown:
        r.error(item.line, f"{where}: name at least one trigger")
        return None
    return None if unknown else tuple(n.value for n in names)


def _explain(r: FileReader, item: Item, form: str) -> str | None:
    text = r.text(item, "separation_of_duties.explain")
    if text is None:
        return None
    allowed = PLACEHOLDERS[form]
    try:
        fields = [(field, spec, conversion) for _, field, spec, conversion in Formatter().parse(text)
                  if field is not None]
    except ValueError as exc:
        r.error(item.line, f"separation_of_duties.explain: {exc}; write {{{{ and }}}} for a literal brace")
        return None
    for field, spec, conversion in fields:
        if field not in allowed or spec or conversion:
            r.error(item.line, f"separation_of_duties.explain: unknown placeholder {{{field}}} "
                               f"(this rule may use: {', '.join('{' + a + '}' for a in allowed)})")
            return None
    return text


def combine_workflows(files: list[FileRead], context: LoadContext):
    """Workflow name -> workflow; names are unique across files, and every
    workflow the code moves records with is declared."""
    workflows: dict = {}
    first_file: dict[str, str] = {}
    for read in files:
        if read.result is None:
            continue
        name = read.result.name
        if name in workflows:
            line = read.doc.value.lc.key("workflow")[0] + 1
            read.reader.error(line, f"workflow {name!r} is already declared in {first_file[name]}")
            continue
        workflows[name] = read.result
        first_file[name] = read.reader.file
    failed = any(read.result is None for read in files)
    missing = sorted(context.required_workflows - workflows.keys())
    if missing and not failed:  # a file that failed may be the missing one: say nothing more
        reader = files[0].reader if files else context.reader_for("workflows/approval.yaml")
        reader.error(1, f"no workflow {', '.join(map(repr, missing))} in workflows/; ppaflow moves records "
                        "with it: add a file declaring 'workflow: <name>'")
    if failed or missing:
        return None
    return frozen_map(workflows)


KIND = RuleFileKind(name="workflows", pattern="workflows/*.yaml", read=read_workflow, combine=combine_workflows)
