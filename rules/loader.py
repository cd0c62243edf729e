"""Load a rule set (a folder of YAML files) into a validated, frozen
``RuleSet`` (docs/design.md §6).

The loader reads every file with ruamel.yaml (round-trip mode, for the line
of every key and item), hands each to the module of its kind
(``rules.kinds``), and either returns a complete ``RuleSet`` or raises
``RulesError`` with *every* problem found, each as ``file:line: message``.
A broken rule set never half-loads.

Checked: YAML syntax, bytes that are not UTF-8, duplicate keys, anchors and
aliases (refused altogether: a few hundred bytes of nested aliases expand to
millions of nodes), unknown and missing files and keys, value types, unknown
states, roles and triggers, unreachable states, exits from final states,
non-final dead ends, loops with no way to a final state, ambiguous
transitions, unknown side effects, separation-of-duties rules, templates
beyond their depth and size limits, and the cross-file references (stages,
statuses, roles). Parser messages are translated into plain sentences, cron
fields out of range are named, and an unknown name gets "did you mean".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rules.kinds import KINDS, FileRead, LoadContext, RuleFileKind
from rules.model import PPA_WORKFLOW, RuleFile, RuleSet
from rules.reading import Error, FileReader, did_you_mean, parse
from workflow.errors import RulesError

#: The rule set shipped with ppaflow, and the default ``PPAFLOW_RULES_DIR``.
DEFAULT_RULES_DIR = Path(__file__).resolve().parent / "default"

#: What a rule file's name ends with.
SUFFIXES = (".yaml", ".yml")


def read_rule_files(directory: str | Path) -> dict[str, bytes]:
    """Every YAML file under ``directory``, by its path inside it (with
    ``/``: ``roles.yaml``, ``workflows/approval.yaml``). Hidden files and
    folders and other files (``README.md``) are left out."""
    base = Path(directory)
    files = {}
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base)
        if path.is_file() and path.suffix in SUFFIXES and not any(p.startswith(".") for p in relative.parts):
            files[relative.as_posix()] = path.read_bytes()
    return files


def load_rules(directory: str | Path | None = None, *, known_effects: Mapping[str, Iterable[str]] | Iterable[str] = (),
               known_jobs: Iterable[str] = (), required_workflows: Iterable[str] = ()) -> RuleSet:
    """Load and validate the rule set in ``directory``.

    Args:
        directory: the rule set's folder; defaults to the rules shipped with
            ppaflow (``DEFAULT_RULES_DIR``, ``rules/default/``).
        known_effects: the side effects the service registry can run, per
            workflow name (or one set for every workflow); a transition naming
            any other effect is an error.
        known_jobs: names of the job kinds; a schedule entry naming any other
            is an error (not checked when empty).
        required_workflows: workflows the code moves records with, besides
            ``ppa_approval``; each must be declared in ``workflows/``.

    Returns:
        The frozen ``RuleSet`` with its content hash.

    Raises:
        RulesError: with every problem found, each as ``file:line: message``,
            by file in load order (roles.yaml, workflows/, ...) and line.
            Nothing is returned half-loaded.
    """
    base = Path(directory) if directory is not None else DEFAULT_RULES_DIR
    if not base.is_dir():
        raise RulesError([f"{base}:1: rules directory not found"])
    return load_rule_files(read_rule_files(base), str(base), known_effects=known_effects, known_jobs=known_jobs,
                           required_workflows=required_workflows)


def load_rule_files(files: Mapping[str, bytes], display: str, *,
                    known_effects: Mapping[str, Iterable[str]] | Iterable[str] = (),
                    known_jobs: Iterable[str] = (), required_workflows: Iterable[str] = ()) -> RuleSet:
    """Load and validate a rule set given as its files' contents.

    Args:
        files: path inside the rule set (``workflows/approval.yaml``) ->
            the file's bytes (``read_rule_files``, or a stored rule set).
        display: the rule set's name in messages (its folder).
        known_effects, known_jobs, required_workflows: as ``load_rules``.

    Raises:
        RulesError: as ``load_rules``.
    """
    errors: list[Error] = []
    warnings: list[Error] = []

    def reader_for(file: str) -> FileReader:
        return FileReader(str(Path(display) / file), errors, file, warnings)

    def in_load_order(error: Error) -> tuple[int, str, int, str]:
        """Errors by file in the order the kinds load (roles.yaml first, then
        workflows/, ...; unknown files last), then by line."""
        path, line, message = error
        relative = Path(path).relative_to(display).as_posix() if Path(path).is_relative_to(display) else path
        rank = next((i for i, kind in enumerate(KINDS) if kind.matches(relative) or kind.pattern == relative),
                    len(KINDS))
        return rank, path, line, message

    context = LoadContext(known_effects=known_effects, known_jobs=frozenset(known_jobs),
                          required_workflows=frozenset(required_workflows) | {PPA_WORKFLOW}, reader_for=reader_for)
    claimed: dict[RuleFileKind, list[str]] = {kind: sorted(p for p in files if kind.matches(p)) for kind in KINDS}
    known_paths = {p for paths in claimed.values() for p in paths}
    expected = ", ".join(kind.pattern for kind in KINDS)
    for extra in sorted(set(files) - known_paths):
        reader_for(extra).error(1, f"unknown rules file (expected: {expected})"
                                   f"{did_you_mean(extra, [k.pattern for k in KINDS if not k.many])}")

    for kind in KINDS:  # in order: later kinds refer to the roles, stages and statuses read before them
        if not kind.many and not claimed[kind]:
            reader_for(kind.pattern).error(1, "rules file is missing")
            continue
        reads = []
        for path in claimed[kind]:
            reader = reader_for(path)
            doc = parse(reader, files[path])
            if doc is None:
                reads.append(FileRead(reader, doc, None))
                continue
            reads.append(FileRead(reader, doc, kind.read(reader, doc, context)))
        context.results[kind.name] = kind.combine(reads, context) if kind.many else reads[0].result

    if errors or any(context.results.get(kind.name) is None for kind in KINDS):
        if not errors:  # defensive: a reader returned None without saying why
            errors.append((display, 1, "rules could not be loaded"))
        raise RulesError([f"{path}:{line}: {message}" for path, line, message in sorted(errors, key=in_load_order)])

    loaded = [RuleFile(name=path, sha256=hashlib.sha256(files[path]).hexdigest(), content=files[path])
              for path in in_hash_order(files)]
    parts: dict[str, Any] = {kind.name: context.results[kind.name] for kind in KINDS}
    shown = tuple(f"{path}:{line}: {message}" for path, line, message in sorted(warnings, key=in_load_order))
    return RuleSet(**parts, hash=rule_set_hash(files), files=tuple(loaded), warnings=shown)


def in_hash_order(files: Iterable[str]) -> list[str]:
    """The paths of a rule set's files in the order its hash reads them:
    by kind in load order, then by path; files no kind claims last, by path."""
    paths = sorted(files)
    ordered = [path for kind in KINDS for path in paths if kind.matches(path)]
    return list(dict.fromkeys(ordered)) + [path for path in paths if path not in ordered]


def rule_set_hash(files: Mapping[str, bytes]) -> str:
    """The content hash of a rule set (docs/design.md §6): SHA-256 over
    every file's path and bytes, in ``in_hash_order``. The loader puts it on
    the ``RuleSet``; it is also computed for files that would not load
    (``services.rule_sets.disk_hash``: do the files on disk differ from the
    active set?)."""
    digest = hashlib.sha256()
    for path in in_hash_order(files):
        digest.update(path.encode() + b"\0" + files[path] + b"\0")
    return digest.hexdigest()
