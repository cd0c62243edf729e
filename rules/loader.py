"""Load ``rules/*.yaml`` into a validated, frozen ``RuleSet`` (docs/design.md §6).

The loader reads every file with ruamel.yaml (round-trip mode, for the line
of every key and item), checks everything, and either returns a complete
``RuleSet`` or raises ``RulesError`` with *every* problem found, each as
``file:line: message``. A broken rule set never half-loads.

Checked: YAML syntax, bytes that are not UTF-8, duplicate keys, anchors and
aliases (refused altogether: a few hundred bytes of nested aliases expand to
millions of nodes), unknown and missing keys, value types, unknown states and
roles, unreachable states, exits from final states, non-final dead ends,
ambiguous transitions, unknown side effects, templates beyond their depth and
size limits, and the cross-file references of later sections.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from croniter import croniter
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from rules.model import (
    ApprovalRules,
    BudgetRules,
    MachineRules,
    PpaStatusSync,
    ReportRemarks,
    RuleFile,
    RuleSet,
    ScheduledJob,
    ScheduleRules,
    SeparationOfDuties,
    State,
    SyncRules,
    TemplateLimits,
    TemplateNode,
    Transition,
    WbsRules,
    WbsTemplate,
    frozen_map,
)
from workflow.errors import RulesError
from workflow.vocabulary import ALERT_TYPES, CATEGORIES, PPA_STATUSES, SEVERITIES, WORK_TYPES

#: The directory of the rule files shipped with ppaflow.
DEFAULT_RULES_DIR = Path(__file__).resolve().parent

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Item:
    """A YAML value and the 1-based line it starts on."""

    value: Any
    line: int


class FileReader:
    """Typed accessors over one YAML document that record errors instead of
    raising, so that every problem of every file can be reported at once."""

    def __init__(self, path: str, errors: list[tuple[str, int, str]]):
        self.path = path
        self._errors = errors

    def error(self, line: int, message: str) -> None:
        """Record ``path:line: message``."""
        self._errors.append((self.path, max(line, 1), message))

    # -- containers --------------------------------------------------------
    def fields(
        self, item: Item, where: str, required: Iterable[str] = (), optional: Iterable[str] = ()
    ) -> dict[str, Item] | None:
        """Check that ``item`` is a mapping with exactly the allowed keys.

        Returns ``{key: Item(value, line)}`` for the known keys present, or
        ``None`` when ``item`` is not a mapping. Unknown keys and missing
        required keys are recorded as errors.
        """
        if not isinstance(item.value, CommentedMap):
            self.error(item.line, f"{where}: expected a mapping, got {_kind(item.value)}")
            return None
        required, optional = tuple(required), tuple(optional)
        allowed = set(required) | set(optional)
        out: dict[str, Item] = {}
        for key, value_item, key_line in self.entries(item):
            if key not in allowed:
                self.error(key_line, f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
                continue
            out[key] = value_item
        for key in required:
            if key not in out:
                self.error(item.line, f"{where}: missing required key {key!r}")
        return out

    def entries(self, item: Item) -> list[tuple[str, Item, int]]:
        """``(key, Item(value, value_line), key_line)`` for each mapping entry."""
        mapping = item.value
        out = []
        for key in mapping:
            key_line = mapping.lc.key(key)[0] + 1
            value_line = mapping.lc.value(key)[0] + 1
            out.append((str(key), Item(mapping[key], value_line), key_line))
        return out

    def mapping(self, item: Item, where: str) -> list[tuple[str, Item, int]]:
        """Entries of a mapping with free-form keys (e.g. stage names)."""
        if not isinstance(item.value, CommentedMap):
            self.error(item.line, f"{where}: expected a mapping, got {_kind(item.value)}")
            return []
        return self.entries(item)

    def sequence(self, item: Item, where: str) -> list[Item]:
        """Items of a YAML list, each with its line."""
        if not isinstance(item.value, CommentedSeq):
            self.error(item.line, f"{where}: expected a list, got {_kind(item.value)}")
            return []
        seq = item.value
        return [Item(v, seq.lc.item(i)[0] + 1) for i, v in enumerate(seq)]

    # -- scalars -----------------------------------------------------------
    def text(self, item: Item, where: str) -> str | None:
        """A non-empty string."""
        if not isinstance(item.value, str) or not item.value.strip():
            self.error(item.line, f"{where}: expected a non-empty string, got {_kind(item.value)}")
            return None
        return str(item.value)

    def name(self, item: Item, where: str) -> str | None:
        """An identifier: lower-case letters, digits and underscores."""
        value = self.text(item, where)
        if value is not None and not _NAME.fullmatch(value):
            self.error(item.line, f"{where}: {value!r} is not a valid name (use lower_case_with_underscores)")
            return None
        return value

    def names(self, item: Item, where: str) -> list[Item]:
        """One name or a list of names, each with its line."""
        if isinstance(item.value, CommentedSeq):
            out = []
            for element in self.sequence(item, where):
                value = self.name(element, where)
                if value is not None:
                    out.append(Item(value, element.line))
            return out
        value = self.name(item, where)
        return [Item(value, item.line)] if value is not None else []

    def boolean(self, item: Item, where: str) -> bool | None:
        """``true`` or ``false``."""
        if not isinstance(item.value, bool):
            self.error(item.line, f"{where}: expected true or false, got {_kind(item.value)}")
            return None
        return item.value

    def integer(self, item: Item, where: str, minimum: int | None = None, maximum: int | None = None) -> int | None:
        """A whole number within ``[minimum, maximum]``."""
        value = item.value
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(item.line, f"{where}: expected a whole number, got {_kind(value)}")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            self.error(item.line, f"{where}: {value} is out of range (must be {bounds})")
            return None
        return int(value)


    def decimal(self, item: Item, where: str, minimum: Decimal, maximum: Decimal) -> Decimal | None:
        """A number (integer or decimal) within ``[minimum, maximum]``, exact."""
        value = item.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(item.line, f"{where}: expected a number, got {_kind(value)}")
            return None
        number = Decimal(str(value))
        if not number.is_finite() or not minimum <= number <= maximum:
            self.error(item.line, f"{where}: {value} is out of range (must be between {minimum} and {maximum})")
            return None
        return number


def _kind(value: Any) -> str:
    """A short description of a YAML value's type, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {value}"
    if isinstance(value, CommentedMap):
        return "a mapping"
    if isinstance(value, CommentedSeq):
        return "a list"
    if isinstance(value, str):
        return f"string {value[:40]!r}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    return type(value).__name__


