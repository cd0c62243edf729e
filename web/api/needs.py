"""Community needs and participatory voting over HTTP (docs/design.md §14;
issue 15 items 1-2): ``/api/needs`` (+ ``/actions``, ``/transitions``,
``/history``, ``/votes``), ``/api/needs/priorities``,
``/api/needs/gap-analysis`` (item 8), ``/api/me/votes``,
the needs a PPA addresses, and ``/api/public/needs`` for anyone, without a
token and without personal data."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from services import needs
from services.needs import NeedFilters
from web.api.budget import ITS_ETAG, THIS, workflow_views
from web.auth import current_user
from web.contract import ETAG_HEADER, link
from web.pagination import SQLPage, viewed
from web.parsing import Blueprint, Money
from web.schemas import MAX_TEXT, ActionSchema, Reply, TransitionRequestSchema, _organization_code, _text

blp = Blueprint("needs", __name__, url_prefix="/api",
                description="Community needs: raised by communities, validated and forwarded to a MOA, addressed "
                            "by a PPA; one vote per user per need (enforced by the database); a public list "
                            "without personal data.")

PSGC = validate.Regexp(r"^[0-9]{10}$", error="must be a 10-digit PSGC code")


def _psgc(description: str, **kwargs) -> fields.String:
    return fields.String(validate=PSGC, metadata={"description": description}, **kwargs)


class NeedCreateSchema(Schema):
    """``POST /api/needs``: title, description, category and urgency required."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    category = fields.String(required=True, validate=validate.Length(min=1, max=40),
                             metadata={"description": "a category of needs.yaml (GET /api/rules)"})
    urgency = fields.String(required=True, validate=validate.Length(min=1, max=40),
                            metadata={"description": "an urgency of needs.yaml"})
    submission_type = fields.String(validate=validate.Length(min=1, max=40), load_default="community_submission",
                                    metadata={"description": "community_submission, assessment or moa_identified "
                                                             "(needs.yaml)"})
    province_code = _psgc("PSGC code of a BARMM province (psgc_barmm.yaml)")
    municipality_code = _psgc("PSGC code of a municipality or city inside the province")
    barangay_code = _psgc("PSGC code of a barangay inside the municipality")
    population_affected = fields.Integer(strict=True, validate=validate.Range(0, 100_000_000))
    estimated_cost = Money(metadata={"description": "PHP, a decimal string"})
    organization = _organization_code(metadata={"description": "the MOA it concerns, e.g. MSSD"})
    consent = fields.Boolean(
        required=True, validate=validate.Equal(True, error=needs.CONSENT_REQUIRED),
        error_messages={"required": needs.CONSENT_REQUIRED, "null": needs.CONSENT_REQUIRED},
        metadata={"description": "true: the person raising it agrees to the privacy notice "
                                 "(GET /api/public/needs, privacy_notice; Data Privacy Act, RA 10173)"})


class NeedFilterSchema(Schema):
    """Filters of the lists of needs."""

    category = _text(40)
    urgency = _text(40)
    status = _text(20)
    province_code = _psgc("PSGC province code")
    municipality_code = _psgc("PSGC municipality code")
    moa = _organization_code(metadata={"description": "organization code, e.g. MSSD"})


class PublicNeedFilterSchema(NeedFilterSchema):
    """Filters of ``/api/public/needs`` (published needs only)."""


class PpaRefSchema(Reply):
    id = fields.Integer()
    title = fields.String()


class PrivacyNoticeSchema(Reply):
    """The privacy notice of the public pages (needs.yaml ``privacy``)."""

    version = fields.String(metadata={"description": "the version a person consents to when raising a need"})
    text = fields.String()


class PublicNeedSchema(Reply):
    """What anyone may read of a published need: no personal data."""

    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    category = fields.String()
    urgency = fields.String()
    submission_type = fields.String()
    province_code = fields.String(allow_none=True)
    municipality_code = fields.String(allow_none=True)
    barangay_code = fields.String(allow_none=True)
    population_affected = fields.Integer(allow_none=True)
    estimated_cost = Money(allow_none=True)
    status = fields.String()
    votes = fields.Integer(metadata={"description": "how many users voted for it"})
    submitted_on = fields.Date()
    budget_included_on = fields.Date(allow_none=True)
    province = fields.String(allow_none=True)
    municipality = fields.String(allow_none=True)
    moa = fields.String(allow_none=True)
    ppas = fields.List(fields.Nested(PpaRefSchema), metadata={"description": "the PPAs addressing it"})
    privacy_notice = fields.Nested(PrivacyNoticeSchema, metadata={"description": "RA 10173: what is kept and shown"})


