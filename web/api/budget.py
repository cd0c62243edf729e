"""Budget preparation and execution over HTTP (seed 003): proposals,
program budgets, justifications, line items, allotments, obligations,
disbursements, and the corrections of posted rows: allotment adjustments,
NORSA obligation adjustments, dated cancellations and voids
(docs/design.md §12 "Posted rows never change"), appropriation
adjustments, allotment realignments and sub-allotments (§12 "Adjustments
and transfers")."""

from __future__ import annotations

from io import BytesIO

from flask import request, send_file
from flask.views import MethodView

from db.models import (
    Allotment,
    BudgetJustification,
    BudgetLineItem,
    Delivery,
    Disbursement,
    Obligation,
    ProgramBudget,
)
from services import adjustments, budget, documents, execution_plans, printing
from web.auth import current_user
from web.contract import BINARY, ETAG_HEADER, PDF, link
from web.pagination import SQLPage, viewed
from web.parsing import Blueprint
from web.schemas import (
    AllotmentAdjustmentCreateSchema,
    AllotmentAdjustmentSchema,
    AllotmentCreateSchema,
    AllotmentRealignmentCreateSchema,
    AllotmentSchema,
    AppropriationAdjustmentCreateSchema,
    AppropriationAdjustmentSchema,
    CancelSchema,
    DeliveryCreateSchema,
    DeliverySchema,
    DisbursementCreateSchema,
    DisbursementSchema,
    DisbursementTransitionSchema,
    DocumentActionsSchema,
    ExecutionPlanSchema,
    HistoryEntrySchema,
    JustificationCreateSchema,
    JustificationSchema,
    LineItemCreateSchema,
    LineItemSchema,
    ObligationAdjustmentCreateSchema,
    ObligationAdjustmentSchema,
    ObligationCreateSchema,
    ObligationSchema,
    PlanReplaceSchema,
    PlanVsActualSchema,
    ProgramBudgetCreateSchema,
    ProgramBudgetPatchSchema,
    ProgramBudgetSchema,
    ProposalActionsSchema,
    ProposalCreateSchema,
    ProposalFilterSchema,
    ProposalSchema,
    SubAllotmentCreateSchema,
    SubAllotmentSchema,
    TransitionRequestSchema,
    VarianceQuerySchema,
    VoidSchema,
)

blp = Blueprint("budget", __name__, url_prefix="/api",
                description="Budget preparation and execution: program budget > allotments > obligations > "
                            "disbursements, each level limited by the one above (enforced by the database).")


THIS = "$response.body#/id"
ITS_ETAG = {"header.If-Match": "$response.header.ETag"}


def _links(path: str, name: str, *, editable: bool = False, cancel: str | None = None,
           children: tuple[str, ...] = (), child: tuple[str, str] | None = None) -> dict[str, dict]:
    """The OpenAPI links of a budget chain record at ``path`` (``{name}`` its
    id): read it, edit or cancel it with its ETag, list its children, create
    the next level under it (``child``: the collection and its field naming
    the parent)."""
    this = {f"path.{name}": THIS}
    out = {"read": link("GET", path, "read it", parameters=this)}
    if editable:
        out["edit"] = link("PATCH", path, "edit it, with its ETag", parameters=this | ITS_ETAG)
    if cancel:
        out[cancel] = link("POST", f"{path}/{cancel}", f"{cancel} it, with its ETag", parameters=this | ITS_ETAG)
    parent = path.rsplit("/", 1)[0] + "/{parent_id}"
    for collection in children:
        out[collection.replace("-", "_")] = link("GET", f"{parent}/{collection}", f"its {collection}",
                                                 parameters={"path.parent_id": THIS})
    if child:
        out["add_" + child[0].rsplit("/", 1)[1].replace("-", "_")] = link(
            "POST", child[0], "create the next level under it", body={child[1]: THIS})
    return out


