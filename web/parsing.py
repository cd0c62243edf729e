"""Request parsing: exact and bounded JSON numbers, JSON-only bodies, text
that can go anywhere, body size limits, and the Money field.

JSON numbers are parsed as ``Decimal`` (never float), so an amount sent as a
number is as exact as one sent as a string, and every number is bounded in
digits and exponent (``workflow.money.bounded_number``) before anything
computes with it. Bodies must be JSON (415 otherwise) and valid UTF-8 JSON
(400 otherwise). Text with a character ``workflow.text`` refuses, and numbers
out of bounds, are 422 naming the field, in bodies and queries alike.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import IO, Any

import flask
import flask_smorest
from flask import request
from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, validate
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter, IntegerConverter
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from db.types import MAX_ROW_ID
from web import contract, pagination
from workflow.errors import ValidationFailed
from workflow.money import AmountError, NumberError, bounded_number, format_amount, parse_amount
from workflow.text import PORTABLE_FORBIDDEN_CLASS, text_problem

PAGING = frozenset({"page", "page_size"})

TEXT_PATTERN = f"^[^{PORTABLE_FORBIDDEN_CLASS}]*$"
"""The characters ``workflow.text`` refuses (those a portable pattern can name), as the OpenAPI ``pattern`` of every text field and
query parameter: what the document allows, the server accepts."""


def document_text(_converter, field: fields.Field, ret: dict, **_kwargs) -> dict:
    """apispec attribute function: the ``pattern`` of a text field (one
    without a pattern of its own), so the OpenAPI document refuses the
    characters the parser refuses."""
    if isinstance(field, fields.String) and "pattern" not in ret and "enum" not in ret:
        return {"pattern": TEXT_PATTERN}
    return {}


MAX_DEPTH = 32
"""Deepest nesting of arrays and objects a JSON body may have (no ppaflow
request needs more than 3)."""


class RefusedNumber:
    """A JSON number out of ``workflow.money``'s bounds, kept in the decoded
    body in its place until ``input_errors`` names its field."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


def json_number(text: str) -> int | Decimal | RefusedNumber:
    """``json.loads``' hook for numbers: an ``int`` or ``Decimal`` within
    bounds, else a ``RefusedNumber`` (never an exception mid-parse, never a
    4,301-digit int conversion)."""
    try:
        return bounded_number(text)
    except NumberError as exc:
        return RefusedNumber(str(exc))


def input_errors(value: Any, depth: int = 0) -> dict | list | None:
    """Per-field messages for the strings in ``value`` (decoded JSON or a
    query) holding a character ``workflow.text`` refuses, and for numbers out
    of bounds; shaped like marshmallow's error messages (``{"title": [...]}``,
    ``{"weights": {"12": [...]}}``); None when there are none.

    Raises:
        ValueError: ``value`` is nested deeper than ``MAX_DEPTH``.
    """
    if isinstance(value, str):
        problem = text_problem(value)
        return [problem] if problem else None
    if isinstance(value, RefusedNumber):
        return [value.message]
    if depth >= MAX_DEPTH and isinstance(value, (dict, list)):
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        errors = {}
        for key, item in value.items():
            found = input_errors(str(key)) or input_errors(item, depth + 1)
            if found:
                errors[field_name(str(key))] = found
        return errors or None
    if isinstance(value, list):
        errors = {index: found for index, item in enumerate(value)
                  if (found := input_errors(item, depth + 1))}
        return errors or None
    return None


def field_name(name: str) -> str:
    """A field name as an error message may show it: a name holding a
    refused character is shown with Python escapes (``ti\\u202etle``)."""
    return name.encode("unicode_escape").decode("ascii") if text_problem(name) else name


#: Argument schema class -> its one instance (``Parser._get_schema``).
_SCHEMAS: dict[type, Any] = {}


