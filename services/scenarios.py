"""Budget scenarios: what-if allocations per PPA under a ceiling, their
adjustment, constraint checks, comparison and the optimiser's proposal
(docs/design.md §17; issue 16 items 1-2).

Who may do what: budget analysts, planning officers and executives (and
admins) read, build and change scenarios; no one else (403). A scenario
is not an appropriation: nothing here touches the money chain.

Money: ``Decimal`` PHP, centavos in the database; an adjustment spread over
several PPAs is split by the largest remainder (``workflow.money.
split_centavos``) so it lands exactly. The optimiser is the pure
``workflow.optimiser``: this module builds its ``Problem`` (the scenario's
PPAs as candidates, costs = their amounts in the scenario or, when 0, their
budget allocation; the needs they address from ``ppa_needs``; weights, caps
and shares from ``scenarios.yaml``) and saves its answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import BigInteger, Select, func, select, type_coerce

from db import db
from db.models import (
    Allotment,
    BudgetProposal,
    Need,
    Obligation,
    Organization,
    Ppa,
    PpaNeed,
    ProgramBudget,
    Scenario,
    ScenarioAllocation,
    User,
)
from rules.kinds.scenarios import DEFAULT_SCENARIO_RULES, ScenarioRules
from services.access import require_role
from services.budget import ENACTED, active_amount_sql
from services.concurrency import check_if_match
from services.printing import MONEY, Column, Line, PrintedReport, render_pdf
from services.runtime import get_runtime
from services.unit_of_work import transaction
from services.workbooks import put, workbook_bytes
from workflow import optimiser
from workflow.errors import Conflict, NotFound, ValidationFailed
from workflow.money import from_centavos, split_centavos, to_centavos

#: The longest scenario name (the column's length).
NAME_LENGTH = 200
#: Who may read and build scenarios (docs/design.md §17).
ANALYSTS = ("budget_analyst", "planning_officer", "executive")
#: What an adjustment may select by.
SCOPES = ("all", "ppa", "moa", "sector", "class")
CENT = Decimal("0.01")


def _require(user: User, action: str) -> None:
    require_role(user, ANALYSTS, None, action)


def rules() -> ScenarioRules:
    """The scenario rules of the running rule set (``scenarios.yaml``)."""
    return getattr(get_runtime().rules, "scenarios", None) or DEFAULT_SCENARIO_RULES


# -- scenarios -------------------------------------------------------------------


def list_scenarios(user: User) -> Select:
    """Every scenario, newest first."""
    _require(user, "read budget scenarios")
    return select(Scenario).order_by(Scenario.id.desc())


def get_scenario_or_raise(user: User, scenario_id: int) -> Scenario:
    """One scenario. Raises NotFound; Forbidden for other roles."""
    _require(user, "read budget scenarios")
    scenario = db.session.get(Scenario, scenario_id)
    if scenario is None:
        raise NotFound(f"scenario {scenario_id} not found")
    return scenario


def create_scenario(user: User, *, name: str, description: str = "", ceiling: Decimal | None = None,
                    baseline: bool | None = None, from_fiscal_year: int | None = None,
                    fiscal_year: int | None = None) -> Scenario:
    """Create a scenario, empty or as a copy of the baseline: with
    ``from_fiscal_year``, one allocation per PPA holding an enacted
    appropriation that year (regular and supplemental program budgets of
    enacted proposals, summed), justification "enacted FY <year>"; its
    ceiling defaults to their total and it is marked baseline.
    ``fiscal_year``: the year an empty scenario plans (a copy plans the year
    it copies); the MOA caps from past obligation rates read the years
    before it.

    Raises:
        ValidationFailed: no ceiling for an empty scenario; a year with no
            enacted appropriation.
    """
    with transaction() as session:
        _require(user, "create a budget scenario")
        amounts: dict[int, Decimal] = {}
        if from_fiscal_year is not None:
            rows = session.execute(
                select(ProgramBudget.ppa_id, func.sum(type_coerce(ProgramBudget.approved_amount, BigInteger)))
                .join(BudgetProposal, BudgetProposal.id == ProgramBudget.proposal_id)
                .where(BudgetProposal.fiscal_year == from_fiscal_year, BudgetProposal.status == ENACTED)
                .group_by(ProgramBudget.ppa_id).order_by(ProgramBudget.ppa_id)).all()
            amounts = {ppa_id: from_centavos(int(centavos)) for ppa_id, centavos in rows}
            if not amounts:
                raise ValidationFailed({"from_fiscal_year": [f"FY {from_fiscal_year} has no enacted appropriation"]})
        if ceiling is None and from_fiscal_year is None:
            raise ValidationFailed({"ceiling": ["a scenario not copied from a fiscal year needs a ceiling"]})
        scenario = Scenario(name=name, description=description,
                            ceiling=ceiling if ceiling is not None else sum(amounts.values(), Decimal(0)),
                            baseline=bool(from_fiscal_year is not None if baseline is None else baseline),
                            fiscal_year=from_fiscal_year if from_fiscal_year is not None else fiscal_year,
                            created_by_id=user.id)
        session.add(scenario)
        session.flush()
        for ppa_id, amount in amounts.items():
            session.add(ScenarioAllocation(scenario_id=scenario.id, ppa_id=ppa_id, amount=amount,
                                           justification=f"enacted FY {from_fiscal_year}"))
    return scenario


def update_scenario(user: User, scenario_id: int, data: dict[str, Any], *, if_match: str | None) -> Scenario:
    """Change name, description, ceiling or baseline; ``If-Match`` required
    (428 without: the web layer; 412 stale)."""
    with transaction():
        scenario = get_scenario_or_raise(user, scenario_id)
        _require(user, "change a budget scenario")
        check_if_match(if_match, scenario.etag)
        for key in ("name", "description", "ceiling", "baseline"):
            if key in data:
                setattr(scenario, key, data[key])
    return scenario


# -- allocations -----------------------------------------------------------------


def list_allocations(user: User, scenario_id: int) -> list[ScenarioAllocation]:
    """The scenario's allocations, by PPA id."""
    get_scenario_or_raise(user, scenario_id)
    return list(db.session.scalars(select(ScenarioAllocation).where(ScenarioAllocation.scenario_id == scenario_id)
                                   .order_by(ScenarioAllocation.ppa_id)))


