"""What a rule-file kind is, and what it may read of the kinds loaded
before it (docs/design.md §6).

A kind reads one file (``roles.yaml``) or every file matching a pattern
(``workflows/*.yaml``, then ``combine`` joins them into one result). The
loader runs the kinds in registry order (``rules.kinds.KINDS``), so a kind
may look at the results of the kinds before it through ``LoadContext``: the
workflows read the roles; the WBS and budget files read the PPA approval's
stages; the sync file reads the work item statuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Any

from rules.model import PPA_WORKFLOW, MachineRules, RoleRules, WorkflowRules
from rules.reading import FileReader, Item


@dataclass(frozen=True)
class FileRead:
    """One file of a many-file kind after ``read``: its reader, its parsed
    document and what ``read`` returned (``None`` when it failed)."""

    reader: FileReader
    doc: Item
    result: Any


@dataclass(frozen=True)
class RuleFileKind:
    """One kind of rule file.

    Attributes:
        name: the kind's name; also the ``RuleSet`` attribute its result goes
            to (``roles``, ``workflows``, ``wbs``, ...).
        pattern: the file's path inside the rule set (``roles.yaml``), or a
            pattern of paths (``workflows/*.yaml``; ``*`` never crosses a
            ``/``) for a kind of which a rule set has several files.
        read: ``read(reader, document, context)`` -> the file's rule object,
            or ``None`` after recording on ``reader`` why not.
        combine: for a pattern, ``combine(files, context)`` joins the files'
            results (in path order) into the kind's one result; ``None`` when
            it cannot. Without it the kind has exactly one file, which must
            exist.
    """

    name: str
    pattern: str
    read: Callable[[FileReader, Item, LoadContext], Any]
    combine: Callable[[list[FileRead], LoadContext], Any] | None = None

    @property
    def many(self) -> bool:
        """A rule set may hold several files of this kind (or none)."""
        return self.combine is not None

    def matches(self, path: str) -> bool:
        """True when ``path`` (relative, with ``/``) is a file of this kind."""
        parts, wanted = PurePosixPath(path).parts, PurePosixPath(self.pattern).parts
        return len(parts) == len(wanted) and all(fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True))


class _AnyName:
    """A container holding every name: the roles when ``roles.yaml`` failed
    to load, so that its errors do not cascade into every workflow."""

    def __contains__(self, _name: object) -> bool:
        return True


ANY_NAME = _AnyName()


@dataclass
class LoadContext:
    """What the loader knows while reading: the code's registries and the
    results of the kinds read so far.

    Attributes:
        known_effects: side-effect names the code can run, per workflow name
            (``{"ppa_approval": {...}}``), or one set valid in every workflow.
        known_jobs: job kinds the schedule may name (not checked when empty).
        required_workflows: workflows the code moves records with; each must
            be declared (``ppa_approval`` always is).
        results: kind name -> result, for the kinds already read.
    """

    known_effects: Mapping[str, Iterable[str]] | Iterable[str] = ()
    known_jobs: frozenset[str] = frozenset()
    required_workflows: frozenset[str] = frozenset({PPA_WORKFLOW})
    results: dict[str, Any] = field(default_factory=dict)
    reader_for: Callable[[str], FileReader] = field(default=lambda file: FileReader(file, []))

    # ``reader_for(file)``: a reader recording errors against ``file`` (a path
    # inside the rule set), for problems of a kind whose file is absent.

    def effects_for(self, workflow: str) -> frozenset[str]:
        """The effects a transition of ``workflow`` may name."""
        if isinstance(self.known_effects, Mapping):
            return frozenset(self.known_effects.get(workflow, ()))
        return frozenset(self.known_effects)

    def roles(self) -> RoleRules | None:
        """The roles of ``roles.yaml``, or ``None`` when it failed to load."""
        return self.results.get("roles")

    def known_roles(self):
        """A container of the declared role names (every name when
        ``roles.yaml`` failed, to avoid cascading errors)."""
        roles = self.roles()
        return roles if roles is not None else ANY_NAME

    def workflow(self, name: str) -> WorkflowRules | None:
        """The workflow ``name``, when the workflows loaded."""
        return (self.results.get("workflows") or {}).get(name)

    def stages(self) -> tuple[str, ...]:
        """The PPA approval's stages; empty when it failed to load (the
        checks that name stages are then skipped, not cascaded)."""
        approval = self.workflow(PPA_WORKFLOW)
        return tuple(approval.machine.states) if approval is not None else ()

    def statuses(self) -> tuple[str, ...]:
        """The work item statuses; empty when they failed to load."""
        machine: MachineRules | None = self.results.get("work_item_status")
        return tuple(machine.states) if machine is not None else ()
