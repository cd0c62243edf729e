"""Print-ready PDFs of the reports (docs/design.md §8, "Print"): an HTML
template rendered by Jinja (autoescaped: every user text is inert text) and
laid out by WeasyPrint on Legal landscape.

A report to print is a ``PrintedReport``: its title lines, its columns
(text, money or percent; optionally under a grouped heading) and its lines
(detail, subtotal, total). ``render_pdf`` turns one into PDF bytes with the
template ``web/ui/templates/print/table.html`` (on ``print/base.html``):
body text 8 pt in the bundled DejaVu Sans Condensed (it has the peso sign,
₱, so the output never depends on the machine's fonts), the title and the
column headings repeated on every page, a "Page X of Y" footer with the
generation time (Asia/Manila), money in accounting format
(``workflow.money.accounting``: negatives in parentheses, zero as "-").

The PDF's figures are the workbook's: ``mfbm_pdf`` takes its columns and
values from ``services.workbooks``, and ``statements_pdf`` prints the same
``services.statements.Statement`` objects ``statements_workbook`` writes
(one definition of each report's columns for both formats). WeasyPrint may fetch nothing but
the bundled fonts (``_fetcher``), whatever a template or a text contains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from fontTools.ttLib import TTFont
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy import select

from db import db
from db.models import BudgetLineItem, Disbursement, Obligation, Organization
from db.models.budget import DV_DRAFT_STAGES, ORS_DRAFT_STAGES, PAYMENT_METHOD_NAMES
from services.budget import get_or_raise
from services.documents import DV, ORS, workflows
from services.mfbm import MfbmReport
from services.runtime import get_runtime
from services.statements import Statement
from services.workbooks import MFBM_COLUMNS, MFBM_NOTE, mfbm_lines, mfbm_titles, mfbm_values
from services.workbooks import MONEY as XLSX_MONEY
from services.workbooks import PERCENT as XLSX_PERCENT
from workflow.money import accounting

_WEB = Path(__file__).resolve().parents[1] / "web"
TEMPLATES = _WEB / "ui" / "templates"
#: The bundled fonts (web/static/vendor/dejavu, with their licence).
FONTS = _WEB / "static" / "vendor" / "dejavu"
TEXT, MONEY, PERCENT = "text", "money", "percent"
ZONE = ZoneInfo("Asia/Manila")
#: Body text size (pt) and the layout of print/base.html: Legal landscape
#: (14 × 8.5 in) less 8 mm margins each side and a little slack (pt); a
#: cell's padding and borders (pt); the minimum widths of text columns (em).
FONT_SIZE = 8
PAGE_WIDTH = 14 * 72 - 2 * 8 * 72 / 25.4 - 8
CELL_PADDING = 3 + 0.5
TEXT_EM, WIDE_EM = 3, 10


@lru_cache(maxsize=2)
def _advances(bold: bool) -> tuple[dict[int, int], dict[str, int], int]:
    font = TTFont(FONTS / ("DejaVuSansCondensed-Bold.ttf" if bold else "DejaVuSansCondensed.ttf"), lazy=True)
    return font.getBestCmap(), {name: advance for name, (advance, _lsb) in font["hmtx"].metrics.items()}, \
        font["head"].unitsPerEm


def text_width(text: str, *, bold: bool = False, size: float = FONT_SIZE) -> float:
    """The width (pt) of ``text`` on one line in the bundled font at ``size``
    pt (kerning aside); a character the font lacks counts as an em."""
    cmap, advances, units = _advances(bold)
    return sum(advances.get(cmap.get(ord(ch), ""), units) for ch in text) * size / units


@dataclass(frozen=True)
class Column:
    """One column of a printed table: its heading, what it holds (``text``,
    ``money`` in PHP, or ``percent`` as a fraction, 0.25 = 25 %) and the
    grouped heading above it, if any (adjacent columns with the same group
    share one heading cell); ``wide`` for a long text (a title, remarks)
    that should get room before the figures do."""

    header: str
    kind: str = TEXT
    group: str = ""
    wide: bool = False


@dataclass(frozen=True)
class Line:
    """One row of a printed table: its values in column order and its kind
    (``detail``, ``subtotal`` or ``total``: the latter two print bold)."""

    values: Sequence[Any]
    kind: str = "detail"


@dataclass
class PrintedReport:
    """A report ready for ``render_pdf``.

    ``titles`` are the lines above the table (the last is the report's
    name, printed larger), repeated on every page; ``scope`` says whose rows these are
    (e.g. "MOA: MSSD" or "All MOAs"); ``generated`` is when it was made
    (aware; default now), printed in the footer in Asia/Manila."""

    titles: Sequence[str]
    columns: Sequence[Column]
    lines: Sequence[Line]
    scope: str = ""
    generated: datetime = field(default_factory=lambda: datetime.now(ZONE))
    #: How many leading columns identify a line (e.g. code and title): when
    #: the table is wider than the page, they are repeated on each part.
    key_columns: int = 1
    #: Footnotes printed after the table (e.g. what a blank SPI means).
    notes: Sequence[str] = ()

    def layout(self) -> list[list[tuple[int, float]]]:
        """Each printed part (``parts``) as ``(column index, width in pt)``
        pairs: every column at least as wide as it needs, the room left on
        the page shared by the text columns (a wide one three times as
        much), so WeasyPrint lays the table out at fixed widths instead of
        measuring every cell again."""
        widths = [self._min_width(i) for i in range(len(self.columns))]
        out = []
        for part in self.parts(widths):
            shares = [3 if self.columns[i].wide else 1 if self.columns[i].kind == TEXT else 0 for i in part]
            shares = shares if any(shares) else [1] * len(part)
            room = max(0.0, PAGE_WIDTH - sum(widths[i] for i in part))
            out.append([(i, widths[i] + room * share / sum(shares)) for i, share in zip(part, shares, strict=True)])
        return out

    def parts(self, widths: Sequence[float] | None = None) -> list[list[int]]:
        """The column indexes of each printed part, left to right: one part
        with every column when the table fits the page's width; else the
        key columns and as many of the others as fit, part after part (the
        report then runs more than one page wide, its key columns on each).
        Widths are measured in the bundled font (``text_width``), or given."""
        widths = widths or [self._min_width(i) for i in range(len(self.columns))]
        keys = list(range(min(self.key_columns, len(self.columns))))
        if sum(widths) <= PAGE_WIDTH:
            return [list(range(len(self.columns)))]
        room = PAGE_WIDTH - sum(widths[i] for i in keys)
        others = list(range(len(keys), len(self.columns)))
        parts = _pack(others, widths, room)
        # as even as the same number of parts allows (not one column alone on the last)
        even = max(sum(widths[i] for i in others) / len(parts), *(widths[i] for i in others))
        while even < room and len(_pack(others, widths, even)) > len(parts):
            even = min(room, even * 1.02)
        return [keys + part for part in _pack(others, widths, even)]

    def _min_width(self, index: int) -> float:
        """The narrowest a column can print (pt): a figure on one line, a
        text's longest word (at least the column's minimum width), its
        heading's longest word, in bold, plus the cell's padding and border."""
        column = self.columns[index]
        words = column.header.split() or [""]
        needed = max(text_width(w, bold=True) for w in words)
        for line in self.lines:
            text = cell(line.values[index], column.kind)
            pieces = [text] if column.kind != TEXT else (text.split() or [""])
            needed = max(needed, *(text_width(p, bold=line.kind != "detail") for p in pieces))
        if column.kind == TEXT:
            needed = max(needed, (WIDE_EM if column.wide else TEXT_EM) * FONT_SIZE)
        return needed + CELL_PADDING + 1  # 1 pt for what kerning and rounding may add

    def groups(self, part: Sequence[int] | None = None) -> list[tuple[str, int]]:
        """The grouped headings of ``part`` (column indexes; default all) as
        ``(label, number of columns)`` runs, left to right; an empty list
        when no column has a group."""
        columns = list(self.columns) if part is None else [self.columns[i] for i in part]
        if not any(c.group for c in columns):
            return []
        runs: list[tuple[str, int]] = []
        for column in columns:
            if runs and runs[-1][0] == column.group:
                runs[-1] = (column.group, runs[-1][1] + 1)
            else:
                runs.append((column.group, 1))
        return runs


def _pack(indexes: list[int], widths: list[float], room: float) -> list[list[int]]:
    """``indexes`` in order, in runs whose widths add up to ``room`` at most
    (a column wider than ``room`` alone in its run)."""
    runs: list[list[int]] = [[]]
    for index in indexes:
        if runs[-1] and sum(widths[i] for i in runs[-1]) + widths[index] > room:
            runs.append([])
        runs[-1].append(index)
    return runs


def rate(value: Decimal | None) -> str:
    """A fraction as a percentage with two decimals, as the workbook's
    ``0.00%`` shows it: ``Decimal("0.4215")`` -> ``"42.15%"``; a negative
    in parentheses; nothing for ``None``."""
    if value is None:
        return ""
    if isinstance(value, (float, bool)):
        raise TypeError("percentages are shown from a Decimal, never a float")
    shown = (Decimal(value) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"({abs(shown):,.2f}%)" if shown < 0 else f"{shown:,.2f}%"


def cell(value: Any, kind: str) -> str:
    """The text of one cell: money in accounting format, a percent as
    ``rate``, anything else as written (``None`` as nothing); a value
    already given as text prints as it is, whatever its column's kind."""
    if isinstance(value, str):
        return value
    if kind == MONEY:
        return accounting(value)
    if kind == PERCENT:
        return rate(value)
    return "" if value is None else str(value)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update({"accounting": accounting, "rate": rate, "cell": cell, "css_string": _css_string})
    return env


