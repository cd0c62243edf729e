"""FAR No. 4, the Summary Report of Disbursements, a companion of FAR No. 1
(COA-DBM Joint Circular 2019-1; GAM Appendix 23 for its rows; docs/design.md
§8 "FAR No. 4 as built"; issue 13 item 2).

One statement per reporting entity (one MOA, or every MOA the caller sees,
consolidated) and fund cluster, for the year up to a quarter's end: the
disbursements of each month, January to the quarter's last month, with a
total per quarter and for the year, in rows by section (current-year and
continuing appropriations, as FAR No. 1), by allotment class and, within
a class, by disbursement authority and mode of payment as the DV records it
(NCA through MDS checks or ADA, commercial checks, others); then the totals
by mode of payment and the grand total. Months after the quarter's end are
empty.

The figures are FAR No. 1's: ``services.far1.read_chain`` reads the money
chain once and hands back, with FAR No. 1's lines, every posting it counted
in columns 16–19 (a DV's amount on its date, its void's reversal on the
void's date). So each quarter's total here is FAR No. 1's column of that
quarter, for the same entity, quarter ending and fund cluster, to the
centavo. Money is PHP ``Decimal``, exact; every total is summed here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from db.models import User
from db.models.budget import PAYMENT_METHODS
from services.far1 import (
    CLASSES,
    SECTIONS,
    DisbursementPosting,
    fund_cluster_row,
    read_chain,
)
from services.statements import (
    MONEY,
    QUARTERS,
    TEXT,
    Statement,
    StatementColumn,
    StatementLine,
    reporting_entity,
    signatories,
    statement_period,
)
from workflow.money import ZERO

FORM = "FAR No. 4"
TITLE = "SUMMARY REPORT OF DISBURSEMENTS"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_QUARTER_GROUPS = ("1st Quarter", "2nd Quarter", "3rd Quarter", "4th Quarter")
#: Each mode of payment (``Disbursement.payment_method``) as the form's rows name the disbursement authority.
MODES = {"mds_check": "NCA - MDS Checks Issued", "ada": "NCA - Advice to Debit Account (ADA)",
         "commercial_check": "Commercial Checks Issued", "other": "Others"}


def _columns() -> tuple[StatementColumn, ...]:
    """Particulars (1); per quarter its three months and their total
    (2–5, 6–9, 10–13, 14–17); the year's total (18)."""
    out = [StatementColumn("Particulars", TEXT, "", "1", width=44)]
    totals = []
    for q, group in zip(QUARTERS, _QUARTER_GROUPS):
        first = 2 + (q - 1) * 4
        out.extend(StatementColumn(MONTHS[(q - 1) * 3 + i], MONEY, group, str(first + i)) for i in range(3))
        out.append(StatementColumn("Total", MONEY, group, str(first + 3),
                                   f"{first + 3}=({first}+{first + 1}+{first + 2})"))
        totals.append(str(first + 3))
    out.append(StatementColumn("Total", MONEY, "", "18", f"18=({'+'.join(totals)})"))
    return tuple(out)


COLUMNS = _columns()
#: The signature block (GAM Appendix 23): the chief accountant certifies, the head of agency approves.
FAR4_SIGNATURES = (
    ("Certified Correct:", "chief_accountant", "Disbursements"),
    ("Approved By:", "head_of_agency", ""),
)


def monthly(postings: list[DisbursementPosting]) -> list[Decimal]:
    """PHP disbursed in each month (January first) by ``postings`` (a void
    counts, negative, in its own month)."""
    out = [ZERO] * 12
    for posting in postings:
        out[posting.day.month - 1] += posting.amount
    return out


def _values(label: str, months: list[Decimal], end: date) -> list:
    """A line's cells: the months up to ``end``'s (later ones empty), each
    quarter's total (empty for a quarter after ``end``'s), the year's total."""
    last = end.month
    cells: list = [label]
    year = ZERO
    for q in QUARTERS:
        mine = [months[(q - 1) * 3 + i] if (q - 1) * 3 + i < last else None for i in range(3)]
        total = sum((m for m in mine if m is not None), ZERO) if mine[0] is not None else None
        cells.extend([*mine, total])
        year += total or ZERO
    return [*cells, year]


