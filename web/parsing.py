"""Request parsing: exact JSON numbers, JSON-only bodies, and the Money field.

JSON numbers are parsed as ``Decimal`` (never float), so an amount sent as a
number is as exact as one sent as a string. Bodies must be JSON
(415 otherwise) and valid UTF-8 JSON (400 otherwise).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import flask
import flask_smorest
from flask_smorest import abort
from marshmallow import ValidationError, fields
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from workflow.money import AmountError, format_amount, parse_amount


class Parser(FlaskParser):
    """webargs' Flask parser with ``Decimal`` numbers and JSON-only bodies."""

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
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constants)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, message=f"malformed JSON body: {error}")


def _no_constants(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not allowed", doc=name, pos=0)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest Blueprint using ppaflow's ``Parser``; lists are paged 20
    at a time by default, 200 at most (``page``, ``page_size``)."""

    ARGUMENTS_PARSER = Parser()
    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 20, "max_page_size": 200}


class Money(fields.Field):
    """A PHP amount: a string with two decimals in JSON (``"5000000.00"``),
    a ``Decimal`` in Python. Accepts strings, integers and exact JSON numbers;
    refuses floats, more than two decimals, negatives and amounts above
    999,999,999,999.99 (DESIGN §2)."""

    def __init__(self, *, allow_negative: bool = False, **kwargs):
        self.allow_negative = allow_negative
        metadata = {"example": "5000000.00", "pattern": r"^-?\d{1,12}(\.\d{1,2})?$",
                    "description": "PHP amount as a decimal string"} | kwargs.pop("metadata", {})
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: Decimal | None, attr, obj, **kwargs) -> str | None:
        return format_amount(value)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> Decimal:
        try:
            return parse_amount(value, allow_negative=self.allow_negative)
        except AmountError as exc:
            raise ValidationError(str(exc)) from None


class Percent(fields.Field):
    """A percentage rounded to 2 decimals, as a JSON number (``null`` when undefined)."""

    def _serialize(self, value: Decimal | None, attr, obj, **kwargs) -> float | None:
        return None if value is None else float(value)  # percent: 2-decimal display number, not money
