"""``/ppas/<id>/work-items``: the Work items tab of a PPA (issue 11;
docs/design.md §4, §11) — the WBS as a collapsible tree of nested lists,
each item with its type, allocation, expenditure, variance, budget status
(in words, not colour alone), progress, status, due date, SPI and CPI as of
today, and "Critical path" (in words and a class) on the critical items
(docs/design.md §15), and for the
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

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, render_template, request, url_for
from flask_wtf import FlaskForm

from db.models import User
from services import alerts, performance, tracking, work_items
from services.alerts import AlertFilters
from services.outline import Outline, get_outline, require_item_of
from web import jsonio
from web.ui.filters import money, work_status
from web.ui.forms import EnableTrackingForm, ExpenditureForm, WorkItemForm, choices
from web.ui.pages import first_rows, saved, signed_in, submit
from web.ui.ppas import tab_context
from workflow.errors import NotFound, ValidationFailed
from workflow.tree import Node

bp = Blueprint("work_items", __name__)

#: Rows a tree shows at first; deeper levels open on request.
FIRST_ROWS = 60
#: Children listed at once under one item; "Show more" fetches the next ones.
CHILDREN_PAGE = 100
#: Open alerts shown on the tab (all of them are on /alerts).
ALERTS_SHOWN = 20
#: The forms each item has: record expenditure, add a work item under it.
FORM_KINDS = ("spend", "child")
#: The item id a URL pattern is built with (``TreeView.url``); no real id looks like it.
URL_SLOT = 918273645


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


@dataclass(frozen=True)
class NodePerformance:
    """What the Work items tab shows of an item's schedule and cost
    performance as of today (``services.performance.tree_figures``, the
    budget tree API's ``?include=``): ``spi`` and ``cpi`` as 4-decimal
    strings (``None``: not measured or undefined), ``critical`` (on the
    critical path) and its ``total_float_days`` (``None``: not scheduled)."""

    spi: str | None = None
    cpi: str | None = None
    critical: bool = False
    total_float_days: int | None = None

    @property
    def css_class(self) -> str:
        """The item's classes: ``wbs-item``, and ``wbs-critical`` on the
        critical path (the page says so in words too)."""
        return "wbs-item wbs-critical" if self.critical else "wbs-item"


NOT_MEASURED = NodePerformance()


class TreeView:
    """What one rendering of a WBS tree shows (display only): which items
    are open, the page of children under each, each item's dates and forms.

    Args:
        outline: the PPA's outline (``services.outline``).
        mode: ``work`` (the Work items tab: every figure, status buttons and
            forms) or ``budget`` (the Budget tab's breakdown: allocations
            and shares, a link to distribute under each parent).
        opened: ids of the items shown open.
        form: ``(item id, kind, form)``: the item form shown open — one
            that was refused (with its input and errors), or asked for
            (``form`` ``None``: a fresh one).
    """

    page_size = CHILDREN_PAGE

    def __init__(self, outline: Outline, mode: str, opened: set[int], *,
                 form: tuple[int, str, FlaskForm | None] | None = None):
        self.outline = outline
        self.mode = mode
        self.opened = opened
        self.form = form
        self._dates = {}
        self._performance: dict[int, NodePerformance] = {}
        self._urls: dict[tuple, str] = {}

    def url(self, endpoint: str, node: Node, **args) -> str:
        """``url_for(endpoint, ppa_id=…, item_id=node.id, **args)``, built
        once per endpoint and arguments and then filled in with the id (a
        page links each of its items several times)."""
        return self._filled(endpoint, node, item_id=URL_SLOT, **args)

    def _filled(self, endpoint: str, node: Node, **args) -> str:
        key = (endpoint, tuple(sorted(args.items())))
        pattern = self._urls.get(key)
        if pattern is None:
            pattern = self._urls[key] = url_for(endpoint, ppa_id=self.outline.ppa.id, **args)
        return pattern.replace(str(URL_SLOT), str(node.id))

    def url_with_open(self, node: Node, **args) -> str:
        """This tab with ``node``'s branch open (and, with ``form=``, one of
        its forms): the links of closed branches and forms without JavaScript."""
        endpoint = "ui.budget.overview" if self.mode == "budget" else "ui.work_items.tree"
        return self._filled(endpoint, node, open=URL_SLOT, _anchor=f"item-{URL_SLOT}", **args)

    def page(self, node: Node, offset: int = 0) -> list[Node]:
        """``node``'s children from ``offset``, ``CHILDREN_PAGE`` at most."""
        return node.children[offset:offset + CHILDREN_PAGE]

    def left_after(self, node: Node, offset: int) -> int:
        """How many of ``node``'s children come after the page at ``offset``."""
        return max(0, len(node.children) - offset - CHILDREN_PAGE)

    def is_open(self, node: Node) -> bool:
        """``node``'s children are shown (else its branch opens on request)."""
        return node.id in self.opened

    def prepare(self, nodes: Iterable[Node], user: User | None = None) -> TreeView:
        """Read the dates of everything that ``nodes`` show (one statement)
        and, on the Work items tab (given the ``user`` reading it), every
        item's SPI, CPI and place on the critical path as of today
        (``tree_performance``)."""
        shown, stack = [], list(nodes)
        while stack:
            node = stack.pop()
            shown.append(node.id)
            if node.children and self.is_open(node):
                stack.extend(self.page(node))
        self._dates = self.outline.dates(shown)
        if self.mode == "work" and user is not None:
            self._performance = tree_performance(user, self.outline.ppa.id)
        return self

    def performance(self, node: Node) -> NodePerformance:
        """``node``'s SPI, CPI and place on the critical path, read by
        ``prepare`` (nothing measured on the Budget tab)."""
        return self._performance.get(node.id, NOT_MEASURED)

    def dates(self, node: Node):
        """``node``'s planned dates (``services.outline.WorkItemDates``), read by ``prepare``."""
        return self._dates.get(node.id)

    def form_shown(self, node: Node, kind: str) -> bool:
        """``node``'s form ``kind`` (``spend``, ``child``) is shown open: it
        was refused, or asked for; the others open on request (HTMX)."""
        return self.form is not None and self.form[:2] == (node.id, kind)

    def _form(self, node: Node, kind: str, form_class):
        if self.form is not None and self.form[:2] == (node.id, kind) and self.form[2] is not None:
            return self.form[2]
        return form_class(prefix=f"{kind}-{node.id}", formdata=None)

    def spend_form(self, node: Node) -> ExpenditureForm:
        """The expenditure form of ``node`` (the refused one, if it was)."""
        return self._form(node, "spend", ExpenditureForm)

    def child_form(self, node: Node) -> WorkItemForm:
        """The form adding a work item under ``node``."""
        form = self._form(node, "child", WorkItemForm)
        form.work_type.choices = choices((t, t.replace("_", "-").capitalize())
                                         for t in self.outline.child_types(node))
        return form


