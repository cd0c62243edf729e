"""Exact money arithmetic for ppaflow (docs/design.md §2).

Amounts are Philippine pesos (PHP). In Python they are ``Decimal`` values
quantized to 0.01; in the database they are integer centavos; in JSON they are
strings with two decimals (``"5000000.00"``). Nothing here ever touches a
float.

Splitting an amount into parts uses the largest-remainder method on
centavos: every part is first given the floor of its exact share, then the
centavos still missing go one each to the parts with the largest remainders,
ties going to the earlier part. The parts always sum exactly to the whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from math import gcd, lcm

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: The largest amount ppaflow accepts: PHP 999,999,999,999.99 (14 digits,
#: the seeds' ``DecimalField(max_digits=14, decimal_places=2)``).
MAX_AMOUNT = Decimal("999999999999.99")
#: ``MAX_AMOUNT`` in centavos: no accumulated amount (a work item's or a
#: project's expenditure, a total) may go above it either.
MAX_CENTAVOS = 99_999_999_999_999
_AMOUNT_TEXT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,20})?")

#: Most significant digits any number ppaflow reads may have, and the
#: largest exponent (either sign) it may carry. No ppaflow number needs more
#: (amounts have 14 digits; weights are fractions of 1), and the bound keeps
#: arithmetic on them cheap: ``1E-20000000`` as a weight would otherwise be
#: scaled by 10**20000000 (issue 10, item 9).
MAX_DIGITS = 32
MAX_EXPONENT = 32
_NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


class AmountError(ValueError):
    """An amount that is not a valid PHP amount (bad syntax, sub-centavo
    precision, negative where not allowed, or above ``MAX_AMOUNT``)."""


class NumberError(AmountError):
    """A number beyond what ppaflow reads: more than ``MAX_DIGITS``
    significant digits or an exponent beyond ``MAX_EXPONENT``."""


NUMBER_BOUNDS = (f"must be a number of at most {MAX_DIGITS} digits with an exponent between "
                 f"-{MAX_EXPONENT} and {MAX_EXPONENT}")


def bounded_number(value: str | int | Decimal) -> int | Decimal:
    """A number checked against ``MAX_DIGITS`` and ``MAX_EXPONENT`` before
    any arithmetic is done with it.

    Args:
        value: JSON number text (``"12"``, ``"0.25"``, ``"1E-3"``), an int or
            a ``Decimal``.

    Returns:
        An ``int`` for integer text without fraction or exponent, else a
        ``Decimal`` (never a float).

    Raises:
        NumberError: not number text, not finite, too many digits, or an
            exponent out of bounds (``1E+999999999``, ``1E-20000000``).
    """
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 2 * MAX_DIGITS + 8 or not _NUMBER_TEXT.fullmatch(text):
            raise NumberError(NUMBER_BOUNDS)
        number: int | Decimal = int(text) if text.lstrip("-").isdigit() else Decimal(text)
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = value
    else:
        raise NumberError(NUMBER_BOUNDS)
    if isinstance(number, int):
        ok = -(10**MAX_DIGITS) < number < 10**MAX_DIGITS
    else:
        _sign, digits, exponent = number.as_tuple()
        ok = (number.is_finite() and len(digits) <= MAX_DIGITS and -MAX_EXPONENT <= exponent
              and exponent + len(digits) - 1 <= MAX_EXPONENT)
    if not ok:
        raise NumberError(NUMBER_BOUNDS)
    return number


def parse_amount(value: object, *, allow_negative: bool = False) -> Decimal:
    """Parse a PHP amount given as a string, int or Decimal.

    Args:
        value: ``"1500000.00"``, ``"1500000"``, ``1500000`` or a ``Decimal``.
            Floats are refused: they cannot represent centavos exactly.
        allow_negative: accept amounts below zero (adjustments).

    Returns:
        A ``Decimal`` quantized to 0.01.

    Raises:
        AmountError: not a number, more than two decimals, negative (unless
            allowed), or larger in magnitude than PHP 999,999,999,999.99.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise AmountError("must be a decimal string such as \"1500000.00\", not a float")
    if isinstance(value, int):
        amount = Decimal(bounded_number(value))
    elif isinstance(value, Decimal):
        amount = Decimal(bounded_number(value))
    elif isinstance(value, str):
        if not _AMOUNT_TEXT.fullmatch(value.strip()):
            raise AmountError(f"{value[:40]!r} is not an amount; use a decimal string such as \"1500000.00\"")
        amount = Decimal(value.strip())
    else:
        raise AmountError("must be a decimal string such as \"1500000.00\"")
    if not amount.is_finite():
        raise AmountError("must be a finite amount")
    if abs(amount) > MAX_AMOUNT:
        raise AmountError("must not exceed 999,999,999,999.99")
    if amount != amount.quantize(CENT):
        raise AmountError("has more than two decimal places (centavos are the smallest unit)")
    amount = amount.quantize(CENT)
    if amount < 0 and not allow_negative:
        raise AmountError("must not be negative")
    return amount


def to_centavos(amount: Decimal) -> int:
    """Convert a PHP ``Decimal`` amount to integer centavos (exact).

    Raises:
        AmountError: the amount has sub-centavo precision.
    """
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise AmountError(f"{amount} has more than two decimal places")
    return int(cents)


def from_centavos(centavos: int) -> Decimal:
    """Convert integer centavos to a PHP ``Decimal`` quantized to 0.01."""
    if -_EXACT_SCALE < centavos < _EXACT_SCALE:
        # Moving the decimal point two places is exact here and gives the same
        # Decimal as dividing by 100 and quantizing, at half the cost.
        return Decimal(centavos).scaleb(-2)
    return (Decimal(centavos) / 100).quantize(CENT)


