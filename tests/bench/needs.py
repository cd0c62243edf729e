"""Benchmark: the community's top priorities over 100,000 needs and
1,000,000 votes, and the gap-analysis dashboard under the same load
(issue 15, "Tests and measurements").

The data are bulk-inserted set-based (``INSERT ... SELECT`` over
``generate_series`` on PostgreSQL, a recursive CTE on SQLite; no service
per row): needs spread over needs.yaml's categories and psgc_barmm.yaml's
provinces, four in five published, each with an estimated cost; one in
twenty addressed by a PPA with a budget (funded); the votes of 100 voters
(one per user per need, as the database requires), and the needs' vote
counters set from them by one ``UPDATE``.

At a tenth of the data and at all of it, it counts the SQL statements of
``services.needs.priorities`` and ``services.needs.gap_analysis`` and of
the pages ``/needs/priorities`` and ``/needs/gap-analysis`` (they must be
the same at both sizes), and prints the median time of each at full size
beside a bare aggregate query of the same rows through the same driver in
the same run, with the ratio: the ranking window query for the priorities
(and, as a second baseline, counting the votes themselves, which the
needs' counters spare), the grouped count and sum for the gap analysis
(and the same joined to the PPAs' links, as the funded figures need).

Target: statements constant in the number of needs and votes.

Run: ``make bench`` (PostgreSQL from BENCH_DATABASE_URL or TEST_DATABASE_URL,
and SQLite), or ``python -m tests.bench needs``; ``--quick`` runs it on
10,000 needs and 100,000 votes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Date, bindparam, insert, text

from db import db
from db.migrate import upgrade
from db.models import Ppa, User
from db.types import UTCDateTime
from services import needs, users
from services.needs import PUBLISHED
from services.runtime import get_runtime
from tests.bench.my_work import signed_in_client
from tests.bench.wbs import count_statements, median_ms, run_backends
from web import create_app
from web.ui.auth import password_mark

#: Full size: needs and votes; ``QUICK``: what ``--quick`` runs.
NEEDS, VOTES = 100_000, 1_000_000
QUICK = (10_000, 100_000)
VOTERS = 100  # each votes VOTES / VOTERS times, at most once per need
STEP = 7_919  # a prime, coprime with the sizes: spreads each voter's votes over the needs
PPAS = 100  # the PPAs with a budget that fund needs
#: The stages of the needs, by id modulo 10: four in five published, one in ten addressed.
STAGES = ("validated", "forwarded", "addressed", "deferred", "validated", "forwarded", "validated", "validated",
          "submitted", "declined")
_PUBLISHED_SQL = ", ".join(f"'{s}'" for s in PUBLISHED)
PRIORITIES_SQL = ("SELECT id, province_code, category, votes FROM (SELECT id, province_code, category, votes, "
                  "row_number() OVER (PARTITION BY province_code, category ORDER BY votes DESC, id) AS r "
                  f"FROM needs WHERE status IN ({_PUBLISHED_SQL})) AS ranked WHERE r <= 5")
VOTE_COUNT_SQL = "SELECT need_id, count(*), sum(weight) FROM need_votes GROUP BY need_id"
GAP_SQL = ("SELECT category, province_code, count(*), sum(estimated_cost) FROM needs "
           "GROUP BY category, province_code")
GAP_JOIN_SQL = ("SELECT n.category, n.province_code, count(*), sum(n.estimated_cost), "
                "sum(CASE WHEN f.need_id IS NULL THEN 0 ELSE 1 END) FROM needs n "
                "LEFT JOIN (SELECT DISTINCT need_id FROM ppa_needs) f ON f.need_id = n.id "
                "GROUP BY n.category, n.province_code")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _series(dialect: str, first: int, last: int) -> str:
    """A FROM item: the integers ``first``..``last`` as ``s.g``."""
    if dialect == "postgresql":
        return f"generate_series({int(first)}, {int(last)}) AS s(g)"
    return (f"(WITH RECURSIVE r(g) AS (SELECT {int(first)} UNION ALL SELECT g + 1 FROM r WHERE g < {int(last)}) "
            "SELECT g FROM r) AS s")


def _pick(values: list[str], expression: str) -> str:
    """SQL: the value of ``values`` at ``expression`` modulo their count (values are the rules' names)."""
    cases = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"(CASE ({expression}) % {len(values)} {cases} END)"


def _run(sql: str, **params) -> None:
    """Execute ``sql`` with ``params``; ``:now`` and ``:day`` (when used) are typed as the columns are."""
    typed = {"now": bindparam("now", NOW, type_=UTCDateTime), "day": bindparam("day", date(2026, 3, 2), type_=Date)}
    statement = text(sql).bindparams(*(p for name, p in typed.items() if f":{name}" in sql))
    db.session.execute(statement, params)


def populate_base(organization_id: int, user_id: int) -> list[int]:
    """The voters (``VOTERS`` users) and the ``PPAS`` PPAs with a budget;
    returns the voters' ids."""
    db.session.execute(insert(User), [{"username": f"bench.voter{v}", "username_skeleton": f"bench.voter{v}",
                                       "full_name": "", "stakeholder_type": None} for v in range(VOTERS)])
    db.session.execute(insert(Ppa), [
        {"id": 900_000 + p, "title": f"Bench PPA {p}", "summary": "", "category": "moa_ppa",
         "organization_id": organization_id, "fiscal_year": 2026, "appropriation_class": "mooe",
         "priority": "medium", "budget_allocation": Decimal("1500000.00"), "progress": p % 100,
         "status": "ongoing", "approval_status": "enacted", "stage_entered_at": NOW,
         "budget_distribution_policy": "manual", "enable_workitem_tracking": False, "auto_sync_progress": True,
         "auto_sync_status": True, "created_by_id": user_id, "updated_by_id": user_id, "created_at": NOW,
         "updated_at": NOW, "version": 1} for p in range(PPAS)])
    db.session.commit()
    return sorted(db.session.scalars(text("SELECT id FROM users WHERE username LIKE 'bench.voter%'")))


def populate(first: int, last: int, votes: int, voters: list[int], organization_id: int) -> None:
    """Needs ``first``..``last`` (ids), the PPA links of the funded ones,
    ``votes`` votes of ``voters`` for these needs, and every need's vote
    counters recounted from the votes."""
    dialect = db.engine.dialect.name
    rules = get_runtime().rules
    categories, provinces = list(rules.needs.categories), list(rules.psgc_barmm.provinces)
    _run(f"""INSERT INTO needs (id, title, description, category, urgency, submission_type, province_code,
             estimated_cost, status, organization_id, submitted_on, votes, vote_weight, created_at, updated_at, version)
             SELECT g, 'Bench need ' || g, 'A need of the benchmark', {_pick(categories, 'g')}, 'high',
                    'community_submission', {_pick(provinces, 'g / 7')}, (g % 1000 + 1) * 100000,
                    {_pick(list(STAGES), 'g')}, CASE WHEN g % 10 IN (1, 2) THEN :org END, :day, 0, 0, :now, :now, 1
             FROM {_series(dialect, first, last)}""", org=organization_id)
    _run(f"""INSERT INTO ppa_needs (ppa_id, need_id, linked_at)
             SELECT 900000 + g % {PPAS}, g, :now FROM {_series(dialect, first, last)} WHERE g % 20 = 2""")
    count = last - first + 1
    assert votes // len(voters) <= count and count % STEP, "one vote per user per need: too many votes"
    # vote g of this batch: voter g % VOTERS, their k-th vote (k = g / VOTERS) for the new need
    # first + (k * STEP + voter * 13) % count: distinct k give distinct needs (STEP is a prime that does
    # not divide count), and the batches' needs are disjoint, so no (need, user) pair repeats.
    voter_case = " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(voters))
    _run(f"""INSERT INTO need_votes (need_id, user_id, weight, created_at)
             SELECT {int(first)} + ((g / {len(voters)}) * {STEP} + (g % {len(voters)}) * 13) % {int(count)},
                    CASE g % {len(voters)} {voter_case} END, 1 + g % 3, :now
             FROM {_series(dialect, 0, votes - 1)}""")
    _run("""UPDATE needs SET votes = (SELECT count(*) FROM need_votes v WHERE v.need_id = needs.id),
                             vote_weight = (SELECT coalesce(sum(weight), 0) FROM need_votes v WHERE v.need_id = needs.id)""")
    db.session.commit()


def bench_backend(url: str, label: str, echo: Callable[[str], None], size: tuple[int, int] = (NEEDS, VOTES)) -> list[dict]:
    """Measure priorities and the gap analysis on one database at a tenth of
    ``size`` (needs, votes) and at all of it; returns the rows printed."""
    total_needs, total_votes = size
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None})
    with app.app_context():
        upgrade(db.engine)
        organization = users.ensure_organization("MSSD", "Ministry of Social Services and Development")
        users.ensure_organization("BPDA", "Bangsamoro Planning and Development Authority")
        reviewer, _ = users.add_user("bench.reviewer", ["technical_reviewer"], organization="BPDA")
        reviewer_id, organization_id, mark = reviewer.id, organization.id, password_mark(reviewer)
        voters = populate_base(organization_id, reviewer_id)
        engine = db.engine
    client = signed_in_client(app, reviewer_id, mark)
    results, counts, loaded = [], {}, 0
    for needs_now, votes_now in ((total_needs // 10, total_votes // 10), (total_needs, total_votes)):
        with app.app_context():
            begin = time.perf_counter()
            populate(loaded + 1, needs_now, votes_now - (total_votes // 10 if loaded else 0), voters, organization_id)
            echo(f"  {label}: {needs_now:,} needs, {votes_now:,} votes loaded in {time.perf_counter() - begin:.1f} s")
            loaded = needs_now
            user = db.session.get(User, reviewer_id)
            with count_statements(engine) as counted:
                needs.priorities()
            counts.setdefault("priorities", []).append(counted["n"])
            with count_statements(engine) as counted:
                needs.gap_analysis(user)
            counts.setdefault("gap_analysis", []).append(counted["n"])
            db.session.remove()
        for path in ("/needs/priorities", "/needs/gap-analysis"):
            with count_statements(engine) as counted:
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            counts.setdefault(f"GET {path}", []).append(counted["n"])
    with app.app_context():
        total = needs.gap_analysis(db.session.get(User, reviewer_id))["total"]
        assert total["raised"] == total_needs, total
        raw = engine.raw_connection()
        cursor = raw.cursor()

        def bare(sql):
            def read():
                cursor.execute(sql)
                return cursor.fetchall()
            return read

        def service(call):
            def run():
                call()
                db.session.remove()
            return run

        user_call = lambda: needs.gap_analysis(db.session.get(User, reviewer_id))
        scope = f"{total_needs:,} needs, {total_votes:,} votes"
        measured = (
            ("needs.priorities()", service(needs.priorities), "priorities", "bare window query of the needs",
             bare(PRIORITIES_SQL)),
            ("", service(needs.priorities), None, "bare count of the votes per need", bare(VOTE_COUNT_SQL)),
            ("GET /needs/priorities", lambda: client.get("/needs/priorities"), "GET /needs/priorities",
             "bare window query of the needs", bare(PRIORITIES_SQL)),
            ("needs.gap_analysis()", service(user_call), "gap_analysis", "bare grouped count and sum",
             bare(GAP_SQL)),
            ("", service(user_call), None, "the same, joined to the PPA links", bare(GAP_JOIN_SQL)),
            ("GET /needs/gap-analysis", lambda: client.get("/needs/gap-analysis"), "GET /needs/gap-analysis",
             "bare grouped count and sum", bare(GAP_SQL)),
        )
        for what, function, key, baseline, base in measured:
            results.append({"backend": label, "what": f"{what}, {scope}" if what else "",
                            "statements": " / ".join(map(str, counts[key])) if key else "",
                            "ms": median_ms(function, 5), "baseline": baseline, "baseline_ms": median_ms(base, 5)})
        cursor.close()
        raw.close()
    engine.dispose()
    return results


def run(postgres_url: str | None, echo: Callable[[str], None], quick: bool = False) -> None:
    """Benchmark PostgreSQL (when given) and SQLite; print one table."""
    size = QUICK if quick else (NEEDS, VOTES)
    run_backends(postgres_url, echo, "Needs (priorities, gap analysis)",
                 lambda url, label, out: bench_backend(url, label, out, size))
    echo("statements: at a tenth of the data / at all of it; target: the same (constant in needs and votes)")
