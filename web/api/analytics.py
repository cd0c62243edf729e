"""``/api/analytics``: trends, execution velocity, needs fulfilment and the
year-end projection (issue 16 item 6; docs/design.md §18), as JSON and
each as a chart export (``.pdf``, ``.png``). Scoped as the reports are: a
MOA user gets their MOA's figures, reviewers and analysts all MOAs (or one
with ``moa``)."""

from __future__ import annotations

from io import BytesIO

from flask import send_file
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from services import analytics, reports
from web.auth import current_user
from web.contract import BINARY, PDF
from web.parsing import Blueprint, Money
from web.schemas import FISCAL_YEAR, Reply, _organization_code
from web.ui.charts import analytics_charts

blp = Blueprint("analytics", __name__, url_prefix="/api/analytics",
                description="Multi-year trends, execution velocity against BED No. 3, needs fulfilment and the "
                            "year-end projection, as JSON and as chart exports (PDF, PNG).")

PNG = "image/png"
MOA = {"description": "one MOA's figures (a MOA user always gets their own MOA's)"}


def _rate(description: str) -> fields.Decimal:
    return fields.Decimal(as_string=True, allow_none=True, metadata={
        "description": f"{description}: a percentage with two decimals, as a string (\"85.00\"); null when its "
                       "divisor is zero", "example": "85.00"})


# -- query schemas ----------------------------------------------------------------------------------------------------

class TrendsQuerySchema(Schema):
    """Which years and grouping."""

    from_year = fields.Integer(required=True, validate=FISCAL_YEAR, metadata={"description": "first fiscal year"})
    to_year = fields.Integer(required=True, validate=FISCAL_YEAR, metadata={
        "description": f"last fiscal year (at most {analytics.MAX_YEARS} years from from_year)"})
    by = fields.String(load_default="moa", validate=validate.OneOf(analytics.GROUPINGS), metadata={
        "description": "group by MOA, PPA sector, or allotment class"})
    moa = _organization_code(metadata=MOA)


class VelocityQuerySchema(Schema):
    """Which year, as of when."""

    fiscal_year = fields.Integer(required=True, validate=FISCAL_YEAR, metadata={"description": "the fiscal year"})
    as_of = fields.Date(metadata={"description": "count postings dated on or before this day (default today, "
                                                 "Asia/Manila)"})
    moa = _organization_code(metadata=MOA)


class NeedsFulfilmentQuerySchema(Schema):
    """Optional filters."""

    category = fields.String(validate=validate.Length(max=40), metadata={"description": "one category (needs.yaml)"})
    province_code = fields.String(validate=validate.Length(max=10), metadata={
        "description": "one province (PSGC code, psgc_barmm.yaml)"})


ProjectionQuerySchema = VelocityQuerySchema


# -- reply schemas ----------------------------------------------------------------------------------------------------

class TrendRowSchema(Reply):
    """One group in one quarter (PHP amounts as strings)."""

    group = fields.String(metadata={"description": "the MOA code, sector, or allotment class (PS, MOOE, FinEx, CO)"})
    fiscal_year = fields.Integer()
    quarter = fields.Integer(metadata={"description": "1-4"})
    appropriation = Money(metadata={"description": "appropriated by the quarter's end (enacted program budgets)"})
    allotted = Money(metadata={"description": "allotments posted in the quarter"})
    obligated = Money(metadata={"description": "obligations posted in the quarter (reversals netted)"})
    disbursed = Money(metadata={"description": "disbursements posted in the quarter (voids netted)"})
    cumulative_allotted = Money(metadata={"description": "allotments to the quarter's end"})
    cumulative_obligated = Money(metadata={"description": "obligations to the quarter's end"})
    cumulative_disbursed = Money(metadata={"description": "disbursements to the quarter's end"})
    obligation_rate = _rate("cumulative obligations / cumulative allotments")
    disbursement_rate = _rate("cumulative disbursements / cumulative obligations")


class VelocityMonthSchema(Reply):
    """One month of the pace of disbursement."""

    month = fields.Integer(metadata={"description": "1-12"})
    reached = fields.Boolean(metadata={"description": "the month has begun by as_of"})
    programmed = Money(metadata={"description": "disbursements programmed in BED No. 3 for the month"})
    actual = Money(allow_none=True, metadata={"description": "disbursed in the month; null before it begins"})
    cumulative_programmed = Money(metadata={"description": "programmed from January"})
    cumulative_actual = Money(allow_none=True, metadata={"description": "disbursed from January"})
    ratio = _rate("cumulative actual / cumulative programmed")


class FulfilmentRowSchema(Reply):
    """Needs of one province and category."""

    province_code = fields.String(allow_none=True, metadata={"description": "PSGC code; null: no province given"})
    province = fields.String(allow_none=True, metadata={"description": "its name (psgc_barmm.yaml)"})
    category = fields.String()
    raised = fields.Integer(metadata={"description": "published needs (validated, forwarded, addressed, deferred)"})
    addressed = fields.Integer(metadata={"description": "those a PPA addresses"})
    share = _rate("addressed / raised")


class ProjectedSchema(Reply):
    """One figure projected to the year's end (PHP)."""

    to_date = Money(metadata={"description": "posted from January to as_of"})
    projected = Money(metadata={"description": "projected year-end total"})
    low = Money(metadata={"description": "the band's low end (never below to_date)"})
    high = Money(metadata={"description": "the band's high end"})
    months = fields.List(Money(), metadata={"description": "the monthly amounts the projection is made from"})


