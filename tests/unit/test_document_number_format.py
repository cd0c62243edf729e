"""ORS and DV numbers as GAM Appendices 11 and 32 give them, pure
(workflow/document_numbers.py; docs/design.md §12)."""

from __future__ import annotations

from datetime import date

from workflow.document_numbers import dv_problem, format_dv, format_ors, ors_problem, parse_dv, parse_ors

MARCH = date(2026, 3, 31)


def test_numbers_are_formatted_with_the_class_code_fund_cluster_year_month_and_serial():
    assert format_ors("co", "07", MARCH, 12) == "06-07-2026-03-00012"
    assert format_ors("finex", "01", MARCH, 1) == "03-01-2026-03-00001"
    assert format_dv(MARCH, 3) == "2026-03-0003"
    assert parse_ors("06-07-2026-03-00012").serial == 12
    assert parse_dv("2026-03-0003").serial == 3


def test_the_funding_source_may_be_the_cluster_or_a_uacs_code_of_it():
    assert ors_problem("01-01101101-2026-03-001", allotment_class="ps", fund_cluster="01", on=MARCH) is None
    assert ors_problem("01-101101-2026-03-001", allotment_class="ps", fund_cluster="01", on=MARCH) is None
    assert "not of the program budget's fund cluster 01" in ors_problem(
        "01-07101101-2026-03-001", allotment_class="ps", fund_cluster="01", on=MARCH)


def test_serial_zero_month_thirteen_and_spaces_are_not_numbers():
    assert parse_ors("02-01-2026-03-00000") is None
    assert parse_ors("02-01-2026-13-00001") is None
    assert parse_dv(" 2026-03-0001") is None
    assert parse_dv("２０２６-03-0001") is None  # digits of other scripts are not the form's
    assert parse_ors("٠٢-01-2026-03-00001") is None
    assert "is not a DV number" in dv_problem("2026-3-1", on=MARCH)
