"""ORS and DV as documents moving through COA's boxes (issue 12 item 3;
docs/design.md §12 "ORS and DV as documents"; rules/default/workflows/ors.yaml,
dv.yaml): a draft counts nowhere; Box B of the ORS obligates, Box E of the DV
pays; who may sign each box, separation of duties from one table, OIC
delegation, the refusals, racing payments on PostgreSQL, and raw SQL that
would move a posted document back to draft."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db import db
from tests.api.test_delegations_api import delegate, end_behind_the_services_back
from tests.integration.test_budget_limits import (
    insert_disbursement,
    insert_obligation,
    refused,
    seed,
)
from tests.support import Chain, built_once, race

#: What these tests check is the services' (the database's own refusals: tests marked ``both_backends``,
#: tests/integration/test_budget_limits.py): one backend (tests/conftest.py, ``pytest_generate_tests``).
pytestmark = pytest.mark.one_backend

ORS_STEPS = ("certify_charges", "certify_obligation", "cancel")
DV_STEPS = ("certify_necessary", "record_entry", "certify_cash", "approve_payment", "pay", "cancel")

#: Who signs which box, from one table: actor -> {(document, step): (status, code or None)}.
#: Every step not listed for an actor is refused 403 ``role_missing``. The documents are prepared by the
#: MOA focal person (``preparer`` below), except the ``admin_preparer`` rows; the earlier boxes are signed
#: by the usual signatories (tests.support.World), except for the ``*_signer`` rows, who signed the box
#: before the one they try.
OK = (200, None)
SOD = (403, "separation_of_duties")
TABLE: dict[str, dict[tuple[str, str], tuple[int, str | None]]] = {
    "preparer": {("ors", "cancel"): OK, ("dv", "cancel"): OK},
    "head_of_office": {("ors", "certify_charges"): OK, ("dv", "certify_necessary"): OK},
    "head_of_agency": {("ors", "certify_charges"): OK, ("dv", "approve_payment"): OK},
    "budget_officer": {("ors", "certify_obligation"): OK, ("ors", "cancel"): OK},
    "accountant": {("dv", "record_entry"): OK, ("dv", "certify_cash"): OK, ("dv", "cancel"): OK},
    "chief_accountant": {("dv", "certify_cash"): OK},
    "disbursing_officer": {("dv", "pay"): OK},
    "coa_auditor": {},
    "other_moa_budget_officer": {(doc, step): (404, None) for doc, steps in (("ors", ORS_STEPS), ("dv", DV_STEPS))
                                 for step in steps},
    "admin": {(doc, step): OK for doc, steps in (("ors", ORS_STEPS), ("dv", DV_STEPS)) for step in steps},
    "admin_preparer": {(doc, step): SOD for doc, steps in (("ors", ORS_STEPS), ("dv", DV_STEPS))
                       for step in steps if step != "cancel"} | {("ors", "cancel"): OK, ("dv", "cancel"): OK},
    "box_a_signer": {("ors", "certify_charges"): OK, ("ors", "certify_obligation"): SOD, ("ors", "cancel"): OK,
                     ("dv", "certify_necessary"): OK},
    "box_b_signer": {("dv", "record_entry"): OK, ("dv", "certify_cash"): SOD, ("dv", "cancel"): OK},
}
#: The step before which the ``*_signer`` actors signed the box before it themselves.
SIGNED_BEFORE = {"box_a_signer": ("ors", "certify_obligation"), "box_b_signer": ("dv", "certify_cash")}

#: The roles of each actor of the table (all of MSSD but one).
ROLES = {"preparer": ("moa_focal",), "head_of_office": ("head_of_office",), "head_of_agency": ("head_of_agency",),
         "budget_officer": ("budget_officer",), "accountant": ("accountant",),
         "chief_accountant": ("chief_accountant",), "disbursing_officer": ("disbursing_officer",),
         "coa_auditor": ("coa_auditor",), "other_moa_budget_officer": ("budget_officer",), "admin": ("admin",),
         "admin_preparer": ("admin",), "box_a_signer": ("head_of_office", "budget_officer"),
         "box_b_signer": ("accountant",)}


def _fire(chain: Chain, path: str, trigger: str, who, **extra):
    body = {"trigger": trigger} | ({"comment": "Supplier withdrew its quotation"} if trigger == "cancel" else {})
    return chain.world.client.post(f"{path}/transitions", json=body | extra, headers=who.headers)


def _document_at(chain: Chain, document: str, step: str, obligation: int, preparer, earlier_signer):
    """A fresh ORS or DV prepared by ``preparer`` and signed up to the box
    before ``step`` (the last of those by ``earlier_signer`` when given)."""
    world = chain.world
    if document == "ors":
        body = chain.post("/api/obligations", preparer, 201, allotment_id=chain.allotment, payee="Supplier",
                          obligation_date="2025-03-10", amount="1000.00")
        before = chain.ors_boxes()[:ORS_STEPS.index(step)] if step != "cancel" else []
        path = f"/api/obligations/{body['id']}"
    else:
        body = chain.post("/api/disbursements", preparer, 201, obligation_id=obligation,
                          payment_method="mds_check", disbursement_date="2025-04-15",
                          amount="1000.00")
        before = chain.dv_boxes("2025-04-15")[:DV_STEPS.index(step)] if step != "cancel" else []
        path = f"/api/disbursements/{body['id']}"
    for index, (trigger, who, extra) in enumerate(before):
        who = earlier_signer if earlier_signer and index == len(before) - 1 else who
        response = _fire(chain, path, trigger, who, **extra)
        assert response.status_code == 200, response.get_json()
    assert world.client.get(path, headers=world.admin.headers).status_code == 200
    return path


def _signing_table_chain(world) -> tuple[Chain, int, dict[tuple[str, str], str]]:
    """What each row of the table draws its documents on, built once
    (``built_once``): a ``Chain`` with an allotment of PHP 4,000,000.00
    (``chain.allotment``), an ORS of PHP 1,000,000.00 obligated against it
    (its id), and for each (document, step) a document prepared by the MOA
    focal person and signed by the usual signatories up to the box before
    that step (its API path), as ``_document_at`` makes them."""
    chain = Chain(world)
    chain.allotment = chain.allot("4000000.00")["id"]
    obligation = chain.obligate(chain.allotment, "1000000.00")["id"]
    ready = {(document, step): _document_at(chain, document, step, obligation, world.focal, None)
             for document, steps in (("ors", ORS_STEPS), ("dv", DV_STEPS)) for step in steps}
    return chain, obligation, ready


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
@pytest.mark.parametrize("actor", list(TABLE))
def test_who_may_sign_each_box_of_an_ors_and_a_dv_comes_from_one_table(world, actor):
    chain, obligation, ready = built_once(world, "signing_table", _signing_table_chain)
    org = "MTIT" if actor == "other_moa_budget_officer" else None if actor.startswith("admin") else "MSSD"
    person = world.focal if actor == "preparer" else world.person(f"t.{actor}", *ROLES[actor], org=org)
    preparer = person if actor == "admin_preparer" else world.focal

    outcomes = {}
    for document, steps in (("ors", ORS_STEPS), ("dv", DV_STEPS)):
        for step in steps:
            earlier = person if SIGNED_BEFORE.get(actor) == (document, step) else None
            path = ready[(document, step)] if preparer == world.focal and earlier is None \
                else _document_at(chain, document, step, obligation, preparer, earlier)
            extra = {"check_ada_number": "CHK-1", "check_ada_date": "2025-04-15", "jev_number": "JEV-1"} \
                if step == "pay" else {}
            response = _fire(chain, path, step, person, **extra)
            outcomes[(document, step)] = (response.status_code, (response.get_json() or {}).get("code")
                                          if response.status_code >= 400 and response.status_code != 404 else None)

    expected = {(document, step): TABLE[actor].get((document, step), (403, "role_missing"))
                for document, steps in (("ors", ORS_STEPS), ("dv", DV_STEPS)) for step in steps}
    assert outcomes == expected


# -- the refusals, through the API -----------------------------------------------------------------------


def test_a_draft_ors_counts_nowhere_until_box_b_obligates_it(chain, world):
    allotment = chain.allot("100000.00")["id"]
    draft = chain.post("/api/obligations", world.focal, 201, allotment_id=allotment, payee="Supplier",
                       obligation_date="2025-03-10", amount="60000.00")
    second = chain.post("/api/obligations", world.focal, 201, allotment_id=allotment, payee="Supplier",
                        obligation_date="2025-03-10", amount="60000.00")

    while_draft = chain.get(f"/api/allotments/{allotment}")
    appropriation = chain.get(f"/api/program-budgets/{chain.program_budget}")
    first = chain.certify(draft["id"])
    over = chain.sign(f"/api/obligations/{second['id']}", 409, chain.ors_boxes())
    after = chain.get(f"/api/allotments/{allotment}")

    assert (draft["status"], while_draft["obligated"], while_draft["available"]) == ("draft", "0.00", "100000.00")
    assert (appropriation["obligated"], appropriation["unobligated"]) == ("0.00", "100000.00")
    assert (first["status"], after["obligated"], after["available"]) == ("obligated", "60000.00", "40000.00")
    assert over["code"] == "budget_limit_exceeded" and over["available"] == "40000.00"
    assert chain.get(f"/api/obligations/{second['id']}")["status"] == "charges_certified"


def test_a_dv_cannot_be_prepared_against_a_draft_ors_nor_a_norsa_or_cancellation_made_on_one(chain, world):
    allotment = chain.allot("100000.00")["id"]
    draft = chain.post("/api/obligations", world.focal, 201, allotment_id=allotment, payee="Supplier",
                       obligation_date="2025-03-10", amount="60000.00")["id"]

    dv = chain.post("/api/disbursements", world.focal, 409, obligation_id=draft, payment_method="mds_check", disbursement_date="2025-04-15", amount="100.00")
    norsa = chain.post(f"/api/obligations/{draft}/adjustments", world.focal, 409, amount="-100.00",
                       adjustment_date="2025-04-01", reason="r", legal_basis="NORSA 1")
    cancel = chain.post(f"/api/obligations/{draft}/cancel", world.focal, 409, reason="r")

    assert {dv["code"], norsa["code"], cancel["code"]} == {"not_posted"}
    assert "not yet posted" in dv["detail"] and "Box B" in dv["detail"]


def test_box_b_and_box_e_are_refused_in_a_quarter_closed_since_the_draft_was_prepared(chain, world):
    from tests.api.test_period_closures import close

    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "50000.00")["id"]
    ors = chain.ors_ready_for_box_b(allotment, "1000.00", day="2025-03-20")
    dv = chain.dv_ready_to_pay(obligation, "1000.00", day="2025-03-25")
    close(world, (world.budget_officer, world.chief_accountant))

    box_b = chain.box_b(ors)(world.client)
    box_e = chain.box_e(dv, day="2025-03-25")(world.client)
    paid_in_april = chain.box_e(dv, day="2025-04-02")(world.client)

    assert (box_b.status_code, box_b.get_json()["code"]) == (409, "period_closed")
    assert (box_e.status_code, box_e.get_json()["code"]) == (409, "period_closed")
    assert chain.get(f"/api/obligations/{ors}")["status"] == "charges_certified"
    assert paid_in_april.status_code == 200 and paid_in_april.get_json()["disbursement_date"] == "2025-04-02"


def test_paying_a_dv_needs_the_check_or_ada_number_and_date_and_the_jev_number(chain, world):
    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "50000.00")["id"]
    dv = chain.dv_ready_to_pay(obligation, "1000.00")

    missing = _fire(chain, f"/api/disbursements/{dv}", "pay", world.cashier)
    early = _fire(chain, f"/api/disbursements/{dv}", "pay", world.cashier, check_ada_number="ADA-1",
                  check_ada_date="2025-01-02", jev_number="JEV-1")
    paid = _fire(chain, f"/api/disbursements/{dv}", "pay", world.cashier, check_ada_number="ADA-1",
                 check_ada_date="2025-05-06", jev_number="JEV-1")

    assert missing.status_code == 422
    assert set(missing.get_json()["errors"]) == {"check_ada_number", "check_ada_date", "jev_number"}
    assert early.status_code == 422 and "check_ada_date" in early.get_json()["errors"]
    body = paid.get_json()
    assert (body["status"], body["disbursement_date"], body["check_ada_number"], body["jev_number"]) == (
        "disbursed", "2025-05-06", "ADA-1", "JEV-1")
    assert chain.get(f"/api/obligations/{obligation}")["disbursed"] == "1000.00"


def test_cancelling_a_draft_needs_a_comment_and_a_paid_dv_cannot_be_cancelled_only_voided(chain, world):
    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "50000.00")["id"]
    draft = chain.post("/api/obligations", world.focal, 201, allotment_id=allotment, payee="Supplier",
                       obligation_date="2025-03-10", amount="100.00")["id"]
    paid = chain.disburse(obligation, "100.00")["id"]

    silent = world.client.post(f"/api/obligations/{draft}/transitions", json={"trigger": "cancel"},
                               headers=world.focal.headers)
    withdrawn = world.client.post(f"/api/obligations/{draft}/transitions",
                                  json={"trigger": "cancel", "comment": "Duplicate of ORS-2025-0002"},
                                  headers=world.focal.headers)
    too_late = world.client.post(f"/api/disbursements/{paid}/transitions",
                                 json={"trigger": "cancel", "comment": "wrong payee"}, headers=world.focal.headers)
    obligated_cancel = world.client.post(f"/api/obligations/{obligation}/transitions",
                                         json={"trigger": "cancel", "comment": "no longer needed"},
                                         headers=world.focal.headers)

    assert silent.status_code == 422 and "comment" in silent.get_json()["errors"]
    assert withdrawn.status_code == 200
    assert (withdrawn.get_json()["status"], withdrawn.get_json()["cancel_reason"]) == (
        "withdrawn", "Duplicate of ORS-2025-0002")
    assert too_late.status_code == 409 and obligated_cancel.status_code == 409
    assert chain.get(f"/api/allotments/{allotment}")["obligated"] == "50000.00"


def test_the_actions_say_in_words_why_a_box_is_closed_and_the_history_records_each_signature(chain, world):
    allotment = chain.allot("100000.00")["id"]
    both = world.person("mssd.focal_budget", "moa_focal", "budget_officer", org="MSSD")
    ors = chain.post("/api/obligations", both, 201, allotment_id=allotment, payee="Supplier", obligation_date="2025-03-10", amount="1000.00")["id"]
    assert _fire(chain, f"/api/obligations/{ors}", "certify_charges", world.office_head).status_code == 200

    actions = world.client.get(f"/api/obligations/{ors}/actions", headers=both.headers).get_json()
    box_b = {a["trigger"]: a for a in actions["actions"]}["certify_obligation"]
    certified = _fire(chain, f"/api/obligations/{ors}", "certify_obligation", world.budget_officer)
    history = world.client.get(f"/api/obligations/{ors}/history", headers=world.coa_auditor.headers).get_json()

    assert actions["status"] == "charges_certified" and box_b["open"] is False
    assert [r["message"] for r in box_b["reasons"]] == ["you prepared this ORS; another person must certify it"]
    assert certified.status_code == 200
    assert [(h["trigger"], h["actor"], h["role"], h["delegated_by"]) for h in history] == [
        ("certify_charges", "mssd.office_head", "head_of_office", None),
        ("certify_obligation", "mssd.budget_officer", "budget_officer", None)]
    assert all(h["rules_hash"] for h in history)


def test_a_coa_auditor_reads_the_moas_chain_but_creates_and_signs_nothing(chain, world):
    allotment = chain.allot("100000.00")["id"]
    obligation = chain.obligate(allotment, "1000.00")["id"]
    auditor = world.coa_auditor

    read = world.client.get(f"/api/obligations/{obligation}", headers=auditor.headers)
    create = world.client.post("/api/obligations", headers=auditor.headers, json={
        "allotment_id": allotment, "payee": "P", "obligation_date": "2025-03-10",
        "amount": "1.00"})
    actions = world.client.get(f"/api/obligations/{obligation}/actions", headers=auditor.headers).get_json()

    assert read.status_code == 200 and create.status_code == 403
    assert not any(a["open"] for a in actions["actions"])


def test_an_oic_signs_box_b_under_a_delegation_as_recorded_and_an_expired_one_is_refused(chain, world):
    allotment = chain.allot("100000.00")["id"]
    oic = world.person("mssd.oic", "moa_focal", org="MSSD")
    world.budget_officer  # noqa: B018 - the delegator exists
    lent = delegate(world, world.budget_officer, "mssd.oic", "budget_officer")
    first = chain.ors_ready_for_box_b(allotment, "1000.00")
    second = chain.ors_ready_for_box_b(allotment, "1000.00")

    signed = _fire(chain, f"/api/obligations/{first}", "certify_obligation", oic)
    history = world.client.get(f"/api/obligations/{first}/history", headers=world.focal.headers).get_json()
    end_behind_the_services_back(world, lent["id"])
    expired = _fire(chain, f"/api/obligations/{second}", "certify_obligation", oic)

    assert signed.status_code == 200 and signed.get_json()["status"] == "obligated"
    assert (history[-1]["actor"], history[-1]["role"], history[-1]["delegated_by"]) == (
        "mssd.oic", "budget_officer", "mssd.budget_officer")
    assert expired.status_code == 403 and expired.get_json()["code"] == "role_missing"
    assert "your delegation of budget_officer from mssd.budget_officer expired at" in expired.get_json()["detail"]
    assert chain.get(f"/api/obligations/{second}")["status"] == "charges_certified"


# -- PostgreSQL: racing payments ------------------------------------------------------------------------


def test_thirty_dvs_paid_at_once_against_one_ors_pay_exactly_what_fits_never_twice(pg_app, pg_world):
    chain = built_once(pg_world, "chain", Chain)  # the suite's chain, built once
    allotment = chain.allot("1000000.00")["id"]
    obligation = chain.obligate(allotment, "250000.00")["id"]
    dvs = [chain.dv_ready_to_pay(obligation, "10000.00") for _ in range(30)]
    twice = dvs[0]

    responses = race(pg_app, [chain.box_e(dv) for dv in dvs] + [chain.box_e(twice)])

    statuses = sorted(r.status_code for r in responses)
    codes = {r.get_json()["code"] for r in responses if r.status_code == 409}
    assert statuses == [200] * 25 + [409] * 6, [r.get_json() for r in responses if r.status_code not in (200, 409)]
    assert codes <= {"budget_limit_exceeded", "invalid_transition"}
    shown = chain.get(f"/api/obligations/{obligation}")
    assert (shown["disbursed"], shown["balance"], shown["status"]) == ("250000.00", "0.00", "fully_disbursed")
    paid = [chain.get(f"/api/disbursements/{dv}")["status"] for dv in dvs]
    assert paid.count("disbursed") == 25 and paid.count("approved") == 5


# -- raw SQL, both databases ---------------------------------------------------------------------------


@pytest.fixture
def documents(app):
    """A posted ORS (1) with a paid DV (1), a draft ORS (3) and a DV approved but not paid (2), by raw SQL."""
    with app.app_context():
        with db.engine.begin() as connection:
            seed(connection, approved=100_000_000, allotment=50_000_000, obligation=30_000_000)
            insert_disbursement(connection, 1, 25_000_000)
            insert_disbursement(connection, 2, 1_000_000, status="approved")
            insert_obligation(connection, 3, 40_000_000, status="draft")
        yield db.engine


@pytest.mark.both_backends
@pytest.mark.parametrize("statement", [
    "UPDATE obligations SET status = 'draft' WHERE id = 1",
    "UPDATE obligations SET status = 'charges_certified' WHERE id = 1",
    "UPDATE disbursements SET status = 'approved' WHERE id = 1",
    "UPDATE disbursements SET status = 'draft' WHERE id = 1",
    "UPDATE obligations SET status = 'withdrawn' WHERE id = 1",
])
def test_raw_sql_cannot_move_a_posted_ors_or_dv_back_to_draft(documents, statement):
    with documents.begin() as connection:
        before = connection.execute(text("SELECT status FROM obligations UNION ALL SELECT status FROM disbursements"
                                         )).all()
    assert refused(documents, lambda connection: connection.execute(text(statement)))
    with documents.begin() as connection:
        assert connection.execute(text("SELECT status FROM obligations UNION ALL SELECT status FROM disbursements"
                                       )).all() == before


@pytest.mark.both_backends
def test_a_draft_counts_in_no_database_total_and_posting_it_is_checked_by_the_database(documents):
    # ORS 3 (400,000.00) is a draft above what allotment 1 has left (200,000.00): the database let it in
    assert refused(documents, lambda c: c.execute(text(
        "UPDATE obligations SET status = 'obligated' WHERE id = 3")))  # skipping Box A is no move
    with documents.begin() as connection:
        connection.execute(text("UPDATE obligations SET amount = 30000000 WHERE id = 3"))  # a draft may change
        connection.execute(text("UPDATE obligations SET status = 'charges_certified' WHERE id = 3"))
    assert refused(documents, lambda c: c.execute(text(
        "UPDATE obligations SET status = 'obligated' WHERE id = 3")))  # 300,000.00 + 300,000.00 > 500,000.00
    with documents.begin() as connection:
        connection.execute(text("UPDATE obligations SET amount = 20000000 WHERE id = 3"))
        connection.execute(text("UPDATE obligations SET status = 'obligated' WHERE id = 3"))
        connection.execute(text("UPDATE disbursements SET status = 'disbursed' WHERE id = 2"))
        assert connection.scalar(text("SELECT status FROM obligations WHERE id = 3")) == "obligated"
    assert refused(documents, lambda c: c.execute(text("UPDATE obligations SET amount = 1 WHERE id = 3")))
