"""Analytics for MFBM budget analysts (issue 16 item 6; docs/design.md §18):
multi-year trends of the money chain by MOA, sector or allotment class,
execution velocity against the BED No. 3 monthly disbursement program,
needs fulfilment by province and category, and a year-end projection of
obligations and disbursements from the year-to-date monthly pattern.

No money is summed here that another report already sums: the
appropriations and the postings are the MFBM Budget Execution Report's
(``services.mfbm._appropriations``, ``services.mfbm.posted_sums``,
split by quarter or month), its rates are ``MfbmLine``'s (obligations ÷
allotments, disbursements ÷ obligations), and the programmed disbursements
are BED No. 3's (``services.bed._plans``). What is added is the grouping
of those sums (by MOA, sector or class; by quarter or month) and the
projection's arithmetic.

Scope is the reports': a user who sees only their own MOA gets their MOA's
figures; reviewers and analysts all MOAs, or one with ``moa``
(``services.reports.report_scope``). Money is PHP ``Decimal``, exact,
quantized to centavos; rates are ``Decimal`` percentages to two places
(``Decimal("85.00")``), ``None`` when their divisor is zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from markupsafe import Markup
from sqlalchemy import func, select

from db import db
from db.models import Need, Ppa, User
from services import bed, mfbm, reports
from services.calendar import today
from services.needs import PUBLISHED, _visible
from services.printing import (
    MONEY,
    PERCENT,
    TEXT,
    Column,
    Line,
    PrintedReport,
    render_pdf,
)
from services.runtime import get_runtime
from services.statements import reporting_entity
from workflow.errors import ValidationFailed
from workflow.money import CENT, ZERO

#: The groupings of ``trends``.
GROUPINGS = ("moa", "sector", "class")
#: At most this many fiscal years in one trend (a guard on the work one request does).
MAX_YEARS = 10
#: The z-value of the projection's band: about 95 % of a normal spread.
Z = Decimal("1.96")
PLACES = Decimal("0.01")
#: The projection's method, as stated in every projection and in docs/design.md §18.
METHOD = ("Linear extrapolation of the year-to-date monthly pattern: the months January through the as-of "
          "month (n of them) have the monthly amounts x1..xn (postings dated in the month, reversals "
          "included); their mean m = (x1+...+xn)/n is assumed for each of the r = 12 - n months left, so the "
          "projection is YTD + m*r. The band is projection +/- 1.96*s*sqrt(r), s the sample standard "
          "deviation of x1..xn (n-1 divisor; 0 when n < 2), as if the remaining months were independent "
          "draws like the past ones; its low end is never below the amount already posted (YTD). Amounts "
          "are exact decimals rounded half up to centavos at the end.")


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part / whole`` as a percentage to two places (``Decimal("85.00")``), ``None`` when ``whole`` is 0."""
    return (part * 100 / whole).quantize(PLACES, ROUND_HALF_UP) if whole else None