def _css_string(text: str) -> Markup:
    """``text`` as a CSS string literal for the template's ``<style>`` (the
    footer, the font URLs): every character but letters, digits and
    `` .,:-()/_`` as a CSS escape, so nothing in it can end the string or
    the style element."""
    escaped = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in " .,:-()/_" else f"\\{ord(ch):06x}"
                      for ch in text)
    return Markup(f'"{escaped}"')


_ENV = _environment()


def _fetcher():
    """WeasyPrint's URL fetcher: the bundled fonts, nothing else (no
    network, no other file), so no text in a report can make it read one."""
    from weasyprint.urls import URLFetcher  # lazy: WeasyPrint loads Pango (native); only a PDF needs it

    allowed = FONTS.as_uri() + "/"

    class BundledFontsOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith(allowed) or ".." in unquote(url):
                raise ValueError(f"printing fetches only the bundled fonts, not {url[:80]}")
            return super().fetch(url, headers)

    return BundledFontsOnly(allowed_protocols=("file",))


def render_html(report: PrintedReport, template: str = "print/table.html") -> str:
    """The report as the HTML WeasyPrint lays out (autoescaped)."""
    return _ENV.get_template(template).render(
        report=report, fonts=FONTS.as_uri(),
        footer=f"Generated {report.generated.astimezone(ZONE):%d %B %Y %H:%M} (Asia/Manila) by ppaflow"
               + (f" - {report.scope}" if report.scope else ""))


