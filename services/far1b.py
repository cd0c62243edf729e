"""FAR No. 1-B, the List of Allotments and Sub-Allotments (LASA) as COA and
DBM prescribe it (GAM Vol. II Appendix 19; docs/design.md §8 "FAR No. 1-B
as built"; issue 13 item 2): the obligational authorities behind FAR No. 1's
allotment columns, one document a line.

One statement per reporting entity (one MOA, or the consolidated BARMM list
for MFBM) and fund cluster, for the fiscal year up to a quarter's end, in
three parts that each tally with a column of FAR No. 1 (section A, current
year appropriations):

- A. the allotments released to the MOA (SARO/GARO): FAR No. 1 column 6;
- B. the sub-allotments it received from another MOA or operating unit:
  FAR No. 1 column 9 (*transfer from*);
- C. the sub-allotments it issued to another MOA or operating unit:
  FAR No. 1 column 8 (*transfer to*).

Each line is a document as issued (its number and date, its PAP and UACS
code, the other party, its source and fund cluster, its amount under its
allotment class); later adjustments and cancellations are FAR No. 1's column
7, not this list's. Money is PHP ``Decimal``, exact; every total is summed
here. Reads are set-based: a fixed number of SQL statements whatever the
number of documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from db import db
from db.models import Allotment, Organization, Ppa, ProgramBudget, SubAllotment, User
from services.far1 import CLASSES, fund_cluster_row
from services.statements import (
    DATE,
    INTEGER,
    MFBM_NAME,
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

FORM = "FAR No. 1-B"
TITLE = "LIST OF ALLOTMENTS AND SUB-ALLOTMENTS"
#: The parts of the list: (key, heading, subtotal's label).
PARTS = (("allotment", "A. Allotments Received (SARO/GARO)", "Subtotal, Allotments Received"),
         ("received", "B. Sub-Allotments Received (Transfer From)", "Subtotal, Sub-Allotments Received"),
         ("issued", "C. Sub-Allotments Issued to Other Operating Units (Transfer To)",
          "Subtotal, Sub-Allotments Issued"))
_RECEIVED = "Allotments/Sub-Allotments Received"
_ISSUED = "Sub-Allotments Transferred to Other Operating Units"
_TOTAL = "Total"
#: COA's numbers per class in each group (PS, MOOE, CO, total); FinEx, which
#: the specimen predates, is numbered after MOOE with a letter so that every
#: COA number keeps its meaning (9 = 6+7+8, 13 = 10+11+12, 17 = 9−13).
_NUMBERS = {_RECEIVED: ("6", "7", "7a", "8", "9"), _ISSUED: ("10", "11", "11a", "12", "13"),
            _TOTAL: ("14", "15", "15a", "16", "17")}
_SHORT = {"ps": "PS", "mooe": "MOOE", "finex": "FinEx", "co": "CO"}


def _group_columns(group: str) -> list[StatementColumn]:
    numbers = _NUMBERS[group]
    received, issued = _NUMBERS[_RECEIVED], _NUMBERS[_ISSUED]
    out = []
    for index, (key, _label, _code) in enumerate(CLASSES):
        formula = f"{numbers[index]}=({received[index]}-{issued[index]})" if group == _TOTAL else ""
        out.append(StatementColumn(_SHORT[key], MONEY, group, numbers[index], formula))
    total = (f"{numbers[4]}=({received[4]}-{issued[4]})" if group == _TOTAL
             else f"{numbers[4]}=({'+'.join(numbers[:4])})")
    out.append(StatementColumn("Total", MONEY, group, numbers[4], total))
    return out


#: The columns: COA's 1–17 (with FinEx), and three unnumbered ones the list
#: needs to say which PAP and which other party each document is of.
COLUMNS = (
    StatementColumn("No.", INTEGER, "", "1", "", 6),
    StatementColumn("Allotment/Sub-Allotment No.", TEXT, "", "2", "", 24),
    StatementColumn("Date of Issuance", DATE, "", "3", "", 12),
    StatementColumn("Program/Activity/Project (PAP)", TEXT, "", "", "", 40),
    StatementColumn("UACS Code", TEXT, "", "", "", 16),
    StatementColumn("Received From / Transferred To", TEXT, "", "", "", 30),
    StatementColumn("Source (Agency Specific Budget, Special Purpose Funds, Automatic Appropriations)", TEXT, "",
                    "4", "", 22),
    StatementColumn("Funding Source Code (as clustered)", TEXT, "", "5", "", 12),
    *_group_columns(_RECEIVED), *_group_columns(_ISSUED), *_group_columns(_TOTAL),
)
#: Where the figures start (the first money column's index).
FIRST_FIGURE = 8
#: The signature block of FAR No. 1-B: the budget officer certifies the list
#: (allotments are the budget unit's), the head of agency approves.
FAR1B_SIGNATURES = (
    ("Certified Correct:", "budget_officer", "Allotments and sub-allotments received and issued"),
    ("Approved By:", "head_of_agency", ""),
)


@dataclass
class Far1bEntry:
    """One document of the list: ``part`` (``allotment``, ``received``,
    ``issued``), its number and date, the PAP (title, UACS code), the other
    party, its source and fund cluster, its allotment class and amount (PHP,
    positive)."""

    part: str
    number: str
    issued_on: date
    pap: str
    uacs: str
    counterpart: str
    source: str
    fund_cluster: str
    allotment_class: str
    amount: Decimal
    row_id: int


@dataclass
class Far1bFigures:
    """Money of a line or a total by class: received (cols 6–9) and issued
    (cols 10–13), PHP; the rest is derived."""

    received: dict[str, Decimal]
    issued: dict[str, Decimal]

    @classmethod
    def empty(cls) -> Far1bFigures:
        """All zero."""
        return cls({k: ZERO for k, _l, _c in CLASSES}, {k: ZERO for k, _l, _c in CLASSES})

    def add(self, entry: Far1bEntry) -> None:
        """Count ``entry`` in its group and class."""
        (self.issued if entry.part == "issued" else self.received)[entry.allotment_class] += entry.amount

    def values(self) -> list[Decimal]:
        """Columns 6 to 17 (with FinEx), in order."""
        keys = [k for k, _l, _c in CLASSES]
        received = [self.received[k] for k in keys]
        issued = [self.issued[k] for k in keys]
        net = [r - i for r, i in zip(received, issued, strict=True)]
        return [*received, sum(received, ZERO), *issued, sum(issued, ZERO), *net, sum(net, ZERO)]


def far1b_report(user: User, fiscal_year: int, moa: str | None = None, *, quarter: int | None = None,
                 fund_cluster: str | None = None) -> list[Statement]:
    """FAR No. 1-B for the quarter ending ``quarter`` of ``fiscal_year``:
    one statement per fund cluster with documents (or only
    ``fund_cluster``), at least one; the builder ``services.reports.REPORTS
    ["far1b"]`` names.

    Args:
        moa: one MOA's list (its code); ``None``: every organization the
            caller sees, consolidated (a sub-allotment between two of them
            is then in both B and C, as in the consolidated FAR No. 1).
            ``services.reports.report_scope`` decides it for a caller.
        quarter: 1–4; default ``services.statements.default_quarter``.
        fund_cluster: a code of rules/default/fund_clusters.yaml (``"01"``).

    Returns:
        ``services.statements.Statement`` objects: lines are the parts'
        headings, one line per document (numbered 1…n), each part's subtotal
        and the grand total; money columns PHP ``Decimal``.
    """
    entity = reporting_entity(user, fiscal_year, moa)
    period = statement_period(entity, fiscal_year, quarter)
    consolidated = moa is None
    entries = far1b_entries(entity.organization_ids, fiscal_year, period.end, consolidated=consolidated)
    clusters = sorted({e.fund_cluster for e in entries}) if fund_cluster is None else [fund_cluster]
    out = []
    for cluster in clusters or ["01"]:
        mine = [e for e in entries if e.fund_cluster == cluster]
        supplemental = any(e.source.startswith("Supplemental") for e in mine)
        header = [*entity.header, fund_cluster_row(cluster),
                  ("Appropriations", ("[x] Current Year Appropriations   "
                                      f"[{'x' if supplemental else ' '}] Supplemental Appropriations"))]
        out.append(Statement(
            form=FORM, title=TITLE, period=period.ending, header=header, columns=COLUMNS, lines=_lines(mine),
            signatories=signatories(entity, FAR1B_SIGNATURES), interim=period.interim,
            scope=f"{FORM} - {entity.scope} - Fund Cluster {cluster}",
            sheet=f"FC {cluster} Q{period.quarter} {fiscal_year}", key_columns=2))
    return out


def _lines(entries: list[Far1bEntry]) -> list[StatementLine]:
    """The parts' headings, documents and subtotals, then the grand total."""
    width = len(COLUMNS)
    lines: list[StatementLine] = []
    grand = Far1bFigures.empty()
    number = 0
    for part, heading, subtotal_label in PARTS:
        members = [e for e in entries if e.part == part]
        if not members:
            continue
        lines.append(StatementLine([heading, *([None] * (width - 1))], "heading"))
        subtotal = Far1bFigures.empty()
        for entry in members:
            number += 1
            figures = Far1bFigures.empty()
            figures.add(entry)
            subtotal.add(entry)
            grand.add(entry)
            lines.append(StatementLine([number, entry.number, entry.issued_on, entry.pap, entry.uacs,
                                        entry.counterpart, entry.source, entry.fund_cluster,
                                        *_sparse(figures.values(), entry.allotment_class)]))
        lines.append(StatementLine([subtotal_label, *([None] * (FIRST_FIGURE - 1)), *subtotal.values()],
                                   "subtotal"))
    lines.append(StatementLine(["GRAND TOTAL", *([None] * (FIRST_FIGURE - 1)), *grand.values()], "total"))
    return lines


