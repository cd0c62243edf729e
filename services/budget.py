"""Budget preparation and execution use cases (seed 003, docs/design.md §2).

Who may do what (admins may do all):

| action | roles |
|---|---|
| proposals, justifications, line items | ``moa_focal`` (own MOA), ``budget_analyst`` |
| proposal steps (submit; review, enact, return) | ``workflows/budget_proposal.yaml`` |
| program budgets (appropriations) | ``budget_analyst`` |
| release and cancel allotments | ``budget_analyst`` |
| prepare ORS and DV (drafts), cancel obligated ORS, void paid DV | ``moa_focal`` (own MOA) |
| sign the boxes of an ORS or DV (Box B of the ORS obligates, Box E of the DV pays) | ``workflows/ors.yaml``, ``workflows/dv.yaml`` (``services.documents``) |
| allotment adjustments (reduction, withdrawal, augmentation) | ``budget_analyst`` |
| NORSA obligation adjustments | ``moa_focal`` (own MOA) |
| appropriation adjustments, realignments, sub-allotments | ``services.adjustments`` |

The limits of the execution chain (program budget >= allotments >=
obligations >= disbursements) are enforced by database triggers; a refused
write becomes a 409 ``budget_limit_exceeded`` carrying the amounts. Each use
case is one transaction that locks the parent row first; statuses follow the
money (``released`` / ``partially_utilized`` / ``fully_utilized``;
``obligated`` / ``partially_disbursed`` / ``fully_disbursed``), and
cancelling or voiding returns the amount to the level above.

Posted rows never change (docs/design.md §12 "Posted rows never change"):
a correction is a new row. An allotment's active amount is its amount plus
its adjustments (``AllotmentAdjustment``), an obligation's its amount plus
its NORSA adjustments (``ObligationAdjustment``); every limit and total
here is on active amounts. A cancellation (void) is dated
(``cancelled_on`` / ``voided_on``, today in Asia/Manila by default, never
before the document's own date) and its reversal posts in that date's
quarter.

Locks are taken in one declared order, ``LOCK_ORDER``: program budget →
allotment → obligation → disbursement → PPA → work items (``lock_in_order``).
Two use cases that lock rows of the chain therefore always wait for each
other in the same direction, and chain postings never deadlock with each
other or with tree writes, which lock the PPA and its work items only.

Closed periods (docs/design.md §12 "Closing a period"): every posting use
case here (release, ORS, DV, delivery, allotment adjustment, NORSA,
cancellation, void) calls ``services.periods.require_open`` with the MOA
and the date it posts on, inside its transaction and after its chain
locks: a date inside a quarter the MOA has closed raises ``PeriodClosed``
(409 ``period_closed``), and the correction goes into the open period.

Appropriations (docs/design.md §12, "Appropriations"): a program budget is
its PPA's appropriation, by allotment class, and counts as one only once its
proposal is enacted (the ``budget_proposal`` workflow) and its PPA is
enacted; allotments are released only against one that counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Select, func, select, type_coerce

from db import db
from db.models import (
    Allotment,
    AllotmentAdjustment,
    AppropriationAdjustment,
    BudgetJustification,
    BudgetLineItem,
    BudgetProposal,
    Delivery,
    Disbursement,
    Obligation,
    ObligationAdjustment,
    Organization,
    Ppa,
    ProgramBudget,
    User,
    WorkItem,
)
from db.models.budget import ALLOTMENT_ADJUSTMENT_SIGNS, ALLOTMENT_CLASSES, PAYMENT_METHODS
from db.types import utcnow
from services import workflows
from services.access import require_role, visible_organization, visible_rows
from services.calendar import today
from services.concurrency import check_if_match
from services.document_numbers import number_dv, number_ors
from services.expenditure import check_work_item, sync_expenditure
from services.periods import require_open
from services.ppas import get_ppa_or_raise
from services.runtime import get_runtime, runtime_for
from services.unit_of_work import transaction
from services.users import get_organization_or_raise
from services.workflows import RecordKind
from workflow.engine import Action
from workflow.errors import (
    AdjustmentRequired,
    BudgetLimitExceeded,
    Conflict,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from workflow.money import ZERO, from_centavos
from workflow.validity import CATEGORY_CLASS, DEFAULT_CATEGORY, categories_of, quarter_of

PREPARE = ("moa_focal", "budget_analyst")
APPROVE = ("budget_analyst",)
RELEASE = ("budget_analyst",)
SPEND = ("moa_focal",)

#: The one order in which use cases lock rows (docs/design.md §12 "Posted rows
#: never change"): down the money chain (the appropriation, then allotment →
#: obligation → disbursement), then the PPA, then its work items. A use case
#: never locks a row of an earlier kind after one of a later kind. The row of a
#: series of ORS/DV numbers (``services.document_numbers``) is locked after the
#: chain's rows and before the PPA's.
LOCK_ORDER: tuple[type, ...] = (ProgramBudget, Allotment, Obligation, Disbursement, Ppa, WorkItem)

#: A UACS object code: eight digits, a dash, two digits (``50202010-01``).
UACS_CODE = re.compile(r"[0-9]{8}-[0-9]{2}")

#: Budget proposals as the workflow service sees them: the ``budget_proposal``
#: workflow (rules/default/workflows/budget_proposal.yaml), the stage in
#: ``status``, the steps in ``workflow_transitions`` (docs/design.md §12).
BUDGET_PROPOSAL = workflows.register(RecordKind("budget_proposal", workflow="budget_proposal"))

#: The proposal stage in which its program budgets count as appropriations.
ENACTED = "enacted"

#: The PPA approval stage a program budget must be past: an appropriation is
#: made for a PPA MFBM has reviewed (docs/design.md §12).
AFTER_STAGE = "budget_review"

#: The PPA approval stage that ends a PPA without an appropriation.
REJECTED = "rejected"

#: Class names in words, for messages.
CLASS_NAMES = {"ps": "PS", "mooe": "MOOE", "finex": "FinEx", "co": "CO"}


# -- preparation ------------------------------------------------------------------------


def create_proposal(user: User, *, organization: str, fiscal_year: int, title: str, notes: str = "") -> BudgetProposal:
    """Open the budget proposal of an organization for a fiscal year.

    Raises:
        ValidationFailed (unknown organization), Forbidden,
        Duplicate: the organization already has one for that year.
    """
    with transaction() as session:
        org = get_organization_or_raise(organization, field="organization")
        require_role(user, PREPARE, org.id, "open a budget proposal")
        proposal = BudgetProposal(organization_id=org.id, fiscal_year=fiscal_year, title=title, notes=notes,
                                  created_by_id=user.id)
        session.add(proposal)
    return proposal


def get_proposal_or_raise(user: User, proposal_id: int, *, for_update: bool = False) -> BudgetProposal:
    """A proposal visible to ``user`` (``for_update``: locked and re-read).
    Raises ``NotFound`` otherwise."""
    if for_update:
        proposal = db.session.scalar(select(BudgetProposal).where(BudgetProposal.id == proposal_id)
                                     .with_for_update(of=BudgetProposal).execution_options(populate_existing=True))
    else:
        proposal = db.session.get(BudgetProposal, proposal_id)
    if proposal is None or not visible_organization(user, proposal.organization_id):
        raise NotFound(f"budget proposal {proposal_id} not found")
    return proposal


def list_proposals(user: User, *, fiscal_year: int | None = None, moa: str | None = None) -> Select:
    """Proposals visible to ``user``, newest first."""
    query = select(BudgetProposal).where(visible_rows(user, BudgetProposal.organization_id))
    if fiscal_year is not None:
        query = query.where(BudgetProposal.fiscal_year == fiscal_year)
    if moa:
        query = query.where(BudgetProposal.organization_id.in_(select(Organization.id).where(Organization.code == moa)))
    return query.order_by(BudgetProposal.id.desc())


def fire_proposal_transition(user: User, proposal_id: int, trigger: str, *, comment: str | None = None,
                             if_match: str | None = None) -> BudgetProposal:
    """Move a budget proposal through its workflow (``submit``, ``review``,
    ``enact``, ``return_for_revision``; rules/default/workflows/budget_proposal.yaml),
    through the one workflow engine (``services.workflows.fire``): the step
    is written to ``workflow_transitions`` with the rule-set hash.

    Returns:
        The proposal in its new stage (committed).

    Raises:
        NotFound, PreconditionFailed (stale ``if_match``),
        ValidationFailed: unknown trigger, or the required comment missing.
        InvalidTransition: not possible from the current stage (409).
        RoleMissing, SeparationOfDuties (403): e.g. the submitter reviewing,
            the reviewer enacting; administrators are bound too.
    """
    with transaction():
        proposal = get_proposal_or_raise(user, proposal_id, for_update=True)
        check_if_match(if_match, proposal.etag)
        workflows.fire(user, BUDGET_PROPOSAL, proposal, trigger, comment=comment)
    return proposal


def proposal_actions(user: User, proposal_id: int, *,
                     if_match: str | None = None) -> tuple[BudgetProposal, list[Action]]:
    """Every trigger of the proposal workflow, whether ``user`` may fire it
    now, and the reasons the closed ones are closed (a stale ``if_match``
    closes them all with ``stale_version``).

    Raises:
        NotFound: the proposal is not visible to ``user``.
    """
    proposal = get_proposal_or_raise(user, proposal_id)
    try:
        check_if_match(if_match, proposal.etag)
        stale = False
    except PreconditionFailed:
        stale = True
    return proposal, workflows.actions(user, BUDGET_PROPOSAL, proposal, stale=stale)


def proposal_history(user: User, proposal_id: int) -> list:
    """The proposal's steps, oldest first (``workflow_transitions``).

    Raises:
        NotFound: the proposal is not visible to ``user``.
    """
    proposal = get_proposal_or_raise(user, proposal_id)
    return workflows.history(BUDGET_PROPOSAL, proposal.id)


def class_amounts(ppa_class: str, data: Mapping[str, Any], *,
                  current: Mapping[str, Decimal] | None = None) -> dict[str, Decimal]:
    """The amounts per allotment class a request gives (PHP).

    Either class amounts (``ps``, ``mooe``, ``finex``, ``co``; those not
    given are zero, or on a change keep ``current``), with an optional
    ``approved_amount`` that must equal their sum; or ``approved_amount``
    alone, meaning all of it in ``ppa_class`` (the PPA's
    ``appropriation_class``: the API as it was before classes). On a change
    with ``approved_amount`` alone, a program budget whose amounts are all
    in one class keeps that class.

    Raises:
        ValidationFailed: neither given, or the sum differs from ``approved_amount``.
    """
    given = {c: data[c] for c in ALLOTMENT_CLASSES if data.get(c) is not None}
    approved = data.get("approved_amount")
    if not given:
        if approved is None:
            raise ValidationFailed({"approved_amount": [
                "give the amounts per allotment class (ps, mooe, finex, co) or the approved amount"]})
        target = ppa_class
        if current is not None:
            used = [c for c in ALLOTMENT_CLASSES if current[c]]
            if len(used) > 1:
                raise ValidationFailed({"approved_amount": [
                    f"this program budget has amounts in {', '.join(CLASS_NAMES[c] for c in used)}; "
                    "give the amounts per allotment class instead"]})
            target = used[0] if used else ppa_class
        return {c: (approved if c == target else ZERO) for c in ALLOTMENT_CLASSES}
    base = dict(current) if current is not None else dict.fromkeys(ALLOTMENT_CLASSES, ZERO)
    amounts = base | given
    total = sum(amounts.values(), ZERO)
    if approved is not None and approved != total:
        raise ValidationFailed({"approved_amount": [
            f"is PHP {approved:,.2f} but the class amounts sum to PHP {total:,.2f}; it is their sum"]})
    return amounts


def derived_class(amounts: Mapping[str, Decimal]) -> str | None:
    """The PPA's ``appropriation_class`` derived from its appropriations'
    class amounts: the class with the largest total; a tie goes to the
    first in GAA order (PS, MOOE, FinEx, CO); ``None`` when all are zero
    (docs/design.md §3, §12)."""
    best = max(ALLOTMENT_CLASSES, key=lambda c: (amounts.get(c, ZERO), -ALLOTMENT_CLASSES.index(c)))
    return best if amounts.get(best, ZERO) > 0 else None


def _ppa_class_totals(ppa_id: int) -> dict[str, Decimal]:
    """The PPA's program budgets summed per class (PHP), flushed rows included."""
    db.session.flush()
    row = db.session.execute(select(*(func.coalesce(func.sum(type_coerce(getattr(ProgramBudget, c), BigInteger)), 0)
                                      for c in ALLOTMENT_CLASSES)).where(ProgramBudget.ppa_id == ppa_id)).one()
    return {c: from_centavos(int(v)) for c, v in zip(ALLOTMENT_CLASSES, row, strict=True)}


