"""Closing a period over HTTP (issue 12 item 5; docs/design.md §12
"Closing a period"): a MOA's budget officer and chief accountant sign the
closing of a quarter, and its reopening, in either order; the second
signature closes (reopens) it. ``services.periods`` does the work."""

from __future__ import annotations

from flask.views import MethodView

from services import money_chain, periods
from web.auth import current_user
from web.contract import ETAG_HEADER, link
from web.pagination import SQLPage
from web.parsing import Blueprint
from web.schemas import (
    OpeningBalanceFilterSchema,
    OpeningBalancesSchema,
    PeriodClosureCreateSchema,
    PeriodClosureDetailSchema,
    PeriodClosureFilterSchema,
    PeriodClosureSchema,
    PeriodReopenSchema,
)

blp = Blueprint("periods", __name__, url_prefix="/api/period-closures",
                description="Closing a MOA's quarter: two signatures (budget officer and chief accountant, two "
                            "different people) close it and store its figures as a snapshot; postings dated "
                            "in a closed quarter are refused (409 period_closed). Reopening takes the same two "
                            "signatures and a reason.")

THIS = {"path.closure_id": "$response.body#/id"}
LINKS = {"read": link("GET", "/api/period-closures/{closure_id}", "read it, with its snapshot", parameters=THIS),
         "reopen": link("POST", "/api/period-closures/{closure_id}/reopen", "sign its reopening",
                        parameters=THIS)}


def view(closure, status: int = 200):
    """A closure with its snapshot's totals, and its ETag."""
    closure.totals = periods.totals(closure)
    return closure, status, {"ETag": closure.etag}


@blp.route("")
class Closures(MethodView):
    @blp.arguments(PeriodClosureFilterSchema, location="query")
    @blp.response(200, PeriodClosureSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, filters):
        """The closures you may see, newest first (filters: organization, fiscal_year)."""
        return periods.list_closures(current_user(), **filters)

    @blp.arguments(PeriodClosureCreateSchema)
    @blp.links(200, **LINKS)
    @blp.response(200, PeriodClosureDetailSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Sign the closing of a quarter for a MOA, as its budget officer or its chief
        accountant: the first signature opens the closure (status closing), the second,
        by the other role and another person, closes the quarter and stores its snapshot.
        One person never signs twice, administrators included (403)."""
        return view(periods.sign_close(current_user(), **data))


@blp.route("/<id:closure_id>")
class Closure(MethodView):
    @blp.links(200, **LINKS)
    @blp.response(200, PeriodClosureDetailSchema, headers=ETAG_HEADER)
    def get(self, closure_id):
        """One closure, its signatures and its snapshot: per program budget (PAP) and
        allotment class, allotted, obligated and disbursed in the quarter and cumulative."""
        return view(periods.get_closure_or_raise(current_user(), closure_id))


@blp.route("/<id:closure_id>/reopen")
class Reopen(MethodView):
    @blp.arguments(PeriodReopenSchema)
    @blp.links(200, **LINKS)
    @blp.response(200, PeriodClosureDetailSchema, headers=ETAG_HEADER)
    def post(self, data, closure_id):
        """Sign the reopening of a closed quarter, with a reason: the second signature
        (the other role, another person) reopens it; its snapshot stays."""
        return view(periods.sign_reopen(current_user(), closure_id, **data))


opening = Blueprint("opening_balances", __name__, url_prefix="/api/opening-balances",
                    description="Year end: closing Q4 of a MOA's year carries its continuing appropriations "
                                "and unpaid obligations still valid into the next year's opening balances.")


@opening.route("")
class OpeningBalances(MethodView):
    @opening.arguments(OpeningBalanceFilterSchema, location="query")
    @opening.response(200, OpeningBalancesSchema)
    def get(self, filters):
        """A MOA's opening balances of a fiscal year, as the close of Q4 of the year
        before carried them: continuing appropriations (allotments' unobligated
        balances still valid) and unpaid obligations, PHP, each with what is left
        of it now. 409 year_not_closed while that Q4 is not closed."""
        closure, rows = periods.opening_balances(current_user(), **filters)
        balances = money_chain.balances_now(rows)
        for row in rows:
            row.balance = balances[row.id]
        return {"organization": closure.organization.code, "fiscal_year": filters["fiscal_year"],
                "closure_id": closure.id, "carried_at": closure.closed_at,
                "totals": periods.opening_totals(rows), "balances": rows}
