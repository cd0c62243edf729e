"""What changes between two rule sets: the stages, transitions, roles, WBS
templates and non-working days one has and the other lacks (``ppaflow rules diff``,
``ppaflow rules activate``; docs/design.md §13)."""

from __future__ import annotations

from dataclasses import dataclass

from rules.model import RuleSet

#: The parts a diff compares, in the order it prints them.
PARTS = ("stages", "transitions", "roles", "templates", "days")


def _stages(rules: RuleSet) -> set[str]:
    return {f"{name}: {stage}" for name, workflow in rules.workflows.items() for stage in workflow.machine.states}


def _transitions(rules: RuleSet) -> set[str]:
    return {f"{name}: {t.source} --{t.trigger}--> {t.dest} [{', '.join(t.roles)}]"
            + (f" when {t.when.describe()}" if t.when is not None else "")
            for name, workflow in rules.workflows.items() for t in workflow.machine.transitions}


def _days(rules: RuleSet) -> set[str]:
    return {f"{d.day.isoformat()} {d.name} ({d.kind})" for days in rules.calendar.years.values() for d in days}


def _parts(rules: RuleSet) -> dict[str, set[str]]:
    return {"stages": _stages(rules), "transitions": _transitions(rules), "roles": set(rules.roles),
            "templates": set(rules.wbs.templates), "days": _days(rules)}


@dataclass(frozen=True)
class RuleSetDiff:
    """The difference from an old rule set to a new one.

    Attributes:
        old_hash, new_hash: the two sets' hashes.
        added, removed: part (``PARTS``) -> its items the new set adds or
            lacks, sorted. A stage is ``workflow: stage``; a transition
            ``workflow: source --trigger--> dest [roles]``, plus ``when <condition>``
            for a conditional route (so a transition
            whose destination or roles changed is removed and added); a
            role or a WBS template is its name; a non-working day of the
            calendar files ``2027-05-16 Eid'l Adha (national_regular)`` (a
            day moved is removed and added).
    """

    old_hash: str
    new_hash: str
    added: dict[str, tuple[str, ...]]
    removed: dict[str, tuple[str, ...]]

    @property
    def empty(self) -> bool:
        """No stage, transition, role, template or non-working day is added or removed."""
        return not any(self.added.values()) and not any(self.removed.values())

    def summary(self) -> str:
        """One line: ``stages +1 -0, transitions +2 -1, roles +0 -0, templates +0 -0``."""
        return ", ".join(f"{part} +{len(self.added[part])} -{len(self.removed[part])}" for part in PARTS)

    def lines(self) -> list[str]:
        """Every item added (``+ stage ppa_approval: x``) and removed (``- ...``), by part."""
        out = []
        for part in PARTS:
            noun = "non-working day" if part == "days" else part[:-1]
            out += [f"  - {noun} {item}" for item in self.removed[part]]
            out += [f"  + {noun} {item}" for item in self.added[part]]
        return out


def diff_rule_sets(old: RuleSet, new: RuleSet) -> RuleSetDiff:
    """The stages, transitions, roles, WBS templates and non-working days
    ``new`` adds to and removes from ``old`` (every workflow's, by workflow)."""
    before, after = _parts(old), _parts(new)
    return RuleSetDiff(old_hash=old.hash, new_hash=new.hash,
                       added={part: tuple(sorted(after[part] - before[part])) for part in PARTS},
                       removed={part: tuple(sorted(before[part] - after[part])) for part in PARTS})
