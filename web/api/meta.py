"""``/api/me`` and ``/api/rules``: who you are, which rules are in force (and their diagrams)."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from rules import diagrams
from services.runtime import get_runtime
from web.auth import current_user
from web.parsing import Blueprint
from web.schemas import Reply, UserSchema

blp = Blueprint("meta", __name__, url_prefix="/api", description="The caller and the rules in force.")


class RuleFileSchema(Reply):
    name = fields.String()
    sha256 = fields.String()


class StageSchema(Reply):
    name = fields.String()
    label = fields.String()
    final = fields.Boolean()
    reviewers = fields.List(fields.String())
    due_in_days = fields.Integer(allow_none=True)


class DeadlinesSchema(Reply):
    release = fields.Date()
    obligation = fields.Date()
    disbursement = fields.Date(allow_none=True, metadata={"description": "null: until fully expended"})


class ValidityEntrySchema(Reply):
    effective_from = fields.Date()
    legal_basis = fields.String()
    deadlines = fields.Dict(keys=fields.String(), values=fields.Nested(DeadlinesSchema),
                            metadata={"description": "validity category -> its deadlines; the act names every "
                                                     "category, an amendment those it changes"})


class ValidityYearSchema(Reply):
    fiscal_year = fields.Integer()
    entries = fields.List(fields.Nested(ValidityEntrySchema), metadata={
        "description": "the act, then its amendments by effective date (validity.yaml)"})


class RulesSchema(Reply):
    hash = fields.String(metadata={"description": "SHA-256 of the rule files; recorded on every transition"})
    files = fields.List(fields.Nested(RuleFileSchema))
    roles = fields.Dict(keys=fields.String(), values=fields.String())
    stages = fields.List(fields.Nested(StageSchema))
    triggers = fields.List(fields.String())
    work_item_statuses = fields.List(fields.String())
    validity = fields.List(fields.Nested(ValidityYearSchema), metadata={
        "description": "until when each fiscal year's appropriations may be released, obligated and disbursed, "
                       "by validity category (docs/design.md §12)"})


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """The authenticated user: name, organization, roles."""
        return current_user()


@blp.route("/rules")
class Rules(MethodView):
    @blp.response(200, RulesSchema)
    def get(self):
        """The loaded rule files and their hash."""
        rules = get_runtime().rules
        return {
            "hash": rules.hash,
            "files": rules.files,
            "roles": dict(rules.roles.descriptions),
            "stages": list(rules.approval.machine.states.values()),
            "triggers": list(rules.approval.machine.triggers),
            "work_item_statuses": list(rules.work_item_status.states),
            "validity": [{"fiscal_year": year, "entries": list(entries)}
                         for year, entries in sorted(rules.validity.years.items())],
        }


# -- diagrams of the rules in force (issue 14 item 5; docs/design.md §6 "Diagrams") ----------------------------


class DiagramQuerySchema(Schema):
    """Which diagram of the rules in force."""

    fmt = fields.String(data_key="format", load_default="mermaid", validate=validate.OneOf(list(diagrams.FORMATS)),
                        metadata={"description": "mermaid: a stateDiagram-v2 (text/plain); bpmn: BPMN 2.0 XML of a "
                                                 "workflow with people on its edges (application/xml)"})
    workflow = fields.String(load_default=None, metadata={
        "description": "a workflow of the rule set (workflows/*.yaml) or work_item_status (mermaid only); "
                       "default ppa_approval"})


@blp.route("/rules/diagram")
class RulesDiagram(MethodView):
    @blp.arguments(DiagramQuerySchema, location="query")
    @blp.doc(responses={200: {"description": "the diagram", "content": {
        media_type.split(";")[0]: {"schema": {"type": "string"}} for media_type in diagrams.FORMATS.values()}}})
    def get(self, query):
        """A diagram drawn from the rules in force: a mermaid state diagram of
        any machine (roles on the edges as ``trigger [roles]``, final stages
        marked ``--> [*]``), or BPMN 2.0 XML of a workflow (a lane per role, a
        user task per stage, an exclusive gateway on the ``decision``
        variable after each). 422 for an unknown workflow."""
        text, media_type = diagrams.render(get_runtime().rules, query["fmt"], query["workflow"])
        return Response(text, content_type=media_type)
