"""``/ppas/<id>/work-items``: the Work items tab of a PPA (issue 11;
docs/design.md §4, §11) — the WBS as a collapsible tree of nested lists,
each item with its type, allocation, expenditure, variance, budget status
(in words, not colour alone), progress, status and due date, and for the
MOA's focal persons the status buttons open from its status, a form to
record expenditure and one to add a work item under it; without a WBS,
"Enable execution tracking" with a template picker.

The tree opens whole levels from the top while it stays within
``FIRST_ROWS`` rows (a template's WBS opens entirely); a closed branch is a
``<details>`` whose children HTMX fetches from the server the first time it
is opened; a long list of children comes ``CHILDREN_PAGE`` at a time. A
form's refusal shows the page again with the message next to the field and
that item's branch open; nothing was saved. What each item offers comes from
``services.outline`` (the rule files), never from this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Blueprint, render_template, request, url_for

from services import alerts, approvals, tracking, work_items
from services.alerts import AlertFilters
from services.outline import Outline, get_outline, require_item_of
from web.ui.filters import money, work_status
from web.ui.forms import EnableTrackingForm, ExpenditureForm, WorkItemForm, choices
from web.ui.pages import first_rows, saved, signed_in, submit
from workflow.tree import Node

bp = Blueprint("work_items", __name__)

#: Rows a tree shows at first; deeper levels open on request.
FIRST_ROWS = 60
#: Children listed at once under one item; "Show more" fetches the next ones.
CHILDREN_PAGE = 100
#: Open alerts shown on the tab (all of them are on /alerts).
ALERTS_SHOWN = 20


def opened_items(outline: Outline, focus: int | None = None) -> set[int]:
    """The items whose children a page shows at first: whole levels from the
    top while the page stays within ``FIRST_ROWS`` rows (the project is
    always open), and every ancestor of ``focus`` (the item just changed)."""
    tree = outline.tree
    opened = {tree.root.id}
    level, shown = list(tree.root.children), 1 + len(tree.root.children)
    while level:
        below = [child for node in level for child in node.children]
        if not below or shown + len(below) > FIRST_ROWS:
            break
        opened.update(node.id for node in level if node.children)
        shown += len(below)
        level = below
    node = tree.by_id.get(focus) if focus is not None else None
    while node is not None and node.parent_id is not None:
        opened.add(node.parent_id)
        node = tree.by_id[node.parent_id]
    return opened


class TreeView:
    """What one rendering of a WBS tree shows (display only): which items
    are open, the page of children under each, each item's dates and forms.

    Args:
        outline: the PPA's outline (``services.outline``).
        mode: ``work`` (the Work items tab: every figure, status buttons and
            forms) or ``budget`` (the Budget tab's breakdown: allocations
            and shares, a link to distribute under each parent).
        opened: ids of the items shown open.
        failed: ``(item id, form)`` of a refused item form, shown with its
            input and errors.
    """

    page_size = CHILDREN_PAGE

    def __init__(self, outline: Outline, mode: str, opened: set[int], failed: tuple[int, object] | None = None):
        self.outline = outline
        self.mode = mode
        self.opened = opened
        self.failed = failed
        self._dates = {}

    def url_with_open(self, node: Node) -> str:
        """This tab with ``node``'s branch open (the link of a closed branch without JavaScript)."""
        endpoint = "ui.budget.overview" if self.mode == "budget" else "ui.work_items.tree"
        return url_for(endpoint, ppa_id=self.outline.ppa.id, open=node.id, _anchor=f"item-{node.id}")

    def page(self, node: Node, offset: int = 0) -> list[Node]:
        """``node``'s children from ``offset``, ``CHILDREN_PAGE`` at most."""
        return node.children[offset:offset + CHILDREN_PAGE]

    def left_after(self, node: Node, offset: int) -> int:
        """How many of ``node``'s children come after the page at ``offset``."""
        return max(0, len(node.children) - offset - CHILDREN_PAGE)

    def is_open(self, node: Node) -> bool:
        return node.id in self.opened

    def prepare(self, nodes: Iterable[Node]) -> TreeView:
        """Read the dates of everything that ``nodes`` show (one statement)."""
        shown, stack = [], list(nodes)
        while stack:
            node = stack.pop()
            shown.append(node.id)
            if node.children and self.is_open(node):
                stack.extend(self.page(node))
        self._dates = self.outline.dates(shown)
        return self

    def dates(self, node: Node):
        return self._dates.get(node.id)

    def _form(self, node: Node, form_class, prefix: str):
        if self.failed and self.failed[0] == node.id and isinstance(self.failed[1], form_class):
            return self.failed[1]
        return form_class(prefix=f"{prefix}-{node.id}", formdata=None)

    def spend_form(self, node: Node) -> ExpenditureForm:
        """The expenditure form of ``node`` (the refused one, if it was)."""
        return self._form(node, ExpenditureForm, "spend")

    def child_form(self, node: Node) -> WorkItemForm:
        """The form adding a work item under ``node``."""
        form = self._form(node, WorkItemForm, "child")
        form.work_type.choices = choices((t, t.replace("_", "-").capitalize())
                                         for t in self.outline.child_types(node))
        return form

    def form_open(self, node: Node, form_class_name: str) -> bool:
        """A refused form of ``node`` is shown open."""
        return bool(self.failed and self.failed[0] == node.id and type(self.failed[1]).__name__ == form_class_name)


