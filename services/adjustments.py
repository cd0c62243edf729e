"""Adjustments and transfers of the money chain (issue 12 item 4,
docs/design.md §12 "Adjustments and transfers"): appropriation adjustments
(augmentation, modification, transfer), allotment realignments and
sub-allotments to another MOA or operating unit. Each is a new row (or a
pair of rows that sum to zero) with its own date, reason and legal basis;
the rows it corrects never change, and the new rows are append-only on both
databases (migration 0018) and audited (``appropriation_adjustment``,
``allotment_adjustment``, ``sub_allotment``, ``allotment``).

Who may post them (``require_role``; administrators too):

| correction | roles |
|---|---|
| appropriation adjustments | ``budget_analyst`` (MFBM) |
| allotment realignments, sub-allotments | ``budget_officer`` of the allotment's MOA, or ``budget_analyst`` |

Each use case is one transaction; it locks rows in ``services.budget.LOCK_ORDER``
(program budgets, by id, then allotments, by id, then the PPA), checks the
period is open (``services.periods.require_open``) for every MOA it posts
for, and leaves the limits to the database triggers, whose refusals become
409 ``budget_limit_exceeded`` with the amounts. Amounts are PHP ``Decimal``
(centavos in the database).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Select, func, or_, select, type_coerce

from db import db
from db.models import (
    Allotment,
    AllotmentAdjustment,
    AppropriationAdjustment,
    Obligation,
    ProgramBudget,
    SubAllotment,
    User,
)
from db.models.budget import ALLOTMENT_CLASSES, APPROPRIATION_ADJUSTMENT_KINDS
from services.access import require_role
from services.budget import (
    APPROVE,
    CLASS_NAMES,
    active_total,
    adjusted_appropriation,
    appropriation_adjustments_by_class,
    appropriation_problem,
    below_what_is_used,
    check_validity,
    get_or_raise,
    refresh_allotment_status,
    require_active,
    require_on_or_after,
)
from services.expenditure import sync_expenditure
from services.periods import require_open
from services.ppas import get_ppa_or_raise
from services.runtime import get_runtime
from services.unit_of_work import transaction
from services.users import get_organization_or_raise
from workflow.errors import BudgetLimitExceeded, Conflict, ValidationFailed
from workflow.money import ZERO, from_centavos
from workflow.validity import quarter_of

#: Who posts appropriation adjustments: MFBM's budget analysts.
ADJUST_APPROPRIATION = APPROVE
#: Who realigns or sub-allots an allotment: the MOA's budget officer, or MFBM.
CORRECT_ALLOTMENT = ("budget_officer", "budget_analyst")


def _lock_program_budgets(user: User, ids: list[int]) -> dict[int, ProgramBudget]:
    """Lock program budgets (``FOR UPDATE``) in id order, the first kind of ``LOCK_ORDER``."""
    return {row_id: get_or_raise(user, ProgramBudget, row_id, lock=True) for row_id in sorted(set(ids))}


def _lock_program_budgets_of(allotments: list[Allotment]) -> dict[int, ProgramBudget]:
    """Lock the program budgets of ``allotments`` the caller has already
    found visible (``FOR UPDATE``, by id), without a visibility check of
    their own: a sub-allotment received by another MOA draws on the giver
    PPA's program budget, which its budget officer may not see but still
    realigns and sub-allots from (docs/design.md §12 "Adjustments and
    transfers")."""
    out = {}
    for row_id in sorted({a.program_budget_id for a in allotments}):
        out[row_id] = db.session.scalar(select(ProgramBudget).where(ProgramBudget.id == row_id)
                                        .with_for_update(of=ProgramBudget).execution_options(populate_existing=True))
    return out


def _lock_allotments(user: User, ids: list[int]) -> dict[int, Allotment]:
    """Lock allotments in id order, after their program budget."""
    return {row_id: get_or_raise(user, Allotment, row_id, lock=True) for row_id in sorted(set(ids))}


def _ppa_total(ppa_id: int) -> Decimal:
    """The adjusted amounts of all a PPA's program budgets (PHP)."""
    approved = db.session.scalar(select(func.coalesce(func.sum(type_coerce(ProgramBudget.approved_amount,
                                                                           BigInteger)), 0))
                                 .where(ProgramBudget.ppa_id == ppa_id))
    adjusted = db.session.scalar(select(func.coalesce(func.sum(type_coerce(AppropriationAdjustment.amount,
                                                                           BigInteger)), 0))
                                 .join(ProgramBudget, ProgramBudget.id == AppropriationAdjustment.program_budget_id)
                                 .where(ProgramBudget.ppa_id == ppa_id))
    return from_centavos(int(approved) + int(adjusted))


def _require_within_ppa_budget(user: User, program_budget: ProgramBudget, increase: Decimal) -> None:
    """Refuse an increase of a PPA's appropriations above its budget (§12
    "Appropriations": all of a PPA's program budgets never total above its
    ``budget_allocation``). Locks the PPA (after the chain's rows).

    Raises:
        Conflict: ``above_ppa_budget``, with the amounts.
    """
    ppa = get_ppa_or_raise(user, program_budget.ppa_id, for_update=True)
    current = _ppa_total(ppa.id)
    if current + increase > ppa.budget_allocation:
        raise Conflict(
            f"PPA {ppa.id}'s program budgets would total PHP {current + increase:,.2f}, above its budget of "
            f"PHP {ppa.budget_allocation:,.2f} (PHP {current:,.2f} is appropriated, adjustments included); an "
            "appropriation is never above the PPA's budget", code="above_ppa_budget",
            budget=str(ppa.budget_allocation), appropriated=str(current), requested=str(increase))


def adjust_appropriation(user: User, program_budget_id: int, *, kind: str, amount: Decimal, allotment_class: str,
                         adjustment_date: date, reason: str, legal_basis: str,
                         to_program_budget_id: int | None = None,
                         to_allotment_class: str | None = None) -> list[AppropriationAdjustment]:
    """Adjust an appropriation (a program budget) by new rows; the program
    budget itself never changes (docs/design.md §12 "Adjustments and
    transfers").

    Args:
        kind: ``augmentation`` (adds ``amount`` to ``allotment_class``),
            ``modification`` (moves ``amount`` from ``allotment_class`` to
            ``to_allotment_class`` of the same program budget) or
            ``transfer`` (moves ``amount`` of ``allotment_class`` to
            ``to_program_budget_id``, another program budget of the same MOA
            and fiscal year, in ``to_allotment_class``, by default the same
            class).
        amount: PHP, positive.
        adjustment_date: it posts in this date's quarter; never before
            1 January of the PPA's fiscal year.

    Returns:
        The rows made: one for an augmentation; for a modification or a
        transfer the pair (the row taking the amount off first, then the one
        adding it), sharing ``pair_key`` and summing to zero.

    Raises:
        NotFound, Forbidden (``budget_analyst`` only),
        ValidationFailed: a bad kind, amount, class or counterpart, dated
            before the fiscal year,
        Conflict: ``not_appropriated`` (a program budget that does not count
            as an appropriation), ``above_ppa_budget`` (an augmentation or an
            incoming transfer above the PPA's budget), ``below_class_amount``
            (a class's adjusted amount would fall below zero),
        PeriodClosed: dated in a closed quarter of the MOA,
        BudgetLimitExceeded: level ``appropriation``: the program budget's
            adjusted amount would fall below what is allotted from it.
    """
    errors = _appropriation_errors(program_budget_id, kind, amount, allotment_class, to_program_budget_id,
                                   to_allotment_class)
    if errors:
        raise ValidationFailed(errors)
    target_id = to_program_budget_id if kind == "transfer" else program_budget_id
    target_class = (to_allotment_class or allotment_class) if kind != "augmentation" else allotment_class
    try:
        with transaction() as session:
            budgets = _lock_program_budgets(user, [program_budget_id, target_id])
            source, target = budgets[program_budget_id], budgets[target_id]
            organization_id = source.ppa.organization_id
            require_role(user, ADJUST_APPROPRIATION, organization_id, "adjust appropriations")
            if kind == "transfer" and (target.ppa.organization_id != organization_id
                                       or target.ppa.fiscal_year != source.ppa.fiscal_year):
                raise ValidationFailed({"to_program_budget_id": [
                    f"program budget {target.id} is of {target.ppa.organization.code} FY {target.ppa.fiscal_year}; "
                    f"a transfer is between program budgets of the same MOA and fiscal year "
                    f"({source.ppa.organization.code} FY {source.ppa.fiscal_year})"]})
            for budget in {source.id: source, target.id: target}.values():
                if problem := appropriation_problem(budget):
                    raise Conflict(f"program budget {budget.id} is not an appropriation yet: {problem}; adjust it "
                                   "by changing its amounts, or once it is enacted", code="not_appropriated",
                                   reason=problem)
            fiscal_year_start = date(source.ppa.fiscal_year, 1, 1)
            require_on_or_after(adjustment_date, fiscal_year_start, "adjustment_date",
                                f"the start of FY {source.ppa.fiscal_year}")
            require_open(organization_id, adjustment_date)
            if kind == "augmentation":
                _require_within_ppa_budget(user, source, amount)
                rows = [AppropriationAdjustment(program_budget_id=source.id, organization_id=organization_id,
                                                kind=kind, allotment_class=allotment_class, amount=amount,
                                                adjustment_date=adjustment_date, reason=reason,
                                                legal_basis=legal_basis, created_by_id=user.id)]
            else:
                by_class = appropriation_adjustments_by_class(source.id)
                left = source.class_amount(allotment_class) + by_class[allotment_class]
                if amount > left:
                    raise Conflict(
                        f"program budget {source.id} has PHP {left:,.2f} of {CLASS_NAMES[allotment_class]} "
                        f"(adjustments included); a {kind} of PHP {amount:,.2f} would take it below zero",
                        code="below_class_amount", allotment_class=allotment_class, available=str(left))
                if target.ppa_id != source.ppa_id:
                    _require_within_ppa_budget(user, target, amount)
                pair = uuid.uuid4().hex
                rows = [AppropriationAdjustment(program_budget_id=budget.id, organization_id=organization_id,
                                                kind=kind, allotment_class=klass, amount=signed, pair_key=pair,
                                                adjustment_date=adjustment_date, reason=reason,
                                                legal_basis=legal_basis, created_by_id=user.id)
                        for budget, klass, signed in ((source, allotment_class, -amount),
                                                      (target, target_class, amount))]
            # The row adding the amount is written first: within one program budget the
            # adjusted amount then never dips below what is allotted on the way.
            for row in reversed(rows):
                session.add(row)
                session.flush()
    except BudgetLimitExceeded as refused:
        db.session.rollback()
        if refused.level != "appropriation":
            raise
        budget = db.session.get(ProgramBudget, program_budget_id)
        adjusted = adjusted_appropriation(budget)
        allotted = active_total(Allotment, Allotment.program_budget_id, budget.id)
        room = max(adjusted - allotted, ZERO)
        raise BudgetLimitExceeded(
            f"a {kind} of PHP {amount:,.2f} would leave program budget {budget.id} at PHP {adjusted - amount:,.2f}, "
            f"below the PHP {allotted:,.2f} already allotted from it; PHP {room:,.2f} can be taken off (reduce or "
            "withdraw allotments first)", level="appropriation", limit=str(adjusted - amount),
            committed=str(allotted), requested=str(-amount), available=str(room)) from None
    return rows


def _appropriation_errors(program_budget_id: int, kind: str, amount: Decimal, allotment_class: str,
                          to_program_budget_id: int | None, to_allotment_class: str | None) -> dict:
    """The per-field errors of an appropriation adjustment request (422)."""
    errors: dict[str, list[str]] = {}
    if kind not in APPROPRIATION_ADJUSTMENT_KINDS:
        errors["kind"] = [f"must be one of {', '.join(APPROPRIATION_ADJUSTMENT_KINDS)}"]
    if amount <= 0:
        errors["amount"] = ["must be at least 0.01: the kind says where it goes"]
    for field, value in (("allotment_class", allotment_class), ("to_allotment_class", to_allotment_class)):
        if value is not None and value not in ALLOTMENT_CLASSES:
            errors[field] = [f"must be one of {', '.join(ALLOTMENT_CLASSES)}"]
    if kind == "modification":
        if to_allotment_class is None:
            errors["to_allotment_class"] = ["a modification moves an amount to another allotment class: name it"]
        elif to_allotment_class == allotment_class:
            errors["to_allotment_class"] = ["a modification moves an amount between two different classes"]
        if to_program_budget_id is not None:
            errors["to_program_budget_id"] = ["a modification stays in one program budget; use a transfer"]
    elif kind == "transfer":
        if to_program_budget_id is None:
            errors["to_program_budget_id"] = ["a transfer names the program budget that receives the amount"]
        elif to_program_budget_id == program_budget_id:
            errors["to_program_budget_id"] = ["a transfer goes to another program budget; within one program "
                                              "budget use a modification"]
    elif kind == "augmentation":
        for field, value in (("to_program_budget_id", to_program_budget_id),
                             ("to_allotment_class", to_allotment_class)):
            if value is not None:
                errors[field] = ["an augmentation adds to one program budget and class; leave this out"]
    return errors


def list_appropriation_adjustments(user: User, program_budget_id: int) -> Select:
    """A visible program budget's appropriation adjustments, oldest first.

    Raises:
        NotFound: unknown or not visible.
    """
    get_or_raise(user, ProgramBudget, program_budget_id)
    return (select(AppropriationAdjustment).where(AppropriationAdjustment.program_budget_id == program_budget_id)
            .order_by(AppropriationAdjustment.id))


def realign_allotment(user: User, allotment_id: int, *, to_allotment_id: int, amount: Decimal,
                      adjustment_date: date, reason: str, legal_basis: str) -> list[AllotmentAdjustment]:
    """Realign an amount from one allotment to another of the same program
    budget and MOA (the class may differ): a pair of allotment adjustments
    of kind ``realignment`` sharing ``pair_key``, ``-amount`` on this
    allotment, ``+amount`` on the other (docs/design.md §12 "Adjustments
    and transfers"). Neither allotment changes.

    Args:
        amount: PHP, positive.
        adjustment_date: never before either allotment's release.

    Returns:
        The pair: the row taking the amount off, then the one adding it.

    Raises:
        NotFound, Forbidden (the MOA's ``budget_officer`` or ``budget_analyst``),
        ValidationFailed: a non-positive amount, the same allotment, another
            program budget or MOA, dated before a release,
        Conflict: ``cancelled`` (either allotment),
        PeriodClosed: dated in a closed quarter,
        OutsideValidity: after this allotment's obligation deadline (its
            balance has lapsed) or the other's release deadline
            (rules/default/validity.yaml, docs/design.md §12),
        BudgetLimitExceeded: level ``obligation``: this allotment would fall
            below what is obligated against it, with the amounts.
    """
    if amount <= 0:
        raise ValidationFailed({"amount": ["must be at least 0.01"]})
    if to_allotment_id == allotment_id:
        raise ValidationFailed({"to_allotment_id": ["a realignment moves an amount to another allotment"]})
    try:
        with transaction() as session:
            source = get_or_raise(user, Allotment, allotment_id)
            target = get_or_raise(user, Allotment, to_allotment_id)
            if (target.program_budget_id, target.organization_id) != (source.program_budget_id,
                                                                      source.organization_id):
                raise ValidationFailed({"to_allotment_id": [
                    f"allotment {target.saro_number} is not of the same program budget and MOA as "
                    f"{source.saro_number}; a realignment stays within one program budget (another MOA takes a "
                    "sub-allotment, another program budget an appropriation transfer)"]})
            _lock_program_budgets_of([source])
            locked = _lock_allotments(user, [allotment_id, to_allotment_id])
            source, target = locked[allotment_id], locked[to_allotment_id]
            require_role(user, CORRECT_ALLOTMENT, source.organization_id, "realign allotments")
            for allotment in (source, target):
                require_active(allotment, "allotment")
                require_on_or_after(adjustment_date, allotment.release_date, "adjustment_date",
                                    f"the release of allotment {allotment.saro_number}")
            require_open(source.organization_id, adjustment_date)
            # A lapsed balance is not moved into one still open: the source must still be obligable on the
            # day, and the target takes the amount as a release would (as sub_allot; rules/default/validity.yaml).
            check_validity(source, "obligation", adjustment_date)
            get_runtime().rules.validity.check(target.program_budget.ppa.fiscal_year, target.validity_category,
                                               "release", adjustment_date)
            pair = uuid.uuid4().hex
            rows = [AllotmentAdjustment(allotment_id=allotment.id, organization_id=allotment.organization_id,
                                        kind="realignment", amount=signed, pair_key=pair,
                                        adjustment_date=adjustment_date, reason=reason, legal_basis=legal_basis,
                                        created_by_id=user.id)
                    for allotment, signed in ((source, -amount), (target, amount))]
            for row in rows:  # the amount comes off first: the program budget's total never rises on the way
                session.add(row)
                session.flush()
            refresh_allotment_status(source)
            refresh_allotment_status(target)
    except BudgetLimitExceeded as refused:
        db.session.rollback()
        if refused.level != "obligation":
            raise
        raise below_what_is_used(db.session.get(Allotment, allotment_id), -amount,
                                 f"a realignment of PHP {amount:,.2f}", Obligation.allotment_id, "obligated",
                                 "obligation") from None
    return rows


def sub_allot(user: User, allotment_id: int, *, recipient: str, amount: Decimal, sub_allotment_date: date,
              saro_number: str, reason: str, legal_basis: str) -> SubAllotment:
    """Sub-allot part of an allotment to another MOA or operating unit
    (docs/design.md §12 "Adjustments and transfers"; FAR No. 1 columns 8–9,
    FAR No. 1-B). The giver's allotment takes an adjustment of kind
    ``sub_allotment`` (``-amount``: its *transfer to*); the receiver gets an
    allotment of its own (``saro_number``: the Sub-ARO number, unique within
    the receiver) against the same program budget, class and validity
    category, released on ``sub_allotment_date`` (its *transfer from*),
    which it obligates against. What the program budget has allotted does
    not change.

    Args:
        recipient: the receiving organization's code.
        amount: PHP, positive; never above the giver's unused allotment.
        sub_allotment_date: never before the giver's release; the receiver's
            allotment's quarter comes from it.

    Raises:
        NotFound, Forbidden (the giver's ``budget_officer`` or ``budget_analyst``),
        ValidationFailed: unknown recipient, the giver itself (``recipient``),
            a non-positive amount, dated before the release,
        Conflict: ``cancelled``,
        PeriodClosed: dated in a closed quarter of the giver or the receiver,
        OutsideValidity: after the release deadline of the allotment's rule,
        Duplicate: the Sub-ARO number is used by the receiver,
        BudgetLimitExceeded: level ``obligation``: above what is unused of
            the giver's allotment, with the amounts.
    """
    if amount <= 0:
        raise ValidationFailed({"amount": ["must be at least 0.01"]})
    receiver = get_organization_or_raise(recipient, field="recipient")
    try:
        with transaction() as session:
            seen = get_or_raise(user, Allotment, allotment_id)  # its program budget is fixed once posted
            budget = _lock_program_budgets_of([seen])[seen.program_budget_id]
            giver = _lock_allotments(user, [allotment_id])[allotment_id]
            require_role(user, CORRECT_ALLOTMENT, giver.organization_id, "sub-allot allotments")
            if receiver.id == giver.organization_id:
                raise ValidationFailed({"recipient": [
                    f"{receiver.code} holds allotment {giver.saro_number}; a sub-allotment goes to another MOA or "
                    "operating unit, never to itself (within the MOA use a realignment)"]})
            require_active(giver, "allotment")
            require_on_or_after(sub_allotment_date, giver.release_date, "sub_allotment_date",
                                f"the release of allotment {giver.saro_number}")
            require_open(giver.organization_id, sub_allotment_date)
            require_open(receiver.id, sub_allotment_date)
            get_runtime().rules.validity.check(budget.ppa.fiscal_year, giver.validity_category, "release",
                                               sub_allotment_date)
            given = AllotmentAdjustment(allotment_id=giver.id, organization_id=giver.organization_id,
                                        kind="sub_allotment", amount=-amount, adjustment_date=sub_allotment_date,
                                        reason=reason, legal_basis=legal_basis, created_by_id=user.id)
            session.add(given)
            session.flush()
            received = Allotment(program_budget_id=budget.id, organization_id=receiver.id,
                                 quarter=quarter_of(sub_allotment_date), release_date=sub_allotment_date,
                                 allotment_class=giver.allotment_class, validity_category=giver.validity_category,
                                 saro_number=saro_number, amount=amount, created_by_id=user.id)
            session.add(received)
            session.flush()
            row = SubAllotment(allotment_id=giver.id, adjustment_id=given.id, recipient_allotment_id=received.id,
                               organization_id=giver.organization_id, recipient_organization_id=receiver.id,
                               amount=amount, sub_allotment_date=sub_allotment_date, reason=reason,
                               legal_basis=legal_basis, created_by_id=user.id)
            session.add(row)
            session.flush()
            refresh_allotment_status(giver)
            sync_expenditure(session, budget.ppa_id)
    except BudgetLimitExceeded as refused:
        db.session.rollback()
        if refused.level != "obligation":
            raise
        raise below_what_is_used(db.session.get(Allotment, allotment_id), -amount,
                                 f"a sub-allotment of PHP {amount:,.2f}", Obligation.allotment_id, "obligated",
                                 "obligation") from None
    return row


def list_sub_allotments(user: User, allotment_id: int) -> Select:
    """The sub-allotments an allotment gave (its *transfers to*) or came
    from (an allotment received: its *transfer from*), oldest first; both
    sides see them.

    Raises:
        NotFound: the allotment is unknown or not visible.
    """
    get_or_raise(user, Allotment, allotment_id)
    return (select(SubAllotment).where(or_(SubAllotment.allotment_id == allotment_id,
                                           SubAllotment.recipient_allotment_id == allotment_id))
            .order_by(SubAllotment.id))
