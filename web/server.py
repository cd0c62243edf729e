"""``ppaflow serve --workers N``: gunicorn, started from Python."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from web import gunicorn_conf
from web.app import create_app


class Server(BaseApplication):
    """gunicorn with ppaflow's settings (``web/gunicorn_conf.py``) and the
    given bind address, workers and threads; each worker builds its own app."""

    def __init__(self, *, bind: str, workers: int, threads: int):
        self.options = {"bind": bind, "workers": workers, "threads": threads}
        super().__init__()

    def load_config(self) -> None:
        settings = {k: getattr(gunicorn_conf, k) for k in ("worker_class", "preload_app", "timeout",
                                                            "graceful_timeout", "keepalive", "post_worker_init")}
        for key, value in (settings | self.options).items():
            self.cfg.set(key, value)

    def load(self):
        return create_app()
