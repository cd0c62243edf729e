"""Side effects of approval transitions, dispatched through one registry.

rules/approval.yaml names the effects of each transition (``effects:``);
the loader refuses names that are not registered here. Effects run inside
the transition's transaction: they land with it or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.models import Ppa, User
from services.runtime import Runtime
from workflow.approval import Outcome


@dataclass(frozen=True)
class EffectContext:
    """What an effect may use: the open session, the PPA (already in its new
    stage), the acting user, the transition's outcome and the runtime."""

    session: Session
    ppa: Ppa
    actor: User
    outcome: Outcome
    runtime: Runtime


Effect = Callable[[EffectContext], None]

#: Effect name -> function. Filled by ``@effect`` below.
EFFECTS: dict[str, Effect] = {}


def effect(name: str) -> Callable[[Effect], Effect]:
    """Register the decorated function as the effect ``name``."""

    def register(function: Effect) -> Effect:
        EFFECTS[name] = function
        return function

    return register


def known_effects() -> frozenset[str]:
    """Names of every registered effect (passed to the rules loader)."""
    return frozenset(EFFECTS)


def run_effects(names: Iterable[str], context: EffectContext) -> None:
    """Run the named effects in order, in the caller's transaction."""
    for name in names:
        EFFECTS[name](context)
