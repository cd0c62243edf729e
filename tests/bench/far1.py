"""Benchmark: FAR No. 1 for a year of 20 MOAs x 200 PPAs x 10,000 documents
(issue 13).

The data are bulk-inserted (set-based, no service per row): a fiscal year
of 20 MOAs with 200 enacted PPAs each (4,000), each PPA's program budget in
two allotment classes (MOOE and one of PS, CO, FinEx), one allotment per
class released in one of the four quarters, and 500 posted documents per
MOA (10,000): 300 ORS spread over the year and the allotments, 200 DVs
paying them, deliveries accepted for half of the paid ORS.

Figures, each beside the baseline measured in the same run (one bare
``SELECT`` of every posted table, fetched into tuples, through the same
driver): the consolidated statement (``services.far1.far1_statements``),
the workbook and the PDF (``services.reports.build_report``), each with
its median time and its peak memory (tracemalloc). The SQL statements of
the statement are counted at a quarter of the data and at all of it: they
must be the same (the statement reads one query per table).

Run: ``make bench`` (PostgreSQL from BENCH_DATABASE_URL or TEST_DATABASE_URL,
and SQLite), or ``python -m tests.bench far1``; ``--quick`` runs it on 2 MOAs.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select

from db import db
from db.migrate import recreate, upgrade
from db.models import (
    Allotment,
    BudgetProposal,
    Delivery,
    Disbursement,
    Obligation,
    Organization,
    Ppa,
    ProgramBudget,
)
from services import users
from services.far1 import far1_statements
from services.reports import build_report
from tests.bench.wbs import count_statements
from web import create_app
from workflow.validity import DEFAULT_CATEGORY

FISCAL_YEAR = 2025
#: Full size: MOAs, PPAs per MOA, posted documents (ORS and DV) per MOA.
MOAS, PPAS, DOCUMENTS = 20, 200, 500
#: Quick size (``--quick``): enough to run every step, not to measure.
QUICK = (2, 10, 25)
#: The second class of each PPA, by PPA number (MOOE is the first).
SECOND_CLASS = ("ps", "co", "finex")
#: The posted tables the baseline reads whole.
POSTED_TABLES = ("ppas", "budget_proposals", "program_budgets", "allotments", "obligations", "disbursements",
                 "obligation_deliveries")
APPROPRIATION = Decimal("1000000.00")  # per PPA and class, PHP
ALLOTTED = Decimal("800000.00")
OBLIGATED = Decimal("100000.00")
PAID = Decimal("60000.00")


def populate(moas: range, ppas: int, documents: int) -> None:
    """Insert the MOAs numbered ``moas`` (1-based), each with ``ppas``
    enacted PPAs of FY ``FISCAL_YEAR`` and ``documents`` posted documents
    (three ORS for every two DVs). Ids are fixed by MOA number, so MOAs
    may be added in several calls; the id sequences are not moved (nothing
    is inserted through the services afterwards)."""
    start = date(FISCAL_YEAR, 1, 2)
    orgs, proposals, ppa_rows, budgets, allotments, ors, dvs, deliveries = ([] for _ in range(8))
    for m in moas:
        org = 1000 + m
        orgs.append({"id": org, "code": f"MOA{m:02d}", "name": f"Ministry number {m}",
                     "uacs_code": f"{m:02d}0000000000"})
        proposals.append({"id": m, "organization_id": org, "fiscal_year": FISCAL_YEAR,
                          "title": f"FY {FISCAL_YEAR} budget of MOA{m:02d}", "status": "enacted", "notes": ""})
        mine = []  # this MOA's allotments: (id, class, release date)
        for k in range(ppas):
            ppa = (m - 1) * ppas + k + 1
            classes = ("mooe", SECOND_CLASS[ppa % 3])
            ppa_rows.append({"id": ppa, "title": f"PPA {ppa} of MOA{m:02d}", "summary": "", "category": "moa_ppa",
                             "program_code": f"{m:02d}-{k:04d}", "organization_id": org, "fiscal_year": FISCAL_YEAR,
                             "appropriation_class": "mooe", "budget_allocation": 2 * APPROPRIATION,
                             "approval_status": "enacted", "status": "ongoing", "version": 1})
            budgets.append({"id": ppa, "proposal_id": m, "ppa_id": ppa, "approved_amount": 2 * APPROPRIATION,
                            "ps": Decimal(0), "mooe": Decimal(0), "finex": Decimal(0), "co": Decimal(0),
                            **dict.fromkeys(classes, APPROPRIATION), "fund_cluster": "01" if ppa % 5 else "07",
                            "pap_code": f"3100{m:02d}{k:04d}000", "enactment_act": "BAA No. 40",
                            "enactment_date": date(FISCAL_YEAR - 1, 12, 20)})
            for n, klass in enumerate(classes):
                allotment = 2 * ppa - 1 + n
                quarter = (ppa + n) % 4 + 1
                released = start + timedelta(days=91 * (quarter - 1))
                mine.append((allotment, released))
                allotments.append({"id": allotment, "program_budget_id": ppa, "organization_id": org,
                                   "quarter": quarter, "release_date": released, "allotment_class": klass,
                                   "validity_category": DEFAULT_CATEGORY[klass], "saro_number": f"SARO-{allotment}",
                                   "amount": ALLOTTED, "status": "partially_utilized"})
        obligations = documents * 3 // 5
        for j in range(obligations):
            number = (m - 1) * documents + j + 1
            allotment, released = mine[j % len(mine)]
            day = min(released + timedelta(days=(j * 37) % 300), date(FISCAL_YEAR, 12, 20))
            paid = j < documents - obligations
            ors.append({"id": number, "allotment_id": allotment, "organization_id": org, "payee": f"Supplier {j % 97}",
                        "ors_number": f"01-{FISCAL_YEAR}-{j + 1:05d}", "particulars": "Goods and services",
                        "obligation_date": day, "amount": OBLIGATED,
                        "status": "partially_disbursed" if paid else "obligated"})
            if paid:
                dvs.append({"id": number, "obligation_id": number, "organization_id": org,
                            "dv_number": f"{FISCAL_YEAR}-{j + 1:05d}", "fund_cluster": "01", "payment_method": "ada",
                            "disbursement_date": day + timedelta(days=7), "amount": PAID, "status": "disbursed",
                            "check_ada_number": f"ADA-{number}", "jev_number": f"JEV-{number}"})
                if j % 2 == 0:
                    deliveries.append({"id": number, "obligation_id": number, "organization_id": org,
                                       "amount": OBLIGATED, "accepted_on": day + timedelta(days=3)})
    for model, rows in ((Organization, orgs), (BudgetProposal, proposals), (Ppa, ppa_rows),
                        (ProgramBudget, budgets), (Allotment, allotments), (Obligation, ors), (Disbursement, dvs),
                        (Delivery, deliveries)):
        for first in range(0, len(rows), 5_000):
            db.session.execute(insert(model), rows[first:first + 5_000])
    db.session.commit()


def timed(function: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``function`` in seconds over ``repeat`` runs (no warm-up)."""
    samples = []
    for _ in range(repeat):
        begin = time.perf_counter()
        function()
        samples.append(time.perf_counter() - begin)
        db.session.remove()
    return statistics.median(samples)


