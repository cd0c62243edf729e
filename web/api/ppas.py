"""``/api/monitoring-entries``: PPAs, their approval actions and history
(docs/design.md §5). Views parse, call one service, serialise."""

from __future__ import annotations

from flask import Response, jsonify, request, url_for
from flask.views import MethodView

from services import approvals, escalations, performance, ppas, tracking
from services.ppas import PpaFilters
from web import jsonio
from web.api.work_items import work_item_links
from web.auth import current_user
from web.contract import (
    ETAG_HEADER,
    IF_NONE_MATCH_PARAMETER,
    LOCATION_HEADER,
    READ_ETAG_HEADER,
    link,
)
from web.pagination import SQLPage
from web.parsing import Blueprint
from web.schemas import (
    ActionsSchema,
    BudgetTreeQuerySchema,
    BudgetTreeSchema,
    CriticalPathSchema,
    DistributeBudgetSchema,
    DistributionSchema,
    EarnedValueQuerySchema,
    EarnedValueSchema,
    EnableTrackingResultSchema,
    EnableTrackingSchema,
    HistoryEntrySchema,
    MoveRequestSchema,
    PpaFilterSchema,
    PpaPatchSchema,
    PpaSchema,
    PpaWriteSchema,
    SimulateActionsSchema,
    SimulatedActionsSchema,
    SyncResultSchema,
    TransitionRequestSchema,
    WorkItemSchema,
)

blp = Blueprint("monitoring-entries", __name__, url_prefix="/api/monitoring-entries",
                description="PPAs (the seeds' monitoring entries): create, read, edit, move through approval.")


PPA = "/api/monitoring-entries/{ppa_id}"
THIS_PPA = {"path.ppa_id": "$response.body#/id"}
WITH_ITS_ETAG = {"header.If-Match": "$response.header.ETag"}
#: What a client can do next with a PPA it was given (OpenAPI links).
PPA_LINKS = {
    "read": link("GET", PPA, "read the PPA", parameters=THIS_PPA),
    "edit": link("PATCH", PPA, "edit the PPA, with its ETag", parameters=THIS_PPA | WITH_ITS_ETAG),
    "actions": link("GET", PPA + "/actions", "what you may do with it now", parameters=THIS_PPA),
    "transition": link("POST", PPA + "/transitions", "move it through approval",
                       parameters=THIS_PPA | WITH_ITS_ETAG),
    "history": link("GET", PPA + "/history", "its approval history", parameters=THIS_PPA),
    "enable_tracking": link("POST", PPA + "/enable_workitem_tracking/", "give it a WBS", parameters=THIS_PPA),
    "tree": link("GET", PPA + "/budget_allocation_tree/", "its WBS and budget tree", parameters=THIS_PPA),
    "distribute": link("POST", PPA + "/distribute_budget/", "distribute its budget", parameters=THIS_PPA),
    "sync": link("POST", PPA + "/sync_from_workitem/", "sync it from its WBS", parameters=THIS_PPA),
    "program_budgets": link("GET", PPA + "/program-budgets", "its money, appropriation to payment",
                            parameters=THIS_PPA),
}


def with_etag(ppa, status: int = 200):
    """``(ppa, status, headers)`` with the PPA's ETag."""
    return ppa, status, {"ETag": ppa.etag}


@blp.route("")
class PpaCollection(MethodView):
    @blp.arguments(PpaFilterSchema, location="query")
    @blp.response(200, PpaSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, filters):
        """List the PPAs you may see (filters: fiscal_year, approval_status,
        status, category, moa, q; paginated with page and page_size)."""
        return ppas.list_ppas_prepared(current_user(), PpaFilters(**filters))

    @blp.links(201, **PPA_LINKS)
    @blp.arguments(PpaWriteSchema)
    @blp.response(201, PpaSchema, headers=ETAG_HEADER | LOCATION_HEADER)
    def post(self, data):
        """Create a PPA in draft for your MOA (administrators: any MOA)."""
        ppa = ppas.create_ppa(current_user(), data)
        _, status, headers = with_etag(ppa, 201)
        headers["Location"] = url_for("monitoring-entries.PpaItem", ppa_id=ppa.id)
        return ppa, status, headers


