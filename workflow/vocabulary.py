"""The closed vocabularies of the domain (docs/design.md §3, §4), in one place.

Stages and work item statuses are *not* here: they come from the rule files.
These are fixed by the data model and checked by database constraints.
"""

#: PPA categories (seeds: MonitoringEntry.CATEGORY_CHOICES).
CATEGORIES = ("moa_ppa", "oobc_ppa", "obc_request")

#: Appropriation (allotment) classes: Personnel Services, Maintenance and
#: Other Operating Expenses, Financial Expenses, Capital Outlays (GAA).
APPROPRIATION_CLASSES = ("ps", "mooe", "finex", "co")

#: Priorities of PPAs and work items.
PRIORITIES = ("low", "medium", "high", "urgent")

#: Implementation status of a PPA (separate from its approval stage).
PPA_STATUSES = ("planning", "ongoing", "completed", "on_hold", "cancelled")

#: How a PPA's budget is distributed over its work items.
DISTRIBUTION_POLICIES = ("equal", "weighted", "manual")

#: Work item types, from the root of a WBS down.
WORK_TYPES = ("project", "sub_project", "activity", "task", "subtask")

#: Budget status of a work item (docs/design.md §4): expended above the
#: allocation, within the on-budget band of rules/default/budget.yaml, or below it.
BUDGET_STATUSES = ("over_budget", "on_budget", "under_budget")

#: Alert types (docs/design.md §7): an item spends more than its allocation, an item
#: is blocked, an approval stage is past its due date.
ALERT_TYPES = ("workitem_budget_variance", "workitem_execution_blocked", "approval_overdue",
               "workitem_schedule_performance", "workitem_cost_performance", "workitem_critical_slip")

#: Alert severities, lowest first.
SEVERITIES = ("low", "medium", "high", "critical")

#: The fiscal years ppaflow accepts, first and last (inclusive).
FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR = 2000, 2100


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """A SQL ``column IN ('a', 'b')`` check for a constraint."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