# -- machines ---------------------------------------------------------------


@dataclass
class _StateSpec:
    state: State
    line: int
    declares_reviewers: bool = False  # even if some were unknown (no cascade of errors)


@dataclass
class _TransitionSpec:
    trigger: str
    sources: list[Item]
    dest: Item
    roles: list[Item]
    roles_given: bool
    comment_required: bool
    effects: list[Item]
    line: int


def _read_states(
    r: FileReader, item: Item, where: str, *, noun: str, approval: bool, known_roles: Mapping[str, Any]
) -> dict[str, _StateSpec]:
    states: dict[str, _StateSpec] = {}
    optional = ["label", "final"] + (["reviewers", "due_in_days"] if approval else [])
    for key, value, key_line in r.mapping(item, where):
        name = r.name(Item(key, key_line), f"{where} name")
        if name is None:
            continue
        # An entry with nothing after the colon (`draft:`) is a state with defaults.
        spec_item = Item(value.value if value.value is not None else CommentedMap(), value.line)
        f = r.fields(spec_item, f"{noun} {name}", optional=optional)
        if f is None:
            continue
        label = r.text(f["label"], f"{name}.label") if "label" in f else None
        final = bool(r.boolean(f["final"], f"{name}.final")) if "final" in f else False
        reviewers: list[str] = []
        for role in r.names(f["reviewers"], f"{name}.reviewers") if "reviewers" in f else []:
            if role.value not in known_roles:
                r.error(role.line, f"{noun} {name}: unknown role {role.value!r} in reviewers")
            else:
                reviewers.append(role.value)
        due = r.integer(f["due_in_days"], f"{name}.due_in_days", minimum=1, maximum=365) if "due_in_days" in f else None
        states[name] = _StateSpec(
            State(name=name, label=label or name.replace("_", " ").capitalize(), final=final,
                  reviewers=tuple(reviewers), due_in_days=due),
            key_line,
            declares_reviewers="reviewers" in f,
        )
    return states


def _read_transitions(r: FileReader, item: Item, *, approval: bool) -> list[_TransitionSpec]:
    specs = []
    optional = ["roles", "comment_required", "effects"] if approval else []
    for element in r.sequence(item, "transitions"):
        f = r.fields(element, "transition", required=["trigger", "source", "dest"], optional=optional)
        if f is None:
            continue
        trigger = r.name(f["trigger"], "transition trigger")
        sources = r.names(f["source"], "transition source") if "source" in f else []
        dest_name = r.name(f["dest"], "transition dest") if "dest" in f else None
        if trigger is None or dest_name is None:
            continue
        roles = r.names(f["roles"], f"{trigger}.roles") if "roles" in f else []
        comment = bool(r.boolean(f["comment_required"], f"{trigger}.comment_required")) if "comment_required" in f else False
        effects = r.names(f["effects"], f"{trigger}.effects") if "effects" in f else []
        specs.append(_TransitionSpec(trigger, sources, Item(dest_name, f["dest"].line), roles, "roles" in f,
                                     comment, effects, element.line))
    return specs


