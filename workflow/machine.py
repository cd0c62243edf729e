"""One shared ``transitions.Machine`` per workflow, fired per instance.

The machine is built once from the rule objects (states and transitions as
data) with ``model=None``; each record is wrapped in a tiny model object and
the event is fired on it with ``Event.trigger(model)``. No Machine is ever
created per row (docs/design.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass

from transitions import Machine, MachineError

from rules.model import MachineRules, Transition
from workflow.errors import InvalidTransition, ValidationFailed


@dataclass
class StateHolder:
    """The model ``transitions`` fires on: just the current state."""

    state: str


def _holds(transition: Transition):
    """The ``transitions`` condition of a conditional edge: its ``when`` on the ``facts`` passed to the event."""
    def holds(facts=None, **_ignored) -> bool:
        return facts is not None and transition.when.holds(facts)
    return holds


class SharedMachine:
    """A ``transitions.Machine`` built from ``MachineRules``, shared by every
    record of that workflow.

    Args:
        rules: states and transitions from the rule files.
        noun: what a state is called in messages (``stage``, ``status``).
    """

    def __init__(self, rules: MachineRules, *, noun: str = "state"):
        self.rules = rules
        self.noun = noun
        self._machine = Machine(
            model=None,
            states=list(rules.states),
            transitions=[{"trigger": t.trigger, "source": t.source, "dest": t.dest,
                          **({"conditions": [_holds(t)]} if t.when is not None else {})}
                         for t in rules.transitions],
            initial=rules.initial,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )

    def require_trigger(self, trigger: str) -> None:
        """Raise ``ValidationFailed`` (field ``trigger``) unless the workflow
        knows ``trigger`` at all."""
        if trigger not in self.rules.triggers:
            raise ValidationFailed({"trigger": [
                f"unknown trigger {trigger!r}; {self.rules.name} has: {', '.join(self.rules.triggers)}"]})

    def edge(self, trigger: str, state: str, facts=None) -> Transition:
        """The transition ``trigger`` takes from ``state`` for a record with
        field values ``facts`` (its conditional routes, docs/design.md §6).

        Raises:
            ValidationFailed: unknown trigger.
            InvalidTransition: the trigger exists but not from ``state``.
        """
        self.require_trigger(trigger)
        transition = self.rules.transition_from(trigger, state, facts)
        if transition is None:
            sources = sorted({t.source for t in self.rules.transitions if t.trigger == trigger})
            raise InvalidTransition(
                f"cannot {trigger} from {self.noun} {state!r} (possible from: {', '.join(sources)})",
                trigger=trigger, current=state,
            )
        return transition

    def fire(self, state: str, trigger: str, facts=None) -> tuple[str, Transition]:
        """Fire ``trigger`` on a record currently in ``state`` whose
        condition fields are ``facts`` (``workflow.conditions``; ``None``: no
        condition holds, the unconditional route is taken).

        Returns:
            ``(new_state, transition)``.

        Raises:
            ValidationFailed: unknown trigger.
            InvalidTransition: not possible from ``state``.
        """
        transition = self.edge(trigger, state, facts)
        holder = StateHolder(state)
        try:
            self._machine.events[trigger].trigger(holder, facts=facts)
        except MachineError as exc:  # the rules and the machine disagree: still a 409, never a 500
            raise InvalidTransition(str(exc.value), trigger=trigger, current=state) from None
        return holder.state, transition
