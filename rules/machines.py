"""Reading state machines (docs/design.md §6): the stages or statuses, the
transitions between them, and the checks of the machine as a graph. Shared
by the workflow files (people on the edges: roles, reviewers, comments,
effects) and the work item status file (no people).
"""

from __future__ import annotations

import re
from collections import deque
from decimal import Decimal, InvalidOperation
from collections.abc import Container
from dataclasses import dataclass, replace
from itertools import pairwise

from ruamel.yaml.comments import CommentedMap

from rules.model import Escalation, MachineRules, SignOff, State, Transition, frozen_map
from rules.reading import FileReader, Item, describe, did_you_mean
from workflow.conditions import COMBINATORS, FIELDS, OPERATORS, Combine, Compare, Condition

#: An organization code in a sign-off list (``MPW``, ``BWC``, ``BPDA``).
ORGANIZATION_CODE = re.compile(r"[A-Z][A-Z0-9-]{1,19}")


@dataclass
class StateSpec:
    """A state as read, with the line of its name."""

    state: State
    line: int
    declares_reviewers: bool = False  # even if some were unknown (no cascade of errors)
    sign_off_item: Item | None = None  # checked against the transitions once they are read
    escalate_item: Item | None = None


@dataclass
class TransitionSpec:
    """A transition entry as read (one per list item, several sources
    possible), each part with its line, before the graph is checked."""

    trigger: str
    sources: list[Item]
    dest: Item
    roles: list[Item]
    roles_given: bool
    comment_required: bool
    effects: list[Item]
    line: int
    when: Condition | None = None


def read_states(
    r: FileReader, item: Item, where: str, *, noun: str, people: bool, known_roles: Container[str]
) -> dict[str, StateSpec]:
    """The states of ``item`` (a mapping of name -> options), by name.

    With ``people`` (workflow files) a state may name ``reviewers``, which
    must be ``known_roles``, and ``due_in_days``; without (work item
    statuses) only ``label`` and ``final``.
    """
    states: dict[str, StateSpec] = {}
    optional = ["label", "final"] + (["reviewers", "due_in_days", "sign_off", "escalate"] if people else [])
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
                r.error(role.line, f"{noun} {name}: unknown role {role.value!r} in reviewers"
                                   f"{did_you_mean(role.value, known_roles)}")
            else:
                reviewers.append(role.value)
        due = r.integer(f["due_in_days"], f"{name}.due_in_days", minimum=1, maximum=365) if "due_in_days" in f else None
        states[name] = StateSpec(
            State(name=name, label=label or name.replace("_", " ").capitalize(), final=final,
                  reviewers=tuple(reviewers), due_in_days=due),
            key_line,
            declares_reviewers="reviewers" in f,
            sign_off_item=f.get("sign_off"),
            escalate_item=f.get("escalate"),
        )
    return states


def read_transitions(r: FileReader, item: Item, *, people: bool, workflow: str = "") -> list[TransitionSpec]:
    """The transition entries of ``item`` (a list); with ``people`` each may
    name ``roles``, ``comment_required``, ``effects`` and ``when`` (a
    condition on the fields ``workflow`` declares, ``read_condition``)."""
    specs = []
    optional = ["roles", "comment_required", "effects", "when"] if people else []
    for element in r.sequence(item, "transitions"):
        f = r.fields(element, "transition", required=["trigger", "source", "dest"], optional=optional)
        if f is None or "trigger" not in f:  # a missing key is already reported, on its line
            continue
        trigger = r.name(f["trigger"], "transition trigger")
        sources = r.names(f["source"], "transition source") if "source" in f else []
        dest_name = r.name(f["dest"], "transition dest") if "dest" in f else None
        if trigger is None or dest_name is None:
            continue
        roles = r.names(f["roles"], f"{trigger}.roles") if "roles" in f else []
        comment = bool(r.boolean(f["comment_required"], f"{trigger}.comment_required")) if "comment_required" in f else False
        effects = r.names(f["effects"], f"{trigger}.effects") if "effects" in f else []
        when = read_condition(r, f["when"], f"transition {trigger}: when", workflow) if "when" in f else None
        if "when" in f and when is None:  # reported; a condition that never holds keeps the graph checks quiet
            when = Combine("any", ())
        specs.append(TransitionSpec(trigger, sources, Item(dest_name, f["dest"].line), roles, "roles" in f,
                                     comment, effects, element.line, when))
    return specs


