"""``make bench``: every benchmark, each figure beside its baseline as a ratio.

``python -m tests.bench [wbs] [nightly_sync] [my_work]`` runs some of them. The load
test of the whole service is separate: ``make load`` (``tests/bench/load.py``).
"""

import os
import sys

from db.urls import normalize_database_url
from tests.bench import my_work, nightly_sync, wbs
from web.app import tune_gc


def main() -> int:
    tune_gc()  # as in the serving processes
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    postgres = normalize_database_url(url) if url else None
    only = sys.argv[1:] or ["wbs", "nightly_sync", "my_work"]
    if "wbs" in only:
        wbs.run(postgres, print)
    if "nightly_sync" in only:
        nightly_sync.run(postgres, print)
    if "my_work" in only:
        my_work.run(postgres, print)
    return 0


if __name__ == "__main__":
    sys.exit(main())