def _settle_ppa_class(ppa) -> None:
    """Set the PPA's ``appropriation_class`` from its program budgets (``derived_class``)."""
    derived = derived_class(_ppa_class_totals(ppa.id))
    if derived is not None and ppa.appropriation_class != derived:
        ppa.appropriation_class = derived


def _require_within_ppa_budget(ppa, total: Decimal, *, excluding: int | None = None) -> None:
    """Refuse program budgets of ``ppa`` totalling above its ``budget_allocation``.

    Args:
        total: the new or changed program budget's amount (PHP).
        excluding: the program budget being changed (its old amount does not count).

    Raises:
        Conflict: ``above_ppa_budget``.
    """
    query = (select(func.coalesce(func.sum(type_coerce(ProgramBudget.approved_amount, BigInteger)), 0))
             .where(ProgramBudget.ppa_id == ppa.id))
    if excluding is not None:
        query = query.where(ProgramBudget.id != excluding)
    adjusted = (select(func.coalesce(func.sum(type_coerce(AppropriationAdjustment.amount, BigInteger)), 0))
                .join(ProgramBudget, ProgramBudget.id == AppropriationAdjustment.program_budget_id)
                .where(ProgramBudget.ppa_id == ppa.id))
    # appropriation adjustments (augmentations, transfers in and out) count as the program budgets do
    others = from_centavos(int(db.session.scalar(query)) + int(db.session.scalar(adjusted)))
    if others + total > ppa.budget_allocation:
        raise Conflict(
            f"PPA {ppa.id}'s program budgets would total PHP {others + total:,.2f}, above its budget of "
            f"PHP {ppa.budget_allocation:,.2f} (PHP {others:,.2f} is already appropriated, supplemental "
            f"included); an appropriation is never above the PPA's budget", code="above_ppa_budget",
            budget=str(ppa.budget_allocation), appropriated=str(others), requested=str(total))


def _require_past_budget_review(ppa) -> None:
    """Refuse an appropriation for a PPA not past budget review, or rejected.

    Raises:
        Conflict: ``not_past_budget_review``.
    """
    stages = list(runtime_for(ppa.rules_hash).rules.approval.machine.states)  # its own set's order (§13)
    stage = ppa.approval_status
    if stage in stages and stages.index(stage) > stages.index(AFTER_STAGE) and stage != REJECTED:
        return
    raise Conflict(f"PPA {ppa.id} is in {stage}; a program budget is made only for a PPA past budget review "
                   "and not rejected", code="not_past_budget_review", approval_status=stage)


