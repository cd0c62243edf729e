"""The set-based sweeps run by background jobs (docs/design.md §7): many trees per
query, one batch per transaction, one broken tree never stopping the rest.

- ``sweep_alerts``: every tree's variance and blocked alerts, and overdue
  approval stages (every 6 hours);
- ``sync_tracked_ppas``: every tracked PPA's progress and status from its
  project (nightly), after ``verify_rollups`` has checked and repaired every
  tree's stored rollups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select

from db import audit
from db.bulk import update_rows
from db.models import EvBaseline, Ppa, WorkItem
from services import alerts, calendar, performance
from services.runtime import get_runtime
from services.trees import Drift, load_tree, load_trees, rollup_drift, settle
from services.unit_of_work import transaction
from workflow.errors import PpaflowError
from workflow.sync import follow_project

log = logging.getLogger("ppaflow.jobs")


def sweep_alerts(day: date | None = None, *, batch_size: int = 500) -> dict[str, int]:
    """Reconcile every tree's alerts and the overdue stages (the 6-hourly job).

    Trees are loaded in batches, one query per batch; a tree that cannot be
    loaded is counted and skipped.

    Returns:
        ``{"trees", "opened", "resolved", "errors"}``.
    """
    day = day or calendar.today()
    totals = {"trees": 0, "opened": 0, "resolved": 0, "errors": 0}
    with transaction() as session:
        projects = session.execute(select(WorkItem.id, Ppa.id, Ppa.organization_id)
                                   .join(Ppa, WorkItem.ppa_id == Ppa.id).order_by(Ppa.id)).all()
    for start in range(0, len(projects), batch_size):
        batch = projects[start:start + batch_size]
        with transaction() as session:
            trees = load_trees([root for root, _, _ in batch])
            conditions, scope = [], []
            for root, ppa_id, organization_id in batch:
                tree = trees[root]
                if isinstance(tree, ValueError):
                    log.error("alert sweep: PPA %s skipped: %s", ppa_id, tree)
                    totals["errors"] += 1
                    continue
                scope.append(ppa_id)
                conditions += alerts.tree_conditions(ppa_id, organization_id, tree)
            counts = alerts.reconcile(session, scope, alerts.TREE_TYPES, conditions)
        totals["trees"] += len(scope)
        totals["opened"] += counts["opened"]
        totals["resolved"] += counts["resolved"]
    with transaction() as session:
        counts = alerts.reconcile_overdue(session, day)
    totals["opened"] += counts["opened"]
    totals["resolved"] += counts["resolved"]
    # SPI/CPI alerts of the baselined PPAs, one PPA at a time.
    with transaction() as session:
        baselined = session.scalars(select(Ppa).join(EvBaseline, EvBaseline.ppa_id == Ppa.id)
                                    .order_by(Ppa.id)).all()
        for ppa in baselined:
            try:
                with session.begin_nested():
                    counts = performance.reconcile_performance(session, ppa, day)
            except (PpaflowError, ValueError) as error:  # a refused baseline, a broken tree: that PPA only
                log.error("alert sweep: earned value of PPA %s skipped: %s", ppa.id, error)
                totals["errors"] += 1
                continue
            totals["opened"] += counts["opened"]
            totals["resolved"] += counts["resolved"]
    return totals


def verify_rollups(ppa_id: int | None = None, *, repair: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Recompute every tracked PPA's tree (or ``ppa_id``'s) from scratch and
    compare it with its stored rollups (docs/design.md §4, "Stored
    rollups"); with ``repair``, settle each drifted tree whole, which writes
    the right figures (and the statuses the roll-up owes, audited).

    One transaction per PPA, so a broken tree is counted and the others go
    on. ``progress(done, total)`` is called after each PPA.

    Returns:
        ``{"trees", "drifted", "repaired", "errors", "drift"}``; ``drift``
        lists ``{"ppa_id", "items", "statuses", "current"}`` per drifted tree.
    """
    with transaction() as session:
        query = select(Ppa.id, WorkItem.id).join(WorkItem, WorkItem.ppa_id == Ppa.id).order_by(Ppa.id)
        if ppa_id is not None:
            query = query.where(Ppa.id == ppa_id)
        projects = session.execute(query).all()
    result: dict[str, Any] = {"trees": 0, "drifted": 0, "repaired": 0, "errors": 0, "drift": []}
    for done, (ppa, root) in enumerate(projects, 1):
        try:
            with transaction() as session:
                if repair:  # writers lock the PPA first: so does the repair
                    session.execute(select(Ppa.id).where(Ppa.id == ppa).with_for_update())
                drift: Drift = rollup_drift(root)
                if not drift.clean:
                    result["drifted"] += 1
                    result["drift"].append({"ppa_id": ppa, "items": drift.items, "statuses": drift.statuses,
                                            "current": drift.current})
                    log.warning("rollup check: PPA %s: %d item(s) and %d status(es) drifted%s", ppa,
                                drift.items, drift.statuses, "" if drift.current else " (computed under other rules)")
                    if repair:
                        settle(session, session.get(Ppa, ppa), load_tree(root, rolled=False))
                        result["repaired"] += 1
        except (KeyError, ValueError) as exc:
            log.error("rollup check: PPA %s skipped: %s", ppa, exc)
            result["errors"] += 1
        result["trees"] += 1
        if progress is not None:
            progress(done, len(projects))
    return result