def tree_performance(user: User, ppa_id: int) -> dict[int, NodePerformance]:
    """Every work item's SPI, CPI and place on the critical path as of
    today, as the budget tree API gives them
    (``?include=earned_value,critical_path``): read through
    ``services.tracking.read_budget_tree``, so that a page shown again the
    same day, the tree unchanged, takes them from the tree's cache (one
    statement and a cache get) instead of measuring the WBS again
    (``services.performance.tree_figures``; docs/design.md §5, §15).

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    read = tracking.read_budget_tree(user, ppa_id, jsonio.encode, performance.TREE_FIGURES)
    out, stack = {}, list(json.loads(read.body(jsonio.encode))["breakdown"])
    while stack:
        node = stack.pop()
        value = node["earned_value"] or {}
        out[node["work_item_id"]] = NodePerformance(value.get("spi"), value.get("cpi"), node["critical"],
                                                    node["total_float_days"])
        stack.extend(node["children"])
    return out


def over_allocations(error: ValidationFailed) -> dict[str, str]:
    """The items a refused allocation would overfill (``over_allocated`` of
    ``services.trees.apply_allocations``), by id, each as a sentence with
    its amounts in pesos."""
    sentences = {}
    for over in error.extra.get("over_allocated", []):
        total, limit = Decimal(over["children_total"]), Decimal(over["allocation"])
        sentences[str(over["work_item_id"])] = (
            f"The work items under “{over['title']}” would hold {money(total)}, {money(total - limit)} more than "
            f"its allocation of {money(limit)}. Lower them by at least {money(total - limit)}.")
    return sentences


def _page(ppa_id: int, *, focus: int | None = None, form: tuple[int, str, FlaskForm | None] | None = None,
          enable_form: EnableTrackingForm | None = None, status: int = 200):
    user = signed_in()
    context = tab_context(user, ppa_id, "work_items")
    outline = get_outline(user, ppa_id)
    view = None
    if outline.tree is not None:
        view = TreeView(outline, "work", opened_items(outline, focus), form=form).prepare([outline.tree.root], user)
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
    """The Work items tab; ``?open=<item id>`` shows that item's branch open,
    and ``&form=spend|child`` one of its forms."""
    focus, kind = request.args.get("open", type=int), request.args.get("form")
    return _page(ppa_id, focus=focus, form=(focus, kind, None) if focus and kind in FORM_KINDS else None)


@bp.route("/ppas/<id:ppa_id>/work-items/<id:item_id>/forms/<kind>")
def item_form(ppa_id: int, item_id: int, kind: str):
    """One item's form (HTMX, when it is first opened)."""
    if kind not in FORM_KINDS:
        raise NotFound(f"no form {kind!r}")
    outline = get_outline(signed_in(), ppa_id)
    node = outline.item(item_id)
    if not outline.may_edit:
        raise NotFound(f"no form {kind!r} for you on work item {item_id}")
    return render_template("_item_form.html", view=TreeView(outline, "work", set()), node=node, kind=kind)