def _build_machine(
    r: FileReader,
    name: str,
    initial: Item | None,
    states: dict[str, _StateSpec],
    specs: list[_TransitionSpec],
    *,
    noun: str,
    known_roles: Mapping[str, Any] | None = None,
    known_effects: frozenset[str] | None = None,
) -> MachineRules | None:
    """Check a machine as a graph and build it (one ``Transition`` per source)."""
    transitions: list[Transition] = []
    seen: dict[tuple[str, str], int] = {}
    for spec in specs:
        if spec.dest.value not in states:
            r.error(spec.dest.line, f"transition {spec.trigger}: unknown {noun} {spec.dest.value!r} in dest")
        roles: list[str] = []
        for role in spec.roles:
            if known_roles is not None and role.value not in known_roles:
                r.error(role.line, f"transition {spec.trigger}: unknown role {role.value!r}")
            else:
                roles.append(role.value)
        effects: list[str] = []
        for effect in spec.effects:
            if known_effects is not None and effect.value not in known_effects:
                known = ", ".join(sorted(known_effects)) or "none"
                r.error(effect.line, f"transition {spec.trigger}: unknown effect {effect.value!r} (known: {known})")
            else:
                effects.append(effect.value)
        if not spec.sources:
            r.error(spec.line, f"transition {spec.trigger}: no source {noun}")
        for source in spec.sources:
            state = states.get(source.value)
            if state is None:
                r.error(source.line, f"transition {spec.trigger}: unknown {noun} {source.value!r} in source")
                continue
            if state.state.final:
                r.error(source.line, f"transition {spec.trigger}: exits {source.value!r}, which is final")
                continue
            key = (spec.trigger, source.value)
            if key in seen:
                r.error(source.line, f"transition {spec.trigger} from {source.value!r} is declared twice "
                                     f"(first on line {seen[key]})")
                continue
            seen[key] = source.line
            allowed_roles = tuple(roles)
            if known_roles is not None and not spec.roles_given:
                allowed_roles = state.state.reviewers
                if not allowed_roles and not state.declares_reviewers:
                    r.error(source.line, f"transition {spec.trigger} from {source.value!r} names no roles and "
                                         f"{source.value!r} has no reviewers")
            transitions.append(Transition(
                trigger=spec.trigger, source=source.value, dest=spec.dest.value, roles=allowed_roles,
                comment_required=spec.comment_required, effects=tuple(effects),
            ))
    if initial is None:
        return None
    if initial.value not in states:
        r.error(initial.line, f"initial {noun} {initial.value!r} is not declared")
        return None
    if states[initial.value].state.final:
        r.error(initial.line, f"initial {noun} {initial.value!r} is final: nothing could ever happen")
    reachable = _reachable(initial.value, transitions)
    for state_name, spec in states.items():
        if state_name not in reachable:
            r.error(spec.line, f"{noun} {state_name!r} is unreachable from {initial.value!r}")
        elif not spec.state.final and not any(t.source == state_name for t in transitions):
            r.error(spec.line, f"{noun} {state_name!r} is not final but no transition leaves it")
    return MachineRules(
        name=name,
        initial=initial.value,
        states=frozen_map({k: v.state for k, v in states.items()}),
        transitions=tuple(transitions),
    )


def _reachable(initial: str, transitions: list[Transition]) -> set[str]:
    seen, queue = {initial}, deque([initial])
    while queue:
        state = queue.popleft()
        for t in transitions:
            if t.source == state and t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    return seen


# -- files ------------------------------------------------------------------


def _read_approval(r: FileReader, doc: Item, known_effects: frozenset[str]) -> ApprovalRules | None:
    f = r.fields(doc, "approval.yaml", required=[
        "workflow", "roles", "initial_stage", "stages", "transitions"], optional=[
        "superuser_roles", "organization_scoped_roles", "separation_of_duties"])
    if f is None:
        return None
    name = r.name(f["workflow"], "workflow") if "workflow" in f else None
    roles: dict[str, str] = {}
    for key, value, key_line in r.mapping(f["roles"], "roles") if "roles" in f else []:
        role = r.name(Item(key, key_line), "role name")
        description = r.text(value, f"role {key}")
        if role is not None:
            roles[role] = description or role
    superusers = _known_roles(r, f.get("superuser_roles"), "superuser_roles", roles)
    scoped = _known_roles(r, f.get("organization_scoped_roles"), "organization_scoped_roles", roles)
    states = _read_states(r, f["stages"], "stages", noun="stage", approval=True, known_roles=roles) if "stages" in f else {}
    specs = _read_transitions(r, f["transitions"], approval=True) if "transitions" in f else []
    initial = None
    if "initial_stage" in f:
        value = r.name(f["initial_stage"], "initial_stage")
        initial = Item(value, f["initial_stage"].line) if value else None
    machine = _build_machine(r, name or "ppa_approval", initial, states, specs, noun="stage",
                             known_roles=roles, known_effects=known_effects)
    sod = _read_sod(r, f.get("separation_of_duties"), {s.trigger for s in specs})
    if machine is None or name is None or sod is None:
        return None
    return ApprovalRules(machine=machine, roles=frozen_map(roles), superuser_roles=superusers,
                         organization_scoped_roles=scoped, separation_of_duties=sod)


def _known_roles(r: FileReader, item: Item | None, where: str, roles: Mapping[str, str]) -> tuple[str, ...]:
    """A list of role names, each checked against the declared roles."""
    out = []
    for role in r.names(item, where) if item is not None else []:
        if role.value not in roles:
            r.error(role.line, f"{where}: unknown role {role.value!r}")
        else:
            out.append(role.value)
    return tuple(out)


