"""marshmallow schemas of the HTTP API (docs/design.md §5): request bodies and
queries (unknown fields rejected) and responses. They also define the
OpenAPI document."""

from __future__ import annotations

import json
from decimal import Decimal

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, missing, validate
from marshmallow.utils import get_value

from db.models.budget import (
    ALLOTMENT_ADJUSTMENT_KINDS,
    ALLOTMENT_ADJUSTMENT_SIGNS,
    APPROPRIATION_ADJUSTMENT_KINDS,
    ALLOTMENT_STATUSES,
    DISBURSEMENT_STATUSES,
    OBLIGATION_STATUSES,
    PAYMENT_METHODS,
    PROPOSAL_STATUSES,
)
from db.models.job import JOB_STATUSES
from services import calendar
from services.attachments import ACCEPTED, RECORD_KINDS
from services.audit_log import AUDITED_ENTITIES
from services.budget import UACS_CODE
from services.performance import TREE_FIGURES
from web.parsing import Money, Percent, RowId, WeightMap
from workflow.validity import ALLOTMENT_CLASSES, VALIDITY_CATEGORIES
from workflow.vocabulary import (
    ALERT_TYPES,
    APPROPRIATION_CLASSES,
    BUDGET_STATUSES,
    CATEGORIES,
    DISTRIBUTION_POLICIES,
    FIRST_FISCAL_YEAR,
    LAST_FISCAL_YEAR,
    PPA_STATUSES,
    PRIORITIES,
    SEVERITIES,
    WORK_TYPES,
)

MAX_TEXT = 20_000
FISCAL_YEAR = validate.Range(FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR)


def _iso(day) -> str | None:
    return None if day is None else day.isoformat()


def _text(max_length: int = 255, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


def _organization_code(**kwargs) -> fields.String:
    """An organization (MOA) code such as ``MSSD`` or ``MBHTE-TESD``."""
    return fields.String(validate=[validate.Length(min=1, max=20), validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9._-]*$", error="must be an organization code: letters, digits, '.', '_' or '-'")],
        **kwargs)


#: OpenAPI extension of a response field present only when the request asks
#: for it (``?include=`` of the budget tree): its value says how to ask.
ONLY_WITH = "x-only-with"


class Reply(Schema):
    """A response body (docs/design.md §5). Every field is always present,
    ``null`` when it has no value and never left out, so the OpenAPI
    document marks each one ``required`` and a generated client can rely on
    it; a field that may be ``null`` says so (``allow_none``). Amounts are
    documented as response amounts (``Money.as_reply``)."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        # The one exception: a field a reader asks for (``ONLY_WITH``) is there only when asked.
        field_obj.required = ONLY_WITH not in field_obj.metadata
        if isinstance(field_obj, Money):
            field_obj.as_reply()

    def get_attribute(self, obj, attr: str, default):
        """``obj``'s ``attr``; a dotted ``attr`` through a ``None`` (the
        ``organization.code`` of a user without one) is ``None``, not left out."""
        if "." not in attr and not hasattr(obj, "__getitem__"):
            # A model's attribute (most of every reply): what marshmallow's get_value
            # ends up doing for an object without item access, minus its calls (issue 17).
            return getattr(obj, attr, default)
        value = super().get_attribute(obj, attr, default)
        if value is missing and "." in attr and get_value(obj, attr.rsplit(".", 1)[0]) is None:
            return None
        return value

    def _serialize(self, obj, *, many: bool = False):
        """marshmallow's ``Schema._serialize``, with shortcuts for a model
        (an object without item access), each giving what marshmallow's
        ``Field.serialize`` gives (issue 17: a page of 20 PPAs is 680
        fields):

        - a field that reads one plain attribute, or a dotted path of them
          (``organization.code``), gets ``getattr`` and its ``_serialize``
          directly, without the accessor calls and checks in between (a
          ``None`` on the path gives ``None``, as ``get_attribute`` does);
        - a ``String``, ``Integer`` or ``Boolean`` field whose value is
          already what its ``_serialize`` would return (a ``str``, an
          ``int``, anything for ``Boolean``, or ``None``) keeps it;
        - a field that reads no attribute (``Function``) gets its
          ``_serialize`` alone.

        Every other field, and any other object, goes marshmallow's way; the
        reply is the same either way."""
        if many and obj is not None:
            return [self._serialize(item, many=False) for item in obj]
        if obj is None or hasattr(obj, "__getitem__"):
            return super()._serialize(obj, many=False)
        ret = self.dict_class()
        for key, name, path, field_obj, kept in self._dump_plan():
            if path is None:
                value = field_obj.serialize(name, obj, accessor=self.get_attribute)
                if value is not missing:
                    ret[key] = value
                continue
            if not path:  # Function: formats the object itself
                value = field_obj._serialize(None, name, obj)
                if value is not missing:
                    ret[key] = value
                continue
            value = getattr(obj, path[0], missing)
            for depth, attribute in enumerate(path[1:], start=2):
                if value is None and depth == len(path):  # a None just before the last part reads as None
                    break
                if value is None or value is missing or hasattr(value, "__getitem__"):
                    value = missing  # a None further up, or items (read first by marshmallow): let it decide
                    break
                value = getattr(value, attribute, missing)
            if value is missing:
                value = field_obj.serialize(name, obj, accessor=self.get_attribute)
                if value is not missing:
                    ret[key] = value
            elif kept is not None and (value is None or kept is True or type(value) is kept):
                ret[key] = value
            else:
                ret[key] = field_obj._serialize(value, name, obj)
        return ret

    def _dump_plan(self) -> list[tuple[str, str, tuple[str, ...] | None, fields.Field, type | bool | None]]:
        """``(key, field name, attributes read directly (empty: none) or
        None, field, the value type kept as it is)`` per dumped field,
        worked out once per schema instance (``_serialize``)."""
        plan = self.__dict__.get("_plan")
        if plan is None:
            plain = type(self).get_attribute is Reply.get_attribute
            plan = []
            for name, field_obj in self.dump_fields.items():
                attribute = field_obj.attribute if field_obj.attribute is not None else name
                ours = (plain and type(field_obj).serialize is fields.Field.serialize
                        and type(field_obj).get_value is fields.Field.get_value)
                if not ours:
                    path = None
                elif field_obj._CHECK_ATTRIBUTE:
                    path = tuple(attribute.split("."))
                else:
                    path = ()
                key = field_obj.data_key if field_obj.data_key is not None else name
                plan.append((key, name, path, field_obj, _kept_as_is(field_obj)))
            self.__dict__["_plan"] = plan
        return plan


def _kept_as_is(field_obj: fields.Field) -> type | bool | None:
    """The type of value ``field_obj._serialize`` returns unchanged (with
    ``None``), ``True`` for a field that returns every value unchanged, or
    ``None`` (``Reply._serialize``)."""
    kind = type(field_obj)
    if kind is fields.String:
        return str
    if kind is fields.Integer and not field_obj.as_string:
        return int
    if kind is fields.Boolean and kind._serialize is fields.Field._serialize:  # marshmallow 4: no conversion
        return True
    return None


def _one_of(values) -> dict:
    """A response string from a closed vocabulary (documented as an ``enum``)."""
    return {"validate": validate.OneOf(values)}


class PpaWriteSchema(Schema):
    """Fields a client may set on a PPA (``POST`` requires the core ones)."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    summary = _text(MAX_TEXT)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    program_code = _text(50, allow_none=True)
    implementing_moa = _organization_code(metadata={"description": "organization code of the implementing MOA, "
                                                             "e.g. MSSD; defaults to the caller's"})
    fiscal_year = fields.Integer(required=True, validate=FISCAL_YEAR, strict=True)
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