PROPOSAL_LINKS = _links("/api/budget-proposals/{proposal_id}", "proposal_id",
                        child=("/api/program-budgets", "proposal_id")) | {
    "actions": link("GET", "/api/budget-proposals/{proposal_id}/actions", "what you may do with it now",
                    parameters={"path.proposal_id": THIS}),
    "transition": link("POST", "/api/budget-proposals/{proposal_id}/transitions",
                       "move it through its workflow, with its ETag", parameters={"path.proposal_id": THIS} | ITS_ETAG),
}
PROGRAM_BUDGET_LINKS = _links("/api/program-budgets/{program_budget_id}", "program_budget_id", editable=True,
                              children=("justifications", "line-items", "allotments", "adjustments"),
                              child=("/api/allotments", "program_budget_id"))
ALLOTMENT_LINKS = _links("/api/allotments/{row_id}", "row_id", cancel="cancel",
                         children=("obligations", "adjustments", "sub-allotments"),
                         child=("/api/obligations", "allotment_id"))


def _document_links(path: str) -> dict[str, dict]:
    """The links to an ORS's or DV's workflow: its actions and transitions."""
    this = {"path.row_id": THIS}
    return {"actions": link("GET", f"{path}/actions", "which boxes you may sign now", parameters=this),
            "transition": link("POST", f"{path}/transitions", "sign a box of it, with its ETag",
                               parameters=this | ITS_ETAG)}


OBLIGATION_LINKS = _links("/api/obligations/{row_id}", "row_id", cancel="cancel",
                          children=("disbursements", "adjustments"),
                          child=("/api/disbursements", "obligation_id")) | _document_links("/api/obligations/{row_id}")
DISBURSEMENT_LINKS = _links("/api/disbursements/{row_id}", "row_id", cancel="void") | _document_links(
    "/api/disbursements/{row_id}")


def view(row, status: int = 200):
    """A financial row with its totals and ETag."""
    return budget.as_view(row), status, {"ETag": row.etag}


def _documented(text: str):
    """Give a view function its OpenAPI description (its docstring), which
    the factory below cannot write as a literal."""
    def apply(function):
        function.__doc__ = text
        return function
    return apply


def workflow_views(path: str, name: str, *, id_key: str = "id", actions, actions_schema, actions_doc: str,
                   fire, transition_schema, response_schema, links: dict, transition_doc: str,
                   render=view, history, history_doc: str, blueprint: Blueprint | None = None) -> None:
    """Register the three workflow routes of a record kind moved by the one
    workflow engine (budget proposals, ORS, DV: docs/design.md §12):
    ``GET {path}/actions`` (every step, open to the caller now or why not),
    ``POST {path}/transitions`` (fire one, with ``If-Match``) and
    ``GET {path}/history`` (the steps, oldest first).

    Args:
        path: the record's route, its id the one converter (e.g.
            ``"/obligations/<id:row_id>"``).
        name: the views' prefix (``"Obligation"`` gives ``ObligationActions``,
            ``ObligationTransitions``, ``ObligationHistory``, the endpoints).
        id_key: the key of the record's id in the actions reply.
        actions: ``(user, id, *, if_match) -> (record, actions)``.
        fire: ``(user, id, trigger, *, comment, if_match, **fields) -> record``;
            ``fields`` are the rest of ``transition_schema`` (Box E's of a DV).
        history: ``(user, id) -> list``.
        render: the transition's reply from the record (default: with its totals, ``view``).
        actions_doc, transition_doc, history_doc: the operations' descriptions.
        blueprint: where the routes go (default: this module's ``blp``;
            community needs pass theirs).
    """
    bp = blueprint or blp

    def record_id(ids: dict) -> int:
        (value,) = ids.values()
        return value

    @bp.accepts_if_match
    @bp.response(200, actions_schema)
    @_documented(actions_doc)
    def get_actions(self, **ids):
        record, open_or_not = actions(current_user(), record_id(ids), if_match=request.headers.get("If-Match"))
        return {id_key: record.id, "status": record.status, "version": record.version, "actions": open_or_not}

    @bp.accepts_if_match
    @bp.links(200, **links)
    @bp.arguments(transition_schema)
    @bp.response(200, response_schema, headers=ETAG_HEADER)
    @_documented(transition_doc)
    def post_transition(self, data, **ids):
        data = dict(data)
        return render(fire(current_user(), record_id(ids), data.pop("trigger"), comment=data.pop("comment", None),
                           if_match=request.headers.get("If-Match"), **data))

    @bp.response(200, HistoryEntrySchema(many=True))
    @_documented(history_doc)
    def get_history(self, **ids):
        return history(current_user(), record_id(ids))

    for suffix, method, function in (("actions", "get", get_actions), ("transitions", "post", post_transition),
                                     ("history", "get", get_history)):
        bp.route(f"{path}/{suffix}")(type(name + suffix.capitalize(), (MethodView,), {method: function}))


