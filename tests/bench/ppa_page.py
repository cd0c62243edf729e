"""Benchmark: the PPA page with a large WBS, server-rendered (issue 11).

For WBSs of 100, 1,000 and 10,000 work items (a project, 20 items under it,
20 under each of those, ...) it prints, for one signed-in request of the
Work items tab (``GET /ppas/<id>/work-items``) and of the Budget tab, the
SQL statements sent, the median time, and beside it the median time of a
cold build of the JSON ``budget_allocation_tree`` of the same PPA (``GET
/api/.../budget_allocation_tree/``, built from the database on every
request: nothing is cached), with the ratio. Then the HTMX request opening
one branch of 20 items.

Targets: a page within 2x the JSON tree at 1,000 items; statements per page
the same at every size (the tree is read in one statement, the page opens
whole levels while it shows at most ``FIRST_ROWS`` items and the rest opens
on request, so what it renders does not grow with the WBS).

Run: ``make bench`` (PostgreSQL from BENCH_DATABASE_URL or TEST_DATABASE_URL,
and SQLite), or ``python -m tests.bench ppa_page``.
"""

from __future__ import annotations

from collections.abc import Callable

from db import db
from db.migrate import upgrade
from services import users
from tests.bench.my_work import signed_in_client
from tests.bench.wbs import count_statements, insert_tree, median_ms, run_backends
from web import create_app
from web.ui.auth import password_mark
from web.ui.work_items import FIRST_ROWS

SIZES = (100, 1_000, 10_000)
FANOUT = 20
BUDGET = 99_999_999_999  # centavos: PHP 999,999,999.99, the PPA's budget


def bench_backend(url: str, label: str, echo: Callable[[str], None], sizes=SIZES) -> list[dict]:
    """Measure the tabs at each size on one database; returns the rows printed.

    Requests are made outside any app context, as a server makes them."""
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None})
    with app.app_context():
        upgrade(db.engine)
        users.ensure_organization("MSSD", "Ministry of Social Services and Development")
        focal, token = users.add_user("bench.focal", ["moa_focal"], organization="MSSD")
        focal_id, mark = focal.id, password_mark(focal)
        engine = db.engine
    api = {"Authorization": f"Bearer {token}"}
    client = signed_in_client(app, focal_id, mark)
    results, next_id = [], 1
    for size in sizes:
        body = {"title": f"Bench PPA page {size}", "category": "moa_ppa", "fiscal_year": 2026,
                "budget_allocation": "999999999.99"}
        ppa = client.post("/api/monitoring-entries", json=body, headers=api).get_json()["id"]
        with app.app_context():
            root = insert_tree(ppa, size, FANOUT, BUDGET, next_id)
            db.session.remove()
        next_id += size
        json_url = f"/api/monitoring-entries/{ppa}/budget_allocation_tree/"
        repeat = 5 if size >= 10_000 else 15
        json_ms = median_ms(lambda url=json_url: client.get(url, headers=api), repeat)
        for tab in ("work-items", "budget"):
            page_url = f"/ppas/{ppa}/{tab}"
            with count_statements(engine) as counted:
                response = client.get(page_url)
            assert response.status_code == 200, response.status_code
            assert f"Bench PPA page {size}" in response.get_data(as_text=True)
            results.append({"backend": label, "what": f"GET /ppas/<id>/{tab}, {size:,} items",
                            "statements": counted["n"], "ms": median_ms(lambda url=page_url: client.get(url), repeat),
                            "baseline": "JSON tree, cold", "baseline_ms": json_ms})
        branch_url = f"/ppas/{ppa}/work-items/{root + 1}/children"
        with count_statements(engine) as counted:
            assert client.get(branch_url, headers={"HX-Request": "true"}).status_code == 200
        results.append({"backend": label, "what": f"  open a branch (HTMX), {size:,} items",
                        "statements": counted["n"],
                        "ms": median_ms(lambda url=branch_url: client.get(url, headers={"HX-Request": "true"}),
                                        repeat),
                        "baseline": "JSON tree, cold", "baseline_ms": json_ms})
    with app.app_context():
        db.session.remove()
        engine.dispose()
    return results


def run(postgres_url: str | None, echo: Callable[[str], None], sizes=SIZES) -> None:
    """Benchmark PostgreSQL (when given) and SQLite; print one table."""
    run_backends(postgres_url, echo, "PPA page", lambda url, label, out: bench_backend(url, label, out, sizes))
    echo(f"targets: a tab within 2x the cold JSON tree of the same PPA at 1,000 items; statements per tab the same "
         f"at every size (the page shows at most {FIRST_ROWS} work items at first, the rest on request)")