class PpaSchema(Reply):
    """A PPA as the API returns it."""

    id = fields.Integer()
    title = fields.String()
    summary = fields.String()
    category = fields.String(**_one_of(CATEGORIES))
    program_code = fields.String(allow_none=True)
    implementing_moa = fields.String(attribute="organization.code")
    implementing_moa_name = fields.String(attribute="organization.name")
    fiscal_year = fields.Integer()
    sector = fields.String(allow_none=True)
    funding_source = fields.String(allow_none=True)
    appropriation_class = fields.String(**_one_of(APPROPRIATION_CLASSES))
    priority = fields.String(**_one_of(PRIORITIES))
    start_date = fields.Date(allow_none=True)
    target_end_date = fields.Date(allow_none=True)
    budget_allocation = Money()
    actual_expenditure = Money(metadata={"description": "rolled-up work item expenditure when tracking is on, "
                                                        "else the disbursements"})
    progress = fields.Integer()
    status = fields.String(**_one_of(PPA_STATUSES))
    approval_status = fields.String()
    stage_entered_at = fields.DateTime()
    rules_hash = fields.String(allow_none=True, metadata={
        "description": "the rule set the PPA decides under since it was submitted (GET /api/rules/{hash}; the "
                       "same hash as its history rows'); null for a draft, which follows the active set"})
    stage_due_at = fields.Function(
        lambda ppa: _iso(calendar.stage_due_date(ppa.approval_status, ppa.stage_entered_at, ppa.rules_hash)),
        metadata={"type": "string", "format": "date", "nullable": True,
                  "description": "the date the current approval stage falls due (business days of the rules' "
                                 "calendar, Asia/Manila); null in a stage without a due time"})
    wbs_template = fields.String(allow_none=True)
    budget_distribution_policy = fields.String(**_one_of(DISTRIBUTION_POLICIES))
    enable_workitem_tracking = fields.Boolean()
    auto_sync_progress = fields.Boolean()
    auto_sync_status = fields.Boolean()
    execution_project_id = fields.Integer(allow_none=True)
    execution_flag = fields.String(allow_none=True, **_one_of(("at_risk",)), metadata={"description": "at_risk when the project is at risk"})
    created_by_id = fields.Integer(allow_none=True)
    updated_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()


class PpaFilterSchema(Schema):
    """Filters of ``GET /api/monitoring-entries``."""

    fiscal_year = fields.Integer(validate=FISCAL_YEAR)
    approval_status = fields.String(validate=validate.Length(max=40))
    status = fields.String(validate=validate.OneOf(PPA_STATUSES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    moa = _organization_code(metadata={"description": "organization code, e.g. MSSD"})
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "words in the title"})


class TransitionRequestSchema(Schema):
    """``POST .../transitions``."""

    trigger = fields.String(required=True, validate=validate.Length(min=1, max=40))
    comment = fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT))


class ReasonSchema(Reply):
    """Why an action is closed."""

    code = fields.String(metadata={"description": "wrong_stage, role_missing, separation_of_duties, stale_version, "
                                                  "sign_off_not_listed, sign_off_duplicate"})
    message = fields.String()


class SignOffSignatureSchema(Reply):
    """One sign-off of an n-of-m stage."""

    signed_for = fields.String(metadata={"description": "the agency (organization code) or role signed for"})
    by = fields.String(allow_none=True, metadata={"description": "who signed"})


class SignOffProgressSchema(Reply):
    """Where an n-of-m sign-off stage stands (docs/design.md §6)."""

    required = fields.Integer(metadata={"description": "sign-offs needed to move on"})
    signed = fields.Function(lambda p: [{"signed_for": a, "by": b} for a, b in p.signed],
                             metadata={"type": "array", "items": {"type": "object", "properties": {
                                 "signed_for": {"type": "string"}, "by": {"type": "string", "nullable": True}}}})
    awaiting = fields.List(fields.String(), metadata={"description": "listed agencies or roles not signed yet"})


class EscalationSchema(Reply):
    """When the PPA's current stage escalates (``escalate:`` of the stage)."""

    after_business_days = fields.Integer()
    escalates_on = fields.Date()
    notify = fields.List(fields.String())
    then = fields.String(allow_none=True, metadata={"description": "the trigger fired by itself, if any"})
    message = fields.String()


class ActionSchema(Reply):
    """One trigger as seen by the caller."""

    trigger = fields.String()
    dest = fields.String(allow_none=True)
    open = fields.Boolean()
    roles = fields.List(fields.String())
    comment_required = fields.Boolean()
    reasons = fields.List(fields.Nested(ReasonSchema))
    acting_for = fields.String(allow_none=True, metadata={
        "description": "the delegator you would sign for, when you may fire it only under a delegation"})
    route = fields.String(allow_none=True, metadata={
        "description": "why it leads to dest, when a condition on the PPA's fields chooses (when:)"})
    sign_off = fields.Nested(SignOffProgressSchema, allow_none=True, metadata={
        "description": "n-of-m sign-off stage: how many of the required so far, and who is still awaited"})


class ActionsSchema(Reply):
    """``GET .../actions``."""

    ppa_id = fields.Integer()
    approval_status = fields.String()
    version = fields.Integer()
    actions = fields.List(fields.Nested(ActionSchema))
    escalation = fields.Nested(EscalationSchema, allow_none=True, metadata={
        "description": "when the current stage escalates (null: it does not)"})


class SimulateActionsSchema(Schema):
    """``POST .../actions/simulate``."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=150))


class MoveRequestSchema(Schema):
    """``POST .../actions/move``: an administrator's escape hatch."""

    stage = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "a stage of the PPA's rule set (its pinned set; a draft's, the active set)"})
    comment = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT), metadata={
        "description": "why the PPA is moved outside its workflow (kept in its history)"})


class SimulatedActionsSchema(ActionsSchema):
    """``POST .../actions/simulate``: the ``/actions`` that user would read."""

    username = fields.String()
    visible = fields.Boolean(metadata={"description": "false: the user may not see the PPA (no actions)"})


def signed_in_words(step) -> str:
    """A history step's signature in words: ``signed by ana as planning_officer``,
    ``signed by ben for ana (delegation)``, ``... for MPW (sign-off)``, ``by the system``."""
    actor = step.actor.username if step.actor is not None else "?"
    if step.role == "system":
        return "by the system (automatic)"
    words = f"signed by {actor}"
    if step.delegated_by is not None:
        words += f" for {step.delegated_by.username} (delegation)"
    else:
        words += f" as {step.role}"
    if getattr(step, "signed_for", None):
        words += f", sign-off for {step.signed_for}"
    return words


class HistoryEntrySchema(Reply):
    """One approval transition."""

    id = fields.Integer()
    trigger = fields.String()
    from_stage = fields.String()
    to_stage = fields.String()
    actor_id = fields.Integer()
    actor = fields.String(attribute="actor.username")
    role = fields.String()
    delegated_by = fields.String(attribute="delegated_by.username", allow_none=True, metadata={
        "description": "the delegator, when the step was signed under a delegation of their role"})
    signed_for = fields.String(allow_none=True, metadata={
        "description": "in an n-of-m sign-off stage: the agency or role this sign-off counts for"})
    signed = fields.Function(lambda h: signed_in_words(h), metadata={
        "type": "string", "description": "who signed, in words: 'signed by X for Y (delegation)'"})
    comment = fields.String(allow_none=True)
    created_at = fields.DateTime()
    rules_hash = fields.String()


class UserSchema(Reply):
    """The caller (``GET /api/me``)."""

    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    organization = fields.String(attribute="organization.code", allow_none=True)
    roles = fields.Function(lambda user: sorted(user.roles), metadata={"type": "array", "items": {"type": "string"}})


# -- execution tracking (docs/design.md §4, §5) ----------------------------------------

class EnableTrackingSchema(Schema):
    """``POST .../enable_workitem_tracking/``."""

    structure_template = fields.String(validate=validate.Length(min=1, max=50),
                                       metadata={"description": "program, activity, minimal, or any template of "
                                                                "rules/default/wbs_templates.yaml; default: the PPA's"})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "true: generate, check and answer exactly as for real (200), and write nothing; the ids "
                       "in the answer are provisional (a preview)"})


class DistributeBudgetSchema(Schema):
    """``POST .../distribute_budget/``."""

    method = fields.String(validate=validate.OneOf(DISTRIBUTION_POLICIES),
                           metadata={"description": "default: the PPA's budget_distribution_policy"})
    parent_id = RowId(metadata={"description": "whose children to split over (default the root)"})
    weights = WeightMap(metadata={"description": "work item id -> weight, summing to 1"})
    allocations = fields.Dict(keys=RowId(strict=False), values=Money(),
                              metadata={"description": "work item id -> amount (manual)"})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "true: compute, check and answer exactly as for real, and write nothing (a preview)"})


class TreeNodeSchema(Reply):
    """One node of the budget tree; money as strings, ``actual_expenditure``
    rolled up."""

    work_item_id = fields.Integer()
    title = fields.String()
    work_type = fields.String(**_one_of(WORK_TYPES))
    level = fields.Integer()
    status = fields.String()
    progress = fields.Integer()
    allocated_budget = Money(allow_none=True)
    actual_expenditure = Money()
    variance = Money(allow_negative=True)
    variance_pct = fields.Float(allow_none=True)
    budget_status = fields.String(**_one_of(BUDGET_STATUSES))
    children = fields.List(fields.Nested(lambda: TreeNodeSchema()))
    earned_value = fields.Nested(lambda: TreeEarnedValueSchema(), allow_none=True, metadata={
        ONLY_WITH: "include=earned_value",
        "description": "only with include=earned_value: the node's figures of GET .../earned_value as of today "
                       "(Asia/Manila); null for a node the baseline does not hold, and for every node of an "
                       "enacted PPA without a stored baseline or whose baseline cannot be measured"})
    critical = fields.Boolean(metadata={
        ONLY_WITH: "include=critical_path",
        "description": "only with include=critical_path: the item is critical in GET .../critical_path"})
    total_float_days = fields.Integer(allow_none=True, metadata={
        ONLY_WITH: "include=critical_path",
        "description": "only with include=critical_path: its total float in calendar days, as GET "
                       ".../critical_path computes it; null when the schedule does not hold it (not a dated "
                       "leaf nor in a dependency)"})


