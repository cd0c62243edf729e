"""What every service needs besides the database: the loaded rule set and
the shared state machines built from it, created once per application."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from rules.model import RuleSet
from workflow.approval import ApprovalWorkflow
from workflow.machine import SharedMachine


@dataclass(frozen=True)
class Runtime:
    """The rule set in force and the machines built from it.

    Attributes:
        rules: the validated rule set (its ``hash`` goes on every history row).
        approval: the PPA approval workflow (one shared machine).
        work_item_status: the work item status machine (one shared machine).
    """

    rules: RuleSet
    approval: ApprovalWorkflow
    work_item_status: SharedMachine

    @classmethod
    def build(cls, rules: RuleSet) -> Runtime:
        """Build the machines of ``rules`` (once per application)."""
        return cls(
            rules=rules,
            approval=ApprovalWorkflow(rules.approval),
            work_item_status=SharedMachine(rules.work_item_status, noun="status"),
        )


def init_app(app: Flask, rules: RuleSet) -> None:
    """Attach the runtime for ``rules`` to ``app``."""
    app.extensions["ppaflow"] = Runtime.build(rules)


def get_runtime() -> Runtime:
    """The runtime of the current application (needs an app context)."""
    return current_app.extensions["ppaflow"]
