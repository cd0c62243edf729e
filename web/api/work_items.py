"""``/api/work-items``: the nodes of a PPA's WBS (docs/design.md §4, §5)."""

from __future__ import annotations

from flask import request, url_for
from flask.views import MethodView

from services import performance, work_items
from web.auth import current_user
from web.contract import ETAG_HEADER, LOCATION_HEADER, link
from web.parsing import Blueprint
from web.schemas import (
    DependenciesSchema,
    DependencyCreateSchema,
    ExpenditureSchema,
    WorkItemCreateSchema,
    WorkItemPatchSchema,
    WorkItemSchema,
    WorkItemTransitionSchema,
)

blp = Blueprint("work-items", __name__, url_prefix="/api/work-items",
                description="Work items of a PPA's work-breakdown structure.")


ITEM = "/api/work-items/{item_id}"


def work_item_links(id_expression: str = "$response.body#/id", *, with_etag: bool = True) -> dict[str, dict]:
    """What a client can do next with a work item it was given (OpenAPI
    links); ``id_expression`` finds the item's id in the response."""
    this = {"path.item_id": id_expression}
    etag = {"header.If-Match": "$response.header.ETag"} if with_etag else {}
    links = {
        "read": link("GET", ITEM, "read the work item", parameters=this),
        "children": link("GET", ITEM + "/children", "its children", parameters=this),
        "add_child": link("POST", "/api/work-items", "add a work item under it", body={"parent_id": id_expression}),
        "spend": link("POST", ITEM + "/expenditures", "record spending on it", parameters=this),
        "transition": link("POST", ITEM + "/transitions", "change its status", parameters=this | etag),
    }
    if with_etag:
        links["edit"] = link("PATCH", ITEM, "edit the work item, with its ETag", parameters=this | etag)
    return links


def with_etag(view: dict, status: int = 200):
    return view, status, {"ETag": view["etag"]}


@blp.route("")
class WorkItemCollection(MethodView):
    @blp.links(201, **work_item_links())
    @blp.arguments(WorkItemCreateSchema)
    @blp.response(201, WorkItemSchema, headers=ETAG_HEADER | LOCATION_HEADER)
    def post(self, data):
        """Add a work item under an existing one (type rules of rules/default/wbs_templates.yaml)."""
        view, status, headers = with_etag(work_items.create_work_item(current_user(), data), 201)
        headers["Location"] = url_for("work-items.WorkItemOne", item_id=view["id"])
        return view, status, headers


@blp.route("/<id:item_id>")
class WorkItemOne(MethodView):
    @blp.links(200, **work_item_links())
    @blp.response(200, WorkItemSchema, headers=ETAG_HEADER)
    def get(self, item_id):
        """One work item with its rollups; the ETag header is its version."""
        return with_etag(work_items.get_work_item(current_user(), item_id))

    @blp.links(200, **work_item_links())
    @blp.arguments(WorkItemPatchSchema(partial=True))
    @blp.response(200, WorkItemSchema, headers=ETAG_HEADER)
    def patch(self, data, item_id):
        """Edit a work item. actual_expenditure may change while the PPA is
        outside the money chain (in it: 409 expenditure_from_disbursements);
        allocated_budget only while unlocked and within the parent's envelope
        (descendants follow in proportion); progress only on leaves. Send
        If-Match: stale -> 412, none -> 428."""
        return with_etag(work_items.update_work_item(current_user(), item_id, data,
                                                     if_match=request.headers.get("If-Match")))


@blp.route("/<id:item_id>/children")
class WorkItemChildren(MethodView):
    @blp.response(200, WorkItemSchema(many=True))
    def get(self, item_id):
        """The direct children, in order, with their rollups."""
        return work_items.list_children(current_user(), item_id)


@blp.route("/<id:item_id>/expenditures")
class WorkItemExpenditures(MethodView):
    @blp.arguments(ExpenditureSchema)
    @blp.response(200, WorkItemSchema, headers=ETAG_HEADER)
    def post(self, data, item_id):
        """Add spending to the item's actual expenditure (a negative amount
        corrects); concurrent additions all count. Refused with 409
        expenditure_from_disbursements for a PPA in the money chain: its
        expenditure is what its disbursements paid."""
        return with_etag(work_items.record_expenditure(current_user(), item_id, data["amount"]))


@blp.route("/<id:item_id>/transitions")
class WorkItemTransitions(MethodView):
    @blp.accepts_if_match
    @blp.arguments(WorkItemTransitionSchema)
    @blp.response(200, WorkItemSchema, headers=ETAG_HEADER)
    def post(self, data, item_id):
        """Fire a status trigger; the PPA follows when auto-sync is on."""
        return with_etag(work_items.fire_work_item_transition(current_user(), item_id, data["trigger"],
                                                              if_match=request.headers.get("If-Match")))


@blp.route("/<id:item_id>/dependencies")
class WorkItemDependencies(MethodView):
    @blp.response(200, DependenciesSchema)
    def get(self, item_id):
        """The work item's finish-to-start predecessors and successors."""
        return performance.list_dependencies(current_user(), item_id)

    @blp.arguments(DependencyCreateSchema)
    @blp.response(200, DependenciesSchema)
    def post(self, data, item_id):
        """Make the item start after predecessor_id finishes (the PPA's focal person). Both must be in one PPA's
        WBS (422 on predecessor_id); a dependency that would close a cycle is refused with 422
        dependency_cycle naming the cycle. Adding an existing one changes nothing."""
        return performance.add_dependency(current_user(), item_id, data["predecessor_id"])


@blp.route("/<id:item_id>/dependencies/<id:predecessor_id>")
class WorkItemDependency(MethodView):
    @blp.response(204)
    def delete(self, item_id, predecessor_id):
        """Remove the item's dependency on predecessor_id (idempotent: none there, nothing changes)."""
        performance.remove_dependency(current_user(), item_id, predecessor_id)
        return None, 204
