"""User text (workflow/text.py, issue 10 items 2 and 12): which characters are
refused, what counts as a blank comment, and CSV fields that spreadsheets
read as text, not formulas."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.text import CSV_FORMULA_STARTS, FORBIDDEN, csv_field, is_blank, printable, text_problem


@pytest.mark.parametrize("character, kind", [
    ("\u0000", "a control character"), ("\u001b", "a control character"), ("\u007f", "a control character"),
    ("\u0085", "a C1 control character"), ("\u009f", "a C1 control character"),
    ("\ud800", "a lone surrogate"), ("\udfff", "a lone surrogate"),
    ("\u202a", "a bidirectional override or isolate"), ("\u202e", "a bidirectional override or isolate"),
    ("\u2066", "a bidirectional override or isolate"), ("\u2069", "a bidirectional override or isolate"),
    ("\ufffe", "a Unicode non-character"), ("\uffff", "a Unicode non-character"),
    ("\ufdd0", "a Unicode non-character"), ("\U0001fffe", "a Unicode non-character"),
    ("\U0010ffff", "a Unicode non-character"),
])
def test_refused_characters_are_named_with_their_position(character, kind):
    assert text_problem(f"Road{character}works") == f"must not contain {kind} (U+{ord(character):04X} at position 5)"


@pytest.mark.parametrize("text", ["Livelihood Training, FY 2025", "tab\there", "two\r\nlines", "Ñoño — ₱1,000",
                                  "مشروع", "=1+1", "\u200b", "\u00a0", "emoji \U0001f600", "\ufffd", "\U0010fffd"])
def test_ordinary_text_is_accepted(text):
    assert text_problem(text) is None


@pytest.mark.parametrize("comment", [None, "", "   ", "\t\n", "\u00a0", "\u200b", "\ufeff", "\u2060",
                                     " \u200b\u00a0\ufeff ", "\u3164", "\u2800", "\u200c\u200d"])
def test_whitespace_and_invisible_characters_are_blank(comment):
    assert is_blank(comment)


@pytest.mark.parametrize("comment", ["ok", " no ", "\u200bwhy\u200b", "-", "。"])
def test_a_visible_character_is_not_blank(comment):
    assert not is_blank(comment)


def test_printable_replaces_only_refused_characters():
    assert printable("a\ufffeb\u202ec\td") == "a\ufffdb\ufffdc\td"


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1",
                                  "\n=1", "\uff1d1+1", "'=1"])
def test_a_field_a_spreadsheet_would_evaluate_gets_a_quote_in_front(text):
    assert csv_field(text) == "'" + text


def test_other_fields_are_left_as_they_are():
    assert [csv_field(v) for v in ("Road works", "", 12, None, "1-2")] == ["Road works", "", 12, None, "1-2"]


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20), min_size=1, max_size=6))
def test_csv_fields_round_trip_and_never_start_a_formula(values):
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerow([csv_field(v) for v in values])

    (read,) = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))

    assert all(field[:1] not in CSV_FORMULA_STARTS - {"'"} for field in read)
    assert [field[1:] if field.startswith("'") else field for field in read] == [printable(v) for v in values]


@given(st.text() | st.text(st.characters(max_codepoint=0x7f)))
def test_the_printable_ascii_shortcut_answers_as_the_full_check_does(text):
    assert (text_problem(text) is None) == (FORBIDDEN.search(text) is None)
