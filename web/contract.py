"""The HTTP contract every API operation shares (docs/design.md §5), in one
place, so that an operation added later gets it without asking.

- A ``PATCH`` must carry ``If-Match`` with the ETag of the last read:
  without it the answer is ``428 Precondition Required`` (RFC 6585 §3),
  before anything is read or written, so a lost update is impossible by
  default. A stale one is 412 (``services.concurrency``).
- A ``POST`` may carry ``Idempotency-Key`` (``web.idempotency``); the
  transitions, cancellations and voids may carry ``If-Match`` too.
- The OpenAPI document declares those headers as parameters, and the
  problem responses each operation can give: 401 and 429 everywhere, 422
  for every operation (unknown query parameters are refused even where
  none are declared), 409 for every write, 412 and 428 where ``If-Match``
  is read.

``document_operation`` is one of the ``Blueprint``'s documentation
callbacks (``web.parsing.Blueprint``); ``init_app`` installs the 428.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from web.errors import problem

IF_MATCH = "If-Match"
IDEMPOTENCY_KEY = "Idempotency-Key"
CONDITIONAL = "if_match"
"""Key of an operation's documentation info marking it as reading an optional ``If-Match``."""

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
PDF = "application/pdf"
BINARY = {"type": "string", "format": "binary"}
"""The schema of a file body (a workbook, a CSV export, a PDF)."""

ETAG_HEADER = {"ETag": {"description": "the version of the returned record; send it back as If-Match",
                        "required": True, "schema": {"type": "string", "example": '"3"'}}}
#: The ETag of a read answered 304 while it is current (``If-None-Match``; the budget tree, docs/design.md §5).
READ_ETAG_HEADER = {"ETag": {"description": "the version of this answer (a strong tag); send it back as "
                                            "If-None-Match to be answered 304, without a body, while it is current",
                             "required": True, "schema": {"type": "string", "example": '"tree-12-0f3c9a51d2e47b86aa10c3d4"'}}}
IF_NONE_MATCH = "If-None-Match"
IF_NONE_MATCH_PARAMETER = {
    "name": IF_NONE_MATCH, "in": "header", "required": False, "schema": {"type": "string", "minLength": 1},
    "description": "the ETag of an answer you hold (several, comma-separated, or *): when one is still current "
                   "the answer is 304 with no body",
}
LOCATION_HEADER = {"Location": {"description": "where the created record can be read", "required": True,
                                "schema": {"type": "string"}}}


def link(method: str, path: str, description: str, *, parameters: dict[str, str] | None = None,
         body: dict[str, str] | None = None) -> dict[str, Any]:
    """An OpenAPI link from a response to the operation ``method path``
    (``path`` as the document spells it, ``/api/work-items/{item_id}``):
    ``parameters`` and ``body`` fields filled from the response by runtime
    expressions (``$response.body#/id``, ``$response.header.ETag``). Clients
    and schemathesis' stateful mode follow them from a record to what can
    be done with it next."""
    out: dict[str, Any] = {
        "operationRef": "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method.lower(),
        "description": description,
    }
    if parameters:
        out["parameters"] = parameters
    if body:
        out["requestBody"] = body
    return out


def if_match_parameter(*, required: bool) -> dict[str, Any]:
    """The ``If-Match`` header parameter, required on PATCH."""
    return {"name": IF_MATCH, "in": "header", "required": required, "schema": {"type": "string", "minLength": 1},
            "description": "the ETag of your last read of the record (or *): a stale one is refused with 412"
                           + ("; without it the answer is 428" if required else "")}


IDEMPOTENCY_KEY_PARAMETER = {
    "name": IDEMPOTENCY_KEY, "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x21-\x7e]+$"},
    "description": "a key of your choosing (1 to 255 printable ASCII characters): a retry with the same key "
                   "returns the first response instead of doing the work again",
}

#: Problem responses (components registered by ``web.errors.ProblemApi``) by status.
PROBLEM_RESPONSES = {401: "UNAUTHORIZED", 409: "CONFLICT", 412: "PRECONDITION_FAILED",
                     422: "UNPROCESSABLE_ENTITY", 428: "PRECONDITION_REQUIRED", 429: "TOO_MANY_REQUESTS"}


def document_operation(doc: dict, doc_info: dict, *, method: str, **_kwargs: Any) -> dict:
    """Add the shared headers and problem responses to one operation's
    OpenAPI ``doc`` (a flask-smorest documentation callback; ``doc_info``
    holds what the view's decorators recorded)."""
    method = method.upper()
    conditional = "required" if method == "PATCH" else doc_info.get(CONDITIONAL)
    statuses = [401, 422, 429]
    parameters = doc.setdefault("parameters", [])
    if conditional:
        parameters.append(if_match_parameter(required=conditional == "required"))
        if method != "GET":
            statuses.append(412)
        if conditional == "required":
            statuses.append(428)
    if method == "POST":
        parameters.append(IDEMPOTENCY_KEY_PARAMETER)
    if method != "GET":
        statuses.append(409)
    responses = doc.setdefault("responses", {})
    for status in statuses:
        if status not in responses and str(status) not in responses:
            responses[status] = PROBLEM_RESPONSES[status]
    return doc


def init_app(app: Flask) -> None:
    """Answer 428 to a ``PATCH`` of an API operation without ``If-Match``
    (after authentication: an anonymous caller still gets 401)."""

    @app.before_request
    def require_if_match():
        if (request.method != "PATCH" or request.routing_exception is not None
                or not request.path.startswith("/api") or IF_MATCH in request.headers):
            return None
        return problem(428, "precondition_required", "Precondition required",
                       f"send {IF_MATCH} with the ETag of your last read of this record (or *): "
                       "a PATCH without it could overwrite a change you have not seen")
