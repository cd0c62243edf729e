"""Helpers for the web app's tests without a browser (Flask's test client)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from db import db
from services import users
from tests.conftest import (
    ONE_BACKEND,
    _dispose,
    _make_app,
    _truncate_all,
    one_backend_app,
)
from tests.support import Person

PASSWORD = "correct horse battery staple 11"
CSRF = re.compile(r'name="csrf_token"[^>]*? value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the form on ``path``."""
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


class Browser:
    """A test client that signs in through ``/login`` like a browser."""

    def __init__(self, app, address: str = "127.0.0.1"):
        self.app = app
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address

    def sign_in(self, username: str, password: str = PASSWORD, *, path: str = "/login"):
        """POST the sign-in form of ``path`` (``/login?next=...``); returns the response."""
        return self.client.post(path, data={"username": username, "password": password,
                                            "csrf_token": csrf_token(self.client, path)})

    def post_form(self, path: str, data: dict | None = None, *, page: str | None = None,
                  headers: dict | None = None):
        """POST ``data`` to ``path`` with the CSRF token of ``page`` (default:
        ``path``) and ``headers`` (``{"HX-Request": "true"}``: as HTMX does)."""
        return self.client.post(path, data=(data or {}) | {"csrf_token": csrf_token(self.client, page or path)},
                                headers=headers)


#: The pages render what the services return, and the services are tested on
#: both databases through the API (tests/api, tests/integration); the pages
#: are tested once, on PostgreSQL when it is there (the production database),
#: which halves their share of CI time.
PAGE_BACKEND = ONE_BACKEND


@pytest.fixture(params=[PAGE_BACKEND])
def app(request, tmp_path):
    """The application on a clean database of ``PAGE_BACKEND`` (overrides
    the suite's ``app``, which runs once per backend)."""
    yield from one_backend_app(request, tmp_path)


#: argon2id with the least work argon2 allows (about a millisecond a hash),
#: for tests whose subject is a page and not the password hash: the default
#: parameters (RFC 9106, what production uses) cost about a second per
#: sign-in (set_password + verify). tests/integration/test_users.py tests
#: those parameters and the rehash.
QUICK_PASSWORDS = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="module")
def quick_passwords():
    """Hash passwords with ``QUICK_PASSWORDS`` for a module (a sign-in still
    checks the password against its argon2id hash). Opt in with
    ``pytestmark = pytest.mark.usefixtures("quick_passwords")``."""
    with pytest.MonkeyPatch.context() as patch:
        users._decoy_hash.cache_clear()
        patch.setattr(users, "_PASSWORDS", QUICK_PASSWORDS)
        yield
    users._decoy_hash.cache_clear()  # the decoy of later modules is the production one again


@pytest.fixture(scope="module", params=[PAGE_BACKEND])
def module_app(request, tmp_path_factory) -> Iterator:
    """The application on ``PAGE_BACKEND``, created once for a module
    (``create_app`` costs about a second: the rules, the OpenAPI document):
    a module's ``app`` fixture gives it to each test on an emptied database
    with ``yield from emptied_after(request, module_app)``."""
    application = _make_app(request.param, request, tmp_path_factory.mktemp("pages"))
    yield application
    _dispose(application)


def emptied_after(request, application) -> Iterator:
    """Yield ``application`` (a ``module_app``), then leave its database as
    the suite's ``app`` finds one: PostgreSQL truncated, SQLite a copy of the
    migrated template again; and its sign-in counters reset."""
    sqlite = application.config["BACKEND"] == "sqlite"
    template = request.getfixturevalue("sqlite_template") if sqlite else None
    yield application
    with application.app_context():
        db.session.remove()
        if sqlite:
            db.engine.dispose()
            shutil.copy(template, application.config["DATABASE_URL"][len("sqlite:///"):])
        else:
            _truncate_all(application)
    application.extensions["ppaflow_signin_guard"].windows.storage.reset()


@pytest.fixture
def browser_for(app):
    """``browser_for(person)``: a ``Browser`` signed in as ``person`` (given a password first)."""

    def make(person: Person, address: str = "127.0.0.1") -> Browser:
        with app.app_context():
            users.set_password(person.username, PASSWORD)
        browser = Browser(app, address)
        assert browser.sign_in(person.username).status_code == 302
        return browser

    return make