def _read_sod(r: FileReader, item: Item | None, triggers: set[str]) -> SeparationOfDuties | None:
    if item is None:
        return SeparationOfDuties()
    f = r.fields(item, "separation_of_duties", optional=[
        "submitter_cannot_approve", "one_stage_per_approver", "submit_triggers", "approval_triggers"])
    if f is None:
        return None
    values: dict[str, Any] = {}
    for key in ("submitter_cannot_approve", "one_stage_per_approver"):
        if key in f:
            values[key] = r.boolean(f[key], f"separation_of_duties.{key}")
    for key in ("submit_triggers", "approval_triggers"):
        if key in f:
            names = r.names(f[key], f"separation_of_duties.{key}")
            for n in names:
                if n.value not in triggers:
                    r.error(n.line, f"separation_of_duties.{key}: unknown trigger {n.value!r}")
            values[key] = tuple(n.value for n in names)
    if any(v is None for v in values.values()):
        return None
    return SeparationOfDuties(**values)


def _read_work_item_status(r: FileReader, doc: Item) -> MachineRules | None:
    f = r.fields(doc, "work_item_status.yaml", required=["workflow", "initial_status", "statuses", "transitions"])
    if f is None:
        return None
    name = r.name(f["workflow"], "workflow") if "workflow" in f else None
    states = _read_states(r, f["statuses"], "statuses", noun="status", approval=False, known_roles={}) if "statuses" in f else {}
    specs = _read_transitions(r, f["transitions"], approval=False) if "transitions" in f else []
    initial = None
    if "initial_status" in f:
        value = r.name(f["initial_status"], "initial_status")
        initial = Item(value, f["initial_status"].line) if value else None
    machine = _build_machine(r, name or "work_item_status", initial, states, specs, noun="status")
    for required in ("completed", "cancelled"):  # rollups give these two a meaning (workflow.tree)
        if "statuses" in f and required not in states:
            r.error(f["statuses"].line, f"statuses: {required!r} must be declared (rollups depend on it)")
    return machine if name else None


HUNDRED = Decimal(100)
PROGRESS_METHODS = ("average", "budget_weighted", "completed_count")


def _read_wbs(r: FileReader, doc: Item, stages: Iterable[str]) -> WbsRules | None:
    stages = tuple(stages)
    f = r.fields(doc, "wbs_templates.yaml", required=["allowed_children", "category_defaults", "templates"],
                 optional=["tracking_not_in_stages", "limits"])
    if f is None:
        return None
    limits = _read_limits(r, f["limits"]) if "limits" in f else TemplateLimits()
    allowed: dict[str, tuple[str, ...]] = {}
    for key, value, key_line in r.mapping(f["allowed_children"], "allowed_children") if "allowed_children" in f else []:
        if key not in WORK_TYPES:
            r.error(key_line, f"allowed_children: unknown work type {key!r} (known: {', '.join(WORK_TYPES)})")
            continue
        children = []
        for child in r.sequence(value, f"allowed_children.{key}"):
            if child.value not in WORK_TYPES:
                r.error(child.line, f"allowed_children.{key}: unknown work type {child.value!r}")
            elif child.value == "project":
                r.error(child.line, f"allowed_children.{key}: a project is always a root, never a child")
            else:
                children.append(child.value)
        allowed[key] = tuple(children)
    if "allowed_children" in f:
        for missing in [t for t in WORK_TYPES if t not in allowed]:
            r.error(f["allowed_children"].line, f"allowed_children: missing work type {missing!r}")

    templates: dict[str, WbsTemplate] = {}
    for key, value, key_line in r.mapping(f["templates"], "templates") if "templates" in f else []:
        name = r.name(Item(key, key_line), "template name")
        tf = r.fields(value, f"template {key}", required=["children"], optional=["label"])
        if name is None or tf is None:
            continue
        label = r.text(tf["label"], f"{name}.label") if "label" in tf else name
        size = _Size(limits or TemplateLimits())  # broken limits: read with the defaults, no cascade of errors
        children = _read_level(r, tf["children"], f"template {name}", "project", allowed, size) if "children" in tf else None
        if children is not None and label is not None:
            templates[name] = WbsTemplate(name=name, label=label, children=children)

    defaults: dict[str, str] = {}
    declared: set[str] = set()
    for key, value, key_line in r.mapping(f["category_defaults"], "category_defaults") if "category_defaults" in f else []:
        declared.add(key)
        if key not in CATEGORIES:
            r.error(key_line, f"category_defaults: unknown category {key!r} (known: {', '.join(CATEGORIES)})")
        elif value.value not in templates:
            r.error(value.line, f"category_defaults.{key}: unknown template {value.value!r}")
        else:
            defaults[key] = value.value
    if "category_defaults" in f:
        for missing in [c for c in CATEGORIES if c not in declared]:
            r.error(f["category_defaults"].line, f"category_defaults: missing category {missing!r}")
    closed = []
    for stage in r.names(f["tracking_not_in_stages"], "tracking_not_in_stages") if "tracking_not_in_stages" in f else []:
        if stages and stage.value not in stages:
            r.error(stage.line, f"tracking_not_in_stages: unknown approval stage {stage.value!r}")
        else:
            closed.append(stage.value)
    if limits is None:
        return None
    return WbsRules(templates=frozen_map(templates), category_defaults=frozen_map(defaults),
                    allowed_children=frozen_map(allowed), tracking_not_in_stages=tuple(closed), limits=limits)