#: Below this many centavos ``from_centavos`` shifts the decimal point
#: (well within the default context's 28 digits; any real amount is).
_EXACT_SCALE = 10**26


def format_amount(amount: Decimal | None) -> str | None:
    """Render a PHP amount for JSON: a string with exactly two decimals."""
    if amount is None:
        return None
    return str(amount.quantize(CENT))


#: ``".00"`` to ``".99"``: the centavos of a money string by index, so a
#: whole number of pesos and its centavos are joined without a format
#: (three times as fast as ``"%d.%02d" % divmod(...)``; a 10,000-item budget
#: tree shows 30,000 amounts and a distribution's audit rows 20,000:
#: docs/design.md §9).
CENTS = tuple(f".{cents:02d}" for cents in range(100))


def format_centavos(centavos: int | None) -> str | None:
    """Centavos as a JSON money string, exactly ``format_amount(from_centavos(centavos))``
    without building the ``Decimal``: ``123456`` -> ``"1234.56"``, ``-5`` ->
    ``"-0.05"``, ``None`` -> ``None`` (integer arithmetic only)."""
    if centavos is None:
        return None
    if centavos < 0:
        return "-" + str(-centavos // 100) + CENTS[-centavos % 100]
    return str(centavos // 100) + CENTS[centavos % 100]


def accounting(amount: Decimal | int | None) -> str:
    """A PHP amount in accounting format, as the printed reports show it
    (docs/design.md §8, "Print"): thousands separators and two decimals
    (half-up to the centavo), a negative in parentheses, zero as ``-``,
    nothing for ``None``: ``Decimal("-1234.5")`` -> ``"(1,234.50)"``.

    Raises:
        TypeError: a float (it cannot hold centavos exactly).
    """
    if amount is None:
        return ""
    if isinstance(amount, float) or isinstance(amount, bool):
        raise TypeError("money is shown from a Decimal, never a float")
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    if value == 0:
        return "-"
    text = f"{abs(value):,.2f}"
    return f"({text})" if value < 0 else text


def split_centavos(total: int, weights: Sequence[int | Decimal | Fraction]) -> list[int]:
    """Split ``total`` centavos over ``weights`` by the largest-remainder method.

    Args:
        total: the whole, in centavos (>= 0).
        weights: one non-negative weight per part, in part order (position,
            then creation order). Percentages, ratios or plain counts all
            work; only their proportions matter. At least one must be > 0.

    Returns:
        One integer amount of centavos per part; the parts sum exactly to
        ``total``. Each part is within one centavo of its exact share; the
        centavos left over after flooring go to the largest remainders, ties
        to the earlier part (docs/design.md §2).

    Raises:
        ValueError: ``total`` is negative, a weight is negative, or all
            weights are zero.

    Example: 500,000,000 centavos in three equal parts gives
    ``[166666667, 166666667, 166666666]``.
    """
    if total < 0:
        raise ValueError("cannot split a negative total")
    if not weights:
        raise ValueError("need at least one part to split into")
    integer_weights = _as_integers(weights)
    if any(w < 0 for w in integer_weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(integer_weights)
    if weight_sum == 0:
        raise ValueError("at least one weight must be positive")
    first = integer_weights[0]
    if all(w == first for w in integer_weights):
        # Equal weights (an equal split): every remainder is the same, so the
        # extra centavos go to the first parts; the same result as below
        # without a divmod per part.
        share, missing = divmod(total, len(integer_weights))
        return [share + 1] * missing + [share] * (len(integer_weights) - missing)
    # Exact integer arithmetic: part i is floor(total * w_i / W) plus maybe one
    # centavo; the remainders (total * w_i mod W) rank who gets the extras.
    parts, remainders = [], []
    for w in integer_weights:
        part, remainder = divmod(total * w, weight_sum)
        parts.append(part)
        remainders.append(remainder)
    missing = total - sum(parts)
    if missing:
        # Largest remainders first; a stable sort keeps ties in part order.
        for i in sorted(range(len(parts)), key=remainders.__getitem__, reverse=True)[:missing]:
            parts[i] += 1
    return parts


def _as_integers(weights: Sequence[int | Decimal | Fraction]) -> list[int]:
    """The weights scaled to integers with the same proportions (exact)."""
    if all(type(w) is int for w in weights):
        return list(weights)
    if all(type(w) is int or (type(w) is Decimal and w.is_finite()) for w in weights):
        # Scale every weight's exact ratio by the least common multiple of their denominators (powers
        # of 2 and 5): no digit tuple per weight, as scaling by 10**(most decimals) needed. Any common
        # scale gives the same split: the parts and the order of the remainders keep their proportions.
        ratios = [w.as_integer_ratio() for w in weights]
        scale = lcm(*(denominator for _, denominator in ratios))
        return [numerator * (scale // denominator) for numerator, denominator in ratios]
    fractions = [Fraction(w) for w in weights]
    common = 1
    for f in fractions:
        common = common * f.denominator // gcd(common, f.denominator)
    return [int(f * common) for f in fractions]


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part / whole × 100`` rounded half-up to 2 decimals, or ``None`` when
    ``whole`` is zero (a percentage of nothing is undefined)."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP)


def div_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero (denominator > 0)."""
    quotient = (2 * abs(numerator) + denominator) // (2 * denominator)
    return quotient if numerator >= 0 else -quotient