def put_allocation(user: User, scenario_id: int, ppa_id: int, *, amount: Decimal, justification: str = "",
                   if_match: str | None = None) -> ScenarioAllocation:
    """Set the scenario's amount for one PPA (created when absent), with its
    justification; the scenario's version moves on (its ETag changes).

    Raises:
        NotFound: no such PPA; PreconditionFailed: a stale If-Match.
    """
    with transaction() as session:
        scenario = get_scenario_or_raise(user, scenario_id)
        _require(user, "change a budget scenario")
        check_if_match(if_match, scenario.etag)
        if session.get(Ppa, ppa_id) is None:
            raise NotFound(f"PPA {ppa_id} not found")
        row = session.scalar(select(ScenarioAllocation).where(ScenarioAllocation.scenario_id == scenario_id,
                                                              ScenarioAllocation.ppa_id == ppa_id))
        if row is None:
            row = ScenarioAllocation(scenario_id=scenario_id, ppa_id=ppa_id, amount=amount, justification=justification)
            session.add(row)
        else:
            row.amount, row.justification = amount, justification or row.justification
        scenario.updated_at = func.now()
        session.flush()
        session.refresh(row)
    return row


def _key(allocation: ScenarioAllocation, scope: str) -> str | None:
    ppa = allocation.ppa
    return {"all": "all", "ppa": str(ppa.id), "moa": ppa.organization.code, "sector": ppa.sector,
            "class": ppa.appropriation_class}[scope]


