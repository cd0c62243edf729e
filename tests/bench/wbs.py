"""Benchmark: the budget tree, distribution and sync on large WBSs (issue 3).

For WBS sizes 100 / 1,000 / 10,000 / 100,000 it prints the SQL statements of
one ``GET .../budget_allocation_tree/`` request (auth included), its median
time, and the median time of a bare ``SELECT`` of the same rows through the
same driver in the same run, with the ratio. Then ``distribute_budget``
(equal) over 10,000 direct children and ``sync_from_workitem``, beside a
bare ``UPDATE`` of the same 10,000 rows; of the distribution, the split in
memory and the writing of its 10,000 audit rows (one INSERT) are shown apart.

Run: ``make bench`` (PostgreSQL from BENCH_DATABASE_URL or TEST_DATABASE_URL,
and SQLite).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event, text

from db import audit, db
from db.migrate import recreate, upgrade
from db.models import WorkItem
from services import users, work_items
from services.sweeps import verify_rollups
from web import create_app
from workflow.money import split_centavos

SIZES = (100, 1_000, 10_000, 100_000)
WIDE = 10_000  # direct children of the distribution benchmark
WORK_TYPES = ("project", "sub_project", "activity", "task", "subtask")


def median_ms(function: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> float:
    """Median wall time of ``function`` in milliseconds (one warm-up call
    first); ``setup`` runs untimed before each call."""
    samples = []
    for i in range(repeat + 1):
        if setup is not None:
            setup()
        start = time.perf_counter()
        function()
        if i:
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


@contextmanager
def count_statements(engine):
    """Count the statements sent to the database inside the block."""
    counter = {"n": 0}

    def before(*_args, **_kwargs):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def insert_tree(ppa_id: int, size: int, fanout: int | None, budget: int, first_id: int) -> int:
    """Insert a WBS of ``size`` items for ``ppa_id`` (a complete ``fanout``-ary
    tree, or one root with ``size - 1`` children when ``fanout`` is None),
    with exact allocations. Returns the root id."""
    fanout = fanout or size
    parents = [None] + [(i - 1) // fanout for i in range(1, size)]
    levels = [0] * size
    for i in range(1, size):
        levels[i] = levels[parents[i]] + 1
    children: dict[int, list[int]] = {}
    for i in range(1, size):
        children.setdefault(parents[i], []).append(i)
    allocated = [0] * size
    allocated[0] = budget
    for i in range(size):
        kids = children.get(i, [])
        for kid, amount in zip(kids, split_centavos(allocated[i], [1] * len(kids)) if kids else []):
            allocated[kid] = amount
    rows = [{
        "id": first_id + i, "root_id": None if i == 0 else first_id,
        "parent_id": None if i == 0 else first_id + parents[i], "ppa_id": ppa_id if i == 0 else None,
        "work_type": WORK_TYPES[min(levels[i], 4)], "title": f"Item {i}", "position": i, "level": levels[i],
        "allocated": allocated[i], "spent": (i * 37) % 1000,
    } for i in range(size)]
    with db.engine.begin() as connection:
        for start in range(0, size, 5000):
            connection.execute(text(
                "INSERT INTO work_items (id, root_id, parent_id, ppa_id, work_type, title, description, position, "
                "level, status, priority, progress, allocated_budget, actual_expenditure, budget_notes, "
                "budget_locked, created_at, updated_at, version) VALUES (:id, :root_id, :parent_id, :ppa_id, "
                ":work_type, :title, '', :position, :level, 'not_started', 'medium', 0, :allocated, :spent, '', "
                "false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"), rows[start:start + 5000])
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT setval('work_items_id_seq', (SELECT max(id) FROM work_items))"))
        connection.execute(text("UPDATE ppas SET enable_workitem_tracking = true, execution_project_id = :root "
                                "WHERE id = :id"), {"id": ppa_id, "root": first_id})
    return first_id


def load_and_roll(root: int):
    """The tree as the services load it."""
    from services.trees import load_tree

    return load_tree(root, rolled=False)


def distribute_in_memory(tree) -> None:
    """The pure part of an equal distribution: split, rescale, check."""
    from workflow.tree import envelope_violations, equal_shares, reallocate

    changes = reallocate(tree, equal_shares(tree, tree.root.id))
    assert not envelope_violations(tree, changes)


def amounts_with_audit(item_ids: list[int], organization_id: int | None) -> Callable[[], None]:
    """The write of an equal distribution alone: ``audit.update_amounts`` of
    a new allocation for each item, with its audit row (one UPDATE and one
    INSERT on SQLite, one statement on PostgreSQL), rolled back: the audit
    log is append-only."""
    changes = {i: 1_000 for i in item_ids}

    def write() -> None:
        try:
            audit.update_amounts(db.session, "work_item", WorkItem.__table__, "allocated_budget", organization_id,
                                 changes)
        finally:
            db.session.rollback()

    return write


def bench_backend(url: str, label: str, echo: Callable[[str], None], sizes=SIZES, wide: int = WIDE) -> list[dict]:
    """Run every measurement on one database; returns the rows printed.

    Args:
        sizes: WBS sizes of the tree measurements; ``sync_from_workitem``
            runs on the 10,000-item one (the largest below it when absent).
        wide: children of the distribution measurement.
    """
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None})
    results = []
    with app.app_context():
        upgrade(db.engine)
        users.ensure_organization("MSSD", "Ministry of Social Services and Development")
        _, token = users.add_user("bench.focal", ["moa_focal"], organization="MSSD")
        headers = {"Authorization": f"Bearer {token}"}
        client = app.test_client()
        next_id = 1
        ppa_ids = {}
        for size in sizes + ("wide",):
            body = {"title": f"Bench {size}", "category": "moa_ppa", "fiscal_year": 2026,
                    "budget_allocation": "999999999.99"}
            ppa = client.post("/api/monitoring-entries", json=body, headers=headers).get_json()
            n = wide + 1 if size == "wide" else size
            root = insert_tree(ppa["id"], n, None if size == "wide" else 20, 99_999_999_999, next_id)
            ppa_ids[size] = (ppa["id"], root, n)
            next_id += n
        verify_rollups(repair=True)  # the rows went in behind the services' back: store their rollups
        engine = db.engine
        raw = engine.raw_connection()
        cursor = raw.cursor()
        placeholder = "%s" if engine.dialect.name == "postgresql" else "?"
        bare_sql = ("SELECT id, parent_id, position, work_type, title, level, status, progress, allocated_budget, "
                    "actual_expenditure, budget_locked FROM work_items "
                    f"WHERE id = {placeholder} OR root_id = {placeholder} ORDER BY position, id")

        for size in sizes:
            ppa_id, root, n = ppa_ids[size]
            url_tree = f"/api/monitoring-entries/{ppa_id}/budget_allocation_tree/"
            repeat = 5 if n >= 100_000 else 15
            from services import tree_cache

            cold = tree_cache.store().clear  # each cold read starts from an empty cache (the in-process store)
            cold()
            with count_statements(engine) as counted:
                response = client.get(url_tree, headers=headers)
            assert response.status_code == 200, response.get_json()
            tree_ms = median_ms(lambda: client.get(url_tree, headers=headers), repeat, setup=cold)
            cached = {"If-None-Match": response.headers["ETag"]}
            with count_statements(engine) as hit_counted:
                assert client.get(url_tree, headers=headers).data == response.data
            hit_ms = median_ms(lambda: client.get(url_tree, headers=headers), repeat)
            with count_statements(engine) as not_modified_counted:
                assert client.get(url_tree, headers=headers | cached).status_code == 304
            not_modified_ms = median_ms(lambda: client.get(url_tree, headers=headers | cached), repeat)

            def bare():
                cursor.execute(bare_sql, (root, root))
                return cursor.fetchall()

            bare_ms = median_ms(bare, repeat)
            results += [
                {"backend": label, "what": f"tree, {n:,} items", "statements": counted["n"],
                 "ms": tree_ms, "baseline": "bare SELECT", "baseline_ms": bare_ms},
                {"backend": label, "what": f"tree, {n:,} items, cache hit", "statements": hit_counted["n"],
                 "ms": hit_ms, "baseline": "bare SELECT", "baseline_ms": bare_ms},
                {"backend": label, "what": f"tree, {n:,} items, 304", "statements": not_modified_counted["n"],
                 "ms": not_modified_ms, "baseline": "bare SELECT", "baseline_ms": bare_ms},
            ]

        ppa_id, root, n = ppa_ids["wide"]
        url_distribute = f"/api/monitoring-entries/{ppa_id}/distribute_budget/"
        child_ids = list(range(root + 1, root + n))

        def bare_update(value: int = 1000):
            with engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(text(
                        "UPDATE work_items AS t SET allocated_budget = v.value FROM unnest(CAST(:ids AS integer[]), "
                        "CAST(:values AS bigint[])) AS v(id, value) WHERE t.id = v.id"),
                        {"ids": child_ids, "values": [value] * len(child_ids)})
                else:
                    connection.execute(text("UPDATE work_items SET allocated_budget = :v WHERE id = :id"),
                                       [{"id": i, "v": value} for i in child_ids])

        def post(body):
            response = client.post(url_distribute, json=body, headers=headers)
            assert response.status_code == 200, response.get_json()

        # Each timed run starts from allocations that differ from the result, so all 10,000 rows are rewritten.
        bare_update(1)
        with count_statements(engine) as counted:
            post({"method": "equal"})
        equal_ms = median_ms(lambda: post({"method": "equal"}), 9, setup=lambda: bare_update(1))
        bare_update_ms = median_ms(bare_update, 9)
        weights = {str(i): str(Decimal(1 + (i % 2)) / Decimal(3 * (n - 1) // 2)) for i in child_ids}
        weighted_ms = median_ms(lambda: post({"method": "weighted", "weights": weights}), 5,
                                setup=lambda: bare_update(1))
        tree = load_and_roll(root)
        compute_ms = median_ms(lambda: distribute_in_memory(tree), 9)
        with engine.connect() as connection:
            organization_id = connection.scalar(text("SELECT organization_id FROM ppas WHERE id = :id"), {"id": ppa_id})
        bare_update(1)  # every amount then changes, as in the timed distributions: a row audited for each
        write_amounts = amounts_with_audit(child_ids, organization_id)
        with count_statements(engine) as audited:
            write_amounts()
        audit_ms = median_ms(write_amounts, 9)
        results += [
            {"backend": label, "what": f"distribute equal, {n - 1:,} children", "statements": counted["n"],
             "ms": equal_ms, "baseline": "bare UPDATE", "baseline_ms": bare_update_ms},
            {"backend": label, "what": f"distribute weighted, {n - 1:,} weights", "statements": counted["n"],
             "ms": weighted_ms, "baseline": "bare UPDATE", "baseline_ms": bare_update_ms},
            {"backend": label, "what": "  of which the split in memory", "statements": 0,
             "ms": compute_ms, "baseline": "bare UPDATE", "baseline_ms": bare_update_ms},
            {"backend": label, "what": "  of which the UPDATE and its audit rows", "statements": audited["n"],
             "ms": audit_ms, "baseline": "bare UPDATE", "baseline_ms": bare_update_ms},
        ]
        ppa_id, root, n = ppa_ids[10_000 if 10_000 in sizes else max(s for s in sizes if s <= 10_000)]
        url_sync = f"/api/monitoring-entries/{ppa_id}/sync_from_workitem/"
        with count_statements(engine) as counted:
            client.post(url_sync, headers=headers)
        results.append({"backend": label, "what": f"sync_from_workitem, {n:,} items",
                        "statements": counted["n"], "ms": median_ms(lambda: client.post(url_sync, headers=headers), 9),
                        "baseline": "bare SELECT", "baseline_ms": median_ms(
                            lambda: (cursor.execute(bare_sql, (root, root)), cursor.fetchall()), 9)})
        results += bench_path_writes(client, headers, engine, ppa_ids[10_000 if 10_000 in sizes else
                                                                    max(s for s in sizes if s <= 10_000)], label)
        cursor.close()
        raw.close()
        db.session.remove()
        engine.dispose()
    return results


def bench_path_writes(client, headers: dict, engine, tree: tuple[int, int, int], label: str) -> list[dict]:
    """Writes that cost the depth of the tree (issue 17 item 1; docs/design.md
    §4, "Stored rollups"), on the tree ``(ppa id, root id, size)``:

    - completing one leaf (``complete`` through the service, in its own
      transaction, its user loaded as a request would) beside an O(depth) baseline: the leaf and each ancestor
      updated with plain UPDATEs in one transaction, each ancestor's
      progress averaged from its children, as a parent-chain walk does;
    - ``sync_from_workitem`` (the request) beside reading the root work
      item (``GET /api/work-items/{root}``, the same stack).
    """
    ppa_id, root, n = tree
    leaf = root + n - 1
    chain, current = [], leaf
    with engine.connect() as connection:
        while current is not None:
            chain.append(current)
            current = connection.execute(text("SELECT parent_id FROM work_items WHERE id = :id"),
                                         {"id": current}).scalar()
    def fire(trigger: str):  # the user loaded as a request's authentication would
        work_items.fire_work_item_transition(users.get_active_user_or_raise("bench.focal"), leaf, trigger)
        db.session.remove()

    def baseline():
        with engine.begin() as connection:
            connection.execute(text("UPDATE work_items SET status = 'completed', progress = 100 WHERE id = :id"),
                               {"id": leaf})
            for ancestor in chain[1:]:
                connection.execute(text(
                    "UPDATE work_items SET progress = (SELECT CAST(avg(progress) AS integer) FROM work_items AS c "
                    "WHERE c.parent_id = :id) WHERE id = :id"), {"id": ancestor})

    fire("start")
    with count_statements(engine) as counted:
        fire("complete")
    complete_ms = median_ms(lambda: fire("complete"), 15, setup=lambda: fire("reopen"))
    with count_statements(engine) as counted_baseline:
        baseline()
    baseline_ms = median_ms(baseline, 15)
    fire("reopen")
    url_sync = f"/api/monitoring-entries/{ppa_id}/sync_from_workitem/"
    with count_statements(engine) as counted_sync:
        client.post(url_sync, headers=headers)
    sync_ms = median_ms(lambda: client.post(url_sync, headers=headers), 15)
    read_ms = median_ms(lambda: client.get(f"/api/work-items/{root}", headers=headers), 15)
    return [
        {"backend": label, "what": f"complete one leaf, {n:,} items (depth {len(chain) - 1})",
         "statements": counted["n"], "ms": complete_ms,
         "baseline": f"plain UPDATEs up the path ({counted_baseline['n']})", "baseline_ms": baseline_ms},
        {"backend": label, "what": f"sync_from_workitem (stored root), {n:,} items", "statements": counted_sync["n"],
         "ms": sync_ms, "baseline": "GET the root work item", "baseline_ms": read_ms},
    ]


def run_backends(postgres_url: str | None, echo: Callable[[str], None], name: str,
                 bench: Callable[[str, str, Callable[[str], None]], list[dict]]) -> None:
    """Run ``bench(url, label, echo)`` on PostgreSQL (when given) and SQLite,
    and print its rows as one table, each figure beside its baseline."""
    from web.console import table

    rows = []
    if postgres_url:
        recreate(postgres_url)
        echo(f"{name} benchmark on PostgreSQL ...")
        rows += bench(postgres_url, "postgresql", echo)
    with tempfile.TemporaryDirectory() as tmp:
        echo(f"{name} benchmark on SQLite ...")
        rows += bench(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "sqlite", echo)
    echo(table(("backend", "measurement", "statements", "median ms", "baseline", "baseline ms", "ratio"), [
        (r["backend"], r["what"], r["statements"], f"{r['ms']:.1f}", r["baseline"], f"{r['baseline_ms']:.1f}",
         f"{r['ms'] / r['baseline_ms']:.1f}x") for r in rows], align="llrrlrr"))


def run(postgres_url: str | None, echo: Callable[[str], None], sizes=SIZES, wide: int = WIDE) -> None:
    """Benchmark PostgreSQL (when given) and SQLite; print one table
    (``sizes``, ``wide`` as ``bench_backend``)."""
    run_backends(postgres_url, echo, "WBS", lambda url, label, out: bench_backend(url, label, out, sizes, wide))
    echo("targets: statements per tree request constant (<= 3); tree <= 3x the bare read at 10,000 items; "
         "distribution over 10,000 children <= 2x the bare UPDATE of the same rows, audit included; complete one "
         "leaf <= 1.5x the plain UPDATEs up its path (statements independent of the tree's size); sync <= 1.2x "
         "reading the root")
    echo("(statements of a request: the token, the PPA, the tree; a distribution adds the write of the amounts with "
         "their audit rows: one statement on PostgreSQL, an INSERT and an UPDATE on SQLite)")