class Parser(FlaskParser):
    """webargs' Flask parser with ``Decimal`` numbers and JSON-only bodies.

    Unknown query parameters are refused like unknown body fields; refused
    characters in any string of a body or query, and numbers out of bounds,
    are 422 naming the field (``input_errors``).
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}

    def load_querystring(self, req: flask.Request, schema) -> Any:
        """The query, without the paginator's ``page`` and ``page_size`` for
        the schemas that do not declare them (the paginator reads them)."""
        errors = {field_name(key): found for key, value in req.args.items(multi=True)
                  if (found := input_errors(key) or input_errors(value))}
        if errors:
            raise ValidationError(errors)
        if PAGING & set(schema.fields):
            return super().load_querystring(req, schema)
        kept = MultiDict([(k, v) for k, v in req.args.items(multi=True) if k not in PAGING])
        return MultiDictProxy(kept, schema)

    def _raw_load_json(self, req: flask.Request) -> Any:
        data = req.get_data(cache=True)
        if not is_json_request(req):
            if data:
                abort(415, message="request bodies must be JSON (Content-Type: application/json)")
            return core.missing
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"body is not valid UTF-8: {exc.reason}", doc="?", pos=exc.start) from exc
        try:
            data = json.loads(text, parse_float=json_number, parse_int=json_number, parse_constant=_no_constants)
        except RecursionError:
            raise json.JSONDecodeError("body is nested too deeply", doc="?", pos=0) from None
        try:
            errors = input_errors(data)
        except ValueError as exc:
            raise json.JSONDecodeError(f"body is {exc}", doc="?", pos=0) from None
        if errors:
            raise ValidationError(errors)
        return data

    def _get_schema(self, argmap, req: flask.Request):
        """One instance per argument schema class (``@blp.arguments(SomeSchema)``),
        built at its first request, instead of one per request: a schema is
        not changed by loading, and building one costs more than the load."""
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = _SCHEMAS.get(argmap)
            if schema is None:
                schema = _SCHEMAS.setdefault(argmap, argmap())
            return schema
        return super()._get_schema(argmap, req)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, message=f"malformed JSON body: {error}")


def init_app(app: flask.Flask) -> None:
    """Refuse query parameters on API operations that declare none (422,
    ``Unknown field.`` per parameter), as the ``Parser`` refuses unknown
    ones where a query schema is declared; paginated operations take
    ``page`` and ``page_size``."""

    @app.before_request
    def refuse_undeclared_query() -> None:
        if not request.args or request.endpoint is None or not request.path.startswith("/api"):
            return
        view_class = getattr(app.view_functions[request.endpoint], "view_class", None)
        documented = getattr(getattr(view_class, request.method.lower(), None), "_apidoc", None)
        if documented is None:  # not an API operation (the OpenAPI document)
            return
        if any(p["in"] == "query" for p in documented.get("arguments", {}).get("parameters", [])):
            return
        unknown = set(request.args) - (PAGING if "pagination" in documented else set())
        if unknown:
            raise ValidationFailed({name: ["Unknown field."] for name in sorted(unknown)})


def _no_constants(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not allowed", doc=name, pos=0)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest Blueprint using ppaflow's ``Parser``; lists are paged 20
    at a time by default, 200 at most (``page``, ``page_size``, the
    ``X-Pagination`` header of ``web.pagination``). Every operation is
    documented with the headers and problem responses of ``web.contract``."""

    ARGUMENTS_PARSER = Parser()
    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 20, "max_page_size": 200}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(contract.document_operation)

    @staticmethod
    def accepts_if_match(func):
        """Mark a view (a transition, a cancellation) as honouring an optional
        ``If-Match``: documented as a header parameter, with 412 when stale.
        A ``PATCH`` needs no mark: it always requires ``If-Match``."""
        func._apidoc = {**getattr(func, "_apidoc", {}), contract.CONDITIONAL: "optional"}
        return func

    def links(self, status: int, **links: dict):
        """Document the OpenAPI ``links`` (``web.contract.link``) of the
        ``status`` response, by name."""
        return self.doc(responses={status: {"links": links}})

    @staticmethod
    def _make_pagination_metadata(page, page_size, item_count):
        return pagination.metadata(page, page_size, item_count)

    def _document_pagination_metadata(self, spec, resp_doc):
        resp_doc.setdefault("headers", {})[pagination.HEADER] = pagination.HEADER_DOC


