"""``/api/me`` and ``/api/rules``: who you are, which rules are in force."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields

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


class RulesSchema(Reply):
    hash = fields.String(metadata={"description": "SHA-256 of the rule files; recorded on every transition"})
    files = fields.List(fields.Nested(RuleFileSchema))
    roles = fields.Dict(keys=fields.String(), values=fields.String())
    stages = fields.List(fields.Nested(StageSchema))
    triggers = fields.List(fields.String())
    work_item_statuses = fields.List(fields.String())


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
        }