def create_program_budget(user: User, *, proposal_id: int, ppa_id: int, approved_amount: Decimal | None = None,
                          ps: Decimal | None = None, mooe: Decimal | None = None, finex: Decimal | None = None,
                          co: Decimal | None = None, fund_cluster: str = "01", pap_code: str = "",
                          enactment_act: str = "", enactment_date: date | None = None,
                          supplemental: bool = False) -> ProgramBudget:
    """Appropriate an amount for a PPA within its organization's proposal
    (docs/design.md §12, "Appropriations").

    Args:
        approved_amount, ps, mooe, finex, co: PHP; see ``class_amounts``.
        fund_cluster: a code of ``rules/default/fund_clusters.yaml`` (``01``).
        pap_code: the PAP/UACS code of the program, activity or project.
        enactment_act, enactment_date: the GAAB / Bangsamoro Appropriations
            Act that enacted it.
        supplemental: a supplemental appropriation (a PPA may have several;
            at most one regular one per proposal).

    Raises:
        NotFound, Forbidden,
        ValidationFailed: the PPA belongs to another organization or year,
            unknown fund cluster, amounts inconsistent.
        Conflict: ``not_past_budget_review`` (the PPA is in draft, technical
            or budget review, or rejected), ``above_ppa_budget``,
            ``proposal_enacted`` (a regular program budget added to an
            enacted proposal: after enactment, only supplemental ones, each
            naming its act, which then count at once).
        Duplicate: the PPA already has a regular program budget in this proposal.
    """
    with transaction() as session:
        proposal = get_proposal_or_raise(user, proposal_id)
        # Locked: an edit of the PPA's year, MOA or budget (services/ppas.py) either
        # commits before this reads them, or sees this program budget and is refused;
        # two program budgets of one PPA are decided one after the other.
        ppa = get_ppa_or_raise(user, ppa_id, for_update=True)
        require_role(user, APPROVE, proposal.organization_id, "approve program budgets")
        errors = {}
        if ppa.organization_id != proposal.organization_id:
            errors["ppa_id"] = [f"PPA {ppa.id} belongs to {ppa.organization.code}, the proposal to "
                                f"{proposal.organization.code}"]
        elif ppa.fiscal_year != proposal.fiscal_year:
            errors["ppa_id"] = [f"PPA {ppa.id} is for FY {ppa.fiscal_year}, the proposal for FY {proposal.fiscal_year}"]
        clusters = get_runtime().rules.fund_clusters.names
        if fund_cluster not in clusters:
            errors["fund_cluster"] = [f"{fund_cluster!r} is not a fund cluster (known: "
                                      f"{', '.join(f'{k} {v}' for k, v in clusters.items())})"]
        if errors:
            raise ValidationFailed(errors)
        if proposal.status == ENACTED and supplemental and not (enactment_act.strip() and enactment_date):
            raise ValidationFailed({field: ["a supplemental appropriation of an enacted budget names the act that "
                                            "enacted it (number and date)"]
                                    for field, value in (("enactment_act", enactment_act.strip()),
                                                         ("enactment_date", enactment_date)) if not value})
        amounts = class_amounts(ppa.appropriation_class, {
            "approved_amount": approved_amount, "ps": ps, "mooe": mooe, "finex": finex, "co": co})
        if proposal.status == ENACTED and not supplemental:
            raise Conflict(f"the FY {proposal.fiscal_year} budget proposal of {proposal.organization.code} is "
                           "enacted; an appropriation added now is supplemental (supplemental: true, with its "
                           "act's number and date)", code="proposal_enacted")
        _require_past_budget_review(ppa)
        total = sum(amounts.values(), ZERO)
        _require_within_ppa_budget(ppa, total)
        program_budget = ProgramBudget(proposal_id=proposal.id, ppa_id=ppa.id, approved_amount=total, **amounts,
                                       fund_cluster=fund_cluster, pap_code=pap_code, enactment_act=enactment_act,
                                       enactment_date=enactment_date, supplemental=supplemental,
                                       created_by_id=user.id)
        session.add(program_budget)
        _settle_ppa_class(ppa)
    return program_budget


def update_program_budget(user: User, program_budget_id: int, approved_amount: Decimal | None = None, *,
                          if_match: str | None = None, **classes: Decimal | None) -> ProgramBudget:
    """Change a program budget's amounts while its proposal is not enacted;
    never below what is already allotted, nor below a class's line items,
    nor above the PPA's budget.

    Args:
        approved_amount, classes (``ps``, ``mooe``, ``finex``, ``co``): PHP,
            as ``class_amounts`` reads them.

    Raises:
        NotFound, Forbidden, PreconditionFailed, BudgetLimitExceeded,
        ValidationFailed: amounts inconsistent.
        AdjustmentRequired: the proposal is enacted (an appropriation changes
            only through an adjustment).
        Conflict: ``above_ppa_budget``, ``above_class_amount``.
    """
    try:
        with transaction():
            program_budget = get_or_raise(user, ProgramBudget, program_budget_id, lock=True)
            require_role(user, APPROVE, program_budget.ppa.organization_id, "change approved amounts")
            check_if_match(if_match, program_budget.etag)
            if program_budget.proposal.status == ENACTED:
                raise AdjustmentRequired(
                    f"program budget {program_budget.id} is in the enacted FY {program_budget.proposal.fiscal_year} "
                    f"budget of {program_budget.proposal.organization.code}; only an appropriation adjustment "
                    "may change it", fields=["approved_amount"])
            ppa = get_ppa_or_raise(user, program_budget.ppa_id, for_update=True)
            current = {c: program_budget.class_amount(c) for c in ALLOTMENT_CLASSES}
            amounts = class_amounts(ppa.appropriation_class, {"approved_amount": approved_amount, **classes},
                                    current=current)
            for cls in ALLOTMENT_CLASSES:
                lines = _line_total(program_budget.id, cls)
                if amounts[cls] < lines:
                    raise Conflict(f"the {CLASS_NAMES[cls]} line items of program budget {program_budget.id} total "
                                   f"PHP {lines:,.2f}; its {CLASS_NAMES[cls]} amount cannot go below that",
                                   code="above_class_amount", allotment_class=cls)
            total = sum(amounts.values(), ZERO)
            _require_within_ppa_budget(ppa, total, excluding=program_budget.id)
            for cls, amount in amounts.items():
                setattr(program_budget, cls, amount)
            program_budget.approved_amount = total
            _settle_ppa_class(ppa)
    except BudgetLimitExceeded:
        db.session.rollback()
        allotted = active_total(Allotment, Allotment.program_budget_id, program_budget_id)
        raise BudgetLimitExceeded(f"PHP {allotted:,.2f} is already allotted from program budget {program_budget_id}; "
                                  f"the approved amount cannot go below it", level="allotment",
                                  committed=str(allotted), requested=str(approved_amount)) from None
    return program_budget


def appropriation_problem(program_budget: ProgramBudget) -> str | None:
    """Why a program budget does not count as an appropriation, or ``None``
    when it does: its proposal is enacted (in the enacted GAAB) and its PPA
    is enacted (docs/design.md §12)."""
    reasons = []
    if program_budget.proposal.status != ENACTED:
        reasons.append(f"its FY {program_budget.proposal.fiscal_year} budget proposal is "
                       f"{program_budget.proposal.status}, not enacted")
    stage = get_runtime().rules.budget.allotments_need_stage or ENACTED
    if program_budget.ppa.approval_status != stage:
        reasons.append(f"PPA {program_budget.ppa_id} is {program_budget.ppa.approval_status}, not {stage}")
    if not reasons:
        return None
    return f"program budget {program_budget.id} is not an appropriation yet: {' and '.join(reasons)}"


def _line_total(program_budget_id: int, allotment_class: str) -> Decimal:
    """The program budget's line items of one class, summed (PHP)."""
    return from_centavos(int(db.session.scalar(
        select(func.coalesce(func.sum(type_coerce(BudgetLineItem.amount, BigInteger)), 0))
        .where(BudgetLineItem.program_budget_id == program_budget_id,
               BudgetLineItem.allotment_class == allotment_class))))


def add_justification(user: User, program_budget_id: int, *, title: str, narrative: str) -> BudgetJustification:
    """Attach a justification to a program budget."""
    with transaction() as session:
        program_budget = get_or_raise(user, ProgramBudget, program_budget_id)
        require_role(user, PREPARE, program_budget.ppa.organization_id, "justify a program budget")
        justification = BudgetJustification(program_budget_id=program_budget.id, title=title, narrative=narrative,
                                            created_by_id=user.id)
        session.add(justification)
    return justification


