"""Exact money: parsing and largest-remainder splits (docs/design.md §2)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import lcm

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.money import (
    AmountError,
    NumberError,
    bounded_number,
    from_centavos,
    parse_amount,
    percent,
    split_centavos,
    to_centavos,
)


def php(text: str) -> int:
    return to_centavos(Decimal(text))


def test_five_million_in_three_equal_parts_gives_the_extra_centavo_to_the_first_two():
    parts = split_centavos(php("5000000.00"), [1, 1, 1])

    assert [from_centavos(p) for p in parts] == [Decimal("1666666.67"), Decimal("1666666.67"), Decimal("1666666.66")]


def test_weighted_split_of_the_seed_example():
    parts = split_centavos(php("5000000.00"), [Decimal("0.30"), Decimal("0.50"), Decimal("0.20")])

    assert [from_centavos(p) for p in parts] == [Decimal("1500000.00"), Decimal("2500000.00"), Decimal("1000000.00")]


def test_largest_remainder_not_first_or_last():
    # 0.10 over weights 1:1:2 -> exact shares 2.5, 2.5, 5 centavos; the half
    # centavos tie and the earlier part wins.
    assert split_centavos(10, [1, 1, 2]) == [3, 2, 5]
    # 0.11 over 3:3:3:2 -> shares 3, 3, 3, 2 exactly.
    assert split_centavos(11, [3, 3, 3, 2]) == [3, 3, 3, 2]
    # 0.07 over 1:2:4 -> shares 1, 2, 4.
    assert split_centavos(7, [1, 2, 4]) == [1, 2, 4]
    # 0.10 over 1:1:1 -> 3.33 each; one leftover centavo goes to the first.
    assert split_centavos(10, [1, 1, 1]) == [4, 3, 3]


@given(total=st.integers(min_value=0, max_value=99_999_999_999_999),
       weights=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=60))
def test_any_split_sums_exactly_and_each_part_is_within_a_centavo_of_its_share(total, weights):
    parts = split_centavos(total, weights)

    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part * weight_sum - total * weight) < weight_sum  # |part - share| < 1 centavo


@given(total=st.integers(min_value=0, max_value=10**12),
       weights=st.lists(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000"), places=4),
                        min_size=1, max_size=30))
def test_decimal_weights_also_sum_exactly(total, weights):
    assert sum(split_centavos(total, weights)) == total


def _largest_remainder_as_written(total: int, weights: list[int]) -> list[int]:
    """docs/design.md §2 word for word: floors first, then one centavo each
    to the largest remainders, ties to the earlier part."""
    weight_sum = sum(weights)
    parts = [total * w // weight_sum for w in weights]
    ranked = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for i in ranked[:total - sum(parts)]:
        parts[i] += 1
    return parts


@given(total=st.integers(min_value=0, max_value=99_999_999_999_999),
       weights=st.one_of(
           st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=60),
           st.builds(lambda w, n: [w] * n, st.integers(min_value=1, max_value=10**9), st.integers(1, 500))))
def test_any_split_gives_exactly_the_centavos_the_largest_remainder_rule_gives(total, weights):
    if sum(weights):
        assert split_centavos(total, weights) == _largest_remainder_as_written(total, weights)


@given(total=st.integers(min_value=0, max_value=10**12),
       weights=st.lists(st.one_of(st.integers(min_value=0, max_value=9), st.builds(
           lambda digits, exponent: Decimal(digits).scaleb(exponent),  # 0.25, 1E+2, 0.000003, 0.50 ...
           st.integers(0, 10**6), st.integers(-20, 3))), min_size=1, max_size=30))
def test_decimal_weights_split_exactly_as_the_rule_on_their_exact_ratios(total, weights):
    fractions = [Fraction(w) for w in weights]
    common = lcm(*(f.denominator for f in fractions))
    if sum(fractions):
        assert split_centavos(total, weights) == _largest_remainder_as_written(
            total, [int(f * common) for f in fractions])


def test_an_equal_split_gives_the_extra_centavos_to_the_first_parts():
    assert split_centavos(10_002, [7] * 10_000) == [2, 2] + [1] * 9_998


def test_split_refuses_nonsense():
    with pytest.raises(ValueError):
        split_centavos(100, [0, 0])
    with pytest.raises(ValueError):
        split_centavos(100, [1, -1])
    with pytest.raises(ValueError):
        split_centavos(-1, [1])


@pytest.mark.parametrize("value, expected", [
    ("0.01", Decimal("0.01")), ("999999999999.99", Decimal("999999999999.99")), (5000000, Decimal("5000000.00")),
    (Decimal("12.5"), Decimal("12.50")), (" 7 ", Decimal("7.00")),
])
def test_parse_amount_accepts_exact_amounts(value, expected):
    assert parse_amount(value) == expected


@pytest.mark.parametrize("value", [
    0.1, True, "1e3", "NaN", "12.345", "-0.01", "1000000000000.00", "", "1,000.00", Decimal("Infinity"),
    Decimal("1E+400"), Decimal("1E+999999999"), Decimal("-1E+999999999"), Decimal("1E-999999999"), pytest.param(10**5000, id="int-of-5001-digits"),
])
def test_parse_amount_refuses_inexact_or_out_of_range(value):
    with pytest.raises(AmountError):
        parse_amount(value)


def test_centavos_round_trip_at_the_edges():
    for text in ("0.00", "0.01", "999999999999.99"):
        assert from_centavos(php(text)) == Decimal(text)


@given(st.integers(min_value=-(10**27), max_value=10**27))
def test_centavos_become_the_decimal_that_dividing_by_100_and_quantizing_gives(centavos):
    expected = (Decimal(centavos) / 100).quantize(Decimal("0.01"))
    assert from_centavos(centavos).as_tuple() == expected.as_tuple()


def test_percent_is_rounded_half_up_and_undefined_for_zero():
    assert percent(1, 3) == Decimal("33.33")
    assert percent(2, 3) == Decimal("66.67")
    assert percent(1, 0) is None


@pytest.mark.parametrize("text, expected", [
    ("12", 12), ("-3", -3), ("0.25", Decimal("0.25")), ("1E-3", Decimal("0.001")), ("2.5e+2", Decimal("250")),
    ("9" * 32, int("9" * 32)), ("0." + "0" * 31 + "1", Decimal("1E-32")),
])
def test_numbers_within_bounds_are_read_exactly(text, expected):
    number = bounded_number(text)

    assert number == expected and type(number) is type(expected)


@pytest.mark.parametrize("value", [
    "1E-20000000", "1E+999999999", "9" * 33, "1" * 5000, "0." + "0" * 32 + "1", "1E+33", "NaN", "Infinity", "0x10",
    "", Decimal("1E-20000000"), Decimal("NaN"), 10**33, True, 0.5,
])
def test_numbers_beyond_the_digit_or_exponent_bound_are_refused(value):
    with pytest.raises(NumberError, match="at most 32 digits"):
        bounded_number(value)
