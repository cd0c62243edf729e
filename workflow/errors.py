"""Every exception ppaflow raises on purpose, in one module (rq's habit).

Each class has a stable machine-readable ``code`` (the problem type of
docs/design.md §5) and belongs to one family; the web layer maps the family to an
HTTP status in one table (``web.errors``), the CLI prints ``detail``. The
domain never knows about HTTP.

Families: ``NotFound`` (404), ``Unauthenticated`` (401), ``Forbidden`` (403),
``Conflict`` (409), ``PreconditionFailed`` (412), ``ValidationFailed`` (422),
``CommitOutcomeUnknown`` (500), ``ServiceUnavailable`` (503).
"""

from __future__ import annotations

from typing import Any


class PpaflowError(Exception):
    """Base of every deliberate ppaflow error.

    Attributes:
        code: stable snake_case identifier, e.g. ``budget_locked``; the
            web layer gives each code its one title (``web.errors.PROBLEM_TITLES``).
        detail: what happened in this case, for a person to read.
        extra: further machine-readable members (amounts, reasons, ...).
    """

    code = "error"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra = extra


class NotFound(PpaflowError):
    """The thing does not exist, or the caller may not see it (404)."""

    code = "not_found"


class Unauthenticated(PpaflowError):
    """No valid API token (401)."""

    code = "unauthenticated"


class Forbidden(PpaflowError):
    """The caller is known but may not do this (403)."""

    code = "forbidden"


class RoleMissing(Forbidden):
    """The caller holds none of the roles the action requires."""

    code = "role_missing"


class SeparationOfDuties(Forbidden):
    """The action would break a separation-of-duties rule of a workflow file (docs/design.md §6)."""

    code = "separation_of_duties"


class Conflict(PpaflowError):
    """The request conflicts with the current state (409)."""

    code = "conflict"


class InvalidTransition(Conflict):
    """The trigger cannot fire from the current stage or status."""

    code = "invalid_transition"


class NotEditable(Conflict):
    """The record cannot be edited in its current stage."""

    code = "not_editable"


class BudgetLimitExceeded(Conflict):
    """A budget execution level would exceed the one above it (refused by
    the database triggers). ``level`` is ``allotment``, ``obligation`` or
    ``disbursement``; the amounts are added by the service that knows them."""

    code = "budget_limit_exceeded"

    def __init__(self, detail: str, *, level: str, **extra):
        super().__init__(detail, level=level, **extra)
        self.level = level


class AdjustmentRequired(Conflict):
    """A change that only a budget adjustment may make: the fiscal year,
    implementing MOA or budget of a PPA that has a program budget
    (issue 10; the adjustments themselves come with issue 12)."""

    code = "adjustment_required"


class OutsideValidity(Conflict):
    """A release, obligation or disbursement dated outside the validity of
    its appropriation (409): after the deadline of the rule in force, or
    before its fiscal year begins. ``extra`` carries ``fiscal_year``,
    ``category``, ``step``, ``deadline`` and ``legal_basis``."""

    code = "outside_validity"


class PostedRowImmutable(Conflict):
    """A posted allotment, obligation, disbursement or adjustment would be
    changed or deleted, or moved to a status it may not take (refused by
    the triggers of migration 0011; docs/design.md §12 "Posted rows never
    change"). ``table`` and ``field`` name what was refused; corrections
    are new rows (adjustments, NORSA, a cancellation)."""

    code = "posted_row_immutable"

    def __init__(self, detail: str, *, table: str, field: str, **extra):
        super().__init__(detail, table=table, field=field, **extra)
        self.table, self.field = table, field


class ExpenditureFromDisbursements(Conflict):
    """Direct entry of a work item's expenditure on a PPA in the money
    chain: its expenditure is the disbursements charged to its work items
    (issue 12 item 7; docs/design.md §12, "Money spent and payables")."""

    code = "expenditure_from_disbursements"


class PeriodClosed(Conflict):
    """A posting dated inside a period its MOA has closed (issue 12 item 5;
    docs/design.md §12 "Closing a period"): the correction goes into the
    open period as an adjustment. ``extra`` carries ``period``,
    ``closure_id`` and ``closed_by``."""

    code = "period_closed"


class Duplicate(Conflict):
    """A value that must be unique is already used (e.g. a SARO number)."""

    code = "duplicate"


class PreconditionFailed(PpaflowError):
    """The client's ``If-Match`` version is stale (412)."""

    code = "stale_version"


class ValidationFailed(PpaflowError):
    """The input is well-formed but invalid (422).

    Attributes:
        errors: ``{field: [message, ...]}`` per-field messages.
    """

    code = "validation_failed"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None, **extra: Any):
        self.errors = errors
        super().__init__(summarize(errors) if detail is None else detail, **extra)


def summarize(errors: dict[str, list[str]]) -> str:
    """Per-field messages as one line, for a problem's ``detail``:
    ``"field: message message; other: message"``."""
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())


class ServiceUnavailable(PpaflowError):
    """A backing service (database, Redis) did not answer (503)."""

    code = "service_unavailable"


class CommitOutcomeUnknown(PpaflowError):
    """The connection to the database was lost while it committed: the work
    may or may not have been saved (500, never 503, which promises that
    nothing was saved). Read the resource before doing it again, or retry
    with the same ``Idempotency-Key``."""

    code = "commit_outcome_unknown"


class RulesError(Exception):
    """A rule set that failed validation; it is never half-loaded.

    Attributes:
        errors: every problem found, each rendered as ``file:line: message``.
    """

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in rules:\n" + "\n".join(errors))
