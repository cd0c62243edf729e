"""Browser tests: the web app served from a thread, driven by Playwright in
Debian's Chromium (docs/design.md §9, §11).

One browser and one served app for the whole session, on ONE database:
PostgreSQL when ``TEST_DATABASE_URL`` answers (always under CI), else a
SQLite file. Each test starts on an empty database, with a new browser
context (no cookies) at 1440 × 900.

Playwright's own browser download is not used: Chromium is the system's
(``apt-get install chromium``; ``CHROMIUM`` names another binary). Without
it the browser tests are skipped, visibly; under ``CI=true`` a missing
browser fails the run.

A journey needs only these fixtures:

- ``web``: the served app — ``web.url(path)``, ``web.world`` (people and
  PPAs through the API, ``tests.support.World``), ``web.password(person)``
  (gives the person a password; returns it), ``web.sql(text)``;
- ``page``: a fresh page; ``sign_in(page, person)`` signs in through the form;
- ``check_page(page, name)``: axe-core finds no serious or critical
  violation, and at 390 px wide the page does not scroll sideways; results
  are summed up at the end of the run per page name.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text

from db import db
from services import users
from tests.browser import harness
from tests.browser.harness import DESKTOP, PHONE, chromium_path, launch
from tests.conftest import CI, PG_PROBLEM
from tests.support import Person, World
from web import create_app

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery staple 11"
#: axe impacts that fail a test (WCAG 2.1 AA: 0 serious or critical violations).
FAILING_IMPACTS = ("serious", "critical")
AXE_RESULTS = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    path = chromium_path()
    if path is None:
        message = "no Chromium: apt-get install -y chromium (or set CHROMIUM)"
        if CI:
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright, path)
        yield chromium
        chromium.close()


@dataclass
class ServedApp:
    """The app served on a free port, and helpers to set up a test's data."""

    app: object
    base: str
    world: World = field(init=False)

    def __post_init__(self):
        self.world = World(self.app)

    def url(self, path: str) -> str:
        return self.base + path

    def password(self, person: Person, password: str = PASSWORD) -> str:
        """Give ``person`` a password to sign in with; returns it."""
        with self.app.app_context():
            users.set_password(person.username, password)
        return password

    def sql(self, statement: str, **params):
        """Run SQL behind the services' back (to age a session, say)."""
        with self.app.app_context(), db.engine.begin() as connection:
            return connection.execute(text(statement), params)


@pytest.fixture(scope="session")
def served(request, tmp_path_factory) -> Iterator[ServedApp]:
    """The app, served by werkzeug from a thread for the whole session."""
    if PG_PROBLEM is None:
        url = request.getfixturevalue("postgres_url")
        backend = "postgresql"
    else:
        path = tmp_path_factory.mktemp("browser") / "browser.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url, backend = f"sqlite:///{path}", "sqlite"
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "TESTING": True, "RATE_LIMIT": "1000000 per minute",
                      "ATTACHMENTS_DIR": str(tmp_path_factory.mktemp("attachments"))})
    app.config["BACKEND"] = backend
    with harness.served(app) as base:
        yield ServedApp(app, base)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_database(served: ServedApp, request) -> None:
    app = served.app
    with app.app_context():
        db.session.remove()
        if app.config["BACKEND"] == "postgresql":
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:  # the append-only triggers refuse DELETE: start again from the migrated template
            db.engine.dispose()
            shutil.copy(request.getfixturevalue("sqlite_template"), app.config["DATABASE_URL"][len("sqlite:///"):])
    app.extensions["ppaflow_signin_guard"].windows.storage.reset()


@pytest.fixture
def web(served, request) -> Iterator[ServedApp]:
    """The served app on an empty database, with a new ``World``; emptied
    again afterwards, as the other PostgreSQL tests expect to find it."""
    _empty_database(served, request)
    served.world = World(served.app)
    yield served
    _empty_database(served, request)


@pytest.fixture
def context(browser, web):
    """A new browser context (no cookies) for the test."""
    context = browser.new_context(viewport=DESKTOP, base_url=web.base, locale="en-PH", timezone_id="Asia/Manila")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    """A fresh page."""
    return context.new_page()


def sign_in(page, web: ServedApp, person: Person, password: str | None = None, *, path: str = "/login") -> None:
    """Sign ``person`` in through the form (giving them a password first
    unless ``password`` is given)."""
    password = password or web.password(person)
    if path is not None:
        page.goto(path)
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture
def check_page(request):
    """``check_page(page, name)``: no serious or critical axe-core violation,
    and no sideways scrolling at 390 px; the results are kept for the summary."""
    results = request.config.stash.setdefault(AXE_RESULTS, {})

    def check(page, name: str) -> None:
        page.add_script_tag(path=str(AXE))
        outcome = page.evaluate("""async () => {
            const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return {violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                         nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})),
                    passes: r.passes.length};
        }""")
        failing = [v for v in outcome["violations"] if v["impact"] in FAILING_IMPACTS]
        summary = results.setdefault(name, {"runs": 0, "serious_or_critical": 0, "other": set(), "passes": 0})
        summary["runs"] += 1
        summary["serious_or_critical"] += len(failing)
        summary["other"].update(f"{v['id']} ({v['impact']})" for v in outcome["violations"] if v not in failing)
        summary["passes"] = max(summary["passes"], outcome["passes"])
        assert not failing, f"axe on {name}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
                                                          for v in failing)
        size = page.viewport_size
        page.set_viewport_size(PHONE)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.set_viewport_size(size)
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 390px wide"

    return check


def pytest_terminal_summary(terminalreporter, config) -> None:
    """axe-core results per page (issue 11 asks for them in the closing note)."""
    results = config.stash.get(AXE_RESULTS, {})
    if not results:
        return
    terminalreporter.section("axe-core (WCAG 2.1 A/AA + best practices) per page")
    for name, summary in sorted(results.items()):
        other = ", ".join(sorted(summary["other"])) or "none"
        terminalreporter.write_line(f"{name}: {summary['serious_or_critical']} serious/critical in {summary['runs']} "
                                    f"run(s), {summary['passes']} rules passed; minor/moderate: {other}")
