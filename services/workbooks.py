"""The Excel workbooks of the reports and of the PPA list export (openpyxl;
docs/design.md §8, §11).

Every cell is written by ``put``: text becomes a string cell (``t="s"``),
never a formula, whatever its first character, so a PPA titled
``=HYPERLINK(...)`` stays a title in the all-MOA report an analyst opens.
Money cells hold exact numbers (``Decimal``) formatted ``#,##0.00``;
percentages are Excel percentages (``0.00%``). Totals arrive computed
(``services.mfbm``, ``services.far1``, ...); nothing is summed by formulas. Each sheet has its
title rows, a frozen header, an autofilter over the data, the header
repeated on every printed page, landscape pages fitted to the width, and
column widths that fit their content.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from copy import copy
from datetime import datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from db.models import Ppa
from services.statements import DATE as DATE_KIND
from services.statements import INTEGER as INTEGER_KIND
from services.statements import INTERIM, Statement
from services.statements import MONEY as MONEY_KIND
from services.statements import PERCENT as PERCENT_KIND
from services.statements import TEXT as TEXT_KIND
from services.mfbm import MfbmLine, MfbmReport
from services.runtime import get_runtime
from workflow.text import printable

#: Money in accounting format, as the PDFs print it (workflow.money.accounting):
#: negatives in parentheses, zero as "-".
MONEY = '#,##0.00;(#,##0.00);"-"'
#: How many columns a title row spans: the first printed page's (a wide
#: table's titles print on its first page, then repeat with the print titles).
TITLE_SPAN = 8
#: The print scale of every sheet (percent): body text of 11 pt prints at
#: 8.25 pt, the smallest issue 13 allows being 8 pt.
PRINT_SCALE = 75
PERCENT = "0.00%"
#: A ratio such as SPI or CPI, to 4 decimals as earned value rounds it.
RATIO = "0.0000"
HEADER_FILL = PatternFill("solid", start_color="1F4788", end_color="1F4788")
TOTAL_FILL = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
SUBTOTAL_FILL = PatternFill("solid", start_color="EEF2F8", end_color="EEF2F8")
THIN = Side(style="thin", color="7F7F7F")
#: The ministry's name as it is officially written (issue 13), and the region's.
MINISTRY = "Ministry of Finance, and Budget and Management"
TITLES = (MINISTRY, "BANGSAMORO AUTONOMOUS REGION IN MUSLIM MINDANAO")

#: (header, width cap, format) of the MFBM report's columns (docs/design.md §8).
MFBM_COLUMNS = (
    ("PPA Code", 24, None), ("PPA Title", 60, None), ("Implementing MOA", 16, None),
    ("Allotment Class", 10, None), ("Appropriation", 20, MONEY), ("Allotments", 20, MONEY),
    ("Obligations", 20, MONEY), ("Disbursements", 20, MONEY), ("Unreleased Appropriation", 20, MONEY),
    ("Unobligated Allotments", 20, MONEY), ("Unpaid Obligations", 20, MONEY), ("Obligation Rate", 12, PERCENT),
    ("Disbursement Rate", 13, PERCENT), ("Physical Progress %", 11, PERCENT), ("SPI", 8, RATIO), ("CPI", 8, RATIO),
    ("Remarks", 48, None),
)
#: The footnote under the MFBM report's main table (the workbook's and the PDF's).
MFBM_NOTE = ("SPI and CPI: the PPA's schedule and cost performance indices (earned value of its work-breakdown "
             "structure, SPI = EV / PV, CPI = EV / AC) as of the report's date. Blank when the PPA has no "
             "work-breakdown structure, no earned value baseline yet (one is taken at enactment; a PPA enacted "
             "earlier gets one when its Performance tab is first opened), or when its planned value (SPI) or actual "
             "cost (CPI) is zero.")
#: The columns of the MFBM report's "Pipeline" sheet: PPAs of the year not enacted.
PIPELINE_COLUMNS = (
    ("PPA Code", 24, None), ("PPA Title", 60, None), ("Implementing MOA", 16, None),
    ("Appropriation Class", 12, None), ("Proposed Budget", 20, MONEY), ("Approval Stage", 28, None),
)
PIPELINE_SHEET = "Pipeline (not enacted)"

def put(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write ``value`` into a cell and return the cell; the one way text
    goes into a ppaflow workbook.

    Text is always an inert string cell: openpyxl would store a string
    starting with ``=`` as a formula, so the cell's type is set back to
    string after the value. Characters XML cannot hold (stored before input
    was checked, ``workflow.text``) are replaced by U+FFFD, so the workbook
    stays readable. Numbers, dates and ``None`` are written as they are.
    """
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = printable(value)
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def _titles(ws: Worksheet, lines: Sequence[str], width: int) -> int:
    """Title rows, merged across the table; returns the next free row."""
    for row, text in enumerate(lines, start=1):
        put(ws, row, 1, text).font = Font(bold=True, size=13 if row <= 3 else 11,
                                                            italic=row > 3)
        ws.cell(row=row, column=1).alignment = Alignment(horizontal="left")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=min(width, TITLE_SPAN))
    return len(lines) + 2


