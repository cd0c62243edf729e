"""``make bench``: every benchmark, each figure beside its baseline as a ratio.

``python -m tests.bench [NAME ...]`` runs some of them (names: the keys of
``BENCHES``). The load test of the whole service is separate: ``make load``
(``tests/bench/load.py``).
"""

import os
import sys

from db.urls import normalize_database_url
from tests.bench import hostile, nightly_sync, optimiser, wbs
from web.app import tune_gc

#: Benchmark name -> how to run it, given the PostgreSQL URL (or None) and a printer.
BENCHES = {
    "wbs": wbs.run,
    "nightly_sync": nightly_sync.run,
    "optimiser": lambda _postgres, out: optimiser.run(out),
    "hostile": hostile.run,
}


def main() -> int:
    tune_gc()  # as in the serving processes
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    postgres = normalize_database_url(url) if url else None
    only = sys.argv[1:] or list(BENCHES)
    unknown = [name for name in only if name not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    for name in only:
        BENCHES[name](postgres, print)
    return 0


if __name__ == "__main__":
    sys.exit(main())