def add_line_item(user: User, program_budget_id: int, *, uacs_code: str, description: str,
                  amount: Decimal, allotment_class: str | None = None) -> BudgetLineItem:
    """Add a line item by UACS object code and allotment class.

    The code's class comes from ``rules/default/uacs_object_codes.yaml`` (the
    third digit of an expense code: 5-01 PS, 5-02 MOOE, 5-03 FinEx, 5-06 CO;
    1-07 property, plant and equipment is CO). A line of one class takes only
    codes of that class, and a class's lines never total above the program
    budget's amount for it (docs/design.md §12).

    Args:
        allotment_class: ``ps``, ``mooe``, ``finex`` or ``co``; when not
            given, the code's class.

    Raises:
        ValidationFailed: the code is not ``NNNNNNNN-NN``, is of no class, or
            of another class than the line's.
        Conflict: ``above_class_amount``.
    """
    if not UACS_CODE.fullmatch(uacs_code):
        raise ValidationFailed({"uacs_code": [f"{uacs_code!r} is not a UACS object code (8 digits, a dash, "
                                              "2 digits, e.g. 50202010-01)"]})
    code_class = get_runtime().rules.uacs_object_codes.class_of(uacs_code)
    if code_class is None:
        raise ValidationFailed({"uacs_code": [f"{uacs_code} is not an object code of any allotment class "
                                              "(rules: uacs_object_codes.yaml)"]})
    allotment_class = allotment_class or code_class
    if code_class != allotment_class:
        raise ValidationFailed({"uacs_code": [
            f"{uacs_code} is a {CLASS_NAMES[code_class]} object code; a {CLASS_NAMES[allotment_class]} line "
            f"takes only {CLASS_NAMES[allotment_class]} codes"]})
    with transaction() as session:
        program_budget = get_or_raise(user, ProgramBudget, program_budget_id, lock=True)
        require_role(user, PREPARE, program_budget.ppa.organization_id, "add budget line items")
        limit = program_budget.class_amount(allotment_class)
        lines = _line_total(program_budget.id, allotment_class)
        if lines + amount > limit:
            raise Conflict(
                f"the {CLASS_NAMES[allotment_class]} line items of program budget {program_budget.id} would total "
                f"PHP {lines + amount:,.2f}, above its {CLASS_NAMES[allotment_class]} amount of PHP {limit:,.2f}; "
                f"PHP {max(limit - lines, ZERO):,.2f} is left", code="above_class_amount",
                allotment_class=allotment_class, limit=str(limit), committed=str(lines), requested=str(amount))
        line = BudgetLineItem(program_budget_id=program_budget.id, uacs_code=uacs_code, description=description,
                              allotment_class=allotment_class, amount=amount, created_by_id=user.id)
        session.add(line)
    return line


# -- execution -------------------------------------------------------------------------------


def release_allotment(user: User, *, program_budget_id: int, release_date: date, saro_number: str,
                      amount: Decimal, quarter: int | None = None, allotment_class: str | None = None,
                      validity_category: str | None = None) -> Allotment:
    """Release an allotment against a program budget. Its quarter comes
    from ``release_date``, year included (docs/design.md §12); ``quarter``,
    when a client still sends it, must agree.

    Args:
        allotment_class: ``ps``, ``mooe``, ``finex`` or ``co``; by default
            the PPA's ``appropriation_class``.
        validity_category: the validity rule that governs the allotment and
            what draws on it (``workflow.validity.VALIDITY_CATEGORIES``), one
            of its class; by default the class's (``DEFAULT_CATEGORY``:
            MOOE of operations, other CO).

    Raises:
        NotFound, Forbidden,
        ValidationFailed: ``quarter`` is not the quarter of ``release_date``,
            or the category is not one of the class,
        Conflict: ``not_appropriated``: the program budget does not count as an
            appropriation (its proposal or its PPA is not enacted), with the reason,
        OutsideValidity: released before the fiscal year begins or after the
            release deadline of the rule in force (rules/default/validity.yaml),
        Duplicate: the SARO/GARO number is used,
        BudgetLimitExceeded: the allotments would exceed the approved amount.
    """
    rules = get_runtime().rules
    derived = quarter_of(release_date)
    if quarter is not None and quarter != derived:
        raise ValidationFailed({"quarter": [
            f"Q{quarter} does not match the release date {release_date.isoformat()}, which is in Q{derived} of "
            f"{release_date.year}; the quarter comes from the release date, so leave it out"]})
    try:
        with transaction() as session:
            program_budget = get_or_raise(user, ProgramBudget, program_budget_id, lock=True)
            require_role(user, RELEASE, program_budget.ppa.organization_id, "release allotments")
            require_open(program_budget.ppa.organization_id, release_date)
            if problem := appropriation_problem(program_budget):
                raise Conflict(f"allotments are released only against an appropriation; {problem}",
                               code="not_appropriated", reason=problem)
            klass = allotment_class or program_budget.ppa.appropriation_class
            category = validity_category or DEFAULT_CATEGORY[klass]
            if CATEGORY_CLASS[category] != klass:
                raise ValidationFailed({"validity_category": [
                    f"{category} is a category of {CATEGORY_CLASS[category].upper()}, not of the allotment's class "
                    f"{klass.upper()}; use one of "
                    f"{', '.join(categories_of(klass))}"]})
            rules.validity.check(program_budget.ppa.fiscal_year, category, "release", release_date)
            allotment = Allotment(program_budget_id=program_budget.id,
                                  organization_id=program_budget.ppa.organization_id, quarter=derived,
                                  release_date=release_date, allotment_class=klass, validity_category=category,
                                  saro_number=saro_number, amount=amount, created_by_id=user.id)
            session.add(allotment)
            session.flush()
            sync_expenditure(session, program_budget.ppa_id)
    except BudgetLimitExceeded:
        raise limit_problem("allotment", program_budget_id, amount) from None
    return allotment


def check_validity(allotment: Allotment, step: str, posted_on: date) -> None:
    """Refuse an obligation or disbursement (``step``) dated ``posted_on``
    that draws on ``allotment`` outside the validity of its appropriation:
    the rule of its PPA's fiscal year and its validity category in force on
    that day (rules/default/validity.yaml, docs/design.md §12).

    Raises:
        OutsideValidity: before the fiscal year begins or after the deadline.
    """
    get_runtime().rules.validity.check(allotment.program_budget.ppa.fiscal_year, allotment.validity_category,
                                       step, posted_on)


def check_obligation_posting(allotment: Allotment, obligation_date: date) -> None:
    """The checks of an ORS dated ``obligation_date`` against ``allotment``,
    made when it is prepared (``record_obligation``) and again, with the rows
    locked, when Box B posts it (``services.documents``; docs/design.md §12
    "ORS and DV as documents"): the quarter of the date is open, the
    allotment is posted and not cancelled, the ORS is not dated before the
    allotment's release, and the date is within the validity of the
    appropriation (rules/default/validity.yaml). The limit is checked by the
    caller (and the database).

    Raises:
        PeriodClosed: the quarter of ``obligation_date`` is closed,
        Conflict: the allotment is cancelled (``cancelled``),
        ValidationFailed: on ``obligation_date``, dated before the release (both dates named),
        OutsideValidity: outside the validity of the appropriation.
    """
    require_open(allotment.organization_id, obligation_date)
    require_active(allotment, "allotment")
    if obligation_date < allotment.release_date:
        raise ValidationFailed({"obligation_date": [
            f"the ORS date {obligation_date.isoformat()} is before the release of allotment "
            f"{allotment.saro_number} on {allotment.release_date.isoformat()}; an obligation cannot be "
            f"dated before the allotment it draws on"]})
    check_validity(allotment, "obligation", obligation_date)


def check_disbursement_posting(obligation: Obligation, disbursement_date: date, *,
                               field: str = "disbursement_date", date_is: str = "the DV date") -> None:
    """The checks of a DV dated ``disbursement_date`` against ``obligation``,
    made when it is prepared (``record_disbursement``) and again, with the
    rows locked, when Box E pays it (``services.documents``, where the date
    is the check/ADA issue date; docs/design.md §12 "ORS and DV as
    documents"): the quarter of the date is open, the ORS is obligated (Box
    B signed) and not cancelled, the DV is not dated before the ORS, and the
    date is within the validity of the appropriation. The limit is checked
    by the caller (and the database).

    Args:
        field: the request field the date came from (``disbursement_date``,
            or ``check_ada_date`` at Box E): a date before the ORS is refused on it.
        date_is: that date in words, to begin the message (``"the DV date"``).

    Raises:
        PeriodClosed: the quarter of the date is closed,
        Conflict: the ORS is a draft (``not_posted``) or cancelled (``cancelled``),
        ValidationFailed: on ``field``, dated before the ORS (both dates named),
        OutsideValidity: outside the validity of the appropriation.
    """
    require_open(obligation.organization_id, disbursement_date)
    require_active(obligation, "obligation")
    if disbursement_date < obligation.obligation_date:
        raise ValidationFailed({field: [
            f"{date_is} {disbursement_date.isoformat()} is before ORS {obligation.ors_number} dated "
            f"{obligation.obligation_date.isoformat()}; a disbursement cannot be dated before the "
            f"obligation it pays"]})
    check_validity(obligation.allotment, "disbursement", disbursement_date)