class IncludeList(fields.List):
    """A query list of names given as repeated parameters, comma-separated,
    or both (``?include=a,b`` = ``?include=a&include=b``), each kept once in
    the order given; an empty name is no name (``?include=`` as a form with
    nothing chosen sends it = no ``include``; ``?include=a,`` = ``a``); an
    unknown name is refused under the field, named with the known ones (the
    item field's ``OneOf``, which the OpenAPI document shows as the items'
    enum)."""

    def _deserialize(self, value, attr, data, **kwargs) -> list:
        values = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(item, str) for item in values):
            raise ValidationError("names, repeated or comma-separated")
        parts = [part for item in values for part in map(str.strip, item.split(",")) if part]
        known = [v.choices for v in self.inner.validators if isinstance(v, validate.OneOf)]
        unknown = [part for part in parts if known and part not in known[0]]
        if unknown:
            raise ValidationError(f"unknown {', '.join(repr(part) for part in dict.fromkeys(unknown))}; "
                                  f"known: {', '.join(known[0])}")
        return list(dict.fromkeys(super()._deserialize(parts, attr, data, **kwargs)))


class BudgetTreeQuerySchema(Schema):
    """``GET .../budget_allocation_tree/`` query."""

    include = IncludeList(fields.String(validate=validate.OneOf(TREE_FIGURES)), load_default=list, metadata={
        "description": "per-node figures to add, as of today (Asia/Manila): earned_value (pv, ev, ac, spi, cpi "
                       "of GET .../earned_value), critical_path (critical, total_float_days of GET "
                       ".../critical_path); repeated or comma-separated. Without it the tree is as before"})


class BudgetTreeSchema(Reply):
    """``GET .../budget_allocation_tree/``."""

    ppa_id = fields.Integer()
    ppa_budget = Money()
    allocated_to_workitems = Money()
    unallocated = Money(allow_negative=True)
    allocation_percentage = fields.Float()
    total_expended = Money()
    expenditure_source = fields.String(**_one_of(("disbursements", "reported")), metadata={
        "description": "disbursements: the PPA is in the money chain and the figure is what its disbursements (DV) "
                       "paid; reported: as the MOA reports it (reported, not disbursed)"})
    opening_balance = Money(allow_none=True, metadata={
        "description": "in the money chain: the expenditure the work items reported before the PPA entered it "
                       "(included in total_expended); else null"})
    breakdown = fields.List(fields.Nested(TreeNodeSchema))


class AllocationChangeSchema(Reply):
    """One work item whose allocation a distribution changes."""

    work_item_id = fields.Integer()
    title = fields.String()
    allocated_before = Money(allow_none=True)
    allocated_after = Money(allow_none=True)


class DistributionSchema(BudgetTreeSchema):
    """``POST .../distribute_budget/``: the budget tree after the
    distribution, whether it was a dry run, and what changed."""

    dry_run = fields.Boolean(metadata={"description": "true: nothing was written; the tree is what it would be"})
    changes = fields.List(fields.Nested(AllocationChangeSchema), metadata={
        "description": "every work item whose allocation changes (named, or rescaled below one), in tree order"})


class SyncResultSchema(Reply):
    """``POST .../sync_from_workitem/``."""

    progress = fields.Integer()
    status = fields.String(**_one_of(PPA_STATUSES))
    message = fields.String()


class WorkItemSchema(Reply):
    """A work item with its rollups: ``progress`` and ``expended`` are rolled
    up from the children, ``own_progress`` and ``actual_expenditure`` are the
    item's own."""

    id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    ppa_id = fields.Integer()
    work_type = fields.String(**_one_of(WORK_TYPES))
    title = fields.String()
    description = fields.String()
    position = fields.Integer()
    level = fields.Integer()
    status = fields.String()
    priority = fields.String(**_one_of(PRIORITIES))
    progress = fields.Integer()
    own_progress = fields.Integer()
    start_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    allocated_budget = Money(allow_none=True)
    actual_expenditure = Money(metadata={"description": "the item's own: in the money chain, opening_balance + "
                                                        "the disbursements charged to it"})
    expenditure_source = fields.String(**_one_of(("disbursements", "reported")), metadata={
        "description": "disbursements: the PPA is in the money chain and the figure is what its disbursements (DV) "
                       "paid; reported: as the MOA reports it (reported, not disbursed)"})
    opening_balance = Money(allow_none=True, metadata={
        "description": "in the money chain: the expenditure reported before the PPA entered it; else null"})
    expended = Money()
    variance = Money(allow_negative=True)
    variance_pct = Percent(allow_none=True)
    budget_status = fields.String(**_one_of(BUDGET_STATUSES))
    budget_notes = fields.String()
    budget_locked = fields.Boolean()
    children_count = fields.Integer()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class EnableTrackingResultSchema(Reply):
    """``201`` of ``enable_workitem_tracking/`` (``200`` of its dry run)."""

    success = fields.Boolean()
    dry_run = fields.Boolean(metadata={"description": "true: nothing was written; the ids are provisional"})
    execution_project = fields.Nested(WorkItemSchema)
    budget_allocation_tree = fields.Nested(BudgetTreeSchema, metadata={
        "description": "the generated WBS with its allocations, as GET .../budget_allocation_tree/ answers it"})
    message = fields.String()


NEW_ITEM_TYPES = tuple(t for t in WORK_TYPES if t != "project")


class WorkItemCreateSchema(Schema):
    """``POST /api/work-items``: a child of an existing work item."""

    parent_id = RowId(required=True)
    work_type = fields.String(required=True, validate=validate.OneOf(NEW_ITEM_TYPES))
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    description = _text(MAX_TEXT)
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    start_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    allocated_budget = Money()
    position = fields.Integer(strict=True, validate=validate.Range(0, 100_000))


class WorkItemPatchSchema(Schema):
    """``PATCH /api/work-items/{id}``."""

    title = fields.String(validate=validate.Length(min=1, max=255))
    description = _text(MAX_TEXT)
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    start_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    budget_notes = _text(MAX_TEXT)
    progress = fields.Integer(strict=True, validate=validate.Range(0, 100))
    actual_expenditure = Money()
    allocated_budget = Money()


class ExpenditureSchema(Schema):
    """``POST /api/work-items/{id}/expenditures``: add spending (negative corrects)."""

    amount = Money(required=True, allow_negative=True)


class WorkItemTransitionSchema(Schema):
    """``POST /api/work-items/{id}/transitions``."""

    trigger = fields.String(required=True, validate=validate.Length(min=1, max=40),
                            metadata={"description": "start, flag_at_risk, clear_risk, block, unblock, complete, "
                                                     "reopen, cancel"})


# -- background jobs, alerts, notifications (docs/design.md §7) ------------------------------------

class JobSchema(Reply):
    """A background job and how it went."""

    id = fields.String()
    kind = fields.String()
    arguments = fields.Function(lambda job: json.loads(job.arguments), metadata={"type": "object"})
    status = fields.String(**_one_of(JOB_STATUSES))
    runner = fields.String(allow_none=True, **_one_of(("rq", "inline")),
                           metadata={"description": "rq (a worker) or inline (no Redis); null until dispatched"})
    result = fields.Function(lambda job: json.loads(job.result) if job.result else None,
                             metadata={"type": "object", "nullable": True})
    error = fields.String(allow_none=True)
    note = fields.String(allow_none=True, metadata={"description": "why it ran inline, when Redis was unreachable, "
                                                                   "or when and why it was dispatched again"})
    attempts = fields.Integer()
    enqueued_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)


class AlertSchema(Reply):
    """An alert; ``status`` is open until the condition clears."""

    id = fields.Integer()
    type = fields.String(**_one_of(ALERT_TYPES))
    severity = fields.String(**_one_of(SEVERITIES))
    status = fields.Function(lambda alert: "open" if alert.resolved_at is None else "resolved",
                             metadata={"type": "string", "enum": ["open", "resolved"],
                                       "description": "open until the condition clears"})
    ppa_id = fields.Integer()
    work_item_id = fields.Integer(allow_none=True)
    moa = fields.String(attribute="organization.code")
    message = fields.String()
    details = fields.Function(lambda alert: json.loads(alert.details), metadata={"type": "object"})
    opened_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    acknowledged_by = fields.String(attribute="acknowledged_by.username", allow_none=True)
    rules_hash = fields.String(allow_none=True, metadata={
        "description": "the rule set whose variance bands and severities opened the alert (GET /api/rules/{hash})"})


