"""What the browser tests and ``make screenshots`` share: the system
Chromium, its flags, the two viewports, and serving an app from a thread."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

#: Headless Chromium as root on a machine with no network but the loopback.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    """The system Chromium (``apt-get install chromium``): ``CHROMIUM``, else
    ``chromium`` on the PATH. Playwright's own browser download is not used."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def launch(playwright, path: str):
    """Headless Chromium at ``path``."""
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)


@contextmanager
def served(app) -> Iterator[str]:
    """Serve ``app`` with werkzeug from a thread on a free port of
    127.0.0.1; yields its base URL and stops it at the end."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="served-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
