"""``/api/me``, ``/api/rules`` and ``/api/calendar``: who you are, which rules are in force (and their
diagrams), and the non-working days business days skip."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from db import db
from db.models import User
from rules import diagrams
from services import calendar, calendar_feeds, rule_sets, tracking
from services.runtime import get_runtime
from web.auth import current_user
from web.parsing import Blueprint, Money
from web.schemas import Reply, UserSchema
from workflow.calendar import DAY_KINDS
from workflow.vocabulary import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR

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
    sign_off = fields.Function(lambda s: _sign_off(s), metadata={
        "type": "object", "nullable": True, "description": "n-of-m sign-off: {required, of} (null: none)"})
    escalate = fields.Function(lambda s: _escalate(s), metadata={
        "type": "object", "nullable": True, "description": "escalation: {after_business_days, notify, then} (null: none)"})


def _sign_off(state) -> dict | None:
    rule = getattr(state, "sign_off", None)
    return {"required": rule.required, "of": list(rule.of)} if rule is not None else None


def _escalate(state) -> dict | None:
    rule = getattr(state, "escalate", None)
    return None if rule is None else {"after_business_days": rule.after_business_days, "notify": list(rule.notify),
                                      "then": rule.then}


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


# -- rule sets are versions (issue 14 item 1, docs/design.md §13) --

class RuleTransitionSchema(Reply):
    source = fields.String()
    trigger = fields.String()
    dest = fields.String()
    roles = fields.List(fields.String())
    comment_required = fields.Boolean()
    when = fields.Function(lambda t: t.when.describe() if t.when is not None else None, metadata={
        "type": "string", "nullable": True,
        "description": "the condition on the record's fields under which this route is taken, in words "
                       "(null: the ordinary route)"})


class RuleWorkflowSchema(Reply):
    name = fields.String()
    record = fields.String()
    file = fields.String()
    initial_stage = fields.String(attribute="machine.initial")
    stages = fields.List(fields.String(), metadata={"description": "every stage, in file order"})
    transitions = fields.List(fields.Nested(RuleTransitionSchema))


class RuleTemplateItemSchema(Reply):
    title = fields.String()
    work_type = fields.String()
    budget_pct = fields.String(metadata={"description": "share of the parent's allocation, percent (exact)"})
    duration_pct = fields.String(allow_none=True, metadata={
        "description": "share of the parent's date range, percent; null: spans the parent's range"})
    children = fields.List(fields.Nested(lambda: RuleTemplateItemSchema()))


class RuleTemplateSchema(Reply):
    name = fields.String()
    label = fields.String()
    items = fields.List(fields.Nested(RuleTemplateItemSchema), attribute="children")


class RuleStatusSyncSchema(Reply):
    status = fields.String()
    flag = fields.String(allow_none=True)


class RuleMappingsSchema(Reply):
    category_templates = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "PPA category -> its default WBS template (wbs_templates.yaml)"})
    allowed_children = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), metadata={
        "description": "work type -> the work types allowed directly under it"})
    tracking_not_in_stages = fields.List(fields.String())
    progress_method = fields.String()
    work_item_to_ppa = fields.Dict(keys=fields.String(), values=fields.Nested(RuleStatusSyncSchema), metadata={
        "description": "project status -> the PPA's status and flag (sync.yaml)"})
    ppa_to_work_item = fields.Dict(keys=fields.String(), values=fields.String())
    fund_clusters = fields.Dict(keys=fields.String(), values=fields.String())
    uacs_object_code_classes = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "UACS object-code prefix -> allotment class"})
    alert_severities = fields.Dict(keys=fields.String(), values=fields.String())


class RuleRemarkSchema(Reply):
    measure = fields.String()
    remark = fields.String()
    below = fields.String(allow_none=True)
    above = fields.String(allow_none=True)


class RuleThresholdsSchema(Reply):
    on_budget_threshold_pct = fields.String(metadata={"description": "percent (exact)"})
    weights_tolerance = fields.String()
    allotments_need_stage = fields.String(allow_none=True)
    report_remarks = fields.List(fields.Nested(RuleRemarkSchema), metadata={
        "description": "the MFBM report's remark rules (budget.yaml)"})
    template_max_depth = fields.Integer()
    template_max_items = fields.Integer()
    reminder_days_before = fields.Integer()


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
    transitions = fields.List(fields.Nested(RuleTransitionSchema), metadata={
        "description": "the PPA approval's transitions (``stages`` are its stages)"})
    workflows = fields.List(fields.Nested(RuleWorkflowSchema), metadata={
        "description": "every workflow of the set (workflows/*.yaml), its stages and transitions"})
    wbs_templates = fields.List(fields.Nested(RuleTemplateSchema))
    mappings = fields.Nested(RuleMappingsSchema)
    thresholds = fields.Nested(RuleThresholdsSchema)
    active_hash = fields.String(allow_none=True, metadata={
        "description": "the hash of the database's active rule set (null: none stored yet)"})
    loaded_at = fields.DateTime(allow_none=True, metadata={"description": "when the set was first stored"})
    activated_at = fields.DateTime(allow_none=True, metadata={"description": "its latest activation"})
    activated_by = fields.String(allow_none=True, metadata={"description": "who activated it (null: an operator)"})


class ActiveRulesSchema(RulesSchema):
    disk_differs = fields.Boolean(metadata={
        "description": "the rule files in PPAFLOW_RULES_DIR hash differently from the active set "
                       "(ppaflow rules activate would change it)"})


class StoredRuleFileSchema(RuleFileSchema):
    content = fields.String(metadata={"description": "the file's text"})


class StoredRulesSchema(RulesSchema):
    files = fields.List(fields.Nested(StoredRuleFileSchema))
    active = fields.Boolean(metadata={"description": "this is the active set"})


def _pct(value) -> str | None:
    return None if value is None else str(value)


def _template_item(node) -> dict:
    return {"title": node.title, "work_type": node.work_type, "budget_pct": _pct(node.budget_pct),
            "duration_pct": _pct(node.duration_pct), "children": [_template_item(c) for c in node.children]}


def describe(rules, stored) -> dict:
    """The body of ``GET /api/rules`` and ``GET /api/rules/{hash}`` for a
    loaded ``RuleSet`` and its stored row (``None``: not stored)."""
    active = rule_sets.active()
    activated_by = db.session.get(User, stored.activated_by_id) if stored and stored.activated_by_id else None
    remarks = rules.budget.remarks
    return {
        "hash": rules.hash,
        "files": [{"name": f.name, "sha256": f.sha256, "content": f.content.decode()} for f in rules.files],
        "roles": dict(rules.roles.descriptions),
        "stages": list(rules.approval.machine.states.values()),
        "triggers": list(rules.approval.machine.triggers),
        "work_item_statuses": list(rules.work_item_status.states),
        "validity": [{"fiscal_year": year, "entries": list(entries)}
                     for year, entries in sorted(rules.validity.years.items())],
        "transitions": list(rules.approval.machine.transitions),
        "workflows": [{"name": w.name, "record": w.record, "file": w.file, "machine": w.machine,
                       "stages": list(w.machine.states), "transitions": list(w.machine.transitions)}
                      for w in rules.workflows.values()],
        "wbs_templates": [{"name": t.name, "label": t.label, "children": [_template_item(c) for c in t.children]}
                          for t in rules.wbs.templates.values()],
        "mappings": {
            "category_templates": dict(rules.wbs.category_defaults),
            "allowed_children": {k: list(v) for k, v in rules.wbs.allowed_children.items()},
            "tracking_not_in_stages": list(rules.wbs.tracking_not_in_stages),
            "progress_method": rules.sync.progress_method,
            "work_item_to_ppa": dict(rules.sync.work_item_to_ppa),
            "ppa_to_work_item": dict(rules.sync.ppa_to_work_item),
            "fund_clusters": dict(rules.fund_clusters.names),
            "uacs_object_code_classes": dict(rules.uacs_object_codes.prefixes),
            "alert_severities": dict(rules.budget.alert_severities),
        },
        "thresholds": {
            "on_budget_threshold_pct": _pct(rules.budget.on_budget_threshold_pct),
            "weights_tolerance": _pct(rules.budget.weights_tolerance),
            "allotments_need_stage": rules.budget.allotments_need_stage,
            "report_remarks": [{"measure": r.measure, "remark": r.remark, "below": _pct(r.below),
                                "above": _pct(r.above)} for r in (remarks.rules if remarks else ())],
            "template_max_depth": rules.wbs.limits.max_depth,
            "template_max_items": rules.wbs.limits.max_items,
            "reminder_days_before": rules.schedule.reminder_days_before,
        },
        "active_hash": active.hash if active else None,
        "active": bool(stored and stored.active),
        "loaded_at": stored.loaded_at if stored else None,
        "activated_at": stored.activated_at if stored else None,
        "activated_by": activated_by.username if activated_by else None,
    }


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """The authenticated user: name, organization, roles."""
        return current_user()


class CalendarFeedSchema(Reply):
    """A calendar feed the caller may subscribe to (iCalendar, RFC 5545)."""

    scope = fields.String(metadata={"enum": ["mine", "moa"], "description": (
        "mine: the approval steps waiting for you and the work items of the PPAs you prepared; "
        "moa: every work item and approval due date of your MOA's PPAs")})
    moa = fields.String(allow_none=True, metadata={"description": "the MOA's code, for a moa feed"})
    url = fields.String(metadata={"format": "uri", "description": (
        "subscribe to it in a calendar client; it is a secret: anyone with it reads the feed, until rotated")})
    rotated_at = fields.DateTime(allow_none=True)


def _feed_replies(links: list) -> list[dict]:
    root = request.host_url.rstrip("/")
    return [{"scope": link.scope, "moa": link.moa, "url": root + link.path, "rotated_at": link.rotated_at}
            for link in links]


@blp.route("/me/calendar")
class MyCalendar(MethodView):
    @blp.response(200, CalendarFeedSchema(many=True))
    def get(self):
        """Your calendar feeds' URLs: your own, and your MOA's when you belong
        to one (docs/design.md §15, "Calendar feeds"). The URL carries the
        feed's own secret, never an API token."""
        return _feed_replies(calendar_feeds.feed_links(current_user()))