class RowIdConverter(IntegerConverter):
    """URL converter ``<id:name>``: a row id from 1 to ``MAX_ROW_ID``.

    Anything else (0, a 20-digit number) matches no route and answers 404
    instead of reaching the database as an out-of-range integer.
    """

    def __init__(self, url_map, min: int = 1, max: int = MAX_ROW_ID) -> None:  # noqa: A002 - werkzeug's names
        super().__init__(url_map, min=min, max=max)


class JobIdConverter(BaseConverter):
    """URL converter ``<job:name>``: a job id (``jobs/queue.py`` makes them
    from UUIDs); anything else matches no route (404)."""

    regex = r"[0-9A-Za-z-]{1,36}"
    SCHEMA = {"type": "string", "pattern": f"^{regex}$"}


def RowId(*, strict: bool = True, **kwargs) -> fields.Integer:  # noqa: N802 - reads as a field class
    """A field holding a row id, 1 to ``MAX_ROW_ID``; ``strict=False`` for
    query strings, where ids arrive as text."""
    return fields.Integer(strict=strict, validate=validate.Range(1, MAX_ROW_ID), **kwargs)


class Money(fields.Field):
    """A PHP amount: a string with two decimals in JSON (``"5000000.00"``),
    a ``Decimal`` in Python. Accepts strings, integers and exact JSON numbers;
    refuses floats, more than two decimals, negatives (unless
    ``allow_negative``), zero (when ``positive`` or ``nonzero``) and amounts above
    999,999,999,999.99 (docs/design.md §2).

    The OpenAPI ``pattern`` says the same of the strings it documents, in
    both directions: a request amount has at most 12 digits before the
    point (``MAX_AMOUNT``) and a minus only where negatives are allowed; a
    response amount (``as_reply``) always has two decimals and may be a
    total of up to 17 digits (the largest sum of BIGINT centavos).
    """

    REQUEST_DIGITS, REPLY_DIGITS = 12, 17

    def __init__(self, *, allow_negative: bool = False, positive: bool = False, nonzero: bool = False, **kwargs):
        self.allow_negative, self.positive, self.nonzero = allow_negative, positive, nonzero
        sign = "-?" if allow_negative else ""
        digits = self.REQUEST_DIGITS
        not_zero = rf"([1-9][0-9]{{0,{digits - 1}}}(\.[0-9]{{1,2}})?|0\.(0[1-9]|[1-9][0-9]?))"
        pattern = (rf"^{not_zero}$" if positive else rf"^{sign}{not_zero}$" if nonzero else
                   rf"^{sign}[0-9]{{1,{digits}}}(\.[0-9]{{1,2}})?$")
        metadata = {"example": "5000000.00", "pattern": pattern,
                    "description": "PHP amount as a decimal string"} | kwargs.pop("metadata", {})
        super().__init__(metadata=metadata, **kwargs)

    def as_reply(self) -> None:
        """Document this field as a response amount (see the class docstring)."""
        sign = "-?" if self.allow_negative else ""
        self.metadata = self.metadata | {"pattern": rf"^{sign}[0-9]{{1,{self.REPLY_DIGITS}}}\.[0-9]{{2}}$"}

    def _serialize(self, value: Decimal | None, attr, obj, **kwargs) -> str | None:
        return format_amount(value)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> Decimal:
        try:
            amount = parse_amount(value, allow_negative=self.allow_negative)
        except AmountError as exc:
            raise ValidationError(str(exc)) from None
        if self.positive and amount <= 0:
            raise ValidationError("must be at least 0.01")
        if self.nonzero and amount == 0:
            raise ValidationError("must not be zero")
        return amount


class Percent(fields.Field):
    """A percentage rounded to 2 decimals, as a JSON number (``null`` when undefined)."""

    def _serialize(self, value: Decimal | None, attr, obj, **kwargs) -> float | None:
        return None if value is None else float(value)  # percent: 2-decimal display number, not money


class Weight(fields.Decimal):
    """A weight of a weighted distribution: a JSON number or a decimal
    string, read as an exact ``Decimal`` within ``workflow.money``'s digit and
    exponent bounds (so ``1E-20000000`` is refused before any split, issue 10
    item 9); NaN and infinities are refused."""

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> Decimal:
        try:
            value = bounded_number(value)
        except NumberError as exc:
            raise ValidationError(str(exc)) from None
        return super()._deserialize(value, attr, data, **kwargs)