def record_obligation(user: User, *, allotment_id: int, payee: str, ors_number: str | None = None,
                      particulars: str = "", obligation_date: date, amount: Decimal,
                      work_item_id: int | None = None) -> Obligation:
    """Prepare an ORS against an allotment, as a draft (docs/design.md §12
    "ORS and DV as documents"): it counts in no total until Box B
    (``services.documents.fire_obligation_transition``), where every check
    below is made again. Its number is given now (``ors_number``, checked
    against GAM Appendix 11's form) or the next of its series. Optionally charged to a work
    item of the PPA's WBS (``work_item_id``; none charges the PPA as a
    whole): its disbursements become that item's actual expenditure
    (``services.expenditure``, docs/design.md §12).

    Args:
        ors_number: as GAM Appendix 11 gives it (allotment class – funding
            source – year – month – serial, ``services.document_numbers``);
            ``None``: the next of the fund cluster's series for the ORS's year.

    Raises:
        NotFound, Forbidden, Duplicate,
        ValidationFailed: ``ors_number`` not in the form, or not of the
            allotment's class, the program budget's fund cluster or the ORS date,
        Conflict: the allotment is cancelled,
        ValidationFailed: dated before the allotment's release (the field and both dates named),
        OutsideValidity: dated outside the validity of the allotment's
            appropriation (rules/default/validity.yaml),
        ValidationFailed: a work item outside the PPA's WBS (``work_item_id``),
        BudgetLimitExceeded: the obligations would exceed the allotment
            (the posted ORS under it and this one).
    """
    try:
        with transaction() as session:
            allotment = get_or_raise(user, Allotment, allotment_id, lock=True)
            require_role(user, SPEND, allotment.organization_id, "record obligations")
            check_obligation_posting(allotment, obligation_date)
            check_work_item(allotment.program_budget.ppa, work_item_id)
            if amount > adjusted_amount(allotment) - active_total(Obligation, Obligation.allotment_id, allotment.id):
                raise BudgetLimitExceeded("up front", level="obligation")
            ors_number = number_ors(allotment.organization_id, given=ors_number,
                                    allotment_class=allotment.allotment_class,
                                    fund_cluster=allotment.program_budget.fund_cluster, on=obligation_date)
            obligation = Obligation(allotment_id=allotment.id, organization_id=allotment.organization_id, payee=payee,
                                    ors_number=ors_number, work_item_id=work_item_id,
                                    particulars=particulars, obligation_date=obligation_date, amount=amount,
                                    status="draft", created_by_id=user.id)
            session.add(obligation)
    except BudgetLimitExceeded:
        raise limit_problem("obligation", allotment_id, amount) from None
    return obligation


def record_disbursement(user: User, *, obligation_id: int, dv_number: str | None = None, payment_method: str,
                        disbursement_date: date, amount: Decimal) -> Disbursement:
    """Prepare a DV against an obligated ORS, as a draft (docs/design.md
    §12 "ORS and DV as documents"): it counts as a disbursement only once
    paid (Box E, ``services.documents.fire_disbursement_transition``, which
    makes every check below again with the check/ADA issue date). The DV
    carries its program budget's fund cluster as a field of its own (GAM
    Appendix 32).

    Args:
        dv_number: as GAM Appendix 32 gives it (year – month – serial);
            ``None``: the next of the organization's series for the DV's year.
        payment_method: the mode of payment, one of ``PAYMENT_METHODS``
            (``mds_check``, ``commercial_check``, ``ada``, ``other``).

    Raises:
        NotFound, Forbidden, Duplicate,
        ValidationFailed: ``payment_method`` not one of the four (they are
            listed); ``dv_number`` not in the form or not of the DV date,
        Conflict: the obligation is cancelled or not yet obligated (``not_posted``),
        ValidationFailed: dated before the obligation (the field and both dates named),
        OutsideValidity: dated outside the validity of the appropriation,
        BudgetLimitExceeded: the paid DVs and this one would exceed the obligation.
    """
    if payment_method not in PAYMENT_METHODS:
        raise ValidationFailed({"payment_method": [
            f"{payment_method!r} is not a mode of payment; use one of {', '.join(PAYMENT_METHODS)} "
            f"(MDS check, commercial check, ADA, others: GAM Appendix 32)"]})
    try:
        with transaction() as session:
            obligation = get_or_raise(user, Obligation, obligation_id, lock=True)
            require_role(user, SPEND, obligation.organization_id, "record disbursements")
            check_disbursement_posting(obligation, disbursement_date)
            if amount > adjusted_amount(obligation) - active_total(Disbursement, Disbursement.obligation_id,
                                                                   obligation.id):
                raise BudgetLimitExceeded("up front", level="disbursement")
            dv_number = number_dv(obligation.organization_id, given=dv_number, on=disbursement_date)
            disbursement = Disbursement(obligation_id=obligation.id, organization_id=obligation.organization_id,
                                        dv_number=dv_number,
                                        fund_cluster=obligation.allotment.program_budget.fund_cluster,
                                        payment_method=payment_method, disbursement_date=disbursement_date,
                                        amount=amount, status="draft", created_by_id=user.id)
            session.add(disbursement)
    except BudgetLimitExceeded:
        raise limit_problem("disbursement", obligation_id, amount) from None
    return disbursement


def record_delivery(user: User, obligation_id: int, *, amount: Decimal, accepted_on: date,
                    reference: str = "") -> Delivery:
    """Record a delivery accepted against an obligation (goods or services
    inspected and accepted): the supplier may now demand payment of it.
    Unpaid obligations split into due and demandable (accepted, not yet
    paid) and not yet due and demandable (obligated, not yet accepted), as
    FAR No. 1 columns 23–24 need (docs/design.md §12, "Money spent and
    payables").

    Args:
        amount: PHP, positive; the obligation's deliveries never total above it.
        accepted_on: the date of acceptance, not before the obligation's date.
        reference: e.g. the Inspection and Acceptance Report number.

    Raises:
        NotFound, Forbidden (the MOA records them, as obligations),
        Conflict: the obligation is cancelled,
        ValidationFailed: dated before the obligation, or the deliveries
            would total above the obligation (under ``amount``, with the amounts).
    """
    with transaction() as session:
        obligation = get_or_raise(user, Obligation, obligation_id, lock=True)
        require_role(user, SPEND, obligation.organization_id, "record deliveries")
        require_open(obligation.organization_id, accepted_on)
        require_active(obligation, "obligation")
        errors = {}
        if accepted_on < obligation.obligation_date:
            errors["accepted_on"] = [f"is before the obligation of {obligation.obligation_date.isoformat()}"]
        accepted, obligated = _accepted(obligation.id), adjusted_amount(obligation)
        if accepted + amount > obligated:
            errors["amount"] = [
                f"the deliveries accepted would total PHP {accepted + amount:,.2f}, above the obligation of PHP "
                f"{obligated:,.2f}; PHP {obligated - accepted:,.2f} is not yet accepted"]
        if errors:
            raise ValidationFailed(errors)
        delivery = Delivery(obligation_id=obligation.id, organization_id=obligation.organization_id, amount=amount,
                            accepted_on=accepted_on, reference=reference, created_by_id=user.id)
        session.add(delivery)
    return delivery


def _accepted(obligation_id: int) -> Decimal:
    """What has been accepted against an obligation (PHP)."""
    centavos = db.session.scalar(select(func.coalesce(func.sum(type_coerce(Delivery.amount, BigInteger)), 0))
                                 .where(Delivery.obligation_id == obligation_id))
    return from_centavos(int(centavos))


def payables(obligation: Obligation, obligated: Decimal, disbursed: Decimal, accepted: Decimal) -> dict[str, Decimal]:
    """An obligation's unpaid amount split as FAR No. 1 columns 23–24 (PHP):
    ``due_and_demandable`` = accepted − disbursed (never below zero: an
    advance paid before delivery is not a payable), ``not_yet_due`` = the
    rest of what is unpaid of ``obligated`` (its adjusted amount, NORSA
    included). Both are zero for a cancelled obligation."""
    if not obligation.active:
        return {"accepted": accepted, "due_and_demandable": ZERO, "not_yet_due_and_demandable": ZERO}
    unpaid = obligated - disbursed
    due = min(max(accepted - disbursed, ZERO), unpaid)
    return {"accepted": accepted, "due_and_demandable": due, "not_yet_due_and_demandable": unpaid - due}