class AlertFilterSchema(Schema):
    """Filters of ``GET /api/alerts``."""

    type = fields.String(validate=validate.OneOf(ALERT_TYPES))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    status = fields.String(validate=validate.OneOf(("open", "resolved")))
    ppa = RowId(strict=False, metadata={"description": "PPA id"})
    moa = _organization_code(metadata={"description": "organization code"})


class NotificationSchema(Reply):
    """A message in the caller's outbox."""

    id = fields.Integer()
    kind = fields.String()
    ppa_id = fields.Integer(allow_none=True)
    stage = fields.String(allow_none=True)
    day = fields.Date()
    subject = fields.String()
    body = fields.String()
    status = fields.String(**_one_of(("pending", "sent", "failed")),
                           metadata={"description": "pending (kept in the outbox), sent or failed"})
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)


# -- budget preparation and execution (seed 003) ------------------------------------------------

def _reference(max_length: int = 40) -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=max_length))


class ProposalCreateSchema(Schema):
    organization = _organization_code(required=True, metadata={"description": "organization code, e.g. MSSD"})
    fiscal_year = fields.Integer(required=True, strict=True, validate=FISCAL_YEAR)
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    notes = _text(MAX_TEXT)


class ProposalSchema(Reply):
    id = fields.Integer()
    organization = fields.String(attribute="organization.code")
    fiscal_year = fields.Integer()
    title = fields.String()
    status = fields.String(**_one_of(PROPOSAL_STATUSES))
    notes = fields.String()
    created_at = fields.DateTime()
    version = fields.Integer()


class ProposalActionsSchema(Reply):
    """``GET /api/budget-proposals/{id}/actions``."""

    proposal_id = fields.Integer()
    status = fields.String(**_one_of(PROPOSAL_STATUSES))
    version = fields.Integer()
    actions = fields.List(fields.Nested(ActionSchema))


def _class_amount(name: str) -> Money:
    return Money(metadata={"description": f"PHP appropriated for {name}"})


class _ClassAmounts(Schema):
    """Amounts per allotment class (docs/design.md §12): give these, or
    ``approved_amount`` alone to put all of it in the PPA's class."""

    approved_amount = Money(metadata={"description": "the sum of the class amounts; alone, all of it goes to the "
                                                     "PPA's appropriation class"})
    ps = _class_amount("Personnel Services")
    mooe = _class_amount("Maintenance and Other Operating Expenses")
    finex = _class_amount("Financial Expenses")
    co = _class_amount("Capital Outlays")


class ProgramBudgetCreateSchema(_ClassAmounts):
    proposal_id = RowId(required=True)
    ppa_id = RowId(required=True)
    fund_cluster = fields.String(load_default="01", validate=validate.Regexp(r"^[0-9]{2}$", error="two digits, e.g. 01"),
                                 metadata={"description": "fund cluster code (01 Regular Agency Fund ... "
                                                          "07 Trust Receipts; COA-DBM JC 2013-1)"})
    pap_code = _text(40, load_default="", metadata={"description": "PAP/UACS code of the program, activity or project"})
    enactment_act = _text(80, load_default="", metadata={"description": "the enacting act, e.g. BAA No. 38"})
    enactment_date = fields.Date(load_default=None, allow_none=True)
    supplemental = fields.Boolean(load_default=False)


class ProgramBudgetPatchSchema(_ClassAmounts):
    pass


class ProgramBudgetSchema(Reply):
    """A program budget (the PPA's appropriation) and what has been done with it (PHP)."""

    id = fields.Integer()
    proposal_id = fields.Integer()
    ppa_id = fields.Integer()
    approved_amount = Money()
    ps = Money()
    mooe = Money()
    finex = Money()
    co = Money()
    fund_cluster = fields.String()
    pap_code = fields.String()
    enactment_act = fields.String()
    enactment_date = fields.Date(allow_none=True)
    supplemental = fields.Boolean()
    appropriation = fields.Boolean(metadata={
        "description": "true once it counts as an appropriation: its proposal and its PPA are enacted"})
    not_appropriated_reason = fields.String(allow_none=True)
    adjustments = Money(allow_negative=True, metadata={
        "description": "the sum of its appropriation adjustments (augmentations, modifications, transfers)"})
    adjusted_amount = Money(metadata={"description": "approved amount plus adjustments: what allotments draw on"})
    adjusted_ps = Money()
    adjusted_mooe = Money()
    adjusted_finex = Money()
    adjusted_co = Money()
    allotted = Money()
    unallotted = Money()
    obligated = Money()
    unobligated = Money()
    disbursed = Money()
    unpaid = Money()
    version = fields.Integer()


class JustificationCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    narrative = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))


class JustificationSchema(Reply):
    id = fields.Integer()
    program_budget_id = fields.Integer()
    title = fields.String()
    narrative = fields.String()
    created_at = fields.DateTime()


class LineItemCreateSchema(Schema):
    uacs_code = fields.String(required=True, validate=validate.Regexp(
        rf"^{UACS_CODE.pattern}$", error="must be a UACS object code: 8 digits, a dash, 2 digits (50202010-01)"))
    allotment_class = fields.String(validate=validate.OneOf(ALLOTMENT_CLASSES), metadata={
        "description": "the line's allotment class; its code must be of it (default: the code's class)"})
    description = fields.String(required=True, validate=validate.Length(min=1, max=255))
    amount = Money(required=True, positive=True)


class LineItemSchema(Reply):
    id = fields.Integer()
    program_budget_id = fields.Integer()
    uacs_code = fields.String()
    allotment_class = fields.String(**_one_of(ALLOTMENT_CLASSES))
    description = fields.String()
    amount = Money()


class AllotmentCreateSchema(Schema):
    program_budget_id = RowId(required=True)
    quarter = fields.Integer(strict=True, validate=validate.Range(1, 4), metadata={
        "description": "optional and deprecated: the quarter comes from release_date (year included); when "
                       "sent it must agree, else 422", "deprecated": True})
    release_date = fields.Date(required=True, metadata={
        "description": "the SARO/GARO release date; the allotment's quarter is the quarter of this date"})
    allotment_class = fields.String(validate=validate.OneOf(ALLOTMENT_CLASSES), metadata={
        "description": "PS, MOOE, FinEx or CO (lower case); by default the PPA's appropriation_class"})
    validity_category = fields.String(validate=validate.OneOf(VALIDITY_CATEGORIES), metadata={
        "description": "the validity rule of rules/default/validity.yaml that governs the allotment and what "
                       "draws on it; one of its class's; by default mooe_operations for MOOE, co_other for CO"})
    saro_number = _reference()
    amount = Money(required=True, positive=True)


class AllotmentSchema(Reply):
    id = fields.Integer()
    program_budget_id = fields.Integer()
    quarter = fields.Integer(metadata={"description": "the quarter of release_date (1-4), derived"})
    release_date = fields.Date()
    allotment_class = fields.String(**_one_of(ALLOTMENT_CLASSES))
    validity_category = fields.String(**_one_of(VALIDITY_CATEGORIES))
    saro_number = fields.String()
    amount = Money(metadata={"description": "as released; never changes (corrections are adjustments)"})
    adjusted_amount = Money(metadata={"description": "the amount plus its adjustments: what obligations draw on"})
    obligated = Money()
    available = Money()
    status = fields.String(**_one_of(ALLOTMENT_STATUSES))
    cancelled_at = fields.DateTime(allow_none=True)
    cancelled_on = fields.Date(allow_none=True, metadata={"description": "the cancellation's business date"})
    cancel_reason = fields.String(allow_none=True)
    version = fields.Integer()


class ObligationCreateSchema(Schema):
    allotment_id = RowId(required=True)
    payee = fields.String(required=True, validate=validate.Length(min=1, max=255))
    ors_number = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "as GAM Appendix 11 gives it: allotment class-funding source code-year-month-serial, "
                       "e.g. 02-01-2026-03-00001 (class of the allotment, fund cluster of the program budget, "
                       "year and month of the ORS date); leave it out to get the next of the fund cluster's "
                       "series for the year"})
    particulars = _text(MAX_TEXT)
    obligation_date = fields.Date(required=True)
    amount = Money(required=True, positive=True)
    work_item_id = RowId(allow_none=True, metadata={
        "description": "the work item of the PPA's WBS it is charged to (default: the PPA as a whole); its "
                       "disbursements are that item's actual expenditure"})


