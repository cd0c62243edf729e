"""Jinja filters of the web app: money, percentages, dates and names as a
person reads them (docs/design.md §11).

- ``money``: PHP from a ``Decimal`` (never a float): ``₱1,234,567.89``,
  ``-₱1,500.00``; ``None`` shows as an em dash.
- ``accounting``: the printed reports' format (``workflow.money.accounting``):
  ``1,234.50``, ``(1,234.50)`` for a negative, ``-`` for zero.
- ``percent``: one decimal, rounded half-up: ``12.3%``.
- ``datetime`` / ``date``: in the schedule's time zone (Asia/Manila,
  rules/default/schedule.yaml): ``29 Nov 2026, 14:05`` / ``29 Nov 2026``.
- ``stage``, ``role``: the labels of rules/default/workflows/approval.yaml; ``work_status``:
  those of rules/default/work_item_status.yaml.
- ``words``: a code such as ``return_for_revision`` as ``return for revision``;
  ``sentence``: the first letter in capitals; ``thousands``: ``2,500``.
- ``stage_due`` (a PPA's due day), ``days_overdue``; ``file_size``,
  ``file_type`` (supporting documents); ``field_label``, ``field_value``
  (a PPA field's name and an audited value, in the history); ``payment_method``
  (a DV's mode of payment: ``MDS check``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask import Flask

from db.models.budget import PAYMENT_METHOD_NAMES
from services import calendar
from services.attachments import ACCEPTED, megabytes
from services.budget import CLASS_NAMES
from services.runtime import get_runtime
from workflow.money import CENT, accounting

DASH = "—"


def money(amount: Decimal | int | None) -> str:
    """``Decimal("1234567.891")`` -> ``"₱1,234,567.89"`` (half-up to the centavo).

    Raises:
        TypeError: a float (it cannot hold centavos exactly).
    """
    if amount is None:
        return DASH
    if isinstance(amount, float) or isinstance(amount, bool):
        raise TypeError("money is shown from a Decimal, never a float")
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}₱{abs(value):,.2f}"


def percent(value: Decimal | Fraction | int | None) -> str:
    """A percentage with one decimal: ``Decimal("12.345")`` -> ``"12.3%"``."""
    if value is None:
        return DASH
    if isinstance(value, float) or isinstance(value, bool):
        raise TypeError("percentages are shown from a Decimal, Fraction or int, never a float")
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{Decimal(value).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _zone() -> ZoneInfo:
    return ZoneInfo(get_runtime().rules.schedule.timezone)


def local_datetime(moment: datetime | None) -> str:
    """An aware moment in Asia/Manila: ``29 Nov 2026, 14:05``."""
    if moment is None:
        return DASH
    return moment.astimezone(_zone()).strftime("%-d %b %Y, %H:%M")


def local_date(day: date | datetime | None) -> str:
    """A calendar date (a moment: its date in Asia/Manila): ``29 Nov 2026``."""
    if day is None:
        return DASH
    if isinstance(day, datetime):
        day = day.astimezone(_zone()).date()
    return day.strftime("%-d %b %Y")


def iso_datetime(moment: datetime | None) -> str:
    """The moment for a ``<time datetime>`` attribute, in Asia/Manila with its offset."""
    return "" if moment is None else moment.astimezone(_zone()).isoformat(timespec="minutes")


def stage_label(stage: str | None) -> str:
    """The label of an approval stage (``technical_review`` -> ``Technical review``)."""
    if not stage:
        return DASH
    state = get_runtime().rules.approval.machine.states.get(stage)
    return state.label if state is not None else words(stage)


def work_status(status: str | None) -> str:
    """The label of a work item status (``in_progress`` -> ``In progress``)."""
    if not status:
        return DASH
    state = get_runtime().rules.work_item_status.states.get(status)
    return state.label if state is not None else words(status)


def role_label(role: str) -> str:
    """A role's description from rules/default/roles.yaml, up to its first ';'."""
    description = get_runtime().rules.roles.descriptions.get(role)
    return description.split(";")[0] if description else words(role)


def words(code: str | None) -> str:
    """``return_for_revision`` -> ``return for revision``."""
    return DASH if not code else code.replace("_", " ")


def thousands(number: int | None) -> str:
    """A count with thousands separators: ``2500`` -> ``2,500``."""
    return DASH if number is None else f"{number:,}"


def sentence(text: str | None) -> str:
    """The first letter in capitals, the rest as written (Jinja's
    ``capitalize`` would lower "PPA")."""
    return DASH if not text else text[0].upper() + text[1:]