def far4_report(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                fund_cluster: str | None = None) -> list[Statement]:
    """FAR No. 4 of a reporting entity for ``fiscal_year`` up to the end of
    quarter ``quarter``: one statement per fund cluster FAR No. 1 has (or
    only ``fund_cluster``), at least one; the builder
    ``services.reports.REPORTS["far4"]`` names.

    Args:
        moa: one MOA (its code); ``None``: every organization ``user`` sees,
            consolidated, signed by MFBM (``services.reports.report_scope``).
        quarter: 1–4; default ``services.statements.default_quarter``.
        fund_cluster: a code of rules/default/fund_clusters.yaml (``"01"``).

    Returns:
        ``services.statements.Statement`` list, lines as the module says;
        each quarter's total equals FAR No. 1's column 16–19 of its scope.
    """
    entity = reporting_entity(user, fiscal_year, moa)
    period = statement_period(entity, fiscal_year, quarter)
    lines, detail = read_chain(entity.organization_ids, fiscal_year, period.end)
    postings: dict[tuple, list[DisbursementPosting]] = defaultdict(list)
    for posting in detail.disbursements:  # (cluster, section, class, mode)
        key = posting.key
        postings[(key[0], key[1], key[6], posting.disbursement.payment_method)].append(posting)
    clusters = sorted({k[0] for k in lines}) if fund_cluster is None else [fund_cluster]
    out = []
    for cluster in clusters or ["01"]:
        mine = {k[1:]: monthly(v) for k, v in postings.items() if k[0] == cluster}
        out.append(Statement(
            form=FORM, title=TITLE, period=period.ending, header=[*entity.header, fund_cluster_row(cluster)],
            columns=COLUMNS, lines=_statement_lines(mine, period.end),
            signatories=signatories(entity, FAR4_SIGNATURES), interim=period.interim,
            scope=f"{FORM} - {entity.scope} - Fund Cluster {cluster}",
            sheet=f"FC {cluster} Q{period.quarter} {fiscal_year}", key_columns=1))
    return out


def _add(total: list[Decimal], months: list[Decimal]) -> list[Decimal]:
    return [a + b for a, b in zip(total, months)]


def _statement_lines(months: dict[tuple, list[Decimal]], end: date) -> list[StatementLine]:
    """Per section with disbursements: its title, per allotment class its
    heading, a line per mode of payment, its subtotal; the section's total.
    Then the totals by mode of payment and the grand total. Lines whose
    months are all zero are left out."""
    out: list[StatementLine] = []
    blank = [None] * (len(COLUMNS) - 1)
    by_mode: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * 12)
    grand = [ZERO] * 12
    for section, title in enumerate(SECTIONS):
        section_lines: list[StatementLine] = []
        section_total = [ZERO] * 12
        for klass, label, code in CLASSES:
            modes = [(mode, months[(section, klass, mode)]) for mode in PAYMENT_METHODS
                     if any(months.get((section, klass, mode), ()))]
            if not modes:
                continue
            section_lines.append(StatementLine([f"{label} ({code})", *blank], "heading"))
            subtotal = [ZERO] * 12
            for mode, figures in sorted(modes, key=lambda m: list(MODES).index(m[0])):
                section_lines.append(StatementLine(_values(MODES[mode], figures, end)))
                subtotal = _add(subtotal, figures)
                by_mode[mode] = _add(by_mode[mode], figures)
            section_lines.append(StatementLine(_values(f"Subtotal, {label}", subtotal, end), "subtotal"))
            section_total = _add(section_total, subtotal)
        if section_lines:
            out.append(StatementLine([title, *blank], "heading"))
            out.extend(section_lines)
            out.append(StatementLine(_values("Total, this section", section_total, end), "subtotal"))
            grand = _add(grand, section_total)
    if by_mode:
        out.append(StatementLine(["Total by Mode of Payment", *blank], "heading"))
        out.extend(StatementLine(_values(f"Total, {MODES[mode]}", by_mode[mode], end), "subtotal")
                   for mode in MODES if mode in by_mode)
    out.append(StatementLine(_values("GRAND TOTAL", grand, end), "total"))
    return out