@blp.route("/me/calendar/rotate")
class RotateMyCalendar(MethodView):
    @blp.response(200, CalendarFeedSchema(many=True))
    def post(self):
        """Replace your feeds' secrets: the URLs you had stop answering (404)
        and these replace them."""
        return _feed_replies(calendar_feeds.rotate(current_user()))


@blp.route("/rules")
class Rules(MethodView):
    @blp.response(200, ActiveRulesSchema)
    def get(self):
        """The active rule set (the database's; until one is stored, the one
        this process loaded): its files and hash, roles, stages,
        transitions, WBS templates, mappings and thresholds, and whether
        the files in PPAFLOW_RULES_DIR differ from it (docs/design.md §13)."""
        stored = rule_sets.active()
        rules = rule_sets.load_stored(stored) if stored else get_runtime().rules
        on_disk = rule_sets.disk_hash(rule_sets.rules_dir(current_app.config["PPAFLOW_RULES_DIR"]))
        return describe(rules, stored) | {"disk_differs": on_disk != rules.hash}


@blp.route("/rules/<rule_hash>")
class StoredRules(MethodView):
    @blp.response(200, StoredRulesSchema)
    def get(self, rule_hash: str):
        """Any stored rule set by its hash (the one on a history row): its
        files with their text, and the same summary as ``/api/rules``.
        404 when no set with that hash is stored."""
        stored = rule_sets.get_or_raise(rule_hash)
        return describe(rule_sets.load_stored(stored), stored)


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


