"""The RAOD (GAM Appendix 9A–9D; docs/design.md §8 "The RAOD as built"),
read back through the API with openpyxl and pdfplumber: one registry per
allotment class and fund cluster, entries in date order with their
references, reversals and adjustments as entries of their own dates,
running balances; closing balances equal to FAR No. 1's columns 22–24 and
every total equal to sums of the database rows, to the centavo.

One world for the module (built once per database backend): MSSD FY2025
with a MOOE PAP and a PS PAP, two quarters of postings, a draft ORS and an
ORS of the next year."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pdfplumber
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.api.test_admin_api import HEADER, organization_path
from tests.api.test_payables import deliver
from tests.api.test_transfers_api import sub_allot
from tests.conftest import BACKENDS, _dispose, _make_app
from tests.support import Chain, World

RAOD = "/api/reports/raod.xlsx?fiscal_year=2025"
MOOE, PS = "MAINTENANCE AND OTHER OPERATING EXPENSES (RAODMOOE) - GAM Appendix 9B", \
    "PERSONNEL SERVICES (RAODPS) - GAM Appendix 9A"


@pytest.fixture(scope="module", params=BACKENDS)
def year(request, tmp_path_factory):
    """MSSD FY2025, header block and signatories set.

    MOOE (PAP of the Chain): SARO 2,000,000.00 (3 Feb); ORS 800,000.00 (10 Mar),
    500,000.00 accepted (20 Mar), DV 300,000.00 (20 Mar); Q2: reduction
    100,000.00 and sub-allotment 300,000.00 to MTIT (2 May), ORS 400,000.00
    (5 May), DV 100,000.00 (10 May), the void of the first DV (1 Jun), a
    NORSA of −50,000.00 on the second ORS (2 Jun); a draft ORS of 70,000.00.
    PS (a second PAP): SARO 1,000,000.00 (3 Feb); ORS 600,000.00 (14 Mar),
    accepted 31 Mar, DV 550,000.00 (15 Apr); ORS 100,000.00 (2 Apr) cancelled
    20 May."""
    app = _make_app(request.param, request, tmp_path_factory.mktemp("raod"))
    world = World(app)
    chain = Chain(world, budget="6000000.00")
    path = organization_path(world)
    etag = world.client.get(path, headers=world.admin.headers).headers["ETag"]
    assert world.client.patch(path, json=HEADER, headers=world.admin.headers | {"If-Match": etag}).status_code == 200

    mooe = chain.allot("2000000.00", quarter=1)["id"]
    first = chain.obligate(mooe, "800000.00", day="2025-03-10")["id"]
    deliver(chain, first, "500000.00", day="2025-03-20")
    dv = chain.disburse(first, "300000.00", day="2025-03-20")["id"]

    ppa = world.create_ppa(budget_allocation="1000000.00", title="Personnel of the Bangsamoro Social Services",
                           appropriation_class="ps")["id"]
    world.advance(ppa, "enacted")
    chain.ps_budget = chain.post("/api/program-budgets", world.budget_analyst, proposal_id=chain.proposal, ppa_id=ppa,
                                 ps="1000000.00", supplemental=True, enactment_act="BAA No. 40 s. 2025",
                                 enactment_date="2025-01-15")["id"]
    ps = chain.post("/api/allotments", world.budget_analyst, 201, program_budget_id=chain.ps_budget,
                    release_date="2025-02-03", saro_number="SARO-BARMM-PS-1", amount="1000000.00",
                    allotment_class="ps")["id"]
    chain.dates[ps] = "2025-02-03"
    payroll = chain.obligate(ps, "600000.00", day="2025-03-14")["id"]
    deliver(chain, payroll, "600000.00", day="2025-03-31")
    chain.disburse(payroll, "550000.00", day="2025-04-15")
    spare = chain.obligate(ps, "100000.00", day="2025-04-02")["id"]
    chain.post(f"/api/obligations/{spare}/cancel", world.focal, reason="Position not filled", cancelled_on="2025-05-20")

    chain.post(f"/api/allotments/{mooe}/adjustments", world.budget_analyst, 201, kind="reduction",
               amount="100000.00", adjustment_date="2025-05-02", reason="Realigned", legal_basis="DBM letter 041")
    sub_allot(chain, mooe, "300000.00")
    second = chain.obligate(mooe, "400000.00", day="2025-05-05")["id"]
    chain.disburse(second, "100000.00", day="2025-05-10")
    chain.post(f"/api/disbursements/{dv}/void", world.focal, 200, reason="Check spoiled", voided_on="2025-06-01")
    chain.post(f"/api/obligations/{second}/adjustments", world.focal, 201, amount="-50000.00",
               adjustment_date="2025-06-02", reason="Fewer participants", legal_basis="NORSA No. 2025-0001")
    draft = world.client.post("/api/obligations", json={
        "allotment_id": mooe, "payee": "Draft Supplier", "particulars": "Not yet signed",
        "obligation_date": "2025-05-06", "amount": "70000.00"}, headers=world.focal.headers)
    assert draft.status_code == 201 and draft.get_json()["status"] != "obligated"
    next_year = chain.obligate(mooe, "10000.00", day="2026-01-12")
    assert next_year["status"] == "obligated" and next_year["payee"] == "Cotabato Training Services Cooperative"
    chain.refs = {"mooe": mooe, "ps": ps, "first": first, "second": second, "dv": dv, "payroll": payroll,
                  "spare": spare}
    yield chain
    _dispose(app)


def workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return load_workbook(BytesIO(response.get_data()))


def number(value):
    return Decimal(str(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def day(value):
    return value.date() if isinstance(value, datetime) else value


def registry(ws):
    """(numbers row, data rows) of a RAOD sheet: each row its 11 values."""
    numbers = next(r for r in range(1, 40) if [ws.cell(r, c).value for c in (1, 2, 3)] == [1, 2, 3])
    rows = []
    for r in range(numbers + 2, ws.max_row + 1):
        if ws.cell(r, 1).value == "Prepared By:":
            break
        values = [day(number(ws.cell(r, c).value)) for c in range(1, 12)]
        if any(v is not None for v in values):
            rows.append(values)
    return numbers, rows


def texts(ws) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def sheets_by_form(book):
    return {ws.cell(2, 1).value: ws for ws in book.worksheets}


def far1_class_subtotal(world, quarter, label):
    book = workbook(world.client.get(f"/api/reports/far1.xlsx?fiscal_year=2025&moa=MSSD&quarter={quarter}",
                                     headers=world.admin.headers))
    ws = book.worksheets[0]
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, 1).value == f"Subtotal, {label}":
            return [number(ws.cell(r, c).value) for c in range(1, 25)]
    raise AssertionError(f"no FAR No. 1 subtotal of {label}")


def test_each_class_has_its_registry_with_the_prescribed_headings_header_and_signatory(year):
    world = year.world
    book = workbook(world.client.get(RAOD + "&moa=MSSD&quarter=2", headers=world.admin.headers))
    forms = sheets_by_form(book)

    assert list(forms) == [PS, MOOE] and book.properties.creator == "ppaflow"
    ws = forms[MOOE]
    numbers, _rows = registry(ws)
    words = texts(ws)
    assert "REGISTRY OF ALLOTMENTS, OBLIGATIONS AND DISBURSEMENTS" in words
    assert "For the year 2025: entries to June 30, 2025" in words and any("INTERIM" in w for w in words)
    header = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, numbers)}
    assert header["Agency:"] == HEADER["agency"] and header["Organization Code (UACS):"] == "400010100001"
    assert header["Fund Cluster:"].startswith("01") and header["Allotment Class:"] == (
        "Maintenance and Other Operating Expenses (02)")
    assert [ws.cell(numbers - 1, c).value for c in range(1, 12)] == [
        "Date", "Date", "Serial Number", "Particulars / Payee", "UACS Object Code/Expenditures", "Allotments",
        "Obligations", "Unobligated Allotments", "Disbursements", "Due and Demandable", "Not Yet Due and Demandable"]
    assert [g for g in (ws.cell(numbers - 2, c).value for c in range(1, 12)) if g] == ["Reference",
                                                                                       "Unpaid Obligations"]
    assert [ws.cell(numbers, c).value for c in range(1, 12)] == list(range(1, 12))
    assert ws.cell(numbers + 1, 8).value == "8=(6-7), running"
    budget_officer = HEADER["budget_officer"]
    assert "Prepared By:" in words and budget_officer["name"] in words and budget_officer["position"] in words
    assert {c.data_type for row in ws.iter_rows() for c in row if isinstance(c.value, str)} == {"s"}


def test_entries_run_in_date_order_with_reversals_and_adjustments_as_their_own_entries(year):
    world = year.world
    ws = sheets_by_form(workbook(world.client.get(RAOD + "&moa=MSSD&quarter=2", headers=world.admin.headers)))[MOOE]
    _numbers, rows = registry(ws)
    entries = [r for r in rows if isinstance(r[0], date)]
    dv = year.get(f"/api/disbursements/{year.refs['dv']}")

    assert [r[0] for r in entries] == sorted(r[0] for r in entries)
    saro = entries[0]
    assert saro[0] == date(2025, 2, 3) and saro[2].startswith("SARO-BARMM") and saro[5] == Decimal("2000000.00")
    paid = next(r for r in entries if r[2].startswith(f"DV {dv['dv_number']}") and r[8] and r[8] > 0)
    void = next(r for r in entries if r[2].endswith("(voided)"))
    assert paid[0] == date(2025, 3, 20) and paid[8] == Decimal("300000.00") and dv["check_ada_number"] in paid[2]
    assert (void[0], void[1], void[8]) == (date(2025, 6, 1), date(2025, 3, 20), Decimal("-300000.00"))
    assert [r[5] for r in entries if r[5] is not None and r[5] < 0] == [Decimal("-100000.00"), Decimal("-300000.00")]
    assert "Sub-allotment to MTIT" in " ".join(r[3] for r in entries)
    norsa = next(r for r in entries if "NORSA" in r[2])
    assert (norsa[0], norsa[6]) == (date(2025, 6, 2), Decimal("-50000.00"))
    assert sum(r[6] or 0 for r in entries) == Decimal("1150000.00")  # 800,000 + 400,000 − 50,000: never netted
    previous = (Decimal(0), Decimal(0), Decimal(0))
    for r in entries:  # running balances: unobligated = Σ6 − Σ7; unpaid changes by 7 less 9
        assert r[7] == previous[0] + (r[5] or 0) - (r[6] or 0)
        assert r[9] + r[10] == previous[1] + previous[2] + (r[6] or 0) - (r[8] or 0)
        previous = (r[7], r[9], r[10])
    words = " ".join(texts(ws))
    assert "Draft Supplier" not in words and "2026" not in words  # a draft, an ORS of the next year: in none


def test_closing_balances_equal_far1_columns_22_to_24_and_totals_the_database_rows_to_the_centavo(year):
    from db import db
    from db.models import (
        Allotment,
        AllotmentAdjustment,
        Disbursement,
        Obligation,
        ObligationAdjustment,
    )

    world = year.world
    end = date(2025, 6, 30)
    forms = sheets_by_form(workbook(world.client.get(RAOD + "&moa=MSSD&quarter=2", headers=world.admin.headers)))
    with world.app.app_context():
        session = db.session
        for klass, form, label in (("mooe", MOOE, "Maintenance and Other Operating Expenses"),
                                   ("ps", PS, "Personnel Services")):
            allotment = session.get(Allotment, year.refs[klass])
            total = next(r for r in registry(forms[form])[1] if str(r[3]).startswith("TOTAL"))
            allotted = allotment.amount + session.scalar(select(func.coalesce(func.sum(AllotmentAdjustment.amount), 0))
                                                         .where(AllotmentAdjustment.allotment_id == allotment.id))
            obligations = [o for o in session.scalars(select(Obligation).where(Obligation.allotment_id == allotment.id))
                           if o.posted and o.obligation_date <= end]
            norsa = {o.id: session.scalar(select(func.coalesce(func.sum(ObligationAdjustment.amount), 0)).where(
                ObligationAdjustment.obligation_id == o.id)) for o in obligations}
            obligated = sum(o.amount + norsa[o.id] for o in obligations if o.cancelled_on is None)
            paid = sum(d.amount for d in session.scalars(select(Disbursement).where(
                Disbursement.obligation_id.in_([o.id for o in obligations]))) if d.posted and d.voided_on is None)
            assert (total[5], total[6], total[8]) == (allotted, obligated, paid)
            assert total[7] == allotted - obligated and total[9] + total[10] == obligated - paid
            far1 = far1_class_subtotal(world, 2, label)
            assert (total[7], total[9], total[10]) == (far1[21], far1[22], far1[23])
    assert (total[5], total[6], total[8], total[9], total[10]) == (
        Decimal("1000000.00"), Decimal("600000.00"), Decimal("550000.00"), Decimal("50000.00"), 0)


def test_the_first_quarters_registry_ends_on_march_31_and_matches_its_far1(year):
    world = year.world
    forms = sheets_by_form(workbook(world.client.get(RAOD + "&moa=MSSD&quarter=1", headers=world.admin.headers)))
    _numbers, rows = registry(forms[MOOE])
    entries = [r for r in rows if isinstance(r[0], date)]
    total = rows[-1]
    far1 = far1_class_subtotal(world, 1, "Maintenance and Other Operating Expenses")

    assert max(r[0] for r in entries) <= date(2025, 3, 31) and not any("voided" in r[2] for r in entries)
    assert (total[5], total[6], total[7], total[8]) == (Decimal("2000000.00"), Decimal("800000.00"),
                                                        Decimal("1200000.00"), Decimal("300000.00"))
    assert (total[7], total[9], total[10]) == (far1[21], far1[22], far1[23]) == (
        Decimal("1200000.00"), Decimal("200000.00"), Decimal("300000.00"))


def test_the_consolidated_registry_shows_the_sub_allotment_received_and_a_focal_person_only_their_moa(year):
    world = year.world
    consolidated = sheets_by_form(workbook(world.client.get(RAOD + "&quarter=2", headers=world.budget_analyst.headers)))
    own = world.client.get(RAOD + "&quarter=2", headers=world.focal.headers)
    other = world.client.get(RAOD + "&moa=MTIT", headers=world.focal.headers)

    words = " ".join(texts(consolidated[MOOE]))
    assert "(MTIT)" in words and "Sub-allotment received from MSSD" in words
    assert own.headers["Content-Disposition"].endswith("RAOD_Registry_FY2025_Q2_MSSD.xlsx")
    assert "(MTIT)" not in " ".join(texts(sheets_by_form(workbook(own))[MOOE]))
    assert other.status_code == 404


def test_the_pdf_prints_the_registries(year):
    world = year.world
    response = world.client.get("/api/reports/raod.pdf?fiscal_year=2025&moa=MSSD&quarter=2",
                                headers=world.admin.headers)

    assert response.status_code == 200 and response.get_data().startswith(b"%PDF")
    with pdfplumber.open(BytesIO(response.get_data())) as document:
        text = "\n".join(page.extract_text() for page in document.pages)
    assert "REGISTRY OF ALLOTMENTS, OBLIGATIONS AND DISBURSEMENTS" in text
    assert "RAODPS" in text and "RAODMOOE" in text
