"""Small server-rendered SVG charts (issue 16 item 6; docs/design.md §18):
a line chart and a grouped bar chart, drawn from ``Decimal`` values with
exact arithmetic and every text escaped, so a MOA code, a sector or a
category typed by a user is inert in the page and in the PDF that
WeasyPrint lays out from the same SVG (``services.analytics.chart_pdf``).

No script, no external reference: the SVG is markup only, sized by its
``viewBox``, with a ``<title>`` and ``<desc>`` for screen readers and a
legend. The fonts are the printed reports' ("Report Sans", the bundled
DejaVu Sans Condensed) when printed, the page's otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 80, 16, 36, 72
#: Series colours (colour-blind safe, Okabe–Ito), and dashes for a second look.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
DASHES = ("", "6 3", "2 2", "8 3 2 3")
FONT = 'font-family="Report Sans, DejaVu Sans, sans-serif"'

Series = tuple[str, Sequence[Decimal | None]]


def _n(value: Decimal) -> str:
    """A coordinate with one decimal."""
    return f"{Decimal(value).quantize(Decimal('0.1'))}"


def _scale(series: Sequence[Series]) -> Decimal:
    """The top of the y axis: the largest value rounded up to a tidy step (1, 2 or 5 × 10^k), at least 1."""
    top = max([Decimal(v) for _, values in series for v in values if v is not None] + [Decimal(0)])
    if top <= 0:
        return Decimal(1)
    step = Decimal(10) ** (top.adjusted())
    for factor in (1, 2, 5, 10):
        if top <= step * factor:
            return step * factor
    return step * 10


def _label(value: Decimal) -> str:
    value = Decimal(value)
    for limit, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k")):
        if abs(value) >= limit:
            return f"{(value / limit).normalize():f}{suffix}"
    return f"{value.normalize():f}"


def _frame(title: str, labels: Sequence[str], series: Sequence[Series], top: Decimal, unit: str) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
              f'class="chart" {FONT} font-size="11">'),
             f"<title>{escape(title)}</title>",
             (f"<desc>{escape(title)}: {escape(', '.join(name for name, _ in series))} by "
              f"{escape(', '.join(labels[:1] + labels[-1:]))}</desc>"),
             f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i in range(5):
        value = top * i / 4
        y = Decimal(TOP + plot_h) - Decimal(plot_h) * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{_n(y)}" x2="{WIDTH - RIGHT}" y2="{_n(y)}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{_n(y + 4)}" text-anchor="end">{escape(_label(value))}{escape(unit)}'
                     "</text>")
    step = Decimal(plot_w) / max(len(labels), 1)
    every = max(1, (len(labels) + 11) // 12)
    for i, label in enumerate(labels):
        if i % every == 0:
            x = Decimal(LEFT) + step * i + step / 2
            parts.append(f'<text x="{_n(x)}" y="{TOP + plot_h + 16}" text-anchor="middle">{escape(label[:18])}</text>')
    for i, (name, _values) in enumerate(series):
        x = LEFT + (i % 4) * 160
        y = HEIGHT - 28 + (i // 4) * 14
        colour = COLOURS[i % len(COLOURS)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}">{escape(name[:24])}</text>')
    return parts


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> Markup:
    """An SVG line chart: ``labels`` along the x axis, one line per
    ``(name, values)`` of ``series`` (a value ``None`` is a gap), the y axis
    from 0 to a tidy top; ``unit`` follows each y label (``"%"``)."""
    top = _scale(series)
    parts = _frame(title, labels, series, top, unit)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = Decimal(plot_w) / max(len(labels), 1)
    for i, (name, values) in enumerate(series):
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i // len(COLOURS) % len(DASHES)]
        runs, run = [], []
        for j, value in enumerate(values):
            if value is None:
                runs, run = (runs + [run] if run else runs), []
                continue
            x = Decimal(LEFT) + step * j + step / 2
            y = Decimal(TOP + plot_h) - Decimal(plot_h) * max(Decimal(value), Decimal(0)) / top
            run.append(f"{_n(x)},{_n(y)}")
        runs += [run] if run else []
        for points in runs:
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dashed} '
                         f'points="{" ".join(points)}"><title>{escape(name)}</title></polyline>')
            for point in points:
                x, y = point.split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> Markup:
    """An SVG grouped bar chart: per label, one bar per series (``None`` or a negative value draws no bar)."""
    top = _scale(series)
    parts = _frame(title, labels, series, top, unit)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = Decimal(plot_w) / max(len(labels), 1)
    width = step * Decimal("0.8") / max(len(series), 1)
    for i, (name, values) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        for j, value in enumerate(values):
            if value is None or value <= 0:
                continue
            h = Decimal(plot_h) * Decimal(value) / top
            x = Decimal(LEFT) + step * j + step * Decimal("0.1") + width * i
            parts.append(f'<rect x="{_n(x)}" y="{_n(Decimal(TOP + plot_h) - h)}" width="{_n(width)}" '
                         f'height="{_n(h)}" fill="{colour}"><title>{escape(labels[j])}: {escape(name)} '
                         f'{escape(str(value))}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))


# -- the analytics views (services.analytics) ---------------------------------------------------------------------

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _cumulative(values: Sequence[Decimal]) -> list[Decimal]:
    out, total = [], Decimal(0)
    for value in values:
        total += value
        out.append(total)
    return out


def analytics_charts(view: str, data) -> list[Markup]:
    """The charts of an analytics view (``services.analytics.VIEWS``; ``data``
    what its function returned): the page's and the PNG/PDF exports'.

    - trends: the obligation rate and the disbursement rate, a line per group, by year and quarter;
    - velocity: programmed (BED No. 3) and actual disbursements from January, by month;
    - needs-fulfilment: needs raised and addressed, by province and category;
    - projection: obligations and disbursements from January, actual to the
      as-of month, then the projection and its band to December.
    """
    if view == "trends":
        periods = sorted({(r.fiscal_year, r.quarter) for r in data})
        labels = [f"{y} Q{q}" for y, q in periods]
        groups = sorted({r.group for r in data})
        by = {(r.group, r.fiscal_year, r.quarter): r for r in data}

        def series(attribute: str) -> list[Series]:
            return [(g, [getattr(by[(g, *p)], attribute) if (g, *p) in by else None for p in periods]) for g in groups]

        return [line_chart("Obligation rate (obligations / allotments)", labels, series("obligation_rate"), "%"),
                line_chart("Disbursement rate (disbursements / obligations)", labels, series("disbursement_rate"),
                           "%")]
    if view == "velocity":
        return [line_chart("Disbursements from January: programmed (BED No. 3) and actual", MONTHS, [
            ("Programmed", [m.cumulative_programmed for m in data]),
            ("Actual", [m.cumulative_actual for m in data])])]
    if view == "needs-fulfilment":
        labels = [f"{r.province or r.province_code or '-'} / {r.category}" for r in data]
        return [bar_chart("Needs raised and addressed", labels, [
            ("Raised", [Decimal(r.raised) for r in data]), ("Addressed", [Decimal(r.addressed) for r in data])])]
    n = data.months_elapsed
    out: list[Series] = []
    for name, figure in (("Obligations", data.obligations), ("Disbursements", data.disbursements)):
        actual = _cumulative(figure.months)
        out.append((f"{name}, actual", actual + [None] * (12 - n)))
        if 0 < n < 12:
            def towards(end: Decimal, start: Decimal = actual[-1]) -> list[Decimal | None]:
                return [None] * (n - 1) + [start + (end - start) * k / (12 - n) for k in range(13 - n)]

            out += [(f"{name}, projected", towards(figure.projected)), (f"{name}, band low", towards(figure.low)),
                    (f"{name}, band high", towards(figure.high))]
    return [line_chart(f"Obligations and disbursements from January, projected to December (as of "
                       f"{data.as_of.isoformat()})", MONTHS, out)]