@blp.route("/<id:ppa_id>")
class PpaItem(MethodView):
    @blp.links(200, **PPA_LINKS)
    @blp.response(200, PpaSchema, headers=ETAG_HEADER)
    def get(self, ppa_id):
        """Read one PPA; the ETag header is its version for If-Match."""
        return with_etag(ppas.get_ppa_or_raise(current_user(), ppa_id, with_expenditure=True))

    @blp.links(200, **PPA_LINKS)
    @blp.arguments(PpaPatchSchema(partial=True))
    @blp.response(200, PpaSchema, headers=ETAG_HEADER)
    def patch(self, data, ppa_id):
        """Change fields of a PPA. Send If-Match with the ETag you read: a
        stale one gets 412, none 428. Content fields change only in draft."""
        return with_etag(ppas.update_ppa(current_user(), ppa_id, data, if_match=request.headers.get("If-Match")))


@blp.route("/<id:ppa_id>/actions")
class PpaActions(MethodView):
    @blp.accepts_if_match
    @blp.response(200, ActionsSchema)
    def get(self, ppa_id):
        """Every approval trigger, whether it is open to you now, and why not."""
        ppa, actions = approvals.available_actions(current_user(), ppa_id, if_match=request.headers.get("If-Match"))
        return {"ppa_id": ppa.id, "approval_status": ppa.approval_status, "version": ppa.version,
                "actions": actions, "escalation": escalations.escalation_of(ppa)}


@blp.route("/<id:ppa_id>/transitions")
class PpaTransitions(MethodView):
    @blp.accepts_if_match
    @blp.links(200, **PPA_LINKS)
    @blp.arguments(TransitionRequestSchema)
    @blp.response(200, PpaSchema, headers=ETAG_HEADER)
    def post(self, data, ppa_id):
        """Fire an approval trigger (submit, approve, enact, reject,
        return_for_revision); returns the PPA in its new stage."""
        ppa = approvals.fire_transition(current_user(), ppa_id, data["trigger"], comment=data.get("comment"),
                                        if_match=request.headers.get("If-Match"))
        return with_etag(ppa)


@blp.route("/<id:ppa_id>/actions/simulate")
class PpaActionsSimulation(MethodView):
    @blp.arguments(SimulateActionsSchema)
    @blp.response(200, SimulatedActionsSchema)
    def post(self, data, ppa_id):
        """Administrators: every approval trigger, whether the named user
        could fire it now, and why not (what their /actions would say);
        nothing is written. 422 for an unknown username."""
        ppa, user, visible, actions = approvals.simulate_actions(current_user(), ppa_id, data["username"])
        return {"ppa_id": ppa.id, "approval_status": ppa.approval_status, "version": ppa.version,
                "username": user.username, "visible": visible, "actions": actions,
                "escalation": escalations.escalation_of(ppa)}


@blp.route("/<id:ppa_id>/actions/move")
class PpaMove(MethodView):
    @blp.accepts_if_match
    @blp.links(200, **PPA_LINKS)
    @blp.arguments(MoveRequestSchema)
    @blp.response(200, PpaSchema, headers=ETAG_HEADER)
    def post(self, data, ppa_id):
        """Administrators' escape hatch: put the PPA in any stage its rule set
        declares, whatever the transitions allow, with a required comment;
        recorded in its history as "move"; no transition's effects run. 422
        for a stage its set lacks."""
        return with_etag(approvals.move_to_stage(current_user(), ppa_id, data["stage"], data["comment"],
                                                 if_match=request.headers.get("If-Match")))


@blp.route("/<id:ppa_id>/history")
class PpaHistory(MethodView):
    @blp.response(200, HistoryEntrySchema(many=True))
    def get(self, ppa_id):
        """The PPA's approval history, oldest first."""
        return approvals.history(current_user(), ppa_id)


# -- execution tracking (docs/design.md §4, §5; the seeds' endpoint names) -------------