def _as_percent(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else (fraction * 100).quantize(PLACES, ROUND_HALF_UP)


def _enacted(user: User, fiscal_year: int, moa: str | None) -> list[Ppa]:
    """The enacted PPAs of the year ``user`` sees (the MFBM report's main lines), of ``moa`` when given."""
    stages = get_runtime().rules.budget.remarks.enacted_stages
    return [p for p in mfbm._ppas(user, fiscal_year, moa) if p.approval_status in stages]


def _scope(user: User, moa: str | None) -> str | None:
    return reports.report_scope(user, moa)


# -- trends ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrendRow:
    """One group in one quarter of a fiscal year (PHP). ``appropriation``
    is what is appropriated by the quarter's end; ``allotted``,
    ``obligated``, ``disbursed`` what was posted in the quarter; the
    ``cumulative_`` ones from the start to the quarter's end. The rates are
    the MFBM report's on the cumulative figures: obligation rate =
    obligations ÷ allotments, disbursement rate = disbursements ÷
    obligations (percent, ``None`` on a zero divisor)."""

    group: str
    fiscal_year: int
    quarter: int
    appropriation: Decimal
    allotted: Decimal
    obligated: Decimal
    disbursed: Decimal
    cumulative_allotted: Decimal
    cumulative_obligated: Decimal
    cumulative_disbursed: Decimal
    obligation_rate: Decimal | None
    disbursement_rate: Decimal | None


def _group_of(by: str, ppa: Ppa, klass: str) -> str:
    if by == "moa":
        return ppa.organization.code
    if by == "sector":
        return ppa.sector or "(no sector)"
    return mfbm.CLASS_CODES[klass]


def _quarter_end(year: int, quarter: int) -> date:
    return date(year, 3 * quarter, 31 if quarter in (1, 4) else 30)


def _nothing() -> dict[str, Decimal]:
    return {"allotted": ZERO, "obligated": ZERO, "disbursed": ZERO}


def trends(user: User, from_year: int, to_year: int, by: str, moa: str | None = None) -> list[TrendRow]:
    """Per group (``by``: ``moa``, ``sector`` or ``class``), fiscal year and
    quarter: appropriation, the quarter's and the cumulative allotments,
    obligations and disbursements, and the obligation and disbursement
    rates (``TrendRow``), from the enacted PPAs of each year and the money
    chain's postings of the year (a posting dated after the year, a
    continuing appropriation's, is in none of its quarters). Rows sorted by
    group, year, quarter; a group with nothing in a year has no rows for it.

    Raises:
        ValidationFailed: ``by`` unknown, ``to_year`` before ``from_year`` or
            more than ``MAX_YEARS`` years (422 on the field).
        NotFound: ``moa`` is not one the caller may report on.
    """
    errors: dict[str, list[str]] = {}
    if by not in GROUPINGS:
        errors["by"] = [f"one of {', '.join(GROUPINGS)}"]
    if to_year < from_year:
        errors["to_year"] = ["must not be before from_year"]
    elif to_year - from_year >= MAX_YEARS:
        errors["to_year"] = [f"at most {MAX_YEARS} fiscal years at once"]
    if errors:
        raise ValidationFailed(errors)
    moa = _scope(user, moa)
    rows: list[TrendRow] = []
    for year in range(from_year, to_year + 1):
        ppas = {p.id: p for p in _enacted(user, year, moa)}
        # quarter 0: posted before the fiscal year began (in the cumulative figures only)
        posted = mfbm.posted_sums(list(ppas.values()), date(year, 12, 31),
                                     lambda day, y=year: (day.month - 1) // 3 + 1 if day.year == y else 0)
        groups: dict[str, dict[int, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(_nothing))
        for (ppa_id, klass, quarter), sums in posted.items():
            for level, amount in sums.items():
                groups[_group_of(by, ppas[ppa_id], klass)][quarter][level] += amount
        appropriated: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
        for quarter in (1, 2, 3, 4):
            for (ppa_id, klass), amount in mfbm._appropriations(list(ppas), _quarter_end(year, quarter)).items():
                if amount:
                    appropriated[_group_of(by, ppas[ppa_id], klass)][quarter] += amount
        for group in sorted(set(groups) | set(appropriated)):
            by_quarter = groups.get(group, {})
            cumulative = dict(by_quarter.get(0, _nothing()))
            for quarter in (1, 2, 3, 4):
                moved = by_quarter.get(quarter, _nothing())
                for level in cumulative:
                    cumulative[level] += moved[level]
                line = mfbm.MfbmLine(group, "", "", "", appropriated[group][quarter], cumulative["allotted"],
                                        cumulative["obligated"], cumulative["disbursed"])
                rows.append(TrendRow(group, year, quarter, line.appropriation, moved["allotted"], moved["obligated"],
                                     moved["disbursed"], line.allotments, line.obligations, line.disbursements,
                                     _as_percent(line.obligation_rate), _as_percent(line.disbursement_rate)))
    return rows


# -- monthly actuals ------------------------------------------------------------------------------------------------

def monthly_actuals(user: User, fiscal_year: int, moa: str | None, as_of: date) -> dict[str, list[Decimal]]:
    """PHP obligated and disbursed in each month of ``fiscal_year`` (January
    first, twelve each; ``{"obligated": [...], "disbursed": [...]}``) by the
    enacted PPAs of the year, on postings dated on or before ``as_of``
    (``services.mfbm.posted_sums`` by month); ``moa`` already scoped."""
    posted = mfbm.posted_sums(_enacted(user, fiscal_year, moa), as_of,
                                 lambda day: day.month if day.year == fiscal_year else None)
    out = {"obligated": [ZERO] * 12, "disbursed": [ZERO] * 12}
    for (_ppa, _klass, month), sums in posted.items():
        for level, months in out.items():
            months[month - 1] += sums[level]
    return out


def _months_reached(fiscal_year: int, as_of: date) -> int:
    """How many months of ``fiscal_year`` have begun by ``as_of`` (0–12)."""
    if as_of.year < fiscal_year:
        return 0
    return 12 if as_of.year > fiscal_year else as_of.month


# -- velocity -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VelocityMonth:
    """One month of the pace of disbursement (PHP): programmed in BED No. 3
    and actually disbursed, in the month and from January; ``ratio`` the
    cumulative actual ÷ cumulative programmed (percent, ``None`` while
    nothing is programmed). A month not yet begun (``reached`` false) has
    no actual, cumulative actual or ratio (``None``)."""

    month: int
    reached: bool
    programmed: Decimal
    actual: Decimal | None
    cumulative_programmed: Decimal
    cumulative_actual: Decimal | None
    ratio: Decimal | None


def velocity(user: User, fiscal_year: int, moa: str | None = None, *,
             as_of: date | None = None) -> list[VelocityMonth]:
    """The execution velocity of ``fiscal_year`` (issue 16 item 6): per month,
    the disbursements programmed in BED No. 3 (``services.bed._plans``, the
    same sums ``bed3_report`` prints) against those actually made (DVs
    posted, voids as reversals in their month: ``monthly_actuals``), as of
    ``as_of`` (default today, Asia/Manila).

    Raises:
        NotFound: ``moa`` is not one the caller may report on.
    """
    moa = _scope(user, moa)
    as_of = as_of or today()
    entity = reporting_entity(user, fiscal_year, moa)
    programmed = [ZERO] * 12
    for classes in bed._plans(entity.organization_ids, fiscal_year, "disbursements_planned", None).values():
        for months in classes.values():
            for month, amount in months.items():
                programmed[month - 1] += amount
    actual = monthly_actuals(user, fiscal_year, moa, as_of)["disbursed"]
    reached = _months_reached(fiscal_year, as_of)
    out, planned_to_date, actual_to_date = [], ZERO, ZERO
    for month in range(1, 13):
        planned_to_date += programmed[month - 1]
        actual_to_date += actual[month - 1]
        begun = month <= reached
        out.append(VelocityMonth(month, begun, programmed[month - 1], actual[month - 1] if begun else None,
                                 planned_to_date, actual_to_date if begun else None,
                                 percent(actual_to_date, planned_to_date) if begun else None))
    return out


# -- needs fulfilment -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FulfilmentRow:
    """Needs of one province and category: ``raised`` (published: validated,
    forwarded, addressed or deferred), ``addressed`` (a PPA addresses
    them), ``share`` = addressed ÷ raised (percent)."""

    province_code: str | None
    province: str | None
    category: str
    raised: int
    addressed: int
    share: Decimal | None


def needs_fulfilment(user: User, *, category: str | None = None,
                     province_code: str | None = None) -> list[FulfilmentRow]:
    """Needs fulfilment by province and category (issue 16 item 6): the
    needs ``user`` may see (``services.needs``) that are published, and how
    many of them a PPA addresses (stage ``addressed``, docs/design.md §14),
    in one grouped query; optional filters ``category`` and
    ``province_code``. Sorted by province code (none last), then category."""
    addressed = func.count(Need.id).filter(Need.status == "addressed")
    query = (select(Need.province_code, Need.category, func.count(Need.id), addressed)
             .where(_visible(user), Need.status.in_(PUBLISHED))
             .group_by(Need.province_code, Need.category))
    if category:
        query = query.where(Need.category == category)
    if province_code:
        query = query.where(Need.province_code == province_code)
    provinces = get_runtime().rules.psgc_barmm.provinces
    rows = [FulfilmentRow(code, provinces.get(code or ""), cat, raised, done, percent(Decimal(done), Decimal(raised)))
            for code, cat, raised, done in db.session.execute(query)]
    return sorted(rows, key=lambda r: (r.province_code is None, r.province_code or "", r.category))


# -- projection -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Projected:
    """The year-end projection of one figure (PHP, centavos): ``to_date``
    posted so far, ``projected`` year-end, ``low``–``high`` the band
    (``low`` never below ``to_date``), and the monthly amounts it was made from."""

    to_date: Decimal
    projected: Decimal
    low: Decimal
    high: Decimal
    months: list[Decimal]


@dataclass(frozen=True)
class Projection:
    """A year-end projection (``projection``): the months reached, those
    left, the method in words (``METHOD``) and the projected obligations
    and disbursements."""

    fiscal_year: int
    as_of: date
    months_elapsed: int
    months_remaining: int
    method: str
    obligations: Projected
    disbursements: Projected


def project(months: list[Decimal]) -> Projected:
    """``METHOD`` on the monthly amounts so far (PHP, January first; their
    number n is the months elapsed, 0–12): year-end = YTD + mean × (12 − n),
    band ± 1.96 × sample sd × √(12 − n), low end at least YTD; exact decimal
    arithmetic (28 significant digits for the square roots), each result
    rounded half up to centavos."""
    n = len(months)
    to_date = sum(months, ZERO)
    remaining = 12 - n
    if n == 0:
        return Projected(ZERO, ZERO, ZERO, ZERO, [])
    with localcontext() as context:
        context.prec = 28
        mean = to_date / n
        projected = to_date + mean * remaining
        spread = (sum(((x - mean) ** 2 for x in months), ZERO) / (n - 1)).sqrt() if n > 1 else ZERO
        half = Z * spread * Decimal(remaining).sqrt()
        low, high = max(projected - half, to_date), projected + half
    return Projected(to_date.quantize(CENT, ROUND_HALF_UP), projected.quantize(CENT, ROUND_HALF_UP),
                     low.quantize(CENT, ROUND_HALF_UP), high.quantize(CENT, ROUND_HALF_UP), months)


def projection(user: User, fiscal_year: int, as_of: date | None = None, moa: str | None = None) -> Projection:
    """The year-end obligations and disbursements of ``fiscal_year``
    projected from the year-to-date monthly pattern (issue 16 item 6;
    ``METHOD``, docs/design.md §18) as of ``as_of`` (default today, Asia/Manila):
    the months January through ``as_of``'s month are the pattern
    (``monthly_actuals``; the as-of month counts as elapsed, with what is
    posted in it so far). Before the year begins nothing is projected (all
    zero); after it ends the projection is the actual.

    Raises:
        NotFound: ``moa`` is not one the caller may report on.
    """
    moa = _scope(user, moa)
    as_of = as_of or today()
    actual = monthly_actuals(user, fiscal_year, moa, as_of)
    n = _months_reached(fiscal_year, as_of)
    return Projection(fiscal_year, as_of, n, 12 - n, METHOD, project(actual["obligated"][:n]),
                      project(actual["disbursed"][:n]))


# -- printing -------------------------------------------------------------------------------------------------------

#: The views, their titles (the page's, the exports').
VIEWS = {"trends": "Multi-year trends", "velocity": "Execution velocity against BED No. 3",
         "needs-fulfilment": "Needs fulfilment by province and category",
         "projection": "Year-end projection of obligations and disbursements"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def table(view: str, data) -> tuple[list, list]:
    """The figures of ``view`` (a key of ``VIEWS``; ``data`` what its
    function returned) as printed columns and lines
    (``services.printing.Column``, ``Line``), for ``chart_pdf``. Rates
    print as percentages (``services.printing`` takes fractions)."""
    def fraction(value: Decimal | None) -> Decimal | None:
        return None if value is None else value / 100

    if view == "trends":
        columns = [Column("Group", TEXT, wide=True), Column("Year", TEXT), Column("Quarter", TEXT),
                   Column("Appropriation", MONEY), Column("Allotted", MONEY), Column("Obligated", MONEY),
                   Column("Disbursed", MONEY), Column("Obligated to date", MONEY), Column("Disbursed to date", MONEY),
                   Column("Obligation rate", PERCENT), Column("Disbursement rate", PERCENT)]
        lines = [Line([r.group, str(r.fiscal_year), f"Q{r.quarter}", r.appropriation, r.allotted, r.obligated,
                       r.disbursed, r.cumulative_obligated, r.cumulative_disbursed, fraction(r.obligation_rate),
                       fraction(r.disbursement_rate)]) for r in data]
    elif view == "velocity":
        columns = [Column("Month", TEXT), Column("Programmed (BED No. 3)", MONEY), Column("Disbursed", MONEY),
                   Column("Programmed to date", MONEY), Column("Disbursed to date", MONEY),
                   Column("Disbursed / programmed", PERCENT)]
        lines = [Line([MONTHS[m.month - 1], m.programmed, m.actual, m.cumulative_programmed, m.cumulative_actual,
                       fraction(m.ratio)]) for m in data]
    elif view == "needs-fulfilment":
        columns = [Column("Province", TEXT, wide=True), Column("Category", TEXT), Column("Raised", TEXT),
                   Column("Addressed", TEXT), Column("Share addressed", PERCENT)]
        lines = [Line([r.province or r.province_code or "(no province)", r.category, str(r.raised), str(r.addressed),
                       fraction(r.share)]) for r in data]
    else:
        columns = [Column("Figure", TEXT, wide=True), Column("To date", MONEY), Column("Projected year end", MONEY),
                   Column("Band, low", MONEY), Column("Band, high", MONEY)]
        lines = [Line([name, p.to_date, p.projected, p.low, p.high]) for name, p in (
            ("Obligations", data.obligations), ("Disbursements", data.disbursements))]
    return columns, lines


@dataclass
class ChartReport(PrintedReport):
    """A printed analytics view: ``PrintedReport`` with its charts (SVG markup) and a note."""

    charts: tuple = ()
    note: str = ""


def chart_pdf(view: str, data, charts: list[str], *, subtitle: str = "", note: str = "", scope: str = "") -> bytes:
    """``view``'s charts (SVG markup drawn by the web app, ``web.ui.charts``)
    above its figures (``table``) as a PDF of the printed reports' layout
    (``services.printing.render_pdf``: Legal landscape, bundled fonts
    only, nothing fetched); ``note`` is printed under the charts (the
    projection's method)."""
    columns, lines = table(view, data)
    titles = [t for t in ("ppaflow analytics", subtitle, VIEWS[view]) if t]
    report = ChartReport(titles=titles, columns=columns, lines=lines, scope=scope,
                         charts=tuple(Markup(c) for c in charts), note=note)
    return render_pdf(report, "print/analytics.html")


def chart_png(pdf: bytes) -> bytes:
    """The first page of a ``chart_pdf`` as PNG (``services.reports.png_of_first_page``)."""
    return reports.png_of_first_page(pdf)
