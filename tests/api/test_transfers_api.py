"""Adjustments and transfers (issue 12 item 4, docs/design.md §12
"Adjustments and transfers"): appropriation augmentations, modifications
and transfers, allotment realignments and sub-allotments are new rows with
their own date and legal basis, keep every limit, are refused when they
should be, are audited, and show in their own columns by quarter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services import users
from services.money_chain import read_money_chain
from tests.api.test_audit_api import audit
from tests.support import Chain, built_once, certify_ors, enact_proposal, race

#: What these tests check is the services' (the database's own refusals: tests marked ``both_backends``,
#: tests/integration/test_budget_limits.py): one backend (tests/conftest.py, ``pytest_generate_tests``).
pytestmark = pytest.mark.one_backend

BASIS = {"reason": "Realigned to priority programs", "legal_basis": "BAA No. 35 s. 2025, sec. 62"}


def adjust(chain, program_budget, kind, amount, expect=201, who=None, day="2025-05-02", **extra):
    return chain.post(f"/api/program-budgets/{program_budget}/adjustments", who or chain.world.budget_analyst,
                      expect, kind=kind, amount=amount, adjustment_date=day, **BASIS, **extra)


def second_program_budget(chain, approved="1000000.00", budget="1000000.00", **ppa):
    """Another enacted PPA of MSSD FY2025 with a supplemental program budget in the enacted proposal."""
    ppa_id = chain.world.create_ppa(budget_allocation=budget, title="Second PPA", **ppa)["id"]
    chain.world.advance(ppa_id, "enacted")
    return chain.post("/api/program-budgets", chain.world.budget_analyst, proposal_id=chain.proposal, ppa_id=ppa_id,
                      approved_amount=approved, supplemental=True, enactment_act="BAA No. 40 s. 2025",
                      enactment_date="2025-03-01")["id"]


@pytest.fixture
def roomy(world):
    """A chain whose PPA's budget (PHP 6,000,000) is above its appropriation
    (PHP 5,000,000), built once (``built_once``)."""
    return built_once(world, "roomy_chain", lambda world: Chain(world, budget="6000000.00"))


def test_an_augmentation_raises_the_adjusted_appropriation_and_allotments_may_draw_on_it(roomy):
    roomy.allot("5000000.00")
    roomy.allot("0.01", expect=409)

    made = adjust(roomy, roomy.program_budget, "augmentation", "250000.00", allotment_class="mooe")

    shown = roomy.get(f"/api/program-budgets/{roomy.program_budget}")
    assert [(r["kind"], r["amount"], r["allotment_class"], r["pair_key"]) for r in made] == [
        ("augmentation", "250000.00", "mooe", None)]
    assert (shown["approved_amount"], shown["adjustments"], shown["adjusted_amount"], shown["adjusted_mooe"],
            shown["unallotted"]) == ("5000000.00", "250000.00", "5250000.00", "5250000.00", "250000.00")
    roomy.allot("250000.00", quarter=2)
    refused = roomy.allot("0.01", quarter=2, expect=409)
    assert refused["limit"] == "5250000.00" and "adjusted amount" in refused["detail"]
    listed = roomy.get(f"/api/program-budgets/{roomy.program_budget}/adjustments")
    assert [(r["kind"], r["legal_basis"], r["adjustment_date"]) for r in listed] == [
        ("augmentation", BASIS["legal_basis"], "2025-05-02")]
    assert [e["entity_id"] for e in audit(roomy.world, entity="appropriation_adjustment")] == [made[0]["id"]]


def test_an_augmentation_above_the_ppas_budget_is_409_and_nothing_is_written(chain):
    refused = adjust(chain, chain.program_budget, "augmentation", "0.01", expect=409, allotment_class="mooe")

    assert refused["code"] == "above_ppa_budget"
    assert (refused["budget"], refused["appropriated"], refused["requested"]) == ("5000000.00", "5000000.00", "0.01")
    assert chain.get(f"/api/program-budgets/{chain.program_budget}/adjustments") == []


def test_a_supplemental_appropriation_counts_the_augmentations_against_the_ppas_budget(roomy):
    adjust(roomy, roomy.program_budget, "augmentation", "1000000.00", allotment_class="mooe")

    refused = roomy.post("/api/program-budgets", roomy.world.budget_analyst, 409, proposal_id=roomy.proposal,
                         ppa_id=roomy.ppa, approved_amount="0.01", supplemental=True,
                         enactment_act="BAA No. 40 s. 2025", enactment_date="2025-06-01")

    assert (refused["code"], refused["appropriated"]) == ("above_ppa_budget", "6000000.00")


def test_a_modification_moves_an_amount_between_classes_as_a_pair_that_sums_to_zero(chain):
    chain.allot("5000000.00")  # all of it allotted: a modification leaves the total, so it still fits

    pair = adjust(chain, chain.program_budget, "modification", "400000.00", allotment_class="mooe",
                  to_allotment_class="co")

    shown = chain.get(f"/api/program-budgets/{chain.program_budget}")
    assert sorted((r["allotment_class"], r["amount"]) for r in pair) == [("co", "400000.00"), ("mooe", "-400000.00")]
    assert pair[0]["pair_key"] == pair[1]["pair_key"] is not None
    assert (shown["adjusted_amount"], shown["adjusted_mooe"], shown["adjusted_co"]) == (
        "5000000.00", "4600000.00", "400000.00")


def test_a_modification_above_the_class_amount_or_without_a_class_to_go_to_is_refused(chain):
    too_much = adjust(chain, chain.program_budget, "modification", "5000000.01", expect=409,
                      allotment_class="mooe", to_allotment_class="co")
    no_class = adjust(chain, chain.program_budget, "modification", "1.00", expect=422, allotment_class="mooe")
    same = adjust(chain, chain.program_budget, "modification", "1.00", expect=422, allotment_class="mooe",
                  to_allotment_class="mooe")

    assert (too_much["code"], too_much["available"]) == ("below_class_amount", "5000000.00")
    assert "to_allotment_class" in no_class["errors"] and "to_allotment_class" in same["errors"]
    assert chain.get(f"/api/program-budgets/{chain.program_budget}/adjustments") == []


def test_a_transfer_between_program_budgets_of_the_moa_is_listed_on_both_and_moves_the_room_to_allot(chain):
    other = second_program_budget(chain, approved="500000.00", budget="1000000.00")

    pair = adjust(chain, chain.program_budget, "transfer", "300000.00", allotment_class="mooe",
                  to_program_budget_id=other)

    given = chain.get(f"/api/program-budgets/{chain.program_budget}")
    taken = chain.get(f"/api/program-budgets/{other}")
    assert (given["adjusted_amount"], taken["adjusted_amount"]) == ("4700000.00", "800000.00")
    assert sum(Decimal(r["amount"]) for r in pair) == 0
    assert [r["amount"] for r in chain.get(f"/api/program-budgets/{chain.program_budget}/adjustments")] == [
        "-300000.00"]
    assert [r["amount"] for r in chain.get(f"/api/program-budgets/{other}/adjustments")] == ["300000.00"]


def test_a_transfer_below_what_is_allotted_is_409_with_the_amounts(chain):
    other = second_program_budget(chain, approved="500000.00", budget="1000000.00")
    chain.allot("4800000.00")

    refused = adjust(chain, chain.program_budget, "transfer", "200000.01", expect=409, allotment_class="mooe",
                     to_program_budget_id=other)

    assert (refused["code"], refused["level"]) == ("budget_limit_exceeded", "appropriation")
    assert (refused["committed"], refused["available"]) == ("4800000.00", "200000.00")
    assert "below the PHP 4,800,000.00 already allotted" in refused["detail"]
    assert chain.get(f"/api/program-budgets/{other}/adjustments") == []
    adjust(chain, chain.program_budget, "transfer", "200000.00", allotment_class="mooe", to_program_budget_id=other)


def test_a_transfer_above_the_receiving_ppas_budget_or_to_another_moa_or_to_itself_is_refused(chain):
    full = second_program_budget(chain, approved="1000000.00", budget="1000000.00")
    above = adjust(chain, chain.program_budget, "transfer", "0.01", expect=409, allotment_class="mooe",
                   to_program_budget_id=full)
    itself = adjust(chain, chain.program_budget, "transfer", "1.00", expect=422, allotment_class="mooe",
                    to_program_budget_id=chain.program_budget)
    elsewhere = _program_budget_of_another_moa(chain)
    other_moa = adjust(chain, chain.program_budget, "transfer", "1.00", expect=422, allotment_class="mooe",
                       to_program_budget_id=elsewhere)

    assert above["code"] == "above_ppa_budget"
    assert "to_program_budget_id" in itself["errors"]
    assert "same MOA and fiscal year" in other_moa["errors"]["to_program_budget_id"][0]


def _program_budget_of_another_moa(chain):
    world = chain.world
    ppa = world.create_ppa(world.other_focal, title="MTIT PPA")["id"]
    assert world.fire(ppa, "submit", world.other_focal).status_code == 200
    world.advance(ppa, "enacted")
    proposal = chain.post("/api/budget-proposals", world.other_focal, organization="MTIT", fiscal_year=2025,
                          title="MTIT FY2025")["id"]
    program_budget = chain.post("/api/program-budgets", world.budget_analyst, proposal_id=proposal, ppa_id=ppa,
                                approved_amount="100000.00")["id"]
    enact_proposal(world, proposal, submitter=world.other_focal)
    return program_budget


def test_an_adjustment_of_a_program_budget_that_is_not_an_appropriation_is_409(chain):
    world = chain.world
    ppa = world.create_ppa(fiscal_year=2026, title="FY2026 PPA", start_date="2026-02-02",
                           target_end_date="2026-12-15")["id"]
    world.advance(ppa, "enacted")
    proposal = chain.post("/api/budget-proposals", world.focal, organization="MSSD", fiscal_year=2026,
                          title="MSSD FY2026")["id"]
    draft = chain.post("/api/program-budgets", world.budget_analyst, proposal_id=proposal, ppa_id=ppa,
                       approved_amount="100000.00")["id"]

    refused = adjust(chain, draft, "modification", "1.00", expect=409, allotment_class="mooe",
                     to_allotment_class="ps", day="2026-03-02")

    assert refused["code"] == "not_appropriated" and "not enacted" in refused["detail"]


def test_only_a_budget_analyst_adjusts_an_appropriation(chain):
    officer = chain.world.person("mssd.budget", "budget_officer", org="MSSD")
    for who in (chain.world.focal, officer):
        refused = adjust(chain, chain.program_budget, "modification", "1.00", expect=403, who=who,
                         allotment_class="mooe", to_allotment_class="co")
        assert "budget_analyst" in refused["detail"]


def test_an_adjustment_dated_in_a_closed_quarter_is_409_period_closed(chain):
    world = chain.world
    for username, role in (("mssd.budget", "budget_officer"), ("mssd.accountant", "chief_accountant")):
        chain.post("/api/period-closures", world.person(username, role, org="MSSD"), organization="MSSD",
                   fiscal_year=2025, quarter=1)

    refused = adjust(chain, chain.program_budget, "modification", "1.00", expect=409, allotment_class="mooe",
                     to_allotment_class="co", day="2025-03-31")

    assert refused["code"] == "period_closed"
    adjust(chain, chain.program_budget, "modification", "1.00", allotment_class="mooe", to_allotment_class="co",
           day="2025-04-01")


# -- allotment realignments -------------------------------------------------------------------


def realign(chain, allotment, to, amount, expect=201, who=None, day="2025-05-02"):
    return chain.post(f"/api/allotments/{allotment}/realignments", who or chain.world.budget_analyst, expect,
                      to_allotment_id=to, amount=amount, adjustment_date=day, **BASIS)


def test_a_realignment_moves_an_amount_between_allotments_of_one_program_budget_by_the_moas_budget_officer(chain):
    first = chain.allot("1000000.00")["id"]
    second = chain.allot("500000.00", quarter=2)["id"]
    officer = chain.world.person("mssd.budget", "budget_officer", org="MSSD")

    pair = realign(chain, first, second, "200000.00", who=officer)

    assert [(r["allotment_id"], r["kind"], r["amount"]) for r in pair] == [
        (first, "realignment", "-200000.00"), (second, "realignment", "200000.00")]
    assert pair[0]["pair_key"] == pair[1]["pair_key"]
    assert chain.get(f"/api/allotments/{first}")["adjusted_amount"] == "800000.00"
    assert chain.get(f"/api/allotments/{second}")["adjusted_amount"] == "700000.00"
    assert chain.get(f"/api/program-budgets/{chain.program_budget}")["allotted"] == "1500000.00"
    assert [a["kind"] for a in chain.get(f"/api/allotments/{second}/adjustments")] == ["realignment"]


def test_a_realignment_below_what_is_obligated_is_409_and_the_focal_person_may_not_realign(chain):
    first = chain.allot("1000000.00")["id"]
    second = chain.allot("500000.00", quarter=2)["id"]
    chain.obligate(first, "900000.00")

    refused = realign(chain, first, second, "100000.01", expect=409)
    forbidden = realign(chain, first, second, "1.00", expect=403, who=chain.world.focal)
    itself = realign(chain, first, first, "1.00", expect=422)

    assert (refused["level"], refused["available"]) == ("obligation", "100000.00")
    assert "budget_officer" in forbidden["detail"]
    assert "to_allotment_id" in itself["errors"]
    assert chain.get(f"/api/allotments/{second}/adjustments") == []


def test_a_lapsed_ps_allotments_balance_cannot_be_realigned_into_one_still_open(chain):
    lapsed = chain.post("/api/allotments", chain.world.budget_analyst, program_budget_id=chain.program_budget,
                        release_date="2025-02-03", saro_number="SARO-BARMM-2025-PS01", amount="100000.00",
                        allotment_class="ps")["id"]
    still_open = chain.allot("100000.00")["id"]  # MOOE (operations): obligated to the end of 2026

    refused = realign(chain, lapsed, still_open, "50000.00", expect=409, day="2026-01-05")
    too_late = realign(chain, still_open, lapsed, "1.00", expect=409, day="2026-01-05")

    assert (refused["code"], refused["step"], refused["category"], refused["deadline"]) == (
        "outside_validity", "obligation", "ps", "2025-12-31")
    assert (too_late["step"], too_late["category"]) == ("release", "ps")
    assert chain.get(f"/api/allotments/{lapsed}/adjustments") == []
    assert chain.get(f"/api/allotments/{still_open}")["adjusted_amount"] == "100000.00"


# -- sub-allotments ---------------------------------------------------------------------------


def sub_allot(chain, allotment, amount, expect=201, recipient="MTIT", day="2025-05-02", who=None):
    chain.world.org("MTIT")
    return chain.post(f"/api/allotments/{allotment}/sub-allotments", who or chain.world.budget_analyst, expect,
                      recipient=recipient, amount=amount, sub_allotment_date=day, saro_number="SUB-ARO-2025-001",
                      **BASIS)


def test_a_sub_allotment_gives_the_receiver_an_allotment_it_obligates_against_and_both_sides_list_it(chain):
    world = chain.world
    giver = chain.allot("1000000.00")["id"]
    chain.obligate(giver, "100000.00")
    receiver_focal = world.other_focal  # MTIT

    made = sub_allot(chain, giver, "300000.00")

    received = made["recipient_allotment_id"]
    assert (made["organization"], made["recipient"], made["saro_number"], made["recipient_saro_number"]) == (
        "MSSD", "MTIT", chain.get(f"/api/allotments/{giver}")["saro_number"], "SUB-ARO-2025-001")
    shown = chain.get(f"/api/allotments/{giver}")
    assert (shown["adjusted_amount"], shown["available"]) == ("700000.00", "600000.00")
    theirs = world.client.get(f"/api/allotments/{received}", headers=receiver_focal.headers).get_json()
    assert (theirs["amount"], theirs["available"], theirs["release_date"]) == ("300000.00", "300000.00",
                                                                               "2025-05-02")
    chain.post("/api/obligations", receiver_focal, allotment_id=received, payee="Maguindanao Supplies",
               obligation_date="2025-05-10", amount="300000.00")
    assert chain.get(f"/api/program-budgets/{chain.program_budget}")["allotted"] == "1000000.00"
    listed_by_giver = chain.get(f"/api/allotments/{giver}/sub-allotments")
    listed_by_receiver = world.client.get(f"/api/allotments/{received}/sub-allotments",
                                          headers=receiver_focal.headers).get_json()
    assert [r["id"] for r in listed_by_giver] == [r["id"] for r in listed_by_receiver] == [made["id"]]
    assert [a["kind"] for a in chain.get(f"/api/allotments/{giver}/adjustments")] == ["sub_allotment"]
    assert [e["entity_id"] for e in audit(world, entity="sub_allotment")] == [made["id"]]


def test_a_sub_allotment_above_the_unused_allotment_or_to_itself_is_refused(chain):
    giver = chain.allot("1000000.00")["id"]
    chain.obligate(giver, "600000.00")

    above = sub_allot(chain, giver, "400000.01", expect=409)
    itself = sub_allot(chain, giver, "1.00", expect=422, recipient="MSSD")
    unknown = sub_allot(chain, giver, "1.00", expect=422, recipient="NOPE")
    focal = sub_allot(chain, giver, "1.00", expect=403, who=chain.world.focal)

    assert (above["level"], above["committed"], above["available"]) == ("obligation", "600000.00", "400000.00")
    assert "never to itself" in itself["errors"]["recipient"][0]
    assert "recipient" in unknown["errors"]
    assert "budget_officer" in focal["detail"]
    assert chain.get(f"/api/allotments/{giver}/sub-allotments") == []
    sub_allot(chain, giver, "400000.00")


def test_the_giver_moa_lists_neither_the_allotment_it_sub_allotted_nor_the_receivers_ors_and_dv(chain):
    world = chain.world
    giver = chain.allot("1000000.00")["id"]
    received = sub_allot(chain, giver, "300000.00")["recipient_allotment_id"]
    theirs = chain.post("/api/obligations", world.other_focal, allotment_id=received, payee="Maguindanao Supplies",
                        obligation_date="2025-05-10", amount="300000.00")["id"]
    certify_ors(world, theirs, org="MTIT")  # Boxes A and B by MTIT's own people
    chain.post("/api/disbursements", world.other_focal, obligation_id=theirs, payment_method="mds_check",
               disbursement_date="2025-05-20", amount="100000.00")
    focal = world.focal.headers

    listed = world.client.get(f"/api/program-budgets/{chain.program_budget}/allotments", headers=focal).get_json()
    shown = world.client.get(f"/api/program-budgets/{chain.program_budget}", headers=focal).get_json()
    with world.app.app_context():
        money = read_money_chain(users.get_user("mssd.focal"), chain.ppa)
        seen = ([a.row.id for a in money.allotments], money.obligations, money.disbursements,
                money.program_budgets[0].allotted)

    assert world.client.get(f"/api/allotments/{received}", headers=focal).status_code == 404
    assert [a["id"] for a in listed] == [giver]
    assert [a["id"] for a in chain.get(f"/api/program-budgets/{chain.program_budget}/allotments")] == [giver, received]
    assert seen == ([giver], [], [], Decimal("1000000.00"))
    assert shown["allotted"] == "1000000.00"  # the balances still count the MOA's whole appropriation


def test_the_receiving_moas_budget_officer_realigns_and_sub_allots_its_received_allotments(chain):
    world = chain.world
    giver = chain.allot("1000000.00")["id"]
    world.org("MTIT")
    received = [chain.post(f"/api/allotments/{giver}/sub-allotments", world.budget_analyst, recipient="MTIT",
                           amount="200000.00", sub_allotment_date="2025-05-02", saro_number=f"SUB-ARO-2025-00{n}",
                           **BASIS)["recipient_allotment_id"] for n in (1, 2)]
    officer = world.person("mtit.budget", "budget_officer", org="MTIT")

    pair = realign(chain, received[0], received[1], "50000.00", who=officer)
    onward = sub_allot(chain, received[1], "100000.00", recipient="MSSD", who=officer)

    assert [r["amount"] for r in pair] == ["-50000.00", "50000.00"]
    assert (onward["organization"], onward["recipient"]) == ("MTIT", "MSSD")
    mine = world.client.get(f"/api/allotments/{received[1]}", headers=officer.headers).get_json()
    assert mine["adjusted_amount"] == "150000.00"
    assert chain.get(f"/api/program-budgets/{chain.program_budget}")["allotted"] == "1000000.00"


def test_by_quarter_shows_adjustments_and_transfers_in_their_own_columns(chain):
    world = chain.world
    other = second_program_budget(chain, approved="500000.00", budget="1000000.00")
    giver = chain.allot("1000000.00")["id"]
    second = chain.allot("100000.00", quarter=2)["id"]
    sub_allot(chain, giver, "300000.00", day="2025-08-01")
    realign(chain, giver, second, "50000.00", day="2025-08-02")
    adjust(chain, chain.program_budget, "transfer", "200000.00", allotment_class="mooe", to_program_budget_id=other,
           day="2025-08-03")

    with world.app.app_context():
        money = read_money_chain(users.get_user("admin"), chain.ppa)  # who sees both sides of the sub-allotment
        columns = money.columns_by_quarter()
        net = money.by_quarter()

    q3 = columns[(2025, 3)]
    assert q3["allotted"]["transfers_to"] == Decimal("-300000.00")
    assert q3["allotted"]["transfers_from"] == Decimal("300000.00")
    assert q3["allotted"]["adjustments"] == Decimal("0.00")  # the realignment's pair, both in this PPA
    assert q3["allotted"]["net"] == net[(2025, 3)]["allotted"] == Decimal("0.00")
    assert q3["appropriated"]["transfers_to"] == Decimal("-200000.00")  # the other program budget is another PPA's
    assert columns[(2025, 1)]["allotted"]["originals"] == Decimal("1000000.00")
    assert set(net[(2025, 3)]) == {"allotted", "obligated", "disbursed"}


def test_racing_releases_transfers_and_sub_allotments_on_postgresql_land_exactly_what_fits(pg_app, pg_world):
    chain = built_once(pg_world, "chain", Chain)  # the suite's chain, built once
    other = second_program_budget(chain, approved="500000.00", budget="1000000.00")
    giver = chain.allot("4000000.00")["id"]  # 1,000,000.00 of the appropriation left to allot or transfer
    pg_world.org("MTIT")
    analyst = pg_world.budget_analyst

    def release(index):
        return lambda client: client.post("/api/allotments", headers=analyst.headers, json={
            "program_budget_id": chain.program_budget, "release_date": "2025-05-02",
            "saro_number": f"SARO-RACE-{index}", "amount": "100000.00"})

    def transfer(index):
        return lambda client: client.post(f"/api/program-budgets/{chain.program_budget}/adjustments",
                                          headers=analyst.headers, json={
                                              "kind": "transfer", "amount": "100000.00", "allotment_class": "mooe",
                                              "to_program_budget_id": other, "adjustment_date": "2025-05-02",
                                              **BASIS})

    def give(index):
        return lambda client: client.post(f"/api/allotments/{giver}/sub-allotments", headers=analyst.headers,
                                          json={"recipient": "MTIT", "amount": "1000000.00",
                                                "sub_allotment_date": "2025-05-02",
                                                "saro_number": f"SUB-ARO-{index}", **BASIS})

    responses = race(pg_app, [release(i) for i in range(8)] + [transfer(i) for i in range(8)]
                     + [give(i) for i in range(5)])

    statuses = [r.status_code for r in responses]
    assert all(status in (201, 409) for status in statuses), [r.get_json() for r in responses]
    assert statuses[:16].count(201) == 10  # the 1,000,000.00 left, in tenths, whoever wins
    assert statuses[16:].count(201) == 4  # the giver's 4,000,000.00, in millions
    shown = chain.get(f"/api/program-budgets/{chain.program_budget}")
    assert shown["unallotted"] == "0.00"
    assert Decimal(shown["allotted"]) == Decimal(shown["adjusted_amount"])
    assert chain.get(f"/api/allotments/{giver}")["available"] == "0.00"
