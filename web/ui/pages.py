"""What every page of the web app shares (docs/design.md §11): the signed-in
user, pagination, service errors shown next to form fields, error pages,
and forms kept across a sign-in.

Views stay thin: parse (a form of ``web.ui.forms``), call a service, render
a template; ``submit`` is the pattern of every form. A domain error raised
by a service becomes a readable page (``error_page``: 403 says why, 404,
409 with the service's sentence); a refusal of a form (``FORM_REFUSALS``) is
shown on the form by ``refuse`` — field messages next to their fields — and
the page is rendered again with the user's input, nothing having been saved
(each service call is one transaction).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, func, select
from werkzeug.datastructures import MultiDict

from db import db
from db.models import User
from web.errors import status_of
from workflow.errors import Conflict, PpaflowError, PreconditionFailed, ValidationFailed

PAGE_SIZE = 25
MAX_PAGE = 100_000
#: Session key of a form kept while its author signs in again.
DRAFT_KEY = "ui_kept_form"


def signed_in() -> User:
    """The signed-in user (the ``User`` row, for the services)."""
    return current_user._get_current_object()


@dataclass(frozen=True)
class Pagination:
    """Where a page is in a list: 1-based ``page``, ``page_size`` rows a
    page, ``total`` rows in all."""

    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def first(self) -> int:
        """1-based number of the page's first row (0 when empty)."""
        return 0 if self.total == 0 else (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)

    def url_args(self, page: int) -> dict[str, Any]:
        """The current query string with ``page`` replaced."""
        args = request.args.to_dict()
        args["page"] = page
        return args


def page_number() -> int:
    """``?page=`` of the request, 1 when missing or not a sane number."""
    raw = request.args.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isdigit() and int(raw) >= 1 else 1


def paginate(query: Select, *, page: int | None = None, page_size: int = PAGE_SIZE,
             total: int | None = None) -> tuple[list, Pagination]:
    """One page of a ``Select`` of ORM rows and its ``Pagination``: one
    COUNT (unless the caller counted already: ``total``) and one bounded SELECT."""
    page = page or page_number()
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(db.session.scalars(query.offset((page - 1) * page_size).limit(page_size)))
    return rows, Pagination(page, page_size, total)


@dataclass(frozen=True)
class Sorting:
    """A list's order as ``?sort=name`` (ascending) or ``?sort=-name``
    (descending), for sortable column headers (``_sort_header.html``).

    Attributes:
        current: the order in force (``-id``).
        names: the names a list can be sorted by.
    """

    current: str
    names: tuple[str, ...]

    @classmethod
    def from_request(cls, names: tuple[str, ...], default: str) -> Sorting:
        """The request's ``?sort=``, or ``default`` when missing or unknown."""
        raw = request.args.get("sort", "")
        return cls(raw if raw.removeprefix("-") in names else default, names)

    def state(self, name: str) -> str | None:
        """``ascending``, ``descending`` (``aria-sort``), or ``None`` when
        the list is not sorted by ``name``."""
        if self.current.removeprefix("-") != name:
            return None
        return "descending" if self.current.startswith("-") else "ascending"

    def url_args(self, name: str) -> dict[str, Any]:
        """The query string sorted by ``name`` (the other way round when
        already sorted by it), back on the first page."""
        args = request.args.to_dict()
        args.pop("page", None)
        args["sort"] = f"-{name}" if self.state(name) == "ascending" else name
        return args


def show_errors(form: FlaskForm, error: ValidationFailed) -> None:
    """Put a service's per-field messages next to the form's fields; a
    message for a field the form does not have goes to the top of the form."""
    for name, messages in error.errors.items():
        field = form._fields.get(name.split(".")[0])
        if field is not None:
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(f"{name}: {message}" if name != "_schema" else message for message in messages)


#: Refusals a form shows on the form itself (anything else becomes an error page).
FORM_REFUSALS = (ValidationFailed, Conflict, PreconditionFailed)


