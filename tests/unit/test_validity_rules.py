"""``validity.yaml``: the rule in force for a posting, amendments that
extend a deadline from their effective date, and every mistake in the file
reported as ``file:line`` at once (docs/design.md §12, "Validity periods
and dates")."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from rules import DEFAULT_RULES_DIR
from tests.support import shipped_rules
from workflow.errors import OutsideValidity, RulesError


@pytest.fixture(scope="module")
def validity():
    return shipped_rules().validity


def test_the_fy2022_extension_applies_from_its_effective_date_and_not_to_ps(validity):
    before = validity.rule_for(2022, "mooe_operations", date(2022, 12, 30))
    after = validity.rule_for(2022, "mooe_operations", date(2023, 6, 30))
    ps = validity.rule_for(2022, "ps", date(2023, 6, 30))

    assert (before.deadlines.obligation, before.legal_basis) == (
        date(2022, 12, 31), "General Appropriations Act of the Bangsamoro FY2022 (Cabinet Bill No. 155), "
                            "General Provisions, Sec. 48")
    assert (after.deadlines.obligation, after.deadlines.disbursement) == (date(2023, 12, 31), date(2024, 3, 31))
    assert after.legal_basis.startswith("Cabinet Bill No. 128 (2022)")
    assert (ps.deadlines.obligation, ps.deadlines.disbursement) == (date(2022, 12, 31), date(2022, 12, 31))
    assert validity.rule_for(2022, "co_infrastructure", date(2023, 6, 30)).deadlines.disbursement == date(2024, 6, 30)


def test_the_fy2023_extension_leaves_ps_and_general_administration_mooe_within_the_year(validity):
    on = date(2024, 5, 2)

    extended = {c: validity.rule_for(2023, c, on).deadlines.obligation for c in validity.years[2023][0].deadlines}

    assert extended == {"ps": date(2023, 12, 31), "mooe_general_administration": date(2023, 12, 31),
                        "mooe_operations": date(2024, 12, 31), "co_infrastructure": date(2024, 12, 31),
                        "co_other": date(2024, 12, 31), "finex": date(2024, 12, 31)}
    assert validity.rule_for(2023, "co_infrastructure", on).deadlines.disbursement is None  # until fully expended
    validity.check(2023, "co_infrastructure", "disbursement", date(2031, 1, 2))


def test_a_posting_after_its_deadline_is_refused_naming_rule_deadline_and_legal_basis(validity):
    with pytest.raises(OutsideValidity) as caught:
        validity.check(2022, "ps", "obligation", date(2023, 1, 5))

    assert caught.value.detail == (
        "this obligation of FY2022 PS dated 2023-01-05 is outside its validity: under the FY2022 PS validity it may "
        "be obligated until 2022-12-31 (General Appropriations Act of the Bangsamoro FY2022 (Cabinet Bill No. 155), "
        "General Provisions, Sec. 48)")
    assert caught.value.extra["deadline"] == "2022-12-31"


def test_a_posting_before_the_fiscal_year_or_of_a_year_without_rules_is_refused(validity):
    with pytest.raises(OutsideValidity, match="before the fiscal year begins on 2025-01-01"):
        validity.check(2025, "mooe_operations", "release", date(2024, 12, 31))
    with pytest.raises(OutsideValidity, match="validity.yaml has no rule for FY2031"):
        validity.check(2031, "mooe_operations", "release", date(2031, 2, 1))


def test_the_illustrative_defaults_say_so_in_their_legal_basis(validity):
    for year in (2025, 2026, 2027):
        assert validity.years[year][0].legal_basis.startswith("ILLUSTRATIVE DEFAULT, not law")


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def test_every_mistake_in_validity_yaml_is_reported_with_its_line_at_once(rules_dir):
    path = rules_dir / "validity.yaml"
    text = path.read_text()
    broken = (text
              .replace("        ps: {release: 2023-12-31, obligation: 2023-12-31, disbursement: 2023-12-31}\n",
                       "        pss: {release: 2023-12-31, obligation: 2023-12-31, disbursement: 2023-12-31}\n", 1)
              .replace("    - effective_from: 2022-12-31\n", "    - effective_from: 2022-01-01\n", 1)
              .replace("        finex: {release: 2025-12-31, obligation: 2026-12-31, disbursement: 2027-03-31}",
                       "        finex: {release: 2025-12-31, obligation: soon, disbursement: 2027-03-31}", 1)
              .replace("        co_other: {release: 2026-12-31, obligation: 2027-12-31, disbursement: 2028-03-31}",
                       "        co_other: {release: 2026-12-31, obligation: 2027-12-31, disbursement: 2027-03-31}", 1))
    path.write_text(broken)
    lines = broken.splitlines()
    line = lambda needle: next(i for i, t in enumerate(lines, 1) if needle in t)  # noqa: E731
    pss = line("        pss:")

    with pytest.raises(RulesError) as caught:
        shipped_rules(rules_dir)

    prefix = f"{rules_dir}/validity.yaml"
    amendment = [i for i, t in enumerate(lines, 1) if t == "    - effective_from: 2022-01-01"][1]
    assert caught.value.errors == [
        f"{prefix}:{amendment}: years.2022[1].effective_from: 2022-01-01 is not after the entry before it "
        "(2022-01-01); amendments are appended in the order they take effect",
        f"{prefix}:{pss}: years.2023[0].deadlines: the act (the year's first entry) must name every category; "
        "missing 'ps'",
        f"{prefix}:{pss}: years.2023[0].deadlines: unknown validity category 'pss' (known: ps, "
        "mooe_general_administration, mooe_operations, co_infrastructure, co_other, finex); did you mean 'ps'?",
        f"{prefix}:{line('obligation: soon')}: years.2025[0].deadlines.finex.obligation: expected a date written "
        "YYYY-MM-DD, got string 'soon'",
        f"{prefix}:{line('co_other: {release: 2026-12-31')}: "
        "years.2026[0].deadlines.co_other.disbursement: 2027-03-31 is before the obligation deadline 2027-12-31",
    ]


def test_a_dates_period_includes_its_year():
    from workflow.validity import period_of

    assert [period_of(date(2025, 12, 31)), period_of(date(2026, 1, 1)), period_of(date(2026, 3, 31)),
            period_of(date(2026, 4, 1))] == [(2025, 4), (2026, 1), (2026, 1), (2026, 2)]
