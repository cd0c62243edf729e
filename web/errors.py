"""RFC 9457 problem details for every error (docs/design.md §5).

Every error response is ``application/problem+json`` with ``type``,
``title``, ``status``, ``detail``, a stable ``code``, and ``errors``
(``{field: [message, ...]}``) for validation failures. Domain errors map to
statuses by family, in one table.
"""

from __future__ import annotations

import http
import logging
from typing import Any

import marshmallow as ma
from flask import Flask, Response, g, json, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from db import db
from workflow import errors as e

log = logging.getLogger("ppaflow.web")

#: Domain error family -> HTTP status. The first matching class wins.
STATUS_BY_FAMILY: tuple[tuple[type[e.PpaflowError], int], ...] = (
    (e.Unauthenticated, 401),
    (e.Forbidden, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.PreconditionFailed, 412),
    (e.ValidationFailed, 422),
    (e.CommitOutcomeUnknown, 500),
    (e.ServiceUnavailable, 503),
)

#: Problem codes for plain HTTP errors.
HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 412: "stale_version",
    413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
    428: "precondition_required", 429: "too_many_requests", 500: "internal_error", 503: "service_unavailable",
}

#: The title of every problem, by code: the one place a title is written.
#: A problem's ``detail`` says what happened this time; its ``title`` never
#: varies for a code (RFC 9457 §3.1.3), whoever raises it.
PROBLEM_TITLES = {
    # HTTP-level problems
    "bad_request": "Bad request",
    "unauthenticated": "Authentication required",
    "forbidden": "Forbidden",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "not_acceptable": "Not acceptable",
    "conflict": "Conflict",
    "stale_version": "Stale version",
    "payload_too_large": "Payload too large",
    "unsupported_media_type": "Unsupported media type",
    "validation_failed": "Validation failed",
    "precondition_required": "Precondition required",
    "too_many_requests": "Too many requests",
    "internal_error": "Internal error",
    "service_unavailable": "Service unavailable",
    "error": "Error",
    # workflow.errors classes
    "role_missing": "Role missing",
    "separation_of_duties": "Separation of duties",
    "invalid_transition": "Transition not possible from the current state",
    "not_editable": "Not editable in the current state",
    "budget_limit_exceeded": "Budget limit exceeded",
    "posted_row_immutable": "Posted rows never change",
    "duplicate": "Already exists",
    "adjustment_required": "Change needs a budget adjustment",
    "outside_validity": "Outside the validity of the appropriation",
    "commit_outcome_unknown": "Commit outcome unknown",
    "period_closed": "Period closed",
    # conflicts raised with their own code
    "already_tracking": "Work item tracking already enabled",
    "already_voided": "Already voided",
    "budget_locked": "Budget allocations locked",
    "cancelled": "Cancelled",
    "concurrent_update": "Concurrent update",
    "follows_execution_project": "Follows the execution project",
    "has_active_children": "Has active records under it",
    "not_enacted": "PPA not enacted",
    "not_posted": "Document not yet posted",
    # closing a period (services.periods, docs/design.md §12)
    "period_already_closed": "Period already closed",
    "period_not_closed": "Period not closed",
    "period_not_ended": "Period not ended",
    # year end (services.periods, docs/design.md §12 "Year end")
    "earlier_quarter_open": "An earlier quarter is open",
    "later_quarter_closed": "The year end is closed",
    "year_not_closed": "Year not closed",
    # appropriations (services.budget, docs/design.md §12)
    "not_appropriated": "Not an appropriation yet",
    "not_past_budget_review": "PPA not past budget review",
    "above_ppa_budget": "Above the PPA's budget",
    "above_class_amount": "Above the allotment class amount",
    "below_class_amount": "Below zero in the allotment class",
    "proposal_enacted": "Budget proposal already enacted",
    "not_trackable": "Cannot be tracked in this stage",
    "not_tracking": "Work item tracking not enabled",
    "parent_cancelled": "Parent work item cancelled",
    "report_not_ready": "Report not ready",
    "user_exists": "User already exists",
    "username_confusable": "Username look-alike",
    "user_deactivated": "User deactivated",
    "last_administrator": "Last administrator",
    "organization_exists": "Organization already exists",
    "examples_invalid": "Example files invalid",
    # money spent (services.expenditure)
    "expenditure_from_disbursements": "Expenditure comes from disbursements",
    # community needs and votes (services.needs, docs/design.md §14)
    "already_voted": "Already voted",
    "not_published": "Need not published",
    "already_rated": "Feedback already left",
    "not_completed": "PPA not completed",
    "wrong_moa": "Need forwarded to another MOA",
    # strategic goals and planning cycles (services.goals)
    "already_linked": "PPA already serves the goal",
    "cycle_exists": "Planning cycle exists for the fiscal year",
    # focal persons (services.coordination)
    "primary_exists": "MOA already has a current primary focal person",
    "not_forwarded": "Need not forwarded",
    # rule sets (services.rule_migrations, docs/design.md §13)
    "stage_missing": "A stage the rule set lacks",
    # delegations (services.delegations)
    "delegation_overlaps": "Overlapping delegation",
    "delegation_ended": "Delegation already ended",
    "sign_off_duplicate": "Already signed off",
    # planning and scheduling (workflow.critical_path, workflow.optimiser)
    "dependency_cycle": "Dependencies form a cycle",
    "not_tracked": "PPA not tracked yet",
    "infeasible_constraints": "Constraints cannot all be met",
    "optimiser_time_limit": "Optimiser time limit reached",
    "nothing_to_optimise": "Nothing to optimise",
    # Idempotency-Key (web.idempotency)
    "bad_idempotency_key": "Bad idempotency key",
    "idempotency_key_in_progress": "Request in progress",
    "idempotency_key_reused": "Idempotency key reused",
    "response_lost": "Response lost",
}

