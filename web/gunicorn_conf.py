"""gunicorn settings for ppaflow in production.

    gunicorn -c web/gunicorn_conf.py web.wsgi:app

Each worker builds its own app (no preloading: no database connection is
shared across a fork), collects garbage less often, logs JSON and, without
``REDIS_URL``, starts the in-process schedule (``jobs.clock``: each entry
fires in the one worker holding the schedule lease). Override with
PPAFLOW_BIND, PPAFLOW_WORKERS, PPAFLOW_THREADS.
"""

import multiprocessing
import os

bind = os.environ.get("PPAFLOW_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PPAFLOW_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("PPAFLOW_THREADS", 4))
worker_class = "gthread"
preload_app = False
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = None  # ppaflow logs one JSON access line per request itself


def post_worker_init(worker):  # noqa: D103 - gunicorn hook
    # lazy: gunicorn reads this file in its master, which never loads the app; each worker loads it here
    from flask import Flask

    from jobs.clock import start_local_scheduler
    from web.app import tune_gc
    from web.logs import configure

    configure()
    tune_gc()
    if isinstance(worker.wsgi, Flask):  # without REDIS_URL: the schedule, fired by one worker at a time
        start_local_scheduler(worker.wsgi)