def render_pdf(report: PrintedReport, template: str = "print/table.html") -> bytes:
    """The report as PDF bytes: Legal landscape, 8 pt body text, title and
    headings on every page, "Page X of Y" footer (docs/design.md §8)."""
    from weasyprint import HTML  # lazy: WeasyPrint loads Pango (native); only a PDF needs it

    html = render_html(report, template)
    return HTML(string=html, base_url=FONTS.as_uri() + "/", url_fetcher=_fetcher()).write_pdf()


# -- the reports ------------------------------------------------------------------------------

def _columns(definitions) -> list[Column]:
    """``Column``s from a workbook's ``(header, width cap, number format)``
    columns (a text column capped at 40 characters or more is ``wide``)."""
    kinds = {XLSX_MONEY: MONEY, XLSX_PERCENT: PERCENT}
    return [Column(header, kinds.get(number_format, TEXT), wide=width >= 40)
            for header, width, number_format in definitions]


def _scope(moa: str | None) -> str:
    return f"MOA: {moa}" if moa else "All MOAs"


def mfbm_pdf(report: MfbmReport) -> bytes:
    """The MFBM Budget Execution Report's main sheet as PDF bytes: the
    workbook's columns, lines and figures (``services.workbooks.MFBM_COLUMNS``,
    ``mfbm_lines``: PPA lines, MOA and class subtotals, the grand total)."""
    kinds = {"detail": "detail", "moa": "subtotal", "class": "subtotal", "total": "total"}
    lines = [Line(mfbm_values(line), kinds[line.kind]) for line in mfbm_lines(report)]
    *titles, as_of = mfbm_titles(report)
    return render_pdf(PrintedReport(
        titles=tuple(titles), columns=_columns(MFBM_COLUMNS), lines=lines,
        scope=f"{report.organization or 'All MOAs'} - {as_of}", key_columns=2, notes=(MFBM_NOTE,)))


