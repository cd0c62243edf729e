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
