"""Every job kind by name: what ``enqueue`` accepts and the schedule may name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobs import tasks

KINDS: dict[str, Callable[..., Any]] = {
    "sync_tracked_ppas": tasks.sync_tracked_ppas,
    "detect_budget_variances": tasks.detect_budget_variances,
    "send_approval_deadline_reminders": tasks.send_approval_deadline_reminders,
    "escalate_overdue_stages": tasks.escalate_overdue_stages,
    "purge_personal_data": tasks.purge_personal_data,
    "deliver_notifications": tasks.deliver_notifications,
    "generate_report": tasks.generate_report,
    "redispatch_lost_jobs": tasks.redispatch_lost_jobs,
}


def known_jobs() -> frozenset[str]:
    """Names of every job kind (passed to the rules loader)."""
    return frozenset(KINDS)
