"""Rule sets are versions (issue 14 item 1, docs/design.md §13).

Every rule set that governs anything is stored in ``rule_sets`` by its
content hash, with every file's text, so the hash on any history row can be
read back as rules (``GET /api/rules/{hash}``). The database's active set is
the one in force; ``PPAFLOW_RULES_DIR`` is only the default input of
``ppaflow rules activate`` and of a fresh ``ppaflow init-db``.

- ``store``: keep a loaded set (nothing happens for a hash already kept);
- ``activate``: store it and make it the one active set (the database
  allows at most one active row);
- ``record_loaded``: at app start, keep the set the process loaded, and
  activate it only when no set is active yet;
- ``load_stored``, ``active``, ``disk_hash``: read them back (the reads
  live in ``services.runtime``, which builds the runtimes from them; they
  are named here too, where callers look for them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from db import db
from db.models import StoredRuleSet, User
from db.types import utcnow
from rules import DEFAULT_RULES_DIR
from rules.loader import read_rule_files, rule_set_hash
from rules.model import RuleSet
from services import rule_migrations
from services.runtime import Runtime, runtimes
from services.runtime import (  # noqa: F401  (the reads of stored sets, named here too)
    active, code_checks, find, get, get_or_raise, load_files, load_stored)
from services.unit_of_work import transaction
from workflow.errors import Conflict, Duplicate, PpaflowError, RulesError

log = logging.getLogger("ppaflow.rules")


def rules_dir(configured: str | Path | None) -> Path:
    """``PPAFLOW_RULES_DIR`` as configured, else the shipped ``rules/default/``."""
    return Path(configured) if configured else DEFAULT_RULES_DIR


def load_directory(directory: str | Path) -> RuleSet:
    """Load and validate the rule set in folder ``directory``.

    Raises:
        RulesError: the folder is missing, or every problem of its files.
    """
    base = Path(directory)
    if not base.is_dir():
        raise RulesError([f"{base}:1: rules directory not found"])
    return load_files(read_rule_files(base), str(base))


def disk_hash(directory: str | Path) -> str | None:
    """The content hash of the rule files in ``directory`` (whether or not
    they would load), ``None`` when the folder is missing."""
    base = Path(directory)
    return rule_set_hash(read_rule_files(base)) if base.is_dir() else None


def _files_json(rules: RuleSet) -> list[dict[str, str]]:
    return [{"name": f.name, "content": f.content.decode()} for f in rules.files]


def _insert(rules: RuleSet) -> bool:
    """INSERT the set unless its hash is stored (also when another process
    stores it at the same moment); ``True`` when this call stored it."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(StoredRuleSet).values(hash=rules.hash, files=_files_json(rules), loaded_at=utcnow(),
                                             active=False).on_conflict_do_nothing(index_elements=["hash"])
    return db.session.execute(statement.returning(StoredRuleSet.hash)).first() is not None


def store(rules: RuleSet) -> tuple[StoredRuleSet, bool]:
    """Keep ``rules`` (one transaction). Returns the stored row and whether
    this call stored it (``False``: the hash was already stored; nothing changed)."""
    with transaction():
        created = _insert(rules)
        return get_or_raise(rules.hash), created


@dataclass(frozen=True)
class Activation:
    """What ``activate`` did.

    Attributes:
        rule_set: the now active set.
        previous: the set active before (``None``: none was), possibly the same.
        stored: the set was stored by this activation (it was new).
        changed: the active set changed (``False``: it was active already).
        moved: the drafts (unpinned PPAs) its mapping moved to another stage.
    """

    rule_set: StoredRuleSet
    previous: StoredRuleSet | None
    stored: bool
    changed: bool
    moved: int = 0


