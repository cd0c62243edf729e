"""The job kinds: importable module functions taking plain values and
returning plain values (docs/design.md §7). Each calls one service; each is
idempotent (running it twice leaves the same state as once)."""

from __future__ import annotations

from datetime import date
from typing import Any

from jobs.queue import redispatch_lost
from services import escalations, notifications, privacy, reports, sweeps


def sync_tracked_ppas() -> dict[str, Any]:
    """Nightly: check every tree's stored rollups against a full
    recomputation and repair drift (docs/design.md §4, "Stored rollups"),
    then sync every tracked PPA's progress and status from its project.

    Returns:
        ``{"synced", "errors", "changed", "failed_ppa_ids", "rollups"}``;
        ``rollups`` is what ``sweeps.verify_rollups`` found and repaired.
    """
    checked = sweeps.verify_rollups(repair=True)
    return sweeps.sync_tracked_ppas() | {"rollups": {k: v for k, v in checked.items() if k != "drift"}}


def detect_budget_variances() -> dict[str, Any]:
    """Every 6 hours: open and resolve alerts for overspent and blocked items
    and overdue approval stages."""
    return sweeps.sweep_alerts()


def send_approval_deadline_reminders(today: str | None = None) -> dict[str, Any]:
    """Daily: remind reviewers and owners of stages due soon or overdue.

    Args:
        today: ISO date to act as (default: today in the schedule's time zone).
    """
    return notifications.send_deadline_reminders(date.fromisoformat(today) if today else None)


def escalate_overdue_stages(today: str | None = None) -> dict[str, Any]:
    """Daily: escalate PPAs left in an escalating stage too long (notify,
    and fire the stage's ``then`` trigger if declared; docs/design.md §6).

    Args:
        today: ISO date to act as (default: today in the schedule's time zone).
    """
    return escalations.escalate_overdue_stages(date.fromisoformat(today) if today else None)


def purge_personal_data(today: str | None = None) -> dict[str, Any]:
    """Nightly: detach the personal data of needs and votes older than
    needs.yaml's ``privacy.retention_years`` (``services.privacy.purge``;
    docs/design.md §14, "Consent, retention and erasure").

    Args:
        today: ISO date to act as (default: today in the schedule's time zone).

    Returns:
        ``{"before": ISO cutoff date, <what>: rows detached, ...}``.
    """
    outcome = privacy.purge(on=date.fromisoformat(today) if today else None)
    return {"before": outcome.cutoff.isoformat(), **outcome.counts}


def deliver_notifications() -> dict[str, Any]:
    """Send pending notifications by SMTP (when ``SMTP_URL`` is set)."""
    return notifications.deliver_pending()


def generate_report(report: str, fiscal_year: int, moa: str | None, user_id: int, output: str,
                    as_of: str | None = None, quarter: int | None = None,
                    fund_cluster: str | None = None) -> dict[str, Any]:
    """A report too large to build during a request (``mfbm`` or ``far1``),
    written under ``instance/reports/<output>``; ``as_of`` an ISO date (MFBM);
    ``quarter`` and ``fund_cluster`` FAR No. 1's."""
    return reports.generate_report_file(report, fiscal_year, moa, user_id, output, as_of, quarter, fund_cluster)


def redispatch_lost_jobs() -> dict[str, Any]:
    """Every 15 minutes, and when a worker or scheduler starts: dispatch
    again the jobs left waiting that nothing will run (lost with a Redis
    restart, or with the process that was to run them inline).

    Returns:
        ``{"waiting", "redispatched"}``.
    """
    return redispatch_lost()
