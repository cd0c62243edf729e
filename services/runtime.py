"""What every service needs besides the database: the loaded rule set and
the shared state machines built from it, created once per application."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, current_app

from rules.model import PPA_WORKFLOW, RuleSet
from workflow.engine import WorkflowEngine
from workflow.machine import SharedMachine


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
        """Build the machines of ``rules`` (once per application)."""
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


def init_app(app: Flask, rules: RuleSet) -> None:
    """Attach the runtime for ``rules`` to ``app``."""
    app.extensions["ppaflow"] = Runtime.build(rules)


def get_runtime() -> Runtime:
    """The runtime of the current application (needs an app context)."""
    return current_app.extensions["ppaflow"]


def runtime_for(rule_hash: str | None) -> Runtime:
    """The runtime of the stored rule set ``rule_hash`` (a pinned PPA's set,
    docs/design.md §13): built from its stored files (``rule_sets.
    load_stored``) once per process and hash, so every PPA pinned to a set
    shares one Machine per (workflow, hash). ``None``, or the hash of the
    runtime in force, is that runtime (``get_runtime()``). Needs an app
    context.

    Raises:
        NotFound: no rule set with that hash is stored.
        RulesError: its stored files no longer load with this code.
    """
    current = get_runtime()
    if rule_hash is None or rule_hash == current.rules.hash:
        return current
    pinned: dict[str, Runtime] = current_app.extensions.setdefault("ppaflow_pinned", {})
    runtime = pinned.get(rule_hash)
    if runtime is None:
        from services import rule_sets

        built = Runtime.build(rule_sets.load_stored(rule_sets.get_or_raise(rule_hash)))
        runtime = pinned.setdefault(rule_hash, built)  # two threads building it at once keep the first
    return runtime