def read_condition(r: FileReader, item: Item, where: str, workflow: str) -> Condition | None:
    """A ``when:`` condition: a mapping of ``field: {op: value}`` entries
    (all must hold), or ``all: [...]`` / ``any: [...]`` of such mappings.
    Fields are those ``workflow`` declares (``workflow.conditions.FIELDS``);
    money values are quoted decimal strings, compared as ``Decimal``."""
    known = FIELDS.get(workflow, {})
    if not known:
        r.error(item.line, f"{where}: workflow {workflow!r} declares no fields a condition may name")
        return None
    if not isinstance(item.value, CommentedMap) or not item.value:
        r.error(item.line, f"{where}: expected a mapping such as {{budget_allocation: {{gt: \"50000000.00\"}}}}, "
                           f"or all:/any: with a list of them")
        return None
    parts: list[Condition] = []
    ok = True
    for key, value, key_line in r.entries(item):
        if key in COMBINATORS:
            items = []
            for element in r.sequence(value, f"{where}.{key}"):
                part = read_condition(r, element, f"{where}.{key}", workflow)
                ok = ok and part is not None
                items.append(part)
            if not items:
                r.error(key_line, f"{where}.{key}: name at least one condition")
                ok = False
            elif ok:
                parts.append(Combine(key, tuple(items)))
            continue
        if key not in known:
            r.error(key_line, f"{where}: unknown field {key!r} (conditions of {workflow} may name: "
                              f"{', '.join(known)}){did_you_mean(key, known)}")
            ok = False
            continue
        compare = _read_compare(r, key, known[key], value, f"{where}.{key}")
        ok = ok and compare is not None
        parts.extend(compare or ())
    if not ok:
        return None
    return parts[0] if len(parts) == 1 else Combine("all", tuple(parts))


def _read_compare(r: FileReader, name: str, kind: str, item: Item, where: str) -> list[Compare] | None:
    """``{op: value, ...}`` on one field: one ``Compare`` per operator."""
    if not isinstance(item.value, CommentedMap) or not item.value:
        r.error(item.line, f"{where}: expected a mapping of operator to value, e.g. {{eq: ...}} "
                           f"(operators: {', '.join(OPERATORS)})")
        return None
    out, ok = [], True
    for op, value, line in r.entries(item):
        if op not in OPERATORS:
            r.error(line, f"{where}: unknown operator {op!r} (operators: {', '.join(OPERATORS)})"
                          f"{did_you_mean(op, OPERATORS)}")
            ok = False
            continue
        if op in ("gt", "ge", "lt", "le") and kind in ("text", "boolean"):
            r.error(line, f"{where}: {op} compares numbers; {name} is {kind} (use eq, ne or in)")
            ok = False
            continue
        if op == "in":
            values = [_read_value(r, element, kind, f"{where}.in") for element in r.sequence(value, f"{where}.in")]
            if any(v is None for v in values) or not values:
                if not values and isinstance(value.value, list):
                    r.error(line, f"{where}.in: list at least one value")
                ok = False
                continue
            out.append(Compare(name, op, tuple(values)))
            continue
        single = _read_value(r, value, kind, f"{where}.{op}")
        if single is None:
            ok = False
            continue
        out.append(Compare(name, op, single))
    return out if ok else None