class NeedSchema(PublicNeedSchema):
    """A need as its MOA and reviewers see it: the public fields, and who
    submitted it, its MOA, the votes' weight and its version."""

    class Meta:
        exclude = ("province", "municipality", "moa", "ppas", "privacy_notice")

    organization = fields.String(attribute="organization.code", allow_none=True)
    submitted_by_id = fields.Integer(allow_none=True, metadata={"description": "null once erased or purged"})
    consent_at = fields.DateTime(allow_none=True, metadata={"description": "when its submitter consented (UTC); "
                                                                           "null: raised before consent was asked"})
    privacy_notice_version = fields.String(allow_none=True, metadata={"description": "the notice consented to"})
    vote_weight = fields.Integer(metadata={"description": "the votes' total weight (stakeholder types, needs.yaml)"})
    version = fields.Integer()


class NeedActionsSchema(Reply):
    """``GET /api/needs/{id}/actions``."""

    need_id = fields.Integer()
    status = fields.String()
    version = fields.Integer()
    actions = fields.List(fields.Nested(ActionSchema))


class NeedTransitionSchema(TransitionRequestSchema):
    """``POST /api/needs/{id}/transitions``; ``forward`` names the MOA."""

    organization = _organization_code(metadata={"description": "with forward: the MOA, e.g. MSSD"})


class VoteSchema(Reply):
    """One vote of the caller."""

    id = fields.Integer()
    need_id = fields.Integer()
    need_title = fields.String(attribute="need.title")
    weight = fields.Integer()
    stakeholder_type = fields.String(allow_none=True)
    created_at = fields.DateTime()


class PriorityQuerySchema(Schema):
    category = _text(40)
    province_code = _psgc("PSGC province code")
    top = fields.Integer(load_default=5, validate=validate.Range(1, 50),
                         metadata={"description": "needs per area and category (default 5)"})
    weighted = fields.Boolean(load_default=False, metadata={"description": "rank by weighted votes"})


class PriorityNeedSchema(Reply):
    """A need in a list of priorities."""

    id = fields.Integer()
    title = fields.String()
    status = fields.String()
    urgency = fields.String()
    municipality_code = fields.String(allow_none=True)
    votes = fields.Integer()
    vote_weight = fields.Integer()


class PriorityGroupSchema(Reply):
    province_code = fields.String(allow_none=True)
    province = fields.String(allow_none=True)
    category = fields.String()
    needs = fields.List(fields.Nested(PriorityNeedSchema))


class GapQuerySchema(Schema):
    """Filters of the gap analysis (the needs counted)."""

    category = _text(40)
    urgency = _text(40)
    province_code = _psgc("PSGC province code")
    municipality_code = _psgc("PSGC municipality code")
    moa = _organization_code(metadata={"description": "organization code, e.g. MSSD"})


class GapRowSchema(Reply):
    """One row of the gap analysis: a category, a province, or the totals."""

    key = fields.String(allow_none=True, metadata={"description": "the category (needs.yaml) or the PSGC province "
                                                                  "code; null: no province, or the totals"})
    name = fields.String(metadata={"description": "its label (needs.yaml, psgc_barmm.yaml)"})
    raised = fields.Integer(metadata={"description": "needs raised, whatever their stage"})
    validated = fields.Integer(metadata={"description": "needs published: validated or later, not declined"})
    funded = fields.Integer(metadata={"description": "needs addressed by a PPA with a budget allocation "
                                                     "(not rejected)"})
    unfunded = fields.Integer(metadata={"description": "validated needs not funded"})
    raised_cost = Money(metadata={"description": "estimated cost of the needs raised, PHP"})
    validated_cost = Money(metadata={"description": "estimated cost of the validated needs, PHP"})
    funded_cost = Money(metadata={"description": "estimated cost of the funded needs, PHP"})
    unfunded_cost = Money(metadata={"description": "estimated cost of the unfunded needs, PHP (the gap)"})


class GapAnalysisSchema(Reply):
    """``GET /api/needs/gap-analysis``."""

    by_category = fields.List(fields.Nested(GapRowSchema), metadata={"description": "one row per category"})
    by_area = fields.List(fields.Nested(GapRowSchema), metadata={"description": "one row per province"})
    total = fields.Nested(GapRowSchema, metadata={"description": "every need counted"})


class NeedLinkSchema(Schema):
    need_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


NEED_LINKS = {
    "read": link("GET", "/api/needs/{need_id}", "read it", parameters={"path.need_id": THIS}),
    "actions": link("GET", "/api/needs/{need_id}/actions", "what you may do with it now",
                    parameters={"path.need_id": THIS}),
    "transition": link("POST", "/api/needs/{need_id}/transitions", "move it through its workflow, with its ETag",
                       parameters={"path.need_id": THIS} | ITS_ETAG),
}


def _filters(data: dict) -> NeedFilters:
    return NeedFilters(**data)


