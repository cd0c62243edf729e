"""Money, percentages and times as the pages show them (issue 11)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from web.ui.filters import local_date, local_datetime, money, percent, sentence


def test_money_is_shown_in_pesos_with_thousands_and_two_decimals():
    assert money(Decimal("1234567.89")) == "₱1,234,567.89"
    assert money(Decimal("5000000")) == "₱5,000,000.00"
    assert money(Decimal("-1500.5")) == "-₱1,500.50"
    assert money(Decimal("999999999999.99")) == "₱999,999,999,999.99"
    assert money(0) == "₱0.00"
    assert money(None) == "—"


def test_money_is_never_shown_from_a_float():
    with pytest.raises(TypeError):
        money(1234.5)


def test_percentages_have_one_decimal_rounded_half_up():
    assert percent(Decimal("12.35")) == "12.4%"
    assert percent(Fraction(1, 3) * 100) == "33.3%"
    assert percent(100) == "100.0%"
    assert percent(None) == "—"
    with pytest.raises(TypeError):
        percent(12.5)


def test_times_are_shown_in_manila(app):
    with app.app_context():
        moment = datetime(2025, 6, 5, 16, 30, tzinfo=UTC)  # 00:30 the next day in Manila (UTC+8)
        assert local_datetime(moment) == "6 Jun 2025, 00:30"
        assert local_date(moment) == "6 Jun 2025"
        assert local_date(date(2025, 6, 23)) == "23 Jun 2025"


def test_a_sentence_keeps_the_case_of_what_follows_its_first_letter():
    assert sentence("you submitted this PPA") == "You submitted this PPA"