def cancel_allotment(user: User, allotment_id: int, *, reason: str, cancelled_on: date | None = None,
                     if_match: str | None = None) -> Allotment:
    """Cancel an allotment, returning its amount to the program budget.

    Args:
        cancelled_on: the business date of the cancellation (default today in
            Asia/Manila); its reversal posts in this date's quarter.

    Raises:
        Conflict: already cancelled, or it still has active obligations
            (cancel those first).
        ValidationFailed: ``cancelled_on`` before the release date.
    """
    cancelled_on = cancelled_on or today()
    with transaction():
        (allotment,) = lock_in_order(user, (Allotment, allotment_id))
        require_role(user, RELEASE, allotment.organization_id, "cancel allotments")
        require_open(allotment.organization_id, cancelled_on)
        check_if_match(if_match, allotment.etag)
        require_active(allotment, "allotment")
        require_on_or_after(cancelled_on, allotment.release_date, "cancelled_on", "the allotment's release")
        if active_total(Obligation, Obligation.allotment_id, allotment.id):
            raise Conflict(f"allotment {allotment.id} still has active obligations; cancel them first",
                           code="has_active_children")
        allotment.status, allotment.cancelled_at, allotment.cancel_reason = "cancelled", utcnow(), reason
        allotment.cancelled_on = cancelled_on
        db.session.flush()
        sync_expenditure(db.session, allotment.program_budget.ppa_id)
    return allotment


def cancel_obligation(user: User, obligation_id: int, *, reason: str, cancelled_on: date | None = None,
                      if_match: str | None = None) -> Obligation:
    """Cancel an obligation, returning its amount to the allotment. Locks
    the allotment, then the obligation (``LOCK_ORDER``).

    Args:
        cancelled_on: the business date of the cancellation (default today in
            Asia/Manila); its reversal posts in this date's quarter.

    Raises:
        Conflict: already cancelled, or it still has disbursements (void them first).
        ValidationFailed: ``cancelled_on`` before the ORS date.
    """
    cancelled_on = cancelled_on or today()
    with transaction():
        allotment_id = get_or_raise(user, Obligation, obligation_id).allotment_id  # fixed once posted
        allotment, obligation = lock_in_order(user, (Allotment, allotment_id), (Obligation, obligation_id))
        require_role(user, SPEND, obligation.organization_id, "cancel obligations")
        require_open(obligation.organization_id, cancelled_on)
        check_if_match(if_match, obligation.etag)
        require_active(obligation, "obligation")
        require_on_or_after(cancelled_on, obligation.obligation_date, "cancelled_on", "the obligation")
        if active_total(Disbursement, Disbursement.obligation_id, obligation.id):
            raise Conflict(f"obligation {obligation.id} still has disbursements; void them first",
                           code="has_active_children")
        obligation.status, obligation.cancelled_at, obligation.cancel_reason = "cancelled", utcnow(), reason
        obligation.cancelled_on = cancelled_on
        db.session.flush()
        refresh_allotment_status(allotment)
        sync_expenditure(db.session, obligation.allotment.program_budget.ppa_id)
    return obligation


def void_disbursement(user: User, disbursement_id: int, *, reason: str, voided_on: date | None = None,
                      if_match: str | None = None) -> Disbursement:
    """Void a disbursement, returning its amount to the obligation. Locks
    the obligation, then the disbursement (``LOCK_ORDER``).

    Args:
        voided_on: the business date of the void (default today in
            Asia/Manila); its reversal posts in this date's quarter, never
            in the quarter of the DV it voids.

    Raises:
        Conflict: already voided.
        ValidationFailed: ``voided_on`` before the DV's date.
    """
    voided_on = voided_on or today()
    with transaction():
        obligation_id = get_or_raise(user, Disbursement, disbursement_id).obligation_id  # fixed once posted
        obligation, disbursement = lock_in_order(user, (Obligation, obligation_id), (Disbursement, disbursement_id))
        require_role(user, SPEND, disbursement.organization_id, "void disbursements")
        require_open(disbursement.organization_id, voided_on)
        check_if_match(if_match, disbursement.etag)
        if not disbursement.active:
            raise Conflict(f"disbursement {disbursement.id} is already voided", code="already_voided")
        require_on_or_after(voided_on, disbursement.disbursement_date, "voided_on", "the disbursement")
        disbursement.status, disbursement.voided_at, disbursement.void_reason = "voided", utcnow(), reason
        disbursement.voided_on = voided_on
        db.session.flush()
        refresh_obligation_status(obligation)
        sync_expenditure(db.session, obligation.allotment.program_budget.ppa_id)
    return disbursement


# -- corrections: new rows ---------------------------------------------------------------------


def adjust_allotment(user: User, allotment_id: int, *, kind: str, amount: Decimal, adjustment_date: date,
                     reason: str, legal_basis: str) -> AllotmentAdjustment:
    """Reduce, withdraw from or augment an allotment with a row of its own
    (the allotment itself never changes). Locks the program budget, then the
    allotment (``LOCK_ORDER``).

    Args:
        kind: ``reduction``, ``withdrawal`` or ``augmentation``.
        amount: PHP, positive; stored signed (negative for a reduction or a
            withdrawal).
        adjustment_date: it posts in this date's quarter; never before the
            release date.

    Raises:
        NotFound, Forbidden,
        Conflict: the allotment is cancelled,
        ValidationFailed: a bad kind or amount, dated before the release,
        BudgetLimitExceeded: an augmentation above the program budget
            (level ``allotment``), a reduction or withdrawal below what is
            obligated (level ``obligation``), with the amounts.
    """
    if kind not in ALLOTMENT_ADJUSTMENT_SIGNS:
        raise ValidationFailed({"kind": [f"must be one of {', '.join(ALLOTMENT_ADJUSTMENT_SIGNS)}"]})
    if amount <= 0:
        raise ValidationFailed({"amount": ["must be at least 0.01; the kind gives the sign"]})
    signed = amount * ALLOTMENT_ADJUSTMENT_SIGNS[kind]
    try:
        with transaction() as session:
            program_budget_id = get_or_raise(user, Allotment, allotment_id).program_budget_id  # fixed once posted
            _, allotment = lock_in_order(user, (ProgramBudget, program_budget_id), (Allotment, allotment_id))
            require_role(user, RELEASE, allotment.organization_id, "adjust allotments")
            require_open(allotment.organization_id, adjustment_date)
            require_active(allotment, "allotment")
            require_on_or_after(adjustment_date, allotment.release_date, "adjustment_date",
                                "the allotment's release")
            adjustment = AllotmentAdjustment(allotment_id=allotment.id, organization_id=allotment.organization_id,
                                             kind=kind, amount=signed, adjustment_date=adjustment_date,
                                             reason=reason, legal_basis=legal_basis, created_by_id=user.id)
            session.add(adjustment)
            session.flush()
            refresh_allotment_status(allotment)
    except BudgetLimitExceeded as refused:
        db.session.rollback()
        if refused.level == "allotment":
            raise limit_problem("allotment", program_budget_id, amount) from None
        raise below_what_is_used(db.session.get(Allotment, allotment_id), signed, f"a {kind} of PHP {amount:,.2f}",
                                 Obligation.allotment_id, "obligated", "obligation") from None
    return adjustment


def adjust_obligation(user: User, obligation_id: int, *, amount: Decimal, adjustment_date: date, reason: str,
                      legal_basis: str) -> ObligationAdjustment:
    """Record a NORSA (Notice of Obligation Request and Status Adjustment):
    a signed amount added to an obligation by a row of its own (the ORS
    itself never changes). Locks the allotment, then the obligation
    (``LOCK_ORDER``).

    Args:
        amount: PHP, signed, never zero (``-1500.00`` lowers the obligation).
        adjustment_date: it posts in this date's quarter; never before the
            ORS date.

    Raises:
        NotFound, Forbidden,
        Conflict: the obligation is cancelled,
        ValidationFailed: a zero amount, dated before the ORS,
        BudgetLimitExceeded: the obligations would exceed the allotment
            (level ``obligation``), or the obligation would fall below what
            is disbursed against it (level ``disbursement``), with the
            amounts.
    """
    if amount == 0:
        raise ValidationFailed({"amount": ["must not be zero: a NORSA adds or takes off an amount"]})
    try:
        with transaction() as session:
            allotment_id = get_or_raise(user, Obligation, obligation_id).allotment_id  # fixed once posted
            allotment, obligation = lock_in_order(user, (Allotment, allotment_id), (Obligation, obligation_id))
            require_role(user, SPEND, obligation.organization_id, "record NORSA adjustments")
            require_open(obligation.organization_id, adjustment_date)
            require_active(obligation, "obligation")
            require_on_or_after(adjustment_date, obligation.obligation_date, "adjustment_date", "the obligation")
            adjustment = ObligationAdjustment(obligation_id=obligation.id, organization_id=obligation.organization_id,
                                              amount=amount, adjustment_date=adjustment_date, reason=reason,
                                              legal_basis=legal_basis, created_by_id=user.id)
            session.add(adjustment)
            session.flush()
            refresh_obligation_status(obligation)
            refresh_allotment_status(allotment)
    except BudgetLimitExceeded as refused:
        db.session.rollback()
        if refused.level == "obligation":
            raise limit_problem("obligation", allotment_id, amount) from None
        raise below_what_is_used(db.session.get(Obligation, obligation_id), amount, f"a NORSA of PHP {amount:,.2f}",
                                 Disbursement.obligation_id, "already disbursed", "disbursement") from None
    return adjustment