def _read_value(r: FileReader, item: Item, kind: str, where: str):
    """One value of a field of ``kind``; ``None`` (after an error) when it does not fit."""
    value = item.value
    if kind == "money":
        if isinstance(value, float) or isinstance(value, bool) or not isinstance(value, (str, int)):
            r.error(item.line, f"{where}: write money as a quoted amount, e.g. \"50000000.00\" "
                               f"(got {describe_value(value)})")
            return None
        try:
            amount = Decimal(str(value).replace(",", ""))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount.as_tuple().exponent < -2:
            r.error(item.line, f"{where}: {value!r} is not an amount in pesos with at most 2 decimals")
            return None
        return amount
    if kind == "integer":
        return r.integer(item, where)
    if kind == "boolean":
        return r.boolean(item, where)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return r.text(Item(value, item.line), where)


def describe_value(value) -> str:
    """A YAML value's type in words (``rules.reading.describe``)."""
    return describe(value)


def read_stage_extras(r: FileReader, states: dict[str, StateSpec], specs: list[TransitionSpec],
                      known_roles: Container[str]) -> None:
    """Read each stage's ``sign_off`` and ``escalate`` (they name the
    stage's triggers, known once the transitions are read) into its ``State``."""
    triggers_from: dict[str, set[str]] = {}
    for spec in specs:
        for source in spec.sources:
            triggers_from.setdefault(source.value, set()).add(spec.trigger)
    for name, spec in states.items():
        own = triggers_from.get(name, set())
        sign_off = _read_sign_off(r, spec.sign_off_item, name, own, known_roles) if spec.sign_off_item else None
        escalate = _read_escalate(r, spec.escalate_item, name, own, known_roles) if spec.escalate_item else None
        if sign_off is not None and escalate is not None and escalate.then == sign_off.trigger:
            r.error(spec.escalate_item.line,
                    f"stage {name}: escalate.then fires {escalate.then!r}, the trigger its sign_off counts; "
                    f"that would move it on with fewer than {sign_off.required} sign-offs: fire another "
                    f"trigger (e.g. return_for_revision) or leave then out")
        if sign_off is not None or escalate is not None:
            spec.state = replace(spec.state, sign_off=sign_off, escalate=escalate)


def _read_sign_off(r: FileReader, item: Item, stage: str, triggers: set[str],
                   known_roles: Container[str]) -> SignOff | None:
    where = f"stage {stage}: sign_off"
    f = r.fields(item, where, required=["required", "of"], optional=["trigger"])
    if f is None or "of" not in f or "required" not in f:
        return None
    entries = r.sequence(f["of"], f"{where}.of")
    of, roles, ok = [], [], True
    for entry in entries:
        value = entry.value
        if not isinstance(value, str) or not value.strip():
            r.error(entry.line, f"{where}.of: expected an organization code (MPW) or a role, got {describe_value(value)}")
            ok = False
        elif value in of:
            r.error(entry.line, f"{where}.of: {value!r} is listed twice")
            ok = False
        elif value in known_roles:
            of.append(value)
            roles.append(value)
        elif ORGANIZATION_CODE.fullmatch(value):
            of.append(value)
        else:
            r.error(entry.line, f"{where}.of: {value!r} is neither a role nor an organization code (capitals, "
                                f"e.g. MPW){did_you_mean(value, known_roles)}")
            ok = False
    required = r.integer(f["required"], f"{where}.required", minimum=1)
    if required is not None and ok and required > len(of):
        r.error(f["required"].line, f"{where}: required {required} is more than the {len(of)} listed "
                                    f"({', '.join(of)}); the stage could never advance")
        ok = False
    trigger = r.name(f["trigger"], f"{where}.trigger") if "trigger" in f else "approve"
    if trigger is not None and trigger not in triggers:
        r.error((f.get("trigger") or item).line,
                f"{where}: no transition {trigger!r} leaves {stage!r}{did_you_mean(trigger, triggers)}")
        ok = False
    if not ok or required is None or trigger is None:
        return None
    return SignOff(required=required, of=tuple(of), roles=tuple(roles), trigger=trigger)


