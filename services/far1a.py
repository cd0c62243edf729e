"""FAR No. 1-A, the Summary of Appropriations, Allotments, Obligations,
Disbursements and Balances by Object of Expenditures, as COA and DBM
prescribe it (COA-DBM JC 2019-1; GAM Vol. II; docs/design.md §8 "FAR No. 1-A
as built"; issue 13 item 2).

FAR No. 1's 24 columns (``services.far1.COLUMNS``), the same reporting
entity, quarter ending and fund clusters, and the same figures read the same
way (``services.far1._lines``): only the rows differ. Instead of by PAP,
the rows are by allotment class and, within a class, by UACS object code
(the Revised Chart of Accounts code with its sub-object code,
``50202010-01``), summed over every PAP of the statement.

Where the object code comes from: an ORS in ppaflow is charged to an
allotment (a SARO, by class) and carries no object code of its own; the
printed ORS gives the object codes of its program budget's line items of
the allotment's class (``services.printing``). An ORS is shown under an
object code when that is exactly one code; otherwise (no line item, or
several codes) on its class's line. Its NORSA, cancellation, DVs and unpaid
balance (columns 11–20, 23–24) follow it. Appropriations and allotments
(columns 3–10) and the unreleased appropriations (21) are by class only
(program budgets and SAROs hold amounts per allotment class): they are on
the class's line. The unobligated allotments (22 = 10 − 15) need both, so
they are on the class's total line. The statement's notes say so.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from db import db
from db.models import Allotment, BudgetLineItem, Obligation, User
from services.far1 import (
    CLASSES,
    COLUMNS,
    SECTIONS,
    Far1Line,
    _lines,
    appropriations_row,
    fund_cluster_row,
)
from services.statements import (
    Statement,
    StatementLine,
    reporting_entity,
    signatories,
    statement_period,
)

FORM = "FAR No. 1-A"
TITLE = ("SUMMARY OF APPROPRIATIONS, ALLOTMENTS, OBLIGATIONS, DISBURSEMENTS AND BALANCES BY OBJECT OF "
         "EXPENDITURES")
#: The UACS code of each allotment class's line: its account group in the
#: Revised Chart of Accounts (5-01 Personnel Services, 5-02 MOOE, 5-03
#: Financial Expenses, 5-06 Capital Outlays), as the FAR No. 1-A specimen heads them.
CLASS_OBJECT_CODES = {"ps": "50100000-00", "mooe": "50200000-00", "finex": "50300000-00", "co": "50600000-00"}
#: What the statement says under its table about figures that have no object code.
NOTES = (
    ("Columns 11 to 20, 23 and 24 are shown by the UACS object code of each ORS: the one object code its program "
     "budget's line items give the allotment class it is charged to (the code the printed ORS carries). An ORS "
     "whose program budget gives its class no object code, or more than one, is shown on the allotment class's "
     "line."),
    ("Appropriations and allotments (columns 3 to 10) and unreleased appropriations (column 21) are by allotment "
     "class only, as enacted and released: they are shown on the allotment class's line. Unobligated allotments "
     "(column 22) are shown on the class's total line."),
)
#: Indexes (0-based) of the columns an object code's line leaves empty: 3–10, 21, 22.
_NOT_BY_OBJECT = frozenset((*range(2, 10), 20, 21))
#: The column a class's own line leaves empty: 22 (its class total has it).
_NOT_ON_CLASS_LINE = frozenset((21,))


def far1a_report(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                 fund_cluster: str | None = None) -> list[Statement]:
    """The FAR No. 1-A statements of a reporting entity for the quarter
    ending ``quarter`` of ``fiscal_year``: one per fund cluster with figures
    (or only ``fund_cluster``), at least one; the builder
    ``services.reports.REPORTS["far1a"]`` names.

    Each holds section A (current-year appropriations) and B (continuing),
    as FAR No. 1 does; in each, per allotment class with figures: the
    class's line (UACS ``CLASS_OBJECT_CODES``: appropriations, allotments,
    unreleased appropriations, and the ORS of no single object code), a line
    per UACS object code (obligations, disbursements, unpaid obligations),
    the class's total (all 24 columns); then the section's total and the
    grand total. Money is PHP ``Decimal``, every total summed here.

    Args:
        moa: one MOA's statement (its code); ``None``: every organization the
            caller sees, consolidated (``services.reports.report_scope``
            decides it for a caller).
        quarter: 1–4; default ``services.statements.default_quarter``.
        fund_cluster: a code of rules/default/fund_clusters.yaml (``"01"``).
    """
    entity = reporting_entity(user, fiscal_year, moa)
    period = statement_period(entity, fiscal_year, quarter)
    object_code, names = _object_codes(entity.organization_ids)
    lines = _lines(entity.organization_ids, fiscal_year, period.end, object_code=object_code)
    clusters = sorted({k[0] for k in lines}) if fund_cluster is None else [fund_cluster]
    out = []
    for cluster in clusters or ["01"]:
        rows: list[StatementLine] = []
        total = Far1Line("GRAND TOTAL", "", kind="total")
        continuing = False
        for index, title in enumerate(SECTIONS):
            section = _section(title, {k: v for k, v in lines.items() if k[0] == cluster and k[1] == index}, names)
            if section is not None:
                section_rows, section_total = section
                rows.extend(section_rows)
                total.add(section_total)
                continuing = continuing or index == 1
        rows.append(StatementLine(total.values(), "total"))
        out.append(Statement(
            form=FORM, title=TITLE, period=period.ending,
            header=[*entity.header, fund_cluster_row(cluster), appropriations_row(continuing)],
            columns=COLUMNS, lines=rows, signatories=signatories(entity), interim=period.interim,
            scope=f"{FORM} - {entity.scope} - Fund Cluster {cluster}",
            sheet=f"FC {cluster} Q{period.quarter} {period.fiscal_year}", key_columns=2, notes=NOTES))
    return out


def _object_codes(org_ids: list[int]):
    """``(object_code, names)``: ``object_code(obligation)`` is the UACS
    object code an ORS is shown under (the one code of its program budget's
    line items of its allotment's class; ``""`` when none or several), and
    ``names`` each code's particulars (the description of its first line
    item). One statement: the line items of every program budget the
    organizations' allotments draw on (a sub-allotment received included)."""
    codes: dict[tuple[int, str], dict[str, None]] = defaultdict(dict)
    names: dict[str, str] = {}
    if org_ids:
        budgets = select(Allotment.program_budget_id).where(Allotment.organization_id.in_(org_ids))
        for budget_id, klass, code, description in db.session.execute(
                select(BudgetLineItem.program_budget_id, BudgetLineItem.allotment_class, BudgetLineItem.uacs_code,
                       BudgetLineItem.description)
                .where(BudgetLineItem.program_budget_id.in_(budgets)).order_by(BudgetLineItem.id)):
            codes[(budget_id, klass)][code] = None
            names.setdefault(code, description)

    def object_code(obligation: Obligation) -> str:
        allotment = obligation.allotment
        found = codes.get((allotment.program_budget_id, allotment.allotment_class), {})
        return next(iter(found)) if len(found) == 1 else ""

    return object_code, names