PROBLEM_TYPE = "urn:ppaflow:problem:{code}"
PROBLEM_MIMETYPE = "application/problem+json"


def problem(status: int, code: str, title: str | None, detail: str, *, errors: dict | None = None,
            headers: dict | None = None, **extra: Any) -> Response:
    """Build a problem+json response.

    Args:
        status: the HTTP status.
        code: the stable problem code; it names the ``type`` and fixes the
            ``title`` (``PROBLEM_TITLES``).
        title: only used for a code missing from ``PROBLEM_TITLES``, which
            a test forbids (tests/api/test_contract.py).
        detail: what happened, for a person to read.
        errors: per-field messages (``{field: [message, ...]}``), for 422.
        headers: extra response headers.
        extra: further members (amounts, reasons, ...).
    """
    title = PROBLEM_TITLES.get(code) or title or http.HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE.format(code=code), "title": title, "status": status, "detail": detail,
        "code": code, "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if k not in body})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="ppaflow"')
    return response


def status_of(error: e.PpaflowError) -> int:
    """The HTTP status of a domain error."""
    for family, status in STATUS_BY_FAMILY:
        if isinstance(error, family):
            return status
    return 500


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as ``{"a.b": [msg, ...]}``."""
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            out.update(flatten_messages(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(messages, (list, tuple)) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    if isinstance(messages, (list, tuple)):
        out = {}
        for index, value in enumerate(messages):
            out.update(flatten_messages(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "_schema": [str(messages)]}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error response carries them.

    The members after ``errors`` belong to particular problems; a problem
    may add others (RFC 9457 §3.2), so clients must ignore members they do
    not know.
    """

    class Meta:
        unknown = ma.INCLUDE  # documents additionalProperties: true

    type = ma.fields.String(metadata={"description": "urn:ppaflow:problem:<code>"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    code = ma.fields.String(metadata={"description": "stable machine-readable code, e.g. budget_locked"})
    instance = ma.fields.String()
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                            metadata={"description": "per-field messages (422)"})
    level = ma.fields.String(metadata={"description": "budget_limit_exceeded: the level that would be "
                                                      "exceeded (appropriation, allotment, obligation)"})
    limit = ma.fields.String(metadata={"description": "budget_limit_exceeded: the level above, PHP"})
    committed = ma.fields.String(metadata={"description": "budget_limit_exceeded: already committed, PHP"})
    requested = ma.fields.String(metadata={"description": "budget_limit_exceeded: asked for, PHP"})
    available = ma.fields.String(metadata={"description": "budget_limit_exceeded: still available, PHP"})
    fiscal_year = ma.fields.Integer(metadata={"description": "outside_validity: the appropriation's fiscal year"})
    category = ma.fields.String(metadata={"description": "outside_validity: the validity category "
                                                         "(ps, mooe_operations, co_infrastructure, ...)"})
    step = ma.fields.String(metadata={"description": "outside_validity: release, obligation or disbursement"})
    deadline = ma.fields.String(metadata={"description": "outside_validity: the last day of the step under "
                                                         "the rule in force (absent: before the year begins)"})
    legal_basis = ma.fields.String(metadata={"description": "outside_validity: the act and section of the "
                                                            "rule in force"})
    trigger = ma.fields.String(metadata={"description": "invalid_transition: the transition asked for"})
    current = ma.fields.String(metadata={"description": "invalid_transition: the stage or status it was in"})
    field = ma.fields.String(metadata={"description": "duplicate: the field whose value is taken; "
                                                      "posted_row_immutable: the column refused"})
    table = ma.fields.String(metadata={"description": "posted_row_immutable: the table of the posted row"})
    over_allocated = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "validation_failed of a budget distribution: each work item whose children would hold "
                       "more than it, as {work_item_id, title, children_total, allocation} (PHP strings)"})