#: The most ``limits`` in wbs_templates.yaml may allow: a template is a
#: skeleton people fill in, never a bulk import.
TEMPLATE_LIMIT_CEILINGS = {"max_depth": 10, "max_items": 5_000}


def _read_limits(r: FileReader, item: Item) -> TemplateLimits | None:
    """``limits`` of wbs_templates.yaml; each missing key keeps its default
    (``rules.model.TemplateLimits``)."""
    f = r.fields(item, "limits", optional=TEMPLATE_LIMIT_CEILINGS)
    if f is None:
        return None
    values = {key: r.integer(f[key], f"limits.{key}", 1, TEMPLATE_LIMIT_CEILINGS[key]) for key in f}
    return None if None in values.values() else TemplateLimits(**values)


@dataclass
class _Size:
    """What one template has used of its ``limits`` so far."""

    limits: TemplateLimits
    items: int = 0
    exceeded: bool = False


def _read_level(r: FileReader, item: Item, where: str, parent_type: str,
                allowed: Mapping[str, tuple[str, ...]], size: _Size, depth: int = 1) -> tuple[TemplateNode, ...] | None:
    """One level of a template: the siblings under ``parent_type``, at
    ``depth`` levels below the project.

    Checks each node, that budget percentages sum to exactly 100, that
    durations are given for all siblings (summing to 100) or for none, and
    that the template stays within ``limits`` (depth and number of items;
    the first item beyond them is the error's line, and reading stops there).
    """
    elements = r.sequence(item, f"{where}: children")
    if not elements:
        r.error(item.line, f"{where}: children: expected at least one item")
        return None
    if depth > size.limits.max_depth:
        r.error(item.line, f"{where}: nested {depth} levels below the project; templates may have at most "
                           f"{size.limits.max_depth} (limits.max_depth)")
        size.exceeded = True
        return None
    size.items += len(elements)
    if size.items > size.limits.max_items:
        r.error(elements[0].line, f"{where}: the template has more than {size.limits.max_items} work items "
                                  "(limits.max_items)")
        size.exceeded = True
        return None
    nodes: list[TemplateNode] = []
    ok = True
    budget_total, durations = Decimal(0), []
    for element in elements:
        f = r.fields(element, f"{where}: item", required=["title", "work_type", "budget_pct"],
                     optional=["duration_pct", "children"])
        if f is None:
            ok = False
            continue
        title = r.text(f["title"], f"{where}: title") if "title" in f else None
        work_type = f["work_type"].value if "work_type" in f else None
        if work_type is not None and work_type not in WORK_TYPES:
            r.error(f["work_type"].line, f"{where}: unknown work type {work_type!r}")
            work_type = None
        elif work_type is not None and parent_type in allowed and work_type not in allowed[parent_type]:
            r.error(f["work_type"].line, f"{where}: a {work_type} cannot be placed under a {parent_type} "
                                         f"(allowed: {', '.join(allowed[parent_type]) or 'nothing'})")
            work_type = None
        budget = r.decimal(f["budget_pct"], f"{where}: budget_pct", Decimal("0.01"), HUNDRED) if "budget_pct" in f else None
        duration = (r.decimal(f["duration_pct"], f"{where}: duration_pct", Decimal(0), HUNDRED)
                    if "duration_pct" in f else None)
        durations.append((duration, element.line))
        children: tuple[TemplateNode, ...] = ()
        if "children" in f and work_type is not None:
            nested = _read_level(r, f["children"], f"{where} > {title}", work_type, allowed, size, depth + 1)
            if size.exceeded:  # said once; the rest of this template is not read
                return None
            ok = ok and nested is not None
            children = nested or ()
        if title is None or work_type is None or budget is None or ("duration_pct" in f and duration is None):
            ok = False
            continue
        budget_total += budget
        nodes.append(TemplateNode(title=title, work_type=work_type, budget_pct=budget,
                                  duration_pct=duration, children=children))
    if ok and budget_total != HUNDRED:
        r.error(elements[0].line, f"{where}: budget_pct of this level sums to {budget_total}, not 100")
        ok = False
    given = [d for d, _ in durations if d is not None]
    if given and len(given) != len(durations):
        r.error(elements[0].line, f"{where}: give duration_pct to every item of this level or to none")
        ok = False
    elif given and ok and sum(given) != HUNDRED:
        r.error(elements[0].line, f"{where}: duration_pct of this level sums to {sum(given)}, not 100")
        ok = False
    return tuple(nodes) if ok else None


