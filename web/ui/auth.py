"""Sign-in and sign-out (docs/design.md §11): ``/login``, ``/logout``.

The browser session is server-side (``web.ui.sessions``) and carries only
the user's id (Flask-Login) and a mark of their password hash; the user is
read again, with their roles, on every request, so a deactivated user is
signed out at their next click, and so is every session of a user whose
password changed (by themselves, an administrator or ``ppaflow user
passwd``). After a successful sign-in the session id is regenerated (no
fixation).

Failed sign-ins are limited (``SignInGuard``) per username at one client
address and per client address, never per username alone: someone typing
wrong passwords for a name from their own address cannot lock its owner out
elsewhere, and a blocked address blocks nobody else. The client address is
``request.remote_addr``, which ProxyFix sets from ``X-Forwarded-For`` only
for the proxies in ``TRUSTED_PROXIES``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_login import current_user, login_user, logout_user
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from db import db
from db.models import User
from services import users
from web.ui.forms import LoginForm, SignOutForm
from web.ui.pages import same_site_path
from web.ui.sessions import delete_expired

log = logging.getLogger("ppaflow.web")
bp = Blueprint("auth", __name__)

#: Failed sign-ins allowed for one username from one client address.
PER_USERNAME = parse("5 per 15 minutes")
#: Failed sign-ins allowed from one client address, whatever the usernames.
PER_ADDRESS = parse("20 per 15 minutes")
WRONG = "Wrong username or password."
PASSWORD_MARK = "_password_mark"


class SignInGuard:
    """Counts failed sign-ins in the rate limiter's storage (Redis when
    configured, shared by every worker; else memory), with moving windows;
    while that storage does not answer, in this process's memory."""

    def __init__(self, storage):
        self.shared = MovingWindowRateLimiter(storage)
        self.local = MovingWindowRateLimiter(MemoryStorage())

    @property
    def windows(self) -> MovingWindowRateLimiter:
        """The shared counters when they answer, else this process's."""
        if self.shared is not self.local:
            try:
                if self.shared.storage.check():
                    return self.shared
            except Exception as exc:  # noqa: BLE001 - any storage failure: count locally
                log.warning("sign-in limit storage unreachable, counting in memory: %s", exc)
        return self.local

    @staticmethod
    def _keys(username: str, address: str):
        return ((PER_USERNAME, ("signin-username", address, username.strip().lower())),
                (PER_ADDRESS, ("signin-address", address)))

    def wait_seconds(self, username: str, address: str) -> int:
        """Seconds until ``username`` may try again from ``address`` (0: now)."""
        waits = [self.windows.get_window_stats(limit, *key).reset_time - time.time()
                 for limit, key in self._keys(username, address) if not self.windows.test(limit, *key)]
        return max(1, math.ceil(max(waits))) if waits else 0

    def failed(self, username: str, address: str) -> None:
        """Count one failed sign-in."""
        for limit, key in self._keys(username, address):
            self.windows.hit(limit, *key)

    def succeeded(self, username: str, address: str) -> None:
        """Forget the username's failures at this address (the address's stay)."""
        limit, key = self._keys(username, address)[0]
        self.windows.clear(limit, *key)


def init_app(app: Flask, limiter: Limiter) -> None:
    """Keep the sign-in guard beside the app's rate limiter."""
    app.extensions["ppaflow_signin_guard"] = SignInGuard(limiter.storage)


def guard() -> SignInGuard:
    return current_app.extensions["ppaflow_signin_guard"]


def password_mark(user: User) -> str:
    """A short digest of the user's password hash: it changes when the
    password does, and tells nothing about the password."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the active user ``user_id`` with their roles and
    organization, in one statement; ``None`` (signed out) when the user is
    gone, deactivated, or changed password since this session signed in."""
    if not user_id.isdigit():
        return None
    user = db.session.execute(select(User).where(User.id == int(user_id))
                              .options(joinedload(User.role_rows))).unique().scalar_one_or_none()
    if user is None or not user.is_active or session.get(PASSWORD_MARK) != password_mark(user):
        return None
    return user


def check_password(username: str, password: str) -> User | None:
    """The active user ``username`` if ``password`` is theirs, else ``None``
    (``services.users.verify_password``: the same work whether the name
    exists or not)."""
    user = users.get_user(username.strip())
    return user if users.verify_password(user, password) else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with username and password; then back to where the user was going."""
    target = same_site_path(request.args.get("next")) or url_for("ui.home.my_work")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        wait = guard().wait_seconds(form.username.data, address)
        if wait:
            form.form_errors.append(f"Too many failed sign-ins for this username from your address. "
                                    f"Try again in {math.ceil(wait / 60)} minute(s).")
            status = 429
        else:
            user = check_password(form.username.data, form.password.data)
            if user is None:
                guard().failed(form.username.data, address)
                form.password.errors = [WRONG]
                status = 401
            else:
                guard().succeeded(form.username.data, address)
                current_app.session_interface.regenerate(session)
                session.permanent = True
                session[PASSWORD_MARK] = password_mark(user)
                login_user(user)
                delete_expired()
                return redirect(target)
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form, expired=request.args.get("expired")), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Sign out (POST, from the button in the navigation); GET asks first."""
    form = SignOutForm()
    if request.method == "POST" and form.validate_on_submit():
        logout_user()
        session.clear()
        flash("You have signed out.")
        return redirect(url_for("ui.auth.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("ui.auth.login"))
    return render_template("auth/logout.html", form=form)
