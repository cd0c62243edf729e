"""marshmallow schemas of the HTTP API (DESIGN §5): request bodies and
queries (unknown fields rejected) and responses. They also define the
OpenAPI document."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from web.parsing import Money
from workflow.vocabulary import APPROPRIATION_CLASSES, CATEGORIES, DISTRIBUTION_POLICIES, PPA_STATUSES, PRIORITIES

MAX_TEXT = 20_000


def _text(max_length: int = 255, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


class PpaWriteSchema(Schema):
    """Fields a client may set on a PPA (``POST`` requires the core ones)."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    summary = _text(MAX_TEXT)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    program_code = _text(50, allow_none=True)
    implementing_moa = fields.String(validate=validate.Length(min=1, max=20),
                                     metadata={"description": "organization code of the implementing MOA, "
                                                              "e.g. MSSD; defaults to the caller's"})
    fiscal_year = fields.Integer(required=True, validate=validate.Range(2000, 2100), strict=True)
    sector = _text(50, allow_none=True)
    funding_source = _text(100, allow_none=True)
    appropriation_class = fields.String(validate=validate.OneOf(APPROPRIATION_CLASSES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    start_date = fields.Date(allow_none=True)
    target_end_date = fields.Date(allow_none=True)
    budget_allocation = Money(required=True)
    wbs_template = fields.String(allow_none=True, validate=validate.Length(max=50))
    budget_distribution_policy = fields.String(validate=validate.OneOf(DISTRIBUTION_POLICIES))
    auto_sync_progress = fields.Boolean()
    auto_sync_status = fields.Boolean()


class PpaPatchSchema(PpaWriteSchema):
    """``PATCH``: any subset of the writable fields, plus the execution fields."""

    status = fields.String(validate=validate.OneOf(PPA_STATUSES))
    progress = fields.Integer(validate=validate.Range(0, 100), strict=True)


class PpaSchema(Schema):
    """A PPA as the API returns it."""

    id = fields.Integer()
    title = fields.String()
    summary = fields.String()
    category = fields.String()
    program_code = fields.String(allow_none=True)
    implementing_moa = fields.String(attribute="organization.code")
    implementing_moa_name = fields.String(attribute="organization.name")
    fiscal_year = fields.Integer()
    sector = fields.String(allow_none=True)
    funding_source = fields.String(allow_none=True)
    appropriation_class = fields.String()
    priority = fields.String()
    start_date = fields.Date(allow_none=True)
    target_end_date = fields.Date(allow_none=True)
    budget_allocation = Money()
    progress = fields.Integer()
    status = fields.String()
    approval_status = fields.String()
    stage_entered_at = fields.DateTime()
    wbs_template = fields.String(allow_none=True)
    budget_distribution_policy = fields.String()
    enable_workitem_tracking = fields.Boolean()
    auto_sync_progress = fields.Boolean()
    auto_sync_status = fields.Boolean()
    created_by_id = fields.Integer(allow_none=True)
    updated_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()


class PpaFilterSchema(Schema):
    """Filters of ``GET /api/monitoring-entries``."""

    fiscal_year = fields.Integer(validate=validate.Range(2000, 2100))
    approval_status = fields.String(validate=validate.Length(max=40))
    status = fields.String(validate=validate.OneOf(PPA_STATUSES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    moa = fields.String(validate=validate.Length(max=20), metadata={"description": "organization code, e.g. MSSD"})
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "words in the title"})


class TransitionRequestSchema(Schema):
    """``POST .../transitions``."""

    trigger = fields.String(required=True, validate=validate.Length(min=1, max=40))
    comment = fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT))


class ReasonSchema(Schema):
    """Why an action is closed."""

    code = fields.String(metadata={"description": "wrong_stage, role_missing, separation_of_duties, stale_version"})
    message = fields.String()


class ActionSchema(Schema):
    """One trigger as seen by the caller."""

    trigger = fields.String()
    dest = fields.String(allow_none=True)
    open = fields.Boolean()
    roles = fields.List(fields.String())
    comment_required = fields.Boolean()
    reasons = fields.List(fields.Nested(ReasonSchema))


class ActionsSchema(Schema):
    """``GET .../actions``."""

    ppa_id = fields.Integer()
    approval_status = fields.String()
    version = fields.Integer()
    actions = fields.List(fields.Nested(ActionSchema))


class HistoryEntrySchema(Schema):
    """One approval transition."""

    id = fields.Integer()
    trigger = fields.String()
    from_stage = fields.String()
    to_stage = fields.String()
    actor_id = fields.Integer()
    actor = fields.String(attribute="actor.username")
    role = fields.String()
    comment = fields.String(allow_none=True)
    created_at = fields.DateTime()
    rules_hash = fields.String()


class UserSchema(Schema):
    """The caller (``GET /api/me``)."""

    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    organization = fields.String(attribute="organization.code", allow_none=True)
    roles = fields.Function(lambda user: sorted(user.roles), metadata={"type": "array", "items": {"type": "string"}})
