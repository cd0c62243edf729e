"""The web app (docs/design.md §11): server-rendered pages for the people
ppaflow is for, calling the same services as the API and the CLI.

Where things go (one module per domain, as in ``web/api/``):

- a page: a view in ``web/ui/<domain>.py`` on that module's blueprint
  ``bp`` (``auth``, ``home``, ``operations``, ``admin``, ``ppas``,
  ``work_items``, ``budget``, ``proposals``, ``rules``, ``scenarios``, ...), which is
  nested in the ``ui`` blueprint below, so its endpoint is
  ``ui.<domain>.<view>``; its template is
  ``web/ui/templates/<domain>/<page>.html`` and extends ``base.html``;
- a partial: ``web/ui/templates/_<what it shows>.html`` (``_actions.html``,
  ``_alert_row.html``), included by pages and returned alone to HTMX;
- a form: a ``FlaskForm`` in ``web/ui/forms.py``;
- a Jinja filter: ``web/ui/filters.py``;
- a browser test: ``tests/browser/test_<domain>.py``, with the fixtures of
  ``tests/browser/conftest.py``.

Every page needs a signed-in user except those in ``PUBLIC_ENDPOINTS``, and
every POST is checked for its CSRF token (Flask-WTF): both happen here,
before any view runs, so a new page is protected without a decorator. The
JSON API keeps its bearer tokens and never sees a CSRF check or a cookie
session. A form posted after the session ended is kept, the user signs in
again and lands back on the form with their input (``pages.keep_form``).
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, redirect, request, url_for
from flask_limiter import Limiter
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from db.audit import AuditContext, set_context
from services.attachments import megabytes
from services.my_work import counts
from services.privacy import notice
from web.errors import PROBLEM_TITLES, status_of
from web.ui import (
    admin,
    analytics,
    attachments,
    auth,
    budget,
    calendar,
    coordination,
    feedback,
    filters,
    goals,
    home,
    needs,
    operations,
    periods,
    ppas,
    printouts,
    proposals,
    reports,
    rules,
    scenarios,
    work_items,
)
from web.ui.pages import error_page, keep_form, same_site_path
from web.ui.sessions import DatabaseSessionInterface
from workflow.errors import PpaflowError

ui = Blueprint("ui", __name__, template_folder="templates")
for _module in (auth, home, operations, admin, ppas, attachments, reports, work_items, budget, proposals, periods,
                printouts, rules, needs, goals, calendar, analytics, coordination, feedback, scenarios):
    ui.register_blueprint(_module.bp)

#: Pages anyone may open.
PUBLIC_ENDPOINTS = frozenset({"ui.auth.login"}) | needs.PUBLIC | goals.PUBLIC | calendar.PUBLIC
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.session_protection = "basic"
login_manager.user_loader(auth.load_user)


def init_app(app: Flask, limiter: Limiter, api) -> None:
    """Set up sessions, sign-in, CSRF, filters and error pages, and register
    the pages.

    Args:
        limiter: the app's Flask-Limiter; failed sign-ins are counted in its storage.
        api: the ``web.errors.ProblemApi``; HTTP errors under ``/api`` stay problem+json.
    """
    app.config.update(
        SESSION_COOKIE_NAME="ppaflow_session", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]),
        SESSION_REFRESH_EACH_REQUEST=True,
        # The session's idle timeout bounds a form's life; no second clock on the token.
        WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = DatabaseSessionInterface(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    filters.init_app(app)
    auth.init_app(app, limiter)
    app.register_blueprint(ui)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Pages get an error page, ``/api`` its problem+json."""
        if request.path.startswith("/api") or request.path.startswith(app.static_url_path + "/"):
            return api.handle_http_exception(error)
        if isinstance(error, RequestEntityTooLarge):
            return error_page(413, "Too large", "What you sent is larger than ppaflow accepts (a document may be "
                                                f"{megabytes(app.config['ATTACHMENT_MAX_BYTES'])} at most). "
                                                "Nothing was saved.")
        if isinstance(error, CSRFError):
            return error_page(400, "Form refused", "This form was refused: its security token is missing or "
                                                   "no longer valid. Nothing was saved. Reload the page and send "
                                                   "it again.")
        return error_page(error.code or 500, error.name, error.description or "")


@ui.app_context_processor
def navigation() -> dict:
    """``nav_counts()`` for the navigation, computed only when a page shows it."""
    return {"nav_counts": lambda: counts(current_user._get_current_object())}


@ui.app_context_processor
def privacy():
    """``privacy_notice()`` for ``_privacy_notice.html``: the notice of
    needs.yaml (``services.privacy.notice``; issue 15 item 7)."""
    return {"privacy_notice": notice}


@ui.before_request
def require_sign_in_and_csrf():
    """Sign-in and CSRF for every page (see the module docstring)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        if request.method in UNSAFE_METHODS:
            csrf.protect()
        return None
    if not current_user.is_authenticated:
        return _to_sign_in()
    g.user, g.username = current_user._get_current_object(), current_user.username
    set_context(AuditContext(actor_id=current_user.id, actor=current_user.username, request_id=g.request_id))
    if request.method in UNSAFE_METHODS:
        csrf.protect()
    return None


def _to_sign_in():
    """Send a signed-out visitor to sign in, then back: a page to itself, a
    form (posted from this site) to the page it came from, with its input kept."""
    back = request.full_path.rstrip("?")
    if request.method in UNSAFE_METHODS:
        back = same_site_path(request.referrer) or back
        if _from_this_site():
            keep_form(back)
    target = url_for("ui.auth.login", next=back, expired=1 if request.method in UNSAFE_METHODS else None)
    if request.headers.get("HX-Request"):
        return "", 401, {"HX-Redirect": target}
    return redirect(target)


def _from_this_site() -> bool:
    """The request was sent by a page of this site (``Origin``, else ``Referer``)."""
    return urlsplit(request.headers.get("Origin") or request.referrer or "").netloc == request.host


@ui.errorhandler(PpaflowError)
def domain_error(error: PpaflowError):
    """A service's refusal as a page: its status, title and sentence."""
    status = status_of(error)
    return error_page(status, PROBLEM_TITLES.get(error.code) or HTTPStatus(status).phrase, error.detail)