@dataclass
class StatementPrinted(PrintedReport):
    """A statement (services.statements) ready for ``print/statement.html``:
    besides the table, its header block (``(label, value)``, printed under
    the titles on every page), the column numbers and formula row under the
    headings (when the form has them), notes and the signature block after
    the table."""

    header: Sequence[tuple[str, str]] = ()
    numbers: Sequence[str] = ()
    formulas: Sequence[str] = ()
    signatories: Sequence[tuple[str, str, str, str]] = ()


_KINDS = {MONEY: MONEY, PERCENT: PERCENT}


def statements_pdf(statements: Sequence[Statement]) -> bytes:
    """Statements (FAR No. 1 and its companions, the RAOD, the BED forms) as
    one PDF (bytes; docs/design.md §8 "Statements"): per statement, its
    columns and lines, Legal landscape, as many pages wide as it needs with
    the key columns (Particulars, UACS code) on each, the titles, interim
    mark and header block on every page, grouped headings, column numbers
    and formula row, notes and the signature block at the end. Statements
    follow one another, each numbered "Page X of Y" on its own."""
    from weasyprint import HTML  # lazy: WeasyPrint loads Pango (native); only a PDF needs it

    documents = []
    for statement in statements:
        numbered = any(c.number for c in statement.columns)
        formulas = any(c.formula for c in statement.columns)
        report = StatementPrinted(
            titles=[*statement.title_lines[1:], statement.title_lines[0]],
            columns=[Column(c.heading, _KINDS.get(c.kind, TEXT), group=c.group, wide=c.kind == TEXT and c.width >= 40)
                     for c in statement.columns],
            lines=[Line(line.values, "subtotal" if line.kind == "heading" else line.kind) for line in statement.lines],
            scope=statement.scope, key_columns=statement.key_columns, header=statement.header,
            numbers=[c.number for c in statement.columns] if numbered else (),
            formulas=[c.formula for c in statement.columns] if formulas else (),
            signatories=statement.signatories, notes=statement.notes)
        html = render_html(report, "print/statement.html")
        documents.append(HTML(string=html, base_url=FONTS.as_uri() + "/", url_fetcher=_fetcher()).render())
    first = documents[0]
    return first.copy([page for document in documents for page in document.pages]).write_pdf()


# -- the forms: ORS (GAM Appendix 11) and DV (GAM Appendix 32) ---------------------------------

_ONES = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand"))


