"""The budget execution documents of a PPA (DBM; issue 13 item 3;
docs/design.md §12 "Financial plan (BED No. 1 and No. 3)"): its plan per
month of the fiscal year and allotment class, the obligations planned (BED
No. 1, the financial plan's obligation program) and the disbursements
planned (BED No. 3, the monthly disbursement program), and the plan set
against what was actually obligated (ORS, Box B) and paid (DV, Box E).

Who may do what (admins may do all):

| action | roles |
|---|---|
| read the plan and plan vs actual | whoever sees the PPA |
| enter (replace) the plan | ``moa_focal``, ``budget_officer`` (the PPA's MOA) |

A plan is entered only for an appropriated PPA (a program budget of it
counts as an appropriation: ``services.budget.appropriation_problem``), and
a class's planned obligations, and its planned disbursements, never total
above the PPA's appropriation for that class: its program budgets' class
amounts plus their appropriation adjustments. Amounts are PHP ``Decimal``
(centavos in the database); rates are ``Decimal`` fractions (``0.8500``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from db import db
from db.models import ExecutionPlanLine, Ppa, ProgramBudget, User
from db.models.budget import PLAN_MONTHS
from services.access import has_role, require_role
from services.budget import (
    CLASS_NAMES,
    appropriation_adjustments_by_class,
    appropriation_problem,
)
from services.calendar import today
from services.money_chain import MoneyChain, read_money_chain
from services.ppas import get_ppa_or_raise
from services.unit_of_work import transaction
from workflow.errors import Conflict, ValidationFailed
from workflow.money import ZERO, AmountError, parse_amount
from workflow.validity import ALLOTMENT_CLASSES

#: Who enters a PPA's plan: its MOA's focal person or budget officer (both organization-scoped).
PLAN = ("moa_focal", "budget_officer")

#: The months as the BED names them, January first.
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")

#: The places of a rate (a fraction: ``0.8500`` is 85 %).
RATE = Decimal("0.0001")


def _by_class(values: Mapping[str, Decimal] | None = None) -> dict[str, Decimal]:
    """Every allotment class (GAA order) mapped to its amount in ``values``, zero when absent."""
    return {klass: (values or {}).get(klass, ZERO) for klass in ALLOTMENT_CLASSES}


@dataclass(frozen=True)
class PlanMonth:
    """One month of the plan (PHP): per class, the obligations planned (BED
    No. 1) and the disbursements planned (BED No. 3), their totals and the
    totals from January through this month."""

    month: int
    obligations: dict[str, Decimal]
    disbursements: dict[str, Decimal]
    cumulative_obligations: Decimal
    cumulative_disbursements: Decimal

    @property
    def name(self) -> str:
        """The month's name (``January``)."""
        return MONTH_NAMES[self.month - 1]

    @property
    def obligations_total(self) -> Decimal:
        return sum(self.obligations.values(), ZERO)

    @property
    def disbursements_total(self) -> Decimal:
        return sum(self.disbursements.values(), ZERO)