@blp.route("/budget-proposals")
class Proposals(MethodView):
    @blp.arguments(ProposalFilterSchema, location="query")
    @blp.response(200, ProposalSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, filters):
        """Budget proposals you may see (filters: fiscal_year, moa)."""
        return budget.list_proposals(current_user(), **filters)

    @blp.links(201, **PROPOSAL_LINKS)
    @blp.arguments(ProposalCreateSchema)
    @blp.response(201, ProposalSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Open an organization's proposal for a fiscal year (one per year), in draft."""
        proposal = budget.create_proposal(current_user(), **data)
        return proposal, 201, {"ETag": proposal.etag}


@blp.route("/budget-proposals/<id:proposal_id>")
class Proposal(MethodView):
    @blp.response(200, ProposalSchema, headers=ETAG_HEADER)
    def get(self, proposal_id):
        """One budget proposal."""
        proposal = budget.get_proposal_or_raise(current_user(), proposal_id)
        return proposal, 200, {"ETag": proposal.etag}


workflow_views(
    "/budget-proposals/<id:proposal_id>", "Proposal", id_key="proposal_id",
    actions=budget.proposal_actions, actions_schema=ProposalActionsSchema,
    actions_doc="""Every step of the proposal workflow (submit, review, enact,
        return_for_revision), whether it is open to you now, and why not.""",
    fire=budget.fire_proposal_transition, transition_schema=TransitionRequestSchema, response_schema=ProposalSchema,
    links=PROPOSAL_LINKS, render=lambda proposal: (proposal, 200, {"ETag": proposal.etag}),
    transition_doc="""Fire a step of the proposal workflow: submit (the MOA), review and
        enact (MFBM, two different people), return_for_revision (with a
        comment). Whoever submitted cannot review; whoever reviewed cannot enact.""",
    history=budget.proposal_history,
    history_doc="The proposal's steps, oldest first, each with the rule-set hash.")


@blp.route("/program-budgets")
class ProgramBudgets(MethodView):
    @blp.arguments(ProgramBudgetCreateSchema)
    @blp.links(201, **PROGRAM_BUDGET_LINKS)
    @blp.response(201, ProgramBudgetSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Appropriate amounts per allotment class for a PPA past budget review, within its
        organization's proposal (budget analysts); never above the PPA's budget (409)."""
        return view(budget.create_program_budget(current_user(), **data), 201)


@blp.route("/program-budgets/<id:program_budget_id>")
class ProgramBudgetOne(MethodView):
    @blp.links(200, **PROGRAM_BUDGET_LINKS)
    @blp.response(200, ProgramBudgetSchema, headers=ETAG_HEADER)
    def get(self, program_budget_id):
        """A program budget with allotted, obligated and disbursed totals and balances."""
        return view(budget.get_or_raise(current_user(), ProgramBudget, program_budget_id))

    @blp.arguments(ProgramBudgetPatchSchema)
    @blp.links(200, **PROGRAM_BUDGET_LINKS)
    @blp.response(200, ProgramBudgetSchema, headers=ETAG_HEADER)
    def patch(self, data, program_budget_id):
        """Change the class amounts before the proposal is enacted (never below what is
        allotted or a class's line items). Send
        If-Match with the ETag you read: a stale one gets 412, none 428."""
        return view(budget.update_program_budget(current_user(), program_budget_id,
                                                 if_match=request.headers.get("If-Match"), **data))


def _children(parent_model, column, schema):
    """A GET view listing the rows whose ``column`` points at a parent the
    caller may see, each with the totals its single read has."""

    @blp.response(200, schema(many=True))
    @blp.paginate(viewed(budget.as_view))
    def get(self, parent_id):
        return budget.list_children(current_user(), parent_model, parent_id, column)

    return get


@blp.route("/program-budgets/<id:parent_id>/adjustments")
class AppropriationAdjustments(MethodView):
    @blp.response(200, AppropriationAdjustmentSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, parent_id):
        """The program budget's appropriation adjustments (augmentations, modifications, transfers), oldest
        first; a transfer's two rows are listed under their own program budgets."""
        return adjustments.list_appropriation_adjustments(current_user(), parent_id)

    @blp.arguments(AppropriationAdjustmentCreateSchema)
    @blp.response(201, AppropriationAdjustmentSchema(many=True))
    def post(self, data, parent_id):
        """Augment, modify (between classes) or transfer (to another program budget of the same MOA and fiscal
        year) an appropriation (budget analysts): new rows, a pair summing to zero for a modification or
        transfer; the program budget never changes. Refused with 409 budget_limit_exceeded below what is
        allotted, above_ppa_budget, not_appropriated, period_closed."""
        return adjustments.adjust_appropriation(current_user(), parent_id, **data)


@blp.route("/program-budgets/<id:parent_id>/justifications")
class Justifications(MethodView):
    get = _children(ProgramBudget, BudgetJustification.program_budget_id, JustificationSchema)

    @blp.arguments(JustificationCreateSchema)
    @blp.response(201, JustificationSchema)
    def post(self, data, parent_id):
        """Attach a justification."""
        return budget.add_justification(current_user(), parent_id, **data)


@blp.route("/program-budgets/<id:parent_id>/line-items")
class LineItems(MethodView):
    get = _children(ProgramBudget, BudgetLineItem.program_budget_id, LineItemSchema)

    @blp.arguments(LineItemCreateSchema)
    @blp.response(201, LineItemSchema)
    def post(self, data, parent_id):
        """Add a line item by UACS object code (e.g. 50202010-01)."""
        return budget.add_line_item(current_user(), parent_id, **data)


@blp.route("/program-budgets/<id:parent_id>/allotments")
class ProgramBudgetAllotments(MethodView):
    get = _children(ProgramBudget, Allotment.program_budget_id, AllotmentSchema)


@blp.route("/allotments")
class Allotments(MethodView):
    @blp.arguments(AllotmentCreateSchema)
    @blp.links(201, **ALLOTMENT_LINKS)
    @blp.response(201, AllotmentSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Release a quarterly allotment (budget analysts; enacted PPAs); refused
        with 409 budget_limit_exceeded above the approved amount."""
        return view(budget.release_allotment(current_user(), **data), 201)


@blp.route("/allotments/<id:row_id>")
class AllotmentOne(MethodView):
    @blp.links(200, **ALLOTMENT_LINKS)
    @blp.response(200, AllotmentSchema, headers=ETAG_HEADER)
    def get(self, row_id):
        """An allotment with what is obligated and still available."""
        return view(budget.get_or_raise(current_user(), Allotment, row_id))


@blp.route("/allotments/<id:row_id>/cancel")
class AllotmentCancel(MethodView):
    @blp.accepts_if_match
    @blp.arguments(CancelSchema)
    @blp.links(200, **ALLOTMENT_LINKS)
    @blp.response(200, AllotmentSchema, headers=ETAG_HEADER)
    def post(self, data, row_id):
        """Cancel an allotment without active obligations; its amount returns to the program budget. The
        reversal posts in the quarter of ``cancelled_on`` (default today in Asia/Manila)."""
        return view(budget.cancel_allotment(current_user(), row_id, reason=data["reason"],
                                            cancelled_on=data.get("cancelled_on"),
                                            if_match=request.headers.get("If-Match")))


@blp.route("/allotments/<id:parent_id>/adjustments")
class AllotmentAdjustments(MethodView):
    @blp.response(200, AllotmentAdjustmentSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, parent_id):
        """The allotment's adjustments (reductions, withdrawals, augmentations), oldest first."""
        return budget.list_adjustments(current_user(), Allotment, parent_id)

    @blp.arguments(AllotmentAdjustmentCreateSchema)
    @blp.response(201, AllotmentAdjustmentSchema)
    def post(self, data, parent_id):
        """Reduce, withdraw from or augment an allotment (budget analysts): a new row, the allotment never
        changes. Refused with 409 budget_limit_exceeded above the program budget or below what is obligated."""
        return budget.adjust_allotment(current_user(), parent_id, **data)


@blp.route("/allotments/<id:parent_id>/realignments")
class AllotmentRealignments(MethodView):
    @blp.arguments(AllotmentRealignmentCreateSchema)
    @blp.response(201, AllotmentAdjustmentSchema(many=True))
    def post(self, data, parent_id):
        """Realign an amount from this allotment to another of the same program budget and MOA (the MOA's
        budget officer or a budget analyst): a pair of adjustments of kind realignment, listed under each
        allotment's adjustments. Refused with 409 budget_limit_exceeded below what is obligated."""
        return adjustments.realign_allotment(current_user(), parent_id, **data)


@blp.route("/allotments/<id:parent_id>/sub-allotments")
class SubAllotments(MethodView):
    @blp.response(200, SubAllotmentSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, parent_id):
        """The sub-allotments this allotment gave (its transfers to) or, for an allotment received, the one it
        came from (its transfer from), oldest first."""
        return adjustments.list_sub_allotments(current_user(), parent_id)

    @blp.arguments(SubAllotmentCreateSchema)
    @blp.response(201, SubAllotmentSchema)
    def post(self, data, parent_id):
        """Sub-allot part of this allotment to another MOA or operating unit (the MOA's budget officer or a
        budget analyst): the giver's allotment takes an adjustment (transfer to), the receiver gets an
        allotment it obligates against (transfer from). Refused above the unused allotment (409
        budget_limit_exceeded), to itself (422), in a closed period (409 period_closed)."""
        return adjustments.sub_allot(current_user(), parent_id, **data)


@blp.route("/allotments/<id:parent_id>/obligations")
class AllotmentObligations(MethodView):
    get = _children(Allotment, Obligation.allotment_id, ObligationSchema)


@blp.route("/obligations")
class Obligations(MethodView):
    @blp.arguments(ObligationCreateSchema)
    @blp.links(201, **OBLIGATION_LINKS)
    @blp.response(201, ObligationSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Prepare an ORS against an allotment (the MOA), as a draft: it obligates only at Box B
        (``POST .../transitions``). Refused with 409 above what the allotment has left."""
        return view(budget.record_obligation(current_user(), **data), 201)


@blp.route("/obligations/<id:row_id>")
class ObligationOne(MethodView):
    @blp.links(200, **OBLIGATION_LINKS)
    @blp.response(200, ObligationSchema, headers=ETAG_HEADER)
    def get(self, row_id):
        """An obligation with what is disbursed and its balance."""
        return view(budget.get_or_raise(current_user(), Obligation, row_id))


workflow_views(
    "/obligations/<id:row_id>", "Obligation",
    actions=documents.obligation_actions, actions_schema=DocumentActionsSchema,
    actions_doc="""Every box of the ORS workflow (certify_charges: Box A, certify_obligation: Box B, cancel),
        whether you may sign it now, and why not, in words.""",
    fire=documents.fire_obligation_transition, transition_schema=TransitionRequestSchema,
    response_schema=ObligationSchema, links=OBLIGATION_LINKS,
    transition_doc="""Sign a box of the ORS: certify_charges (Box A, head of the requesting office or of agency),
        certify_obligation (Box B, the budget officer: this obligates it), or cancel a draft (comment
        required). Whoever prepared it signs no box; one person signs one box.""",
    history=documents.obligation_history,
    history_doc="The ORS's signed boxes, oldest first, each with its signer, delegator and rule-set hash.")


@blp.route("/obligations/<id:row_id>/cancel")
class ObligationCancel(MethodView):
    @blp.accepts_if_match
    @blp.arguments(CancelSchema)
    @blp.links(200, **OBLIGATION_LINKS)
    @blp.response(200, ObligationSchema, headers=ETAG_HEADER)
    def post(self, data, row_id):
        """Cancel an obligation without disbursements; its amount returns to the allotment. The reversal posts
        in the quarter of ``cancelled_on`` (default today in Asia/Manila)."""
        return view(budget.cancel_obligation(current_user(), row_id, reason=data["reason"],
                                             cancelled_on=data.get("cancelled_on"),
                                             if_match=request.headers.get("If-Match")))


@blp.route("/obligations/<id:parent_id>/adjustments")
class ObligationAdjustments(MethodView):
    @blp.response(200, ObligationAdjustmentSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, parent_id):
        """The obligation's NORSA adjustments, oldest first."""
        return budget.list_adjustments(current_user(), Obligation, parent_id)

    @blp.arguments(ObligationAdjustmentCreateSchema)
    @blp.response(201, ObligationAdjustmentSchema)
    def post(self, data, parent_id):
        """Record a NORSA (the MOA): a signed amount added to the obligation, a new row; the ORS never
        changes. Refused with 409 budget_limit_exceeded above the allotment or below what is disbursed."""
        return budget.adjust_obligation(current_user(), parent_id, **data)


@blp.route("/obligations/<id:parent_id>/deliveries")
class ObligationDeliveries(MethodView):
    get = _children(Obligation, Delivery.obligation_id, DeliverySchema)

    @blp.arguments(DeliveryCreateSchema)
    @blp.response(201, DeliverySchema)
    def post(self, data, parent_id):
        """Record a delivery accepted against the obligation (the MOA): it
        becomes due and demandable until paid; never above the obligation (422)."""
        return budget.record_delivery(current_user(), parent_id, **data)


@blp.route("/obligations/<id:parent_id>/disbursements")
class ObligationDisbursements(MethodView):
    get = _children(Obligation, Disbursement.obligation_id, DisbursementSchema)


@blp.route("/disbursements")
class Disbursements(MethodView):
    @blp.arguments(DisbursementCreateSchema)
    @blp.links(201, **DISBURSEMENT_LINKS)
    @blp.response(201, DisbursementSchema, headers=ETAG_HEADER)
    def post(self, data):
        """Prepare a DV against an obligated ORS (the MOA), as a draft: it is paid only at Box E
        (``pay``). Refused with 409 above the ORS's balance."""
        return view(budget.record_disbursement(current_user(), **data), 201)


@blp.route("/disbursements/<id:row_id>")
class DisbursementOne(MethodView):
    @blp.links(200, **DISBURSEMENT_LINKS)
    @blp.response(200, DisbursementSchema, headers=ETAG_HEADER)
    def get(self, row_id):
        """A disbursement."""
        return view(budget.get_or_raise(current_user(), Disbursement, row_id))


workflow_views(
    "/disbursements/<id:row_id>", "Disbursement",
    actions=documents.disbursement_actions, actions_schema=DocumentActionsSchema,
    actions_doc="""Every box of the DV workflow (certify_necessary, record_entry, certify_cash, approve_payment,
        pay, cancel), whether you may sign it now, and why not, in words.""",
    fire=documents.fire_disbursement_transition, transition_schema=DisbursementTransitionSchema,
    response_schema=DisbursementSchema, links=DISBURSEMENT_LINKS,
    transition_doc="""Sign a box of the DV: A certify_necessary, B record_entry, C certify_cash, D approve_payment,
        E pay (with check_ada_number, check_ada_date and jev_number: this pays it, dated the check/ADA
        issue date), or cancel one not yet paid (comment required).""",
    history=documents.disbursement_history,
    history_doc="The DV's signed boxes, oldest first, each with its signer, delegator and rule-set hash.")


@blp.route("/disbursements/<id:row_id>/void")
class DisbursementVoid(MethodView):
    @blp.accepts_if_match
    @blp.arguments(VoidSchema)
    @blp.links(200, **DISBURSEMENT_LINKS)
    @blp.response(200, DisbursementSchema, headers=ETAG_HEADER)
    def post(self, data, row_id):
        """Void a disbursement; its amount returns to the obligation. The reversal posts in the quarter of
        ``voided_on`` (default today in Asia/Manila), never in the DV's own quarter."""
        return view(budget.void_disbursement(current_user(), row_id, reason=data["reason"],
                                             voided_on=data.get("voided_on"),
                                             if_match=request.headers.get("If-Match")))


@blp.route("/monitoring-entries/<id:ppa_id>/program-budgets")
class PpaProgramBudgets(MethodView):
    @blp.response(200, ProgramBudgetSchema(many=True))
    def get(self, ppa_id):
        """The PPA's program budgets with their totals: its money from appropriation to payment."""
        return [budget.as_view(pb) for pb in budget.program_budgets_of(current_user(), ppa_id)]


@blp.route("/monitoring-entries/<id:ppa_id>/execution-plan")
class PpaExecutionPlan(MethodView):
    @blp.response(200, ExecutionPlanSchema)
    def get(self, ppa_id):
        """The PPA's budget execution documents for its fiscal year: BED No. 1 (obligations planned) and
        BED No. 3 (disbursements planned) by month and allotment class, with totals per month, per class and
        January through each month, and its appropriation per class."""
        return execution_plans.get_plan(current_user(), ppa_id)

    @blp.arguments(PlanReplaceSchema)
    @blp.response(200, ExecutionPlanSchema)
    def put(self, data, ppa_id):
        """Replace the plan (the PPA's MOA focal person or budget officer), all lines at once. Only for an
        appropriated PPA (409 not_appropriated); a class's obligations or disbursements planned above its
        appropriation, a month and class sent twice: 422 on the line (lines.<i>.<field>), nothing changed."""
        return execution_plans.set_plan(current_user(), ppa_id, data["lines"])


@blp.route("/monitoring-entries/<id:ppa_id>/execution-plan/variance")
class PpaPlanVsActual(MethodView):
    @blp.arguments(VarianceQuerySchema, location="query")
    @blp.response(200, PlanVsActualSchema)
    def get(self, query, ppa_id):
        """The plan against the actual by month: obligations (ORS posted at Box B, NORSA, cancellations) and
        disbursements (DV paid at Box E, voids) dated on or before as_of, each in the month of its date; the
        variances (actual - planned) and rates (cumulative actual / cumulative planned)."""
        return execution_plans.plan_vs_actual(current_user(), ppa_id, query.get("as_of"))


def _form(data: bytes, name: str):
    return send_file(BytesIO(data), mimetype=PDF, as_attachment=True, download_name=name)


@blp.route("/obligations/<id:row_id>/form.pdf")
class ObligationForm(MethodView):
    @blp.response(200, BINARY, content_type=PDF, description="the ORS form (A4 portrait)")
    def get(self, row_id):
        """The ORS printed as GAM Appendix 11 for filing: its fields, Boxes A and B with the printed name,
        position and date of who signed each in ppaflow and blank lines for the wet signatures; marked
        "DRAFT — NOT SIGNED" until Box B. 404 when you may not see the ORS (docs/design.md §8 "Forms")."""
        return _form(printing.ors_form_pdf(current_user(), row_id), f"ppaflow-ors-{row_id}.pdf")


@blp.route("/disbursements/<id:row_id>/form.pdf")
class DisbursementForm(MethodView):
    @blp.response(200, BINARY, content_type=PDF, description="the DV form (A4 portrait)")
    def get(self, row_id):
        """The DV printed as GAM Appendix 32 for filing: its fields, the mode of payment ticked, Boxes A–E
        with the printed name, position and date of who signed each in ppaflow and blank lines for the wet
        signatures, the check/ADA and JEV numbers; marked "DRAFT — NOT SIGNED" until Box E. 404 when you
        may not see the DV (docs/design.md §8 "Forms")."""
        return _form(printing.dv_form_pdf(current_user(), row_id), f"ppaflow-dv-{row_id}.pdf")