def tab_context(user, ppa_id: int, tab: str) -> dict:
    """What the PPA page's layout needs (``ppas/_layout.html``): the PPA, its
    actions as ``user`` sees them, the active tab.

    Raises:
        NotFound: the PPA is not visible to ``user`` (a 404 page).
    """
    ppa, actions = approvals.available_actions(user, ppa_id)
    return {"ppa": ppa, "actions": actions, "active_tab": tab}


def _page(ppa_id: int, *, focus: int | None = None, failed: tuple[int, object] | None = None,
          enable_form: EnableTrackingForm | None = None, status: int = 200):
    user = signed_in()
    context = tab_context(user, ppa_id, "work_items")
    outline = get_outline(user, ppa_id)
    view = None
    if outline.tree is not None:
        view = TreeView(outline, "work", opened_items(outline, focus), failed).prepare([outline.tree.root])
    elif enable_form is None:
        enable_form = EnableTrackingForm(template=outline.default_template())
    if enable_form is not None:
        enable_form.template.choices = choices(outline.templates())
    open_alerts = first_rows(alerts.list_alerts(user, AlertFilters(status="open", ppa=ppa_id)), ALERTS_SHOWN)
    return render_template("ppas/work_items.html", outline=outline, view=view, enable_form=enable_form,
                           alerts=open_alerts, **context), status


def _back_to(ppa_id: int, item_id: int) -> str:
    """The Work items tab with ``item_id`` shown (its branch open)."""
    return url_for(".tree", ppa_id=ppa_id, open=item_id, _anchor=f"item-{item_id}")


@bp.route("/ppas/<id:ppa_id>/work-items")
def tree(ppa_id: int):
    """The Work items tab; ``?open=<item id>`` shows that item's branch open."""
    return _page(ppa_id, focus=request.args.get("open", type=int))


@bp.route("/ppas/<id:ppa_id>/work-items/<id:item_id>/children")
def children(ppa_id: int, item_id: int):
    """An item's children as a list (HTMX, when its branch is first opened),
    or, with ``?offset=``, the next page of them."""
    outline = get_outline(signed_in(), ppa_id)
    node = outline.item(item_id)
    offset = max(0, request.args.get("offset", 0, type=int))
    mode = "budget" if request.args.get("mode") == "budget" else "work"
    view = TreeView(outline, mode, set()).prepare(node.children[offset:offset + CHILDREN_PAGE])
    return render_template("_wbs_children.html", view=view, parent=node, offset=offset)


@bp.route("/ppas/<id:ppa_id>/work-items/tracking", methods=["POST"])
def enable(ppa_id: int):
    """Enable execution tracking with the chosen template; a refusal (already
    tracking, a draft or rejected PPA) is a sentence on the form."""
    user = signed_in()
    form = EnableTrackingForm()
    done, status = submit(form, lambda: tracking.enable_tracking(user, ppa_id, form.template.data or None),
                          lambda result: saved(f"Execution tracking enabled: {len(result[1])} work items generated "
                                               f"from the template.", url_for(".tree", ppa_id=ppa_id)))
    return done or _page(ppa_id, enable_form=form, status=status)


def _item_form(ppa_id: int, item_id: int, form, save: Callable, message: Callable[[dict], str]):
    """Post one item's form: check the item is this PPA's, save, then back to
    the tab at the item; a refusal shows the tab with the form's errors."""
    user = signed_in()
    require_item_of(user, ppa_id, item_id)
    done, status = submit(form, lambda: save(user), lambda view: saved(message(view), _back_to(ppa_id, view["id"])))
    return done or _page(ppa_id, focus=item_id, failed=(item_id, form), status=status)


@bp.route("/ppas/<id:ppa_id>/work-items/<id:item_id>/expenditures", methods=["POST"])
def spend(ppa_id: int, item_id: int):
    """Record expenditure on an item; when it goes over budget the message
    says so (and the alert opened by the same write is listed on the tab)."""
    form = ExpenditureForm(prefix=f"spend-{item_id}")

    def message(view: dict) -> str:
        text = f"{money(form.amount.data)} recorded on “{view['title']}”; it has spent {money(view['expended'])}."
        if view["budget_status"] == "over_budget":
            text += (f" That is {money(-view['variance'])} over its allocation of "
                     f"{money(view['allocated_budget'] or 0)}: a budget variance alert is open.")
        return text

    return _item_form(ppa_id, item_id, form,
                      lambda user: work_items.record_expenditure(user, item_id, form.amount.data), message)


@bp.route("/ppas/<id:ppa_id>/work-items/<id:item_id>/children", methods=["POST"])
def add_child(ppa_id: int, item_id: int):
    """Add a work item under an item (types allowed by the rule files)."""
    form = WorkItemForm(prefix=f"child-{item_id}")

    def save(user):
        fields = {"parent_id": item_id, "work_type": form.work_type.data, "title": form.title.data.strip(),
                  "start_date": form.start_date.data, "due_date": form.due_date.data}
        if form.allocated_budget.data is not None:
            fields["allocated_budget"] = form.allocated_budget.data
        return work_items.create_work_item(user, fields)

    return _item_form(ppa_id, item_id, form, save, lambda view: f"“{view['title']}” added.")


@bp.route("/ppas/<id:ppa_id>/work-items/<id:item_id>/transitions", methods=["POST"])
def fire(ppa_id: int, item_id: int):
    """Fire a status trigger on an item (a button); a refusal is an error page
    with the service's sentence."""
    user = signed_in()
    require_item_of(user, ppa_id, item_id)
    view = work_items.fire_work_item_transition(user, item_id, request.form.get("trigger", ""))
    return saved(f"“{view['title']}” is now {work_status(view['status']).lower()}.", _back_to(ppa_id, item_id))