class ProjectionSchema(Reply):
    """The year-end projection and how it is made."""

    fiscal_year = fields.Integer()
    as_of = fields.Date()
    months_elapsed = fields.Integer(metadata={"description": "months January through as_of's month (0-12)"})
    months_remaining = fields.Integer()
    method = fields.String(metadata={"description": "the method, in words (docs/design.md §18)"})
    obligations = fields.Nested(ProjectedSchema)
    disbursements = fields.Nested(ProjectedSchema)


# -- the views ----------------------------------------------------------------------------------------------------------

def compute(view: str, query: dict):
    """The figures of ``view`` for the caller (``services.analytics``)."""
    user = current_user()
    if view == "trends":
        return analytics.trends(user, query["from_year"], query["to_year"], query["by"], query.get("moa"))
    if view == "velocity":
        return analytics.velocity(user, query["fiscal_year"], query.get("moa"), as_of=query.get("as_of"))
    if view == "needs-fulfilment":
        return analytics.needs_fulfilment(user, category=query.get("category"),
                                          province_code=query.get("province_code"))
    return analytics.projection(user, query["fiscal_year"], query.get("as_of"), query.get("moa"))


def subtitle(view: str, query: dict) -> str:
    """What the export covers, in words (its second title line)."""
    if view == "trends":
        return f"Fiscal years {query['from_year']}-{query['to_year']}, by {query['by']}"
    if view == "needs-fulfilment":
        return "Published needs"
    return f"Fiscal year {query['fiscal_year']}"


def export(view: str, query: dict, fmt: str):
    """``view`` as a PDF (charts, then figures) or as the PNG of its first page."""
    data = compute(view, query)
    moa = None if view == "needs-fulfilment" else reports.report_scope(current_user(), query.get("moa"))
    pdf = analytics.chart_pdf(view, data, analytics_charts(view, data), subtitle=subtitle(view, query),
                              note=data.method if view == "projection" else "",
                              scope=f"MOA: {moa}" if moa else "All MOAs you may see")
    body = pdf if fmt == "pdf" else analytics.chart_png(pdf)
    return send_file(BytesIO(body), mimetype=PDF if fmt == "pdf" else PNG, as_attachment=fmt == "pdf",
                     download_name=f"ppaflow_analytics_{view}.{fmt}")


@blp.route("/trends")
class Trends(MethodView):
    @blp.arguments(TrendsQuerySchema, location="query")
    @blp.response(200, TrendRowSchema(many=True))
    def get(self, query):
        """Multi-year trends: per group (MOA, sector or allotment class), fiscal
        year and quarter, the appropriation, what was allotted, obligated and
        disbursed in the quarter and to its end, and the obligation and
        disbursement rates (the MFBM report's figures, by quarter)."""
        return compute("trends", query)


@blp.route("/velocity")
class Velocity(MethodView):
    @blp.arguments(VelocityQuerySchema, location="query")
    @blp.response(200, VelocityMonthSchema(many=True))
    def get(self, query):
        """Execution velocity: per month, the disbursements programmed in BED
        No. 3 against those made, from January, and their ratio."""
        return compute("velocity", query)


@blp.route("/needs-fulfilment")
class NeedsFulfilment(MethodView):
    @blp.arguments(NeedsFulfilmentQuerySchema, location="query")
    @blp.response(200, FulfilmentRowSchema(many=True))
    def get(self, query):
        """Needs fulfilment: per province and category, the published needs you
        may see and how many of them a PPA addresses."""
        return compute("needs-fulfilment", query)


@blp.route("/projection")
class Projection(MethodView):
    @blp.arguments(ProjectionQuerySchema, location="query")
    @blp.response(200, ProjectionSchema)
    def get(self, query):
        """Year-end obligations and disbursements projected from the
        year-to-date monthly pattern, with a band; ``method`` says how."""
        return compute("projection", query)


_QUERIES = {"trends": TrendsQuerySchema, "velocity": VelocityQuerySchema,
            "needs-fulfilment": NeedsFulfilmentQuerySchema, "projection": ProjectionQuerySchema}


def _export_route(view: str, fmt: str) -> None:
    """Register ``GET /api/analytics/<view>.<fmt>``."""

    class Export(MethodView):
        @blp.arguments(_QUERIES[view], location="query")
        @blp.response(200, BINARY, content_type=PDF if fmt == "pdf" else PNG,
                      description="the PDF (Legal landscape)" if fmt == "pdf" else "the PNG (the PDF's first page)")
        def get(self, query):
            return export(view, query, fmt)

    Export.get.__doc__ = (f"{analytics.VIEWS[view]} as a {'PDF: its charts, then its figures' if fmt == 'pdf' else 'PNG image of its charts'} "
                          "(the same query as the JSON view).")
    name = "".join(part.title() for part in view.split("-")) + fmt.title()
    Export.__name__ = Export.__qualname__ = f"Export{name}"
    blp.route(f"/{view}.{fmt}", endpoint=f"Export{name}")(Export)


for _view in analytics.VIEWS:
    for _fmt in ("pdf", "png"):
        _export_route(_view, _fmt)
