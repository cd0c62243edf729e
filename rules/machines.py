"""Reading state machines (docs/design.md §6): the stages or statuses, the
transitions between them, and the checks of the machine as a graph. Shared
by the workflow files (people on the edges: roles, reviewers, comments,
effects) and the work item status file (no people).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Container
from dataclasses import dataclass
from itertools import pairwise

from ruamel.yaml.comments import CommentedMap

from rules.model import MachineRules, State, Transition, frozen_map
from rules.reading import FileReader, Item, did_you_mean


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
    from states without reviewers, the initial state, unreachable states,
    non-final dead ends and loops with no way out to a final state (a trap,
    named in order: ``review ⇄ revision``). Returns ``None`` when the machine cannot be built.
    """
    transitions: list[Transition] = []
    seen: dict[tuple[str, str], int] = {}
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
        r.error(initial.line, f"initial {noun} {initial.value!r} is not declared{did_you_mean(initial.value, states)}")
        return None
    if states[initial.value].state.final:
        r.error(initial.line, f"initial {noun} {initial.value!r} is final: nothing could ever happen")
    reached = reachable(initial.value, transitions)
    for state_name, spec in states.items():
        if state_name not in reached:
            r.error(spec.line, f"{noun} {state_name!r} is unreachable from {initial.value!r}")
        elif not spec.state.final and not any(t.source == state_name for t in transitions):
            r.error(spec.line, f"{noun} {state_name!r} is not final but no transition leaves it")
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
