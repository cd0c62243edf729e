"""What every service needs besides the database: the rule set in force and
the shared state machines built from it (docs/design.md §13 "Reload").

The database's active rule set is the one in force, in every process: the
web workers, the RQ workers, the scheduler and each command. A process
keeps one ``Runtime`` per rule-set hash (built once from the stored files,
a few kept), and each request or job asks the database once which hash is
active (one indexed read of ``rule_sets WHERE active``), on its first use
of the rules; so an activation reaches every running process with its next
request or job, without a restart. Until the database holds a set (a fresh
database before ``init-db``), the set the process loaded from
``PPAFLOW_RULES_DIR`` is used.

The stored sets are read here too (``get``, ``find``, ``active``,
``load_stored``; ``services.rule_sets`` stores and activates them), and the
loader's checks against the code (the effects, job kinds and workflows it
registers) are handed in when the app is built (``use_code_checks``, by
``web.create_app``): those registries import the services that import this
module (docs/design.md §1 "Direction of imports").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import select

from db import audit, db
from db.models import StoredRuleSet
from rules.loader import load_rule_files
from rules.model import PPA_WORKFLOW, RuleSet
from workflow.engine import WorkflowEngine
from workflow.errors import NotFound, RulesError
from workflow.machine import SharedMachine

#: How many rule sets besides the loaded one a process keeps built (the active
#: set, and those PPAs pinned to older sets decide with).
CACHED_RULE_SETS = 8

_KEY = "ppaflow.runtime"  # the runtime of the current request (request.environ) or job (flask.g)
_NOTED = "ppaflow.active_hash"  # the active hash, read along with the request's token (request.environ)


@dataclass(frozen=True)
class Runtime:
    """The rule set in force and the machines built from it.

    Attributes:
        rules: the validated rule set (its ``hash`` goes on every history row).
        workflows: workflow name -> its engine (one shared machine each).
        work_item_status: the work item status machine (one shared machine).
    """

    rules: RuleSet
    workflows: Mapping[str, WorkflowEngine]
    work_item_status: SharedMachine

    @classmethod
    def build(cls, rules: RuleSet) -> Runtime:
        """Build the machines of ``rules`` (once per rule set and process)."""
        return cls(
            rules=rules,
            workflows={name: WorkflowEngine(workflow) for name, workflow in rules.workflows.items()},
            work_item_status=SharedMachine(rules.work_item_status, noun="status"),
        )

    @property
    def approval(self) -> WorkflowEngine:
        """The PPA approval workflow's engine."""
        return self.workflows[PPA_WORKFLOW]

    def workflow(self, name: str) -> WorkflowEngine:
        """The engine of workflow ``name``.

        Raises:
            KeyError: the rule set has no such workflow (the loader refuses a
                rule set without the workflows the code registered, so this
                is a programming error, never a user's).
        """
        return self.workflows[name]


class Runtimes:
    """One application's runtimes: the one of the set it loaded at start,
    and one per stored set used since (least recently used dropped beyond
    ``CACHED_RULE_SETS``). Thread-safe.

    Attributes:
        loaded: the runtime of the rule files the process loaded at start.
        stored: the database holds the loaded set (``services.rule_sets``
            sets it once it could store it); before that, no process asks
            the database which set is active (it may not be migrated yet).
    """

    def __init__(self, loaded: RuleSet):
        self.loaded = Runtime.build(loaded)
        self.stored = False
        self._built: OrderedDict[str, Runtime] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, rule_hash: str) -> Runtime | None:
        """The runtime of ``rule_hash`` if this process has built it."""
        if rule_hash == self.loaded.rules.hash:
            return self.loaded
        with self._lock:
            runtime = self._built.get(rule_hash)
            if runtime is not None:
                self._built.move_to_end(rule_hash)
            return runtime

    def keep(self, runtime: Runtime) -> Runtime:
        """Keep ``runtime`` (a concurrent build of the same hash wins once:
        the kept one is returned)."""
        rule_hash = runtime.rules.hash
        with self._lock:
            kept = self._built.setdefault(rule_hash, runtime)
            self._built.move_to_end(rule_hash)
            while len(self._built) > CACHED_RULE_SETS:
                self._built.popitem(last=False)
            return kept


def init_app(app: Flask, rules: RuleSet) -> None:
    """Attach the runtimes to ``app``, starting with the one of ``rules``
    (the set loaded from ``PPAFLOW_RULES_DIR``)."""
    app.extensions["ppaflow_runtimes"] = Runtimes(rules)
    app.extensions["ppaflow"] = app.extensions["ppaflow_runtimes"].loaded  # the loaded set (what older code read)
    audit.use_rules_hash(current_hash)


