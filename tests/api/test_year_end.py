"""Year end (issue 12 item 5, last sentence; docs/design.md §12 "Year
end"): closing Q4 of a MOA's year, once Q1–Q3 are closed, carries its
continuing appropriations (allotments' unobligated balances still valid
for obligation next year, rules/default/validity.yaml) and its unpaid
obligations still payable into the next year's opening balances, exact to
the centavo, once per closure and audited; the next year's ORS and DV
against them go on as the validity rules allow."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db import db
from tests.api.test_audit_api import audit
from tests.api.test_period_closures import reopen, sign

#: What these tests check is the services' (the database's own refusals: tests marked ``both_backends``,
#: tests/integration/test_budget_limits.py): one backend (tests/conftest.py, ``pytest_generate_tests``).
pytestmark = pytest.mark.one_backend


@pytest.fixture
def signers(world):
    return (world.person("mssd.budget", "budget_officer", org="MSSD"),
            world.person("mssd.accountant", "chief_accountant", org="MSSD"))


def close(world, signers, quarter, fiscal_year=2025):
    for who in signers:
        response = sign(world, who, quarter=quarter, fiscal_year=fiscal_year)
        assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "closed"
    return response.get_json()


def opening(world, who=None, fiscal_year=2026, organization="MSSD"):
    return world.client.get(f"/api/opening-balances?organization={organization}&fiscal_year={fiscal_year}",
                            headers=(who or world.focal).headers)


def a_year_of_mssd(chain):
    """FY2025 of MSSD: an allotment of MOOE (operations) of 1,000,000.00 with an
    ORS of 400,000.00 lowered by a NORSA of 50,000.00 and a DV of 100,000.00,
    and one of MOOE (general administration) of 300,000.00 with an ORS of
    250,000.00 and a DV of 100,000.00."""
    operations = chain.allot("1000000.00", quarter=1)["id"]
    ors = chain.obligate(operations, "400000.00")["id"]
    chain.disburse(ors, "100000.00", day="2025-04-15")
    chain.post(f"/api/obligations/{ors}/adjustments", chain.world.focal, 201, amount="-50000.00",
               adjustment_date="2025-06-01", reason="Fewer participants", legal_basis="NORSA No. 2025-0001")
    administration = chain.post("/api/allotments", chain.world.budget_analyst, 201,
                                program_budget_id=chain.program_budget, release_date="2025-07-01",
                                saro_number="SARO-BARMM-GAS-1", amount="300000.00",
                                validity_category="mooe_general_administration")["id"]
    chain.dates[administration] = "2025-07-01"
    office_ors = chain.obligate(administration, "250000.00", day="2025-08-01")["id"]
    chain.disburse(office_ors, "100000.00", day="2025-09-01")
    return operations, ors, administration, office_ors


@pytest.mark.both_backends
def test_closing_q4_carries_continuing_appropriations_and_unpaid_obligations_into_the_next_year(
        app, chain, world, signers):
    operations, ors, administration, office_ors = a_year_of_mssd(chain)
    for quarter in (1, 2, 3, 4):
        closure = close(world, signers, quarter)

    carried = opening(world)

    assert carried.status_code == 200, carried.get_json()
    body = carried.get_json()
    assert body["closure_id"] == closure["id"] and body["fiscal_year"] == 2026
    assert body["totals"] == {"continuing_appropriations": "650000.00", "unpaid_obligations": "400000.00"}
    assert [(b["kind"], b["allotment_id"], b["obligation_id"], b["amount"], b["valid_until"])
            for b in body["balances"]] == [
        # 1,000,000.00 less the ORS's 350,000.00; the 50,000.00 left of general administration lapses.
        ("continuing_appropriation", operations, None, "650000.00", "2026-12-31"),
        ("unpaid_obligation", operations, ors, "250000.00", "2027-03-31"),
        ("unpaid_obligation", administration, office_ors, "150000.00", "2026-03-31")]
    assert all(b["appropriation_year"] == 2025 and "FY2025" in b["legal_basis"] for b in body["balances"])
    assert [b["balance"] for b in body["balances"]] == [b["amount"] for b in body["balances"]]  # nothing since
    assert len(audit(world, entity="opening_balance")) == 3
    # Stored once: the same answer again, and the rows never change, not even from raw SQL.
    assert opening(world).get_json() == body
    with app.app_context():
        for statement in ("UPDATE opening_balances SET amount = 1", "DELETE FROM opening_balances"):
            with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
                connection.execute(text(statement))


def test_the_next_year_obligates_and_pays_against_what_was_carried_as_the_validity_rules_allow(
        chain, world, signers):
    operations, ors, _, office_ors = a_year_of_mssd(chain)
    for quarter in (1, 2, 3, 4):
        close(world, signers, quarter)

    new_ors = chain.obligate(operations, "650000.00", day="2026-02-10")
    paid = chain.disburse(ors, "250000.00", day="2026-03-01")
    too_late = chain.disburse(office_ors, "150000.00", expect=409, day="2026-04-15")
    too_much = chain.obligate(operations, "0.01", expect=409, day="2026-02-11")

    assert new_ors["obligation_date"] == "2026-02-10" and paid["disbursement_date"] == "2026-03-01"
    # General administration is paid by 31 March only; the carried 650,000.00 is all obligated now.
    assert too_late["code"] == "outside_validity" and too_late["deadline"] == "2026-03-31"
    assert too_much["code"] == "budget_limit_exceeded"
    # The opening balances stay as the year end carried them; what is left of each is what 2026 did not use.
    now = opening(world).get_json()
    assert now["totals"] == {"continuing_appropriations": "650000.00", "unpaid_obligations": "400000.00"}
    assert [(b["amount"], b["balance"]) for b in now["balances"]] == [
        ("650000.00", "0.00"), ("250000.00", "0.00"), ("150000.00", "150000.00")]


def test_q4_closes_only_after_q1_to_q3_and_nothing_is_carried_before(chain, world, signers):
    a_year_of_mssd(chain)

    not_yet = opening(world)
    assert sign(world, signers[0], quarter=4).status_code == 200
    refused = sign(world, signers[1], quarter=4)

    assert not_yet.status_code == 409 and not_yet.get_json()["code"] == "year_not_closed"
    assert "Q4 2025 of MSSD is not closed" in not_yet.get_json()["detail"]
    assert refused.status_code == 409 and refused.get_json()["code"] == "earlier_quarter_open"
    assert "close Q1, Q2, Q3 2025 first" in refused.get_json()["detail"]
    assert chain.get("/api/period-closures?fiscal_year=2025")[0]["status"] == "closing"
    assert opening(world).get_json()["code"] == "year_not_closed"


def test_reopening_q4_withdraws_the_carry_over_until_it_closes_again_with_the_same_figures(chain, world, signers):
    a_year_of_mssd(chain)
    closures = {quarter: close(world, signers, quarter) for quarter in (1, 2, 3, 4)}
    first = opening(world).get_json()

    earlier = reopen(world, closures[2]["id"], signers[0])
    reopen(world, closures[4]["id"], signers[0])
    reopen(world, closures[4]["id"], signers[1])
    withdrawn = opening(world)
    again = close(world, signers, 4)
    second = opening(world).get_json()

    assert earlier.status_code == 409 and earlier.get_json()["code"] == "later_quarter_closed"
    assert "reopen Q4 2025 first" in earlier.get_json()["detail"]
    assert withdrawn.status_code == 409 and withdrawn.get_json()["code"] == "year_not_closed"
    assert second["closure_id"] == again["id"] != first["closure_id"]
    assert second["totals"] == first["totals"]
    assert [(b["kind"], b["amount"]) for b in second["balances"]] == [
        (b["kind"], b["amount"]) for b in first["balances"]]


def test_q4_is_not_reopened_while_the_next_years_q4_is_closed(chain, world, signers):
    for fiscal_year in (2024, 2025):
        closures = {quarter: close(world, signers, quarter, fiscal_year) for quarter in (1, 2, 3, 4)}
        if fiscal_year == 2024:
            q4_2024 = closures[4]["id"]

    refused = reopen(world, q4_2024, signers[0])

    assert refused.status_code == 409 and refused.get_json()["code"] == "later_quarter_closed"
    assert "reopen Q4 2025 first" in refused.get_json()["detail"]
    assert chain.get(f"/api/period-closures/{q4_2024}")["status"] == "closed"


def test_another_moas_opening_balances_do_not_exist_for_a_moa_user(chain, world, signers):
    a_year_of_mssd(chain)
    for quarter in (1, 2, 3, 4):
        close(world, signers, quarter)

    assert opening(world, world.other_focal).status_code == 404
    assert opening(world, organization="NOPE").status_code == 404
    assert world.client.get("/api/opening-balances?organization=MSSD",
                            headers=world.focal.headers).status_code == 422