def sync_tracked_ppas(*, batch_size: int = 500) -> dict[str, Any]:
    """Sync every tracked PPA's progress and status from its execution
    project (the nightly job), set-based.

    Per batch of PPAs: one query for the PPAs, one for all their trees, one
    UPDATE for the PPAs that change (skipping any whose version moved since
    it was read: a request synced it meanwhile). A PPA whose tree cannot be
    loaded or mapped is logged and counted, and the others go on; if a
    batch's UPDATE fails, its PPAs are retried one by one.

    Returns:
        ``{"synced", "errors", "changed", "failed_ppa_ids"}``.
    """
    rules = get_runtime().rules.sync
    result: dict[str, Any] = {"synced": 0, "errors": 0, "changed": 0, "failed_ppa_ids": []}
    with transaction() as session:
        ppa_ids = session.scalars(
            select(Ppa.id).join(WorkItem, WorkItem.ppa_id == Ppa.id)
            .where(Ppa.enable_workitem_tracking.is_(True), Ppa.auto_sync_progress | Ppa.auto_sync_status)
            .order_by(Ppa.id)).all()
    for start in range(0, len(ppa_ids), batch_size):
        batch = ppa_ids[start:start + batch_size]
        with transaction() as session:
            rows = session.execute(
                select(Ppa.id, Ppa.version, Ppa.progress, Ppa.status, Ppa.execution_flag, Ppa.auto_sync_progress,
                       Ppa.auto_sync_status, Ppa.organization_id, WorkItem.id)
                .join(WorkItem, WorkItem.ppa_id == Ppa.id).where(Ppa.id.in_(batch))).all()
            trees = load_trees([row[-1] for row in rows])
        updates = []
        for ppa_id, version, progress, status, flag, auto_progress, auto_status, organization, root in rows:
            try:
                tree = trees[root]
                if isinstance(tree, ValueError):
                    raise tree
                wanted = follow_project(rules, tree.root.status, tree.root.rolled_progress,
                                        progress=auto_progress, status=auto_status)
            except (KeyError, ValueError) as exc:
                log.error("nightly sync: PPA %s skipped: %s", ppa_id, exc)
                result["failed_ppa_ids"].append(ppa_id)
                continue
            new = {"progress": progress if wanted.progress is None else wanted.progress,
                   "status": status if wanted.status is None else wanted.status,
                   "execution_flag": flag if wanted.status is None else wanted.execution_flag}
            old = {"progress": progress, "status": status, "execution_flag": flag}
            if new != old:
                updates.append({"id": ppa_id, "version": version, **new, "_old": old, "_organization": organization})
            result["synced"] += 1
        result["changed"] += _write_ppa_syncs(updates, result)
    result["errors"] = len(result["failed_ppa_ids"])
    if result["errors"]:
        log.error("nightly sync: %d PPA(s) failed: %s", result["errors"], result["failed_ppa_ids"])
    return result


def _write_ppa_syncs(updates: list[dict], result: dict[str, Any]) -> int:
    """One UPDATE for the batch; if it fails, one transaction per PPA so a
    bad row only fails itself. Returns the rows written."""
    try:
        with transaction() as session:
            return _write_and_audit(session, updates)
    except Exception as exc:  # noqa: BLE001 - isolate the failing PPA below
        log.warning("nightly sync: batch update failed (%s); retrying PPA by PPA", exc)
    written = 0
    for update in updates:
        try:
            with transaction() as session:
                written += _write_and_audit(session, [update])
        except Exception as exc:  # noqa: BLE001 - logged and counted, the rest go on
            log.error("nightly sync: PPA %s could not be written: %s", update["id"], exc)
            result["synced"] -= 1
            result["failed_ppa_ids"].append(update["id"])
    return written


def _write_and_audit(session, updates: list[dict]) -> int:
    """One UPDATE of the PPAs whose version did not move, and audit rows for
    exactly those."""
    columns = ["progress", "status", "execution_flag"]
    written = set(update_rows(session, Ppa.__table__, [{k: v for k, v in u.items() if not k.startswith("_")}
                                                       for u in updates], columns, check_version=True))
    audit.record(session, "ppa", [(u["id"], column, u["_old"][column], u[column], u["_organization"])
                                  for u in updates if u["id"] in written for column in columns])
    return len(written)