def _header(ws: Worksheet, row: int, headers: Sequence[str]) -> None:
    for column, text in enumerate(headers, start=1):
        cell = put(ws, row, column, text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
    ws.row_dimensions[row].height = 32


def _write_row(ws: Worksheet, row: int, values: Sequence[Any], formats: Sequence[str | None], *,
               bold: bool = False, fill: PatternFill | None = None) -> None:
    """One data row: each value (``put``) with its column's number format,
    vertically centred, text one step in from the numbers beside it; bold,
    and filled and ruled when ``fill`` is given (a subtotal, a total).

    A style is built once per kind of cell and copied to the others: openpyxl
    otherwise hashes a new style object for every cell, which is most of the
    time a large workbook takes."""
    styles = ws.__dict__.setdefault("_row_styles", {})  # this sheet's (a style's indexes are its workbook's)
    for column, (value, number_format) in enumerate(zip(values, formats, strict=True), start=1):
        cell = put(ws, row, column, value)
        key = (number_format, bold, id(fill))
        style = styles.get(key)
        if style is not None:
            cell._style = copy(style)
            continue
        if number_format:
            cell.number_format = number_format
        if bold:
            cell.font = BOLD
        if fill is not None:
            cell.fill = fill
            cell.border = RULED
        cell.alignment = NUMBER_ALIGNMENT if number_format else TEXT_ALIGNMENT
        styles[key] = copy(cell._style)


BOLD = Font(bold=True)
RULED = Border(top=THIN, bottom=THIN)
NUMBER_ALIGNMENT = Alignment(vertical="center", indent=0)
TEXT_ALIGNMENT = Alignment(vertical="center", indent=1)


def _finish(ws: Worksheet, header_row: int, last_data_row: int, columns: Sequence[tuple[str, int, str | None]],
            freeze_columns: int) -> None:
    """Frozen header, autofilter, print titles, page set-up, widths."""
    last_column = get_column_letter(len(columns))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=freeze_columns + 1)
    ws.auto_filter.ref = f"A{header_row}:{last_column}{max(last_data_row, header_row + 1)}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_LEGAL
    # Printed at a fixed scale, never fitted: fitting a wide table to the page
    # shrinks its text below 8 pt; at PRINT_SCALE the 11 pt cells print at
    # 8.25 pt and a wide table runs onto further pages, its key columns on each.
    ws.page_setup.scale = PRINT_SCALE
    ws.oddFooter.left.text = f"Generated {_stamp()} (Asia/Manila) by ppaflow"
    ws.oddFooter.right.text = "Page &P of &N"
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    for index, (header, cap, number_format) in enumerate(columns, start=1):
        # Data cells never wrap (a wrapped row does not grow and would spill
        # into the next), so each column is as wide as its longest value;
        # the header may wrap between words but never inside one.
        letter = get_column_letter(index)
        longest = max([len(w) for w in header.split()] + [
            len(f"{c.value:,.2f}") if number_format == MONEY and isinstance(c.value, (int, float, Decimal)) else
            (8 if number_format == PERCENT else len(str(c.value or "")))
            for c in ws[letter][header_row:]])
        ws.column_dimensions[letter].width = min(max(longest + 2, 9), cap)


