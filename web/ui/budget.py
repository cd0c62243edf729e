"""``/ppas/<id>/budget`` and ``/ppas/<id>/execution``: the Budget and
Execution tabs of a PPA (issue 11; docs/design.md §4, §5, §11, §12).

Budget (seed 002 Phase 3 mock-up): the PPA's budget, what the work items
hold and what is unallocated, with a bar; the progress overview (work items
by status) and the budget variance; the hierarchical breakdown; and the
distribution of an item's allocation over its children — equal, weighted or
manual — checked on the server as the user types (HTMX posts the form to
``distribute_budget`` as a dry run: the remaining amount, a sum that must
fit to the centavo, children never above their parent) and previewed before
it is applied. After budget review approval the allocations are locked, and
the tab says so in words.

Execution: the PPA's program budget, its allotments by quarter, the
obligations and disbursements, with balances (``services.money_chain``);
forms to release an allotment (budget analysts) and to record an
obligation or a disbursement (the MOA), each showing what is available; a
refusal of the database (``budget_limit_exceeded``) is a sentence with the
amounts next to the amount. Each kind of document is its own partial
(``_allotments.html``, ``_allotment_form.html``, ...), so that the
documents issue 12 adds slot in beside them. Corrections (issue 12 item 8,
docs/design.md §12 "In the web app") are forms of a Corrections section
(``_corrections.html``): allotment adjustments and cancellations (budget
analysts), NORSA, cancellations of obligations and voids of disbursements
(the MOA), appropriation adjustments (augmentation, modification, transfer:
budget analysts), realignments and sub-allotments (the MOA's budget officer
or a budget analyst; ``services.adjustments``), each a new row with its
business date and reason; one view, form macro and adjustments partial
serve all eight (``CORRECTIONS``).
Each ORS and DV lists its supporting documents with an upload form
(``_chain_documents.html``, ``attach``; docs/design.md §12).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint, render_template, request, url_for

from services import adjustments, attachments, budget, execution_plans, tracking
from services import documents as boxes
from services.money_chain import MoneyChain, read_money_chain, transfer_targets
from services.outline import Outline, get_outline
from services.tracking import Distribution
from web.parsing import takes_files
from web.ui.filters import money, role_label, words
from services.calendar import today
from services.runtime import get_runtime
from web.ui.forms import (
    AllotmentAdjustmentForm,
    AllotmentForm,
    AppropriationAdjustmentForm,
    AttachmentForm,
    CancelAllotmentForm,
    CancelObligationForm,
    DisbursementForm,
    DistributionChoiceForm,
    DistributionForm,
    FinancialPlanForm,
    NorsaForm,
    ObligationForm,
    RealignmentForm,
    SignBoxForm,
    SubAllotmentForm,
    VoidDisbursementForm,
    choices,
)
from web.ui.pages import FORM_REFUSALS, is_htmx, refuse, saved, show_errors, signed_in, submit
from web.ui.ppas import tab_context
from web.ui.work_items import TreeView, opened_items, over_allocations
from web.errors import status_of
from workflow.errors import (
    BudgetLimitExceeded,
    Conflict,
    Duplicate,
    NotFound,
    OutsideValidity,
    PpaflowError,
    PreconditionFailed,
    ValidationFailed,
)
from workflow.money import from_centavos
from workflow.tree import Node, unallocated

bp = Blueprint("budget", __name__)

METHODS = ("equal", "weighted", "manual")


# -- Budget tab ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    """One direct child of the distributed item, before and after (PHP)."""

    node: Node
    before: Decimal | None
    after: Decimal | None

    @property
    def changed(self) -> bool:
        """The distribution gives this item another allocation."""
        return self.before != self.after


@dataclass(frozen=True)
class Preview:
    """What a distribution does under the item it splits (display only):
    its children before and after, how many items deeper are rescaled, and
    what the item keeps unallocated afterwards."""

    parent: Node
    rows: list[PreviewRow]
    rescaled_below: int
    held: Decimal
    left: Decimal | None
    dry_run: bool

    @classmethod
    def of(cls, distribution: Distribution, parent_id: int) -> Preview:
        tree, changes = distribution.tree, distribution.changes
        parent = tree.by_id[parent_id]
        children = {child.id for child in parent.children}

        def before(node: Node):
            old = changes[node.id][0] if node.id in changes else node.allocated
            return None if old is None else from_centavos(old)

        rows = [PreviewRow(child, before(child), None if child.allocated is None else from_centavos(child.allocated))
                for child in parent.children]
        left = unallocated(parent)
        return cls(parent, rows, sum(1 for i in changes if i not in children and i != parent_id),
                   from_centavos(sum(child.allocated or 0 for child in parent.children)),
                   None if left is None else from_centavos(left), distribution.dry_run)


def _indented(node: Node) -> str:
    return "— " * node.level + node.title


def _choice_form(outline: Outline, parent_id: int | None = None, method: str | None = None) -> DistributionChoiceForm:
    """The "what to distribute" form: whose allocation (the items that have
    children; default the project) and how (default the PPA's policy)."""
    form = DistributionChoiceForm()
    parents = {str(node.id): node for node in outline.parents()}
    form.parent.choices = choices((key, _indented(node)) for key, node in parents.items())
    if parent_id is not None:
        form.parent.data = str(parent_id)
    if form.parent.data not in parents:
        form.parent.data = str(outline.tree.root.id)
    if method is not None:
        form.method.data = method
    elif "method" not in request.args:
        form.method.data = outline.ppa.budget_distribution_policy
    if form.method.data not in METHODS:
        form.method.data = outline.ppa.budget_distribution_policy
    return form


def _label_shares(form: DistributionForm, outline: Outline) -> None:
    """Label each share's inputs with its work item's title."""
    for entry in form.shares:
        node = outline.tree.by_id.get(_as_id(entry.form.work_item_id.data))
        title = node.title if node is not None else f"work item {entry.form.work_item_id.data}"
        entry.form.amount.label.text = f"Amount for “{title}” (PHP)"
        entry.form.weight.label.text = f"Weight of “{title}”"


def _as_id(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else None


def _fresh_distribution_form(outline: Outline, parent: Node, method: str) -> DistributionForm:
    """The distribution form as first shown: one share per child, manual
    amounts filled with the current allocations."""
    form = DistributionForm(formdata=None, data={"method": method, "parent": str(parent.id), "shares": [
        {"work_item_id": str(child.id), "amount": None if child.allocated is None else from_centavos(child.allocated),
         "weight": None} for child in parent.children]})
    _label_shares(form, outline)
    return form


def _distribute(user, ppa_id: int, form: DistributionForm, *, dry_run: bool) -> Distribution:
    """Call ``distribute_budget`` with the form's shares."""
    method = form.method.data if form.method.data in METHODS else None
    shares = [(_as_id(entry.form.work_item_id.data), entry.form) for entry in form.shares]
    if any(item_id is None for item_id, _ in shares):
        raise ValidationFailed({"shares": ["the form lists a work item that does not exist; reload the page"]})
    weights = {item_id: entry.weight.data for item_id, entry in shares if entry.weight.data is not None}
    allocations = {item_id: entry.amount.data for item_id, entry in shares if entry.amount.data is not None}
    return tracking.distribute_budget(user, ppa_id, method, parent_id=_as_id(form.parent.data),
                                      weights=weights if method == "weighted" else None,
                                      allocations=allocations if method == "manual" else None, dry_run=dry_run)


def show_distribution_errors(form: DistributionForm, error: ValidationFailed) -> None:
    """Put a refused distribution's messages next to the shares they name
    (``allocations.<id>``, ``weights.<id>``); an item whose children would
    hold more than it is a sentence with the amounts beside the total."""
    entries = {entry.form.work_item_id.data: entry.form for entry in form.shares}
    over = over_allocations(error)
    for name, messages in error.errors.items():
        kind, _, item = name.partition(".")
        entry = entries.get(item)
        if item in over:
            form.form_errors.append(over[item])
        elif kind == "allocations" and entry is not None:
            entry.amount.errors = list(entry.amount.errors) + messages
        elif kind == "weights" and entry is not None:
            entry.weight.errors = list(entry.weight.errors) + messages
        else:
            form.form_errors.extend(m[:1].upper() + m[1:] for m in messages)


def _budget_page(ppa_id: int, *, choice: DistributionChoiceForm | None = None, form: DistributionForm | None = None,
                 distribution: Distribution | None = None, status: int = 200):
    user = signed_in()
    context = tab_context(user, ppa_id, "budget")
    outline = get_outline(user, ppa_id)
    view = preview = parent = None
    if outline.tree is not None:
        choice = choice or _choice_form(outline, request.args.get("parent", type=int))
        parent, method = outline.tree.by_id[int(choice.parent.data)], choice.method.data
        if form is None:
            form = _fresh_distribution_form(outline, parent, method)
            if method == "equal" and outline.may_edit and not outline.locked:
                distribution = _try_preview(user, ppa_id, form)
        if distribution is not None:
            preview = Preview.of(distribution, parent.id)
        view = TreeView(outline, "budget", opened_items(outline, request.args.get("open", type=int)))
        view.prepare([outline.tree.root])
    return render_template("ppas/budget.html", outline=outline, view=view, choice=choice, form=form,
                           parent=parent, preview=preview, **context), status


def _try_preview(user, ppa_id: int, form: DistributionForm) -> Distribution | None:
    """A dry run shown when the page opens (equal: nothing to type); ``None`` when it is refused."""
    try:
        return _distribute(user, ppa_id, form, dry_run=True)
    except FORM_REFUSALS:
        return None


@bp.route("/ppas/<id:ppa_id>/budget")
def overview(ppa_id: int):
    """The Budget tab; ``?parent=<item>&method=<method>`` chooses what to distribute."""
    return _budget_page(ppa_id)


@bp.route("/ppas/<id:ppa_id>/budget/distribution", methods=["POST"])
def distribute(ppa_id: int):
    """Check, preview or apply a distribution.

    ``action=apply`` distributes for real and goes back to the tab; anything
    else is a dry run: the tab with the preview, or, for HTMX (as the user
    types), only the check (``_distribution_check.html``), the messages of
    each field swapped in beside it. Nothing is saved on a refusal."""
    user = signed_in()
    outline = get_outline(user, ppa_id)
    form = DistributionForm()
    if outline.tree is not None:
        _label_shares(form, outline)
    apply = request.form.get("action") == "apply"
    distribution, status = None, 200
    if not form.validate_on_submit():
        status = 422
    else:
        try:
            distribution = _distribute(user, ppa_id, form, dry_run=not apply)
        except ValidationFailed as error:
            show_distribution_errors(form, error)
            status = 422
        except FORM_REFUSALS as error:
            status = refuse(form, error)
    if apply and distribution is not None:
        changed = len(distribution.changes)
        return saved(f"Budget distributed: {changed} work item{'s' if changed != 1 else ''} changed.",
                     url_for(".overview", ppa_id=ppa_id, parent=form.parent.data, method=form.method.data))
    parent = outline.tree.by_id.get(_as_id(form.parent.data)) if outline.tree is not None else None
    if is_htmx():  # the live check: always 200, so that HTMX swaps it in
        preview = Preview.of(distribution, parent.id) if distribution is not None and parent is not None else None
        return render_template("_distribution_check.html", form=form, preview=preview, oob=True)
    choice = _choice_form(outline, _as_id(form.parent.data), form.method.data) if outline.tree is not None else None
    return _budget_page(ppa_id, choice=choice, form=form, distribution=distribution, status=status)


# -- Execution tab ------------------------------------------------------------------------------


def limit_sentence(error: BudgetLimitExceeded) -> str:
    """A refusal of the database's budget limits as a sentence with its
    amounts (docs/design.md §12)."""
    extra = error.extra
    if not {"limit", "committed", "requested", "available"} <= extra.keys():
        return error.detail[:1].upper() + error.detail[1:]
    limit, committed, requested, available = (Decimal(extra[k]) for k in ("limit", "committed", "requested",
                                                                          "available"))
    parent = {"allotment": "the program budget's approved amount", "obligation": "the allotment",
              "disbursement": "the obligation"}.get(error.level, "the level above")
    return (f"Not recorded: the {error.level}s would total {money(committed + requested)} "
            f"({money(committed)} already plus {money(requested)}), above {parent} of {money(limit)}. "
            f"{money(available)} is available.")


def guarded(save: Callable[[], Any], date_field: str | None = None) -> Callable[[], Any]:
    """``save`` whose database refusals name the field they concern: an
    amount above what is available (next to the amount), a number already
    used (next to the number), a date outside the validity of the
    appropriation (next to the date, with the rule and its legal basis:
    ``date_field`` when the form has one date, else the date of the step
    refused), an appropriation taken above the PPA's budget or a class
    below zero (next to the amount: ``AMOUNT_CONFLICTS``)."""

    def run():
        try:
            return save()
        except BudgetLimitExceeded as error:
            raise Conflict(limit_sentence(error), code=error.code, field="amount") from None
        except Duplicate as error:
            raise Conflict("This number is already used in this MOA; each one is used once.", code=error.code,
                           field=error.extra.get("field")) from None
        except OutsideValidity as error:
            field = date_field or {"release": "release_date", "obligation": "obligation_date",
                                   "disbursement": "disbursement_date"}.get(error.extra.get("step"), "adjustment_date")
            raise Conflict(error.detail[:1].upper() + error.detail[1:] + ".", code=error.code, field=field) from None
        except Conflict as error:
            if error.code not in AMOUNT_CONFLICTS or "field" in error.extra:
                raise
            raise Conflict(error.detail[:1].upper() + error.detail[1:] + ".", code=error.code,
                           field="amount") from None

    return run


#: Refusals of an appropriation adjustment's amount (``services.adjustments``), shown next to the amount.
AMOUNT_CONFLICTS = ("above_ppa_budget", "below_class_amount")


#: The Execution tab's forms: kind -> (form class, template name). Each is posted with its kind as prefix.
EXECUTION_FORMS = {
    "allotment": AllotmentForm, "obligation": ObligationForm, "disbursement": DisbursementForm,
    "allotment_adjustment": AllotmentAdjustmentForm, "allotment_cancellation": CancelAllotmentForm,
    "norsa": NorsaForm, "obligation_cancellation": CancelObligationForm, "disbursement_void": VoidDisbursementForm,
    "appropriation_adjustment": AppropriationAdjustmentForm, "realignment": RealignmentForm,
    "sub_allotment": SubAllotmentForm,
}

#: The section of the tab each kind of form goes back to.
ANCHORS = {"allotment": "allotments", "allotment_adjustment": "allotments", "allotment_cancellation": "allotments",
           "obligation": "obligations", "norsa": "obligations", "obligation_cancellation": "obligations",
           "disbursement": "disbursements", "disbursement_void": "disbursements",
           "appropriation_adjustment": "program-budgets", "realignment": "allotments", "sub_allotment": "allotments"}


def _execution_forms(user, chain: MoneyChain, **given) -> dict[str, Any]:
    """The tab's forms (``<kind>_form``), their choices showing what each
    document has available; the correction forms offer only active
    documents, and their business date is today (Asia/Manila) until the
    user types another (docs/design.md §12); a transfer offers the program
    budgets of the PPA's MOA and fiscal year (``transfer_targets``)."""
    forms = {kind: given.get(kind) or form_class(formdata=None, prefix=kind)
             for kind, form_class in EXECUTION_FORMS.items()}
    for kind, field in (("allotment_cancellation", "cancelled_on"), ("obligation_cancellation", "cancelled_on"),
                        ("disbursement_void", "voided_on")):
        if kind not in given:
            forms[kind][field].data = today()
    forms["allotment"].program_budget.choices = choices(
        (str(b.row.id), f"Program budget {b.row.id}, FY {b.row.proposal.fiscal_year}: {money(b.unallotted)} unallotted")
        for b in chain.program_budgets)
    forms["obligation"].allotment.choices = choices(
        (str(a.row.id), f"{a.row.saro_number} (Q{a.row.quarter}): {money(a.available)} available")
        for a in chain.open_allotments)
    forms["obligation"].work_item.choices = choices(
        [("", "The PPA as a whole (its project)")]
        + [(str(item_id), "— " * level + title) for item_id, title, level in chain.work_items])
    forms["disbursement"].obligation.choices = choices(
        (str(o.row.id), f"{o.row.ors_number}, {o.row.payee}: {money(o.balance)} left to pay")
        for o in chain.open_obligations)
    active_allotments = choices(
        (str(a.row.id), f"{a.row.saro_number}: {money(a.amount)}, {money(a.obligated)} obligated")
        for a in chain.allotments if a.row.active)
    forms["allotment_adjustment"].allotment.choices = active_allotments
    forms["allotment_cancellation"].allotment.choices = active_allotments
    forms["realignment"].allotment.choices = active_allotments
    forms["realignment"].to_allotment_id.choices = active_allotments
    forms["sub_allotment"].allotment.choices = choices(
        (str(a.row.id), f"{a.row.saro_number}: {money(a.amount)}, {money(a.available)} unused")
        for a in chain.allotments if a.row.active)
    forms["appropriation_adjustment"].program_budget.choices = choices(
        (str(b.row.id), (f"Program budget {b.row.id}, FY {b.row.proposal.fiscal_year}: {money(b.adjusted_amount)}, "
                         f"{money(b.unallotted)} unallotted")) for b in chain.program_budgets)
    targets = transfer_targets(user, chain.ppa) if chain.may_adjust_appropriations else []
    forms["appropriation_adjustment"].to_program_budget_id.choices = choices(
        [("", "— (not a transfer)")] + [(str(b.id), f"Program budget {b.id}: {b.ppa.title}") for b in targets])
    active_obligations = choices(
        (str(o.row.id), f"{o.row.ors_number}, {o.row.payee}: {money(o.amount)}, {money(o.disbursed)} disbursed")
        for o in chain.obligations if o.row.active)
    forms["norsa"].obligation.choices = active_obligations
    forms["obligation_cancellation"].obligation.choices = active_obligations
    forms["disbursement_void"].disbursement.choices = choices(
        (str(d.id), f"{d.dv_number} ({d.obligation.ors_number}): {money(d.amount)}")
        for d in chain.disbursements if d.active)
    return {f"{kind}_form": form for kind, form in forms.items()}


@dataclass(frozen=True)
class ChainDocument:
    """One ORS or DV in the Execution tab's supporting documents
    (``_chain_documents.html``; docs/design.md §12 "In the web app").

    Attributes:
        record_type: ``obligation`` or ``disbursement`` (``services.attachments.RECORD_KINDS``).
        record_id: the obligation's or disbursement's id.
        name: how the page names it (``ORS ORS-2025-0001``, ``DV DV-2025-0002``).
        documents: its attachments, oldest first.
        form: the upload form (its field labelled and identified for this
            document), or ``None`` when the user may not attach.
        action: where the form posts (``attach``).
    """

    record_type: str
    record_id: int
    name: str
    documents: list
    form: AttachmentForm | None
    action: str

    @property
    def anchor(self) -> str:
        """The element id of its entry on the page (``documents-obligation-12``)."""
        return f"documents-{self.record_type}-{self.record_id}"


#: The Execution tab's documents that take attachments: record type -> (URL segment, noun).
CHAIN_DOCUMENTS = {"obligation": ("obligations", "ORS"), "disbursement": ("disbursements", "DV")}


def _chain_documents(user, chain: MoneyChain, posted: tuple[str, int, AttachmentForm] | None = None
                     ) -> list[ChainDocument]:
    """Each ORS, then each DV, of the chain with its supporting documents
    and, for whoever may attach, an upload form (``posted``: the form just
    refused for ``(record type, id)``, shown with its message)."""
    numbered = {"obligation": [(o.row.id, o.row.ors_number) for o in chain.obligations],
                "disbursement": [(d.id, d.dv_number) for d in chain.disbursements]}
    entries = []
    for record_type, rows in numbered.items():
        segment, noun = CHAIN_DOCUMENTS[record_type]
        files = attachments.attachments_by_record(user, record_type, [row_id for row_id, _ in rows])
        may_attach = attachments.may_attach(user, record_type, chain.ppa.organization_id)
        for row_id, number in rows:
            form = None
            if may_attach:
                form = posted[2] if posted and posted[:2] == (record_type, row_id) else AttachmentForm(formdata=None)
                form.file.id = f"documents-{record_type}-{row_id}-file"
                form.file.label.text = f"Document for {noun} {number}"
            entries.append(ChainDocument(record_type, row_id, f"{noun} {number}", files.get(row_id, []), form,
                                         url_for(".attach", ppa_id=chain.ppa.id, documents=segment,
                                                 record_id=row_id)))
    return entries


@dataclass(frozen=True)
class PlanGrid:
    """The financial plan form as a grid (``_financial_plan.html``): a
    column pair (obligations, disbursements) per class shown, a row per
    month, each cell the form entry of that month and class.

    Attributes:
        plan: the plan as stored (its classes, appropriation, totals).
        form: the form (posted and refused, or filled from the plan).
        rows: ``(month name, [entry per class])``, January first.
        class_names: the classes shown, as the GAA names them (PS, MOOE, ...).
    """

    plan: execution_plans.ExecutionPlan
    form: FinancialPlanForm
    rows: list[tuple[str, list]]
    class_names: list[str]

    @property
    def totals(self) -> list[tuple[Decimal, Decimal, Decimal]]:
        """Per class shown: the year's obligations and disbursements planned, and its appropriation (PHP)."""
        plan = self.plan
        return [(plan.obligations_by_class[k], plan.disbursements_by_class[k], plan.appropriation[k])
                for k in plan.classes]


def _plan_grid(plan: execution_plans.ExecutionPlan, posted: FinancialPlanForm | None = None) -> PlanGrid:
    """The plan's form, one entry per month and class shown (in that order,
    so entry ``i`` is line ``i`` of ``set_plan``), filled from the plan, or
    ``posted`` as the user sent it; each input labelled with its month and class."""
    stored = {(line.month, line.allotment_class): line for line in plan.lines}
    keys = [(month.month, klass) for month in plan.months for klass in plan.classes]
    form = posted or FinancialPlanForm(formdata=None, prefix="plan", data={"lines": [
        {"month": str(month), "allotment_class": klass,
         "obligations_planned": stored[(month, klass)].obligations_planned if (month, klass) in stored else None,
         "disbursements_planned": stored[(month, klass)].disbursements_planned if (month, klass) in stored else None}
        for month, klass in keys]})
    entries = [entry.form for entry in form.lines]
    for entry, (month, klass) in zip(entries, keys, strict=False):
        name, klass_name = execution_plans.MONTH_NAMES[month - 1], budget.CLASS_NAMES[klass]
        entry.obligations_planned.label.text = f"{klass_name} obligations planned in {name} (PHP)"
        entry.disbursements_planned.label.text = f"{klass_name} disbursements planned in {name} (PHP)"
    width = len(plan.classes)
    rows = [(month.name, entries[i * width:(i + 1) * width]) for i, month in enumerate(plan.months)]
    return PlanGrid(plan, form, rows, [budget.CLASS_NAMES[k] for k in plan.classes])


def _plan_lines(form: FinancialPlanForm) -> list[dict]:
    """The form's entries as ``set_plan``'s lines, in order; blank is zero."""
    return [{"month": _as_id(entry.form.month.data), "allotment_class": entry.form.allotment_class.data,
             "obligations_planned": entry.form.obligations_planned.data or Decimal("0.00"),
             "disbursements_planned": entry.form.disbursements_planned.data or Decimal("0.00")}
            for entry in form.lines]


def show_plan_errors(form: FinancialPlanForm, error: ValidationFailed) -> None:
    """Put ``set_plan``'s messages (``lines.<i>.<field>``) next to the inputs they name; any other on top."""
    entries = [entry.form for entry in form.lines]
    for name, messages in error.errors.items():
        _, index, field = (name.split(".") + ["", ""])[:3]
        entry = entries[int(index)] if index.isdigit() and int(index) < len(entries) else None
        if entry is not None and field in ("obligations_planned", "disbursements_planned"):
            entry[field].errors = list(entry[field].errors) + [m[:1].upper() + m[1:] + "." for m in messages]
        else:
            form.form_errors.extend(m[:1].upper() + m[1:] for m in messages)


def _execution_page(ppa_id: int, status: int = 200, attachment: tuple[str, int, AttachmentForm] | None = None,
                    signing: Signing | None = None, plan_form: FinancialPlanForm | None = None, **forms):
    user = signed_in()
    context = tab_context(user, ppa_id, "execution")
    chain = read_money_chain(user, ppa_id)
    plan = execution_plans.get_plan(user, ppa_id)
    return render_template("ppas/execution.html", chain=chain, **_execution_forms(user, chain, **forms),
                           chain_documents=_chain_documents(user, chain, attachment),
                           document_steps=_document_steps(user, chain, signing),
                           plan_grid=_plan_grid(plan, plan_form),
                           plan_vs_actual=execution_plans.plan_vs_actual(user, ppa_id, chain=chain),
                           max_size=attachments.max_bytes(), **context), status


@bp.route("/ppas/<id:ppa_id>/execution")
def execution(ppa_id: int):
    """The Execution tab."""
    return _execution_page(ppa_id)


def _record(ppa_id: int, kind: str, form, save: Callable[[Any], Any], message: Callable[[Any], str],
            date_field: str | None = None):
    """Post one of the Execution tab's forms (``kind``: a key of
    ``EXECUTION_FORMS``): choices first (only this PPA's documents are
    valid), then the service; a refusal shows the tab with the message next
    to the field (a date outside validity next to ``date_field``, if given)
    and nothing saved."""
    user = signed_in()
    _execution_forms(user, read_money_chain(user, ppa_id), **{kind: form})
    done, status = submit(form, guarded(lambda: save(user), date_field),
                          lambda row: saved(message(row), url_for(".execution", ppa_id=ppa_id,
                                                                  _anchor=ANCHORS[kind])))
    return done or _execution_page(ppa_id, status, **{kind: form})


@bp.route("/ppas/<id:ppa_id>/execution/plan", methods=["POST"])
def plan(ppa_id: int):
    """Save the financial plan (BED No. 1 and No. 3), every month and class
    at once (the PPA's MOA focal person or budget officer); a refusal shows
    the tab with each message next to its input and the values as typed."""
    user = signed_in()
    form = FinancialPlanForm(prefix="plan")
    status = 422
    if form.validate_on_submit():
        try:
            execution_plans.set_plan(user, ppa_id, _plan_lines(form))
        except ValidationFailed as error:
            show_plan_errors(form, error)
        except FORM_REFUSALS as error:
            status = refuse(form, error)
        else:
            return saved("Financial plan (BED No. 1 and No. 3) saved.",
                         url_for(".execution", ppa_id=ppa_id, _anchor="financial-plan"))
    return _execution_page(ppa_id, status, plan_form=form)


@bp.route("/ppas/<id:ppa_id>/execution/allotments", methods=["POST"])
def release(ppa_id: int):
    """Release an allotment (budget analysts)."""
    form = AllotmentForm(prefix="allotment")
    return _record(ppa_id, "allotment", form, lambda user: budget.release_allotment(
        user, program_budget_id=int(form.program_budget.data),
        release_date=form.release_date.data, saro_number=form.saro_number.data.strip(), amount=form.amount.data),
        lambda row: f"Allotment {row.saro_number} of {money(row.amount)} released for Q{row.quarter}.")


@bp.route("/ppas/<id:ppa_id>/execution/obligations", methods=["POST"])
def obligate(ppa_id: int):
    """Prepare an ORS (the MOA), as a draft (docs/design.md §12 "ORS and DV as documents")."""
    form = ObligationForm(prefix="obligation")
    return _record(ppa_id, "obligation", form, lambda user: budget.record_obligation(
        user, allotment_id=int(form.allotment.data), payee=form.payee.data.strip(),
        ors_number=(form.ors_number.data or "").strip() or None, particulars=(form.particulars.data or "").strip(),
        obligation_date=form.obligation_date.data, amount=form.amount.data,
        work_item_id=int(form.work_item.data) if form.work_item.data else None),
        lambda row: f"ORS {row.ors_number} of {money(row.amount)} prepared as a draft; it obligates once Box A "
                    f"(head of office) and Box B (budget officer) are signed.")


@bp.route("/ppas/<id:ppa_id>/execution/disbursements", methods=["POST"])
def disburse(ppa_id: int):
    """Prepare a DV (the MOA), as a draft (docs/design.md §12 "ORS and DV as documents")."""
    form = DisbursementForm(prefix="disbursement")
    return _record(ppa_id, "disbursement", form, lambda user: budget.record_disbursement(
        user, obligation_id=int(form.obligation.data), dv_number=(form.dv_number.data or "").strip() or None,
        payment_method=form.payment_method.data, disbursement_date=form.disbursement_date.data,
        amount=form.amount.data),
        lambda row: f"DV {row.dv_number} of {money(row.amount)} prepared as a draft; it is paid once Boxes A to D "
                    f"are signed and the disbursing officer pays it (Box E).")


@bp.route("/ppas/<id:ppa_id>/execution/<any(obligations, disbursements):documents>/<id:record_id>/attachments",
          methods=["POST"])
@takes_files
def attach(ppa_id: int, documents: str, record_id: int):
    """Attach a supporting document to one of the PPA's ORS or DV (its
    type checked by its content; ``services.attachments``); a refusal shows
    the tab with the message next to that document's file field."""
    user = signed_in()
    record_type = {segment: kind for kind, (segment, _) in CHAIN_DOCUMENTS.items()}[documents]
    chain = read_money_chain(user, ppa_id)
    rows = chain.obligations if record_type == "obligation" else chain.disbursements
    if record_id not in {getattr(row, "row", row).id for row in rows}:
        raise NotFound(f"{CHAIN_DOCUMENTS[record_type][1]} {record_id} is not a document of PPA {ppa_id}")
    form = AttachmentForm()
    done, status = submit(form, lambda: attachments.add_attachment(user, record_type, record_id,
                                                                   form.file.data.stream, form.file.data.filename),
                          lambda attachment: saved(f"{attachment.file_name} attached.",
                                                   url_for(".execution", ppa_id=ppa_id,
                                                           _anchor=f"documents-{record_type}-{record_id}")))
    return done or _execution_page(ppa_id, status, attachment=(record_type, record_id, form))


# -- corrections: new rows, never a change to a posted one (docs/design.md §12) -------------------


@dataclass(frozen=True)
class Correction:
    """One correction form of the Execution tab and the service it posts to.

    Attributes:
        kind: its key of ``EXECUTION_FORMS`` (the form's prefix).
        endpoint: the view's name (``adjust_allotment``), for ``url_for``.
        path: the last segment of its URL (``allotment-adjustments``).
        service: the use case of ``services.budget``, called as
            ``service(user, <document id>, **{field: value})``.
        document: the form's field choosing the corrected document
            (``allotment``, ``obligation``, ``disbursement``).
        fields: the form's fields passed to ``service`` by the same name
            (text stripped, blank text as ``None``: left out; amounts in PHP
            as ``Decimal``; dates; row ids as ``int``).
        message: ``(saved row) -> sentence`` shown once after saving.
        doc: who does what, as the view's docstring.
    """

    kind: str
    endpoint: str
    path: str
    service: Callable[..., Any]
    document: str
    fields: tuple[str, ...]
    message: Callable[[Any], str]
    doc: str

    @property
    def date_field(self) -> str | None:
        """Its business date (``adjustment_date``, ``cancelled_on`` ...): where a date outside validity is shown."""
        return next((name for name in self.fields if name.endswith(("_date", "_on"))), None)

    def save(self, user, form) -> Any:
        """Call the service with the posted form's values."""
        values = {name: (form[name].data.strip() or None) if isinstance(form[name].data, str) else form[name].data
                  for name in self.fields}
        return self.service(user, int(form[self.document].data), **values)


#: The Execution tab's corrections (docs/design.md §12 "Posted rows never change"): each a new row with its
#: business date and reason; who may post each is the service's rule (``services.budget``).
CORRECTIONS = (
    Correction("allotment_adjustment", "adjust_allotment", "allotment-adjustments", budget.adjust_allotment,
               "allotment", ("kind", "amount", "adjustment_date", "reason", "legal_basis"),
               lambda row: f"{row.kind.capitalize()} of {money(abs(row.amount))} recorded on the allotment.",
               "Reduce, withdraw from or augment an allotment (budget analysts)."),
    Correction("allotment_cancellation", "cancel_allotment", "allotment-cancellations", budget.cancel_allotment,
               "allotment", ("reason", "cancelled_on"),
               lambda row: f"Allotment {row.saro_number} cancelled on {row.cancelled_on.isoformat()}.",
               "Cancel an allotment (budget analysts)."),
    Correction("norsa", "record_norsa", "norsas", budget.adjust_obligation,
               "obligation", ("amount", "adjustment_date", "reason", "legal_basis"),
               lambda row: f"NORSA of {money(row.amount)} recorded on the obligation.",
               "Record a NORSA on an obligation (the MOA)."),
    Correction("obligation_cancellation", "cancel_obligation", "obligation-cancellations", budget.cancel_obligation,
               "obligation", ("reason", "cancelled_on"),
               lambda row: f"Obligation {row.ors_number} cancelled on {row.cancelled_on.isoformat()}.",
               "Cancel an obligation (the MOA)."),
    Correction("disbursement_void", "void_disbursement", "disbursement-voids", budget.void_disbursement,
               "disbursement", ("reason", "voided_on"),
               lambda row: f"Disbursement {row.dv_number} voided on {row.voided_on.isoformat()}.",
               "Void a disbursement (the MOA)."),
    Correction("appropriation_adjustment", "adjust_appropriation", "appropriation-adjustments",
               adjustments.adjust_appropriation, "program_budget",
               ("kind", "amount", "allotment_class", "to_allotment_class", "to_program_budget_id", "adjustment_date",
                "reason", "legal_basis"),
               lambda rows: f"{rows[0].kind.capitalize()} of {money(abs(rows[0].amount))} recorded on the "
                            f"appropriation.",
               "Augment, modify or transfer an appropriation (MFBM budget analysts)."),
    Correction("realignment", "realign_allotment", "realignments", adjustments.realign_allotment, "allotment",
               ("to_allotment_id", "amount", "adjustment_date", "reason", "legal_basis"),
               lambda rows: f"{money(rows[-1].amount)} realigned between the allotments.",
               "Realign an amount between two allotments of the program budget (the MOA's budget officer or a "
               "budget analyst)."),
    Correction("sub_allotment", "sub_allot", "sub-allotments", adjustments.sub_allot, "allotment",
               ("recipient", "amount", "sub_allotment_date", "saro_number", "reason", "legal_basis"),
               lambda row: f"{money(row.amount)} sub-allotted to {row.recipient_organization.code} "
                           f"(Sub-ARO {row.recipient_allotment.saro_number}).",
               "Sub-allot part of an allotment to another MOA or operating unit (the MOA's budget officer or a "
               "budget analyst)."),
)


def _correction_view(correction: Correction) -> Callable[[int], Any]:
    """The POST view of one correction form: ``_record`` with its form and service."""

    def view(ppa_id: int):
        form = EXECUTION_FORMS[correction.kind](prefix=correction.kind)
        return _record(ppa_id, correction.kind, form, lambda user: correction.save(user, form), correction.message,
                       correction.date_field)

    view.__name__ = view.__qualname__ = correction.endpoint
    view.__doc__ = correction.doc
    return view


for _correction in CORRECTIONS:
    bp.add_url_rule(f"/ppas/<id:ppa_id>/execution/{_correction.path}", _correction.endpoint,
                    _correction_view(_correction), methods=["POST"])


# -- signing the boxes of ORS and DV (issue 12 item 8; docs/design.md §12 "In the web app") --------------


#: The documents signed box by box: record type -> (URL segment, noun, workflow, actions, history, fire).
SIGNED_DOCUMENTS = {
    "obligation": ("obligations", "ORS", "ors", boxes.obligation_actions, boxes.obligation_history,
                   boxes.fire_obligation_transition),
    "disbursement": ("disbursements", "DV", "dv", boxes.disbursement_actions, boxes.disbursement_history,
                     boxes.fire_disbursement_transition),
}

#: What a step did, as the flash message says it.
SIGNED = {"certify_charges": "Box A signed", "certify_obligation": "Box B signed: it is obligated",
          "certify_necessary": "Box A signed", "record_entry": "Box B signed", "certify_cash": "Box C signed",
          "approve_payment": "Box D signed: approved for payment", "pay": "Box E signed: it is paid",
          "cancel": "cancelled"}

#: The box each signing trigger signs (GAM Appendices 11 and 32).
BOXES = {"certify_charges": "Box A", "certify_obligation": "Box B", "certify_necessary": "Box A",
         "record_entry": "Box B", "certify_cash": "Box C", "approve_payment": "Box D", "pay": "Box E"}

#: The triggers whose form asks for more than a comment: trigger -> the ``SignBoxForm`` fields it shows.
STEP_FIELDS = {"pay": ("check_ada_number", "check_ada_date", "jev_number")}


@dataclass(frozen=True)
class Signing:
    """A step just posted on one document and refused: ``(record type, id)``,
    the form (its field messages) and the refusal as a sentence."""

    record_type: str
    record_id: int
    form: SignBoxForm
    refusal: str | None


@dataclass(frozen=True)
class DocumentSteps:
    """One ORS or DV on the Execution tab with its stage, its signed boxes
    and, while it is not posted, its next steps for the signed-in user
    (``_document_steps.html``; docs/design.md §12 "In the web app").

    Attributes:
        record_type: ``obligation`` or ``disbursement``.
        record_id: its id.
        name: ``ORS 02-01-2025-03-00001`` / ``DV 2025-04-0001``.
        stage: its stage in words (the rules' label; a posted ORS's status after Box B).
        waiting: the next boxes and who signs them (``Box B signed ... — waiting for ...``), or ``""``.
        open: not posted nor cancelled: it has next steps.
        actions: the workflow's triggers leaving its stage (``workflow.engine.Action``), open or with reasons.
        history: its signed boxes, oldest first (``WorkflowTransition`` with signer and delegator).
        labels: stage -> label of its workflow, to name each signed box.
        version: its ETag as read (the forms send it back: a stale page changes nothing).
        action: where its forms post (``sign``).
        form: the form just refused on it, else a fresh one.
        refusal: the sentence of a refusal on it, else ``None``.
    """

    record_type: str
    record_id: int
    name: str
    stage: str
    waiting: str
    open: bool
    actions: list
    history: list
    labels: dict
    version: str
    action: str
    form: SignBoxForm
    refusal: str | None

    @property
    def anchor(self) -> str:
        """The element id of its entry (``steps-obligation-12``), which HTMX replaces."""
        return f"steps-{self.record_type}-{self.record_id}"


def _labels(workflow: str) -> dict[str, Any]:
    return get_runtime().workflow(workflow).rules.machine.states


def _one_document(user, record_type: str, row: Any, ppa_id: int, signing: Signing | None) -> DocumentSteps:
    """The entry of one ORS or DV (``row``)."""
    segment, noun, workflow, read_actions, read_history, _ = SIGNED_DOCUMENTS[record_type]
    states = _labels(workflow)
    state = states.get(row.status)
    is_open = state is not None and not state.final
    actions = [a for a in read_actions(user, row.id)[1] if a.dest] if is_open else []
    waiting = "; ".join(f"{BOXES.get(a.trigger, words(a.trigger))} ({' or '.join(role_label(r) for r in a.roles)})"
                        for a in actions if a.trigger != boxes.CANCEL)
    number = row.ors_number if record_type == "obligation" else row.dv_number
    mine = signing if signing and (signing.record_type, signing.record_id) == (record_type, row.id) else None
    form = mine.form if mine else SignBoxForm(formdata=None)
    for name in STEP_FIELDS["pay"]:
        form[name].id = f"steps-{record_type}-{row.id}-{name}"
    return DocumentSteps(
        record_type, row.id, f"{noun} {number}", state.label if state is not None else words(row.status).capitalize(),
        f"waiting for {waiting}" if waiting else "", is_open, actions, read_history(user, row.id),
        {name: s.label for name, s in states.items()}, row.etag,
        url_for(".sign", ppa_id=ppa_id, documents=segment, record_id=row.id), form, mine.refusal if mine else None)


def _document_steps(user, chain: MoneyChain, signing: Signing | None = None) -> list[DocumentSteps]:
    """Each ORS, then each DV, of the chain with its stage, signed boxes and next steps."""
    return ([_one_document(user, "obligation", o.row, chain.ppa.id, signing) for o in chain.obligations]
            + [_one_document(user, "disbursement", d, chain.ppa.id, signing) for d in chain.disbursements])


def _refusal(error: PpaflowError) -> str | None:
    """A refusal as the sentence its document's entry shows (field messages stay next to their fields)."""
    if isinstance(error, ValidationFailed):
        unplaced = [m for name, messages in error.errors.items() if name not in STEP_FIELDS["pay"] for m in messages]
        return " ".join(m[:1].upper() + m[1:] for m in unplaced) or None
    if isinstance(error, PreconditionFailed):
        return ("Someone else signed or changed this document since you opened the page; nothing of yours was "
                "saved. Look at its stage again.")
    return error.detail[:1].upper() + error.detail[1:] + ("" if error.detail.endswith(".") else ".")


@bp.route("/ppas/<id:ppa_id>/execution/<any(obligations, disbursements):documents>/<id:record_id>/transitions",
          methods=["POST"])
def sign(ppa_id: int, documents: str, record_id: int):
    """Sign a box of one of the PPA's ORS or DV, or cancel it (with a
    comment), through ``services.documents`` (the rules decide who may).
    Box E takes the check/ADA number, its date and the JEV number. A refusal
    (403, 409, 412, 422) is shown in that document's entry, field messages
    next to their fields, and changes nothing. For HTMX only that entry is
    returned (200, so that it is swapped in); without JS, a success redirects
    back to the entry and a refusal renders the tab with its status."""
    user = signed_in()
    record_type = {spec[0]: kind for kind, spec in SIGNED_DOCUMENTS.items()}[documents]
    chain = read_money_chain(user, ppa_id)
    rows = {o.row.id: o.row for o in chain.obligations} if record_type == "obligation" else {
        d.id: d for d in chain.disbursements}
    if record_id not in rows:
        raise NotFound(f"{SIGNED_DOCUMENTS[record_type][1]} {record_id} is not a document of PPA {ppa_id}")
    form = SignBoxForm()
    fire = SIGNED_DOCUMENTS[record_type][5]
    refusal, status = None, 200
    if not form.validate_on_submit():
        refusal, status = (" ".join(form.form_errors) or "Open the page again and sign from it."), 422
    else:
        extra = {}
        if record_type == "disbursement" and form.trigger.data == "pay":
            extra = {"check_ada_number": (form.check_ada_number.data or "").strip() or None,
                     "check_ada_date": form.check_ada_date.data,
                     "jev_number": (form.jev_number.data or "").strip() or None}
        try:
            row = fire(user, record_id, form.trigger.data, comment=(form.comment.data or "").strip() or None,
                       if_match=form.version.data or None, **extra)
        except NotFound:
            raise
        except PpaflowError as error:
            if isinstance(error, ValidationFailed):
                show_errors(form, error)
                form.form_errors.clear()
            refusal, status = _refusal(error), status_of(error)
        else:
            noun = SIGNED_DOCUMENTS[record_type][1]
            number = row.ors_number if record_type == "obligation" else row.dv_number
            message = f"{noun} {number}: {SIGNED.get(form.trigger.data, words(form.trigger.data))}."
            if not is_htmx():
                return saved(message, url_for(".execution", ppa_id=ppa_id, _anchor=f"steps-{record_type}-{record_id}"))
            signing = Signing(record_type, record_id, SignBoxForm(formdata=None), None)
            return _entry(user, ppa_id, record_type, record_id, signing, done=message)
    signing = Signing(record_type, record_id, form, refusal)
    if is_htmx():
        return _entry(user, ppa_id, record_type, record_id, signing)
    return _execution_page(ppa_id, status, signing=signing)


def _entry(user, ppa_id: int, record_type: str, record_id: int, signing: Signing, done: str | None = None):
    """One document's entry, as read now (for HTMX; always 200 so that it is swapped in)."""
    chain = read_money_chain(user, ppa_id)
    row = next(o.row for o in chain.obligations if o.row.id == record_id) if record_type == "obligation" else next(
        d for d in chain.disbursements if d.id == record_id)
    entry = _one_document(user, record_type, row, ppa_id, signing)
    return render_template("_document_step.html", entry=entry, done=done, ppa=chain.ppa)