def _number_in_words(number: int) -> str:
    if number < 20:
        return _ONES[number] or "zero"
    if number < 100:
        return _TENS[number // 10] + (f"-{_ONES[number % 10]}" if number % 10 else "")
    if number < 1000:
        rest = number % 100
        return f"{_ONES[number // 100]} hundred" + (f" {_number_in_words(rest)}" if rest else "")
    for scale, name in _SCALES:
        if number >= scale:
            rest = number % scale
            return f"{_number_in_words(number // scale)} {name}" + (f" {_number_in_words(rest)}" if rest else "")
    raise AssertionError(number)  # pragma: no cover - the scales cover every number from 1000


def amount_in_words(amount: Decimal) -> str:
    """An amount in PHP as a form writes it in words, pesos and centavos:
    ``Decimal("1250000.50")`` -> ``"One million two hundred fifty thousand
    pesos and 50/100"``. Exact (the centavos from the Decimal, never a
    float); a negative amount is refused (``ValueError``): a form's amount
    is positive (the ``amount > 0`` constraints of ORS and DV)."""
    if isinstance(amount, (float, bool)):
        raise TypeError("amounts are written from a Decimal, never a float")
    centavos = int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if centavos < 0:
        raise ValueError("a form's amount is never negative")
    pesos, cents = divmod(centavos, 100)
    words = f"{_number_in_words(pesos)} peso{'' if pesos == 1 else 's'}"
    return (words + (f" and {cents:02d}/100" if cents else " only")).capitalize()


@dataclass(frozen=True)
class SignedBox:
    """One box of a form as ppaflow knows it: its letter and certification
    (as the GAM appendix words it), the role that signs it in the rules
    (``rules/default/workflows/ors.yaml``, ``dv.yaml``) and, once signed in
    ppaflow, who signed it (printed name, position: the role they signed
    as), when (the date in Asia/Manila) and for whom (the delegator, when
    an officer-in-charge signed). The wet signature goes on the blank line."""

    letter: str
    certification: str
    signatory: str
    name: str = ""
    position: str = ""
    signed_on: str = ""
    delegated_by: str = ""

    @property
    def signed(self) -> bool:
        """Whether the box was signed in ppaflow."""
        return bool(self.name)


#: The boxes of each form: (letter, trigger of the workflow, certification, who signs it on the form).
ORS_BOXES = (
    ("A", "certify_charges", ("Certified: Charges to appropriation/allotment are necessary, lawful and under my "
                              "direct supervision; and supporting documents valid, proper and legal"),
     "Head, Requesting Office/Authorized Representative"),
    ("B", "certify_obligation", ("Certified: Allotment available and obligated for the purpose/adjustment "
                                 "necessary as indicated above"),
     "Head, Budget Division/Unit/Authorized Representative"),
)
DV_BOXES = (
    ("A", "certify_necessary", ("Certified: Expenses/Cash Advance necessary, lawful and incurred under my direct "
                                "supervision"), "Supervisor"),
    ("B", "record_entry", "Accounting Entry", "Accountant"),
    ("C", "certify_cash", ("Certified: Cash available; subject to Authority to Debit Account (when applicable); "
                           "supporting documents complete and amount claimed proper"),
     "Head, Accounting Unit/Authorized Representative"),
    ("D", "approve_payment", "Approved for Payment", "Agency Head/Authorized Representative"),
    ("E", "pay", "Receipt of Payment", "Disbursing officer"),
)


def _person(user) -> str:
    return (user.full_name or user.username) if user is not None else ""


def _position(role: str) -> str:
    """The position a signer signed as: their role's description in the
    rules (``rules/default/roles.yaml``) up to its first ';', capitalized."""
    description = get_runtime().rules.roles.descriptions.get(role) or role.replace("_", " ")
    text = description.split(";")[0].strip()
    return text[:1].upper() + text[1:]


def signed_boxes(boxes, history) -> list[SignedBox]:
    """The form's boxes filled from the document's history (``workflow_transitions``
    rows, oldest first): each box with who last signed it in ppaflow, if anyone."""
    by_trigger = {row.trigger: row for row in history}
    out = []
    for letter, trigger, certification, signatory in boxes:
        row = by_trigger.get(trigger)
        if row is None:
            out.append(SignedBox(letter, certification, signatory))
            continue
        out.append(SignedBox(letter, certification, signatory, name=_person(row.actor),
                             position=_position(row.role),
                             signed_on=f"{row.created_at.astimezone(ZONE):%d %B %Y}",
                             delegated_by=_person(row.delegated_by)))
    return out


def _mark(status: str, draft_stages, cancelled: dict[str, str]) -> str:
    """What is stamped across a form that cannot be filed as it is: a draft
    (not yet obligated or paid in ppaflow), or a cancelled or voided one."""
    if status in draft_stages:
        return "DRAFT — NOT SIGNED"
    return cancelled.get(status, "")


def _object_codes(allotment) -> str:
    """The UACS object codes of the program budget's line items of the
    allotment's class (the codes the obligation may be charged to), joined."""
    codes = db.session.scalars(select(BudgetLineItem.uacs_code).where(
        BudgetLineItem.program_budget_id == allotment.program_budget_id,
        BudgetLineItem.allotment_class == allotment.allotment_class).order_by(BudgetLineItem.id))
    return ", ".join(dict.fromkeys(codes))


def _render_form(template: str, title: str, **context: Any) -> bytes:
    """A one-page form as PDF bytes (the bundled fonts only, ``_fetcher``)."""
    from weasyprint import HTML  # lazy: WeasyPrint loads Pango (native); only a PDF needs it

    generated = datetime.now(ZONE)
    html = _ENV.get_template(template).render(
        report=SimpleNamespace(titles=(title,)), fonts=FONTS.as_uri(),
        footer=f"Printed {generated:%d %B %Y %H:%M} (Asia/Manila) by ppaflow", **context)
    return HTML(string=html, base_url=FONTS.as_uri() + "/", url_fetcher=_fetcher()).write_pdf()


def _header(organization, allotment) -> dict[str, str]:
    pb = allotment.program_budget
    return {"entity": organization.name, "responsibility_center": " ".join(
                part for part in (organization.uacs_code or "", organization.operating_unit or organization.code)
                if part),
            "mfo_pap": " ".join(part for part in (pb.pap_code, pb.ppa.title) if part)}


def ors_form_pdf(user, obligation_id: int) -> bytes:
    """The ORS as GAM Appendix 11 prints it, one A4 portrait page: entity
    name, fund cluster, serial number, date, payee, office, address,
    responsibility center, particulars, MFO/PAP, UACS object code, amount
    (₱ and in words), Boxes A and B with who signed each in ppaflow
    (``signed_boxes``) and blank lines for the wet signatures, and
    "DRAFT — NOT SIGNED" across it before Box B (docs/design.md §8 "Forms").

    Raises:
        NotFound: the ORS is unknown or ``user`` may not see it (404).
    """
    obligation = get_or_raise(user, Obligation, obligation_id)
    organization = db.session.get(Organization, obligation.organization_id)
    allotment = obligation.allotment
    boxes = signed_boxes(ORS_BOXES, workflows.history(ORS, obligation.id))
    return _render_form(
        "print/ors.html", f"Obligation Request and Status {obligation.ors_number}", ors=obligation,
        fund_cluster=allotment.program_budget.fund_cluster, header=_header(organization, allotment),
        object_codes=_object_codes(allotment), allotment_class=allotment.allotment_class.upper(),
        words=amount_in_words(obligation.amount), boxes=boxes,
        mark=_mark(obligation.status, ORS_DRAFT_STAGES, {"withdrawn": "CANCELLED — NOT OBLIGATED",
                                                         "cancelled": "CANCELLED"}))


def dv_form_pdf(user, disbursement_id: int) -> bytes:
    """The DV as GAM Appendix 32 prints it, one A4 portrait page: entity
    name, fund cluster, date, DV number, mode of payment (MDS check,
    commercial check, ADA, others; the DV's ticked), payee, ORS number,
    address, particulars, responsibility center, MFO/PAP, amount (₱ and in
    words), Box B's accounting entry lines, Boxes A–E with who signed each
    in ppaflow and blank lines for the wet signatures, Box E's check/ADA
    number and date and JEV number, "DRAFT — NOT SIGNED" across it before
    Box E (docs/design.md §8 "Forms").

    Raises:
        NotFound: the DV is unknown or ``user`` may not see it (404).
    """
    disbursement = get_or_raise(user, Disbursement, disbursement_id)
    obligation = disbursement.obligation
    organization = db.session.get(Organization, disbursement.organization_id)
    allotment = obligation.allotment
    boxes = signed_boxes(DV_BOXES, workflows.history(DV, disbursement.id))
    return _render_form(
        "print/dv.html", f"Disbursement Voucher {disbursement.dv_number}", dv=disbursement, ors=obligation,
        header=_header(organization, allotment), object_codes=_object_codes(allotment),
        modes=[(code, name.split(" (")[0], code == disbursement.payment_method)
               for code, name in PAYMENT_METHOD_NAMES.items()],
        words=amount_in_words(disbursement.amount), boxes=boxes,
        mark=_mark(disbursement.status, DV_DRAFT_STAGES, {"withdrawn": "CANCELLED — NOT PAID",
                                                          "voided": "VOIDED"}))
