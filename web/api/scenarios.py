"""Budget scenarios and the optimiser over HTTP (docs/design.md §17; issue
16 items 1-2): ``/api/scenarios`` (list, create — empty or a copy of a
fiscal year's enacted appropriations —, read, patch with If-Match),
``/allocations`` (list; put one per PPA), ``/adjustments``, ``/optimise``,
``/compare?ids=`` and its xlsx and PDF exports."""

from __future__ import annotations

from io import BytesIO

from flask import request, send_file
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services import scenarios
from web.auth import current_user
from web.contract import BINARY, ETAG_HEADER, PDF, XLSX
from web.pagination import SQLPage
from web.parsing import Blueprint, Money, Weight
from web.schemas import MAX_TEXT, Reply

blp = Blueprint("scenarios", __name__, url_prefix="/api",
                description="Budget scenarios: what-if allocations per PPA under a ceiling, copied from a year's "
                            "enacted appropriations, adjusted exactly to the centavo, checked against the "
                            "constraints of scenarios.yaml, compared, and proposed by the optimiser.")


class ScenarioCreateSchema(Schema):
    """``POST /api/scenarios``: a name, and a ceiling or a fiscal year to copy."""

    name = fields.String(validate=validate.Length(min=1, max=200), load_default=None)
    description = fields.String(validate=validate.Length(max=MAX_TEXT), load_default="")
    ceiling = Money(metadata={"description": "PHP; defaults to the copied appropriations' total"})
    baseline = fields.Boolean(metadata={"description": "defaults to true for a copy of a fiscal year"})
    from_fiscal_year = fields.Integer(strict=True, validate=validate.Range(2000, 2100),
                                      metadata={"description": "copy this year's enacted appropriations"})
    fiscal_year = fields.Integer(strict=True, validate=validate.Range(2000, 2100),
                                 metadata={"description": "the year an empty scenario plans (MOA caps from the "
                                                          "obligation rates of the years before)"})

    @validates_schema
    def _named(self, data, **kwargs):
        if not data.get("name") and data.get("from_fiscal_year") is None:
            raise ValidationError("a scenario needs a name", "name")


class ScenarioPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=MAX_TEXT))
    ceiling = Money()
    baseline = fields.Boolean()


class ScenarioSchema(Reply):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    ceiling = Money()
    baseline = fields.Boolean()
    fiscal_year = fields.Integer(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    version = fields.Integer()


class AllocationSchema(Reply):
    ppa_id = fields.Integer()
    ppa_title = fields.String(attribute="ppa.title")
    moa = fields.String(attribute="ppa.organization.code")
    sector = fields.String(attribute="ppa.sector", allow_none=True)
    allotment_class = fields.String(attribute="ppa.appropriation_class")
    amount = Money()
    justification = fields.String()


class AllocationPutSchema(Schema):
    amount = Money(required=True, metadata={"description": "PHP, a decimal string"})
    justification = fields.String(validate=validate.Length(max=MAX_TEXT), load_default="")


class AdjustmentSchema(Schema):
    """``POST /api/scenarios/{id}/adjustments``: percent or amount (signed PHP)."""

    scope = fields.String(required=True, validate=validate.OneOf(scenarios.SCOPES))
    value = fields.String(validate=validate.Length(min=1, max=50),
                          metadata={"description": "the PPA id, MOA code, sector or class (not for all)"})
    percent = Weight(as_string=True, metadata={"description": "-100 to 1000, e.g. \"-5\" or \"12.5\""})
    amount = Money(allow_negative=True, metadata={"description": "signed PHP, spread in proportion"})
    justification = fields.String(validate=validate.Length(max=MAX_TEXT), load_default="")


class ScenarioCheckSchema(Reply):
    name = fields.String()
    description = fields.String()
    value = Money()
    limit = Money()
    slack = Money(allow_negative=True)
    satisfied = fields.Boolean()


class SummarySchema(Reply):
    id = fields.Integer()
    name = fields.String()
    baseline = fields.Boolean()
    ceiling = Money()
    total = Money()
    by_moa = fields.Dict(keys=fields.String(), values=Money())
    by_sector = fields.Dict(keys=fields.String(), values=Money())
    by_class = fields.Dict(keys=fields.String(), values=Money())
    by_area = fields.Dict(keys=fields.String(), values=Money(), metadata={
        "description": "per province of the needs the funded PPAs address (each need an equal share of its "
                       "PPA's amount), \"(no area)\" for PPAs addressing none"})
    needs_addressed = fields.Integer()
    population_served = fields.Integer()
    constraints = fields.List(fields.Nested(ScenarioCheckSchema))


class DifferenceSchema(Reply):
    id = fields.Integer()
    total = Money(allow_negative=True)
    needs_addressed = fields.Integer()
    population_served = fields.Integer()
    by_moa = fields.Dict(keys=fields.String(), values=Money(allow_negative=True))
    by_sector = fields.Dict(keys=fields.String(), values=Money(allow_negative=True))
    by_class = fields.Dict(keys=fields.String(), values=Money(allow_negative=True))
    by_area = fields.Dict(keys=fields.String(), values=Money(allow_negative=True))


class ComparisonSchema(Reply):
    scenarios = fields.List(fields.Nested(SummarySchema))
    differences = fields.List(fields.Nested(DifferenceSchema), metadata={"description": "each from the first"})


class CompareQuerySchema(Schema):
    ids = fields.String(required=True, validate=validate.Regexp(r"^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8}){1,9}$",
                                                                error="two to ten scenario ids, e.g. 1,2,3"))


class OptimiseSchema(Schema):
    save = fields.Boolean(load_default=True, metadata={"description": "keep the proposal as a new scenario"})
    name = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "the new scenario's"})