def runtimes(app: Flask | None = None) -> Runtimes:
    """The runtimes of ``app`` (default: the current application)."""
    return (app or current_app).extensions["ppaflow_runtimes"]


def runtime_for(rule_hash: str | None) -> Runtime:
    """The runtime of the stored rule set ``rule_hash`` (a pinned PPA's set,
    docs/design.md §13), built once per process from its stored files
    (``load_stored``) and kept, so every PPA pinned to a set shares
    one Machine per (workflow, hash). ``None`` (a record not pinned: a
    draft) is the rules in force, ``get_runtime()``. Needs an app context.

    Raises:
        NotFound: no rule set with that hash is stored.
        RulesError: its stored files no longer load with this code.
    """
    if rule_hash is None:
        return get_runtime()
    registry = runtimes()
    runtime = registry.cached(rule_hash)
    if runtime is None:
        runtime = registry.keep(Runtime.build(load_stored(get_or_raise(rule_hash))))
    return runtime


def active_hash() -> str | None:
    """The hash of the database's active rule set, ``None`` when none is
    (one indexed read; joins the session's transaction)."""
    return db.session.scalar(select(StoredRuleSet.hash).where(StoredRuleSet.active))


def active_hash_column():
    """The active rule set's hash as a scalar subquery, for a caller that
    reads it with its own row instead of in a statement of its own (then
    ``adopt_active_hash``, or ``note_active_hash`` when ``may_note_active_hash()``:
    the token lookup, ``services.users.token_user``)."""
    return select(StoredRuleSet.hash).where(StoredRuleSet.active).scalar_subquery()


def may_note_active_hash() -> bool:
    """True inside a request of a process that asks the database which set
    is active (``Runtimes.stored``), before the request has decided with one."""
    return has_request_context() and _KEY not in request.environ and runtimes().stored


def note_active_hash(rule_hash: str | None) -> None:
    """Keep the active hash a statement of this request read along with
    ``active_hash_column()``: the request's first ``get_runtime()`` then
    uses it instead of reading it by a statement of its own (one round
    trip fewer per request; it is still read once per request, in the
    request's transaction: docs/design.md §13). Unlike ``adopt_active_hash``
    it does not decide: a request that never consults the rules still
    records no rule set (``current_hash``). Outside a request, nothing."""
    if has_request_context():
        request.environ[_NOTED] = rule_hash


_UNREAD = object()


def _active_runtime(rule_hash=_UNREAD) -> Runtime:
    registry = runtimes()
    if not registry.stored:
        return registry.loaded
    if rule_hash is _UNREAD:
        if has_request_context() and _NOTED in request.environ:
            rule_hash = request.environ[_NOTED]
        else:
            rule_hash = active_hash()
    return registry.loaded if rule_hash is None else runtime_for(rule_hash)


def adopt_active_hash(rule_hash: str | None) -> Runtime:
    """The runtime of the current request or job, as ``get_runtime()``, when
    the caller has read the active set's hash itself (``active_hash_column``
    in its own query, docs/design.md §5 "The budget tree is cached"): the
    request then decides with that set and saves get_runtime's read. A
    request that has already decided keeps its set. Needs an app context.

    Args:
        rule_hash: the active set's hash as just read, ``None`` when none is.
    """
    if has_request_context():
        environ = request.environ
        runtime = environ.get(_KEY)
        if runtime is None:
            runtime = environ[_KEY] = _active_runtime(rule_hash)
        return runtime
    runtime = g.get(_KEY)
    if runtime is None:
        runtime = _active_runtime(rule_hash)
        setattr(g, _KEY, runtime)
    return runtime


def get_runtime() -> Runtime:
    """The runtime of the rule set in force for the current request or job:
    the database's active set, read once per request (or job, or command)
    on first use, so an activation reaches running processes without a
    restart (docs/design.md §13). Needs an app context.

    Raises:
        ServiceUnavailable, SQLAlchemyError: the database did not answer.
    """
    if has_request_context():
        environ = request.environ
        runtime = environ.get(_KEY)
        if runtime is None:
            runtime = environ[_KEY] = _active_runtime()
        return runtime
    runtime = g.get(_KEY)
    if runtime is None:
        runtime = _active_runtime()
        setattr(g, _KEY, runtime)
    return runtime


