"""Strategic goals, policies, planning cycles and alignment over HTTP
(docs/design.md §16; issue 15 items 4-5): ``/api/strategic-goals`` (+
``/ppas``), ``/api/policies``, ``/api/planning-cycles``, ``/api/alignment``
(+ ``/matrix``), and ``/api/public/ppas`` for anyone, without a token and
without personal data."""

from __future__ import annotations

from flask import request, url_for
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from services import completion_photos, goals
from web.api.feedback import PhotoSchema, PhotoUploadSchema
from web.api.needs import PrivacyNoticeSchema
from web.auth import current_user
from web.contract import BINARY, ETAG_HEADER, LOCATION_HEADER
from web.downloads import send_attachment
from web.parsing import takes_files
from web.pagination import SQLPage
from web.parsing import Blueprint, Money, Percent, Weight
from web.schemas import FISCAL_YEAR, MAX_TEXT, Reply, _organization_code

blp = Blueprint("goals", __name__, url_prefix="/api",
                description="Strategic goals of the Bangsamoro Development Plan, policies and planning cycles; "
                            "which PPAs serve which goal, goal progress from the PPAs', the alignment check and "
                            "matrix; the public page of enacted PPAs without personal data.")

YEAR = validate.Range(2000, 2100)
FIGURE = fields.Decimal(as_string=True, allow_nan=False, allow_none=True, validate=validate.Range(-1e15, 1e15),
                        metadata={"description": "a decimal figure, as a string", "example": "42.5"})


def _batch(view):
    """A ``SQLPage`` whose items go through ``view(rows)`` at once (one statement for their figures)."""

    class BatchPage(SQLPage):
        @property
        def items(self) -> list:
            return view(super().items)

    return BatchPage


def _with_etag(view: dict, status: int = 200):
    return view, status, {"ETag": view["etag"]}


# -- schemas ------------------------------------------------------------------------------


class IndicatorSchema(Schema):
    """An indicator of a goal: name, unit, baseline and target."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(allow_none=True, validate=validate.Length(max=40))
    baseline = Weight(as_string=True, allow_none=True)
    target = Weight(as_string=True, allow_none=True)


class IndicatorReplySchema(Reply):
    name = fields.String()
    unit = fields.String(allow_none=True)
    baseline = fields.String(allow_none=True, metadata={"description": "a decimal figure, as a string"})
    target = fields.String(allow_none=True, metadata={"description": "a decimal figure, as a string"})


class GoalCreateSchema(Schema):
    """``POST /api/strategic-goals``: title and target year required."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=MAX_TEXT))
    target_year = fields.Integer(required=True, strict=True, validate=YEAR)
    lead_agency = _organization_code(allow_none=True, metadata={"description": "the lead agency's code, e.g. BPDA"})
    status = fields.String(validate=validate.Length(min=1, max=30),
                           metadata={"description": "a goal status of goals.yaml (default: its first)"})
    indicators = fields.List(fields.Nested(IndicatorSchema), validate=validate.Length(max=50))


class GoalPatchSchema(GoalCreateSchema):
    """``PATCH /api/strategic-goals/{id}``: any field of the goal."""


class GoalSchema(Reply):
    """A strategic goal, with its progress from its PPAs'."""

    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    target_year = fields.Integer()
    lead_agency = fields.String(allow_none=True)
    status = fields.String()
    indicators = fields.List(fields.Nested(IndicatorReplySchema))
    ppas = fields.Integer(metadata={"description": "how many PPAs (not rejected) serve it"})
    budget = Money(metadata={"description": "their budget allocations, PHP"})
    progress = Percent(allow_none=True, metadata={"type": "number", "description": "percent, by progress_method; "
                                                                                    "null without PPAs"})
    progress_method = fields.String(metadata={"description": "goals.yaml progress: budget_weighted or average"})
    version = fields.Integer()


class GoalFilterSchema(Schema):
    status = fields.String(validate=validate.Length(max=30))
    target_year = fields.Integer(validate=YEAR)


class PpaLinkSchema(Schema):
    ppa_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class PpaBriefSchema(Reply):
    """A PPA in a list of goals' PPAs or of the alignment check."""

    id = fields.Integer()
    title = fields.String()
    organization = fields.String(attribute="organization.code")
    fiscal_year = fields.Integer()
    approval_status = fields.String()
    budget_allocation = Money()
    progress = fields.Integer()


class MilestoneSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    due_on = fields.Date(allow_none=True)
    done_on = fields.Date(allow_none=True)


class MilestoneReplySchema(Reply):
    title = fields.String()
    due_on = fields.String(allow_none=True, metadata={"format": "date"})
    done_on = fields.String(allow_none=True, metadata={"format": "date"})


class PolicyCreateSchema(Schema):
    """``POST /api/policies``: title required."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=MAX_TEXT))
    status = fields.String(validate=validate.Length(min=1, max=30),
                           metadata={"description": "a policy status of goals.yaml (default: its first)"})
    milestones = fields.List(fields.Nested(MilestoneSchema), validate=validate.Length(max=100))
    goal_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(1, 2_147_483_647)),
                           validate=validate.Length(max=100), metadata={"description": "the goals it serves"})


class PolicyPatchSchema(PolicyCreateSchema):
    """``PATCH /api/policies/{id}``: any field of the policy."""


class PolicySchema(Reply):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    status = fields.String()
    milestones = fields.List(fields.Nested(MilestoneReplySchema))
    goal_ids = fields.List(fields.Integer())
    version = fields.Integer()


class CycleCreateSchema(Schema):
    """``POST /api/planning-cycles``: one per fiscal year."""

    fiscal_year = fields.Integer(required=True, strict=True, validate=FISCAL_YEAR)
    planning_starts_on = fields.Date(required=True)
    budget_approved_on = fields.Date(allow_none=True)


class CyclePatchSchema(Schema):
    planning_starts_on = fields.Date()
    budget_approved_on = fields.Date(allow_none=True)


class CycleSchema(Reply):
    id = fields.Integer()
    fiscal_year = fields.Integer()
    planning_starts_on = fields.Date()
    budget_approved_on = fields.Date(allow_none=True)
    version = fields.Integer()


class YearQuerySchema(Schema):
    fiscal_year = fields.Integer(validate=FISCAL_YEAR, metadata={"description": "only PPAs of this fiscal year"})


class GoalBriefSchema(Reply):
    id = fields.Integer()
    title = fields.String()
    target_year = fields.Integer()
    status = fields.String()


class AlignmentSchema(Reply):
    """The alignment check."""

    goals_without_ppas = fields.List(fields.Nested(GoalBriefSchema),
                                     metadata={"description": "goals (not dropped) that no PPA serves"})
    ppas_without_goals = fields.List(fields.Nested(PpaBriefSchema),
                                     metadata={"description": "PPAs (not rejected) that serve no goal"})


class MatrixCellSchema(Reply):
    """One MOA x goal cell of the alignment matrix."""

    moa = fields.String()
    goal_id = fields.Integer()
    goal = fields.String()
    ppas = fields.Integer()
    budget = Money()
    progress = Percent(allow_none=True, metadata={"type": "number"})


class RefSchema(Reply):
    id = fields.Integer()
    title = fields.String()


class PublicPhotoSchema(Reply):
    """A completion photo on the public page: its id and file name (no uploader)."""

    id = fields.Integer()
    file_name = fields.String()


class PublicPpaSchema(Reply):
    """What anyone may read of an enacted PPA: every field is present, and
    ``null`` unless goals.yaml lists it (``public_ppa.fields``); never a person."""

    id = fields.Integer()
    title = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    moa = fields.String(allow_none=True)
    fiscal_year = fields.Integer(allow_none=True)
    category = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    funding_source = fields.String(allow_none=True)
    start_date = fields.Date(allow_none=True)
    target_end_date = fields.Date(allow_none=True)
    status = fields.String(allow_none=True)
    budget = Money(allow_none=True, metadata={"description": "budget allocation, PHP"})
    obligated = Money(allow_none=True, metadata={"description": "active ORS with their adjustments, PHP"})
    disbursed = Money(allow_none=True, metadata={"description": "active DVs, PHP"})
    progress = fields.Integer(allow_none=True, metadata={"description": "physical progress, percent"})
    needs = fields.List(fields.Nested(RefSchema), allow_none=True,
                        metadata={"description": "published needs it addresses"})
    goals = fields.List(fields.Nested(RefSchema), allow_none=True, metadata={"description": "strategic goals it serves"})
    photos = fields.List(fields.Nested(PublicPhotoSchema), allow_none=True, metadata={
        "description": "completion photos (GET /api/public/ppas/{ppa_id}/photos/{photo_id})"})
    privacy_notice = fields.Nested(PrivacyNoticeSchema, metadata={"description": "RA 10173: what is kept and shown"})


# -- goals --------------------------------------------------------------------------------


@blp.route("/strategic-goals")
class Goals(MethodView):
    @blp.arguments(GoalFilterSchema, location="query")
    @blp.response(200, GoalSchema(many=True))
    @blp.paginate(_batch(lambda rows: goals.goal_views(current_user(), rows)))
    def get(self, filters):
        """Strategic goals of the development plan, by target year, each with
        its progress from its PPAs' (filters: status, target_year)."""
        return goals.list_goals(**filters)

    @blp.arguments(GoalCreateSchema)
    @blp.response(201, GoalSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Create a strategic goal: BPDA planning officers and admins."""
        return _with_etag(goals.goal_view(current_user(), goals.create_goal(current_user(), data)), 201)


@blp.route("/strategic-goals/<id:goal_id>")
class GoalOne(MethodView):
    @blp.response(200, GoalSchema, headers=ETAG_HEADER)
    def get(self, goal_id):
        """One goal, with its progress, budget and PPA count."""
        return _with_etag(goals.goal_view(current_user(), goals.get_goal_or_raise(goal_id)))

    @blp.arguments(GoalPatchSchema(partial=True))
    @blp.response(200, GoalSchema, headers=ETAG_HEADER)
    def patch(self, data, goal_id):
        """Change a goal; send If-Match with the ETag you read (stale: 412)."""
        user = current_user()
        changed = goals.update_goal(user, goal_id, data, if_match=request.headers.get("If-Match"))
        return _with_etag(goals.goal_view(user, changed))


@blp.route("/strategic-goals/<id:goal_id>/ppas")
class GoalPpas(MethodView):
    @blp.response(200, PpaBriefSchema(many=True))
    def get(self, goal_id):
        """The PPAs serving the goal that you may see."""
        return goals.goal_ppas(current_user(), goal_id)

    @blp.arguments(PpaLinkSchema)
    @blp.response(201, PpaBriefSchema(many=True))
    def post(self, data, goal_id):
        """Record that a PPA serves the goal (BPDA planning officers, or the
        PPA's MOA); a second time is 409 already_linked."""
        goals.link_ppa(current_user(), goal_id, data["ppa_id"])
        return goals.goal_ppas(current_user(), goal_id), 201


# -- policies -----------------------------------------------------------------------------


@blp.route("/policies")
class Policies(MethodView):
    @blp.response(200, PolicySchema(many=True))
    @blp.paginate(_batch(goals.policy_views))
    def get(self):
        """Policies, oldest first, with their milestones and goals."""
        return goals.list_policies()

    @blp.arguments(PolicyCreateSchema)
    @blp.response(201, PolicySchema, headers=ETAG_HEADER)
    def post(self, data):
        """Create a policy with its implementation milestones and the goals it
        serves: BPDA planning officers and admins."""
        return _with_etag(goals.policy_view(goals.create_policy(current_user(), data)), 201)


@blp.route("/policies/<id:policy_id>")
class PolicyOne(MethodView):
    @blp.response(200, PolicySchema, headers=ETAG_HEADER)
    def get(self, policy_id):
        """One policy."""
        return _with_etag(goals.policy_view(goals.get_policy_or_raise(policy_id)))

    @blp.arguments(PolicyPatchSchema(partial=True))
    @blp.response(200, PolicySchema, headers=ETAG_HEADER)
    def patch(self, data, policy_id):
        """Change a policy (goal_ids replaces its goals); send If-Match (stale: 412)."""
        return _with_etag(goals.policy_view(goals.update_policy(current_user(), policy_id, data,
                                                                if_match=request.headers.get("If-Match"))))


# -- planning cycles ----------------------------------------------------------------------


@blp.route("/planning-cycles")
class Cycles(MethodView):
    @blp.response(200, CycleSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self):
        """Annual planning cycles, latest fiscal year first."""
        return goals.list_cycles()

    @blp.arguments(CycleCreateSchema)
    @blp.response(201, CycleSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Open the planning cycle of a fiscal year (one each; 409 cycle_exists)."""
        cycle = goals.create_cycle(current_user(), data)
        return cycle, 201, {"ETag": cycle.etag}


@blp.route("/planning-cycles/<id:cycle_id>")
class CycleOne(MethodView):
    @blp.response(200, CycleSchema, headers=ETAG_HEADER)
    def get(self, cycle_id):
        """One planning cycle."""
        cycle = goals.get_cycle_or_raise(cycle_id)
        return cycle, 200, {"ETag": cycle.etag}

    @blp.arguments(CyclePatchSchema)
    @blp.response(200, CycleSchema, headers=ETAG_HEADER)
    def patch(self, data, cycle_id):
        """Change a cycle's dates; send If-Match (stale: 412)."""
        cycle = goals.update_cycle(current_user(), cycle_id, data, if_match=request.headers.get("If-Match"))
        return cycle, 200, {"ETag": cycle.etag}


# -- alignment ----------------------------------------------------------------------------


@blp.route("/alignment")
class Alignment(MethodView):
    @blp.arguments(YearQuerySchema, location="query")
    @blp.response(200, AlignmentSchema)
    def get(self, query):
        """The alignment check: development-plan goals no PPA serves, and the
        PPAs you may see that serve no goal."""
        return goals.alignment(current_user(), query.get("fiscal_year"))


@blp.route("/alignment/matrix")
class AlignmentMatrix(MethodView):
    @blp.arguments(YearQuerySchema, location="query")
    @blp.response(200, MatrixCellSchema(many=True))
    def get(self, query):
        """The alignment matrix, MOA x goal: PPAs, budget and progress of
        each pair that has a PPA (one aggregate query)."""
        return goals.alignment_matrix(current_user(), query.get("fiscal_year"))


# -- for anyone, no token ----------------------------------------------------------------


@blp.route("/public/ppas")
class PublicPpas(MethodView):
    @blp.doc(security=[])
    @blp.arguments(YearQuerySchema, location="query")
    @blp.response(200, PublicPpaSchema(many=True))
    @blp.paginate(_batch(goals.public_ppas))
    def get(self, query):
        """Enacted PPAs (the stages of goals.yaml public_ppa), newest first,
        for anyone without an account: only the fields goals.yaml lists."""
        return goals.list_public_ppas(query.get("fiscal_year"))


@blp.route("/public/ppas/<id:ppa_id>")
class PublicPpa(MethodView):
    @blp.doc(security=[])
    @blp.response(200, PublicPpaSchema)
    def get(self, ppa_id):
        """One enacted PPA: budget, obligated, disbursed, physical progress,
        the needs it addresses and the goals it serves; no personal data."""
        return goals.public_ppa(goals.get_public_ppa(ppa_id))


@blp.route("/public/ppas/<id:ppa_id>/photos/<id:photo_id>")
class PublicPpaPhoto(MethodView):
    @blp.doc(security=[], responses={200: {"description": "the photo, re-encoded without EXIF",
                                           "content": {t: {"schema": BINARY} for t in ("image/jpeg", "image/png")}}})
    def get(self, ppa_id, photo_id):
        """A completion photo of an enacted PPA, for anyone (404 unless the
        PPA is public and goals.yaml lists photos)."""
        photo = goals.get_public_photo(ppa_id, photo_id)
        return send_attachment(photo, goals.public_photo_name(ppa_id, photo_id, photo.media_type))


@blp.route("/monitoring-entries/<id:ppa_id>/completion-photos")
class CompletionPhotos(MethodView):
    @takes_files
    @blp.arguments(PhotoUploadSchema, location="files")
    @blp.response(201, PhotoSchema, headers=LOCATION_HEADER)
    def post(self, files, ppa_id):
        """Add a photo of the finished work to an enacted PPA, for its public
        page (multipart/form-data, field ``file``; the MOA's focal persons and
        administrators): JPEG or PNG by its content, within feedback.yaml
        photo_max_bytes, at most 12 a PPA; stored without EXIF (no GPS)."""
        upload = files["file"]
        photo = completion_photos.add_completion_photo(current_user(), ppa_id, upload.stream, upload.filename)
        return photo, 201, {"Location": url_for("goals.PublicPpaPhoto", ppa_id=ppa_id, photo_id=photo.id)}


@blp.route("/monitoring-entries/<id:ppa_id>/completion-photos/<id:photo_id>")
class CompletionPhoto(MethodView):
    @blp.response(204)
    def delete(self, ppa_id, photo_id):
        """Remove a completion photo (the MOA's focal persons and
        administrators); idempotent: 204 also when it is already gone."""
        completion_photos.delete_completion_photo(current_user(), ppa_id, photo_id)
        return None, 204