class ProblemApi(Api):
    """flask-smorest's ``Api`` answering every HTTP error with problem+json,
    and documenting it so."""

    ERROR_SCHEMA = ProblemSchema

    #: Headers that come with some problem responses.
    PROBLEM_HEADERS = {
        401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
        405: {"Allow": {"required": True, "schema": {"type": "string"},
                        "description": "the methods the resource has"}},
        429: {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1},
                              "description": "seconds to wait before the next request"}},
        503: {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    }

    def _register_responses(self):
        """Document every error response as ``application/problem+json``."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            if status in self.PROBLEM_HEADERS:
                response["headers"] = self.PROBLEM_HEADERS[status]
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_pagination_header(self):
        """``X-Pagination`` is documented where it is sent (``web.pagination``)."""

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        status = error.code or 500
        errors = None
        if "messages" in data:  # webargs validation errors: {location: {field: [...]}}
            messages = data["messages"]
            if isinstance(messages, dict) and len(messages) == 1 and next(iter(messages)) in (
                    "json", "query", "querystring", "headers", "view_args", "path", "form", "files"):
                messages = next(iter(messages.values()))
            errors = flatten_messages(messages)
        if isinstance(error, InternalServerError) and error.original_exception is not None:
            log.exception("unhandled error on %s %s", request.method, request.path,
                          exc_info=error.original_exception)
            detail = "an unexpected error occurred; it has been logged (request id %s)" % g.get("request_id", "-")
        else:
            detail = data.get("message") or error.description or error.name
        code = HTTP_CODES.get(status, "error")
        if status == 422 and errors:
            detail = e.summarize(errors)
        headers = dict(data.get("headers") or {})
        if allowed := dict(error.get_headers()).get("Allow"):  # 405 names the methods there are (RFC 9110 §15.5.6)
            headers["Allow"] = allowed
        return problem(status, code, None, detail, errors=errors, headers=headers)


def init_app(app: Flask) -> None:
    """Register the handler of domain errors (``workflow.errors``)."""

    @app.errorhandler(OperationalError)
    def handle_database_gone(error: OperationalError):
        """The database stopped answering mid-request (restarted, unreachable):
        503; the pool pre-pings, so the next request reconnects by itself."""
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is already gone
            db.session.remove()
        return problem(503, "service_unavailable", "Service unavailable",
                       "the database is not answering; retry shortly", headers={"Retry-After": "1"})

    app.register_error_handler(e.PpaflowError, domain_problem)


def domain_problem(error: e.PpaflowError) -> Response:
    """The problem+json response of a domain error (status by family)."""
    status = status_of(error)
    errors = error.errors if isinstance(error, e.ValidationFailed) else None
    headers = {"Retry-After": "1"} if status == 503 else None
    return problem(status, error.code, None, error.detail, errors=errors, headers=headers, **error.extra)