class ObligationSchema(Reply):
    id = fields.Integer()
    allotment_id = fields.Integer()
    work_item_id = fields.Integer(allow_none=True, metadata={"description": "the work item it is charged to"})
    payee = fields.String()
    ors_number = fields.String()
    particulars = fields.String()
    obligation_date = fields.Date()
    amount = Money(metadata={"description": "as obligated on the ORS; never changes (corrections are NORSA)"})
    adjusted_amount = Money(metadata={"description": "the amount plus its NORSA adjustments: what DVs draw on"})
    disbursed = Money()
    balance = Money()
    accepted = Money(metadata={"description": "deliveries accepted against it"})
    due_and_demandable = Money(metadata={"description": "unpaid for deliveries accepted (FAR No. 1 column 23)"})
    not_yet_due_and_demandable = Money(metadata={
        "description": "unpaid and not yet delivered and accepted (FAR No. 1 column 24)"})
    status = fields.String(**_one_of(OBLIGATION_STATUSES))
    cancelled_at = fields.DateTime(allow_none=True)
    cancelled_on = fields.Date(allow_none=True, metadata={"description": "the cancellation's business date"})
    cancel_reason = fields.String(allow_none=True)
    version = fields.Integer()


class DeliveryCreateSchema(Schema):
    """``POST /api/obligations/{id}/deliveries``: a delivery accepted."""

    amount = Money(required=True, positive=True)
    accepted_on = fields.Date(required=True)
    reference = fields.String(load_default="", validate=validate.Length(max=100), metadata={
        "description": "e.g. the Inspection and Acceptance Report number"})


class DeliverySchema(Reply):
    id = fields.Integer()
    obligation_id = fields.Integer()
    amount = Money()
    accepted_on = fields.Date()
    reference = fields.String()
    created_at = fields.DateTime()


class DisbursementCreateSchema(Schema):
    obligation_id = RowId(required=True)
    dv_number = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "as GAM Appendix 32 gives it: year-month-serial, e.g. 2026-04-0001 (year and month of "
                       "the DV date); leave it out to get the next of the year's series"})
    payment_method = fields.String(required=True, validate=validate.OneOf(
        PAYMENT_METHODS, error="is not a mode of payment; use one of {choices} (MDS check, commercial check, "
                               "ADA, others: GAM Appendix 32)"), metadata={"description": "the mode of payment"})
    disbursement_date = fields.Date(required=True)
    amount = Money(required=True, positive=True)


class DisbursementSchema(Reply):
    id = fields.Integer()
    obligation_id = fields.Integer()
    dv_number = fields.String()
    fund_cluster = fields.String(metadata={"description": "the fund cluster the DV is charged to: its program "
                                                          "budget's (rules/default/fund_clusters.yaml)"})
    payment_method = fields.String(**_one_of(PAYMENT_METHODS))
    disbursement_date = fields.Date()
    amount = Money()
    status = fields.String(**_one_of(DISBURSEMENT_STATUSES))
    check_ada_number = fields.String(allow_none=True, metadata={"description": "Box E: the check or ADA number"})
    jev_number = fields.String(allow_none=True, metadata={"description": "Box E: the JEV number"})
    voided_at = fields.DateTime(allow_none=True)
    voided_on = fields.Date(allow_none=True, metadata={"description": "the void's business date"})
    void_reason = fields.String(allow_none=True)
    version = fields.Integer()


class DocumentActionsSchema(Reply):
    """``GET /api/obligations/{id}/actions``, ``GET /api/disbursements/{id}/actions``:
    every box of the ORS or DV workflow, open to you now or why not."""

    id = fields.Integer()
    status = fields.String()
    version = fields.Integer()
    actions = fields.List(fields.Nested(ActionSchema))


class DisbursementTransitionSchema(TransitionRequestSchema):
    """``POST /api/disbursements/{id}/transitions``: with Box E's fields for ``pay``."""

    check_ada_number = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "pay (Box E): the check or ADA number"})
    check_ada_date = fields.Date(metadata={
        "description": "pay (Box E): the check or ADA issue date; it becomes the DV's disbursement date"})
    jev_number = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "pay (Box E): the journal entry voucher number"})