def _read_sync(r: FileReader, doc: Item, statuses: Iterable[str]) -> SyncRules | None:
    statuses = tuple(statuses)
    f = r.fields(doc, "sync.yaml", required=["progress_method", "work_item_to_ppa", "ppa_to_work_item"],
                 optional=["roll_up_status"])
    if f is None:
        return None
    roll_up_status = r.boolean(f["roll_up_status"], "roll_up_status") if "roll_up_status" in f else True
    method = r.name(f["progress_method"], "progress_method") if "progress_method" in f else None
    if method is not None and method not in PROGRESS_METHODS:
        r.error(f["progress_method"].line, f"progress_method: unknown method {method!r} "
                                           f"(known: {', '.join(PROGRESS_METHODS)})")
        method = None
    declared: dict[str, set[str]] = {"work_item_to_ppa": set(), "ppa_to_work_item": set()}
    to_ppa: dict[str, PpaStatusSync] = {}
    for key, value, key_line in r.mapping(f["work_item_to_ppa"], "work_item_to_ppa") if "work_item_to_ppa" in f else []:
        declared["work_item_to_ppa"].add(key)
        if key not in statuses:
            r.error(key_line, f"work_item_to_ppa: unknown work item status {key!r}")
            continue
        vf = r.fields(value, f"work_item_to_ppa.{key}", required=["status"], optional=["flag"])
        if vf is None or "status" not in vf:
            continue
        if vf["status"].value not in PPA_STATUSES:
            r.error(vf["status"].line, f"work_item_to_ppa.{key}: unknown PPA status {vf['status'].value!r} "
                                       f"(known: {', '.join(PPA_STATUSES)})")
            continue
        flag = r.name(vf["flag"], f"work_item_to_ppa.{key}.flag") if "flag" in vf else None
        to_ppa[key] = PpaStatusSync(status=vf["status"].value, flag=flag)
    to_item: dict[str, str] = {}
    for key, value, key_line in r.mapping(f["ppa_to_work_item"], "ppa_to_work_item") if "ppa_to_work_item" in f else []:
        declared["ppa_to_work_item"].add(key)
        if key not in PPA_STATUSES:
            r.error(key_line, f"ppa_to_work_item: unknown PPA status {key!r}")
        elif value.value not in statuses:
            r.error(value.line, f"ppa_to_work_item.{key}: unknown work item status {value.value!r}")
        else:
            to_item[key] = value.value
    for name, expected in (("work_item_to_ppa", statuses), ("ppa_to_work_item", PPA_STATUSES)):
        if name in f:
            for missing in [s for s in expected if s not in declared[name]]:
                r.error(f[name].line, f"{name}: missing {missing!r}")
    if method is None or roll_up_status is None:
        return None
    return SyncRules(progress_method=method, work_item_to_ppa=frozen_map(to_ppa), ppa_to_work_item=frozen_map(to_item),
                     roll_up_status=roll_up_status)


def _read_budget(r: FileReader, doc: Item, stages: Iterable[str]) -> BudgetRules | None:
    stages = tuple(stages)
    f = r.fields(doc, "budget.yaml", required=["variance", "distribution", "alerts", "execution", "report_remarks"])
    if f is None:
        return None
    threshold = tolerance = None
    if "variance" in f:
        vf = r.fields(f["variance"], "variance", required=["on_budget_threshold_pct"])
        if vf and "on_budget_threshold_pct" in vf:
            threshold = r.decimal(vf["on_budget_threshold_pct"], "variance.on_budget_threshold_pct",
                                  Decimal(0), HUNDRED)
    if "distribution" in f:
        df = r.fields(f["distribution"], "distribution", required=["weights_tolerance"])
        if df and "weights_tolerance" in df:
            tolerance = r.decimal(df["weights_tolerance"], "distribution.weights_tolerance", Decimal(0), Decimal(1))
    severities: dict[str, str] = {}
    declared: set[str] = set()
    for key, value, key_line in r.mapping(f["alerts"], "alerts") if "alerts" in f else []:
        declared.add(key)
        af = r.fields(value, f"alerts.{key}", required=["severity"])
        if key not in ALERT_TYPES:
            r.error(key_line, f"alerts: unknown alert type {key!r} (known: {', '.join(ALERT_TYPES)})")
        elif af and "severity" in af:
            if af["severity"].value not in SEVERITIES:
                r.error(af["severity"].line, f"alerts.{key}.severity: unknown severity {af['severity'].value!r} "
                                             f"(known: {', '.join(SEVERITIES)})")
            else:
                severities[key] = af["severity"].value
    if "alerts" in f:
        for missing in [t for t in ALERT_TYPES if t not in declared]:
            r.error(f["alerts"].line, f"alerts: missing alert type {missing!r}")
    stage = None
    if "execution" in f:
        ef = r.fields(f["execution"], "execution", required=["allotments_need_stage"])
        if ef and "allotments_need_stage" in ef:
            stage = r.name(ef["allotments_need_stage"], "execution.allotments_need_stage")
            if stage is not None and stages and stage not in stages:
                r.error(ef["allotments_need_stage"].line, f"execution.allotments_need_stage: unknown stage {stage!r}")
                stage = None
    remarks = None
    if "report_remarks" in f:
        keys = ("high_underspending_above", "over_budget_below", "low_utilization_below", "near_full_utilization_above")
        rf = r.fields(f["report_remarks"], "report_remarks", required=(*keys, "approved_stages"))
        if rf and all(k in rf for k in (*keys, "approved_stages")):
            values = {k: r.decimal(rf[k], f"report_remarks.{k}", Decimal(-1000), Decimal(1000)) for k in keys}
            approved = []
            for item in r.names(rf["approved_stages"], "report_remarks.approved_stages"):
                if stages and item.value not in stages:
                    r.error(item.line, f"report_remarks.approved_stages: unknown stage {item.value!r}")
                else:
                    approved.append(item.value)
            if None not in values.values():
                remarks = ReportRemarks(**values, approved_stages=tuple(approved))
    if None in (threshold, tolerance, stage, remarks) or len(severities) != len(ALERT_TYPES):
        return None
    return BudgetRules(on_budget_threshold_pct=threshold, weights_tolerance=tolerance,
                       alert_severities=frozen_map(severities), allotments_need_stage=stage, remarks=remarks)