@dataclass(frozen=True)
class ExecutionPlan:
    """A PPA's BED No. 1 and No. 3 for its fiscal year: twelve months,
    January first, each with every class; the PPA's appropriation per class
    (what a class's plan may not go above; zero when not appropriated); the
    stored lines (those with an amount), by month then class.

    Attributes:
        may_edit: ``user`` may replace the plan (``PLAN`` roles in the PPA's MOA).
        appropriated: the PPA has an appropriation (a plan may be entered).
    """

    ppa: Ppa
    appropriation: dict[str, Decimal]
    months: list[PlanMonth]
    lines: list[ExecutionPlanLine]
    may_edit: bool
    appropriated: bool

    @property
    def fiscal_year(self) -> int:
        return self.ppa.fiscal_year

    @property
    def obligations_by_class(self) -> dict[str, Decimal]:
        """The year's planned obligations per class (PHP)."""
        return {k: sum((m.obligations[k] for m in self.months), ZERO) for k in ALLOTMENT_CLASSES}

    @property
    def disbursements_by_class(self) -> dict[str, Decimal]:
        """The year's planned disbursements per class (PHP)."""
        return {k: sum((m.disbursements[k] for m in self.months), ZERO) for k in ALLOTMENT_CLASSES}

    @property
    def obligations_total(self) -> Decimal:
        return sum(self.obligations_by_class.values(), ZERO)

    @property
    def disbursements_total(self) -> Decimal:
        return sum(self.disbursements_by_class.values(), ZERO)

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes a form shows: those appropriated or already planned, in GAA order."""
        planned = {line.allotment_class for line in self.lines}
        return tuple(k for k in ALLOTMENT_CLASSES if self.appropriation[k] > 0 or k in planned)


def appropriation_by_class(ppa_id: int) -> dict[str, Decimal]:
    """The PPA's appropriation per allotment class (PHP): the class amounts
    of its program budgets that count as appropriations (proposal and PPA
    enacted, ``services.budget.appropriation_problem``), plus their
    appropriation adjustments (docs/design.md §12 "Appropriations",
    "Adjustments and transfers"). All zero when it has none."""
    out = _by_class()
    for program_budget in db.session.scalars(select(ProgramBudget).where(ProgramBudget.ppa_id == ppa_id)):
        if appropriation_problem(program_budget) is not None:
            continue
        adjustments = appropriation_adjustments_by_class(program_budget.id)
        for klass in ALLOTMENT_CLASSES:
            out[klass] += program_budget.class_amount(klass) + adjustments[klass]
    return out


def _not_appropriated(ppa_id: int) -> str | None:
    """Why the PPA has no appropriation to plan, or ``None`` when it has one."""
    problems = [appropriation_problem(b) for b in
                db.session.scalars(select(ProgramBudget).where(ProgramBudget.ppa_id == ppa_id))]
    if not problems:
        return f"PPA {ppa_id} has no program budget"
    if any(problem is None for problem in problems):
        return None
    return "; ".join(problems)


def _lines_of(ppa_id: int) -> list[ExecutionPlanLine]:
    return list(db.session.scalars(select(ExecutionPlanLine).where(ExecutionPlanLine.ppa_id == ppa_id)
                                   .order_by(ExecutionPlanLine.month, ExecutionPlanLine.id)))


def get_plan(user: User, ppa_id: int) -> ExecutionPlan:
    """The PPA's BED No. 1 and No. 3: twelve months × every class, totals
    per month, per class and from January through each month (PHP).

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    ppa = get_ppa_or_raise(user, ppa_id)
    lines = sorted(_lines_of(ppa.id), key=lambda line: (line.month, ALLOTMENT_CLASSES.index(line.allotment_class)))
    stored = {(line.month, line.allotment_class): line for line in lines}
    months, cumulative_obligations, cumulative_disbursements = [], ZERO, ZERO
    for month in PLAN_MONTHS:
        obligations = _by_class({k: stored[(month, k)].obligations_planned for k in ALLOTMENT_CLASSES
                                 if (month, k) in stored})
        disbursements = _by_class({k: stored[(month, k)].disbursements_planned for k in ALLOTMENT_CLASSES
                                   if (month, k) in stored})
        cumulative_obligations += sum(obligations.values(), ZERO)
        cumulative_disbursements += sum(disbursements.values(), ZERO)
        months.append(PlanMonth(month, obligations, disbursements, cumulative_obligations, cumulative_disbursements))
    return ExecutionPlan(ppa, appropriation_by_class(ppa.id), months, lines,
                         may_edit=has_role(user, PLAN, ppa.organization_id),
                         appropriated=_not_appropriated(ppa.id) is None)


