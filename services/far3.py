"""FAR No. 3, the Aging of Due and Demandable Obligations, a companion of
FAR No. 1 (COA-DBM Joint Circular 2019-1; docs/design.md §8 "FAR No. 3 as
built"; issue 13 item 2).

One statement per reporting entity (one MOA, or every MOA the caller sees,
consolidated) and fund cluster, as at a quarter's end: each obligation (ORS)
with deliveries accepted and not yet paid, its number, date, creditor/payee
and particulars, its amount due and demandable spread over the aging
columns, grouped by allotment class with a subtotal per class and a grand
total.

The figures are FAR No. 1's: ``services.far1.read_chain`` reads the money
chain once and hands back, with FAR No. 1's lines, each unpaid obligation
it counted in column 23 (due and demandable = deliveries accepted less
disbursed, at most the unpaid balance; ``services.budget.payables``). So
the grand total of a fund cluster's FAR No. 3 is its FAR No. 1 column 23,
for the same entity and quarter ending, to the centavo.

Aging: what is due became due when the delivery was accepted (inspected
and accepted, ``Delivery.accepted_on``); payments settle the oldest
accepted deliveries first, and each delivery's unpaid remainder is aged in
days from its acceptance to the quarter's last day. An obligation whose
deliveries were accepted on different days can so spread over several
columns. Money is PHP ``Decimal``, exact; every total is summed here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from db.models import User
from services.far1 import CLASSES, UnpaidObligation, fund_cluster_row, read_chain
from services.statements import (
    DATE,
    MONEY,
    TEXT,
    Statement,
    StatementColumn,
    StatementLine,
    reporting_entity,
    signatories,
    statement_period,
)
from workflow.money import ZERO

FORM = "FAR No. 3"
TITLE = "AGING OF DUE AND DEMANDABLE OBLIGATIONS"
#: The aging columns: (heading, the most days a remainder may be old to fall in it; None: no limit).
BUCKETS = (("1-30 Days", 30), ("31-60 Days", 60), ("61-90 Days", 90), ("91-365 Days", 365),
           ("Over One Year", None))
_OBLIGATION, _DUE = "Obligation Request and Status (ORS)", "Due and Demandable Obligations (Age in Days)"
#: The columns: the ORS (1–4), the amount due in each aging column (5–9), the total (10).
COLUMNS = (
    StatementColumn("ORS No.", TEXT, _OBLIGATION, "1", width=22),
    StatementColumn("Date", DATE, _OBLIGATION, "2", width=12),
    StatementColumn("Name of Creditor/Payee", TEXT, _OBLIGATION, "3", width=30),
    StatementColumn("Particulars", TEXT, _OBLIGATION, "4", width=40),
    *(StatementColumn(heading, MONEY, _DUE, str(number)) for number, (heading, _days) in enumerate(BUCKETS, start=5)),
    StatementColumn("Total Amount Due and Demandable", MONEY, "", "10", "10=(5+6+7+8+9)"),
)
#: The signature block (JC 2019-1): the budget officer certifies the ORS
#: data, the chief accountant the aging of what is due, the head approves.
FAR3_SIGNATURES = (
    ("Certified Correct:", "budget_officer", "ORS numbers and amounts"),
    ("Certified Correct:", "chief_accountant", "Aging of due and demandable obligations"),
    ("Approved By:", "head_of_agency", ""),
)
NOTES = (("Due and demandable: deliveries accepted, not yet paid (FAR No. 1 column 23). Aged from the day each "
          "delivery was accepted to the quarter's end; payments settle the oldest deliveries first."),)


def aging(unpaid: UnpaidObligation, end: date) -> list[Decimal]:
    """The amount due and demandable of one obligation spread over
    ``BUCKETS`` (PHP, in their order; they sum to ``unpaid.due``).

    Payments (``unpaid.disbursed``) settle the oldest accepted deliveries
    first; what is left of each is aged ``end − accepted on`` days. Where
    the unpaid balance caps what is due (an obligation reduced by NORSA
    below what was accepted), the newest remainders are cut first.
    """
    paid = unpaid.disbursed
    remainders: list[list] = []
    for day, amount in unpaid.deliveries:
        settled = min(amount, paid)
        paid -= settled
        if amount > settled:
            remainders.append([day, amount - settled])
    excess = sum((r[1] for r in remainders), ZERO) - unpaid.due
    for remainder in reversed(remainders):
        cut = min(excess, remainder[1])
        remainder[1] -= cut
        excess -= cut
    out = [ZERO] * len(BUCKETS)
    for day, amount in remainders:
        age = (end - day).days
        index = next(i for i, (_h, most) in enumerate(BUCKETS) if most is None or age <= most)
        out[index] += amount
    return out


def far3_report(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                fund_cluster: str | None = None) -> list[Statement]:
    """FAR No. 3 of a reporting entity as at the end of quarter ``quarter``
    of ``fiscal_year``: one statement per fund cluster FAR No. 1 has (or
    only ``fund_cluster``), at least one; the builder
    ``services.reports.REPORTS["far3"]`` names.

    Args:
        moa: one MOA (its code); ``None``: every organization ``user`` sees,
            consolidated, signed by MFBM (``services.reports.report_scope``).
        quarter: 1–4; default ``services.statements.default_quarter``.
        fund_cluster: a code of rules/default/fund_clusters.yaml (``"01"``).

    Returns:
        ``services.statements.Statement`` list: lines are class headings,
        one line per ORS with something due (ORS number, date, payee,
        particulars, PHP per aging column, total), class subtotals and the
        grand total; each total equals FAR No. 1 column 23 of its scope.
    """
    entity = reporting_entity(user, fiscal_year, moa)
    period = statement_period(entity, fiscal_year, quarter)
    lines, detail = read_chain(entity.organization_ids, fiscal_year, period.end)
    by_cluster: dict[str, list[UnpaidObligation]] = defaultdict(list)
    for unpaid in detail.unpaid:
        if unpaid.due:
            by_cluster[unpaid.key[0]].append(unpaid)
    clusters = sorted({k[0] for k in lines}) if fund_cluster is None else [fund_cluster]
    out = []
    for cluster in clusters or ["01"]:
        out.append(Statement(
            form=FORM, title=TITLE, period=f"As at {period.end:%B} {period.end.day}, {period.end.year}",
            header=[*entity.header, fund_cluster_row(cluster)], columns=COLUMNS,
            lines=_statement_lines(by_cluster.get(cluster, []), period.end),
            signatories=signatories(entity, FAR3_SIGNATURES), interim=period.interim,
            scope=f"{FORM} - {entity.scope} - Fund Cluster {cluster}",
            sheet=f"FC {cluster} Q{period.quarter} {fiscal_year}", key_columns=1, notes=NOTES))
    return out


def _statement_lines(unpaid: list[UnpaidObligation], end: date) -> list[StatementLine]:
    """Per allotment class (FAR No. 1's order): its heading, its ORS lines
    (by date, then number), its subtotal; then the grand total."""
    out: list[StatementLine] = []
    grand = [ZERO] * (len(BUCKETS) + 1)
    for klass, label, code in CLASSES:
        mine = sorted((u for u in unpaid if u.key[6] == klass),
                      key=lambda u: (u.obligation.obligation_date, u.obligation.ors_number))
        if not mine:
            continue
        out.append(StatementLine([f"{label} ({code})", *([None] * (len(COLUMNS) - 1))], "heading"))
        subtotal = [ZERO] * (len(BUCKETS) + 1)
        for u in mine:
            figures = aging(u, end)
            figures.append(sum(figures, ZERO))
            ors = u.obligation
            number = f"{u.key[2]} {ors.ors_number}" if u.key[2] else ors.ors_number
            out.append(StatementLine([number, ors.obligation_date, ors.payee, ors.particulars or "", *figures]))
            subtotal = [a + b for a, b in zip(subtotal, figures)]
        out.append(StatementLine([f"Subtotal, {label}", None, None, None, *subtotal], "subtotal"))
        grand = [a + b for a, b in zip(grand, subtotal)]
    out.append(StatementLine(["GRAND TOTAL", None, None, None, *grand], "total"))
    return out