class CancelSchema(Schema):
    """A cancellation: why, and its business date (its reversal posts in that date's quarter)."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    cancelled_on = fields.Date(metadata={"description": "default today in Asia/Manila; never before the "
                                                        "document's own date"})


class VoidSchema(Schema):
    """A void of a DV: why, and its business date (its reversal posts in that date's quarter)."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    voided_on = fields.Date(metadata={"description": "default today in Asia/Manila; never before the DV's date"})


class _AdjustmentCreate(Schema):
    adjustment_date = fields.Date(required=True, metadata={"description": "it posts in this date's quarter"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    legal_basis = fields.String(required=True, validate=validate.Length(min=1, max=255), metadata={
        "description": "the issuance behind it, e.g. a DBM letter or the BAA provision"})


class AllotmentAdjustmentCreateSchema(_AdjustmentCreate):
    """A reduction, withdrawal or augmentation of an allotment."""

    kind = fields.String(required=True, validate=validate.OneOf(ALLOTMENT_ADJUSTMENT_SIGNS))
    amount = Money(required=True, positive=True, metadata={"description": "PHP, positive: the kind gives the sign"})


class ObligationAdjustmentCreateSchema(_AdjustmentCreate):
    """A NORSA: a signed amount added to the obligation."""

    amount = Money(required=True, allow_negative=True, nonzero=True, metadata={
        "description": "PHP, signed, never zero: \"-1500.00\" lowers the obligation"})


class _Adjustment(Reply):
    id = fields.Integer()
    amount = Money(allow_negative=True, metadata={"description": "PHP, signed: what it adds to the active amount"})
    adjustment_date = fields.Date()
    reason = fields.String()
    legal_basis = fields.String()
    created_at = fields.DateTime()


class AllotmentAdjustmentSchema(_Adjustment):
    allotment_id = fields.Integer()
    kind = fields.String(**_one_of(ALLOTMENT_ADJUSTMENT_KINDS), metadata={
        "description": "reduction, withdrawal, augmentation; realignment (one of a pair); sub_allotment (the "
                       "giver's transfer to)"})
    pair_key = fields.String(allow_none=True, metadata={"description": "shared by the two rows of a realignment"})


class AppropriationAdjustmentCreateSchema(_AdjustmentCreate):
    """An augmentation, modification or transfer of an appropriation (docs/design.md §12)."""

    kind = fields.String(required=True, validate=validate.OneOf(APPROPRIATION_ADJUSTMENT_KINDS))
    amount = Money(required=True, positive=True, metadata={"description": "PHP, positive: the kind says where it goes"})
    allotment_class = fields.String(required=True, validate=validate.OneOf(ALLOTMENT_CLASSES), metadata={
        "description": "the class augmented, or the class the amount is taken from"})
    to_allotment_class = fields.String(validate=validate.OneOf(ALLOTMENT_CLASSES), metadata={
        "description": "a modification's (required) or a transfer's (default: allotment_class) receiving class"})
    to_program_budget_id = RowId(metadata={
        "description": "a transfer's receiving program budget: same MOA and fiscal year"})


class AppropriationAdjustmentSchema(_Adjustment):
    program_budget_id = fields.Integer()
    kind = fields.String(**_one_of(APPROPRIATION_ADJUSTMENT_KINDS))
    allotment_class = fields.String(**_one_of(ALLOTMENT_CLASSES))
    pair_key = fields.String(allow_none=True, metadata={
        "description": "shared by the two rows of a modification or transfer, which sum to zero"})


class AllotmentRealignmentCreateSchema(_AdjustmentCreate):
    """A realignment: an amount moved from this allotment to another of the same program budget and MOA."""

    to_allotment_id = RowId(required=True)
    amount = Money(required=True, positive=True)


class SubAllotmentCreateSchema(Schema):
    """A sub-allotment of part of this allotment to another MOA or operating unit."""

    recipient = fields.String(required=True, validate=validate.Length(min=1, max=20), metadata={
        "description": "the receiving organization's code; never the allotment's own"})
    amount = Money(required=True, positive=True, metadata={"description": "never above the unused allotment"})
    sub_allotment_date = fields.Date(required=True, metadata={
        "description": "posts in this date's quarter on both sides; the receiver's allotment is released on it"})
    saro_number = _reference()
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    legal_basis = fields.String(required=True, validate=validate.Length(min=1, max=255))


class SubAllotmentSchema(Reply):
    id = fields.Integer()
    allotment_id = fields.Integer(metadata={"description": "the giver's allotment (its transfer to)"})
    adjustment_id = fields.Integer(metadata={"description": "the giver's allotment adjustment (kind sub_allotment)"})
    recipient_allotment_id = fields.Integer(metadata={
        "description": "the receiver's allotment (its transfer from), which it obligates against"})
    organization = fields.String(attribute="organization.code")
    recipient = fields.String(attribute="recipient_organization.code")
    saro_number = fields.String(attribute="allotment.saro_number")
    recipient_saro_number = fields.String(attribute="recipient_allotment.saro_number")
    amount = Money()
    sub_allotment_date = fields.Date()
    reason = fields.String()
    legal_basis = fields.String()
    created_at = fields.DateTime()


class ObligationAdjustmentSchema(_Adjustment):
    obligation_id = fields.Integer()


class ProposalFilterSchema(Schema):
    fiscal_year = fields.Integer(validate=FISCAL_YEAR)
    moa = _organization_code()


# -- financial plan: BED No. 1 and No. 3 (docs/design.md §12 "Financial plan (BED No. 1 and No. 3)") --------

def _planned(noun: str, document: str) -> Money:
    return Money(load_default=Decimal("0.00"), metadata={
        "description": f"PHP of {noun} planned in the month ({document}); at least 0, default 0"})


class PlanLineSchema(Schema):
    """One month and allotment class of the plan, as sent and as read back."""

    month = fields.Integer(required=True, strict=True, validate=validate.Range(1, 12),
                           metadata={"description": "1 (January) to 12 (December) of the PPA's fiscal year"})
    allotment_class = fields.String(required=True, validate=validate.OneOf(ALLOTMENT_CLASSES))
    obligations_planned = _planned("obligations", "BED No. 1, the financial plan")
    disbursements_planned = _planned("disbursements", "BED No. 3, the monthly disbursement program")


class PlanReplaceSchema(Schema):
    """``PUT /api/monitoring-entries/{id}/execution-plan``: the whole plan, replacing the stored one."""

    lines = fields.List(fields.Nested(PlanLineSchema), required=True, validate=validate.Length(max=48), metadata={
        "description": "at most one line per month and class; a line with both amounts zero is not stored and "
                       "a month and class not sent has none"})


class PlanLineReplySchema(Reply):
    month = fields.Integer()
    allotment_class = fields.String(**_one_of(ALLOTMENT_CLASSES))
    obligations_planned = Money()
    disbursements_planned = Money()


class ClassAmountsSchema(Reply):
    """An amount per allotment class (PHP)."""

    ps = Money()
    mooe = Money()
    finex = Money()
    co = Money()


class PlanMonthSchema(Reply):
    month = fields.Integer()
    obligations = fields.Nested(ClassAmountsSchema, metadata={"description": "BED No. 1: per class"})
    disbursements = fields.Nested(ClassAmountsSchema, metadata={"description": "BED No. 3: per class"})
    obligations_total = Money()
    disbursements_total = Money()
    cumulative_obligations = Money(metadata={"description": "January through this month"})
    cumulative_disbursements = Money(metadata={"description": "January through this month"})


class ExecutionPlanSchema(Reply):
    """A PPA's BED No. 1 (obligation program) and BED No. 3 (disbursement program) by month and class."""

    ppa_id = fields.Integer(attribute="ppa.id")
    fiscal_year = fields.Integer()
    appropriated = fields.Boolean(metadata={"description": "a plan may be entered: the PPA has an appropriation"})
    appropriation = fields.Nested(ClassAmountsSchema, metadata={
        "description": "the PPA's appropriation per class (program budgets that count, plus adjustments): a "
                       "class's planned obligations, and disbursements, never total above it"})
    months = fields.List(fields.Nested(PlanMonthSchema), metadata={"description": "January to December"})
    obligations_by_class = fields.Nested(ClassAmountsSchema)
    disbursements_by_class = fields.Nested(ClassAmountsSchema)
    obligations_total = Money()
    disbursements_total = Money()
    lines = fields.List(fields.Nested(PlanLineReplySchema), metadata={
        "description": "the stored lines, by month then class: what a PUT sends back"})


class VarianceQuerySchema(Schema):
    as_of = fields.Date(metadata={"description": "count postings dated on or before this day (default today, "
                                                 "Asia/Manila)"})


#: A rate: a decimal fraction as a string (``"0.8500"`` is 85 %).
def _rate(description: str) -> fields.String:
    return fields.String(allow_none=True, metadata={
        "pattern": r"^-?[0-9]+\.[0-9]{4}$", "example": "0.8500",
        "description": f"{description}: cumulative actual / cumulative planned, a decimal fraction; null when "
                       "nothing is planned through the month or the month has not come"})


def _variance(description: str) -> Money:
    return Money(allow_negative=True, allow_none=True, metadata={
        "description": f"{description}: actual - planned (negative: behind the plan); null when the month has "
                       "not come"})


class VarianceMonthSchema(Reply):
    month = fields.Integer()
    reached = fields.Boolean(metadata={"description": "the month began on or before as_of"})
    planned_obligations = Money()
    actual_obligations = Money(allow_negative=True, metadata={
        "description": "ORS posted in the month, with NORSA adjustments and cancellations dated in it"})
    obligations_variance = _variance("the month's obligations")
    cumulative_planned_obligations = Money()
    cumulative_actual_obligations = Money(allow_negative=True)
    cumulative_obligations_variance = _variance("obligations, January through the month")
    obligations_rate = _rate("obligations")
    planned_disbursements = Money()
    actual_disbursements = Money(allow_negative=True, metadata={
        "description": "DV paid in the month, less voids dated in it"})
    disbursements_variance = _variance("the month's disbursements")
    cumulative_planned_disbursements = Money()
    cumulative_actual_disbursements = Money(allow_negative=True)
    cumulative_disbursements_variance = _variance("disbursements, January through the month")
    disbursements_rate = _rate("disbursements")


class PlanVsActualSchema(Reply):
    """A PPA's plan (BED No. 1 and No. 3) against its posted ORS and DV, by month of its fiscal year."""

    ppa_id = fields.Integer(attribute="ppa.id")
    fiscal_year = fields.Integer()
    as_of = fields.Date()
    months = fields.List(fields.Nested(VarianceMonthSchema), metadata={"description": "January to December"})


# -- closing a period (docs/design.md §12 "Closing a period") -------------------------------------

class PeriodClosureCreateSchema(Schema):
    """``POST /api/period-closures``: sign the closing of a MOA's quarter."""

    organization = _organization_code(required=True, metadata={"description": "organization code, e.g. MSSD"})
    fiscal_year = fields.Integer(required=True, strict=True, validate=FISCAL_YEAR,
                                 metadata={"description": "the year of the quarter's dates"})
    quarter = fields.Integer(required=True, strict=True, validate=validate.Range(1, 4))


class PeriodReopenSchema(Schema):
    """``POST /api/period-closures/{id}/reopen``: sign its reopening, with a reason."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))


class PeriodClosureFilterSchema(Schema):
    organization = _organization_code()
    fiscal_year = fields.Integer(validate=FISCAL_YEAR)


class PeriodSignatureSchema(Reply):
    action = fields.String(**_one_of(("close", "reopen")))
    role = fields.String(**_one_of(("budget_officer", "chief_accountant")))
    username = fields.String(attribute="user.username")
    superuser = fields.Boolean(metadata={"description": "an administrator signed in this role"})
    reason = fields.String()
    signed_at = fields.DateTime(attribute="created_at")


class PeriodTotalsSchema(Reply):
    """A quarter's figures, PHP: allotted, obligated and disbursed in the
    quarter (net of the adjustments and reversals dated in it), and the
    same cumulative to its last day; a snapshot's totals sum its lines."""

    allotted = Money()
    obligated = Money()
    disbursed = Money()
    cumulative_allotted = Money()
    cumulative_obligated = Money()
    cumulative_disbursed = Money()


class PeriodSnapshotLineSchema(PeriodTotalsSchema):
    """A closed quarter's figures for one program budget (PAP) and allotment class."""

    ppa_id = fields.Integer()
    program_budget_id = fields.Integer()
    pap_code = fields.String()
    allotment_class = fields.String(**_one_of(ALLOTMENT_CLASSES))


class PeriodClosureSchema(Reply):
    """A closure of a MOA's quarter and its signatures."""

    id = fields.Integer()
    organization = fields.String(attribute="organization.code")
    fiscal_year = fields.Integer()
    quarter = fields.Integer()
    status = fields.String(**_one_of(("closing", "closed", "reopening", "reopened")))
    closed_at = fields.DateTime(allow_none=True)
    reopened_at = fields.DateTime(allow_none=True)
    reopen_reason = fields.String()
    signatures = fields.List(fields.Nested(PeriodSignatureSchema))


class PeriodClosureDetailSchema(PeriodClosureSchema):
    """A closure with its snapshot (empty until it closes) and the snapshot's totals."""

    snapshot = fields.List(fields.Nested(PeriodSnapshotLineSchema))
    totals = fields.Nested(PeriodTotalsSchema)


class OpeningBalanceFilterSchema(Schema):
    """``GET /api/opening-balances``: a MOA's fiscal year."""

    organization = _organization_code(required=True, metadata={"description": "organization code, e.g. MSSD"})
    fiscal_year = fields.Integer(required=True, validate=FISCAL_YEAR,
                                 metadata={"description": "the year the balances open (Q4 of the year before "
                                                          "carried them)"})


class OpeningBalanceSchema(Reply):
    """One opening balance: a continuing appropriation (an allotment's
    unobligated balance still valid for obligation) or an unpaid obligation
    (an ORS's amount not yet paid, still valid for payment), PHP, as it
    stood on 31 December of the year before."""

    id = fields.Integer()
    kind = fields.String(**_one_of(("continuing_appropriation", "unpaid_obligation")))
    appropriation_year = fields.Integer(metadata={"description": "the fiscal year of the appropriation"})
    allotment_id = fields.Integer()
    saro_number = fields.String(attribute="allotment.saro_number")
    obligation_id = fields.Integer(allow_none=True)
    ors_number = fields.String(attribute="obligation.ors_number", allow_none=True)
    ppa_id = fields.Integer()
    program_budget_id = fields.Integer()
    pap_code = fields.String()
    allotment_class = fields.String(**_one_of(ALLOTMENT_CLASSES))
    validity_category = fields.String(**_one_of(VALIDITY_CATEGORIES))
    amount = Money(metadata={"description": "as carried: on 31 December of the year before"})
    balance = Money(metadata={"description": "what is left of it now: the allotment's unobligated balance, or "
                                             "the ORS's unpaid balance, after everything posted since"})
    valid_until = fields.Date(allow_none=True, metadata={
        "description": "last day to obligate (continuing appropriation) or pay (unpaid obligation); null: "
                       "until fully expended"})
    legal_basis = fields.String()


class OpeningTotalsSchema(Reply):
    continuing_appropriations = Money()
    unpaid_obligations = Money()


class OpeningBalancesSchema(Reply):
    """A MOA's opening balances of a fiscal year, carried by the close of
    Q4 of the year before (``closure_id``)."""

    organization = fields.String()
    fiscal_year = fields.Integer()
    closure_id = fields.Integer()
    carried_at = fields.DateTime()
    totals = fields.Nested(OpeningTotalsSchema)
    balances = fields.List(fields.Nested(OpeningBalanceSchema))


# -- audit trail and reports -----------------------------------------------------------------------

class AuditFilterSchema(Schema):
    """Filters of ``GET /api/audit`` and ``/api/audit.csv``."""

    entity = fields.String(validate=validate.OneOf(AUDITED_ENTITIES))
    id = RowId(strict=False, metadata={"description": "the entity's id (with entity)"})
    field = fields.String(validate=validate.Length(max=60))
    actor = fields.String(validate=validate.Length(max=80), metadata={"description": "username or job:<kind>"})
    request_id = fields.String(validate=validate.Length(max=64))


class AuditEntrySchema(Reply):
    id = fields.Integer()
    entity = fields.String(**_one_of(AUDITED_ENTITIES))
    entity_id = fields.Integer()
    action = fields.String(**_one_of(("create", "update", "delete")))
    field = fields.String(allow_none=True)
    old_value = fields.String(allow_none=True, metadata={"description": "JSON"})
    new_value = fields.String(allow_none=True, metadata={"description": "JSON"})
    actor = fields.String()
    request_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    rules_hash = fields.String(allow_none=True, metadata={
        "description": "the rule set in force for the request or job that made the change, when it consulted "
                       "the rules (GET /api/rules/{hash} reads it); null otherwise"})


class ReportQuerySchema(Schema):
    """Report parameters."""

    fiscal_year = fields.Integer(required=True, validate=FISCAL_YEAR)
    moa = _organization_code(metadata={"description": "one MOA's rows only"})
    as_of = fields.Date(metadata={"description": "MFBM report: count only what is dated on or before this day "
                                                 "(default: today, Asia/Manila)"})
    quarter = fields.Integer(validate=validate.Range(min=1, max=4), metadata={
        "description": "a statement (FAR No. 1, 1-A, 1-B, 3, 4, RAOD): the quarter ending (1-4; default the last closed quarter, else the current one)"})
    fund_cluster = fields.String(validate=validate.Regexp(r"^[0-9]{2}$", error="two digits, e.g. 01"), metadata={
        "description": "a statement: one fund cluster (default: each fund cluster on its own sheet)"})
    run_as_job = fields.Boolean(load_default=False, data_key="async",
                                metadata={"description": "generate in the background: 202 with the job"})


class MfbmQuerySchema(Schema):
    """``GET /api/reports/mfbm``: the MFBM report's parameters."""

    fiscal_year = fields.Integer(required=True, validate=FISCAL_YEAR)
    moa = _organization_code(metadata={"description": "one MOA's rows only"})
    as_of = fields.Date(metadata={"description": "count only what is dated on or before this day "
                                                 "(default: today, Asia/Manila)"})


class MfbmLineSchema(Reply):
    """One line of the MFBM Budget Execution Report (docs/design.md §8)."""

    kind = fields.String(validate=validate.OneOf(("detail", "moa", "class", "total")), metadata={
        "description": "a PPA's line in one allotment class, a MOA's or a class's subtotal, the grand total"})
    code = fields.String()
    title = fields.String()
    moa = fields.String()
    allotment_class = fields.String()
    appropriation = Money()
    allotments = Money()
    obligations = Money()
    disbursements = Money()
    unreleased = Money(allow_negative=True)
    unobligated = Money(allow_negative=True)
    unpaid = Money(allow_negative=True)
    obligation_rate = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "a fraction"})
    disbursement_rate = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "a fraction"})
    physical_progress = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "a fraction"})
    spi = fields.Decimal(as_string=True, allow_none=True, metadata={
        "description": "the PPA's schedule performance index as of as_of (docs/design.md §15); null without an "
                       "earned value baseline, when PV is zero, and on subtotals"})
    cpi = fields.Decimal(as_string=True, allow_none=True, metadata={
        "description": "the PPA's cost performance index as of as_of; null without a baseline, when AC is zero, "
                       "and on subtotals"})
    remarks = fields.String()


