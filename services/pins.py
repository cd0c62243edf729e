"""The approval stages of every rule set PPAs are pinned to, for the jobs
that walk all PPAs (reminders, overdue alerts, escalations): each PPA is
judged by the set it was submitted under (docs/design.md §13)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Ppa
from rules.model import State
from services.runtime import get_runtime, runtime_for
from workflow.errors import NotFound, RulesError

log = logging.getLogger("ppaflow.jobs")


def approval_stages_by_pin(session: Session, keep: Callable[[State], bool]) -> dict[str | None, dict[str, State]]:
    """The approval stages ``keep`` accepts, by rule set: ``None`` (the rules
    in force, for drafts) and the hash of every set an unfinished PPA is
    pinned to (one that is not in a final stage of the rules in force).

    Returns:
        ``{rules_hash or None: {stage name: State}}``. A pinned set that
        cannot be read (not stored, or its files no longer load with this
        code) is logged and left out, so its PPAs are skipped and every
        other PPA is still served.
    """
    finals = [s.name for s in get_runtime().rules.approval.machine.states.values() if s.final]
    pins = session.scalars(select(Ppa.rules_hash).distinct()
                           .where(Ppa.rules_hash.is_not(None), Ppa.approval_status.not_in(finals)))
    by_set: dict[str | None, dict[str, State]] = {}
    for pin in [None, *pins]:
        try:
            machine = runtime_for(pin).rules.approval.machine
        except (NotFound, RulesError) as exc:
            log.error("PPAs pinned to rule set %s skipped: %s", pin, exc)
            continue
        by_set[pin] = {s.name: s for s in machine.states.values() if keep(s)}
    return by_set