def _read_schedule(r: FileReader, doc: Item, known_jobs: frozenset[str]) -> ScheduleRules | None:
    f = r.fields(doc, "schedule.yaml", required=["timezone", "jobs"], optional=[
        "business_days", "holidays_country", "reminders", "retry_intervals_seconds"])
    if f is None:
        return None
    ok = True
    timezone = r.text(f["timezone"], "timezone") if "timezone" in f else None
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            r.error(f["timezone"].line, f"timezone: unknown time zone {timezone!r} (use an IANA name, e.g. Asia/Manila)")
            timezone = None
    business = r.boolean(f["business_days"], "business_days") if "business_days" in f else False
    country = r.text(f["holidays_country"], "holidays_country") if "holidays_country" in f else "PH"
    if country is not None and country not in holidays.list_supported_countries():
        r.error(f["holidays_country"].line, f"holidays_country: {country!r} is not a country the holidays "
                                            "package knows (use an ISO code such as PH)")
        country = None
    days_before = 1
    if "reminders" in f:
        rf = r.fields(f["reminders"], "reminders", required=["days_before_due"])
        days_before = (r.integer(rf["days_before_due"], "reminders.days_before_due", 0, 60)
                       if rf and "days_before_due" in rf else None)
    intervals: list[int] = [10, 60, 300]
    if "retry_intervals_seconds" in f:
        intervals = []
        for element in r.sequence(f["retry_intervals_seconds"], "retry_intervals_seconds"):
            value = r.integer(element, "retry_intervals_seconds", 0, 86_400)
            ok = ok and value is not None
            intervals.append(value or 0)
    jobs: list[ScheduledJob] = []
    for key, value, key_line in r.mapping(f["jobs"], "jobs") if "jobs" in f else []:
        jf = r.fields(value, f"jobs.{key}", required=["cron"])
        if known_jobs and key not in known_jobs:
            r.error(key_line, f"jobs: unknown job {key!r} (known: {', '.join(sorted(known_jobs))})")
            continue
        if not jf or "cron" not in jf:
            continue
        cron = r.text(jf["cron"], f"jobs.{key}.cron")
        if cron is not None and (len(cron.split()) != 5 or not croniter.is_valid(cron)):
            r.error(jf["cron"].line, f"jobs.{key}.cron: {cron!r} is not a five-field cron expression")
            cron = None
        if cron is not None:
            jobs.append(ScheduledJob(name=key, cron=cron))
    if None in (timezone, business, country, days_before) or not ok:
        return None
    return ScheduleRules(timezone=timezone, business_days=business, holidays_country=country,
                         reminder_days_before=days_before, retry_intervals=tuple(intervals), jobs=tuple(jobs))


#: Every rule file, in load order.
FILES: tuple[str, ...] = ("approval.yaml", "work_item_status.yaml", "wbs_templates.yaml", "sync.yaml", "budget.yaml",
                          "schedule.yaml")