class PipelineRowSchema(Reply):
    code = fields.String()
    title = fields.String()
    moa = fields.String()
    appropriation_class = fields.String()
    proposed = Money()
    stage = fields.String()


class MfbmReportSchema(Reply):
    """The MFBM Budget Execution Report as JSON: the lines in the order the
    workbook prints them, the pipeline, and the footnote on SPI and CPI."""

    fiscal_year = fields.Integer()
    moa = fields.String(allow_none=True)
    organization = fields.String(allow_none=True)
    as_of = fields.Date()
    lines = fields.List(fields.Nested(MfbmLineSchema))
    pipeline = fields.List(fields.Nested(PipelineRowSchema))
    note = fields.String()


class ReportJobSchema(Reply):
    job_id = fields.String()
    status = fields.String(**_one_of(JOB_STATUSES))
    location = fields.String(metadata={"description": "poll here; the file is at /api/reports/files/<job_id>"})


# -- administration: organizations and users (issue 10) ---------------------------------------------------------

_SIGNATORY_META = {"type": "object", "required": ["name", "position"],
                   "properties": {"name": {"type": "string"}, "position": {"type": "string"}}}


def _signatory(organization, role: str) -> dict[str, str]:
    name, position = organization.signatory(role)
    return {"name": name, "position": position}


class SignatorySchema(Schema):
    """Who signs a statement: a name and a position (both, or both empty to clear)."""

    name = fields.String(required=True, validate=validate.Length(max=120), metadata={"description": "e.g. JUANA CRUZ"})
    position = fields.String(required=True, validate=validate.Length(max=120),
                             metadata={"description": "e.g. Budget Officer IV"})


class OrganizationSchema(Reply):
    """A MOA or oversight body."""

    id = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "e.g. MSSD"})
    name = fields.String(required=True)
    uacs_code = fields.String(required=True, allow_none=True,
                              metadata={"description": "12-digit UACS organization code, or null"})
    department = fields.String(required=True, metadata={"description": "FAR No. 1 header: Department"})
    agency = fields.String(required=True, metadata={"description": "FAR No. 1 header: Agency"})
    operating_unit = fields.String(required=True, metadata={"description": "FAR No. 1 header: Operating Unit"})
    budget_officer = fields.Function(lambda o: _signatory(o, "budget_officer"), required=True,
                                     metadata=_SIGNATORY_META | {"description": "certifies correct (Budget Officer)"})
    chief_accountant = fields.Function(lambda o: _signatory(o, "chief_accountant"), required=True,
                                       metadata=_SIGNATORY_META | {"description": "certifies correct (Chief Accountant)"})
    head_of_agency = fields.Function(lambda o: _signatory(o, "head_of_agency"), required=True,
                                     metadata=_SIGNATORY_META | {"description": "approves (Head of Agency)"})
    created_at = fields.DateTime(required=True)


