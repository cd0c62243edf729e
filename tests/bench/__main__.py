"""``make bench``: every benchmark, each figure beside its baseline as a ratio.

``python -m tests.bench [NAME ...] [--quick]`` runs some of them (names: the
keys of ``BENCHES``); ``--quick`` runs them on small data (WBSs of 100 and
1,000 items, 1,000 children, 20 PPAs, the PPA page on WBSs of 100 and 1,000
items, 10,000 needs with 100,000 votes), to check that the benchmarks run, not
to measure. The load test of
the whole service is separate: ``make load`` (``tests/bench/load.py``).
"""

import os
import sys

from db.urls import normalize_database_url
from tests.bench import far1, hostile, my_work, needs, nightly_sync, optimiser, ppa_page, wbs
from web.app import tune_gc

#: Benchmark name -> how to run it, given the PostgreSQL URL (or None), a
#: printer and whether to run on small data only.
BENCHES = {
    "wbs": lambda postgres, out, quick: wbs.run(postgres, out, sizes=(100, 1_000) if quick else wbs.SIZES,
                                                wide=1_000 if quick else wbs.WIDE),
    "nightly_sync": lambda postgres, out, quick: nightly_sync.run(postgres, out,
                                                                  ppas=20 if quick else nightly_sync.PPAS),
    "optimiser": lambda _postgres, out, _quick: optimiser.run(out),
    "hostile": lambda postgres, out, _quick: hostile.run(postgres, out),
    "my_work": lambda postgres, out, _quick: my_work.run(postgres, out),
    "ppa_page": lambda postgres, out, quick: ppa_page.run(postgres, out,
                                                          sizes=(100, 1_000) if quick else ppa_page.SIZES),
    "far1": lambda postgres, out, quick: far1.run(postgres, out, quick=quick),
    "needs": lambda postgres, out, quick: needs.run(postgres, out, quick=quick),
}
#: What ``--quick`` runs when no name is given (the ones that take a size).
QUICK = ("wbs", "nightly_sync", "ppa_page", "far1", "needs")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named in ``argv`` (default: all), on PostgreSQL
    (``BENCH_DATABASE_URL``, else ``TEST_DATABASE_URL``; its ``public``
    schema is recreated) and SQLite."""
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    tune_gc()  # as in the serving processes
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    postgres = normalize_database_url(url) if url else None
    only = [a for a in args if not a.startswith("--")] or list(QUICK if quick else BENCHES)
    unknown = [name for name in only if name not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    for name in only:
        BENCHES[name](postgres, print, quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
