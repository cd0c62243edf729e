"""The PPA page's Performance tab (docs/design.md §15; issue 16 items 3-4):
earned value as of today with SPI and CPI, the S-curve of planned value,
actual cost and today's earned value, and the critical path. The view is
thin: ``services.performance`` computes; ``s_curve_chart`` only turns its
points into SVG coordinates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from services import performance
from web.ui.pages import signed_in
from workflow.errors import Conflict, ValidationFailed

#: The chart's size and margins, in SVG user units.
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 280, 96, 16, 16, 40
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Chart:
    """An S-curve ready to draw: polyline points (``"x,y x,y"``) of planned
    value and actual cost, today's earned value as a point, the axis ticks
    as ``(position, label)``; figures are PHP ``Decimal``s."""

    planned: str
    actual: str
    earned: tuple[Decimal, Decimal] | None
    today_x: Decimal
    x_ticks: Sequence[tuple[Decimal, date]]
    y_ticks: Sequence[tuple[Decimal, Decimal]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = HEIGHT - BOTTOM


def s_curve_chart(curve: dict) -> Chart:
    """Scale ``services.performance.s_curve``'s points to the chart: days
    along x, PHP up y from zero to the budget at completion (or the largest
    figure, if above it), coordinates to a tenth of a unit."""
    days = [day for day, _ in curve["planned"]] + [day for day, _ in curve["actual"]]
    first, last = min(days), max(days)
    values = [v for _, v in curve["planned"]] + [v for _, v in curve["actual"]] + [curve["bac"], curve["today"]["ev"]]
    top = max(max(values), Decimal(1))
    span = max((last - first).days, 1)

    def x(day: date) -> Decimal:
        return (LEFT + Decimal((day - first).days) * (WIDTH - LEFT - RIGHT) / span).quantize(TENTH, ROUND_HALF_UP)

    def y(value: Decimal) -> Decimal:
        return (HEIGHT - BOTTOM - value * (HEIGHT - TOP - BOTTOM) / top).quantize(TENTH, ROUND_HALF_UP)

    def line(points) -> str:
        return " ".join(f"{x(day)},{y(value)}" for day, value in points)

    ticks = [first + (last - first) * n // 4 for n in range(5)]
    today = curve["as_of"]
    return Chart(planned=line(curve["planned"]), actual=line(curve["actual"]),
                 earned=(x(today), y(curve["today"]["ev"])), today_x=x(today),
                 x_ticks=[(x(day), day) for day in ticks],
                 y_ticks=[(y(top * n / 4), (top * n / 4).quantize(Decimal("0.01"))) for n in range(5)])


def performance_context(ppa_id: int) -> dict:
    """What the Performance tab shows: ``figures`` (``earned_value``),
    ``chart``, ``schedule`` (``critical_path``), each when it can be
    computed, with ``problems`` naming why a section cannot (no budgeted or
    dated work); or ``problem`` alone when the PPA has no WBS."""
    user = signed_in()
    shown: dict = {}
    for key, compute in (("figures", lambda: performance.earned_value(user, ppa_id)),
                         ("chart", lambda: s_curve_chart(performance.s_curve(user, ppa_id))),
                         ("schedule", lambda: performance.critical_path(user, ppa_id))):
        try:
            shown[key] = compute()
        except Conflict as refusal:  # not tracked: nothing at all to show
            return {"problem": refusal}
        except ValidationFailed as refusal:  # this section has nothing to show; the others may
            shown.setdefault("problems", {})[key] = refusal
    return shown
