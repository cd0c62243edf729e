"""Benchmark: the nightly sync of 2,000 tracked PPAs (issue 4).

On PostgreSQL, 2,000 tracked PPAs with 50 work items each (and, to show the
statement count does not depend on the items, with 10 each). Every run
starts from drifted PPAs (progress 0, status planning, while their projects
say otherwise), so every PPA really changes. Measured beside the naive way
in the same run: one PPA at a time, one query per work item for its
children, one UPDATE per PPA.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from fractions import Fraction

from sqlalchemy import text

from db import db
from db.audit import AuditContext, audit_context
from db.migrate import recreate
from services import users
from services.runtime import get_runtime
from services.sweeps import sync_tracked_ppas
from tests.bench.wbs import count_statements
from web import create_app
from workflow.sync import follow_project

PPAS = 2_000


def populate(items_per_ppa: int, ppas: int = PPAS) -> None:
    """``ppas`` tracked PPAs (2,000), each with a project, 7 activities and
    tasks under them (``items_per_ppa`` items in all), some tasks completed."""
    organization = users.ensure_organization("MSSD", "Ministry of Social Services and Development")
    with db.engine.begin() as connection:
        connection.execute(text("TRUNCATE ppas, work_items RESTART IDENTITY CASCADE"))
        connection.execute(text(
            "INSERT INTO ppas (id, title, summary, category, organization_id, fiscal_year, appropriation_class, "
            "priority, budget_allocation, progress, status, approval_status, stage_entered_at, "
            "budget_distribution_policy, enable_workitem_tracking, auto_sync_progress, auto_sync_status, created_at, "
            "updated_at, version) VALUES (:id, :title, '', 'moa_ppa', :org, 2026, 'mooe', 'medium', 100000000, 0, "
            "'planning', 'enacted', now(), 'equal', true, true, true, now(), now(), 1)"),
            [{"id": i, "title": f"PPA {i}", "org": organization.id} for i in range(1, ppas + 1)])
        rows, next_id = [], 1
        for ppa in range(1, ppas + 1):
            root = next_id
            rows.append(_item(root, None, None, ppa, "project", 0, 0, "in_progress"))
            next_id += 1
            activities = list(range(next_id, next_id + 7))
            for position, activity in enumerate(activities):
                rows.append(_item(activity, root, root, None, "activity", position, 1, "in_progress"))
            next_id += 7
            for n in range(items_per_ppa - 8):
                status = "completed" if (ppa + n) % 3 == 0 else "not_started"
                rows.append(_item(next_id, activities[n % 7], root, None, "task", n, 2, status, progress=n % 90))
                next_id += 1
        for start in range(0, len(rows), 10_000):
            connection.execute(text(
                "INSERT INTO work_items (id, root_id, parent_id, ppa_id, work_type, title, description, position, "
                "level, status, priority, progress, allocated_budget, actual_expenditure, budget_notes, "
                "budget_locked, created_at, updated_at, version) VALUES (:id, :root_id, :parent_id, :ppa_id, "
                ":work_type, 'item', '', :position, :level, :status, 'medium', :progress, 1000, 0, '', true, now(), "
                "now(), 1)"), rows[start:start + 10_000])
        connection.execute(text("UPDATE ppas SET execution_project_id = w.id FROM work_items w WHERE w.ppa_id = ppas.id"))
        connection.execute(text("SELECT setval('work_items_id_seq', (SELECT max(id) FROM work_items))"))
        connection.execute(text("SELECT setval('ppas_id_seq', (SELECT max(id) FROM ppas))"))
        connection.execute(text("ANALYZE ppas; ANALYZE work_items"))


def _item(item_id, parent, root, ppa, work_type, position, level, status, progress=0) -> dict:
    return {"id": item_id, "parent_id": parent, "root_id": root, "ppa_id": ppa, "work_type": work_type,
            "position": position, "level": level, "status": status, "progress": progress}


def drift() -> None:
    """Undo the last sync so the next one has every PPA to change."""
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE ppas SET progress = 0, status = 'planning', execution_flag = NULL"))
    db.session.remove()


def naive_sync() -> dict:
    """The seeds' way: one PPA at a time, one query per work item."""
    rules = get_runtime().rules.sync
    synced = 0
    with db.engine.begin() as connection:
        ppas = connection.execute(text("SELECT id FROM ppas WHERE enable_workitem_tracking ORDER BY id")).all()
        for (ppa_id,) in ppas:
            root = connection.execute(text("SELECT id, status, progress FROM work_items WHERE ppa_id = :id"),
                                      {"id": ppa_id}).one()

            def progress_of(item_id: int, status: str, own: int) -> Fraction:
                children = connection.execute(text(
                    "SELECT id, status, progress FROM work_items WHERE parent_id = :id ORDER BY position, id"),
                    {"id": item_id}).all()
                counted = [c for c in children if c.status != "cancelled"]
                if not counted:
                    return Fraction(100 if status == "completed" else own)
                return sum((progress_of(*c) for c in counted), Fraction(0)) / len(counted)

            wanted = follow_project(rules, root.status, progress_of(*root), progress=True, status=True)
            connection.execute(text("UPDATE ppas SET progress = :p, status = :s, execution_flag = :f, "
                                    "version = version + 1 WHERE id = :id"),
                               {"p": wanted.progress, "s": wanted.status, "f": wanted.execution_flag, "id": ppa_id})
            synced += 1
    return {"synced": synced}