@blp.route("/<id:ppa_id>/enable_workitem_tracking/")
class EnableTracking(MethodView):
    @blp.links(201, **work_item_links("$response.body#/execution_project/id", with_etag=False))
    @blp.arguments(EnableTrackingSchema)
    @blp.response(201, EnableTrackingResultSchema)
    @blp.alt_response(200, schema=EnableTrackingResultSchema, description="a dry run: nothing was written")
    def post(self, data, ppa_id):
        """Create the PPA's execution project from a WBS template; 409 when it
        already has one or is in draft or rejected. With "dry_run": true
        (200) nothing is written: the answer (or the refusal) is what the
        same request would get for real, with provisional ids."""
        body = tracking.enable_tracking_answer(current_user(), ppa_id, data.get("structure_template"),
                                               dry_run=data["dry_run"])
        body["execution_project"] = WorkItemSchema().dump(body["execution_project"])
        response = jsonify(body)  # the tree's money is already formatted, as budget_allocation_tree/ answers it
        response.status_code = 200 if data["dry_run"] else 201
        return response


@blp.route("/<id:ppa_id>/budget_allocation_tree/", parameters=[IF_NONE_MATCH_PARAMETER])  # beside the query's
class BudgetAllocationTree(MethodView):
    @blp.arguments(BudgetTreeQuerySchema, location="query")
    @blp.response(200, BudgetTreeSchema, headers=READ_ETAG_HEADER)
    @blp.alt_response(304, description="not modified: the ETag sent in If-None-Match is current; no body",
                      headers=READ_ETAG_HEADER, success=True)
    def get(self, query, ppa_id):
        """The WBS with allocations, rolled-up expenditure, variance and progress; with include=earned_value each
        node's PV, EV, AC, SPI and CPI as of today, with include=critical_path whether it is critical and its
        total float. The ETag names this answer: sent back in If-None-Match while the tree, the PPA, the rule
        set in force, the day (Asia/Manila) and include are unchanged, it gets 304 without a body. Answers are
        cached (docs/design.md §5)."""
        read = tracking.read_budget_tree(current_user(), ppa_id, jsonio.encode, query["include"])
        headers = {"ETag": read.etag}
        if request.if_none_match.contains_weak(read.etag[1:-1]):  # weak comparison, as RFC 9110 §13.1.2 asks
            return Response(status=304, headers=headers)
        return Response(read.body(jsonio.encode), status=200, headers=headers, mimetype="application/json")


@blp.route("/<id:ppa_id>/distribute_budget/")
class DistributeBudget(MethodView):
    @blp.arguments(DistributeBudgetSchema)
    @blp.response(200, DistributionSchema)
    def post(self, data, ppa_id):
        """Split a parent's allocation over its children (equal, weighted) or
        set allocations (manual), all or nothing; returns the tree and what
        changed. With "dry_run": true nothing is written: the answer (or the
        refusal) is what the same request would get for real. Locked
        allocations: 409 budget_locked."""
        return jsonify(tracking.distribute_budget(
            current_user(), ppa_id, data.get("method"), parent_id=data.get("parent_id"),
            weights=data.get("weights"), allocations=data.get("allocations"), dry_run=data["dry_run"]).payload())


@blp.route("/<id:ppa_id>/sync_from_workitem/")
class SyncFromWorkItem(MethodView):
    @blp.response(200, SyncResultSchema)
    def post(self, ppa_id):
        """Sync the PPA's progress and status from its execution project now."""
        return tracking.sync_from_workitem(current_user(), ppa_id)


@blp.route("/<id:ppa_id>/earned_value")
class PpaEarnedValue(MethodView):
    @blp.arguments(EarnedValueQuerySchema, location="query")
    @blp.response(200, EarnedValueSchema)
    def get(self, query, ppa_id):
        """Earned value of the PPA and of each baselined work item as of the end of as_of: BAC, PV, EV, AC, SV,
        CV, EAC, ETC, VAC (PHP strings) and SPI, CPI, TCPI (4-decimal strings, null when undefined). The
        baseline is captured at enactment; a PPA enacted earlier gets one now (baseline_captured_late).
        409 not_tracked without a WBS; 422 when a budgeted leaf has no dates."""
        return performance.earned_value(current_user(), ppa_id, query.get("as_of"))


@blp.route("/<id:ppa_id>/critical_path")
class PpaCriticalPath(MethodView):
    @blp.response(200, CriticalPathSchema)
    def get(self, ppa_id):
        """The schedule of the PPA's dated work items and their finish-to-start dependencies: early and late
        dates, total and free float (days), the critical items and paths. 409 not_tracked without a WBS."""
        return performance.critical_path(current_user(), ppa_id)