@blp.route("/needs")
class Needs(MethodView):
    @blp.arguments(NeedFilterSchema, location="query")
    @blp.response(200, NeedSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, filters):
        """Needs you may see, most voted first (filters: category, urgency,
        status, province_code, municipality_code, moa)."""
        return needs.list_needs(current_user(), _filters(filters))

    @blp.links(201, **NEED_LINKS)
    @blp.arguments(NeedCreateSchema)
    @blp.response(201, NeedSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Raise a community need (stage submitted): community representatives,
        MOA focal persons (their MOA's), BPDA planners and reviewers."""
        need = needs.create_need(current_user(), **data)
        return need, 201, {"ETag": need.etag}


@blp.route("/needs/priorities")
class Priorities(MethodView):
    @blp.arguments(PriorityQuerySchema, location="query")
    @blp.response(200, PriorityGroupSchema(many=True))
    def get(self, query):
        """The community's top priorities: per province and category, the
        published needs with the most votes (one aggregate query)."""
        return needs.priorities(**query)


@blp.route("/needs/gap-analysis")
class GapAnalysis(MethodView):
    @blp.arguments(GapQuerySchema, location="query")
    @blp.response(200, GapAnalysisSchema)
    def get(self, filters):
        """The gap analysis of the needs you may see: per category and per
        province, needs raised, validated, funded (by a PPA with a budget)
        and unfunded, with their estimated costs and the totals (one
        aggregate query)."""
        return needs.gap_analysis(current_user(), _filters(filters))


@blp.route("/needs/<id:need_id>")
class NeedOne(MethodView):
    @blp.response(200, NeedSchema, headers=ETAG_HEADER)
    def get(self, need_id):
        """One need."""
        need = needs.get_need_or_raise(current_user(), need_id)
        return need, 200, {"ETag": need.etag}


@blp.route("/needs/<id:need_id>/votes")
class NeedVotes(MethodView):
    @blp.response(201, VoteSchema)
    def post(self, need_id):
        """Vote for a published need: once per user (a second vote is 409
        already_voted, refused by the database whatever the timing)."""
        return needs.vote(current_user(), need_id), 201

    @blp.response(204)
    def delete(self, need_id):
        """Withdraw your vote (404 when you have none)."""
        needs.withdraw_vote(current_user(), need_id)
        return None, 204


@blp.route("/me/votes")
class MyVotes(MethodView):
    @blp.response(200, VoteSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self):
        """Your votes, newest first."""
        return needs.my_votes(current_user())


@blp.route("/monitoring-entries/<id:ppa_id>/needs")
class PpaNeeds(MethodView):
    @blp.response(200, NeedSchema(many=True))
    def get(self, ppa_id):
        """The needs the PPA addresses (its needs_addressed)."""
        return needs.needs_addressed(current_user(), ppa_id)

    @blp.arguments(NeedLinkSchema)
    @blp.response(201, NeedSchema)
    def post(self, data, ppa_id):
        """Record that the PPA addresses a need forwarded to its MOA: the need
        moves to addressed and gets its budget inclusion date."""
        needs.link_ppa(current_user(), ppa_id, data["need_id"])
        return needs.get_need_or_raise(current_user(), data["need_id"]), 201


workflow_views(
    "/needs/<id:need_id>", "Need", id_key="need_id", blueprint=blp,
    actions=needs.need_actions, actions_schema=NeedActionsSchema,
    actions_doc="""Every step of the need workflow (validate, forward, address,
        defer, decline), whether it is open to you now, and why not.""",
    fire=needs.fire_need_transition, transition_schema=NeedTransitionSchema, response_schema=NeedSchema,
    links=NEED_LINKS, render=lambda need: (need, 200, {"ETag": need.etag}),
    transition_doc="""Fire a step of the need workflow: validate (BPDA, or the
        MOA), forward to a MOA (with organization), defer or decline (with a
        comment saying why).""",
    history=needs.need_history,
    history_doc="The need's steps, oldest first, each with the rule-set hash.")


# -- for anyone, no token ----------------------------------------------------------------


@blp.route("/public/needs")
class PublicNeeds(MethodView):
    @blp.doc(security=[])
    @blp.arguments(PublicNeedFilterSchema, location="query")
    @blp.response(200, PublicNeedSchema(many=True))
    @blp.paginate(viewed(needs.public_view))
    def get(self, filters):
        """Published needs (validated or later, not declined), most voted
        first, for anyone without an account: no personal data."""
        return needs.list_public(_filters(filters))


@blp.route("/public/needs/<id:need_id>")
class PublicNeed(MethodView):
    @blp.doc(security=[])
    @blp.response(200, PublicNeedSchema)
    def get(self, need_id):
        """One published need, with the PPAs addressing it; no personal data."""
        return needs.public_view(needs.get_public(need_id))
