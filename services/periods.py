"""Closing a period (issue 12 item 5; docs/design.md §12 "Closing a period").

A MOA's quarter is closed by two signatures: its budget officer's and its
chief accountant's (``budget_officer``, ``chief_accountant`` in
rules/default/roles.yaml, both organization-scoped), in either order, by
two different people. An administrator may sign in either role and is
bound like everyone: one person never signs twice. The first signature
opens a closure (``closing``); the second closes the period and stores the
quarter's figures as a snapshot (``PeriodSnapshotLine``, append-only), per
program budget (PAP) and allotment class: allotted, obligated and disbursed
by the postings dated in the quarter (``workflow.postings``: originals,
adjustments, NORSA, and cancellations' and voids' reversals, each in the
quarter of its own date), and cumulative to the quarter's last day.

While a quarter is closed, every posting dated inside it is refused
(``require_open``, called by each posting use case of ``services.budget``
in its own transaction; migration 0015's triggers refuse the same from raw
SQL): a correction goes into the open period as an adjustment. Reopening takes the same two signatures and a reason; the
closure's snapshot stays, and a later close is a new closure with a new
snapshot. Every closure, signature and status move is in the audit log.

Locking (PostgreSQL): ``require_open`` takes a share lock on the MOA's
``organizations`` row after the chain rows of ``LOCK_ORDER``; a signature
takes the same row ``FOR NO KEY UPDATE`` and locks nothing else. A posting
and a close of the same MOA therefore run one after the other: the close
sees every posting committed before it, and a posting that waited for it
sees the period closed. Inserts that merely reference the organization
(``FOR KEY SHARE``) are not blocked.

Year end (docs/design.md §12 "Year end"): the second signature closing Q4
of a year also carries that MOA's continuing appropriations and unpaid
obligations into the next year's opening balances (``carry_over``,
``OpeningBalance`` rows of that closure). So that what is carried is final,
Q4 closes only once Q1–Q3 of its year are closed (409
``earlier_quarter_open``), and Q1–Q3 are not reopened while Q4 is closed
(409 ``later_quarter_closed``): reopen Q4 first; likewise Q4 is not
reopened while Q4 of the next year is closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, select

from db import db
from db.models import (
    Allotment,
    AllotmentAdjustment,
    Disbursement,
    Obligation,
    ObligationAdjustment,
    OpeningBalance,
    Organization,
    PeriodClosure,
    PeriodClosureSignature,
    PeriodSnapshotLine,
    ProgramBudget,
    User,
)
from db.models.period import CLOSED_STATUSES, SIGNING_ROLES
from db.types import utcnow
from services.access import is_superuser, roles_in, visible_organization, visible_rows
from services.calendar import local_date, today
from services.runtime import get_runtime
from services.unit_of_work import transaction
from services.users import get_organization, get_organization_or_raise
from workflow.errors import Conflict, NotFound, PeriodClosed, RoleMissing, SeparationOfDuties, ValidationFailed
from workflow.money import ZERO
from workflow.postings import LEVELS, Posting, net_by_quarter
from workflow.validity import period_of

#: Role names in words, for messages.
ROLE_NAMES = {"budget_officer": "budget officer", "chief_accountant": "chief accountant"}


def quarter_end(fiscal_year: int, quarter: int) -> date:
    """The last day of ``quarter`` of ``fiscal_year`` (31 March for Q1)."""
    return {1: date(fiscal_year, 3, 31), 2: date(fiscal_year, 6, 30), 3: date(fiscal_year, 9, 30),
            4: date(fiscal_year, 12, 31)}[quarter]


def require_open(organization_id: int, day: date) -> None:
    """Refuse a posting of ``organization_id`` dated ``day`` when the
    period of that date (its quarter, year included) is closed. Called
    inside the posting's transaction, after its chain locks; takes a share
    lock on the organization row so that a close waits for it (module
    docstring).

    Raises:
        PeriodClosed (409 ``period_closed``): the sentence names the period,
            who closed it and when, and says the correction goes into the
            open period as an adjustment.
    """
    db.session.execute(select(Organization.id).where(Organization.id == organization_id)
                       .with_for_update(read=True))
    year, quarter = period_of(day)
    closure = db.session.scalar(select(PeriodClosure).where(
        PeriodClosure.organization_id == organization_id, PeriodClosure.fiscal_year == year,
        PeriodClosure.quarter == quarter, PeriodClosure.status.in_(CLOSED_STATUSES))
        .execution_options(populate_existing=True))
    if closure is None:
        return
    signers = [s for s in closure.signatures if s.action == "close"]
    names = " and ".join(f"{s.user.username} ({ROLE_NAMES[s.role]})" for s in signers)
    closed_on = local_date(closure.closed_at).isoformat() if closure.closed_at else "?"
    raise PeriodClosed(
        f"{closure.label} of {closure.organization.code} is closed: {names} closed it on {closed_on}. "
        f"Nothing dated {day.isoformat()} can be posted in it; post the correction in the open period, as an "
        "adjustment dated there (an allotment adjustment, a NORSA, or a cancellation dated today)",
        period=closure.label, closure_id=closure.id, closed_by=[s.user.username for s in signers])


def get_closure_or_raise(user: User, closure_id: int) -> PeriodClosure:
    """A closure of an organization ``user`` may see.

    Raises:
        NotFound: unknown, or another MOA's for a MOA user.
    """
    closure = db.session.get(PeriodClosure, closure_id)
    if closure is None or not visible_organization(user, closure.organization_id):
        raise NotFound(f"period closure {closure_id} not found")
    return closure


def list_closures(user: User, *, organization: str | None = None, fiscal_year: int | None = None) -> Select:
    """The closures ``user`` may see, newest first (filters: the
    organization's code, the year)."""
    query = select(PeriodClosure).where(visible_rows(user, PeriodClosure.organization_id))
    if organization:
        query = query.where(PeriodClosure.organization_id.in_(
            select(Organization.id).where(Organization.code == organization)))
    if fiscal_year is not None:
        query = query.where(PeriodClosure.fiscal_year == fiscal_year)
    return query.order_by(PeriodClosure.id.desc())


def sign_close(user: User, *, organization: str, fiscal_year: int, quarter: int) -> PeriodClosure:
    """Sign the closing of ``quarter`` of ``fiscal_year`` for an
    organization: the first signature opens a closure (``closing``), the
    second, by the other role and another person, closes the period and
    stores its snapshot (``snapshot_lines``).

    Args:
        organization: the MOA's code; fiscal_year, quarter: the period
            (its dates, year included; 1–4).

    Raises:
        ValidationFailed: unknown organization, quarter not 1–4.
        RoleMissing (403): neither the MOA's budget officer nor its chief
            accountant (nor an administrator).
        SeparationOfDuties (403): the same person signing twice, or the
            role already signed (the other role must sign).
        Conflict: ``period_already_closed``, ``period_not_ended`` (the
            quarter has not ended yet in Asia/Manila),
            ``earlier_quarter_open`` (the signature that would close Q4
            while Q1–Q3 of its year are not all closed).

    Closing Q4 carries the year's continuing appropriations and unpaid
    obligations into the next year's opening balances (``carry_over``).
    """
    if quarter not in (1, 2, 3, 4):
        raise ValidationFailed({"quarter": ["must be 1, 2, 3 or 4"]})
    with transaction() as session:
        org = get_organization_or_raise(organization, field="organization")
        _lock_organization(org.id)
        closure = session.scalar(select(PeriodClosure).where(
            PeriodClosure.organization_id == org.id, PeriodClosure.fiscal_year == fiscal_year,
            PeriodClosure.quarter == quarter, PeriodClosure.status != "reopened")
            .execution_options(populate_existing=True))
        label = f"Q{quarter} {fiscal_year}"
        _require_signer(user, org.id, f"close {label} of {org.code}")
        if closure is not None and closure.status in CLOSED_STATUSES:
            raise Conflict(f"{label} of {org.code} is already closed (closure {closure.id})",
                           code="period_already_closed", closure_id=closure.id)
        signed = list(closure.signatures) if closure is not None else []
        role, superuser = _signing_role(user, org.id, signed, f"close {label} of {org.code}")
        if quarter_end(fiscal_year, quarter) >= today():
            raise Conflict(f"{label} has not ended yet (it ends on {quarter_end(fiscal_year, quarter).isoformat()}); "
                           "a quarter is closed after its last day", code="period_not_ended")
        if closure is None:
            closure = PeriodClosure(organization_id=org.id, fiscal_year=fiscal_year, quarter=quarter,
                                    status="closing", created_by_id=user.id)
            session.add(closure)
            session.flush()
        session.add(PeriodClosureSignature(closure_id=closure.id, action="close", user_id=user.id, role=role,
                                           superuser=superuser))
        if signed:  # this is the second signature
            if quarter == 4:
                _require_earlier_quarters_closed(org, fiscal_year)
            closure.status, closure.closed_at = "closed", utcnow()
            for line in snapshot_lines(org.id, fiscal_year, quarter):
                session.add(PeriodSnapshotLine(closure_id=closure.id, **line))
            if quarter == 4:
                for row in carry_over(org.id, fiscal_year):
                    session.add(OpeningBalance(closure_id=closure.id, organization_id=org.id, **row))
    return closure


def sign_reopen(user: User, closure_id: int, *, reason: str) -> PeriodClosure:
    """Sign the reopening of a closed period, with a reason: the first
    signature makes the closure ``reopening`` (the period stays closed), the
    second, by the other role and another person, ``reopened``: postings
    dated in it are accepted again. The snapshot stays as it was.

    Raises:
        NotFound, ValidationFailed (an empty reason),
        RoleMissing, SeparationOfDuties (403): as ``sign_close``,
        Conflict: ``period_not_closed`` (still closing, or already reopened),
            ``later_quarter_closed`` (Q1–Q3 while Q4 of the year is closed:
            its year end carried what they hold; reopen Q4 first; Q4 while
            Q4 of the next year is closed: that year end carried from this
            year's figures, docs/design.md §12 "Year end").
    """
    if not reason.strip():
        raise ValidationFailed({"reason": ["say why the period is reopened"]})
    with transaction():
        closure = get_closure_or_raise(user, closure_id)
        _require_signer(user, closure.organization_id, f"reopen {closure.label} of {closure.organization.code}")
        _lock_organization(closure.organization_id)
        db.session.refresh(closure)
        if closure.status not in CLOSED_STATUSES:
            raise Conflict(f"{closure.label} of {closure.organization.code} is not closed (closure {closure.id} is "
                           f"{closure.status})", code="period_not_closed", closure_status=closure.status)
        if closure.quarter < 4:
            year_end = _current_closure(closure.organization_id, closure.fiscal_year, 4)
            if year_end is not None and year_end.status in CLOSED_STATUSES:
                raise Conflict(
                    f"Q4 {closure.fiscal_year} of {closure.organization.code} is closed and carried the year's "
                    f"balances into {closure.fiscal_year + 1}; reopen Q4 {closure.fiscal_year} first, then "
                    f"{closure.label}", code="later_quarter_closed", closure_id=year_end.id)
        else:  # Q4: the next year's year end was carried from this year's figures
            next_end = _current_closure(closure.organization_id, closure.fiscal_year + 1, 4)
            if next_end is not None and next_end.status in CLOSED_STATUSES:
                raise Conflict(
                    f"Q4 {closure.fiscal_year + 1} of {closure.organization.code} is closed and its year end "
                    f"carried from {closure.fiscal_year}'s figures; reopen Q4 {closure.fiscal_year + 1} first, "
                    f"then {closure.label}", code="later_quarter_closed", closure_id=next_end.id)
        signed = [s for s in closure.signatures if s.action == "reopen"]
        role, superuser = _signing_role(user, closure.organization_id, signed,
                                        f"reopen {closure.label} of {closure.organization.code}")
        db.session.add(PeriodClosureSignature(closure_id=closure.id, action="reopen", user_id=user.id, role=role,
                                              superuser=superuser, reason=reason))
        if signed:
            closure.status, closure.reopened_at = "reopened", utcnow()
            closure.reopen_reason = "; ".join([*(s.reason for s in signed), reason])
        else:
            closure.status = "reopening"
    return closure


def _lock_organization(organization_id: int) -> None:
    """Lock the organization row against postings (``FOR NO KEY UPDATE``; module docstring)."""
    db.session.execute(select(Organization.id).where(Organization.id == organization_id)
                       .with_for_update(key_share=True))


def _signing_role(user: User, organization_id: int, signed: list[PeriodClosureSignature],
                  action: str) -> tuple[str, bool]:
    """The role ``user`` signs in: the first of ``SIGNING_ROLES`` not yet
    signed that they hold in the organization (an administrator: any).

    Returns:
        ``(role, superuser)``: superuser when an administrator signs a role
        they do not hold.

    Raises:
        RoleMissing, SeparationOfDuties.
    """
    held = set(SIGNING_ROLES) & roles_in(user, organization_id)
    superuser = is_superuser(user)
    _require_signer(user, organization_id, action)
    for signature in signed:
        if signature.user_id == user.id:
            raise SeparationOfDuties(
                f"you already signed as {ROLE_NAMES[signature.role]}; to {action} another person, the "
                f"{ROLE_NAMES[_other(signature.role)]}, must sign (administrators too)")
    taken = {s.role for s in signed}
    for role in SIGNING_ROLES:
        if role not in taken and (role in held or superuser):
            return role, role not in held
    missing = [ROLE_NAMES[r] for r in SIGNING_ROLES if r not in taken]
    raise SeparationOfDuties(f"the {ROLE_NAMES[next(iter(taken))]} has signed; to {action} the "
                             f"{' or '.join(missing)} must sign")


def _require_signer(user: User, organization_id: int, action: str) -> None:
    """Raise ``RoleMissing`` unless ``user`` is the organization's budget
    officer or chief accountant, or an administrator."""
    if not (set(SIGNING_ROLES) & roles_in(user, organization_id)) and not is_superuser(user):
        raise RoleMissing(f"to {action} you need the role budget_officer or chief_accountant in that organization")


def _other(role: str) -> str:
    return SIGNING_ROLES[1 - SIGNING_ROLES.index(role)]


def snapshot_lines(organization_id: int, fiscal_year: int, quarter: int) -> list[dict]:
    """The figures of a MOA's quarter per program budget (PAP) and
    allotment class, as the snapshot stores them (PHP ``Decimal``):
    ``allotted``, ``obligated``, ``disbursed`` net of everything dated in
    the quarter (``workflow.postings.net_by_quarter``) and the
    ``cumulative_`` figures of everything dated on or before its last day.
    A key with no posting up to then has no line.

    Returns:
        Dicts of ``PeriodSnapshotLine`` columns, by program budget and class.
    """
    keyed = list(_postings(organization_id))
    end = quarter_end(fiscal_year, quarter)
    budgets = {b.id: b for b in db.session.scalars(select(ProgramBudget).where(
        ProgramBudget.id.in_({key[0] for key, _ in keyed})))} if keyed else {}
    out = []
    for key in sorted({key for key, posting in keyed if posting.day <= end}):
        postings = [p for k, p in keyed if k == key and p.day <= end]
        quarter_sums = net_by_quarter(postings).get((fiscal_year, quarter), dict.fromkeys(LEVELS, ZERO))
        cumulative = {level: sum((p.amount for p in postings if p.level == level), ZERO) for level in LEVELS}
        budget = budgets[key[0]]
        out.append({"ppa_id": budget.ppa_id, "program_budget_id": budget.id, "pap_code": budget.pap_code,
                    "allotment_class": key[1], **quarter_sums,
                    **{f"cumulative_{level}": amount for level, amount in cumulative.items()}})
    return out


def _postings(organization_id: int) -> Iterable[tuple[tuple[int, str], Posting]]:
    """Every posting of a MOA's money chain, keyed by (program budget,
    allotment class): as ``services.money_chain.MoneyChain.postings`` gives
    them for one PPA, for all the MOA's allotments, ORS and DV in five
    statements. A cancellation's or void's reversal is of the active amount
    (its adjustments included)."""
    allotments = list(db.session.scalars(select(Allotment).where(Allotment.organization_id == organization_id)))
    key_of = {a.id: (a.program_budget_id, a.allotment_class) for a in allotments}
    allotment_adjustments = _by(db.session.scalars(select(AllotmentAdjustment).where(
        AllotmentAdjustment.organization_id == organization_id)), lambda j: j.allotment_id)
    obligations = list(db.session.scalars(select(Obligation).where(Obligation.organization_id == organization_id)))
    obligation_adjustments = _by(db.session.scalars(select(ObligationAdjustment).where(
        ObligationAdjustment.organization_id == organization_id)), lambda j: j.obligation_id)
    allotment_of = {o.id: o.allotment_id for o in obligations}
    disbursements = db.session.scalars(select(Disbursement).where(Disbursement.organization_id == organization_id))

    def post(key, level, noun, row, day, adjustments, reversed_on):
        source = f"{noun} {row.id}"
        yield key, Posting(level, "original", day, row.amount, source)
        for adjustment in adjustments:
            yield key, Posting(level, "adjustment", adjustment.adjustment_date, adjustment.amount, source)
        if reversed_on is not None:
            active = row.amount + sum((a.amount for a in adjustments), ZERO)
            yield key, Posting(level, "reversal", reversed_on, -active, source)

    for a in allotments:
        yield from post(key_of[a.id], "allotted", "allotment", a, a.release_date,
                        allotment_adjustments.get(a.id, ()), a.cancelled_on)
    for o in (o for o in obligations if o.posted):  # a draft ORS or DV posts nothing (docs/design.md §12)
        yield from post(key_of[o.allotment_id], "obligated", "obligation", o, o.obligation_date,
                        obligation_adjustments.get(o.id, ()), o.cancelled_on)
    for d in (d for d in disbursements if d.posted):
        yield from post(key_of[allotment_of[d.obligation_id]], "disbursed", "disbursement", d, d.disbursement_date,
                        (), d.voided_on)


def chain_postings(organization_id: int) -> Iterable[tuple[tuple[int, str], Posting]]:
    """Every posting of a MOA's money chain keyed by ``(program budget id,
    allotment class)``, each dated on its business date (PHP, signed; see
    ``_postings``): what the MFBM Budget Execution Report sums up to its
    as-of date (``services.reports.mfbm_report``)."""
    return _postings(organization_id)


def _by(rows: Iterable, parent_of) -> dict[int, list]:
    out: dict[int, list] = {}
    for row in rows:
        out.setdefault(parent_of(row), []).append(row)
    return out


def totals(closure: PeriodClosure) -> dict[str, Decimal]:
    """The snapshot's lines summed (PHP), for the API and the page."""
    names = [*LEVELS, *(f"cumulative_{level}" for level in LEVELS)]
    return {name: sum((getattr(line, name) for line in closure.snapshot), ZERO) for name in names}


# -- year end -------------------------------------------------------------------------------------------------------

def _current_closure(organization_id: int, fiscal_year: int, quarter: int) -> PeriodClosure | None:
    """The closure of a MOA's quarter that is not reopened, if any."""
    return db.session.scalar(select(PeriodClosure).where(
        PeriodClosure.organization_id == organization_id, PeriodClosure.fiscal_year == fiscal_year,
        PeriodClosure.quarter == quarter, PeriodClosure.status != "reopened"))


def _require_earlier_quarters_closed(org: Organization, fiscal_year: int) -> None:
    """Raise ``Conflict`` (``earlier_quarter_open``) unless Q1–Q3 of
    ``fiscal_year`` are closed for ``org``: a year end carries balances
    that later postings in those quarters could no longer change."""
    still_open = [q for q in (1, 2, 3) if (c := _current_closure(org.id, fiscal_year, q)) is None
                  or c.status not in CLOSED_STATUSES]
    if still_open:
        names = ", ".join(f"Q{q}" for q in still_open)
        raise Conflict(f"Q4 {fiscal_year} of {org.code} closes the year and carries its balances into "
                       f"{fiscal_year + 1}; close {names} {fiscal_year} first", code="earlier_quarter_open",
                       open_quarters=still_open)


def carry_over(organization_id: int, fiscal_year: int) -> list[dict]:
    """What the close of Q4 ``fiscal_year`` carries into the opening
    balances of ``fiscal_year + 1`` for a MOA (docs/design.md §12 "Year
    end"), from everything dated on or before 31 December (a cancellation
    or void dated later does not count yet; it posts in the new year):

    - a *continuing appropriation* per allotment: its active amount
      (adjustments included; nothing if cancelled) less the active amounts of
      its obligations, when positive and its validity rule in force on
      1 January of the new year (rules/default/validity.yaml: the PPA's
      fiscal year and the allotment's validity category) still lets it be
      obligated after 31 December;
    - an *unpaid obligation* per ORS: its active amount (NORSA included;
      nothing if cancelled) less its disbursements not voided, when positive
      and the rule still lets it be paid after 31 December (or until fully
      expended).

    What lapses (PS, MOOE under general administration, a year with no
    rule) is not carried.

    Returns:
        Dicts of ``OpeningBalance`` columns (``amount`` PHP ``Decimal``),
        without ``closure_id`` and ``organization_id``, allotments first.
    """
    end, start = date(fiscal_year, 12, 31), date(fiscal_year + 1, 1, 1)
    validity = get_runtime().rules.validity

    def live(cancelled_on, day):
        return day <= end and (cancelled_on is None or cancelled_on > end)

    allotments = [a for a in db.session.scalars(select(Allotment).where(
        Allotment.organization_id == organization_id).order_by(Allotment.id))
        if live(a.cancelled_on, a.release_date)]
    allotment_adjustments = _by(db.session.scalars(select(AllotmentAdjustment).where(
        AllotmentAdjustment.organization_id == organization_id, AllotmentAdjustment.adjustment_date <= end)),
        lambda j: j.allotment_id)
    obligations = [o for o in db.session.scalars(select(Obligation).where(
        Obligation.organization_id == organization_id).order_by(Obligation.id))
        if o.posted and live(o.cancelled_on, o.obligation_date)]  # a draft ORS carries nothing
    obligation_adjustments = _by(db.session.scalars(select(ObligationAdjustment).where(
        ObligationAdjustment.organization_id == organization_id, ObligationAdjustment.adjustment_date <= end)),
        lambda j: j.obligation_id)
    paid = _by((d for d in db.session.scalars(select(Disbursement).where(
        Disbursement.organization_id == organization_id)) if d.posted and live(d.voided_on, d.disbursement_date)),
        lambda d: d.obligation_id)

    def active(row, adjustments):
        return row.amount + sum((j.amount for j in adjustments.get(row.id, ())), ZERO)

    obligated: dict[int, Decimal] = {}
    for o in obligations:
        obligated[o.allotment_id] = obligated.get(o.allotment_id, ZERO) + active(o, obligation_adjustments)

    def row(kind, allotment, amount, step, obligation=None):
        budget = allotment.program_budget
        rule = validity.rule_for(budget.ppa.fiscal_year, allotment.validity_category, start)
        if rule is None or amount <= ZERO:
            return None
        deadline = rule.deadlines.of(step)
        if deadline is not None and deadline <= end:
            return None
        return {"fiscal_year": fiscal_year + 1, "appropriation_year": budget.ppa.fiscal_year, "kind": kind,
                "allotment_id": allotment.id, "obligation_id": obligation.id if obligation else None,
                "ppa_id": budget.ppa_id, "program_budget_id": budget.id, "pap_code": budget.pap_code,
                "allotment_class": allotment.allotment_class, "validity_category": allotment.validity_category,
                "amount": amount, "valid_until": deadline, "legal_basis": rule.legal_basis}

    out = [row("continuing_appropriation", a, active(a, allotment_adjustments) - obligated.get(a.id, ZERO),
               "obligation") for a in allotments]
    out += [row("unpaid_obligation", o.allotment, active(o, obligation_adjustments)
                - sum((d.amount for d in paid.get(o.id, ())), ZERO), "disbursement", o) for o in obligations]
    return [r for r in out if r is not None]


def opening_balances(user: User, *, organization: str, fiscal_year: int) -> tuple[PeriodClosure, list[OpeningBalance]]:
    """The opening balances of a MOA's ``fiscal_year``: those carried by
    the closure that keeps Q4 of the year before closed.

    Returns:
        ``(closure, rows)``: the Q4 closure and its ``OpeningBalance`` rows
        (continuing appropriations, then unpaid obligations).

    Raises:
        NotFound: unknown organization, or another MOA's for a MOA user;
        Conflict ``year_not_closed``: Q4 of ``fiscal_year - 1`` is not
            closed, so nothing has been carried yet.
    """
    org = get_organization(organization)
    if org is None or not visible_organization(user, org.id):
        raise NotFound(f"organization {organization} not found")
    closure = _current_closure(org.id, fiscal_year - 1, 4)
    if closure is None or closure.status not in CLOSED_STATUSES:
        raise Conflict(f"Q4 {fiscal_year - 1} of {org.code} is not closed, so nothing has been carried into "
                       f"{fiscal_year} yet: its budget officer and chief accountant close it (after Q1–Q3) and "
                       "that carries the continuing appropriations and unpaid obligations",
                       code="year_not_closed", fiscal_year=fiscal_year)
    rows = list(db.session.scalars(select(OpeningBalance).where(OpeningBalance.closure_id == closure.id)
                                   .order_by(OpeningBalance.kind, OpeningBalance.id)))
    return closure, rows


def opening_totals(rows: Iterable[OpeningBalance]) -> dict[str, Decimal]:
    """The opening balances summed by kind (PHP): ``continuing_appropriations``
    and ``unpaid_obligations``."""
    rows = list(rows)
    return {"continuing_appropriations": sum((r.amount for r in rows if r.kind == "continuing_appropriation"), ZERO),
            "unpaid_obligations": sum((r.amount for r in rows if r.kind == "unpaid_obligation"), ZERO)}


# -- the period-close page ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuarterState:
    """One quarter of a MOA's year as the period-close page shows it.

    Attributes:
        quarter: 1–4; ends: its last day; ended: it has ended in Asia/Manila.
        closure: the closure that is not reopened (``closing``, ``closed``,
            ``reopening``), or ``None`` while the quarter is open.
        reopened: how many earlier closures of it were reopened.
        totals: the snapshot's totals (PHP) when closed, else ``None``.
    """

    quarter: int
    ends: date
    ended: bool
    closure: PeriodClosure | None
    reopened: int
    totals: dict[str, Decimal] | None

    @property
    def closed(self) -> bool:
        """Postings dated in it are refused."""
        return self.closure is not None and self.closure.status in CLOSED_STATUSES

    def signatures(self, action: str) -> list[PeriodClosureSignature]:
        """The current closure's signatures to ``close`` or ``reopen``."""
        return [s for s in self.closure.signatures if s.action == action] if self.closure else []


def year_of(user: User, organization: str, fiscal_year: int) -> tuple[Organization, list[QuarterState]]:
    """The four quarters of a MOA's ``fiscal_year`` with their closures,
    for the period-close page.

    Raises:
        ValidationFailed: unknown organization; NotFound: another MOA's,
            for a MOA user.
    """
    org = get_organization_or_raise(organization, field="organization")
    if not visible_organization(user, org.id):
        raise NotFound(f"organization {organization} not found")
    closures = list(db.session.scalars(select(PeriodClosure).where(
        PeriodClosure.organization_id == org.id, PeriodClosure.fiscal_year == fiscal_year)))
    out = []
    for quarter in (1, 2, 3, 4):
        current = next((c for c in closures if c.quarter == quarter and c.status != "reopened"), None)
        out.append(QuarterState(
            quarter=quarter, ends=quarter_end(fiscal_year, quarter), ended=quarter_end(fiscal_year, quarter) < today(),
            closure=current, reopened=sum(1 for c in closures if c.quarter == quarter and c.status == "reopened"),
            totals=totals(current) if current is not None and current.status in CLOSED_STATUSES else None))
    return org, out


def may_sign(user: User, organization_id: int) -> bool:
    """True when ``user`` may sign closings of the organization: its budget
    officer or chief accountant, or an administrator."""
    return bool(set(SIGNING_ROLES) & roles_in(user, organization_id)) or is_superuser(user)


def organization_codes(user: User) -> list[str]:
    """The codes of the organizations whose periods ``user`` may see."""
    return list(db.session.scalars(select(Organization.code).where(visible_rows(user, Organization.id))
                                   .order_by(Organization.code)))
