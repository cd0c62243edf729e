"""Moving records from one rule set's workflow to another's (pure; issue 14
item 2, docs/design.md §13): where each record would stand under the new
set, whether its stage or next step changes, and which records sit in a
stage the new set lacks with no mapping to say where they go.

``ppaflow rules migrate`` plans with it for pinned PPAs, and ``rules
activate`` for drafts (unpinned PPAs, which follow the active set).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rules.model import MachineRules


def next_steps(machine: MachineRules, stage: str) -> frozenset[str]:
    """The steps out of ``stage``, each as ``trigger --> dest [roles]`` (with
    ``, comment required`` when it needs one): two sets' stage offers the
    same next step when these are equal."""
    return frozenset(f"{t.trigger} --> {t.dest} [{', '.join(t.roles)}]"
                     + (", comment required" if t.comment_required else "")
                     for t in machine.transitions if t.source == stage)


@dataclass(frozen=True)
class Move:
    """One record under the new set.

    Attributes:
        record_id: the record (a PPA's id).
        old_hash: the set it decides under now.
        stage: its stage now.
        new_stage: its stage under the new set (``stage`` unless mapped).
        steps_before, steps_after: its next steps (``next_steps``) under the
            old and the new set.
    """

    record_id: int
    old_hash: str
    stage: str
    new_stage: str
    steps_before: frozenset[str]
    steps_after: frozenset[str]

    @property
    def stage_changes(self) -> bool:
        """It moves to another stage."""
        return self.new_stage != self.stage

    @property
    def changes(self) -> bool:
        """Its stage or a next step changes (what a plan lists)."""
        return self.stage_changes or self.steps_before != self.steps_after


@dataclass(frozen=True)
class Stranded:
    """A record in a stage the new set lacks, which no mapping moves."""

    record_id: int
    stage: str


@dataclass(frozen=True)
class MigrationPlan:
    """Where records stand under a new set.

    Attributes:
        new_hash: the new set's hash.
        moves: every record that does not strand, in the order given.
        stranded: the records in a stage the new set lacks, unmapped.
        mapping_errors: a mapping's target that is not a stage of the new
            set, in words (``map review=nowhere: the new rule set has no
            stage nowhere``).
    """

    new_hash: str
    moves: tuple[Move, ...]
    stranded: tuple[Stranded, ...]
    mapping_errors: tuple[str, ...]

    @property
    def refused(self) -> bool:
        """A record would strand or a mapping is wrong: nothing may move."""
        return bool(self.stranded or self.mapping_errors)

    @property
    def changing(self) -> tuple[Move, ...]:
        """The moves whose stage or next step changes."""
        return tuple(move for move in self.moves if move.changes)

    def refusal(self, records: str = "PPA") -> str:
        """The refusal in words: each wrong mapping, then each stage the new
        set lacks with the records in it (``stage budget_review is not in
        rule set 1a2b3c4d5e6f (PPA 12, 14): map it with --map
        budget_review=STAGE``)."""
        lines = list(self.mapping_errors)
        by_stage: dict[str, list[int]] = {}
        for record in self.stranded:
            by_stage.setdefault(record.stage, []).append(record.record_id)
        for stage, ids in by_stage.items():
            lines.append(f"stage {stage} is not in rule set {self.new_hash[:12]} "
                         f"({', '.join(f'{records} {i}' for i in ids)}): map it with --map {stage}=STAGE")
        return "; ".join(lines)


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``["OLD=NEW", ...]`` as a dict (the command line's ``--map``).

    Raises:
        ValueError: a pair without ``=`` or with an empty side, or one OLD
            mapped twice, in words.
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise ValueError(f"--map {pair}: write OLD=NEW, two stage names")
        if old in mapping and mapping[old] != new:
            raise ValueError(f"--map {old}= is given twice")
        mapping[old] = new
    return mapping


def plan_moves(records: Iterable[tuple[int, str, str, MachineRules]], new_hash: str, new: MachineRules,
               mapping: Mapping[str, str]) -> MigrationPlan:
    """Where each record stands under ``new``.

    Args:
        records: ``(record id, old set's hash, stage, old set's machine)``.
        new_hash, new: the new set's hash and the workflow's machine in it.
        mapping: old stage -> new stage; a record in a mapped stage moves
            there (also when the stage still exists), else it stays in its
            stage, which must exist in ``new``.

    Returns:
        The plan; ``refused`` when a record strands or a mapping names a
        stage ``new`` lacks.
    """
    errors = tuple(f"map {old}={target}: the new rule set has no stage {target}"
                   for old, target in mapping.items() if target not in new.states)
    moves, stranded = [], []
    for record_id, old_hash, stage, old in records:
        target = mapping.get(stage, stage)
        if target not in new.states:
            if stage not in mapping:
                stranded.append(Stranded(record_id, stage))
            continue
        moves.append(Move(record_id, old_hash, stage, target, next_steps(old, stage), next_steps(new, target)))
    return MigrationPlan(new_hash, tuple(moves), tuple(stranded), errors)
