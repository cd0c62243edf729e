"""The statements COA and DBM prescribe, as one shape for every report form
(docs/design.md §8 "Statements"): FAR No. 1 and its companions, the RAOD,
the BED forms.

A ``Statement`` is what a budget officer certifies and files: the form's
title and number, the period it covers, the header block (department,
agency, operating unit, UACS organization code, fund cluster), numbered
columns under grouped headings with a formula row, the lines (headings,
details, subtotals, a grand total) and the signature block. Each report
module builds its statements from the money chain; ``services.workbooks``
(``statements_workbook``) and ``services.printing`` (``statements_pdf``)
turn any list of them into an .xlsx file or a PDF, so every form is laid
out, protected and printed the same way.

This module holds the shape and what the forms share: whose statement it
is (``reporting_entity``), the quarter it ends (``statement_period``) and
who signs it (``signatories``). Money is PHP ``Decimal``, exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from db import db
from db.models import Allotment, Organization, PeriodClosure, Ppa, User
from db.models.period import CLOSED_STATUSES
from services.access import sees_all_organizations
from services.calendar import today
from services.periods import quarter_end
from workflow.errors import NotFound
from workflow.validity import period_of

QUARTERS = (1, 2, 3, 4)
#: The kinds of a column's values: text, money (PHP), a percent (as a
#: fraction, 0.25 = 25 %), a date, a whole number (a count, days).
TEXT, MONEY, PERCENT, DATE, INTEGER = "text", "money", "percent", "date", "integer"
#: The mark on every page or sheet of a statement of a quarter not closed.
INTERIM = "INTERIM — NOT FOR FILING"
REGION = "Bangsamoro Autonomous Region in Muslim Mindanao"
MFBM_NAME = "Ministry of Finance, and Budget and Management"


@dataclass(frozen=True)
class StatementColumn:
    """One column of a statement: its heading, what it holds (``MONEY``,
    ``TEXT``, ``PERCENT``, ``DATE``, ``INTEGER``), the grouped heading above
    it (adjacent columns with the same group share one heading cell), its
    printed number (``"5"``; empty: not numbered) and its formula-row text
    (``"5=(3+4)"``); ``width``: the widest the workbook column grows, in
    characters (a text column of 40 or more prints as a wide column)."""

    heading: str
    kind: str = MONEY
    group: str = ""
    number: str = ""
    formula: str = ""
    width: int = 17


@dataclass(frozen=True)
class StatementLine:
    """One line of a statement: its values in column order (``None``: an
    empty cell) and its kind: ``heading`` (a section's or a PAP's title, no
    figures), ``detail``, ``subtotal`` or ``total`` (the last two bold)."""

    values: Sequence[Any]
    kind: str = "detail"


@dataclass
class Statement:
    """One statement ready to be written or printed.

    Attributes:
        form: the form's number as COA/DBM write it (``"FAR No. 1"``).
        title: its name (``"STATEMENT OF APPROPRIATIONS, ..."``).
        period: what it covers, in words (``"For the quarter ending March 31, 2025"``).
        header: the header block, ``(label, value)`` pairs in order.
        columns, lines: the table.
        signatories: ``(caption, name, position, what is certified)`` in signing order.
        interim: the period is not closed: every page and sheet says ``INTERIM``;
            a statement of a closed period is a filed copy (its sheet is protected).
        scope: whose figures, for the footer (``"MOA: MSSD - Fund Cluster 01"``).
        sheet: the workbook sheet's name (at most 31 characters).
        key_columns: how many leading columns identify a line (repeated on
            each part when the table prints more than one page wide).
    """

    form: str
    title: str
    period: str
    header: Sequence[tuple[str, str]]
    columns: Sequence[StatementColumn]
    lines: Sequence[StatementLine]
    signatories: Sequence[tuple[str, str, str, str]] = ()
    interim: bool = False
    scope: str = ""
    sheet: str = "Statement"
    key_columns: int = 1
    notes: Sequence[str] = field(default_factory=tuple)
    #: A plan (the BED forms) changes freely: never a filed copy.
    plan: bool = False

    @property
    def title_lines(self) -> list[str]:
        """The lines above the header block: title, form number, period and,
        for an open period, the interim mark."""
        return [self.title, self.form, self.period, *([INTERIM] if self.interim else [])]

    @property
    def filed(self) -> bool:
        """A statement of a closed period: the copy that is filed (a plan never is)."""
        return not self.interim and not self.plan


# -- what the statements share ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportingEntity:
    """Whose statement it is (docs/design.md §8 "Who signs the statements").

    Attributes:
        organizations: the organizations whose figures it holds (one MOA, or
            every one the caller sees for the consolidated statement).
        reporting: the ids whose period closings decide whether it is interim
            (the MOA; for the consolidated statement, each MOA with PPAs in the year).
        header: the header block's organization rows.
        signer: the organization whose officers sign (the MOA, or MFBM).
        scope: ``"MOA: MSSD"`` or ``"All MOAs (consolidated)"``.
    """

    organizations: list[Organization]
    reporting: list[int]
    header: list[tuple[str, str]]
    signer: Organization | None
    scope: str

    @property
    def organization_ids(self) -> list[int]:
        """The ids of ``organizations``."""
        return [o.id for o in self.organizations]


def reporting_entity(user: User, fiscal_year: int, moa: str | None) -> ReportingEntity:
    """The reporting entity of a statement for ``user``: the MOA ``moa``
    (its code), or, for ``None``, every organization ``user`` sees,
    consolidated, headed and signed by MFBM (``services.reports.report_scope``
    decides ``moa`` for a caller).

    Raises:
        NotFound: no organization has the code ``moa``.
    """
    query = select(Organization).order_by(Organization.code)
    if moa:
        query = query.where(Organization.code == moa)
    elif not sees_all_organizations(user):
        query = query.where(Organization.id == user.organization_id)
    organizations = list(db.session.scalars(query))
    if moa and not organizations:
        raise NotFound(f"no organization {moa}")
    ids = [o.id for o in organizations]
    if moa:
        org = organizations[0]
        return ReportingEntity(organizations, ids, [
            ("Department", org.department or REGION), ("Agency", org.agency or org.name),
            ("Operating Unit", org.operating_unit), ("Organization Code (UACS)", org.uacs_code or "")],
            org, f"MOA: {moa}")
    # whose closing counts: every MOA with PPAs in the year or with any allotment (continuing ones and
    # sub-allotments received included), so a filed consolidated statement has no figure that can still move
    reporting = sorted(set(db.session.scalars(select(Ppa.organization_id).where(
        Ppa.organization_id.in_(ids), Ppa.fiscal_year == fiscal_year))) | set(db.session.scalars(
        select(Allotment.organization_id).where(Allotment.organization_id.in_(ids))))) if ids else []
    mfbm = db.session.scalar(select(Organization).where(Organization.code == "MFBM"))
    return ReportingEntity(organizations, reporting, [
        ("Department", REGION), ("Agency", "All ministries, offices and agencies (consolidated)"),
        ("Operating Unit", MFBM_NAME),
        ("Organization Code (UACS)", (mfbm.uacs_code or "") if mfbm is not None else "")],
        mfbm, "All MOAs (consolidated)")


def closed_quarters(organization_ids: list[int], fiscal_year: int) -> dict[int, set[int]]:
    """The quarters of ``fiscal_year`` each organization has closed
    (``{organization id: {1, 2}}``; services.periods)."""
    out: dict[int, set[int]] = defaultdict(set)
    if organization_ids:
        for org_id, quarter in db.session.execute(select(PeriodClosure.organization_id, PeriodClosure.quarter).where(
                PeriodClosure.organization_id.in_(organization_ids), PeriodClosure.fiscal_year == fiscal_year,
                PeriodClosure.status.in_(CLOSED_STATUSES))):
            out[org_id].add(quarter)
    return out


def default_quarter(closed: dict[int, set[int]], organization_ids: list[int], fiscal_year: int) -> int:
    """The last quarter of ``fiscal_year`` closed by every organization of
    the statement; else the current quarter (Q4 for a past year, Q1 for a
    future one)."""
    common = set(QUARTERS)
    for org_id in organization_ids:
        common &= closed.get(org_id, set())
    if organization_ids and common:
        return max(common)
    now = today()
    return 4 if fiscal_year < now.year else 1 if fiscal_year > now.year else period_of(now)[1]


@dataclass(frozen=True)
class StatementPeriod:
    """The quarter a statement ends: its number, last day, and whether it is
    interim (not closed by every reporting organization)."""

    fiscal_year: int
    quarter: int
    end: date
    interim: bool

    @property
    def ending(self) -> str:
        """``"For the quarter ending March 31, 2025"``."""
        return f"For the quarter ending {self.end:%B} {self.end.day}, {self.end.year}"


def statement_period(entity: ReportingEntity, fiscal_year: int, quarter: int | None) -> StatementPeriod:
    """The quarter ``quarter`` (1–4; default ``default_quarter``) of
    ``fiscal_year`` for ``entity``'s statement, interim unless every
    reporting organization has closed it."""
    closed = closed_quarters(entity.organization_ids, fiscal_year)
    quarter = quarter or default_quarter(closed, entity.reporting, fiscal_year)
    interim = not entity.reporting or any(quarter not in closed.get(i, set()) for i in entity.reporting)
    return StatementPeriod(fiscal_year, quarter, quarter_end(fiscal_year, quarter), interim)


#: The signature block of the FAR statements: (caption, role of
#: ``Organization.signatory``, what the signer certifies), COA-DBM JC 2019-1.
FAR_SIGNATURES = (
    ("Certified Correct:", "budget_officer", ("Appropriations, allotments, obligations and obligations not yet "
                                              "due and demandable")),
    ("Certified Correct:", "chief_accountant", "Disbursements and obligations due and demandable"),
    ("Approved By:", "head_of_agency", ""),
)


def signatories(entity: ReportingEntity, signatures=FAR_SIGNATURES) -> list[tuple[str, str, str, str]]:
    """The signature block of ``entity``'s statement: ``(caption, name,
    position, what is certified)`` per ``(caption, role, certifies)`` of
    ``signatures``, names and positions as the organization set them
    (``ppaflow org set``), empty where not set."""
    return [(caption, *(entity.signer.signatory(role) if entity.signer is not None else ("", "")), certifies)
            for caption, role, certifies in signatures]