class FundingPlanSchema(Reply):
    allocations = fields.Dict(keys=fields.String(), values=Money(), metadata={"description": "PPA id -> PHP"})
    total = Money()
    objective = fields.Decimal(as_string=True)
    needs_addressed = fields.List(fields.Integer())
    population_served = fields.Integer()
    feasible = fields.Boolean()


class ConstraintCheckSchema(Reply):
    name = fields.String()
    description = fields.String()
    sense = fields.String()
    value = Money()
    limit = Money()
    slack = Money(allow_negative=True)
    satisfied = fields.Boolean()
    binding = fields.Boolean()
    dual = fields.Decimal(as_string=True, allow_none=True,
                          metadata={"description": "objective per peso more of its limit (LP relaxation)"})


class MarginalPpaSchema(Reply):
    id = fields.Integer()
    cost = Money()
    objective_change = fields.Decimal(as_string=True)
    per_million = fields.Decimal(as_string=True)
    blocked_by = fields.List(fields.String())


class OptimiserProposalSchema(Reply):
    status = fields.String()
    funding = fields.String()
    optimum = fields.Nested(FundingPlanSchema)
    greedy = fields.Nested(FundingPlanSchema)
    gap = fields.Decimal(as_string=True)
    gap_percent = fields.Decimal(as_string=True, allow_none=True)
    constraints = fields.List(fields.Nested(ConstraintCheckSchema))
    ceiling_dual = fields.Decimal(as_string=True, allow_none=True,
                                  metadata={"description": "what one more peso of ceiling buys"})
    just_in = fields.List(fields.Nested(MarginalPpaSchema))
    just_out = fields.List(fields.Nested(MarginalPpaSchema))
    explanation = fields.List(fields.String())


class OptimiseReplySchema(Reply):
    proposal = fields.Nested(OptimiserProposalSchema)
    scenario = fields.Nested(ScenarioSchema, allow_none=True, metadata={"description": "the saved proposal"})


def _with_etag(scenario, status: int = 200):
    return scenario, status, {"ETag": scenario.etag}


def _ids(query) -> list[int]:
    return [int(i) for i in query["ids"].split(",")]


