"""``/period-closures``: the period-close page of a MOA's year (issue 12
item 8; docs/design.md §12 "Closing a period", "Year end").

The page shows the four quarters of one fiscal year of one MOA: open or
closed, the signatures so far, the snapshot's totals once closed, and what
Q4's close carried into the next year. The MOA's budget officer and chief
accountant (and an administrator, in either role) get a button to sign a
quarter's closing and, once it is closed, a form to sign its reopening with
a reason. The service decides (``services.periods``); each refusal (the
same person signing twice, a quarter not ended, an earlier quarter still
open, not a signer) is shown as its sentence in the quarter's box. Buttons
work as plain forms and, with HTMX, replace only their quarter.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from services import periods
from services.calendar import today
from web.errors import status_of
from web.ui.pages import error_page, is_htmx, saved, signed_in
from workflow.errors import Conflict, NotFound, PpaflowError, ValidationFailed
from workflow.vocabulary import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR

bp = Blueprint("periods", __name__)


#: The quarters a closing is signed for, as the form sends them.
QUARTERS = ("1", "2", "3", "4")


class SignCloseForm(FlaskForm):
    """Sign the closing of one quarter (the page says which)."""

    quarter = HiddenField(validators=[DataRequired(), AnyOf(QUARTERS, message="a quarter is 1, 2, 3 or 4")])


class SignReopenForm(FlaskForm):
    """Sign the reopening of a closed quarter, with a reason."""

    quarter = HiddenField(validators=[DataRequired(), AnyOf(QUARTERS, message="a quarter is 1, 2, 3 or 4")])
    reason = TextAreaField("Why reopen it", validators=[DataRequired("Say why the quarter is reopened."),
                                                        Length(max=20_000)], render_kw={"rows": 2})


def _year() -> int:
    """``?fiscal_year=`` (2000–2100), else the year before this one in January–March, else this one."""
    try:
        year = int(request.args.get("fiscal_year", ""))
    except ValueError:
        year = 0
    if FIRST_FISCAL_YEAR <= year <= LAST_FISCAL_YEAR:
        return year
    return today().year - 1 if today().month <= 3 else today().year


def _page(organization: str | None, fiscal_year: int, *, refusal: tuple[int, str] | None = None,
          reopen_form: SignReopenForm | None = None, status: int = 200):
    """The page (or, for HTMX, the quarter a form came from) with a refusal
    ``(quarter, sentence)`` in that quarter's box."""
    user = signed_in()
    codes = periods.organization_codes(user)
    code = organization or (user.organization.code if user.organization else (codes[0] if codes else None))
    if code is None:
        return error_page(404, "No organization", "You see no MOA's periods.")
    try:
        org, quarters = periods.year_of(user, code, fiscal_year)
    except (NotFound, ValidationFailed):
        return error_page(404, "Not found", f"No organization {code} that you may see.")
    carried = None
    if quarters[3].closed:
        try:
            _, rows = periods.opening_balances(user, organization=org.code, fiscal_year=fiscal_year + 1)
            carried = periods.opening_totals(rows)
        except Conflict:
            carried = None
    context = {"org": org, "fiscal_year": fiscal_year, "quarters": quarters, "codes": codes,
               "may_sign": periods.may_sign(user, org.id), "refusal": refusal, "reopen_form": reopen_form,
               "carried": carried, "close_form": SignCloseForm()}
    if is_htmx() and request.method == "POST":
        number = refusal[0] if refusal else int(request.form["quarter"])  # validated by sign_close
        return render_template("periods/_quarter.html", q=quarters[number - 1], **context), 200
    return render_template("periods/page.html", **context), status


@bp.route("/period-closures")
def period_page():
    """A MOA's quarters of a fiscal year: ``?organization=&fiscal_year=``."""
    return _page((request.args.get("organization") or "").strip().upper() or None, _year())


def _quarter(form: FlaskForm) -> int | None:
    """The form's quarter (1-4), or None when it is anything else (never clamped into one)."""
    return int(form.quarter.data) if form.quarter.data in QUARTERS else None


@bp.route("/period-closures/<code>/<int:fiscal_year>/close", methods=["POST"])
def sign_close(code: str, fiscal_year: int):
    """Sign the closing of a quarter; a refusal is shown in its box and changes nothing."""
    user = signed_in()
    form = SignCloseForm()
    quarter = _quarter(form)
    if not FIRST_FISCAL_YEAR <= fiscal_year <= LAST_FISCAL_YEAR:
        return error_page(404, "Not found", f"No fiscal year {fiscal_year} here.")
    if quarter is None:
        return error_page(422, "No such quarter", "A quarter is 1, 2, 3 or 4: open the page again and sign "
                                                  "from the quarter's box. Nothing was signed.")
    if not form.validate_on_submit():
        return _page(code, fiscal_year, refusal=(quarter, "Open the page again and sign from it."), status=422)
    try:
        closure = periods.sign_close(user, organization=code, fiscal_year=fiscal_year, quarter=quarter)
    except PpaflowError as error:
        return _page(code, fiscal_year, refusal=(quarter, _sentence(error)), status=status_of(error))
    done = "closed" if closure.status == "closed" else "signed; the other signature closes it"
    if is_htmx():
        return _page(code, fiscal_year)
    return saved(f"Q{quarter} {fiscal_year} of {code}: {done}.",
                 url_for(".period_page", organization=code, fiscal_year=fiscal_year))


@bp.route("/period-closures/<id:closure_id>/reopen", methods=["POST"])
def sign_reopen(closure_id: int):
    """Sign the reopening of a closed quarter, with a reason; a refusal is shown in its box."""
    user = signed_in()
    form = SignReopenForm()
    try:
        closure = periods.get_closure_or_raise(user, closure_id)
    except NotFound:
        return error_page(404, "Not found", f"No period closure {closure_id} that you may see.")
    code, fiscal_year, quarter = closure.organization.code, closure.fiscal_year, closure.quarter
    if not form.validate_on_submit():
        return _page(code, fiscal_year, refusal=(quarter, " ".join(form.reason.errors) or "Say why."),
                     reopen_form=form, status=422)
    try:
        closure = periods.sign_reopen(user, closure_id, reason=form.reason.data.strip())
    except PpaflowError as error:
        return _page(code, fiscal_year, refusal=(quarter, _sentence(error)), reopen_form=form,
                     status=status_of(error))
    done = "reopened" if closure.status == "reopened" else "reopening signed; the other signature reopens it"
    if is_htmx():
        return _page(code, fiscal_year)
    return saved(f"Q{quarter} {fiscal_year} of {code}: {done}.",
                 url_for(".period_page", organization=code, fiscal_year=fiscal_year))


def _sentence(error: PpaflowError) -> str:
    """A refusal as one sentence: the service's words, capitalized."""
    if isinstance(error, ValidationFailed):
        return " ".join(m for messages in error.errors.values() for m in messages) or error.detail
    return error.detail[:1].upper() + error.detail[1:]
