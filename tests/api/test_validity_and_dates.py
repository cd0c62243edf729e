"""Quarters from dates, year included; documents never dated before the
one they draw on; postings refused outside the validity of their
appropriation (docs/design.md §12, "Validity periods and dates"; issue 12
item 2)."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from services.money_chain import read_money_chain
from services.users import get_user
from tests.support import Chain, enact_proposal

#: What these tests check is the services' (the database's own refusals: tests marked ``both_backends``,
#: tests/integration/test_budget_limits.py): one backend (tests/conftest.py, ``pytest_generate_tests``).
pytestmark = pytest.mark.one_backend


def test_an_allotment_takes_its_quarter_from_its_release_date(chain):
    allotment = chain.allot("1000.00", day="2025-08-14")

    assert (allotment["release_date"], allotment["quarter"]) == ("2025-08-14", 3)


def test_a_quarter_that_disagrees_with_the_release_date_is_refused_with_a_sentence(chain):
    refused = chain.post("/api/allotments", chain.world.budget_analyst, 422, program_budget_id=chain.program_budget,
                         quarter=1, release_date="2025-08-14", saro_number="SARO-BARMM-2025-9999", amount="10.00")

    assert refused["errors"]["quarter"] == [
        "Q1 does not match the release date 2025-08-14, which is in Q3 of 2025; the quarter comes from the release "
        "date, so leave it out"]
    assert chain.get(f"/api/program-budgets/{chain.program_budget}")["allotted"] == "0.00"


def test_an_ors_dated_before_its_allotment_is_refused_naming_both_dates(chain):
    allotment = chain.allot("1000.00", day="2025-05-02")

    refused = chain.obligate(allotment["id"], "1.00", expect=422, day="2025-05-01")

    assert refused["errors"]["obligation_date"] == [
        "the ORS date 2025-05-01 is before the release of allotment SARO-BARMM-2025-0001 on 2025-05-02; an "
        "obligation cannot be dated before the allotment it draws on"]
    assert chain.get(f"/api/allotments/{allotment['id']}")["obligated"] == "0.00"


def test_a_dv_dated_before_its_ors_is_refused_naming_both_dates(chain):
    allotment = chain.allot("1000.00")
    obligation = chain.obligate(allotment["id"], "100.00", day="2025-06-30")

    refused = chain.disburse(obligation["id"], "1.00", expect=422, day="2025-06-29")

    assert refused["errors"]["disbursement_date"] == [
        f"the DV date 2025-06-29 is before ORS {obligation['ors_number']} dated 2025-06-30; a disbursement cannot "
        "be dated before the obligation it pays"]
    assert chain.get(f"/api/obligations/{obligation['id']}")["disbursed"] == "0.00"


def test_an_ors_of_the_next_year_within_validity_counts_in_that_years_quarter_never_in_this_years_q1(app, chain, world):
    allotment = chain.allot("1000000.00")  # FY2025 MOOE (operations): obligated until 2026-12-31
    this_year = chain.obligate(allotment["id"], "100000.00", day="2025-03-10")
    next_year = chain.obligate(allotment["id"], "250000.00", day="2026-02-16")
    chain.disburse(next_year["id"], "40000.00", day="2026-05-04")

    with app.app_context():
        quarters = read_money_chain(get_user("mssd.focal"), chain.ppa).quarters
    far1 = load_workbook(BytesIO(world.client.get("/api/reports/far1.xlsx?fiscal_year=2025",
                                                  headers=world.admin.headers).get_data())).active
    numbers = next(r for r in range(1, 40) if far1.cell(r, 3).value == 3)  # the row of column numbers
    mssd = next([c.value for c in far1[r]][:24] for r in range(numbers + 2, far1.max_row + 1)
                if far1.cell(r, 1).value == "Maintenance and Other Operating Expenses")

    assert [(q.label, q.obligations_dated, q.disbursements_dated) for q in quarters] == [
        ("Q1", Decimal("100000.00"), 0), ("Q2", 0, 0), ("Q3", 0, 0), ("Q4", 0, 0),
        ("Q1 2026", Decimal("250000.00"), 0), ("Q2 2026", 0, Decimal("40000.00"))]
    assert [q.obligated for q in quarters[:4]] == [Decimal("350000.00"), 0, 0, 0]  # against the Q1 allotment
    assert this_year["status"] == "obligated"
    # FAR No. 1 of FY2025 (as at 31 December 2025): Q1 obligations 100,000.00 only, nothing of 2026.
    assert [Decimal(str(v)) for v in mssd[10:15]] == [Decimal("100000"), 0, 0, 0, Decimal("100000")]
    assert [Decimal(str(v)) for v in mssd[15:20]] == [0, 0, 0, 0, 0]


# -- validity ----------------------------------------------------------------------------------

#: For each category, of the FY2025 illustrative defaults: its class, the last day it may be
#: obligated, and the last day it may be paid.
FY2025 = {
    "ps": ("ps", "2025-12-31", "2025-12-31"),
    "mooe_general_administration": ("mooe", "2025-12-31", "2026-03-31"),
    "mooe_operations": ("mooe", "2026-12-31", "2027-03-31"),
    "co_infrastructure": ("co", "2026-12-31", "2027-06-30"),
    "co_other": ("co", "2026-12-31", "2027-03-31"),
    "finex": ("finex", "2026-12-31", "2027-03-31"),
}
BASIS_2025 = ("ILLUSTRATIVE DEFAULT, not law - replace with the FY2025 General Appropriations Act of the "
              "Bangsamoro and its validity section")


def _day_after(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def test_every_validity_category_past_its_deadlines_is_refused_with_its_legal_basis(chain):
    refusals = {}
    for category, (klass, obligate_by, pay_by) in FY2025.items():
        allotment = chain.post("/api/allotments", chain.world.budget_analyst, 201,
                               program_budget_id=chain.program_budget, release_date="2025-02-03",
                               saro_number=chain.number("SARO-BARMM"), amount="1000.00", allotment_class=klass,
                               validity_category=category)
        late_release = chain.post("/api/allotments", chain.world.budget_analyst, 409,
                                  program_budget_id=chain.program_budget, release_date="2026-01-01",
                                  saro_number=chain.number("SARO-BARMM"), amount="1.00", allotment_class=klass,
                                  validity_category=category)
        on_time = chain.obligate(allotment["id"], "100.00", day=obligate_by)
        late = chain.obligate(allotment["id"], "100.00", expect=409, day=_day_after(obligate_by))
        paid = chain.disburse(on_time["id"], "10.00", day=pay_by)
        late_pay = chain.disburse(on_time["id"], "10.00", expect=409, day=_day_after(pay_by))
        refusals[category] = (allotment["allotment_class"], allotment["validity_category"], paid["status"],
                              [(r["code"], r["deadline"], r["legal_basis"]) for r in (late_release, late, late_pay)])
        assert late["detail"] == (
            f"this obligation of FY2025 {late['detail'].split('FY2025 ')[1].split(' dated')[0]} dated "
            f"{_day_after(obligate_by)} is outside its validity: under the FY2025 "
            f"{late['detail'].split('FY2025 ')[1].split(' dated')[0]} validity it may be obligated until "
            f"{obligate_by} ({BASIS_2025})")

    assert refusals == {
        category: (klass, category, "disbursed", [("outside_validity", "2025-12-31", BASIS_2025),
                                                  ("outside_validity", obligate_by, BASIS_2025),
                                                  ("outside_validity", pay_by, BASIS_2025)])
        for category, (klass, obligate_by, pay_by) in FY2025.items()}
    # Nothing refused was saved: six allotments of 1,000.00, each with one ORS of 100.00 and one DV of 10.00.
    totals = chain.get(f"/api/program-budgets/{chain.program_budget}")
    assert (totals["allotted"], totals["obligated"], totals["disbursed"]) == ("6000.00", "600.00", "60.00")


def test_a_release_dated_before_the_fiscal_year_begins_is_refused(chain):
    refused = chain.allot("1000.00", expect=409, day="2024-12-31")

    assert refused["code"] == "outside_validity"
    assert refused["detail"] == (
        "this release of FY2025 MOOE (operations) cannot be dated 2024-12-31, before the fiscal year begins on "
        f"2025-01-01 (FY2025 MOOE (operations) validity, {BASIS_2025})")


def test_a_ps_ors_dated_the_next_year_is_refused_and_counts_nowhere(chain):
    allotment = chain.post("/api/allotments", chain.world.budget_analyst, 201, program_budget_id=chain.program_budget,
                           release_date="2025-02-03", saro_number="SARO-BARMM-2025-PS01", amount="1000.00",
                           allotment_class="ps")

    refused = chain.obligate(allotment["id"], "100.00", expect=409, day="2026-01-05")

    assert allotment["validity_category"] == "ps"
    assert (refused["code"], refused["deadline"], refused["step"], refused["fiscal_year"]) == (
        "outside_validity", "2025-12-31", "obligation", 2025)
    assert chain.get(f"/api/allotments/{allotment['id']}")["obligated"] == "0.00"


def test_a_validity_category_of_another_class_is_refused(chain):
    refused = chain.post("/api/allotments", chain.world.budget_analyst, 422, program_budget_id=chain.program_budget,
                         release_date="2025-02-03", saro_number="SARO-BARMM-2025-X", amount="1.00",
                         validity_category="co_infrastructure")

    assert refused["errors"]["validity_category"] == [
        "co_infrastructure is a category of CO, not of the allotment's class MOOE; use one of "
        "mooe_general_administration, mooe_operations"]


def _fy2022_chain(world, klass: str) -> Chain:
    """A Chain whose PPA and proposal are of FY2022 (the example of issue 12
    item 2); the proposal, shared by both classes' PPAs, is enacted after both
    program budgets are in it."""
    chain = Chain.__new__(Chain)
    chain.world, chain.counter, chain.dates = world, {"mooe": 0, "ps": 500}[klass], {}  # distinct numbers
    chain.ppa = world.create_ppa(title=f"FY2022 {klass} PPA", fiscal_year=2022, start_date="2022-02-01",
                                 target_end_date="2022-12-15", appropriation_class=klass)["id"]
    world.advance(chain.ppa, "enacted")
    proposal = world.client.get("/api/budget-proposals?fiscal_year=2022", headers=world.admin.headers).get_json()
    chain.proposal = proposal[0]["id"] if proposal else chain.post(
        "/api/budget-proposals", world.focal, organization="MSSD", fiscal_year=2022, title="MSSD FY2022")["id"]
    chain.program_budget = chain.post("/api/program-budgets", world.budget_analyst, proposal_id=chain.proposal,
                                      ppa_id=chain.ppa, approved_amount="1000000.00")["id"]
    return chain


def test_the_fy2022_extension_lets_mooe_be_obligated_in_2023_but_not_ps(world):
    mooe, ps = _fy2022_chain(world, "mooe"), _fy2022_chain(world, "ps")
    enact_proposal(world, mooe.proposal)
    mooe_allotment = mooe.allot("500000.00", day="2022-03-01")
    ps_allotment = ps.allot("500000.00", day="2022-03-01")

    extended = mooe.obligate(mooe_allotment["id"], "200000.00", day="2023-06-30")
    late_pay = mooe.disburse(extended["id"], "1.00", expect=409, day="2024-04-01")
    refused = ps.obligate(ps_allotment["id"], "1.00", expect=409, day="2023-01-05")

    assert extended["status"] == "obligated"
    assert late_pay["detail"] == (
        "this disbursement of FY2022 MOOE (operations) dated 2024-04-01 is outside its validity: under the FY2022 "
        "MOOE (operations) validity it may be disbursed until 2024-03-31 (Cabinet Bill No. 128 (2022), amending "
        "Sec. 48 of the General Appropriations Act of the Bangsamoro FY2022)")
    assert refused["detail"] == (
        "this obligation of FY2022 PS dated 2023-01-05 is outside its validity: under the FY2022 PS validity it may "
        "be obligated until 2022-12-31 (General Appropriations Act of the Bangsamoro FY2022 (Cabinet Bill No. 155), "
        "General Provisions, Sec. 48)")


def test_the_rules_endpoint_shows_each_years_validity(world):
    rules = world.client.get("/api/rules", headers=world.focal.headers).get_json()

    fy2022 = next(y for y in rules["validity"] if y["fiscal_year"] == 2022)
    assert [y["fiscal_year"] for y in rules["validity"]] == [2022, 2023, 2025, 2026, 2027]
    assert [e["effective_from"] for e in fy2022["entries"]] == ["2022-01-01", "2022-12-31"]
    assert fy2022["entries"][1]["deadlines"]["co_infrastructure"] == {
        "release": "2023-12-31", "obligation": "2023-12-31", "disbursement": "2024-06-30"}
    assert "ps" not in fy2022["entries"][1]["deadlines"]
    assert next(y for y in rules["validity"] if y["fiscal_year"] == 2023)["entries"][1]["deadlines"][
        "mooe_operations"]["disbursement"] is None
