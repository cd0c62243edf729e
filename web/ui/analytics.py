"""``/analytics`` (issue 16 item 6; docs/design.md §18): the four analytics
views on one page for MFBM analysts and reviewers (a MOA user gets their
own MOA's figures, as the API has it): trends, execution velocity against
BED No. 3, needs fulfilment and the year-end projection, each as SVG charts
(``web.ui.charts``) with its figures and links to its PDF and PNG export
(``/api/analytics/<view>.pdf|.png``, with the same query)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, render_template, request

from services import analytics, calendar, ppas
from services.access import sees_all_organizations
from web.ui.charts import analytics_charts
from web.ui.pages import signed_in
from workflow.errors import ValidationFailed
from workflow.vocabulary import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR

bp = Blueprint("analytics", __name__)


def _int(name: str, default: int) -> int:
    value = request.args.get(name, "")
    year = int(value) if value.isdigit() and len(value) == 4 else default
    return year if FIRST_FISCAL_YEAR <= year <= LAST_FISCAL_YEAR else default


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/analytics")
def index():
    """The four views for the year, years, grouping and MOA asked for (defaults: this year, the last three)."""
    user = signed_in()
    year = _int("fiscal_year", calendar.today().year)
    query = {"fiscal_year": year, "from_year": _int("from_year", year - 2), "to_year": _int("to_year", year),
             "by": request.args.get("by") if request.args.get("by") in analytics.GROUPINGS else "moa",
             "moa": request.args.get("moa") or None, "as_of": _day("as_of")}
    if not sees_all_organizations(user):
        query["moa"] = None
    views, errors = {}, {}
    calls = {
        "trends": lambda: analytics.trends(user, query["from_year"], query["to_year"], query["by"], query["moa"]),
        "velocity": lambda: analytics.velocity(user, year, query["moa"], as_of=query["as_of"]),
        "needs-fulfilment": lambda: analytics.needs_fulfilment(user),
        "projection": lambda: analytics.projection(user, year, query["as_of"], query["moa"]),
    }
    for view, call in calls.items():
        try:
            data = call()
        except ValidationFailed as refused:
            errors[view] = "; ".join(f"{field}: {', '.join(problems)}" for field, problems in refused.errors.items())
            continue
        views[view] = {"data": data, "charts": analytics_charts(view, data)}
    params = {view: urlencode({k: v for k, v in {
        "trends": {"from_year": query["from_year"], "to_year": query["to_year"], "by": query["by"],
                   "moa": query["moa"]},
        "velocity": {"fiscal_year": year, "moa": query["moa"], "as_of": query["as_of"]},
        "needs-fulfilment": {},
        "projection": {"fiscal_year": year, "moa": query["moa"], "as_of": query["as_of"]},
    }[view].items() if v is not None}) for view in analytics.VIEWS}
    organizations = ppas.visible_organizations(user) if sees_all_organizations(user) else []
    return render_template("analytics/index.html", query=query, views=views, errors=errors, params=params,
                           titles=analytics.VIEWS, organizations=organizations, groupings=analytics.GROUPINGS,
                           months=analytics.MONTHS)