def below_what_is_used(row: Allotment | Obligation, change: Decimal, what: str, child_column, used_as: str,
                       level: str) -> BudgetLimitExceeded:
    """The refusal of a correction (``what``, changing the active amount of
    ``row`` by ``change`` PHP) that would leave ``row`` below what its
    active children (``child_column`` names their parent) use, with the
    amounts from a fresh read: ``limit`` the amount it would have,
    ``committed`` what is used, ``available`` what can be taken off
    (docs/design.md §12 "Posted rows never change": a withdrawal below what
    is obligated, a negative NORSA below what is disbursed).

    Args:
        row: the allotment or obligation corrected.
        change: the signed change of its active amount (PHP, Decimal).
        what: the correction in words, e.g. ``"a NORSA of PHP -1,500.00"``.
        child_column: the children's column naming ``row`` (e.g. ``Obligation.allotment_id``).
        used_as: what the children's total is, in words (``"obligated"``).
        level: the ``level`` of the problem (``"obligation"``, ``"disbursement"``).

    Returns:
        The ``BudgetLimitExceeded`` (409 ``budget_limit_exceeded``) to raise;
        its amounts are strings of PHP.
    """
    used = active_total(child_column.class_, child_column, row.id)
    active = adjusted_amount(row)
    room = max(active - used, ZERO)
    noun = "allotment" if isinstance(row, Allotment) else "obligation"
    return BudgetLimitExceeded(
        f"{what} would leave {noun} {row.id} at PHP {active + change:,.2f}, below the PHP {used:,.2f} {used_as} "
        f"against it; PHP {room:,.2f} can be taken off", level=level, limit=str(active + change),
        committed=str(used), requested=str(change), available=str(room))


def list_adjustments(user: User, parent_model: type, parent_id: int) -> Select:
    """The adjustments of a visible allotment or obligation, oldest first.

    Raises:
        NotFound: the parent is unknown or not visible.
    """
    return list_children(user, parent_model, parent_id, _ADJUSTMENTS[parent_model][1])


def lock_in_order(user: User, *targets: tuple[type, int]) -> list:
    """Lock chain rows (``FOR UPDATE``) in ``LOCK_ORDER``, whatever order
    they are asked for in, and return them in the order asked.

    Args:
        targets: ``(model, id)`` pairs: ``ProgramBudget``, ``Allotment``,
            ``Obligation`` or ``Disbursement``.

    Raises:
        NotFound: a row is unknown or not visible.
    """
    rows: list = [None] * len(targets)
    for index in sorted(range(len(targets)), key=lambda i: LOCK_ORDER.index(targets[i][0])):
        model, row_id = targets[index]
        rows[index] = get_or_raise(user, model, row_id, lock=True)
    return rows


def get_or_raise(user: User, model: type, row_id: int, *, lock: bool = False):
    """A program budget, allotment, obligation or disbursement visible to
    ``user``; with ``lock``, locked (``FOR UPDATE`` of its own table) and
    re-read, for a write.

    Raises:
        NotFound: unknown or not visible.
    """
    if lock:
        row = db.session.scalar(select(model).where(model.id == row_id).with_for_update(of=model)
                                .execution_options(populate_existing=True))
    else:
        row = db.session.get(model, row_id)
    if row is None or not visible_organization(user, _organization_of(row)):
        raise NotFound(f"{model.__tablename__.replace('_', ' ')[:-1]} {row_id} not found")
    return row


def program_budgets_of(user: User, ppa_id: int) -> list[ProgramBudget]:
    """A visible PPA's program budgets, oldest first.

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    return list(db.session.scalars(select(ProgramBudget).where(ProgramBudget.ppa_id == ppa.id)
                                   .order_by(ProgramBudget.id)))


def list_children(user: User, parent_model: type, parent_id: int, parent_column) -> Select:
    """The rows whose ``parent_column`` (e.g. ``Obligation.allotment_id``)
    points at a ``parent_model`` row that ``user`` may see, oldest first;
    rows of another organization (a sub-allotment received by another MOA)
    only to whoever may GET them, so a list agrees with its GETs.

    Raises:
        NotFound: the parent is unknown or not visible.
    """
    get_or_raise(user, parent_model, parent_id)
    model = parent_column.class_
    query = select(model).where(parent_column == parent_id).order_by(model.id)
    if hasattr(model, "organization_id"):  # e.g. a sub-allotment received by another MOA: 404 to GET, so unlisted
        query = query.where(visible_rows(user, model.organization_id))
    return query


# -- statuses and totals -----------------------------------------------------------------------


def refresh_allotment_status(allotment: Allotment) -> None:
    """``released``, ``partially_utilized`` or ``fully_utilized`` by what is obligated."""
    _refresh_status(allotment, Obligation.allotment_id, ("released", "partially_utilized", "fully_utilized"))


def refresh_obligation_status(obligation: Obligation) -> None:
    """``obligated``, ``partially_disbursed`` or ``fully_disbursed`` by what is paid."""
    _refresh_status(obligation, Disbursement.obligation_id, ("obligated", "partially_disbursed", "fully_disbursed"))


def _refresh_status(parent: Allotment | Obligation, child_column, statuses: tuple[str, str, str]) -> None:
    """Set an active ``parent``'s status to the first of ``statuses`` when
    none of its active amount is used by its active children, the last when
    all of it is, else the middle one; a cancelled parent stays cancelled."""
    if not parent.active:
        return
    used = active_total(child_column.class_, child_column, parent.id)
    unused, partly, fully = statuses
    parent.status = unused if used == 0 else fully if used == adjusted_amount(parent) else partly


#: Parent model -> (its adjustment model, the adjustment's column naming the parent).
_ADJUSTMENTS = {Allotment: (AllotmentAdjustment, AllotmentAdjustment.allotment_id),
                Obligation: (ObligationAdjustment, ObligationAdjustment.obligation_id)}


def active_amount_sql(model: type):
    """SQL for the active amount of an ``Allotment`` or ``Obligation`` row,
    in centavos: its amount plus its adjustments (a correlated subquery);
    a ``Disbursement``'s is its amount."""
    amount = type_coerce(model.amount, BigInteger)
    if model not in _ADJUSTMENTS:
        return amount
    adjustment, column = _ADJUSTMENTS[model]
    return amount + select(func.coalesce(func.sum(type_coerce(adjustment.amount, BigInteger)), 0)).where(
        column == model.id).correlate(model).scalar_subquery()


def adjusted_amount(row: Allotment | Obligation | Disbursement) -> Decimal:
    """The active amount of a row (PHP): its amount plus its adjustments
    (allotment adjustments, NORSA); a disbursement's is its amount."""
    if type(row) not in _ADJUSTMENTS:
        return row.amount
    adjustment, column = _ADJUSTMENTS[type(row)]
    centavos = db.session.scalar(select(func.coalesce(func.sum(type_coerce(adjustment.amount, BigInteger)), 0))
                                 .where(column == row.id))
    return row.amount + from_centavos(int(centavos))


