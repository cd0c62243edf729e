"""Quarters from dates, year included; documents never dated before the
one they draw on; postings refused outside the validity of their
appropriation (docs/design.md §12, "Validity periods and dates"; issue 12
item 2)."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from openpyxl import load_workbook

from services.money_chain import read_money_chain
from services.users import get_user
from tests.support import Chain


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


def test_an_ors_of_the_next_year_within_validity_counts_in_that_years_quarter_never_in_this_years_q1(app, world):
    chain = Chain(world)
    allotment = chain.allot("1000000.00")  # FY2025 MOOE (operations): obligated until 2026-12-31
    this_year = chain.obligate(allotment["id"], "100000.00", day="2025-03-10")
    next_year = chain.obligate(allotment["id"], "250000.00", day="2026-02-16")
    chain.disburse(next_year["id"], "40000.00", day="2026-05-04")

    with app.app_context():
        quarters = read_money_chain(get_user("mssd.focal"), chain.ppa).quarters
    far1 = load_workbook(BytesIO(world.client.get("/api/reports/far1.xlsx?fiscal_year=2025",
                                                  headers=world.admin.headers).get_data())).active
    header = next(r for r in range(1, 20) if far1.cell(r, 1).value == "MOA")
    mssd = [c.value for c in far1[header + 1]]

    assert [(q.label, q.obligations_dated, q.disbursements_dated) for q in quarters] == [
        ("Q1", Decimal("100000.00"), 0), ("Q2", 0, 0), ("Q3", 0, 0), ("Q4", 0, 0),
        ("Q1 2026", Decimal("250000.00"), 0), ("Q2 2026", 0, Decimal("40000.00"))]
    assert [q.obligated for q in quarters[:4]] == [Decimal("350000.00"), 0, 0, 0]  # against the Q1 allotment
    assert this_year["status"] == "obligated"
    # FAR No. 1 of FY2025 (as at 31 December 2025): Q1 obligations 100,000.00 only, nothing of 2026.
    assert [Decimal(str(v)) for v in mssd[5:10]] == [Decimal("100000"), 0, 0, 0, Decimal("100000")]
    assert [Decimal(str(v)) for v in mssd[10:15]] == [0, 0, 0, 0, 0]