def peak_bytes(function: Callable[[], object]) -> int:
    """Peak Python memory of one run of ``function`` (tracemalloc), bytes."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        db.session.remove()


def bare_read(cursor, organization_id: int | None = None) -> Callable[[], None]:
    """The baseline: one bare ``SELECT`` of each posted table (all MOAs', or
    one MOA's rows), fetched into tuples through ``cursor``."""
    where = "" if organization_id is None else f" WHERE organization_id = {int(organization_id)}"
    queries = [f"SELECT * FROM {table}{where}" for table in POSTED_TABLES if table != "program_budgets"]
    queries.append("SELECT * FROM program_budgets" + ("" if organization_id is None else
                   f" WHERE ppa_id IN (SELECT id FROM ppas{where})"))

    def read() -> None:
        for query in queries:
            cursor.execute(query)
            cursor.fetchall()
    return read


def bench_backend(url: str, label: str, echo: Callable[[str], None], size: tuple[int, int, int],
                  quick: bool = False) -> list[dict]:
    """Measure FAR No. 1 on one database, built in two steps (a quarter of
    the MOAs, then the rest); returns the rows printed.

    The consolidated statement and workbook are measured on all the data;
    the PDF on one MOA's statement (WeasyPrint lays out some tens of lines a
    second: the consolidated PDF, a background job, would take a quarter of
    an hour a run)."""
    moas, ppas, documents = size
    quarter = max(1, moas // 4)
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None})
    results = []
    with app.app_context():
        upgrade(db.engine)
        users.ensure_organization("MFBM", "Ministry of Finance, and Budget and Management")
        analyst, _ = users.add_user("bench.analyst", ["budget_analyst"], organization="MFBM")
        user_type, analyst_id = type(analyst), analyst.id
        engine = db.engine

        def statement(moa: str | None = None):
            return lambda: far1_statements(db.session.get(user_type, analyst_id), FISCAL_YEAR, moa, quarter=4)

        def report(fmt: str, moa: str | None = None):
            return lambda: build_report(db.session.get(user_type, analyst_id), "far1", FISCAL_YEAR, moa, fmt=fmt,
                                        quarter=4)

        counts = []
        for step in (range(1, quarter + 1), range(quarter + 1, moas + 1)):
            begin = time.perf_counter()
            populate(step, ppas, documents)
            echo(f"  {label}: MOAs {step.start}-{step.stop - 1} inserted in {time.perf_counter() - begin:.1f} s")
            db.session.remove()
            with count_statements(engine) as counted:
                statements = statement()()
            obligated = sum((s.total.obligations_total for s in statements), Decimal(0))
            assert obligated == OBLIGATED * (documents * 3 // 5) * (step.stop - 1), obligated
            counts.append((step.stop - 1, counted["n"]))
            db.session.remove()

        raw = engine.raw_connection()
        cursor = raw.cursor()
        first_moa = db.session.scalar(select(Organization.id).where(Organization.code == "MOA01"))
        everything, one_moa = bare_read(cursor), bare_read(cursor, first_moa)
        baselines = {None: (timed(everything, 5), peak_bytes(everything)),
                     "MOA01": (timed(one_moa, 5), peak_bytes(one_moa))}
        lines = {moa: sum(len(s.lines) for s in statement(moa)()) for moa in (None, "MOA01")}
        db.session.remove()
        runs = (1, 1, 1) if quick else (3, 2, 1)
        for (name, function, repeat), moa in zip(
                (("far1_statements", statement(), runs[0]), ("FAR No. 1 xlsx", report("xlsx"), runs[1]),
                 ("FAR No. 1 pdf", report("pdf", "MOA01"), runs[2])), (None, None, "MOA01"), strict=True):
            echo(f"  {label}: {name} ...")
            scope = (f"{moas} MOAs x {ppas} PPAs, {moas * documents:,} documents" if moa is None else
                     f"MOA01: {ppas} PPAs, {documents:,} documents")
            seconds = timed(function, repeat)
            results.append({"backend": label, "what": f"{name}, {scope}, {lines[moa]:,} lines", "s": seconds,
                            "peak": peak_bytes(function), "base": baselines[moa], "runs": repeat})
        results.append({"backend": label, "counts": counts})
        cursor.close()
        raw.close()
    engine.dispose()
    return results


def run(postgres_url: str | None, echo: Callable[[str], None], quick: bool = False) -> None:
    """Benchmark PostgreSQL (when given) and SQLite; print one table of
    times and peak memory beside the bare read, and the statement counts."""
    from web.console import table

    size = QUICK if quick else (MOAS, PPAS, DOCUMENTS)
    rows = []
    if postgres_url:
        recreate(postgres_url)
        echo("FAR No. 1 benchmark on PostgreSQL ...")
        rows += bench_backend(postgres_url, "postgresql", echo, size, quick)
    with tempfile.TemporaryDirectory() as tmp:
        echo("FAR No. 1 benchmark on SQLite ...")
        rows += bench_backend(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "sqlite", echo, size, quick)
    mib = 1024 * 1024
    echo(table(("backend", "measurement", "runs", "median s", "peak MiB", "bare read s", "peak MiB", "time ratio",
                "memory ratio"),
               [(r["backend"], r["what"], r["runs"], f"{r['s']:.2f}", f"{r['peak'] / mib:.1f}", f"{r['base'][0]:.3f}",
                 f"{r['base'][1] / mib:.1f}", f"{r['s'] / r['base'][0]:.0f}x", f"{r['peak'] / r['base'][1]:.1f}x")
                for r in rows if "counts" not in r], align="llrrrrrrr"))
    for r in rows:
        if "counts" in r:
            echo(f"{r['backend']:<11} SQL statements of far1_statements (consolidated): "
                 + ", ".join(f"{n} at {moas} MOAs" for moas, n in r["counts"]))
    echo("target: statements of FAR No. 1 the same at a quarter of the data and at all of it")