def _generated(moa: str | None) -> str:
    return f"{'MOA: ' + moa if moa else 'All MOAs'} - generated {_stamp()} (Asia/Manila) by ppaflow"


def _stamp() -> str:
    """Now in Asia/Manila, e.g. ``30 November 2026 14:05``."""
    return datetime.now(ZoneInfo("Asia/Manila")).strftime("%d %B %Y %H:%M")


def mfbm_workbook(report: MfbmReport) -> bytes:
    """The MFBM Budget Execution Report as an .xlsx file (bytes): the main
    sheet (enacted PPAs by MOA and allotment class, a subtotal per MOA, a
    subtotal per allotment class, the grand total), then the "Pipeline (not
    enacted)" sheet. Its title rows name the ministry as officially written,
    the as-of date and the organization covered ("All MOAs" only when it
    covers all)."""
    workbook = Workbook()
    ws = workbook.active
    ws.title = f"Budget Execution FY{report.fiscal_year}"
    scope = report.organization or "All MOAs"
    header_row = _titles(ws, (*mfbm_titles(report), scope, f"Generated {_stamp()} (Asia/Manila) by ppaflow"),
                         len(MFBM_COLUMNS))
    _header(ws, header_row, [c[0] for c in MFBM_COLUMNS])
    formats = [c[2] for c in MFBM_COLUMNS]
    row = last_data_row = header_row
    for line in mfbm_lines(report):
        row += 1
        if line.kind == "detail":
            _write_row(ws, row, mfbm_values(line), formats)
        else:
            _write_row(ws, row, mfbm_values(line), formats, bold=True,
                       fill=TOTAL_FILL if line.kind == "total" else SUBTOTAL_FILL)
        if line.kind in ("detail", "moa"):
            last_data_row = row
    _finish(ws, header_row, last_data_row, MFBM_COLUMNS, freeze_columns=2)
    put(ws, row + 2, 1, MFBM_NOTE).font = Font(italic=True)

    pipeline = workbook.create_sheet(PIPELINE_SHEET)
    header_row = _titles(pipeline, (*TITLES, f"PIPELINE - PPAs OF FY {report.fiscal_year} NOT ENACTED",
                                    "Not in the Budget Execution Report's figures", scope),
                         len(PIPELINE_COLUMNS))
    _header(pipeline, header_row, [c[0] for c in PIPELINE_COLUMNS])
    formats = [c[2] for c in PIPELINE_COLUMNS]
    row = header_row
    for row, item in enumerate(report.pipeline, start=header_row + 1):
        _write_row(pipeline, row, [item.code, item.title, item.moa, item.appropriation_class, item.proposed,
                                   item.stage], formats)
    _finish(pipeline, header_row, row, PIPELINE_COLUMNS, freeze_columns=2)
    return workbook_bytes(workbook)


def mfbm_lines(report: MfbmReport) -> list[MfbmLine]:
    """The main sheet's lines in the order both the workbook and the PDF
    print them: each MOA's lines then its subtotal, the subtotals per
    allotment class, the grand total (``MfbmLine.kind``: ``detail``,
    ``moa``, ``class``, ``total``)."""
    subtotals = {line.moa: line for line in report.moa_subtotals}
    out: list[MfbmLine] = []
    for index, line in enumerate(report.rows):
        out.append(line)
        if index + 1 == len(report.rows) or report.rows[index + 1].moa != line.moa:
            out.append(subtotals[line.moa])
    return [*out, *report.class_subtotals, report.total]


def mfbm_titles(report: MfbmReport) -> tuple[str, ...]:
    """The title lines of the MFBM report: the ministry as officially
    written, the region, the report's name, its as-of date."""
    return (*TITLES, f"BUDGET EXECUTION REPORT - FY {report.fiscal_year}",
            f"As of {report.as_of.day} {report.as_of:%B %Y}")


def mfbm_values(line: MfbmLine) -> list[Any]:
    """The cells of one line of the MFBM report's main sheet, in
    ``MFBM_COLUMNS`` order (the PDF prints the same, ``services.printing``)."""
    detail = line.kind == "detail"
    return [line.code, line.title, line.moa, line.allotment_class, line.appropriation, line.allotments,
            line.obligations, line.disbursements, line.unreleased, line.unobligated, line.unpaid,
            line.obligation_rate, line.disbursement_rate, line.physical_progress if detail else None,
            line.spi, line.cpi, line.remarks]


