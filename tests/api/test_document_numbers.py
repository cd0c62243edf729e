"""ORS and DV numbers as GAM Appendices 11 and 32 give them, and the DV's
modes of payment (issue 12 item 3; docs/design.md §12, "Document numbers
and modes of payment")."""

from __future__ import annotations

import pytest

from tests.support import Chain, built_once, race

#: What these tests check is the services' (the database's own refusals: tests marked ``both_backends``,
#: tests/integration/test_budget_limits.py): one backend (tests/conftest.py, ``pytest_generate_tests``).
pytestmark = pytest.mark.one_backend


def obligate(chain: Chain, allotment: int, expect=201, **body) -> dict:
    """An ORS prepared with ``body`` and, when it is accepted, obligated (Boxes A and B signed)."""
    body = {"allotment_id": allotment, "payee": "Cotabato Training Services Cooperative",
            "obligation_date": "2025-03-10", "amount": "1000.00"} | body
    prepared = chain.post("/api/obligations", chain.world.focal, expect, **body)
    return chain.certify(prepared["id"]) if expect == 201 else prepared


def disburse(chain: Chain, obligation: int, expect=201, **body) -> dict:
    body = {"obligation_id": obligation, "payment_method": "ada", "disbursement_date": "2025-04-15",
            "amount": "10.00"} | body
    return chain.post("/api/disbursements", chain.world.focal, expect, **body)


def counts(chain: Chain) -> tuple[int, int]:
    obligations = chain.get(f"/api/allotments/{chain.allotment}/obligations")
    return len(obligations), sum(len(chain.get(f"/api/obligations/{o['id']}/disbursements")) for o in obligations)


@pytest.fixture
def chain(world) -> Chain:
    """The suite's ``chain`` (built once: ``built_once``) with an allotment of PHP 1,000,000.00."""
    chain = built_once(world, "chain", Chain)
    chain.allotment = chain.allot("1000000.00")["id"]
    return chain


def test_an_ors_and_a_dv_left_unnumbered_take_the_next_numbers_of_their_series(chain):
    first = obligate(chain, chain.allotment)
    second = obligate(chain, chain.allotment, obligation_date="2025-05-02")
    paid = disburse(chain, first["id"])
    again = disburse(chain, second["id"], disbursement_date="2025-06-30")

    assert [first["ors_number"], second["ors_number"]] == ["02-01-2025-03-00001", "02-01-2025-05-00002"]
    assert [paid["dv_number"], again["dv_number"]] == ["2025-04-0001", "2025-06-0002"]
    assert (paid["fund_cluster"], paid["payment_method"]) == ("01", "ada")


def test_a_number_given_in_its_form_is_kept_and_the_series_continues_after_it(chain):
    given = obligate(chain, chain.allotment, ors_number="02-01-2025-03-00041")
    next_one = obligate(chain, chain.allotment)
    uacs = obligate(chain, chain.allotment, ors_number="02-101101-2025-03-050")
    paid = disburse(chain, given["id"], dv_number="2025-04-0120")
    next_dv = disburse(chain, given["id"])

    assert [given["ors_number"], next_one["ors_number"], uacs["ors_number"]] == [
        "02-01-2025-03-00041", "02-01-2025-03-00042", "02-101101-2025-03-050"]
    assert obligate(chain, chain.allotment)["ors_number"] == "02-01-2025-03-00051"
    assert [paid["dv_number"], next_dv["dv_number"]] == ["2025-04-0120", "2025-04-0121"]


ORS_REFUSALS = [
    ("ORS-2025-0001", "'ORS-2025-0001' is not an ORS number in the form allotment class-funding source "
                      "code-year-month-serial, e.g. 02-01-2026-03-00001 (GAM Appendix 11)"),
    ("06-01-2025-03-00001", "'06-01-2025-03-00001' is numbered as allotment class 06, but the allotment is MOOE "
                            "(02); expected 02-01-2025-03-serial"),
    ("02-07-2025-03-00001", "'02-07-2025-03-00001' names funding source 07, which is not of the program budget's "
                            "fund cluster 01; expected 02-01-2025-03-serial"),
    ("02-01-2025-04-00001", "'02-01-2025-04-00001' is numbered 2025-04, but the ORS is dated 2025-03-10; "
                            "expected 02-01-2025-03-serial"),
    ("02-01-2025-13-00001", "is not an ORS number in the form"),
]


def test_an_ors_number_not_as_the_appendix_gives_it_is_refused_naming_the_expected_form(chain):
    refused = {number: obligate(chain, chain.allotment, 422, ors_number=number) for number, _ in ORS_REFUSALS}

    for number, sentence in ORS_REFUSALS:
        assert sentence in refused[number]["errors"]["ors_number"][0]
    assert counts(chain) == (0, 0)


DV_REFUSALS = [
    ("DV-2025-0001", "'DV-2025-0001' is not a DV number in the form year-month-serial, e.g. 2026-04-0001 "
                     "(GAM Appendix 32)"),
    ("2026-04-0001", "'2026-04-0001' is numbered 2026-04, but the DV is dated 2025-04-15; expected 2025-04-serial"),
]


def test_a_dv_number_not_as_the_appendix_gives_it_or_an_unknown_mode_of_payment_is_refused(chain):
    obligation = obligate(chain, chain.allotment)["id"]

    refused = {number: disburse(chain, obligation, 422, dv_number=number) for number, _ in DV_REFUSALS}
    check = disburse(chain, obligation, 422, payment_method="check")

    for number, sentence in DV_REFUSALS:
        assert refused[number]["errors"]["dv_number"] == [sentence]
    assert check["errors"]["payment_method"] == [
        "is not a mode of payment; use one of mds_check, commercial_check, ada, other (MDS check, commercial check, "
        "ADA, others: GAM Appendix 32)"]
    assert counts(chain) == (1, 0)


def test_a_refused_ors_leaves_its_series_where_it_was(chain):
    obligate(chain, chain.allotment, 409, amount="2000000.00")  # above the allotment

    assert obligate(chain, chain.allotment)["ors_number"] == "02-01-2025-03-00001"


def test_concurrent_ors_and_dv_generations_never_share_a_number(pg_app, pg_world):
    chain = built_once(pg_world, "chain", Chain)  # the suite's chain, built once
    allotment = chain.allot("1000000.00")["id"]
    focal = pg_world.focal
    paid = obligate(chain, allotment, amount="100000.00")["id"]

    def new_ors(index):
        return lambda client: client.post("/api/obligations", headers=focal.headers, json={
            "allotment_id": allotment, "payee": f"Supplier {index}", "obligation_date": "2025-03-10",
            "amount": "1000.00"})

    def new_dv(index):
        return lambda client: client.post("/api/disbursements", headers=focal.headers, json={
            "obligation_id": paid, "payment_method": "mds_check", "disbursement_date": "2025-04-15",
            "amount": "100.00"})

    responses = race(pg_app, [new_ors(i) for i in range(8)] + [new_dv(i) for i in range(8)])

    assert [r.status_code for r in responses] == [201] * 16, [r.get_json() for r in responses]
    assert sorted(r.get_json()["ors_number"] for r in responses[:8]) == [
        f"02-01-2025-03-{serial:05d}" for serial in range(2, 10)]
    assert sorted(r.get_json()["dv_number"] for r in responses[8:]) == [
        f"2025-04-{serial:04d}" for serial in range(1, 9)]