# -- dry runs: a WBS template laid out on a budget (issue 14 item 6; docs/design.md §6 "Dry runs") ----------


class TemplatePreviewQuerySchema(Schema):
    """The budget and date range to lay a template out on."""

    budget = Money(required=True, positive=True, metadata={"description": "PHP: the project's allocation"})
    start_date = fields.Date(load_default=None)
    end_date = fields.Date(load_default=None)

    @validates_schema
    def _dates_in_order(self, data, **_kwargs) -> None:
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            raise ValidationError({"end_date": ["must be on or after start_date"]})


class PreviewItemSchema(Reply):
    title = fields.String()
    work_type = fields.String()
    level = fields.Integer()
    position = fields.Integer()
    allocated_budget = Money()
    start_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    children = fields.List(fields.Nested(lambda: PreviewItemSchema()))


class TemplatePreviewSchema(Reply):
    template = fields.String()
    label = fields.String()
    budget = Money()
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    items = fields.Integer(metadata={"description": "how many work items it would generate, the project included"})
    root = fields.Nested(PreviewItemSchema, metadata={"description": "the project, its children nested"})


@blp.route("/wbs-templates/<name>/preview")
class TemplatePreview(MethodView):
    @blp.arguments(TemplatePreviewQuerySchema, location="query")
    @blp.response(200, TemplatePreviewSchema)
    def get(self, query, name: str):
        """A WBS template of the rules in force laid out on a budget and date
        range, as enabling tracking would generate it (budgets split exactly
        by the largest-remainder method, days by the duration shares), with
        nothing written. 404 for an unknown template."""
        body = tracking.preview_template(name, query["budget"], query["start_date"], query["end_date"])
        return jsonify(body)  # money already formatted, as budget_allocation_tree/ answers it


