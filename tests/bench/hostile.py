"""Benchmark: hostile input costs no more than ordinary input (issue 10,
items 8, 9 and 10).

Each hostile request is timed beside the ordinary request it imitates, in the
same run, on SQLite:

- ``distribute_budget`` with a weight of ``1E-20000000`` (refused by the
  parser: it held a thread and the PPA lock for 68 s when the split scaled
  every weight by 10**20000000) beside a sane weighted distribution;
- a PPA whose ``fiscal_year`` is a 5,000-digit integer (once a 500) beside a
  valid create;
- loading a rule set whose WBS template is a 1,111,110-item bomb of nested
  YAML aliases (52 s and 720 MB before aliases were refused) beside loading
  the shipped rules.

Run: ``make bench`` or ``python -m tests.bench hostile``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from db import db
from db.migrate import upgrade
from rules import DEFAULT_RULES_DIR
from services import users
from tests.bench.wbs import median_ms
from tests.support import ppa_body, shipped_rules
from web import create_app
from workflow.errors import RulesError


def bench_requests(url: str) -> list[tuple[str, float, str, float]]:
    """``(hostile, ms, ordinary, ms)`` for the two requests."""
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None})
    with app.app_context():
        upgrade(db.engine)
        users.ensure_organization("MSSD", "Ministry of Social Services and Development")
        _, token = users.add_user("bench.focal", ["moa_focal"], organization="MSSD")
        _, reviewer = users.add_user("bench.reviewer", ["technical_reviewer"])
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        ppa = client.post("/api/monitoring-entries", json=ppa_body(wbs_template="program"), headers=headers).get_json()
        client.post(f"/api/monitoring-entries/{ppa['id']}/transitions", json={"trigger": "submit"}, headers=headers)
        client.post(f"/api/monitoring-entries/{ppa['id']}/transitions", json={"trigger": "approve"},
                    headers={"Authorization": f"Bearer {reviewer}"})
        tree = client.get(f"/api/monitoring-entries/{ppa['id']}/budget_allocation_tree/", headers=headers).get_json()
        phases = [node["work_item_id"] for node in tree["breakdown"][0]["children"]]
        path = f"/api/monitoring-entries/{ppa['id']}/distribute_budget/"
        sane = '{"method": "weighted", "weights": {"%d": 0.5, "%d": 0.3, "%d": 0.2}}' % tuple(phases)
        hostile = '{"method": "weighted", "weights": {"%d": 0.5, "%d": 0.5, "%d": 1E-20000000}}' % tuple(phases)
        big_integer = ('{"title": "x", "category": "moa_ppa", "budget_allocation": "1.00", "fiscal_year": %s}'
                       % ("1" * 5000))

        def post(where: str, body: str, expected: int) -> Callable[[], None]:
            def send() -> None:
                response = client.post(where, data=body, content_type="application/json", headers=headers)
                assert response.status_code == expected, response.get_data(as_text=True)[:300]
            return send

        rows = [
            ("distribute_budget, weight 1E-20000000 (422)", median_ms(post(path, hostile, 422), 15),
             "distribute_budget, weights 0.5/0.3/0.2", median_ms(post(path, sane, 200), 15)),
            ("create PPA, fiscal_year of 5,000 digits (422)",
             median_ms(post("/api/monitoring-entries", big_integer, 422), 15),
             "create PPA", median_ms(post("/api/monitoring-entries", '{"title": "PPA", "category": "moa_ppa", '
                                          '"fiscal_year": 2025, "budget_allocation": "1.00"}', 201), 15)),
        ]
        db.session.remove()
        db.engine.dispose()
    return rows


def bench_rules(tmp: Path) -> tuple[str, float, str, float]:
    """Loading the alias bomb beside loading the shipped rules."""
    from tests.unit.test_rules_loader import add_template, nested_aliases

    bomb = tmp / "bomb"
    shutil.copytree(DEFAULT_RULES_DIR, bomb, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    add_template(bomb, nested_aliases())

    def load_bomb() -> None:
        try:
            shipped_rules(bomb)
        except RulesError:
            return
        raise AssertionError("the alias bomb loaded")

    return ("rules with a 1,111,110-item alias bomb (refused)", median_ms(load_bomb, 9),
            "the shipped rules", median_ms(lambda: shipped_rules(DEFAULT_RULES_DIR), 9))


def run(_postgres_url: str | None, echo: Callable[[str], None]) -> None:
    """Print the hostile requests beside their ordinary ones, with ratios."""
    from web.console import table

    echo("Hostile input benchmark on SQLite ...")
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench_requests(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}") + [bench_rules(Path(tmp))]
    echo(table(("hostile", "median ms", "ordinary", "median ms", "ratio"), [
        (hostile, f"{ms:.1f}", ordinary, f"{base:.1f}", f"{ms / base:.2f}x") for hostile, ms, ordinary, base in rows],
        align="lrlrr"))
    echo("target: every hostile input refused in no more time than the ordinary input it imitates (ratio <= 1.5x)")