def ppa_states() -> list[tuple]:
    """Every PPA's progress, status and flag, by id."""
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT id, progress, status, execution_flag FROM ppas ORDER BY id")).all()


def timed(function: Callable[[], dict], repeat: int) -> tuple[float, int, dict]:
    """Median seconds, statements of the last run, its result."""
    samples, result = [], {}
    for _ in range(repeat):
        drift()
        with count_statements(db.engine) as counted:
            start = time.perf_counter()
            result = function()
            samples.append(time.perf_counter() - start)
    return statistics.median(samples), counted["n"], result  # counted: the last run's


def run(postgres_url: str | None, echo: Callable[[str], None], ppas: int = PPAS) -> None:
    """Print the nightly sync table (PostgreSQL only) for ``ppas`` PPAs.

    The sync runs as the scheduled job does: audited as ``job:sync_tracked_ppas``,
    never as whoever made the last request in this thread. Both ways must
    leave every PPA with the same progress and status.
    """
    from web.console import table

    if not postgres_url:
        echo("nightly sync benchmark: skipped (no PostgreSQL URL)")
        return
    recreate(postgres_url)
    app = create_app({"DATABASE_URL": postgres_url, "REDIS_URL": None})
    rows = []
    with app.app_context(), audit_context(AuditContext(actor="job:sync_tracked_ppas", request_id="bench")):
        for items in (10, 50):
            echo(f"nightly sync benchmark: {ppas:,} PPAs x {items} work items ...")
            populate(items, ppas)
            fast, fast_statements, result = timed(sync_tracked_ppas, 3)
            assert result["synced"] == ppas and result["changed"] == ppas and result["errors"] == 0, result
            synced = ppa_states()
            naive, naive_statements, naive_result = timed(naive_sync, 1 if items == 50 else 2)
            assert naive_result["synced"] == ppas
            assert ppa_states() == synced, "the naive sync and the set-based one disagree"
            rows.append((f"{ppas:,} x {items}", f"{fast:.2f}", fast_statements, f"{naive:.2f}", naive_statements,
                         f"{naive / fast:.1f}x"))
        db.session.remove()
        db.engine.dispose()
    echo(table(("PPAs x items", "set-based s", "statements", "naive s", "statements", "speed-up"), rows,
               align="lrrrrr"))
    echo("targets: at least 10x faster than the naive way; statements independent of the number of work items")