class WeightMap(fields.Dict):
    """``work item id -> weight`` of a weighted distribution: ``RowId`` keys
    (JSON object keys, so text) and ``Weight`` values, as
    ``fields.Dict(keys=RowId(strict=False), values=Weight())`` reads them.

    A map that is all well-formed is read in one loop, with the same
    conversions as those fields (``int`` of the key, in range; the
    ``Decimal`` of ``bounded_number``'s number): 10,000 weights no longer
    cost two rounds of marshmallow's per-field machinery each. Anything to
    refuse goes through ``fields.Dict`` itself, for its messages.
    """

    def __init__(self, **kwargs):
        super().__init__(keys=RowId(strict=False), values=Weight(), **kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> dict[int, Decimal]:
        if type(value) is dict:  # a decoded JSON object, exactly
            try:
                return {_row_id_key(key): _decimal(bounded_number(weight)) for key, weight in value.items()}
            except (ValueError, TypeError, ArithmeticError):  # something to refuse: fields.Dict names it
                pass
        return super()._deserialize(value, attr, data, **kwargs)


def _decimal(number: int | Decimal) -> Decimal:
    """``Decimal(str(number))`` of ``bounded_number``'s number, exactly (a
    ``Decimal``'s text gives back the same digits and exponent), without
    the round trip through text for one that is a ``Decimal`` already."""
    return number if type(number) is Decimal else Decimal(number)


def _row_id_key(key: Any) -> int:
    """A row id given as a JSON object key, as ``RowId(strict=False)``
    reads it; raises ``ValueError`` for anything it would refuse."""
    if type(key) is not str:
        raise TypeError(key)
    number = int(key)
    if not 1 <= number <= MAX_ROW_ID:
        raise ValueError(key)
    return number


#: What an upload request may carry besides its file (the rest of the form, the multipart framing), bytes.
FORM_ALLOWANCE = 1024 * 1024


def takes_files(view):
    """Mark a view (a function, or a ``MethodView`` method) as taking file
    uploads: its requests may be as large as ``ATTACHMENT_MAX_BYTES`` plus
    ``FORM_ALLOWANCE``, instead of ``MAX_CONTENT_LENGTH`` (``Request``), so
    the service can refuse an oversized file with a message naming the
    field rather than the server cutting it off."""
    view.takes_files = True
    return view


def _takes_files(req: flask.Request) -> bool:
    """The view ``req`` is routed to takes file uploads (``takes_files``)."""
    if req.url_rule is None or not flask.has_app_context():
        return False
    view = flask.current_app.view_functions.get(req.endpoint)
    method = getattr(getattr(view, "view_class", None), req.method.lower(), None)
    return bool(getattr(method or view, "takes_files", False))


class Request(flask.Request):
    """Flask's request, except that a streamed body (``Transfer-Encoding:
    chunked``, no ``Content-Length``) longer than ``MAX_CONTENT_LENGTH`` is
    413, never silently cut to the limit and read as if complete (werkzeug
    stops reading at the limit without saying so), and that a view marked
    ``takes_files`` takes bodies up to ``ATTACHMENT_MAX_BYTES`` plus
    ``FORM_ALLOWANCE``."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and _takes_files(self):
            return flask.current_app.config["ATTACHMENT_MAX_BYTES"] + FORM_ALLOWANCE
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        if self.shallow or limit is None or self.content_length is not None \
                or "wsgi.input_terminated" not in self.environ:
            return super().stream
        return _StreamedBodyLimit(self.environ["wsgi.input"], limit)


class _StreamedBodyLimit(LimitedStream):
    """Reads a streamed body of at most ``maximum`` bytes; one byte more is
    ``RequestEntityTooLarge`` (413)."""

    def __init__(self, stream: IO[bytes], maximum: int):
        super().__init__(stream, maximum + 1, is_max=True)

    def readinto(self, b) -> int | None:  # noqa: D102 - io.RawIOBase's
        size = super().readinto(b)
        if self.is_exhausted:  # maximum + 1 bytes arrived
            raise RequestEntityTooLarge()
        return size
