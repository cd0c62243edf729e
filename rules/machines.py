"""Reading state machines (docs/design.md §6): the stages or statuses, the
transitions between them, and the checks of the machine as a graph. Shared
by the workflow files (people on the edges: roles, reviewers, comments,
effects) and the work item status file (no people).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Container
from dataclasses import dataclass

from ruamel.yaml.comments import CommentedMap

from rules.model import MachineRules, State, Transition, frozen_map
from rules.reading import FileReader, Item


@dataclass
class StateSpec:
    """A state as read, with the line of its name."""

    state: State
    line: int
    declares_reviewers: bool = False  # even if some were unknown (no cascade of errors)


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


def read_states(
    r: FileReader, item: Item, where: str, *, noun: str, people: bool, known_roles: Container[str]
) -> dict[str, StateSpec]:
    """The states of ``item`` (a mapping of name -> options), by name.

    With ``people`` (workflow files) a state may name ``reviewers``, which
    must be ``known_roles``, and ``due_in_days``; without (work item
    statuses) only ``label`` and ``final``.
    """
    states: dict[str, StateSpec] = {}
    optional = ["label", "final"] + (["reviewers", "due_in_days"] if people else [])
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
        states[name] = StateSpec(
            State(name=name, label=label or name.replace("_", " ").capitalize(), final=final,
                  reviewers=tuple(reviewers), due_in_days=due),
            key_line,
            declares_reviewers="reviewers" in f,
        )
    return states


def read_transitions(r: FileReader, item: Item, *, people: bool) -> list[TransitionSpec]:
    """The transition entries of ``item`` (a list); with ``people`` each may
    name ``roles``, ``comment_required`` and ``effects``."""
    specs = []
    optional = ["roles", "comment_required", "effects"] if people else []
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
        specs.append(TransitionSpec(trigger, sources, Item(dest_name, f["dest"].line), roles, "roles" in f,
                                     comment, effects, element.line))
    return specs


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
    from states without reviewers, the initial state, unreachable states and
    non-final dead ends. Returns ``None`` when the machine cannot be built.
    """
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
    reached = reachable(initial.value, transitions)
    for state_name, spec in states.items():
        if state_name not in reached:
            r.error(spec.line, f"{noun} {state_name!r} is unreachable from {initial.value!r}")
        elif not spec.state.final and not any(t.source == state_name for t in transitions):
            r.error(spec.line, f"{noun} {state_name!r} is not final but no transition leaves it")
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
    specs = read_transitions(r, f["transitions"], people=people) if "transitions" in f else []
    initial = None
    if initial_key in f:
        value = r.name(f[initial_key], initial_key)
        initial = Item(value, f[initial_key].line) if value else None
    machine = build_machine(r, name, initial, states, specs, noun=noun, known_roles=known_roles,
                            known_effects=known_effects)
    return machine, states, {spec.trigger for spec in specs}


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