@blp.route("/scenarios")
class Scenarios(MethodView):
    @blp.response(200, ScenarioSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self):
        """Every budget scenario, newest first (budget analysts, planning
        officers, executives)."""
        return scenarios.list_scenarios(current_user())

    @blp.arguments(ScenarioCreateSchema)
    @blp.response(201, ScenarioSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Create a scenario: empty with a ceiling, or a copy of the baseline
        (``from_fiscal_year``: the year's enacted appropriations per PPA)."""
        if not data.get("name"):
            data["name"] = f"Enacted FY {data['from_fiscal_year']}"
        return _with_etag(scenarios.create_scenario(current_user(), **data), 201)


@blp.route("/scenarios/compare")
class Compare(MethodView):
    @blp.arguments(CompareQuerySchema, location="query")
    @blp.response(200, ComparisonSchema)
    def get(self, query):
        """Scenarios side by side: totals per MOA, sector, allotment class
        and area (the provinces of the needs their PPAs address), needs addressed, population served, constraint checks, and
        each one's differences from the first."""
        return scenarios.compare(current_user(), _ids(query))


@blp.route("/scenarios/compare.xlsx")
class CompareWorkbook(MethodView):
    @blp.arguments(CompareQuerySchema, location="query")
    @blp.response(200, BINARY, content_type=XLSX, description="the comparison as a workbook")
    def get(self, query):
        """The comparison as an Excel workbook."""
        return _comparison_file(query, scenarios.comparison_workbook, XLSX, "scenarios.xlsx")


@blp.route("/scenarios/compare.pdf")
class ComparePdf(MethodView):
    @blp.arguments(CompareQuerySchema, location="query")
    @blp.response(200, BINARY, content_type=PDF, description="the comparison as a PDF (Legal landscape)")
    def get(self, query):
        """The comparison as a PDF: the workbook's rows and columns."""
        return _comparison_file(query, scenarios.comparison_pdf, PDF, "scenarios.pdf")


def _comparison_file(query: dict, render, mimetype: str, name: str):
    """The comparison of the query's scenarios rendered as a file download."""
    data = render(scenarios.compare(current_user(), _ids(query)))
    return send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)


@blp.route("/scenarios/<id:scenario_id>")
class ScenarioOne(MethodView):
    @blp.response(200, ScenarioSchema, headers=ETAG_HEADER)
    def get(self, scenario_id):
        """One scenario; its ETag is its version for If-Match."""
        return _with_etag(scenarios.get_scenario_or_raise(current_user(), scenario_id))

    @blp.arguments(ScenarioPatchSchema(partial=True))
    @blp.response(200, ScenarioSchema, headers=ETAG_HEADER)
    def patch(self, data, scenario_id):
        """Change name, description, ceiling or baseline; send If-Match (412
        stale, 428 without)."""
        return _with_etag(scenarios.update_scenario(current_user(), scenario_id, data,
                                                    if_match=request.headers.get("If-Match")))


@blp.route("/scenarios/<id:scenario_id>/allocations")
class Allocations(MethodView):
    @blp.response(200, AllocationSchema(many=True))
    def get(self, scenario_id):
        """The scenario's allocations, one per PPA."""
        return scenarios.list_allocations(current_user(), scenario_id)


@blp.route("/scenarios/<id:scenario_id>/allocations/<id:ppa_id>")
class AllocationOne(MethodView):
    @blp.accepts_if_match
    @blp.arguments(AllocationPutSchema)
    @blp.response(200, AllocationSchema)
    def put(self, data, scenario_id, ppa_id):
        """Set the scenario's amount for one PPA, with its justification."""
        return scenarios.put_allocation(current_user(), scenario_id, ppa_id, **data,
                                        if_match=request.headers.get("If-Match"))


@blp.route("/scenarios/<id:scenario_id>/adjustments")
class Adjustments(MethodView):
    @blp.accepts_if_match
    @blp.arguments(AdjustmentSchema)
    @blp.response(200, AllocationSchema(many=True))
    def post(self, data, scenario_id):
        """Raise or lower the allocations of one PPA, MOA, sector or class
        (or all) by a percent or an amount, spread by largest remainder:
        exact to the centavo. Returns the changed allocations."""
        return scenarios.adjust(current_user(), scenario_id, **data, if_match=request.headers.get("If-Match"))


@blp.route("/scenarios/<id:scenario_id>/optimise")
class Optimise(MethodView):
    @blp.arguments(OptimiseSchema)
    @blp.response(200, OptimiseReplySchema)
    def post(self, data, scenario_id):
        """Let the optimiser propose which of the scenario's PPAs to fund
        under its ceiling: objective, greedy estimate and gap, binding
        constraints and duals, PPAs just in and just out; saved as a new
        scenario unless ``save`` is false. Infeasible constraints: 422
        ``infeasible_constraints`` naming them."""
        return scenarios.optimise(current_user(), scenario_id, **data)