def _sparse(values: list[Decimal], allotment_class: str) -> list[Decimal | None]:
    """A document's figures with only its own class's and the totals' cells
    filled (the others empty, not zero)."""
    keep = {i for i, (k, _l, _c) in enumerate(CLASSES) if k == allotment_class} | {4}
    return [v if i % 5 in keep else None for i, v in enumerate(values)]


def far1b_entries(org_ids: list[int], fiscal_year: int, end: date, *, consolidated: bool = False) -> list[Far1bEntry]:
    """The documents of ``org_ids`` for the list ending ``end``: allotments
    released to them (not received by sub-allotment), sub-allotments they
    received and sub-allotments they issued, of the PPAs of ``fiscal_year``
    (current year appropriations, as FAR No. 1 section A), dated on or
    before ``end``; each part by date, number. Three SQL statements.

    ``consolidated``: the PAP names its MOA (``"Title (MSSD)"``)."""
    if not org_ids:
        return []
    codes = dict(db.session.execute(select(Organization.id, Organization.code).where(Organization.id.in_(org_ids))).all())
    out: list[Far1bEntry] = []
    received_ids = select(SubAllotment.recipient_allotment_id)
    allotments = db.session.scalars(
        select(Allotment).join(ProgramBudget, Allotment.program_budget_id == ProgramBudget.id)
        .join(Ppa, ProgramBudget.ppa_id == Ppa.id)
        .where(Allotment.organization_id.in_(org_ids), Ppa.fiscal_year == fiscal_year,
               Allotment.release_date <= end, Allotment.id.not_in(received_ids))
        .order_by(Allotment.release_date, Allotment.saro_number, Allotment.id))
    for a in allotments:
        out.append(_entry("allotment", a.saro_number, a.release_date, a.program_budget, a.allotment_class,
                          a.amount, a.id, f"From: {MFBM_NAME}", codes[a.organization_id], consolidated))
    subs = list(db.session.scalars(
        select(SubAllotment).join(Allotment, SubAllotment.allotment_id == Allotment.id)
        .join(ProgramBudget, Allotment.program_budget_id == ProgramBudget.id)
        .join(Ppa, ProgramBudget.ppa_id == Ppa.id)
        .where((SubAllotment.organization_id.in_(org_ids)) | (SubAllotment.recipient_organization_id.in_(org_ids)),
               Ppa.fiscal_year == fiscal_year, SubAllotment.sub_allotment_date <= end)
        .order_by(SubAllotment.sub_allotment_date, SubAllotment.id)).unique())
    for part, holder, other in (("received", "recipient_organization", "organization"),
                                ("issued", "organization", "recipient_organization")):
        for s in subs:
            mine, theirs = getattr(s, holder), getattr(s, other)
            if mine.id not in org_ids:
                continue
            giver = s.allotment
            label = f"{'From' if part == 'received' else 'To'}: {theirs.code} - {theirs.name}"
            out.append(_entry(part, s.recipient_allotment.saro_number, s.sub_allotment_date, giver.program_budget,
                              giver.allotment_class, s.amount, s.id, label, mine.code, consolidated))
    return out


def _entry(part: str, number: str, issued_on: date, budget: ProgramBudget, allotment_class: str, amount: Decimal,
           row_id: int, counterpart: str, holder: str, consolidated: bool) -> Far1bEntry:
    title = budget.ppa.title if not consolidated else f"{budget.ppa.title} ({holder})"
    source = "Supplemental Appropriations" if budget.supplemental else "Agency Specific Budget"
    return Far1bEntry(part, number, issued_on, title, budget.pap_code, counterpart, source, budget.fund_cluster,
                      allotment_class, amount, row_id)