#: What a person calls each PPA category (workflow.vocabulary.CATEGORIES).
CATEGORY_LABELS = {"moa_ppa": "MOA PPA", "oobc_ppa": "OOBC PPA", "obc_request": "OBC request"}


def category_label(category: str | None) -> str:
    """``oobc_ppa`` -> ``OOBC PPA``."""
    return CATEGORY_LABELS.get(category or "", words(category))


def stage_due(ppa) -> date | None:
    """The day the PPA's current stage falls due (``services.calendar``), or
    ``None`` in a stage without a due time."""
    return calendar.stage_due_date(ppa.approval_status, ppa.stage_entered_at, ppa.rules_hash)


def days_overdue(day: date | None) -> int:
    """Days past ``day`` today in Asia/Manila (0 when not past, or no day)."""
    return max(0, (calendar.today() - day).days) if day else 0


def file_size(size: int | None) -> str:
    """Bytes as a person reads them: ``2.3 MB``, ``14 kB``."""
    return DASH if size is None else megabytes(size)


def file_type(media_type: str | None) -> str:
    """``application/pdf`` -> ``PDF`` (the accepted types' names)."""
    known = ACCEPTED.get(media_type or "")
    return known.label if known else (media_type or DASH)


#: Labels of the PPA's fields (the API's names), for forms and the history.
FIELD_LABELS = {
    "title": "Title", "summary": "Summary", "category": "Category", "program_code": "Program code",
    "organization_id": "Implementing MOA", "fiscal_year": "Fiscal year", "sector": "Sector",
    "funding_source": "Funding source", "appropriation_class": "Appropriation class", "priority": "Priority",
    "start_date": "Start date", "target_end_date": "Target end date", "budget_allocation": "Budget allocation",
    "wbs_template": "WBS template", "budget_distribution_policy": "Budget distribution",
    "status": "Implementation status", "progress": "Progress", "auto_sync_progress": "Progress follows the WBS",
    "auto_sync_status": "Status follows the WBS", "enable_workitem_tracking": "Work item tracking",
    "execution_project_id": "Execution project", "execution_flag": "Execution flag",
}
MONEY_FIELDS = frozenset({"budget_allocation", "allocated_budget", "actual_expenditure", "amount"})
DATE_FIELDS = frozenset({"start_date", "target_end_date", "due_date"})


def field_label(field: str) -> str:
    """The label of a PPA field (``budget_allocation`` -> ``Budget allocation``)."""
    return FIELD_LABELS.get(field, words(field).capitalize())


def field_value(value, field: str) -> str:
    """A value of the audit log (decoded JSON) as a person reads it: money
    as ₱, dates as dates, yes/no, an em dash for none."""
    if value is None or value == "":
        return DASH
    if field in MONEY_FIELDS:
        return money(Decimal(str(value)))
    if field in DATE_FIELDS:
        return local_date(date.fromisoformat(str(value)))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def payment_method(method: str) -> str:
    """A DV's mode of payment as the form names it (``mds_check`` -> ``MDS check``;
    db.models.budget.PAYMENT_METHOD_NAMES, GAM Appendix 32)."""
    return PAYMENT_METHOD_NAMES.get(method, words(method).capitalize())


def allotment_class(code: str) -> str:
    """An allotment class as the GAA names it (``finex`` -> ``FinEx``; ``services.budget.CLASS_NAMES``)."""
    return CLASS_NAMES.get(code, code)


FILTERS = {"payment_method": payment_method, "allotment_class": allotment_class, "money": money, "accounting": accounting, "percent": percent,
           "datetime": local_datetime, "date": local_date,
           "isotime": iso_datetime, "stage": stage_label, "role": role_label, "words": words,
           "sentence": sentence, "thousands": thousands, "work_status": work_status, "category": category_label,
           "stage_due": stage_due, "days_overdue": days_overdue, "file_size": file_size, "file_type": file_type,
           "field_label": field_label, "field_value": field_value}


def rate(value: Decimal | None) -> str:
    """A rate given as a fraction, as a percentage with one decimal:
    ``Decimal("0.8525")`` -> ``"85.3%"``; ``None`` (nothing to compare) is a dash."""
    return percent(None if value is None else Decimal(value) * 100)


FILTERS["rate"] = rate


def init_app(app: Flask) -> None:
    """Register the filters on ``app``'s Jinja environment."""
    app.jinja_env.filters.update(FILTERS)