def _amount(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal:
    """``value`` as a PHP amount of at least zero (``Decimal``, or text a
    person typed); a problem goes to ``errors[field]`` and zero is returned."""
    try:
        return parse_amount(ZERO if value is None else value)
    except AmountError as exc:
        errors.setdefault(field, []).append(str(exc))
        return ZERO


def _checked(lines: list[Mapping[str, Any]]) -> list[tuple[int, int, str, Decimal, Decimal]]:
    """``(index, month, class, obligations, disbursements)`` of each line, or
    ``ValidationFailed`` naming each bad field as ``lines.<index>.<field>``."""
    errors: dict[str, list[str]] = {}
    seen: dict[tuple[int, str], int] = {}
    out = []
    for index, line in enumerate(lines):
        month, klass = line.get("month"), line.get("allotment_class")
        if not isinstance(month, int) or isinstance(month, bool) or month not in PLAN_MONTHS:
            errors.setdefault(f"lines.{index}.month", []).append("must be a month from 1 (January) to 12 (December)")
        if klass not in ALLOTMENT_CLASSES:
            errors.setdefault(f"lines.{index}.allotment_class", []).append(
                f"must be one of {', '.join(ALLOTMENT_CLASSES)}")
        obligations = _amount(line.get("obligations_planned"), f"lines.{index}.obligations_planned", errors)
        disbursements = _amount(line.get("disbursements_planned"), f"lines.{index}.disbursements_planned", errors)
        if (month, klass) in seen:
            errors.setdefault(f"lines.{index}.month", []).append(
                f"repeats line {seen[(month, klass)]}: one line per month and class")
        elif month in PLAN_MONTHS and klass in ALLOTMENT_CLASSES:
            seen[(month, klass)] = index
        out.append((index, month, klass, obligations, disbursements))
    if errors:
        raise ValidationFailed(errors)
    return out


def _within_appropriation(lines: list[tuple[int, int, str, Decimal, Decimal]],
                          appropriation: Mapping[str, Decimal]) -> None:
    """Refuse a class whose planned obligations (or disbursements) total
    above its appropriation: the message goes on the line of the month in
    which the running total first goes above it (``lines.<i>.<field>``)."""
    errors: dict[str, list[str]] = {}
    for klass in ALLOTMENT_CLASSES:
        of_class = sorted((line for line in lines if line[2] == klass), key=lambda line: line[1])
        for position, (field, noun) in ((3, ("obligations_planned", "obligations")),
                                        (4, ("disbursements_planned", "disbursements"))):
            total = sum((line[position] for line in of_class), ZERO)
            if total <= appropriation[klass]:
                continue
            running = ZERO
            for line in of_class:
                running += line[position]
                if running > appropriation[klass]:
                    errors[f"lines.{line[0]}.{field}"] = [(
                        f"the {CLASS_NAMES[klass]} {noun} planned through {MONTH_NAMES[line[1] - 1]} total "
                        f"PHP {running:,.2f} (PHP {total:,.2f} for the year), above the PPA's "
                        f"{CLASS_NAMES[klass]} appropriation of PHP {appropriation[klass]:,.2f}")]
                    break
    if errors:
        raise ValidationFailed(errors)


def set_plan(user: User, ppa_id: int, lines: Iterable[Mapping[str, Any]]) -> ExecutionPlan:
    """Replace the PPA's BED No. 1 and No. 3 with ``lines``, in one
    transaction: a line per month and class given is kept (a line with both
    amounts zero is not stored), every other stored line goes. Changes are
    audited field by field (``execution_plan_line``).

    Args:
        lines: mappings with ``month`` (1–12), ``allotment_class`` (``ps``,
            ``mooe``, ``finex``, ``co``), ``obligations_planned`` and
            ``disbursements_planned`` (PHP ``Decimal`` or amount text, at
            least zero; absent is zero).

    Returns:
        The plan as ``get_plan`` reads it after the change.

    Raises:
        NotFound: the PPA is not visible to ``user``.
        Forbidden: ``user`` is not the PPA's MOA focal person or budget officer.
        Conflict: ``not_appropriated``: no program budget of the PPA counts as an appropriation.
        ValidationFailed: per field as ``lines.<index>.<field>``: a month
            outside 1–12, an unknown class, a negative amount or one with
            sub-centavo digits, a month and class given twice, a class's
            obligations or disbursements above its appropriation (named on
            the month where the running total goes above it).
    """
    given = [dict(line) for line in lines]
    checked = _checked(given)
    with transaction() as session:
        ppa = get_ppa_or_raise(user, ppa_id, for_update=True)
        require_role(user, PLAN, ppa.organization_id, "enter the PPA's financial plan (BED No. 1 and No. 3)")
        if problem := _not_appropriated(ppa.id):
            raise Conflict(f"a financial plan is entered only for an appropriated PPA; {problem}",
                           code="not_appropriated", reason=problem)
        _within_appropriation(checked, appropriation_by_class(ppa.id))
        stored = {(line.month, line.allotment_class): line for line in _lines_of(ppa.id)}
        wanted = {(month, klass): (obligations, disbursements)
                  for _, month, klass, obligations, disbursements in checked if obligations or disbursements}
        for key, line in stored.items():
            if key not in wanted:
                session.delete(line)
        for (month, klass), (obligations, disbursements) in wanted.items():
            line = stored.get((month, klass))
            if line is None:
                session.add(ExecutionPlanLine(ppa_id=ppa.id, fiscal_year=ppa.fiscal_year, month=month,
                                              allotment_class=klass, obligations_planned=obligations,
                                              disbursements_planned=disbursements, created_by_id=user.id))
            else:
                line.obligations_planned, line.disbursements_planned = obligations, disbursements
    return get_plan(user, ppa_id)


# -- plan against actual -------------------------------------------------------------------------


def _rate(actual: Decimal, planned: Decimal) -> Decimal | None:
    """``actual / planned`` as a fraction to four places; ``None`` when nothing is planned."""
    return None if planned == 0 else (actual / planned).quantize(RATE)


@dataclass(frozen=True)
class VarianceMonth:
    """One month of the plan against the actual (PHP): planned and actual
    obligations and disbursements in the month and from January through it;
    the variances (actual − planned, negative when behind the plan) and the
    rates (cumulative actual ÷ cumulative planned, a ``Decimal`` fraction,
    ``None`` when nothing is planned yet). A month after ``as_of`` has not
    come: its actuals are zero and its variances and rates ``None``."""

    month: int
    reached: bool
    planned_obligations: Decimal
    actual_obligations: Decimal
    cumulative_planned_obligations: Decimal
    cumulative_actual_obligations: Decimal
    planned_disbursements: Decimal
    actual_disbursements: Decimal
    cumulative_planned_disbursements: Decimal
    cumulative_actual_disbursements: Decimal

    @property
    def name(self) -> str:
        return MONTH_NAMES[self.month - 1]

    def _when_reached(self, value):
        return value if self.reached else None

    @property
    def obligations_variance(self) -> Decimal | None:
        return self._when_reached(self.actual_obligations - self.planned_obligations)

    @property
    def cumulative_obligations_variance(self) -> Decimal | None:
        return self._when_reached(self.cumulative_actual_obligations - self.cumulative_planned_obligations)

    @property
    def obligations_rate(self) -> Decimal | None:
        return self._when_reached(_rate(self.cumulative_actual_obligations, self.cumulative_planned_obligations))

    @property
    def disbursements_variance(self) -> Decimal | None:
        return self._when_reached(self.actual_disbursements - self.planned_disbursements)

    @property
    def cumulative_disbursements_variance(self) -> Decimal | None:
        return self._when_reached(self.cumulative_actual_disbursements - self.cumulative_planned_disbursements)

    @property
    def disbursements_rate(self) -> Decimal | None:
        return self._when_reached(_rate(self.cumulative_actual_disbursements,
                                        self.cumulative_planned_disbursements))


@dataclass(frozen=True)
class PlanVsActual:
    """The PPA's plan against its actual obligations and disbursements up
    to ``as_of``, month by month through its fiscal year."""

    ppa: Ppa
    as_of: date
    months: list[VarianceMonth]

    @property
    def fiscal_year(self) -> int:
        return self.ppa.fiscal_year

    @property
    def to_date(self) -> VarianceMonth | None:
        """The last month reached (its cumulative figures are the year's to date), or ``None`` before January."""
        reached = [m for m in self.months if m.reached]
        return reached[-1] if reached else None


def plan_vs_actual(user: User, ppa_id: int, as_of: date | None = None, *,
                   chain: MoneyChain | None = None) -> PlanVsActual:
    """The PPA's plan (BED No. 1 and No. 3) against what it actually
    obligated (ORS posted at Box B) and paid (DV posted at Box E), per month
    of its fiscal year, on postings dated on or before ``as_of`` (default
    today in Asia/Manila). Actuals are the money chain's postings
    (``MoneyChain.postings``: originals, NORSA adjustments, and a
    cancellation or void as a reversal in the month of its own date) of the
    PPA's own MOA (a sub-allotment's receiver spends in its own plan), in
    the month of their date; a posting dated after the fiscal year (a
    continuing appropriation) is in no month of the plan.

    Args:
        chain: the PPA's money chain when the caller has already read it
            (the Execution tab), else it is read here.

    Raises:
        NotFound: the PPA is not visible to ``user``.
    """
    plan = get_plan(user, ppa_id)
    as_of = as_of or today()
    chain = chain or read_money_chain(user, ppa_id)
    own = plan.ppa.organization_id
    chain = replace(chain, allotments=[], obligations=[o for o in chain.obligations if o.row.organization_id == own],
                    disbursements=[d for d in chain.disbursements if d.organization_id == own],
                    program_budgets=[])
    actual = {level: dict.fromkeys(PLAN_MONTHS, ZERO) for level in ("obligated", "disbursed")}
    for posting in chain.postings:
        if posting.level in actual and posting.day.year == plan.fiscal_year and posting.day <= as_of:
            actual[posting.level][posting.day.month] += posting.amount
    months, cumulative = [], dict.fromkeys(("obligated", "disbursed"), ZERO)
    for month in plan.months:
        for level in cumulative:
            cumulative[level] += actual[level][month.month]
        reached = date(plan.fiscal_year, month.month, 1) <= as_of
        months.append(VarianceMonth(
            month.month, reached, month.obligations_total, actual["obligated"][month.month],
            month.cumulative_obligations, cumulative["obligated"], month.disbursements_total,
            actual["disbursed"][month.month], month.cumulative_disbursements, cumulative["disbursed"]))
    return PlanVsActual(plan.ppa, as_of, months)
