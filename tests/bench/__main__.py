"""``make bench``: every benchmark, each figure beside its baseline as a ratio.

``python -m tests.bench [wbs] [nightly_sync] [--quick]`` runs some of them;
``--quick`` runs them on small data (WBSs of 100 and 1,000 items, 1,000
children, 20 PPAs), to check that the benchmarks run, not to measure. The
load test of the whole service is separate: ``make load`` (``tests/bench/load.py``).
"""

import os
import sys

from db.urls import normalize_database_url
from tests.bench import nightly_sync, wbs
from web.app import tune_gc


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named in ``argv`` (default: all), on PostgreSQL
    (``BENCH_DATABASE_URL``, else ``TEST_DATABASE_URL``; its ``public``
    schema is recreated) and SQLite."""
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    tune_gc()  # as in the serving processes
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    postgres = normalize_database_url(url) if url else None
    only = [a for a in args if not a.startswith("--")] or ["wbs", "nightly_sync"]
    if "wbs" in only:
        wbs.run(postgres, print, sizes=(100, 1_000) if quick else wbs.SIZES, wide=1_000 if quick else wbs.WIDE)
    if "nightly_sync" in only:
        nightly_sync.run(postgres, print, ppas=20 if quick else nightly_sync.PPAS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
