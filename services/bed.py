"""The budget execution documents as printed (DBM; issue 13 item 3;
docs/design.md §8, and §12 "Financial plan (BED No. 1 and No. 3)"): BED No. 1, the Financial
Plan (obligations planned per month), and BED No. 3, the Monthly
Disbursement Program (disbursements planned per month), of a reporting
entity for a fiscal year, from the plans entered per PPA
(``services.execution_plans``).

Rows by PAP (its UACS code, as FAR No. 1 has them) and allotment class, a
subtotal per PAP and per class and a grand total; columns the twelve months
under their quarters, each quarter's total and the year's. Money is PHP
``Decimal``, exact; every total is summed here from the entered lines.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from db import db
from db.models import BudgetProposal, ExecutionPlanLine, Organization, Ppa, ProgramBudget, User
from services.far1 import CLASSES, fund_cluster_row
from services.statements import (
    QUARTERS,
    TEXT,
    Statement,
    StatementColumn,
    StatementLine,
    reporting_entity,
    signatories,
)
from workflow.money import ZERO

_ORDINALS = ("1st", "2nd", "3rd", "4th")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
#: Particulars, UACS code, then per quarter its three months and its total, then the year's total.
COLUMNS = (
    StatementColumn("Particulars", TEXT, width=48), StatementColumn("UACS Code", TEXT, width=16),
    *(column for q in QUARTERS for column in (
        *(StatementColumn(_MONTHS[m - 1], group=f"{_ORDINALS[q - 1]} Quarter") for m in range(3 * q - 2, 3 * q + 1)),
        StatementColumn(f"Total, {_ORDINALS[q - 1]} Quarter", group=f"{_ORDINALS[q - 1]} Quarter"))),
    StatementColumn("Total for the Year"),
)
#: Who signs a budget execution document: the budget officer prepares, the head of agency approves.
BED_SIGNATURES = (("Prepared By:", "budget_officer", "Budget execution documents"),
                  ("Approved By:", "head_of_agency", ""))
FORMS = {"obligations_planned": ("BED No. 1", "FINANCIAL PLAN", "Obligations planned"),
         "disbursements_planned": ("BED No. 3", "MONTHLY DISBURSEMENT PROGRAM", "Disbursements planned")}


def _values(particulars: str, uacs: str, months: dict[int, Decimal]) -> list:
    out: list = [particulars, uacs]
    for q in QUARTERS:
        quarter = [months.get(m, ZERO) for m in range(3 * q - 2, 3 * q + 1)]
        out += [*quarter, sum(quarter, ZERO)]
    return [*out, sum((months.get(m, ZERO) for m in range(1, 13)), ZERO)]


def _add(into: dict[int, Decimal], months: dict[int, Decimal]) -> None:
    for month, amount in months.items():
        into[month] = into.get(month, ZERO) + amount


def _plans(org_ids: list[int], fiscal_year: int, figure: str, fund_cluster: str | None):
    """``{(organization code or "", PAP, title, PPA id): {class: {month: PHP}}}``
    of the year's entered plans (two statements, whatever the number of lines)."""
    if not org_ids:
        return {}
    budgets = db.session.execute(
        select(ProgramBudget.ppa_id, ProgramBudget.pap_code, ProgramBudget.fund_cluster)
        .join(Ppa, ProgramBudget.ppa_id == Ppa.id).join(BudgetProposal, ProgramBudget.proposal_id == BudgetProposal.id)
        .where(Ppa.organization_id.in_(org_ids), Ppa.fiscal_year == fiscal_year, BudgetProposal.status == "enacted")
        .order_by(ProgramBudget.id)).all()
    pap_of: dict[int, str] = {}
    clusters: dict[int, set[str]] = defaultdict(set)
    for ppa_id, pap, cluster in budgets:
        pap_of.setdefault(ppa_id, pap or "")
        clusters[ppa_id].add(cluster)
    out: dict[tuple, dict[str, dict[int, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    rows = db.session.execute(
        select(ExecutionPlanLine.month, ExecutionPlanLine.allotment_class, getattr(ExecutionPlanLine, figure),
               Ppa.id, Ppa.title, Ppa.program_code, Organization.code)
        .join(Ppa, ExecutionPlanLine.ppa_id == Ppa.id).join(Organization, Ppa.organization_id == Organization.id)
        .where(Ppa.organization_id.in_(org_ids), ExecutionPlanLine.fiscal_year == fiscal_year))
    for month, klass, amount, ppa_id, title, program_code, org in rows:
        if not amount or (fund_cluster and fund_cluster not in clusters.get(ppa_id, ())):
            continue
        key = (org if len(org_ids) > 1 else "", pap_of.get(ppa_id) or program_code or f"PPA-{ppa_id}", title, ppa_id)
        out[key][klass][month] = out[key][klass].get(month, ZERO) + amount
    return out


def _statement(user: User, fiscal_year: int, moa: str | None, figure: str, fund_cluster: str | None) -> Statement:
    form, title, _caption = FORMS[figure]
    entity = reporting_entity(user, fiscal_year, moa)
    plans = _plans(entity.organization_ids, fiscal_year, figure, fund_cluster)
    labels = {key: (label, code) for key, label, code in CLASSES}
    lines: list[StatementLine] = []
    by_class: dict[str, dict[int, Decimal]] = defaultdict(dict)
    total: dict[int, Decimal] = {}
    for org, pap, ppa_title, _ppa_id in sorted(plans):
        classes = plans[(org, pap, ppa_title, _ppa_id)]
        lines.append(StatementLine([f"{ppa_title} ({org})" if org else ppa_title, pap, *[None] * 17], "heading"))
        subtotal: dict[int, Decimal] = {}
        for klass, (label, code) in labels.items():
            if klass in classes:
                lines.append(StatementLine(_values(label, code, classes[klass])))
                _add(subtotal, classes[klass])
                _add(by_class[klass], classes[klass])
        lines.append(StatementLine(_values(f"Subtotal, {ppa_title}", pap, subtotal), "subtotal"))
        _add(total, subtotal)
    for klass, (label, code) in labels.items():
        if klass in by_class:
            lines.append(StatementLine(_values(f"Subtotal, {label}", code, by_class[klass]), "subtotal"))
    lines.append(StatementLine(_values("GRAND TOTAL", "", total), "total"))
    header = [*entity.header, fund_cluster_row(fund_cluster) if fund_cluster else ("Fund Cluster", "All")]
    return Statement(form=form, title=title, period=f"Fiscal Year {fiscal_year}", header=header, columns=COLUMNS,
                     lines=lines, signatories=signatories(entity, BED_SIGNATURES), interim=False, plan=True,
                     scope=f"{form} - {entity.scope}", sheet=f"{form} FY {fiscal_year}", key_columns=2)


def bed1_report(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                fund_cluster: str | None = None) -> list[Statement]:
    """BED No. 1, the Financial Plan of a reporting entity (``moa``, or all
    the caller sees) for ``fiscal_year``: the obligations planned per month,
    PAP and allotment class (``ExecutionPlanLine.obligations_planned``).
    ``quarter`` is ignored (a plan is for the year); ``fund_cluster`` keeps
    the PPAs with an enacted program budget in it."""
    return [_statement(user, fiscal_year, moa, "obligations_planned", fund_cluster)]


def bed3_report(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                fund_cluster: str | None = None) -> list[Statement]:
    """BED No. 3, the Monthly Disbursement Program, as ``bed1_report`` but
    of the disbursements planned (``ExecutionPlanLine.disbursements_planned``)."""
    return [_statement(user, fiscal_year, moa, "disbursements_planned", fund_cluster)]