def _read_escalate(r: FileReader, item: Item, stage: str, triggers: set[str],
                   known_roles: Container[str]) -> Escalation | None:
    where = f"stage {stage}: escalate"
    f = r.fields(item, where, required=["after_business_days", "notify"], optional=["then"])
    if f is None or "after_business_days" not in f or "notify" not in f:
        return None
    days = r.integer(f["after_business_days"], f"{where}.after_business_days", minimum=1, maximum=365)
    notify, ok = [], True
    for role in r.names(f["notify"], f"{where}.notify"):
        if role.value not in known_roles:
            r.error(role.line, f"{where}.notify: unknown role {role.value!r}{did_you_mean(role.value, known_roles)}")
            ok = False
        else:
            notify.append(role.value)
    if ok and not notify:
        r.error(f["notify"].line, f"{where}.notify: name at least one role")
        ok = False
    then = r.name(f["then"], f"{where}.then") if "then" in f else None
    if then is not None and then not in triggers:
        r.error(f["then"].line, f"{where}.then: no transition {then!r} leaves {stage!r}"
                                f"{did_you_mean(then, triggers)}")
        ok = False
    if not ok or days is None or ("then" in f and then is None):
        return None
    return Escalation(after_business_days=days, notify=tuple(notify), then=then)


def build_machine(
    r: FileReader,
    name: str,
    initial: Item | None,
    states: dict[str, StateSpec],
    specs: list[TransitionSpec],
    *,
    noun: str,
    known_roles: Container[str] | None = None,
    known_effects: frozenset[str] | None = None,
) -> MachineRules | None:
    """Check a machine as a graph and build it (one ``Transition`` per source).

    Checked: unknown states in sources and dests, exits from final states,
    a (trigger, source) declared twice, unknown roles and effects (when
    ``known_roles``/``known_effects`` are given), transitions without roles
    from states without reviewers, the initial state, unreachable states,
    non-final dead ends and loops with no way out to a final state (a trap,
    named in order: ``review ⇄ revision``). Returns ``None`` when the machine cannot be built.
    """
    transitions: list[Transition] = []
    seen: dict[tuple[str, str], int] = {}
    seen_when: dict[tuple[str, str], Condition | None] = {}
    for spec in specs:
        if spec.dest.value not in states:
            r.error(spec.dest.line, f"transition {spec.trigger}: unknown {noun} {spec.dest.value!r} in dest"
                                    f"{did_you_mean(spec.dest.value, states)}")
        roles: list[str] = []
        for role in spec.roles:
            if known_roles is not None and role.value not in known_roles:
                r.error(role.line, f"transition {spec.trigger}: unknown role {role.value!r}"
                                   f"{did_you_mean(role.value, known_roles)}")
            else:
                roles.append(role.value)
        effects: list[str] = []
        for effect in spec.effects:
            if known_effects is not None and effect.value not in known_effects:
                known = ", ".join(sorted(known_effects)) or "none"
                r.error(effect.line, f"transition {spec.trigger}: unknown effect {effect.value!r} (known: {known})"
                                     f"{did_you_mean(effect.value, known_effects)}")
            else:
                effects.append(effect.value)
        if not spec.sources:
            r.error(spec.line, f"transition {spec.trigger}: no source {noun}")
        for source in spec.sources:
            state = states.get(source.value)
            if state is None:
                r.error(source.line, f"transition {spec.trigger}: unknown {noun} {source.value!r} in source"
                                     f"{did_you_mean(source.value, states)}")
                continue
            if state.state.final:
                r.error(source.line, f"transition {spec.trigger}: exits {source.value!r}, which is final")
                continue
            key = (spec.trigger, source.value)
            if key in seen and seen_when.get(key) is None:
                r.error(source.line, f"transition {spec.trigger} from {source.value!r} is declared twice "
                                     f"(first on line {seen[key]})" + (
                                         "; a conditional route (when) must come before the route taken "
                                         "otherwise" if spec.when is not None else ""))
                continue
            seen[key] = source.line
            seen_when[key] = spec.when
            allowed_roles = tuple(roles)
            if known_roles is not None and not spec.roles_given:
                allowed_roles = state.state.reviewers
                if not allowed_roles and not state.declares_reviewers:
                    r.error(source.line, f"transition {spec.trigger} from {source.value!r} names no roles and "
                                         f"{source.value!r} has no reviewers")
            transitions.append(Transition(
                trigger=spec.trigger, source=source.value, dest=spec.dest.value, roles=allowed_roles,
                comment_required=spec.comment_required, effects=tuple(effects), when=spec.when,
            ))
    for key, when in seen_when.items():
        if when is not None:
            r.error(seen[key], f"transition {key[0]} from {key[1]!r} has only conditional routes; add one "
                               f"without when after them, taken when no condition holds")
    if initial is None:
        return None
    if initial.value not in states:
        r.error(initial.line, f"initial {noun} {initial.value!r} is not declared{did_you_mean(initial.value, states)}")
        return None
    if states[initial.value].state.final:
        r.error(initial.line, f"initial {noun} {initial.value!r} is final: nothing could ever happen")
    reached = reachable(initial.value, transitions)
    dead_ends = [s for s, spec in states.items()
                 if s in reached and not spec.state.final and not any(t.source == s for t in transitions)]
    lost = [s for s in states if s not in reached]
    cut_off = [s for s in lost if not any(t.dest == s and t.source != s for t in transitions)]
    for state_name, spec in states.items():
        if state_name in lost:
            r.error(spec.line, f"{noun} {state_name!r} is unreachable from {initial.value!r}"
                               + _why_unreachable(state_name, cut_off, dead_ends, transitions, noun))
        elif state_name in dead_ends:
            r.error(spec.line, f"{noun} {state_name!r} is not final but no transition leaves it"
                               + (f"; its missing exit is likely the transition to {_names(cut_off)}, which "
                                  f"nothing leads to any more" if cut_off else ""))
    for loop, words in trap_loops(list(states), {s for s, spec in states.items() if spec.state.final}, reached,
                                  transitions):
        r.error(states[loop[0]].line, f"{words}: no transition leads out to a final {noun}")
    return MachineRules(
        name=name,
        initial=initial.value,
        states=frozen_map({k: v.state for k, v in states.items()}),
        transitions=tuple(transitions),
    )


