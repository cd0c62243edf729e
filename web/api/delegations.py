"""``/api/delegations``: lending a role to a colleague until a given time
(issue 14 item 7, issue 12 item 3; docs/design.md §6). The command line does
the same (``ppaflow delegation add|list|revoke``) with the same services."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from db.types import utcnow
from services import delegations
from services.delegations import MAX_REASON_LENGTH, DelegationFilters
from web.auth import current_user
from web.contract import ETAG_HEADER, LOCATION_HEADER, link
from web.pagination import SQLPage
from web.parsing import Blueprint
from web.schemas import Reply

blp = Blueprint("delegations", __name__, url_prefix="/api/delegations",
                description="Delegations: a user lends one of their roles to a colleague from a start to an "
                            "expiry; the colleague's steps in that role record the delegator.")

DELEGATION_STATES = ("active", "scheduled", "expired", "revoked")
USERNAME = {"validate": validate.Length(min=1, max=80)}


class DelegationSchema(Reply):
    """One delegation."""

    id = fields.Integer()
    role = fields.String()
    delegator = fields.String(attribute="delegator.username", metadata={"description": "who lends the role"})
    delegate = fields.String(attribute="delegate.username", metadata={"description": "who may act in it"})
    organization = fields.String(attribute="organization.code", allow_none=True, metadata={
        "description": "for an organization-scoped role: the only organization it counts in"})
    starts_at = fields.DateTime()
    expires_at = fields.DateTime()
    reason = fields.String()
    state = fields.Function(lambda d: d.state_at(utcnow()), metadata={
        "type": "string", "enum": list(DELEGATION_STATES),
        "description": "now: active, scheduled (not started), expired or revoked"})
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    revoked_by = fields.String(attribute="revoked_by.username", allow_none=True)


class DelegationCreateSchema(Schema):
    """``POST /api/delegations``."""

    role = fields.String(required=True, validate=validate.Length(min=1, max=40),
                         metadata={"description": "a role of the delegator (not a superuser role)"})
    delegate = fields.String(required=True, metadata={"description": "username of the colleague"}, **USERNAME)
    delegator = fields.String(metadata={"description": "whose role (administrators only; default: you)"},
                              **USERNAME)
    starts_at = fields.AwareDateTime(metadata={"description": "when it starts (default: now)"})
    expires_at = fields.AwareDateTime(required=True, metadata={"description": "when it stops counting"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REASON_LENGTH),
                           metadata={"description": "why, e.g. on leave until 14 June"})


class DelegationFilterSchema(Schema):
    """Filters of ``GET /api/delegations``."""

    user = fields.String(metadata={"description": "username, as delegator or delegate"}, **USERNAME)
    role = fields.String(validate=validate.Length(min=1, max=40))
    active = fields.Boolean(metadata={"description": "only those active now (true), or only the others (false)"})


THIS = {"path.delegation_id": "$response.body#/id"}
LINKS = {
    "read": link("GET", "/api/delegations/{delegation_id}", "read the delegation", parameters=THIS),
    "revoke": link("POST", "/api/delegations/{delegation_id}/revoke", "end it now", parameters=THIS),
}


def with_etag(delegation, status: int = 200, headers: dict | None = None):
    """``(delegation, status, headers)`` with its ETag."""
    return delegation, status, {"ETag": delegation.etag} | (headers or {})


@blp.route("")
class Delegations(MethodView):
    @blp.arguments(DelegationFilterSchema, location="query")
    @blp.response(200, DelegationSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, filters):
        """The delegations you gave or received (administrators: all), newest
        first (filters: user, role, active)."""
        return delegations.list_delegations(current_user(), DelegationFilters(**filters))

    @blp.links(201, **LINKS)
    @blp.arguments(DelegationCreateSchema)
    @blp.response(201, DelegationSchema, headers=ETAG_HEADER | LOCATION_HEADER)
    def post(self, data):
        """Lend one of your roles to a colleague until ``expires_at``
        (administrators: anyone's, naming the ``delegator``). A superuser
        role cannot be delegated (422); an organization-scoped role only to
        a colleague of the same organization (422); the same role to the
        same colleague for overlapping times is 409 ``delegation_overlaps``."""
        delegation = delegations.create_delegation(current_user(), data)
        location = url_for("delegations.DelegationOne", delegation_id=delegation.id)
        return with_etag(delegation, 201, {"Location": location})


@blp.route("/<id:delegation_id>")
class DelegationOne(MethodView):
    @blp.links(200, **LINKS)
    @blp.response(200, DelegationSchema, headers=ETAG_HEADER)
    def get(self, delegation_id):
        """One delegation you gave or received (administrators: any)."""
        return with_etag(delegations.get_delegation_or_raise(current_user(), delegation_id))


@blp.route("/<id:delegation_id>/revoke")
class DelegationRevoke(MethodView):
    @blp.response(200, DelegationSchema, headers=ETAG_HEADER)
    def post(self, delegation_id):
        """End the delegation now (its delegator, or an administrator); one
        already revoked or expired is 409 ``delegation_ended``."""
        return with_etag(delegations.revoke_delegation(current_user(), delegation_id))