def adjust(user: User, scenario_id: int, *, scope: str, value: str | None = None, percent: Decimal | None = None,
           amount: Decimal | None = None, justification: str = "", if_match: str | None = None) -> list[ScenarioAllocation]:
    """Raise or lower the allocations of one PPA, MOA, sector or allotment
    class (``scope`` + ``value``; ``all`` for every PPA) by ``percent`` of
    their total (rounded half-up to the centavo) or by an ``amount`` (PHP,
    signed), spread over them in proportion to their amounts by the largest
    remainder: the change lands exactly to the centavo (docs/design.md §17).

    Raises:
        ValidationFailed: neither or both of percent and amount; an unknown
            scope; nothing selected; an allocation that would go below 0.
    """
    errors: dict[str, list[str]] = {}
    if scope not in SCOPES:
        errors["scope"] = [f"one of {', '.join(SCOPES)}"]
    if percent is not None and not -100 <= percent <= 1000:
        errors["percent"] = ["between -100 and 1000"]
    if (percent is None) == (amount is None):
        errors["percent"] = ["give percent or amount, not both and not neither"]
    if scope != "all" and not value:
        errors["value"] = [f"name the {scope}"]
    if errors:
        raise ValidationFailed(errors)
    with transaction() as session:
        scenario = get_scenario_or_raise(user, scenario_id)
        _require(user, "change a budget scenario")
        check_if_match(if_match, scenario.etag)
        chosen = [a for a in list_allocations(user, scenario_id) if scope == "all" or _key(a, scope) == value]
        if not chosen:
            raise ValidationFailed({"value": [f"no allocation of this scenario has {scope} {value!r}"]})
        cents = [to_centavos(a.amount) for a in chosen]
        total = sum(cents)
        if percent is not None:
            change = int((Decimal(total) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        else:
            change = to_centavos(amount)
        parts = split_centavos(abs(change), cents if total else [1] * len(cents))
        sign = 1 if change >= 0 else -1
        for allocation, old, part in zip(chosen, cents, parts, strict=True):
            new = old + sign * part
            if new < 0:
                raise ValidationFailed({"amount": [f"PPA {allocation.ppa_id} would fall below 0"]})
            allocation.amount = from_centavos(new)
            if justification:
                allocation.justification = justification
        scenario.updated_at = func.now()
        session.flush()
    return chosen


# -- constraints, comparison -------------------------------------------------------------


def _problem(scenario: Scenario, allocations: list[ScenarioAllocation], sr: ScenarioRules) -> optimiser.Problem:
    """The optimiser's problem for a scenario (module docstring)."""
    ppa_ids = [a.ppa_id for a in allocations]
    links = db.session.execute(select(PpaNeed.ppa_id, PpaNeed.need_id).where(PpaNeed.ppa_id.in_(ppa_ids))).all()
    need_ids = sorted({n for _, n in links})
    needs = db.session.scalars(select(Need).where(Need.id.in_(need_ids))).all() if need_ids else []
    urgencies = list(get_runtime().rules.needs.urgencies)
    by_ppa: dict[int, list[int]] = defaultdict(list)
    for ppa_id, need_id in links:
        by_ppa[ppa_id].append(need_id)
    candidates = []
    for a in allocations:
        cost = a.amount if a.amount > 0 else a.ppa.budget_allocation
        if cost <= 0:
            continue
        candidates.append(optimiser.Candidate(id=a.ppa_id, cost=cost, moa=a.ppa.organization.code,
                                              needs=tuple(sorted(by_ppa[a.ppa_id])), sector=a.ppa.sector))
    return optimiser.Problem(
        ceiling=scenario.ceiling, candidates=tuple(candidates),
        needs=tuple(optimiser.Need(id=n.id, votes=n.votes, population=n.population_affected or 0,
                                   urgency=(len(urgencies) - urgencies.index(n.urgency)) if n.urgency in urgencies else 0)
                    for n in needs),
        weights=sr.weights,
        moa_caps=tuple(optimiser.MoaCap(moa=moa, limit=limit)
                       for moa, limit in moa_caps(scenario, {c.moa for c in candidates}, sr).items()),
        minimum_shares=sr.minimum_shares)


def moa_caps(scenario: Scenario, moas: Iterable[str], sr: ScenarioRules | None = None) -> dict[str, Decimal]:
    """Each MOA's absorptive capacity, PHP: the declared limit of
    ``scenarios.yaml`` (``moa_caps``), else from its past obligation rate
    over the ``obligation_rate_years`` fiscal years before the scenario's
    year: (active obligations ÷ active allotments over those years) × its
    largest year of allotments, rounded down to the centavo. An MOA with no
    allotment in those years (or a scenario without a fiscal year) has no
    cap (docs/design.md §17)."""
    sr = sr or rules()
    caps = {moa: limit for moa, limit in sr.moa_caps.items() if moa in set(moas)}
    rest = sorted(set(moas) - set(caps))
    if not rest or scenario.fiscal_year is None:
        return caps
    years = (scenario.fiscal_year - sr.obligation_rate_years, scenario.fiscal_year - 1)

    def by_moa_year(model, join_allotment: bool):
        query = select(Organization.code, BudgetProposal.fiscal_year, func.sum(active_amount_sql(model)))
        if join_allotment:
            query = query.select_from(model).join(Allotment, Allotment.id == model.allotment_id)
        else:
            query = query.select_from(Allotment)
        return db.session.execute(
            query.join(ProgramBudget, ProgramBudget.id == Allotment.program_budget_id)
            .join(BudgetProposal, BudgetProposal.id == ProgramBudget.proposal_id)
            .join(Organization, Organization.id == BudgetProposal.organization_id)
            .where(model.active, Organization.code.in_(rest), BudgetProposal.fiscal_year.between(*years))
            .group_by(Organization.code, BudgetProposal.fiscal_year)).all()

    allotted: dict[str, dict[int, int]] = defaultdict(dict)
    for moa, year, centavos in by_moa_year(Allotment, False):
        allotted[moa][year] = int(centavos or 0)
    obligated: dict[str, int] = defaultdict(int)
    for moa, _, centavos in by_moa_year(Obligation, True):
        obligated[moa] += int(centavos or 0)
    for moa, per_year in allotted.items():
        total = sum(per_year.values())
        if total > 0:
            caps[moa] = from_centavos(obligated[moa] * max(per_year.values()) // total)
    return dict(sorted(caps.items()))


def constraint_checks(scenario: Scenario, allocations: list[ScenarioAllocation]) -> list[dict[str, Any]]:
    """Every constraint checked exactly against the scenario's allocations:
    the ceiling, each declared MOA cap, each minimum share by sector (of the
    total allocated, or of the ceiling). Each: name, description, value,
    limit, slack (PHP), satisfied."""
    sr = rules()
    total = sum((a.amount for a in allocations), Decimal(0))
    by_moa: dict[str, Decimal] = defaultdict(Decimal)
    by_sector: dict[str | None, Decimal] = defaultdict(Decimal)
    for a in allocations:
        by_moa[a.ppa.organization.code] += a.amount
        by_sector[a.ppa.sector] += a.amount
    out = [_check("ceiling", f"the total may not exceed the ceiling of PHP {scenario.ceiling:,}", total,
                  scenario.ceiling, at_most=True)]
    for moa, limit in moa_caps(scenario, by_moa, sr).items():
        out.append(_check(f"moa_cap:{moa}", f"{moa} can absorb at most PHP {limit:,}", by_moa.get(moa, Decimal(0)),
                          limit, at_most=True))
    for share in sr.minimum_shares:
        if share.dimension != "sector":
            continue
        base = total if share.basis == "allocated" else scenario.ceiling
        limit = (base * share.percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        out.append(_check(f"minimum_share:sector:{share.value}",
                          f"sector {share.value} gets at least {share.percent}% of the {share.basis} total",
                          by_sector.get(share.value, Decimal(0)), limit, at_most=False))
    return out


def _check(name: str, description: str, value: Decimal, limit: Decimal, *, at_most: bool) -> dict[str, Any]:
    slack = limit - value if at_most else value - limit
    return {"name": name, "description": description, "value": value, "limit": limit, "slack": slack,
            "satisfied": slack >= 0}


#: The area of an allocation whose PPA addresses no need with a province.
NO_AREA = "(no area)"


def area_totals(funded: list[ScenarioAllocation]) -> dict[str, Decimal]:
    """The funded allocations' totals per area (PHP), in one statement.

    PPAs have no place of their own; the place is the need's (docs/design.md
    §14: a PSGC province code). A PPA's amount goes to the provinces of the
    needs it addresses, each need an equal share, split by the largest
    remainder (``workflow.money.split_centavos``) so the areas add up to the
    total exactly; a PPA addressing no need with a province counts under
    ``NO_AREA``. Areas are named as ``psgc_barmm.yaml`` names the province
    (its code when it does not).

    Returns:
        ``{area name: PHP}`` in name order, ``NO_AREA`` last.
    """
    provinces: dict[int, list[str]] = defaultdict(list)
    if funded:
        rows = db.session.execute(
            select(PpaNeed.ppa_id, Need.province_code).join(Need, PpaNeed.need_id == Need.id)
            .where(PpaNeed.ppa_id.in_([a.ppa_id for a in funded]), Need.province_code.is_not(None))
            .order_by(PpaNeed.ppa_id, Need.province_code, Need.id)).all()
        for ppa_id, code in rows:
            provinces[ppa_id].append(code)
    names = get_runtime().rules.psgc_barmm.provinces
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for a in funded:
        codes = provinces.get(a.ppa_id)
        if not codes:
            totals[NO_AREA] += a.amount
            continue
        counted = dict.fromkeys(codes, 0)
        for code in codes:
            counted[code] += 1
        for code, part in zip(counted, split_centavos(to_centavos(a.amount), list(counted.values())), strict=True):
            totals[names.get(code, code)] += from_centavos(part)
    return dict(sorted(totals.items(), key=lambda item: (item[0] == NO_AREA, item[0])))


def summary(scenario: Scenario, allocations: list[ScenarioAllocation] | None = None) -> dict[str, Any]:
    """A scenario's totals per MOA, sector, allotment class and area (PHP;
    ``area_totals``), the needs its funded PPAs address (a need counts once)
    and the population of those needs, and its constraint checks."""
    allocations = allocations if allocations is not None else list(db.session.scalars(
        select(ScenarioAllocation).where(ScenarioAllocation.scenario_id == scenario.id)
        .order_by(ScenarioAllocation.ppa_id)))
    totals: dict[str, dict[str, Decimal]] = {"moa": defaultdict(Decimal), "sector": defaultdict(Decimal),
                                             "class": defaultdict(Decimal)}
    funded = [a for a in allocations if a.amount > 0]
    for a in funded:
        totals["moa"][a.ppa.organization.code] += a.amount
        totals["sector"][a.ppa.sector or "(none)"] += a.amount
        totals["class"][a.ppa.appropriation_class] += a.amount
    need_rows = db.session.execute(
        select(Need.id, Need.population_affected).join(PpaNeed, PpaNeed.need_id == Need.id)
        .where(PpaNeed.ppa_id.in_([a.ppa_id for a in funded])).distinct()).all() if funded else []
    return {"id": scenario.id, "name": scenario.name, "baseline": scenario.baseline, "ceiling": scenario.ceiling,
            "total": sum((a.amount for a in funded), Decimal(0)),
            "by_moa": dict(sorted(totals["moa"].items())), "by_sector": dict(sorted(totals["sector"].items())),
            "by_class": dict(sorted(totals["class"].items())), "by_area": area_totals(funded),
            "needs_addressed": len(need_rows), "population_served": sum(p or 0 for _, p in need_rows),
            "constraints": constraint_checks(scenario, allocations)}


def compare(user: User, ids: Iterable[int]) -> dict[str, Any]:
    """Scenarios side by side: each one's ``summary``, and per MOA, sector,
    class and area the difference of each scenario from the first (PHP; a
    key absent from a scenario counts 0).

    Raises:
        ValidationFailed: fewer than two ids; NotFound: an unknown one.
    """
    ids = list(ids)
    if len(ids) < 2:
        raise ValidationFailed({"ids": ["name at least two scenarios, e.g. ids=1,2"]})
    summaries = [summary(get_scenario_or_raise(user, i)) for i in ids]
    first = summaries[0]
    differences = []
    for s in summaries[1:]:
        diff: dict[str, Any] = {"id": s["id"], "total": s["total"] - first["total"],
                                "needs_addressed": s["needs_addressed"] - first["needs_addressed"],
                                "population_served": s["population_served"] - first["population_served"]}
        for dim in DIMENSIONS.values():
            keys = sorted(set(first[dim]) | set(s[dim]))
            diff[dim] = {k: s[dim].get(k, Decimal(0)) - first[dim].get(k, Decimal(0)) for k in keys
                         if s[dim].get(k, Decimal(0)) != first[dim].get(k, Decimal(0))}
        differences.append(diff)
    return {"scenarios": summaries, "differences": differences}


#: The groups of a comparison, as printed, and their keys in ``summary``.
DIMENSIONS = {"MOA": "by_moa", "Sector": "by_sector", "Class": "by_class", "Area": "by_area"}


@dataclass(frozen=True)
class ComparisonRow:
    """One row of a printed comparison: its group (MOA, Sector, Class, Area, or
    the label of a total: Total, Needs addressed, Population served), its key, one value per scenario and
    then one per difference from the first scenario; ``money`` says the
    values are PHP (else counts: needs, people)."""

    group: str
    key: str
    values: tuple[Decimal | int, ...]
    money: bool = True
    total: bool = False

    def changed(self, column: int) -> bool:
        """Whether value ``column`` (0-based) is a difference that is not zero."""
        return column >= (len(self.values) + 1) // 2 and self.values[column] != 0


def comparison_rows(comparison: dict[str, Any]) -> tuple[list[str], list[ComparisonRow]]:
    """The comparison of ``compare`` as a table, the one definition the
    workbook and the PDF both print: the value headings (each scenario's
    name, then "<name> − <first name>" per difference) and the rows, per
    MOA, sector, class and area (a key absent from a scenario counts 0), then
    the totals, needs addressed and population served."""
    scenarios, differences = comparison["scenarios"], comparison["differences"]
    first = scenarios[0]["name"]
    headings = [s["name"] for s in scenarios] + [f"{s['name']} − {first}" for s in scenarios[1:]]
    rows = []
    for group, dim in DIMENSIONS.items():
        for key in sorted({k for s in scenarios for k in s[dim]}, key=lambda k: (k == NO_AREA, k)):
            values = [s[dim].get(key, Decimal(0)) for s in scenarios]
            rows.append(ComparisonRow(group, key, tuple(values + [v - values[0] for v in values[1:]])))
    for label, key, money in (("Total", "total", True), ("Needs addressed", "needs_addressed", False),
                              ("Population served", "population_served", False)):
        values = [s[key] for s in scenarios] + [d[key] for d in differences]
        rows.append(ComparisonRow(label, "", tuple(values), money=money, total=True))
    return headings, rows


#: The fill of a difference that is not zero, in the workbook.
CHANGED_FILL = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")


def comparison_workbook(comparison: dict[str, Any]) -> bytes:
    """The comparison as an xlsx workbook (``comparison_rows``): one row per
    MOA, sector, class and area, one column per scenario and one per difference
    from the first, a difference that is not zero shaded; then totals,
    needs addressed and population served."""
    headings, rows = comparison_rows(comparison)
    wb = Workbook()
    ws = wb.active
    ws.title = "Comparison"
    put(ws, 1, 1, "Budget scenarios compared").font = Font(bold=True, size=13)
    for column, text in enumerate(["Group", "Key", *headings], start=1):
        put(ws, 3, column, text).font = Font(bold=True)
    for row, line in enumerate(rows, start=4):
        put(ws, row, 1, line.group).font = Font(bold=line.total)
        put(ws, row, 2, line.key)
        for index, value in enumerate(line.values):
            written = put(ws, row, 3 + index, value)
            written.number_format = "#,##0.00;(#,##0.00)" if line.money else "#,##0;(#,##0)"
            if line.changed(index):
                written.fill = CHANGED_FILL
    return workbook_bytes(wb)


def comparison_pdf(comparison: dict[str, Any]) -> bytes:
    """The comparison as a PDF (Legal landscape, ``services.printing``):
    the same rows and columns as ``comparison_workbook``; counts print as
    whole numbers, PHP in accounting format."""
    headings, rows = comparison_rows(comparison)
    columns = [Column("Group"), Column("Key", wide=True), *(Column(h, MONEY) for h in headings)]
    lines = [Line((row.group, row.key, *(v if row.money else f"{v:,}" for v in row.values)),
                  "total" if row.total else "detail") for row in rows]
    names = ", ".join(s["name"] for s in comparison["scenarios"])
    return render_pdf(PrintedReport(titles=(f"Scenarios: {names}", "Budget scenarios compared"),
                                    columns=columns, lines=lines, key_columns=2))


# -- the optimiser ---------------------------------------------------------------------


def optimise(user: User, scenario_id: int, *, save: bool = True, name: str | None = None,
             time_limit: float = 20.0) -> dict[str, Any]:
    """Propose which of the scenario's PPAs to fund under its ceiling
    (``workflow.optimiser.optimise``) and, with ``save``, keep the proposal
    as a new scenario (same ceiling, one allocation per funded PPA,
    justified "optimiser: <objective>").

    Returns:
        ``{"proposal": Proposal, "scenario": Scenario | None}``.

    Raises:
        InfeasibleConstraints (422, naming the conflicting constraints);
        OptimiserTimeLimit (503); Conflict (409 ``nothing_to_optimise``): no
            PPA with a cost to choose from.
    """
    with transaction() as session:
        scenario = get_scenario_or_raise(user, scenario_id)
        if save:
            _require(user, "create a budget scenario")
        allocations = list_allocations(user, scenario_id)
        sr = rules()
        problem = _problem(scenario, allocations, sr)
        if not problem.candidates:
            raise Conflict("the scenario has no PPA with a cost to choose from: put allocations first",
                           code="nothing_to_optimise")
        proposal = optimiser.optimise(problem, funding=sr.funding, minimum_funding_percent=sr.minimum_funding_percent,
                                      time_limit=time_limit)
        saved = None
        if save:
            suffix = " — optimised"
            saved = Scenario(name=name or scenario.name[:NAME_LENGTH - len(suffix)] + suffix,
                             ceiling=scenario.ceiling, baseline=False,
                             description=f"Proposed by the optimiser from scenario {scenario.id}",
                             fiscal_year=scenario.fiscal_year, created_by_id=user.id)
            session.add(saved)
            session.flush()
            for ppa_id, amount in proposal.optimum.allocations.items():
                session.add(ScenarioAllocation(scenario_id=saved.id, ppa_id=ppa_id, amount=amount,
                                               justification=f"optimiser: objective {proposal.optimum.objective}"))
    return {"proposal": proposal, "scenario": saved}