def read_machine(r: FileReader, f: dict[str, Item], name: str, *, noun: str, people: bool,
                 known_roles: Container[str] | None = None, known_effects: frozenset[str] | None = None,
                 ) -> tuple[MachineRules | None, dict[str, StateSpec], set[str]]:
    """The machine of a file's fields ``f``: its states under the key
    ``<noun>s`` (``stages``, ``statuses``), its initial state under
    ``initial_<noun>`` and its ``transitions``, built and checked as a graph.

    Returns:
        ``(machine or None, the states read by name, the trigger names read)``.
    """
    states_key, initial_key = f"{'stages' if noun == 'stage' else 'statuses'}", f"initial_{noun}"
    states = read_states(r, f[states_key], states_key, noun=noun, people=people, known_roles=known_roles or {}) \
        if states_key in f else {}
    specs = read_transitions(r, f["transitions"], people=people, workflow=name) if "transitions" in f else []
    if people:
        read_stage_extras(r, states, specs, known_roles or {})
    initial = None
    if initial_key in f:
        value = r.name(f[initial_key], initial_key)
        initial = Item(value, f[initial_key].line) if value else None
    machine = build_machine(r, name, initial, states, specs, noun=noun, known_roles=known_roles,
                            known_effects=known_effects)
    return machine, states, {spec.trigger for spec in specs}