# -- the calendar business days count in (issue 14 item 8; docs/design.md §7) ------------------------------------


class CalendarQuerySchema(Schema):
    """Which year's non-working days."""

    year = fields.Integer(load_default=None, validate=validate.Range(FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR),
                          metadata={"description": "default: this year in the schedule's time zone"})


class NonWorkingDaySchema(Reply):
    date = fields.Date()
    weekday = fields.String(metadata={"description": "Monday ... Sunday (a listed day may fall on a weekend)"})
    name = fields.String()
    kind = fields.String(validate=validate.OneOf(list(DAY_KINDS)), metadata={
        "description": "; ".join(f"{kind}: {meaning}" for kind, meaning in DAY_KINDS.items())})
    proclaimed = fields.Boolean(metadata={"description": "its date is proclaimed each year (Islamic days, Holy "
                                                         "Week, additional special days): the proclaimed or "
                                                         "expected date; see note"})
    note = fields.String(allow_none=True)


class CalendarSchema(Reply):
    year = fields.Integer()
    file = fields.String(allow_none=True, metadata={
        "description": "calendar/<year>.yaml of the rules in force; null when there is none (weekends only)"})
    business_days = fields.Boolean(metadata={"description": "whether stage due dates count business days "
                                                            "(schedule.yaml business_days)"})
    rule_set = fields.String(metadata={"description": "hash of the rule set in force"})
    days = fields.List(fields.Nested(NonWorkingDaySchema), metadata={
        "description": "the non-working days besides Saturdays and Sundays, in date order"})


@blp.route("/calendar")
class NonWorkingDays(MethodView):
    @blp.arguments(CalendarQuerySchema, location="query")
    @blp.response(200, CalendarSchema)
    def get(self, query):
        """The non-working days of a year in the rules in force (national and
        BARMM, from ``calendar/<year>.yaml``), which due dates, reminders and
        escalations skip besides weekends. A year without a file answers
        ``file: null`` and no days: it counts weekends only."""
        return calendar.non_working_days(query["year"] or calendar.today().year)
