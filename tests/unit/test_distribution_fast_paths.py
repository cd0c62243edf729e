"""The shortcuts of a large distribution (issue 17 item 3) answer exactly
as the general code they stand in for: money rendered for the audit log
from centavos, and the weights of a weighted distribution read in one loop."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st
from marshmallow import ValidationError, fields

from db.audit import render, render_centavos
from db.bulk import json_rows
from db.types import MAX_ROW_ID
from web.parsing import RefusedNumber, RowId, Weight, WeightMap
from workflow.money import from_centavos, split_centavos

BIGINT = st.integers(-(2**63), 2**63 - 1)


@given(BIGINT | st.none())
def test_an_amount_in_centavos_is_rendered_for_the_audit_log_as_its_decimal_is(centavos):
    assert render_centavos(centavos) == render(None if centavos is None else from_centavos(centavos))


def _read(field: fields.Field, value) -> tuple:
    """What ``field`` makes of ``value``: the result with each value's exact
    text (a Decimal's exponent included), or the error messages."""
    try:
        result = field.deserialize(value)
    except ValidationError as error:
        return "refused", error.messages
    return "read", [(type(key), key, type(weight), str(weight)) for key, weight in result.items()]


KEYS = (st.integers(-5, MAX_ROW_ID + 5).map(str) | st.sampled_from(["01", " 7 ", "+3", "1_0", "x", "", "2147483647"])
        | st.text(max_size=4))
WEIGHTS = (st.decimals(allow_nan=True, allow_infinity=True) | st.decimals(allow_nan=False).map(str)
           | st.integers(-(10**40), 10**40) | st.sampled_from(["0.25", " 0.5 ", "1E-20000000", "1e3", "NaN", "", "-0"])
           | st.none() | st.booleans() | st.floats() | st.text(max_size=6)
           | st.builds(RefusedNumber, st.just("must be a number")))


@given(st.dictionaries(KEYS, WEIGHTS, max_size=6) | st.lists(st.integers(), max_size=2) | st.text(max_size=3))
def test_weights_are_read_as_a_dict_of_row_ids_and_weights_reads_them(value):
    assert _read(WeightMap(), value) == _read(fields.Dict(keys=RowId(strict=False), values=Weight()), value)


def test_ten_thousand_well_formed_weights_are_read_as_exact_decimals_by_id():
    weights = {str(i): str(Decimal(1 + i % 2) / Decimal(15000)) for i in range(2, 10002)}

    read = WeightMap().deserialize(weights)

    assert read == {int(key): Decimal(value) for key, value in weights.items()}


DECIMAL_WEIGHTS = st.lists(st.decimals(min_value=0, max_value=10**6, allow_nan=False, allow_infinity=False)
                           | st.integers(0, 10**6), min_size=1, max_size=30)


@given(st.integers(0, 10**15), DECIMAL_WEIGHTS)
def test_decimal_weights_split_a_total_as_their_exact_fractions_do(total, weights):
    assume(any(weights))
    assert split_centavos(total, weights) == split_centavos(total, [Fraction(w) for w in weights])


@given(st.lists(st.one_of(st.integers(min_value=-2**64, max_value=2**64), st.text(), st.none()), min_size=1))
def test_rows_sent_to_sqlite_as_json_come_back_as_the_driver_would_bind_them(values):
    """The SQLite set-based writes read their rows back from one JSON
    parameter (``db.bulk.json_rows``); whatever JSON would not give back
    exactly (2**63 and above come back as a REAL, text is cut at a NUL)
    must go by ``executemany`` instead (``None``)."""
    rows = json_rows([values])
    if rows is None:
        return
    with sqlite3.connect(":memory:") as connection:
        back = [row[0] for row in connection.execute("SELECT json_extract(value, '$[0]') FROM json_each(?)", (rows,))]
    assert [(type(v), v) for v in back] == [(type(v), v) for v in values]


def test_an_integer_sqlite_would_read_back_from_json_as_a_real_is_not_sent_as_json():
    assert json_rows([[2**63]]) is None
    assert json_rows([[2**53 + 1]]) is None
    assert json_rows([[10**14, "a", None]]) == '[[100000000000000],["a"],[null]]'