def _masked(line: Far1Line, empty: frozenset[int]) -> list:
    """``line``'s 24 values with the columns ``empty`` left blank (``None``)."""
    return [None if i in empty else v for i, v in enumerate(line.values())]


def _section(title: str, details: dict[tuple, Far1Line],
             names: dict[str, str]) -> tuple[list[StatementLine], Far1Line] | None:
    """One section's rows (its title, then per class: the class line, the
    object codes' lines, the class's total; then the section's total) and
    its total; ``None`` when it has no figures. ``details`` are keyed as
    ``services.far1._lines`` keys them with an object code (class 7th, code 8th)."""
    by_code: dict[tuple[str, str], Far1Line] = {}
    for key, line in details.items():
        klass, code = key[6], key[7]
        target = by_code.setdefault((klass, code), Far1Line(names.get(code, code), code, allotment_class=klass))
        target.add(line)
    by_code = {k: v for k, v in by_code.items() if not v.empty}
    if not by_code:
        return None
    rows = [StatementLine([title, "", *([None] * 22)], "heading")]
    section_total = Far1Line("Total, this section", "", kind="subtotal")
    for klass, label, _code in CLASSES:
        codes = sorted(code for k, code in by_code if k == klass and code)
        own = by_code.get((klass, ""))
        if not codes and own is None:
            continue
        class_line = own or Far1Line(label, "", allotment_class=klass)
        class_line.particulars, class_line.uacs = label, CLASS_OBJECT_CODES[klass]
        rows.append(StatementLine(_masked(class_line, _NOT_ON_CLASS_LINE), "detail") if own is not None else
                    StatementLine([label, CLASS_OBJECT_CODES[klass], *([None] * 22)], "heading"))
        class_total = Far1Line(f"Total, {label}", CLASS_OBJECT_CODES[klass], kind="subtotal")
        class_total.add(class_line)
        for code in codes:
            line = by_code[(klass, code)]
            rows.append(StatementLine(_masked(line, _NOT_BY_OBJECT), "detail"))
            class_total.add(line)
        rows.append(StatementLine(class_total.values(), "subtotal"))
        section_total.add(class_total)
    rows.append(StatementLine(section_total.values(), "subtotal"))
    return rows, section_total

