"""The amount in words printed on the ORS and DV forms (services/printing.py
``amount_in_words``; docs/design.md §8 "Forms"): pesos and centavos, exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.printing import amount_in_words


@pytest.mark.parametrize(("amount", "words"), [
    ("1250000.50", "One million two hundred fifty thousand pesos and 50/100"),
    ("1.00", "One peso only"),
    ("0.05", "Zero pesos and 05/100"),
    ("21", "Twenty-one pesos only"),
    ("999999999.99", ("Nine hundred ninety-nine million nine hundred ninety-nine thousand nine hundred "
                      "ninety-nine pesos and 99/100")),
    ("2000000000115.00", "Two trillion one hundred fifteen pesos only"),
])
def test_an_amount_is_written_in_pesos_and_centavos(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_a_float_or_a_negative_amount_is_refused():
    with pytest.raises(TypeError):
        amount_in_words(0.1)
    with pytest.raises(ValueError):
        amount_in_words(Decimal("-1.00"))