def activate(rules: RuleSet, actor_id: int | None = None, mapping: Mapping[str, str] | None = None) -> Activation:
    """Store ``rules`` (unless stored) and make it the one active set, in
    one transaction; recorded with the time and ``actor_id`` (the user who
    activated it, ``None`` for an operator). Activating the active set again
    changes nothing.

    The PPAs that follow the active set (unpinned: drafts) follow the new
    one, so a draft may not sit in a stage the new set lacks: ``mapping``
    (old stage -> stage of the new set) moves them, each with a history row
    signed by ``actor_id`` (an administrator), else the activation is
    refused (docs/design.md §13; ``services.rule_migrations``). Pinned PPAs
    stay on their set (``ppaflow rules migrate`` moves them).

    Raises:
        Conflict (``stage_missing``): an unpinned PPA sits in a stage the
            new set lacks and no mapping moves it (the refusal lists them),
            or a mapping names a stage the new set lacks; nothing changed.
        Conflict: drafts are to move and no administrator activates.
        Conflict (``concurrent_update``): another activation committed at
            the same moment (the database allows one active set); nothing
            was changed.
    """
    try:
        with transaction():
            stored = _insert(rules)
            previous = active()
            row = get_or_raise(rules.hash)
            if previous is not None and previous.hash == rules.hash:
                return Activation(row, previous, stored, changed=False)
            new = Runtime.build(rules)
            drafts = rule_migrations.draft_moves(previous.hash if previous else None, new, mapping)
            rule_migrations.refuse(drafts)
            actor = db.session.get(User, actor_id) if actor_id is not None else None
            moved = rule_migrations.move_drafts(drafts, new, actor)
            db.session.execute(update(StoredRuleSet).where(StoredRuleSet.active).values(active=False))
            db.session.execute(update(StoredRuleSet).where(StoredRuleSet.hash == rules.hash).values(
                active=True, activated_at=utcnow(), activated_by_id=actor_id))
            db.session.flush()
            return Activation(get_or_raise(rules.hash), previous, stored, changed=True, moved=moved)
    except Duplicate:
        raise Conflict("another rule set was activated at the same moment; run the activation again",
                       code="concurrent_update") from None


def keep_loaded(rules: RuleSet) -> tuple[StoredRuleSet, StoredRuleSet]:
    """Store ``rules`` unless stored, and activate it when no set is active
    (one transaction; ``ppaflow init-db``, and every app start through
    ``record_loaded``). Returns ``(its row, the active set's row)``.

    Raises:
        ServiceUnavailable, SQLAlchemyError: the database is not reachable
            or not migrated.
    """
    with transaction():
        _insert(rules)
        if active() is None:
            activate(rules)
        return get_or_raise(rules.hash), active()


def record_loaded(rules: RuleSet) -> bool:
    """At app start: keep the set this process loaded (so every hash it
    records is readable later) and, when no set is active yet, activate it;
    an active set is never replaced here. Best effort: a database that is
    not reachable or not migrated yet (``init-db`` builds the app before it
    migrates) is logged and ``False`` returned (``init_app`` tries again).

    Returns:
        Whether the set is stored now.
    """
    try:
        _, current = keep_loaded(rules)
    except (SQLAlchemyError, PpaflowError) as exc:
        db.session.rollback()
        cause = exc.__cause__ if isinstance(exc, PpaflowError) and exc.__cause__ is not None else exc
        first = str(cause).splitlines()[0] if str(cause) else cause.__class__.__name__
        unmigrated = "rule_sets" in first and ("no such table" in first or "does not exist" in first)
        log.log(logging.DEBUG if unmigrated else logging.WARNING, "rule set %s not stored yet: %s",
                rules.hash[:12], first)
        return False
    if current.hash != rules.hash:
        log.warning("the database's active rule set %s is in force; the files of PPAFLOW_RULES_DIR (%s) differ "
                    "(ppaflow rules activate makes them the active set)", current.hash[:12], rules.hash[:12])
    return True


def init_app(app: Flask) -> None:
    """Keep the rule set ``app`` loaded (``record_loaded``) when it is
    built; if the database could not take it then, try again before each
    request until it does (one flag test per request once stored). Once
    stored, the app decides with the database's active set
    (``services.runtime.get_runtime``)."""
    registry = runtimes(app)
    with app.app_context():
        registry.stored = record_loaded(registry.loaded.rules)

    @app.before_request
    def _store_rule_set() -> None:
        if not registry.stored:
            registry.stored = record_loaded(registry.loaded.rules)
