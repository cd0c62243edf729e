"""The PPA page's Performance tab (docs/design.md §15; issue 16 items 3-4):
earned value as of today with SPI and CPI, the S-curve of planned value,
actual cost and today's earned value, and the critical path. The view is
thin: ``services.performance`` computes; ``s_curve_chart`` draws its
points with the analytics' line chart."""

from __future__ import annotations

from markupsafe import Markup

from services import performance
from web.ui.charts import line_chart
from web.ui.pages import signed_in
from workflow.errors import Conflict, ValidationFailed


def s_curve_chart(curve: dict) -> Markup:
    """The S-curve of ``services.performance.s_curve`` as an SVG line chart
    (``web.ui.charts.line_chart``, the analytics' charts): planned value on
    every planned day, actual cost up to today, earned value as today's
    single point; PHP ``Decimal`` throughout."""
    days = [day for day, _ in curve["planned"]]
    actual = dict(curve["actual"])
    today = curve["as_of"]
    return line_chart(
        f"S-curve as of {today:%d %b %Y}: planned value, actual cost and earned value (PHP)",
        [f"{day:%d %b %Y}" for day in days],
        [("Planned value (PV)", [value for _, value in curve["planned"]]),
         ("Actual cost (AC)", [actual.get(day) for day in days]),
         ("Earned value (EV), today", [curve["today"]["ev"] if day == today else None for day in days])])


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
