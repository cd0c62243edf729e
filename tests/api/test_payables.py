"""Payables (issue 12 item 6; docs/design.md §12, "Money spent and
payables"): an obligation records the deliveries accepted, so its unpaid
amount splits into due and demandable (accepted, not yet paid) and not yet
due and demandable (obligated, not yet accepted), as FAR No. 1 columns
23–24 need."""

from __future__ import annotations

import pytest

from tests.support import Chain

#: What these tests check is the services' (the database's own refusals: tests marked ``both_backends``,
#: tests/integration/test_budget_limits.py): one backend (tests/conftest.py, ``pytest_generate_tests``).
pytestmark = pytest.mark.one_backend


def deliver(chain: Chain, obligation: int, amount: str, day: str = "2025-03-20", expect=201) -> dict:
    return chain.post(f"/api/obligations/{obligation}/deliveries", chain.world.focal, expect, amount=amount,
                      accepted_on=day, reference="IAR-2025-03-0001")


def split(chain: Chain, obligation: int) -> tuple[str, str, str]:
    body = chain.get(f"/api/obligations/{obligation}")
    return body["accepted"], body["due_and_demandable"], body["not_yet_due_and_demandable"]


def test_an_unpaid_obligation_splits_into_due_and_not_yet_due_to_the_centavo(chain, world):
    obligation = chain.obligate(chain.allot("1000000.00")["id"], "500000.00")["id"]
    assert split(chain, obligation) == ("0.00", "0.00", "500000.00")

    deliver(chain, obligation, "200000.01")
    assert split(chain, obligation) == ("200000.01", "200000.01", "299999.99")

    chain.disburse(obligation, "150000.00")
    assert split(chain, obligation) == ("200000.01", "50000.01", "299999.99")


def test_an_advance_paid_before_delivery_is_not_a_payable(chain, world):
    obligation = chain.obligate(chain.allot("1000000.00")["id"], "500000.00")["id"]
    chain.disburse(obligation, "100000.00")
    deliver(chain, obligation, "40000.00")

    assert split(chain, obligation) == ("40000.00", "0.00", "400000.00")


def test_deliveries_above_the_obligation_are_refused_and_change_nothing(chain, world):
    obligation = chain.obligate(chain.allot("1000000.00")["id"], "500000.00")["id"]
    deliver(chain, obligation, "499999.99")

    problem = deliver(chain, obligation, "0.02", expect=422)

    assert "above the obligation of PHP 500,000.00; PHP 0.01 is not yet accepted" in problem["errors"]["amount"][0]
    assert split(chain, obligation) == ("499999.99", "499999.99", "0.01")
    assert [d["amount"] for d in chain.get(f"/api/obligations/{obligation}/deliveries")] == ["499999.99"]


def test_a_delivery_dated_before_its_obligation_or_on_a_cancelled_one_is_refused(chain, world):
    allotment = chain.allot("1000000.00")["id"]
    obligation = chain.obligate(allotment, "500000.00")["id"]

    early = deliver(chain, obligation, "1.00", day="2025-03-09", expect=422)
    chain.post(f"/api/obligations/{obligation}/cancel", world.focal, reason="Contract rescinded")
    cancelled = deliver(chain, obligation, "1.00", expect=409)

    assert "before the obligation of 2025-03-10" in early["errors"]["accepted_on"][0]
    assert cancelled["code"] == "cancelled"
    assert split(chain, obligation) == ("0.00", "0.00", "0.00")


def test_another_moa_cannot_record_a_delivery(chain, world):
    obligation = chain.obligate(chain.allot("1000000.00")["id"], "500000.00")["id"]

    response = world.client.post(f"/api/obligations/{obligation}/deliveries", json={
        "amount": "1.00", "accepted_on": "2025-03-20"}, headers=world.other_focal.headers)

    assert response.status_code == 404
    assert split(chain, obligation)[0] == "0.00"


@pytest.mark.both_backends  # a SUM read back from the database: each driver gives its own type
def test_the_money_chain_totals_its_payables(app, chain, world):
    from services.money_chain import read_money_chain

    allotment = chain.allot("1000000.00")["id"]
    first = chain.obligate(allotment, "300000.00")["id"]
    second = chain.obligate(allotment, "200000.00")["id"]
    deliver(chain, first, "100000.00")
    chain.disburse(first, "60000.00")
    deliver(chain, second, "200000.00")

    with app.test_request_context():
        from db import db
        from db.models import User

        admin = db.session.get(User, world.admin.id)
        money = read_money_chain(admin, chain.ppa)
        totals = (money.due_and_demandable, money.not_yet_due_and_demandable)

    assert tuple(f"{t:.2f}" for t in totals) == ("240000.00", "200000.00")