STALE = ("Someone else saved a change since you opened this page; nothing of yours was saved. Open the page "
         "again to see their change, then make yours.")


def refuse(form: FlaskForm, error: PpaflowError, stale: Callable[[], str] | None = None) -> int:
    """Show a service's refusal on the form, keeping the user's input; returns
    the HTTP status of the page (422, 409 or 412). Field messages go next to
    their fields; a conflict's sentence goes above the form, or next to the
    field it names (``extra["field"]``: a duplicate SARO number, an amount
    above what is available); a stale version says someone else saved first
    (``stale()``: who and when, if the page can say)."""
    if isinstance(error, ValidationFailed):
        show_errors(form, error)
    elif isinstance(error, PreconditionFailed):
        form.form_errors.append(stale() if stale is not None else STALE)
    elif error.extra.get("field") in form._fields:
        field = form._fields[error.extra["field"]]
        field.errors = list(field.errors) + [error.detail[:1].upper() + error.detail[1:]]
    else:
        form.form_errors.append(error.detail[:1].upper() + error.detail[1:])
    return status_of(error)


def submit(form: FlaskForm, save: Callable[[], Any], then: Callable[[Any], Any], *,
           stale: Callable[[], str] | None = None) -> tuple[Any, int]:
    """How every page handles its form: when it was posted and is valid,
    ``save()`` (one service call); on success, ``then(result)`` (usually
    ``saved(...)``); on a refusal, show it on the form (``refuse``; ``stale``
    words a stale version).

    Returns:
        ``(response, status)``: the response of ``then`` (render nothing
        else), or ``None`` with the status to render the form with: 200
        (not posted), 422 (invalid), or the refusal's 409 / 412 / 422.
    """
    if not form.validate_on_submit():
        return None, 422 if request.method == "POST" else 200
    try:
        result = save()
    except FORM_REFUSALS as error:
        return None, refuse(form, error, stale)
    return then(result), 302


def saved(message: str, url: str):
    """After a successful save: say so once, and go to ``url`` (POST, redirect, GET)."""
    flash(message)
    return redirect(url)


def error_page(status: int, title: str, detail: str):
    """A readable error page with ``status`` (403 says why, 404, 409 with the sentence)."""
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def same_site_path(url: str | None) -> str | None:
    """``url``'s path and query when it points into this site (a safe
    redirect target), else ``None``."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme and parts.netloc and parts.netloc != request.host:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//") or "\\" in parts.path:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def keep_form(path: str) -> None:
    """Keep the posted form (never a password or the CSRF token) for
    ``path``, to fill it again once its author has signed in."""
    data = [(key, value) for key, value in request.form.items(multi=True)
            if key != "csrf_token" and "password" not in key]
    session[DRAFT_KEY] = {"path": path, "data": data}


def kept_form() -> MultiDict | None:
    """The form kept for the current page, once (it is removed from the session)."""
    kept = session.get(DRAFT_KEY)
    if not kept or kept.get("path") != request.full_path.rstrip("?"):
        return None
    session.pop(DRAFT_KEY)
    return MultiDict([tuple(pair) for pair in kept["data"]])


def load_form(form_class: type[FlaskForm], **kwargs) -> FlaskForm:
    """The page's form: what was posted, else a form kept across a sign-in
    (shown with its input, to send again), else empty (``kwargs`` as defaults)."""
    if request.method == "GET":
        kept = kept_form()
        if kept is not None:
            return form_class(formdata=kept, **kwargs)
    return form_class(**kwargs)


def first_rows(query: Select, count: int) -> list:
    """The first ``count`` ORM rows of a ``Select`` (one bounded SELECT, no COUNT)."""
    return list(db.session.scalars(query.limit(count)))


def is_htmx() -> bool:
    """The request comes from HTMX (it wants a partial, not a page)."""
    return request.headers.get("HX-Request") == "true"
