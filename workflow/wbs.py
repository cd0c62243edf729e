"""Generating a PPA's work-breakdown structure from a template (docs/design.md §4).

Pure: given a template, the PPA's budget (centavos) and date range, returns
the plan of work items to insert, parents before children. Budgets are split
exactly at every level by the largest-remainder method; dates are laid out
by the duration percentages (days split the same exact way).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from rules.model import TemplateNode, WbsTemplate
from workflow.money import split_centavos


@dataclass(frozen=True)
class PlannedItem:
    """One work item to create.

    Attributes:
        ref: its index in the plan; the root is 0.
        parent_ref: the index of its parent, ``None`` for the root.
        work_type, title: as in the template (the root is the PPA's project).
        position: its place among its siblings, from 0.
        level: depth, the root being 0.
        allocated: its budget in centavos.
        start_date, due_date: its dates (``None`` when the PPA has none).
    """

    ref: int
    parent_ref: int | None
    work_type: str
    title: str
    position: int
    level: int
    allocated: int
    start_date: date | None
    due_date: date | None


def plan_wbs(template: WbsTemplate, *, title: str, budget: int, start: date | None,
             end: date | None) -> list[PlannedItem]:
    """The work items ``template`` generates for a PPA.

    Args:
        template: the WBS template.
        title: the PPA's title (the root project's title).
        budget: the PPA's budget in centavos (the root's allocation).
        start, end: the PPA's date range (inclusive), or ``None``.

    Returns:
        The root project and every descendant, in pre-order. Each level's
        allocations sum exactly to its parent's.
    """
    plan = [PlannedItem(0, None, "project", title, 0, 0, budget, start, end)]

    def expand(parent: PlannedItem, nodes: tuple[TemplateNode, ...]) -> None:
        if not nodes:
            return
        amounts = split_centavos(parent.allocated, [n.budget_pct for n in nodes])
        ranges = lay_out_dates(parent.start_date, parent.due_date, [n.duration_pct for n in nodes])
        for position, (node, amount, (first, last)) in enumerate(zip(nodes, amounts, ranges, strict=True)):
            item = PlannedItem(len(plan), parent.ref, node.work_type, node.title, position, parent.level + 1,
                               amount, first, last)
            plan.append(item)
            expand(item, node.children)

    expand(plan[0], template.children)
    return plan


def lay_out_dates(start: date | None, end: date | None,
                  durations: list) -> list[tuple[date | None, date | None]]:
    """Consecutive date ranges inside ``[start, end]``, one per duration share.

    Args:
        start, end: the parent's inclusive range (``None``: no dates).
        durations: one percentage per child, or ``None`` for every child (each
            then spans the whole range).

    Returns:
        ``(first_day, last_day)`` per child. The days of the range are split
        by the largest-remainder method, so the ranges tile it exactly; a
        child whose share rounds to no day gets the day its predecessor ends.
    """
    if start is None or end is None:
        return [(start, end)] * len(durations)
    if any(d is None for d in durations) or not any(durations):
        return [(start, end)] * len(durations)
    days = split_centavos((end - start).days + 1, durations)
    out, cursor = [], start
    for count in days:
        if count == 0:
            day = min(cursor, end)
            out.append((day, day))
            continue
        last = cursor + timedelta(days=count - 1)
        out.append((cursor, last))
        cursor = last + timedelta(days=1)
    return out
