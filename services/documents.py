"""ORS and DV as documents moving through COA's boxes (issue 12 item 3,
docs/design.md §12 "ORS and DV as documents").

An ORS (GAM Appendix 11) and a DV (GAM Appendix 32) are created as drafts
(``services.budget.record_obligation`` / ``record_disbursement``) and move
through the workflows of the rules, ``rules/default/workflows/ors.yaml`` and
``dv.yaml``, run by the one engine (``services.workflows``): who may sign
each box, separation of duties (the preparer certifies nothing; one person
signs one box of a document; admins bound too), delegation to an
officer-in-charge (recorded as ``delegated_by`` on the step), the rule-set
hash on every step.

Two steps *post* the document, and only they: Box B of the ORS
(``certify_obligation``: the obligation counts against its allotment from
now on, in the quarter of its date) and Box E of the DV (``pay``: the check
or ADA number and issue date and the JEV number; the DV's date becomes the
check/ADA issue date and it counts as a disbursement from now on). At those
steps every check of the creation is made again, authoritatively, with the
rows locked in ``services.budget.LOCK_ORDER``: the period is open, the
parent is posted and not cancelled, the dates and the validity of the
appropriation, and the limit (the database triggers of migration 0016 count
posted rows only). From then on the row never changes (migration 0011's
triggers, as 0016 remade them).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from db.models import Allotment, Disbursement, Obligation, User
from db.types import utcnow
from services import workflows
from services.budget import (
    check_disbursement_posting,
    check_obligation_posting,
    get_or_raise,
    limit_problem,
    lock_in_order,
    refresh_allotment_status,
    refresh_obligation_status,
)
from services.concurrency import check_if_match
from services.expenditure import sync_expenditure
from services.unit_of_work import transaction
from services.workflows import RecordKind
from workflow.engine import Action
from workflow.errors import BudgetLimitExceeded, PreconditionFailed, ValidationFailed

#: ORS as the workflow service sees them: workflow ``ors``, the stage in
#: ``status``, prepared by ``created_by_id``, steps in ``workflow_transitions``.
ORS = workflows.register(RecordKind("ors", workflow="ors"))
#: DV likewise: workflow ``dv``.
DV = workflows.register(RecordKind("dv", workflow="dv"))

#: The triggers that post the document.
POSTS = {"ors": "certify_obligation", "dv": "pay"}
#: The draft cancellation trigger (its comment is recorded as the reason).
CANCEL = "cancel"


def _withdrawn(row: Obligation | Disbursement, outcome) -> None:
    """A draft cancelled before posting: when and why (the comment)."""
    if isinstance(row, Obligation):
        row.cancelled_at, row.cancel_reason = utcnow(), outcome.comment
    else:
        row.voided_at, row.void_reason = utcnow(), outcome.comment


# -- ORS ----------------------------------------------------------------------------------------------------


def fire_obligation_transition(user: User, obligation_id: int, trigger: str, *, comment: str | None = None,
                               if_match: str | None = None) -> Obligation:
    """Sign a box of an ORS (``certify_charges``: Box A; ``certify_obligation``:
    Box B, which obligates it) or ``cancel`` a draft, through the one
    workflow engine (rules/default/workflows/ors.yaml).

    Box B locks the allotment, then the ORS (``LOCK_ORDER``) and checks
    again: the allotment is not cancelled, the ORS's quarter is open, its
    date is not before the allotment's release and within the validity of
    the appropriation, and (the database) the posted ORS under the
    allotment stay within it.

    Returns:
        The ORS in its new stage (committed).

    Raises:
        NotFound, PreconditionFailed (stale ``if_match``),
        ValidationFailed: unknown trigger, missing comment,
        InvalidTransition (409), RoleMissing / SeparationOfDuties (403),
        Conflict: the allotment is cancelled; PeriodClosed; OutsideValidity,
        BudgetLimitExceeded (409): the allotment has not enough left.
    """
    try:
        with transaction() as session:
            allotment_id = get_or_raise(user, Obligation, obligation_id).allotment_id
            allotment, obligation = lock_in_order(user, (Allotment, allotment_id), (Obligation, obligation_id))
            check_if_match(if_match, obligation.etag)
            amount = obligation.amount
            with session.no_autoflush:  # the checks below read before the posting is written
                outcome = workflows.fire(user, ORS, obligation, trigger, comment=comment)
                if trigger == CANCEL:
                    _withdrawn(obligation, outcome)
                elif trigger == POSTS["ors"]:
                    check_obligation_posting(allotment, obligation.obligation_date)
            session.flush()
            if trigger == POSTS["ors"]:
                refresh_allotment_status(allotment)
                sync_expenditure(session, allotment.program_budget.ppa_id)
    except BudgetLimitExceeded:
        raise limit_problem("obligation", allotment_id, amount) from None
    return obligation


def obligation_actions(user: User, obligation_id: int, *,
                       if_match: str | None = None) -> tuple[Obligation, list[Action]]:
    """Every trigger of the ORS workflow, whether ``user`` may fire it now,
    and why not, in words (e.g. "you prepared this ORS; another person must
    certify it"). Raises ``NotFound`` when the ORS is not visible."""
    obligation = get_or_raise(user, Obligation, obligation_id)
    return obligation, workflows.actions(user, ORS, obligation, stale=_stale(if_match, obligation))


def obligation_history(user: User, obligation_id: int) -> list:
    """The ORS's signed boxes, oldest first (``workflow_transitions``, with
    the signer, role, delegator and rule-set hash). Raises ``NotFound``."""
    obligation = get_or_raise(user, Obligation, obligation_id)
    return workflows.history(ORS, obligation.id)


# -- DV -----------------------------------------------------------------------------------------------------


def fire_disbursement_transition(user: User, disbursement_id: int, trigger: str, *, comment: str | None = None,
                                 if_match: str | None = None, check_ada_number: str | None = None,
                                 check_ada_date: date | None = None, jev_number: str | None = None
                                 ) -> Disbursement:
    """Sign a box of a DV (``certify_necessary`` A, ``record_entry`` B,
    ``certify_cash`` C, ``approve_payment`` D, ``pay`` E) or ``cancel`` one
    not yet paid, through the one workflow engine (rules/default/workflows/dv.yaml).

    Box E (``pay``) needs ``check_ada_number``, ``check_ada_date`` and
    ``jev_number`` (422 naming each one missing); the DV's
    ``disbursement_date`` becomes ``check_ada_date`` (its quarter comes from
    it). It locks the ORS, then the DV (``LOCK_ORDER``) and checks again: the
    ORS is obligated and not cancelled, the quarter of the check/ADA date is
    open, the date is not before the ORS's and within the validity of the
    appropriation, and (the database) the paid DV stay within the ORS: of
    DVs raced against one ORS, exactly those that fit are paid.

    Returns:
        The DV in its new stage (committed).

    Raises:
        NotFound, PreconditionFailed, ValidationFailed, InvalidTransition,
        RoleMissing, SeparationOfDuties, Conflict (ORS not obligated or
        cancelled), PeriodClosed, OutsideValidity, BudgetLimitExceeded.
    """
    if trigger == POSTS["dv"]:
        missing = {name: ["is required to pay a DV (Box E)"] for name, value in (
            ("check_ada_number", check_ada_number), ("check_ada_date", check_ada_date), ("jev_number", jev_number))
            if value in (None, "")}
        if missing:
            raise ValidationFailed(missing)
    try:
        with transaction() as session:
            obligation_id = get_or_raise(user, Disbursement, disbursement_id).obligation_id
            obligation, disbursement = lock_in_order(user, (Obligation, obligation_id),
                                                     (Disbursement, disbursement_id))
            check_if_match(if_match, disbursement.etag)
            amount = disbursement.amount
            # one UPDATE moves the DV out of its last box and sets Box E (no autoflush between them)
            with session.no_autoflush:
                outcome = workflows.fire(user, DV, disbursement, trigger, comment=comment)
                if trigger == CANCEL:
                    _withdrawn(disbursement, outcome)
                elif trigger == POSTS["dv"]:
                    check_disbursement_posting(obligation, check_ada_date, field="check_ada_date",
                                               date_is="the check/ADA date")
                    disbursement.disbursement_date = check_ada_date
                    disbursement.check_ada_number, disbursement.jev_number = check_ada_number, jev_number
            session.flush()
            if trigger == POSTS["dv"]:
                refresh_obligation_status(obligation)
                sync_expenditure(session, obligation.allotment.program_budget.ppa_id)
    except BudgetLimitExceeded:
        raise limit_problem("disbursement", obligation_id, amount) from None
    return disbursement


def disbursement_actions(user: User, disbursement_id: int, *,
                         if_match: str | None = None) -> tuple[Disbursement, list[Action]]:
    """Every trigger of the DV workflow, whether ``user`` may fire it now,
    and why not, in words. Raises ``NotFound``."""
    disbursement = get_or_raise(user, Disbursement, disbursement_id)
    return disbursement, workflows.actions(user, DV, disbursement, stale=_stale(if_match, disbursement))


def disbursement_history(user: User, disbursement_id: int) -> list:
    """The DV's signed boxes, oldest first. Raises ``NotFound``."""
    disbursement = get_or_raise(user, Disbursement, disbursement_id)
    return workflows.history(DV, disbursement.id)


def _stale(if_match: str | None, row: Any) -> bool:
    try:
        check_if_match(if_match, row.etag)
    except PreconditionFailed:
        return True
    return False
