"""The fiscal-year scenario of issue 12 (Tests section; docs/design.md §12):
a year of allotments, ORS and DV across four quarters and into the next
year, with a cancellation, a void in a later quarter and a correction after
a quarter is closed, all through the API. Every quarter's figures equal the
expectation table below, worked out by hand; each quarter is closed as it
ends and its snapshot never changes afterwards; the year end carries what
is left into FY2026."""

from __future__ import annotations

from db import db
from db.models import User
from services.money_chain import read_money_chain
from tests.api.test_period_closures import sign

#: What each quarter holds, worked out by hand from the postings below (PHP):
#: (allotted, obligated, disbursed) net of everything dated in the quarter,
#: then the same cumulative to its last day.
EXPECTED = {
    # SARO 2,000,000.00; ORS-1 800,000.00; DV-1 300,000.00.
    (2025, 1): (("2000000.00", "800000.00", "300000.00"), ("2000000.00", "800000.00", "300000.00")),
    # SARO 1,000,000.00; ORS-2 500,000.00 and ORS-3 150,000.00; DV-2 200,000.00 (voided in November).
    (2025, 2): (("1000000.00", "650000.00", "200000.00"), ("3000000.00", "1450000.00", "500000.00")),
    # A reduction of 100,000.00; the NORSA of ORS-1 (-40,000.00) made after Q2 closed; ORS-3 cancelled
    # (-150,000.00); DV-3 250,000.00.
    (2025, 3): (("-100000.00", "-190000.00", "250000.00"), ("2900000.00", "1260000.00", "750000.00")),
    # ORS-4 300,000.00; the void of the June DV-2 (-200,000.00) and DV-4 200,000.00 in its place.
    (2025, 4): (("0.00", "300000.00", "0.00"), ("2900000.00", "1560000.00", "750000.00")),
    # FY2026: ORS-5 100,000.00 from the continuing appropriation; DV-5 pays ORS-4.
    (2026, 1): (("0.00", "100000.00", "300000.00"), ("2900000.00", "1660000.00", "1050000.00")),
}

#: What the 2025 year end carries into FY2026 (PHP): the allotments' unobligated balances
#: (2,000,000.00 - 760,000.00; 900,000.00 - 800,000.00) and the ORS not fully paid
#: (760,000.00 - 500,000.00; 500,000.00 - 250,000.00; 300,000.00).
CARRIED = {"continuing_appropriations": "1340000.00", "unpaid_obligations": "810000.00"}


def test_a_fiscal_year_of_mssd_quarter_by_quarter_and_into_the_next_year(app, chain, world):
    officer = world.person("mssd.budget", "budget_officer", org="MSSD")
    accountant = world.person("mssd.accountant", "chief_accountant", org="MSSD")
    snapshots = {}

    def close(fiscal_year, quarter):
        for who in (officer, accountant):
            response = sign(world, who, quarter=quarter, fiscal_year=fiscal_year)
            assert response.status_code == 200, response.get_json()
        closure = response.get_json()
        assert closure["status"] == "closed"
        snapshots[fiscal_year, quarter] = closure
        return closure

    def figures(closure):
        totals = closure["totals"]
        return (tuple(totals[level] for level in ("allotted", "obligated", "disbursed")),
                tuple(totals[f"cumulative_{level}"] for level in ("allotted", "obligated", "disbursed")))

    # Q1 2025
    first = chain.allot("2000000.00", day="2025-02-03")["id"]
    ors1 = chain.obligate(first, "800000.00", day="2025-03-10")["id"]
    chain.disburse(ors1, "300000.00", day="2025-03-20")
    # Q2 2025
    second = chain.allot("1000000.00", day="2025-04-01")["id"]
    ors2 = chain.obligate(second, "500000.00", day="2025-05-05")["id"]
    june_dv = chain.disburse(ors1, "200000.00", day="2025-06-10")["id"]
    ors3 = chain.obligate(first, "150000.00", day="2025-06-15")["id"]
    close(2025, 1)
    close(2025, 2)
    # Q3 2025: ORS-1 was 40,000.00 too high. Dated in closed Q2 it is refused; it goes into Q3 as a NORSA.
    norsa = {"amount": "-40000.00", "reason": "Fewer participants than contracted",
             "legal_basis": "NORSA No. 2025-07-0001"}
    refused = chain.post(f"/api/obligations/{ors1}/adjustments", world.focal, 409, adjustment_date="2025-06-30",
                         **norsa)
    assert refused["code"] == "period_closed"
    chain.post(f"/api/obligations/{ors1}/adjustments", world.focal, 201, adjustment_date="2025-07-10", **norsa)
    chain.post(f"/api/obligations/{ors3}/cancel", world.focal, 200, reason="Activity called off",
               cancelled_on="2025-08-20")
    chain.disburse(ors2, "250000.00", day="2025-09-05")
    chain.post(f"/api/allotments/{second}/adjustments", world.budget_analyst, 201, kind="reduction",
               amount="100000.00", adjustment_date="2025-09-15", reason="Realigned to another PAP",
               legal_basis="DBM letter 2025-091")
    close(2025, 3)
    # Q4 2025: the June DV's check is spoiled and voided in November, and paid again.
    chain.post(f"/api/disbursements/{june_dv}/void", world.focal, 200, reason="Check spoiled",
               voided_on="2025-11-10")
    chain.disburse(ors1, "200000.00", day="2025-11-12")
    ors4 = chain.obligate(second, "300000.00", day="2025-12-01")["id"]
    close(2025, 4)
    carried = world.client.get("/api/opening-balances?organization=MSSD&fiscal_year=2026",
                               headers=world.focal.headers).get_json()
    # Q1 2026: the continuing appropriation is obligated, the unpaid ORS-4 paid.
    chain.obligate(first, "100000.00", day="2026-02-10")
    chain.disburse(ors4, "300000.00", day="2026-03-05")
    close(2026, 1)

    assert {period: figures(closure) for period, closure in snapshots.items()} == EXPECTED
    assert carried["totals"] == CARRIED
    # What is left of each carried balance after Q1 2026: ORS-5 drew 100,000.00 of the first SARO's
    # 1,240,000.00, and DV-5 paid ORS-4 in full.
    now = world.client.get("/api/opening-balances?organization=MSSD&fiscal_year=2026",
                           headers=world.focal.headers).get_json()
    assert [(b["kind"], b["amount"], b["balance"]) for b in now["balances"]] == [
        ("continuing_appropriation", "1240000.00", "1140000.00"),
        ("continuing_appropriation", "100000.00", "100000.00"),
        ("unpaid_obligation", "260000.00", "260000.00"),
        ("unpaid_obligation", "250000.00", "250000.00"),
        ("unpaid_obligation", "300000.00", "0.00")]
    # A closed quarter's snapshot never changes, whatever came after it.
    for (fiscal_year, quarter), closure in snapshots.items():
        assert chain.get(f"/api/period-closures/{closure['id']}") == closure, (fiscal_year, quarter)
    # The live figures of the chain, quarter by quarter, are the same: nothing rewrote a quarter.
    with app.app_context():
        live = read_money_chain(db.session.get(User, world.admin.id), chain.ppa).by_quarter()
    assert {period: tuple(f"{sums[level]:.2f}" for level in ("allotted", "obligated", "disbursed"))
            for period, sums in live.items()} == {period: quarter for period, (quarter, _) in EXPECTED.items()}