def current_hash() -> str | None:
    """The hash of the rule set the current request or job has decided
    with so far, ``None`` when it consulted no rule (never reads the
    database: the audit trail asks it while flushing)."""
    if has_request_context():
        runtime = request.environ.get(_KEY)
    elif has_app_context():
        runtime = g.get(_KEY)
    else:
        return None
    return runtime.rules.hash if runtime is not None else None


def request_runtime(environ: Mapping) -> Runtime | None:
    """The runtime a request (its WSGI ``environ``) decided with, ``None``
    when it did not read the rules."""
    return environ.get(_KEY)


def forget() -> None:
    """Read the active set afresh at the next ``get_runtime()`` of this app
    context (a job starting in a long-lived worker's context). Inside a
    request nothing changes: a request decides with one set throughout."""
    if not has_request_context():
        g.pop(_KEY, None)


# -- the stored rule sets (docs/design.md §13) -------------------------------------------------

_code_checks: dict[str, Any] = {}


def use_code_checks(*, known_effects: Mapping[str, Iterable[str]], known_jobs: Iterable[str],
                    required_workflows: Iterable[str]) -> None:
    """Hand in what the loader checks a rule set against: the effects
    (``services.effects.known_effects()``), job kinds
    (``jobs.registry.known_jobs()``) and workflows
    (``services.workflows.required_workflows()``) the code registers; called
    by ``web.create_app`` before it loads the rules (docs/design.md §1)."""
    _code_checks.update(known_effects=dict(known_effects), known_jobs=frozenset(known_jobs),
                        required_workflows=frozenset(required_workflows))


def code_checks() -> dict:
    """What the loader checks against the code: the effects, job kinds and
    workflows it registers (the same as at app start), as handed in by
    ``use_code_checks``; before any app is built in the process, nothing
    (the loader then checks no name against the code)."""
    return dict(_code_checks)


def load_files(files: Mapping[str, bytes], display: str) -> RuleSet:
    """Load and validate a rule set given as its files (``rules.load_rule_files``
    with the code's checks).

    Raises:
        RulesError: every problem, as ``file:line: message``.
    """
    return load_rule_files(files, display, **code_checks())


def get(rule_hash: str) -> StoredRuleSet | None:
    """The stored set with hash ``rule_hash``, or ``None``."""
    return db.session.get(StoredRuleSet, rule_hash)


def get_or_raise(rule_hash: str) -> StoredRuleSet:
    """The stored set with hash ``rule_hash``.

    Raises:
        NotFound: no rule set with that hash is stored.
    """
    stored = get(rule_hash)
    if stored is None:
        raise NotFound(f"no rule set with hash {rule_hash} is stored")
    return stored


def find(reference: str) -> StoredRuleSet:
    """The stored set whose hash is ``reference`` or starts with it (at
    least 6 characters; for the command line).

    Raises:
        NotFound: no stored set, or more than one, matches.
    """
    reference = reference.lower()
    if len(reference) >= 6:
        matches = db.session.scalars(select(StoredRuleSet).where(StoredRuleSet.hash.startswith(reference, autoescape=True))
                                     .limit(2)).all()
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFound(f"more than one stored rule set has a hash starting {reference}; give more of it")
    raise NotFound(f"no stored rule set has a hash starting {reference}")


def active() -> StoredRuleSet | None:
    """The active set (the one the database says is in force), or ``None``
    before any set was stored."""
    return db.session.scalars(select(StoredRuleSet).where(StoredRuleSet.active)).one_or_none()


@lru_cache(maxsize=8)
def _load_cached(rule_hash: str, files: tuple[tuple[str, bytes], ...]) -> RuleSet:
    loaded = load_files(dict(files), f"rule set {rule_hash[:12]}")
    if loaded.hash != rule_hash:  # the row's files do not make the set its key names
        raise RulesError([f"rule set {rule_hash[:12]}:1: its stored files hash to {loaded.hash}"])
    return loaded


def load_stored(stored: StoredRuleSet) -> RuleSet:
    """The ``RuleSet`` of a stored set, loaded from its stored files (kept
    in memory per process: a stored set never changes; needs an app context).

    Raises:
        RulesError: the files no longer load with this code (an effect or a
            job kind it named was removed since).
    """
    built = runtimes().cached(stored.hash)
    if built is not None:  # a set this process decides with: loaded already
        return built.rules
    return _load_cached(stored.hash, tuple(sorted(stored.contents.items())))