def spent(ppa_ids: Iterable[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """ppa id -> ``(obligated, disbursed)`` PHP: the active ORS with their
    adjustments (``services.budget.active_amount_sql``), the active DVs (as
    the money chain counts them, docs/design.md §12); two statements
    whatever the number of PPAs."""
    ids = list(ppa_ids)
    out = {ppa_id: [0, 0] for ppa_id in ids}
    if not ids:
        return {}
    chain = (select(ProgramBudget.ppa_id).join(Allotment, Allotment.program_budget_id == ProgramBudget.id)
             .join(Obligation, Obligation.allotment_id == Allotment.id)
             .where(ProgramBudget.ppa_id.in_(ids)).group_by(ProgramBudget.ppa_id))
    for ppa_id, centavos in db.session.execute(
            chain.where(Obligation.active).add_columns(func.sum(active_amount_sql(Obligation)))):
        out[ppa_id][0] = int(centavos or 0)
    for ppa_id, centavos in db.session.execute(
            chain.join(Disbursement, Disbursement.obligation_id == Obligation.id).where(Disbursement.active)
            .add_columns(func.sum(active_amount_sql(Disbursement)))):
        out[ppa_id][1] = int(centavos or 0)
    return {ppa_id: (from_centavos(o), from_centavos(d)) for ppa_id, (o, d) in out.items()}


def appropriation_adjustments_by_class(program_budget_id: int) -> dict[str, Decimal]:
    """The sum of a program budget's appropriation adjustments per allotment
    class (``ps``, ``mooe``, ``finex``, ``co``), PHP, signed; a class with
    none is zero (docs/design.md §12 "Adjustments and transfers")."""
    rows = db.session.execute(
        select(AppropriationAdjustment.allotment_class,
               func.sum(type_coerce(AppropriationAdjustment.amount, BigInteger)))
        .where(AppropriationAdjustment.program_budget_id == program_budget_id)
        .group_by(AppropriationAdjustment.allotment_class))
    out = dict.fromkeys(ALLOTMENT_CLASSES, ZERO)
    for klass, centavos in rows:
        out[klass] = from_centavos(int(centavos))
    return out


def adjusted_appropriation(program_budget: ProgramBudget) -> Decimal:
    """A program budget's adjusted amount (PHP): its approved amount plus
    its appropriation adjustments (augmentations, modifications,
    transfers). Allotments are limited by it (migration 0018's triggers)."""
    return program_budget.approved_amount + sum(appropriation_adjustments_by_class(program_budget.id).values(), ZERO)


def active_total(model: type, parent_column, parent_id: int) -> Decimal:
    """Sum of the active amounts (amount plus adjustments) of the active,
    posted ``model`` rows whose ``parent_column`` is ``parent_id``, in PHP
    (Decimal): what the limits of docs/design.md §12 count. Cancelled rows
    and drafts count nothing."""
    centavos = db.session.scalar(select(func.coalesce(func.sum(active_amount_sql(model)), 0))
                                 .where(parent_column == parent_id, model.active))
    return from_centavos(int(centavos))


def totals(row: ProgramBudget | Allotment | Obligation | Disbursement) -> dict[str, Decimal]:
    """What has been done with a program budget, allotment or obligation
    (PHP, on active amounts: adjustments included); nothing for a
    disbursement, the last level. An allotment's and an obligation's include
    ``adjusted_amount``, the amount plus its adjustments."""
    if isinstance(row, ProgramBudget):
        problem = appropriation_problem(row)
        allotted = active_total(Allotment, Allotment.program_budget_id, row.id)
        obligated = from_centavos(int(db.session.scalar(
            select(func.coalesce(func.sum(active_amount_sql(Obligation)), 0))
            .join(Allotment, Obligation.allotment_id == Allotment.id)
            .where(Allotment.program_budget_id == row.id, Obligation.active))))
        disbursed = from_centavos(int(db.session.scalar(
            select(func.coalesce(func.sum(type_coerce(Disbursement.amount, BigInteger)), 0))
            .join(Obligation, Disbursement.obligation_id == Obligation.id)
            .join(Allotment, Obligation.allotment_id == Allotment.id)
            .where(Allotment.program_budget_id == row.id, Disbursement.active))))
        by_class = appropriation_adjustments_by_class(row.id)
        adjusted = row.approved_amount + sum(by_class.values(), ZERO)
        return {"appropriation": problem is None, "not_appropriated_reason": problem,
                "adjustments": sum(by_class.values(), ZERO), "adjusted_amount": adjusted,
                **{f"adjusted_{c}": row.class_amount(c) + by_class[c] for c in ALLOTMENT_CLASSES},
                "allotted": allotted, "unallotted": adjusted - allotted, "obligated": obligated,
                "unobligated": allotted - obligated, "disbursed": disbursed, "unpaid": obligated - disbursed}
    if isinstance(row, Allotment):
        active = adjusted_amount(row)
        obligated = active_total(Obligation, Obligation.allotment_id, row.id)
        return {"adjusted_amount": active, "obligated": obligated,
                "available": active - obligated if row.active else ZERO}
    if isinstance(row, Obligation):
        active = adjusted_amount(row)
        disbursed = active_total(Disbursement, Disbursement.obligation_id, row.id)
        return {"adjusted_amount": active, "disbursed": disbursed,
                "balance": active - disbursed if row.active else ZERO} | payables(
            row, active, disbursed, _accepted(row.id))
    return {}


def limit_problem(level: str, parent_id: int, requested: Decimal) -> BudgetLimitExceeded:
    """The database refused a write at ``level``: say by how much, from a fresh read."""
    parents = {"allotment": (ProgramBudget, Allotment, Allotment.program_budget_id, "approved amount"),
               "obligation": (Allotment, Obligation, Obligation.allotment_id, "allotment"),
               "disbursement": (Obligation, Disbursement, Disbursement.obligation_id, "obligation")}
    parent_model, child_model, column, noun = parents[level]
    db.session.rollback()
    parent = db.session.get(parent_model, parent_id)
    limit = (adjusted_appropriation(parent) if parent_model is ProgramBudget else adjusted_amount(parent) if parent.active
             else ZERO)
    if parent_model is ProgramBudget and limit != parent.approved_amount:
        noun = "adjusted amount (approved amount plus appropriation adjustments)"
    committed = active_total(child_model, column, parent_id)
    available = max(limit - committed, ZERO)
    return BudgetLimitExceeded(
        f"{level}s under {parent_model.__tablename__[:-1].replace('_', ' ')} {parent_id} would total PHP "
        f"{committed + requested:,.2f}, above its {noun} of PHP {limit:,.2f}; PHP {available:,.2f} is available",
        level=level, limit=str(limit), committed=str(committed), requested=str(requested), available=str(available))


def _organization_of(row) -> int:
    """The MOA a financial row belongs to: its PPA's (allotments,
    obligations and disbursements carry it)."""
    return row.ppa.organization_id if isinstance(row, ProgramBudget) else row.organization_id


def require_active(row, noun: str) -> None:
    """Refuse a use of ``row`` (an allotment, ORS or DV, named ``noun``:
    ``"allotment"``, ``"obligation"``, ``"disbursement"``) that is not
    posted or is cancelled (docs/design.md §12 "ORS and DV as documents").

    Raises:
        Conflict: 409 ``not_posted`` for a draft or withdrawn ORS or DV,
            409 ``cancelled`` for a cancelled or voided row.
    """
    if getattr(row, "draft", False) or row.status == "withdrawn":
        document = {"obligation": "ORS", "disbursement": "DV"}.get(noun, noun)
        raise Conflict(f"{noun} {row.id} is an {document} not yet posted ({row.status}); it counts only once "
                       + ("obligated (Box B signed)" if noun == "obligation" else "paid (Box E)")
                       + (", and a draft is cancelled with its workflow's cancel step" if row.status != "withdrawn"
                          else ""), code="not_posted")
    if not row.active:
        raise Conflict(f"{noun} {row.id} is cancelled", code="cancelled")


def require_on_or_after(day: date, earliest: date, field: str, what: str) -> None:
    """Refuse a correction or cancellation dated ``day`` before ``earliest``,
    the date of ``what`` (in words, e.g. ``"the allotment's release"``): a
    correction is never dated before the document it corrects
    (docs/design.md §12 "Posted rows never change").

    Raises:
        ValidationFailed: on ``field``, "is before {what} of {earliest}".
    """
    if day < earliest:
        raise ValidationFailed({field: [f"is before {what} of {earliest.isoformat()}"]})


def as_view(row, **extra: Any) -> Mapping[str, Any]:
    """A financial row with its totals, for the API."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns} | totals(row) | extra