@bp.route("/ppas/<id:ppa_id>/work-items/<id:item_id>/children")
def children(ppa_id: int, item_id: int):
    """An item's children as a list (HTMX, when its branch is first opened),
    or, with ``?offset=``, the next page of them."""
    user = signed_in()
    outline = get_outline(user, ppa_id)
    node = outline.item(item_id)
    offset = max(0, request.args.get("offset", 0, type=int))
    mode = "budget" if request.args.get("mode") == "budget" else "work"
    view = TreeView(outline, mode, set()).prepare(node.children[offset:offset + CHILDREN_PAGE], user)
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


def _item_form(ppa_id: int, item_id: int, kind: str, form, save: Callable, message: Callable[[dict], str]):
    """Post one item's form: check the item is this PPA's, save, then back to
    the tab at the item; a refusal shows the tab with the form's errors."""
    user = signed_in()
    require_item_of(user, ppa_id, item_id)
    done, status = submit(form, lambda: save(user), lambda view: saved(message(view), _back_to(ppa_id, view["id"])))
    return done or _page(ppa_id, focus=item_id, form=(item_id, kind, form), status=status)


@bp.route("/ppas/<id:ppa_id>/work-items/<id:item_id>/expenditures", methods=["POST"])
def spend(ppa_id: int, item_id: int):
    """Record expenditure on an item; when it goes over budget the message
    says so (and the alert opened by the same write is listed on the tab)."""
    form = ExpenditureForm(prefix=f"spend-{item_id}")  # as TreeView renders it

    def message(view: dict) -> str:
        text = f"{money(form.amount.data)} recorded on “{view['title']}”; it has spent {money(view['expended'])}."
        if view["budget_status"] == "over_budget":
            text += (f" That is {money(-view['variance'])} over its allocation of "
                     f"{money(view['allocated_budget'] or 0)}: a budget variance alert is open.")
        return text

    return _item_form(ppa_id, item_id, "spend", form,
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
        try:
            return work_items.create_work_item(user, fields)
        except ValidationFailed as error:  # the parent would be overfilled: say so at the new allocation
            over = over_allocations(error)
            if not over:
                raise
            raise ValidationFailed({"allocated_budget": list(over.values())} | {
                name: messages for name, messages in error.errors.items()
                if name.partition(".")[2] not in over}) from None

    return _item_form(ppa_id, item_id, "child", form, save, lambda view: f"“{view['title']}” added.")


@bp.route("/ppas/<id:ppa_id>/work-items/<id:item_id>/transitions", methods=["POST"])
def fire(ppa_id: int, item_id: int):
    """Fire a status trigger on an item (a button); a refusal is an error page
    with the service's sentence."""
    user = signed_in()
    require_item_of(user, ppa_id, item_id)
    view = work_items.fire_work_item_transition(user, item_id, request.form.get("trigger", ""))
    return saved(f"“{view['title']}” is now {work_status(view['status']).lower()}.", _back_to(ppa_id, item_id))