def load_rules(directory: str | Path | None = None, *, known_effects: Iterable[str] = (),
               known_jobs: Iterable[str] = ()) -> RuleSet:
    """Load and validate every rule file in ``directory``.

    Args:
        directory: folder holding the ``*.yaml`` rule files; defaults to the
            rules shipped with ppaflow (``DEFAULT_RULES_DIR``).
        known_effects: names of the side effects the service registry can
            run; a transition naming any other effect is an error.
        known_jobs: names of the job kinds; a schedule entry naming any other
            is an error (not checked when empty).

    Returns:
        The frozen ``RuleSet`` with its content hash.

    Raises:
        RulesError: with every problem found, each as ``file:line: message``,
            sorted by file and line. Nothing is returned half-loaded.
    """
    base = Path(directory) if directory is not None else DEFAULT_RULES_DIR
    display = str(directory) if directory is not None else str(DEFAULT_RULES_DIR)
    errors: list[tuple[str, int, str]] = []
    if not base.is_dir():
        raise RulesError([f"{display}:1: rules directory not found"])
    present = {p.name for p in base.glob("*.yaml")} | {p.name for p in base.glob("*.yml")}
    for extra in sorted(present - set(FILES)):
        errors.append((str(Path(display) / extra), 1, f"unknown rules file (expected: {', '.join(FILES)})"))

    raw: dict[str, bytes] = {}
    docs: dict[str, tuple[FileReader, Item | None]] = {}
    for name in FILES:
        path = base / name
        shown = str(Path(display) / name)
        reader = FileReader(shown, errors)
        if not path.is_file():
            reader.error(1, "rules file is missing")
            docs[name] = (reader, None)
            continue
        raw[name] = path.read_bytes()
        docs[name] = (reader, _parse(reader, raw[name]))

    known = frozenset(known_effects)
    results: dict[str, Any] = {}

    def statuses() -> Iterable[str]:
        machine = results.get("work_item_status.yaml")
        return machine.states if machine is not None else ()

    def stages() -> Iterable[str]:
        approval = results.get("approval.yaml")
        return approval.machine.states if approval is not None else ()

    readers: dict[str, Callable[[FileReader, Item], Any]] = {
        "approval.yaml": lambda r, d: _read_approval(r, d, known),
        "work_item_status.yaml": _read_work_item_status,
        "wbs_templates.yaml": lambda r, d: _read_wbs(r, d, stages()),
        "sync.yaml": lambda r, d: _read_sync(r, d, statuses()),
        "budget.yaml": lambda r, d: _read_budget(r, d, stages()),
        "schedule.yaml": lambda r, d: _read_schedule(r, d, frozenset(known_jobs)),
    }
    for name in FILES:  # in order: later files refer to the stages and statuses read before them
        reader, doc = docs[name]
        if doc is not None:
            results[name] = readers[name](reader, doc)

    if errors or any(results.get(name) is None for name in FILES):
        if not errors:  # defensive: a reader returned None without saying why
            errors.append((display, 1, "rules could not be loaded"))
        raise RulesError([f"{path}:{line}: {message}" for path, line, message in sorted(errors)])

    digest = hashlib.sha256()
    files = []
    for name in FILES:
        digest.update(name.encode() + b"\0" + raw[name] + b"\0")
        files.append(RuleFile(name=name, sha256=hashlib.sha256(raw[name]).hexdigest()))
    return RuleSet(
        approval=results["approval.yaml"],
        work_item_status=results["work_item_status.yaml"],
        wbs=results["wbs_templates.yaml"],
        sync=results["sync.yaml"],
        budget=results["budget.yaml"],
        schedule=results["schedule.yaml"],
        hash=digest.hexdigest(),
        files=tuple(files),
    )


def _parse(reader: FileReader, data: bytes) -> Item | None:
    """Decode and parse one file; syntax errors and duplicate keys are
    recorded on ``reader``. Returns the top-level document or ``None``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reader.error(line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")
        return None
    if "\0" in text:
        reader.error(text[: text.index("\0")].count("\n") + 1, "contains a NUL character")
        return None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    try:
        anchors = _anchors_and_aliases(yaml, text)
        for line, message in anchors:
            reader.error(line, message)
        if anchors:
            return None
        node = yaml.compose(text)
        duplicates = _duplicate_keys(node) if node is not None else []
        for line, key in duplicates:
            reader.error(line, f"duplicate key {key!r}")
        doc = yaml.load(text)
    except RecursionError:
        reader.error(1, "nesting too deep")
        return None
    except Exception as exc:  # ruamel raises many classes; every one becomes file:line
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        reader.error(line, f"YAML syntax error: {problem}")
        return None
    if not isinstance(doc, CommentedMap):
        reader.error(1, f"expected a mapping at the top level, got {_kind(doc)}")
        return None
    return Item(doc, 1)


def _anchors_and_aliases(yaml: YAML, text: str) -> list[tuple[int, str]]:
    """``(line, message)`` for every anchor (``&name``) and alias (``*name``,
    also in a merge key ``<<: *name``) of the document.

    Rule files may use neither: nested aliases let a file of a few kilobytes
    expand to millions of nodes (the "billion laughs"), and a value defined
    once and used in many places would give every error the line of its
    definition. Scanned from the parser's events, before anything is built,
    so the check costs one pass over the text.
    """
    found = []
    for event in yaml.parse(text):
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            found.append((line, f"alias *{event.anchor}: rule files may not use YAML aliases; write the value out"))
        elif isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.anchor:
            found.append((line, f"anchor &{event.anchor}: rule files may not use YAML anchors and aliases; "
                                "write the value out"))
    return found


def _duplicate_keys(root: Node) -> list[tuple[int, str]]:
    """``(line, key)`` for every repeated key in any mapping of the document."""
    found = []
    stack: list[Node] = [root]
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # aliases may share nodes
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                key = str(getattr(key_node, "value", ""))
                if key in keys:
                    found.append((key_node.start_mark.line + 1, key))
                keys.add(key)
                stack.extend((key_node, value_node))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return sorted(found)