def _names(states: list[str]) -> str:
    """``'a'``, ``'a' or 'b'``: states in a message."""
    quoted = [repr(s) for s in states]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _why_unreachable(state: str, cut_off: list[str], dead_ends: list[str], transitions: list[Transition],
                     noun: str) -> str:
    """Why ``state`` cannot be reached, so that a removed transition is named
    by its two ends rather than by every stage it cut off (issue 14 item 4):
    nothing leads into it (and, if a reachable stage became a dead end, that
    stage's exit is the missing transition), or only stages that are
    themselves unreachable do."""
    if state in cut_off:
        missing = f" (the transition from {_names(dead_ends)} to it is missing?)" if dead_ends else ""
        return f": no transition leads to it{missing}"
    sources = sorted({t.source for t in transitions if t.dest == state and t.source != state})
    return f": only {_names(sources)} lead{'s' if len(sources) == 1 else ''} to it, and {noun}s cut off " \
           f"from the start are {_names(cut_off)}" if cut_off else ""


def reachable(initial: str, transitions: list[Transition]) -> set[str]:
    """Every state reachable from ``initial`` along ``transitions``."""
    seen, queue = {initial}, deque([initial])
    while queue:
        state = queue.popleft()
        for t in transitions:
            if t.source == state and t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    return seen


def trap_loops(order: list[str], finals: set[str], reached: set[str],
               transitions: list[Transition]) -> list[tuple[list[str], str]]:
    """The loops a record can enter and never leave for a final state.

    Args:
        order: every state, in the order the file declares them.
        finals: the final states.
        reached: the states reachable from the initial one (the others are
            reported as unreachable, not again here).
        transitions: the machine's edges.

    Returns:
        Each trap (a set of states, each reachable from every other, from
        which no path leads to a final state and no edge leads anywhere
        else) as ``(its states in the order a record goes round it, starting
        with the one declared first, the loop in words)``: ``review ⇄
        revision``, ``a → b → c → a``. A lone state with no exit is a dead
        end, reported as such, not here.
    """
    edges: dict[str, list[str]] = {s: [] for s in order}
    back: dict[str, set[str]] = {s: set() for s in order}
    for t in transitions:
        if t.source in edges and t.dest in edges:
            edges[t.source].append(t.dest)
            back[t.dest].add(t.source)
    finishing, queue = set(finals), deque(finals)  # states from which a final state can be reached
    while queue:
        for source in back[queue.popleft()]:
            if source not in finishing:
                finishing.add(source)
                queue.append(source)
    stuck = [s for s in order if s in reached and s not in finishing]
    loops, placed = [], set()
    for state in stuck:
        if state in placed:
            continue
        ahead = reachable(state, transitions)
        component = [s for s in order if s in ahead and state in reachable(s, transitions)]
        placed.update(component)
        closed = all(dest in component for s in component for dest in edges[s])
        if closed and (len(component) > 1 or state in edges[state]):
            loops.append(_round_trip(component, edges))
    return [(loop, describe_loop(loop, edges)) for loop in loops]


def _round_trip(component: list[str], edges: dict[str, list[str]]) -> list[str]:
    """The states of a loop in the order a record goes round: the longest
    path from the first-declared state back to it (depth-first, bounded),
    then any state it misses, in declaration order."""
    start, members = component[0], set(component)
    best: list[str] = [start]
    budget = [10_000]

    def walk(path: list[str]) -> None:
        nonlocal best
        budget[0] -= 1
        if budget[0] < 0 or len(best) == len(component):
            return
        for dest in edges[path[-1]]:
            if dest == start and len(path) > len(best):
                best = list(path)
            elif dest in members and dest not in path:
                walk([*path, dest])

    walk([start])
    return best + [s for s in component if s not in best]


def describe_loop(loop: list[str], edges: dict[str, list[str]]) -> str:
    """A loop in words: ``review ⇄ revision``; ``a → b → c → a`` when a
    record can go round the states in that order; a state with a transition
    to itself: ``review → review``; else the states in order, by commas."""
    if len(loop) == 2 and loop[1] in edges[loop[0]] and loop[0] in edges[loop[1]]:
        return f"{loop[0]} ⇄ {loop[1]}"
    closed = [*loop, loop[0]]
    if all(b in edges[a] for a, b in pairwise(closed)):
        return " → ".join(closed)
    return ", ".join(loop)