class OrganizationCreateSchema(Schema):
    """``POST /api/organizations``."""

    code = _organization_code(required=True, metadata={"description": "e.g. MSSD; unique in any letter case"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    uacs_code = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[0-9]{12}$", error="a UACS organization code is 12 digits"),
        metadata={"description": "12 digits: department, agency, operating unit"})


class OrganizationPatchSchema(Schema):
    """``PATCH /api/organizations/{id}``: any of these; the FAR No. 1 header
    block and its signatories (docs/design.md §8). Empty text clears a field."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    department = _text(200)
    agency = _text(200)
    operating_unit = _text(200)
    uacs_code = fields.String(allow_none=True, validate=validate.Regexp(
        r"^([0-9]{12})?$", error="a UACS organization code is 12 digits (department 2, agency 3, operating unit 7)"),
        metadata={"description": "12 digits: department, agency, operating unit; null or empty clears"})
    budget_officer = fields.Nested(SignatorySchema, metadata={"description": "certifies correct"})
    chief_accountant = fields.Nested(SignatorySchema, metadata={"description": "certifies correct"})
    head_of_agency = fields.Nested(SignatorySchema, metadata={"description": "approves"})


def _organization_of(user) -> str | None:
    return user.organization.code if user.organization else None


class AccountSchema(Reply):
    """A user as administrators see it; never a password or its hash."""

    id = fields.Integer(required=True)
    username = fields.String(required=True, metadata={"description": "canonical: NFKC, case-folded"})
    full_name = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    organization = fields.Function(_organization_of, required=True,
                                   metadata={"type": "string", "nullable": True, "description": "code, or null"})
    roles = fields.Function(lambda user: sorted(user.roles), required=True,
                            metadata={"type": "array", "items": {"type": "string"}})
    active = fields.Boolean(attribute="is_active", required=True,
                            metadata={"description": "false: deactivated; their tokens do not work"})
    has_password = fields.Boolean(required=True, metadata={"description": "can sign in with a password"})
    created_at = fields.DateTime(required=True)
    version = fields.Integer(required=True)


def _roles(**kwargs) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(min=1, max=20),
                       metadata={"description": "role names of the rule set's roles.yaml; moa_focal needs an organization"},
                       **kwargs)


def _password() -> fields.String:
    return fields.String(load_only=True, validate=validate.Length(min=12, max=1024),
                         metadata={"description": "12 to 1,024 characters; stored as an argon2id hash, never shown"})


class UserCreateSchema(Schema):
    """``POST /api/users``."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=80),
                             metadata={"description": "letters, digits, '.', '-', '_'; stored NFKC case-folded; "
                                                      "a look-alike of an existing name is refused (409)"})
    full_name = _text(200)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    roles = _roles(required=True)
    organization = _organization_code(allow_none=True)
    password = _password()
    active = fields.Boolean(load_default=True)


class UserPatchSchema(Schema):
    """``PATCH /api/users/{id}``: any of these; ``roles`` replaces them all,
    ``organization: null`` takes the user out of theirs."""

    full_name = _text(200)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    roles = _roles()
    organization = _organization_code(allow_none=True)
    password = _password()
    active = fields.Boolean()


class UserFilterSchema(Schema):
    """Filters of ``GET /api/users``."""

    role = fields.String(validate=validate.Length(max=40))
    organization = _organization_code(metadata={"description": "organization code"})
    active = fields.Boolean()
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "in the username or full name (literally)"})


# -- supporting documents (issue 11) ----------------------------------------------------------------------------


class AttachmentUploadSchema(Schema):
    """``multipart/form-data`` upload of one supporting document."""

    file = Upload(required=True, metadata={
        "description": "the document: PDF, PNG, JPEG, GIF or WebP image, Excel .xlsx or Word .docx, told by its "
                       "content; at most ATTACHMENT_MAX_BYTES (default 10 MiB)"})


class AttachmentSchema(Reply):
    """A supporting document of a record (its file: ``GET /api/attachments/{id}``)."""

    id = fields.Integer()
    record_type = fields.String(**_one_of(tuple(RECORD_KINDS)), metadata={"description": "what it is attached to"})
    record_id = fields.Integer()
    file_name = fields.String(metadata={"description": "the original name, sanitised (download name)"})
    media_type = fields.String(**_one_of(tuple(ACCEPTED)), metadata={"description": "as found in the content"})
    size = fields.Integer(metadata={"description": "bytes"})
    sha256 = fields.String(metadata={"description": "hex SHA-256 of the content"})
    uploaded_by = fields.String(attribute="uploaded_by.username")
    created_at = fields.DateTime()


# -- earned value and critical path (docs/design.md "Earned value and critical path") --


def _index(description: str) -> fields.String:
    return fields.String(allow_none=True, metadata={
        "pattern": r"^-?[0-9]+\.[0-9]{4}$", "example": "0.8929",
        "description": f"{description}, 4 decimals rounded half-up; null when its denominator is zero"})


class EarnedValueFiguresSchema(Reply):
    """Earned value figures of one node or of the whole PPA (PHP)."""

    bac = Money(metadata={"description": "budget at completion: the sum of its leaves' baselined budgets"})
    pv = Money(metadata={"description": "planned value as of the day"})
    ev = Money(metadata={"description": "earned value: leaf progress x leaf budget, summed from the leaves"})
    ac = Money(metadata={"description": "actual cost: expenditure (disbursements charged, for a PPA in the chain)"})
    sv = Money(allow_negative=True, metadata={"description": "schedule variance EV - PV"})
    cv = Money(allow_negative=True, metadata={"description": "cost variance EV - AC"})
    spi = _index("schedule performance index EV / PV")
    cpi = _index("cost performance index EV / AC")
    tcpi = _index("to-complete performance index (BAC - EV) / (BAC - AC)")
    eac = Money(allow_none=True, metadata={"description": "estimate at completion (method in budget.yaml)"})
    etc = Money(allow_none=True, allow_negative=True, metadata={"description": "estimate to complete EAC - AC"})
    vac = Money(allow_none=True, allow_negative=True, metadata={"description": "variance at completion BAC - EAC"})


class TreeEarnedValueSchema(Reply):
    """A budget tree node's earned value as of today (``?include=earned_value``)."""

    pv = Money(metadata={"description": "planned value as of today"})
    ev = Money(metadata={"description": "earned value: leaf progress x leaf budget, summed from the leaves"})
    ac = Money(metadata={"description": "actual cost as of today"})
    spi = _index("schedule performance index EV / PV")
    cpi = _index("cost performance index EV / AC")


class EarnedValueNodeSchema(EarnedValueFiguresSchema):
    """One baselined work item's earned value figures."""

    work_item_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    title = fields.String()


class EarnedValueSchema(Reply):
    """``GET /api/monitoring-entries/{id}/earned_value``."""

    ppa_id = fields.Integer()
    as_of = fields.Date()
    baseline_captured_at = fields.DateTime()
    baseline_captured_late = fields.Boolean(metadata={
        "description": "the PPA was enacted before baselines existed: its WBS was baselined at the first "
                       "computation"})
    pv_method = fields.String()
    eac_method = fields.String()
    ppa = fields.Nested(EarnedValueFiguresSchema)
    nodes = fields.List(fields.Nested(EarnedValueNodeSchema))


class EarnedValueQuerySchema(Schema):
    as_of = fields.Date(metadata={"description": "as of the end of this day (default today, Asia/Manila)"})


class DependencyCreateSchema(Schema):
    """``POST /api/work-items/{id}/dependencies``: the item starts after ``predecessor_id`` finishes."""

    predecessor_id = RowId(required=True)


class DependenciesSchema(Reply):
    """A work item's finish-to-start dependencies."""

    work_item_id = fields.Integer()
    predecessors = fields.List(fields.Integer())
    successors = fields.List(fields.Integer())


class DependencyPairSchema(Reply):
    predecessor_id = fields.Integer()
    successor_id = fields.Integer()


class ScheduledItemSchema(Reply):
    """A work item's place in the schedule (dates; floats in days)."""

    work_item_id = fields.Integer()
    title = fields.String()
    duration = fields.Integer()
    early_start = fields.Date()
    early_finish = fields.Date()
    late_start = fields.Date()
    late_finish = fields.Date()
    total_float = fields.Integer()
    free_float = fields.Integer()
    critical = fields.Boolean()


class CriticalPathSchema(Reply):
    """``GET /api/monitoring-entries/{id}/critical_path``."""

    ppa_id = fields.Integer()
    project_start = fields.Date()
    project_finish = fields.Date()
    duration_days = fields.Integer()
    critical_paths = fields.List(fields.List(fields.Integer()))
    dependencies = fields.List(fields.Nested(DependencyPairSchema))
    items = fields.List(fields.Nested(ScheduledItemSchema))