INTERIM_FONT = Font(bold=True, color="C00000", size=12)
#: The number format of each kind of statement column (services.statements).
FORMATS = {MONEY_KIND: MONEY, PERCENT_KIND: PERCENT, DATE_KIND: "yyyy-mm-dd", INTEGER_KIND: "#,##0", TEXT_KIND: None}


def statement_columns(statement: Statement) -> list[tuple[str, int, str | None]]:
    """A statement's columns as ``(heading, width cap, number format)``."""
    return [(c.heading, c.width, FORMATS[c.kind]) for c in statement.columns]


def statements_workbook(statements: Sequence[Statement], title: str = "") -> bytes:
    """Statements (services.statements: FAR No. 1 and its companions, the
    RAOD, the BED forms) as an .xlsx file (bytes), one sheet each
    (docs/design.md §8 "Statements"): the title lines (with the interim mark
    when the period is not closed), the header block, the grouped headings,
    the column headings, the column numbers and the formula row (when the
    form numbers its columns), the lines and the signature block. Every text
    is an inert string (``put``); figures are exact numbers, no formula. A
    filed statement's sheet (its period closed) is protected. Document
    properties: ``title`` (default the first statement's title and period),
    author ``ppaflow``."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    names: set[str] = set()
    for statement in statements:
        _statement_sheet(workbook, statement, _sheet_name(statement.sheet, names))
    first = statements[0]
    workbook.properties.title = title or f"{first.form} - {first.title.title()}, {first.period} - {first.scope}"
    workbook.properties.creator = "ppaflow"
    workbook.properties.lastModifiedBy = "ppaflow"
    return workbook_bytes(workbook)


def _sheet_name(wanted: str, taken: set[str]) -> str:
    """``wanted`` as a sheet name Excel accepts (at most 31 characters, no
    bracket, colon, asterisk, question mark or slash of either kind), unique
    among ``taken`` (which it joins)."""
    base = "".join("-" if ch in "[]:*?/\\" else ch for ch in wanted)[:31] or "Sheet"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[:27]} ({n})"
    taken.add(name)
    return name


def _statement_sheet(workbook: Workbook, statement: Statement, name: str) -> None:
    columns = statement_columns(statement)
    width = len(columns)
    ws = workbook.create_sheet(name)
    row = _titles(ws, statement.title_lines, width) - 1
    if statement.interim:
        ws.cell(row=len(statement.title_lines), column=1).font = INTERIM_FONT
    for label, value in statement.header:
        put(ws, row, 1, f"{label}:").font = Font(bold=True)
        put(ws, row, 2, value)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=min(max(width, 2), 12))
        row += 1
    row += 1
    if any(c.group for c in statement.columns):
        for group, indexes in _runs([c.group for c in statement.columns]):
            start = indexes[0] + 1
            _header_cell(put(ws, row, start, group))
            if len(indexes) > 1:
                ws.merge_cells(start_row=row, start_column=start, end_row=row, end_column=indexes[-1] + 1)
        row += 1
    _header(ws, row, [c[0] for c in columns])
    ws.row_dimensions[row].height = 60
    for extra in ("number", "formula"):
        if any(getattr(c, extra) for c in statement.columns):
            row += 1
            for index, column in enumerate(statement.columns, start=1):
                _header_cell(put(ws, row, index, int(column.number) if extra == "number" and column.number.isdigit()
                                 else getattr(column, extra)))
    header_row = row
    formats = [c[2] for c in columns]
    styles = {"heading": {"bold": True}, "subtotal": {"bold": True, "fill": SUBTOTAL_FILL},
              "total": {"bold": True, "fill": TOTAL_FILL}}
    for line in statement.lines:
        row += 1
        _write_row(ws, row, line.values, formats, **styles.get(line.kind, {}))
    last_data_row = row
    row += 2
    for note in statement.notes:
        put(ws, row, 1, note).font = Font(italic=True)
        row += 1
    row += 1 if statement.notes else 0
    step = max(width // max(len(statement.signatories), 1), 3)
    for index, (caption, signer, position, certifies) in enumerate(statement.signatories):
        column = 1 + index * step
        put(ws, row, column, caption).font = Font(bold=True)
        put(ws, row + 2, column, signer or "_" * 32).font = Font(bold=True)
        put(ws, row + 3, column, position or "_" * 32)
        put(ws, row + 4, column, certifies)
        put(ws, row + 5, column, "Date: " + "_" * 20)
    _finish(ws, header_row, last_data_row, columns, freeze_columns=statement.key_columns)
    ws.auto_filter.ref = None
    ws.print_title_rows = f"1:{header_row}"  # titles, interim mark, header block and headings on every page
    ws.print_title_cols = f"A:{get_column_letter(statement.key_columns)}"
    ws.oddHeader.center.text = INTERIM if statement.interim else ""
    ws.oddFooter.left.text = f"Generated {_stamp()} (Asia/Manila) by ppaflow - {statement.scope}"[:200]
    if statement.filed:  # the filed copy: read-only unless deliberately unprotected
        ws.protection.sheet = True


def _header_cell(cell: Cell) -> None:
    cell.font = Font(bold=True, color="FFFFFF")
    cell.fill = HEADER_FILL
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)


def _runs(groups: Sequence[str]) -> list[tuple[str, list[int]]]:
    """Adjacent equal labels as ``(label, column indexes)`` runs."""
    runs: list[tuple[str, list[int]]] = []
    for index, group in enumerate(groups):
        if runs and runs[-1][0] == group:
            runs[-1][1].append(index)
        else:
            runs.append((group, [index]))
    return runs


def workbook_bytes(workbook: Workbook) -> bytes:
    """The workbook as the bytes of an .xlsx file."""
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


#: (header, width cap, format) of the PPA list export's columns.
PPA_LIST_COLUMNS = (
    ("PPA ID", 9, None), ("Program Code", 20, None), ("Title", 64, None), ("Implementing MOA", 16, None),
    ("Fiscal Year", 9, None), ("Category", 14, None), ("Approval Stage", 24, None), ("Status", 13, None),
    ("Progress %", 10, PERCENT), ("Budget Allocation", 20, MONEY), ("Start", 12, "yyyy-mm-dd"),
    ("Target End", 12, "yyyy-mm-dd"),
)


def ppa_list_workbook(ppas: Iterable[Ppa], filters_text: str, total_budget: Decimal) -> bytes:
    """The PPAs of a filtered list as an .xlsx file (bytes): one row per PPA
    in the list's order, a total of the budget allocations (exact, computed
    by the caller), the filters in the title rows. Every text, titles
    included, is an inert string cell (``put``)."""
    rules = get_runtime().rules
    workbook = Workbook()
    ws = workbook.active
    ws.title = "PPAs"
    header_row = _titles(ws, (*TITLES, "PROGRAMS, PROJECTS AND ACTIVITIES (PPAs)", filters_text,
                              _generated(None).replace("All MOAs - ", "")), len(PPA_LIST_COLUMNS))
    _header(ws, header_row, [c[0] for c in PPA_LIST_COLUMNS])
    formats = [c[2] for c in PPA_LIST_COLUMNS]
    row = header_row
    for row, ppa in enumerate(ppas, start=header_row + 1):
        stage = rules.approval.machine.states.get(ppa.approval_status)
        _write_row(ws, row, [
            ppa.id, ppa.program_code or "", ppa.title, ppa.organization.code, ppa.fiscal_year,
            ppa.category.replace("_", " "), stage.label if stage else ppa.approval_status,
            ppa.status.replace("_", " ").capitalize(), Decimal(ppa.progress) / 100, ppa.budget_allocation,
            ppa.start_date, ppa.target_end_date], formats)
    last_data_row = row
    _write_row(ws, last_data_row + 1, ["TOTAL", "", "", "", None, "", "", "", None, total_budget, None, None],
               formats, bold=True, fill=TOTAL_FILL)
    _finish(ws, header_row, last_data_row, PPA_LIST_COLUMNS, freeze_columns=3)
    return workbook_bytes(workbook)
