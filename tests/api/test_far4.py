"""FAR No. 4, the Summary Report of Disbursements (issue 13 item 2;
docs/design.md §8 "FAR No. 4 as built"), read back with openpyxl and
pdfplumber from the API: headings, column numbers and formulas, header
block, signatories; months as columns up to the quarter's end, rows by
allotment class and mode of payment; every total against sums of the
disbursement rows in the database and FAR No. 1's columns 16–19, to the
centavo; drafts and next year's DVs nowhere; a focal person's own MOA only.
One world, built once per backend."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pdfplumber
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from db import db
from db.models import Disbursement
from tests.api.test_admin_api import HEADER, organization_path
from tests.api.test_far3 import table, texts
from tests.conftest import BACKENDS, _dispose, _make_app
from tests.support import Chain, World

MONTHS_Q2 = list(range(1, 9))  # the columns (0-based) of January to the 2nd quarter's total
MOOE = "Maintenance and Other Operating Expenses"


def pay(chain, obligation, amount, day, method, *, paid=True) -> dict:
    """A DV paid by ``method`` on ``day`` (or only prepared, ``paid=False``)."""
    body = chain.post("/api/disbursements", chain.world.focal, 201, obligation_id=obligation, payment_method=method,
                      disbursement_date=day, amount=amount)
    return chain.sign(f"/api/disbursements/{body['id']}", 201, chain.dv_boxes(day)) if paid else body


@pytest.fixture(scope="module", params=BACKENDS)
def year(request, tmp_path_factory):
    """MSSD's FY2025, header block and signatories set; a SARO of
    2,000,000.00 (MOOE) released 10 Jan, an ORS of 800,000.00 of 15 Jan and
    its DVs: 100,000.00 by MDS check 1 Feb, 250,000.00 by ADA 5 Mar,
    20,000.00 by MDS check 20 Mar voided 2 Apr, 150,000.00 by commercial
    check 10 May; a draft DV of 10,000.00; a DV of 50,000.00 of 20 Jan 2026."""
    application = _make_app(request.param, request, tmp_path_factory.mktemp("far4"))
    world = World(application)
    chain = Chain(world, budget="6000000.00")
    path = organization_path(world)
    etag = world.client.get(path, headers=world.admin.headers).headers["ETag"]
    assert world.client.patch(path, json=HEADER, headers=world.admin.headers | {"If-Match": etag}).status_code == 200
    ors = chain.obligate(chain.allot("2000000.00", day="2025-01-10")["id"], "800000.00", day="2025-01-15")["id"]
    pay(chain, ors, "100000.00", "2025-02-01", "mds_check")
    pay(chain, ors, "250000.00", "2025-03-05", "ada")
    spoiled = pay(chain, ors, "20000.00", "2025-03-20", "mds_check")
    chain.post(f"/api/disbursements/{spoiled['id']}/void", world.focal, 200, reason="Check spoiled",
               voided_on="2025-04-02")
    pay(chain, ors, "150000.00", "2025-05-10", "commercial_check")
    chain.draft = pay(chain, ors, "10000.00", "2025-05-11", "ada", paid=False)
    chain.next_year = pay(chain, ors, "50000.00", "2026-01-20", "mds_check")
    chain.app = application
    yield chain
    _dispose(application)


def statement(chain, report, quarter, who=None, moa="MSSD"):
    response = chain.world.client.get(f"/api/reports/{report}.xlsx?fiscal_year=2025&moa={moa}&quarter={quarter}",
                                      headers=(who or chain.world.admin).headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return load_workbook(BytesIO(response.get_data())).worksheets[0]


def by_month(chain, end: date) -> list[Decimal]:
    """PHP disbursed each month of 2025 up to ``end``, summed from the DV rows
    themselves: a paid DV on its date, a voided one also back on its void's date."""
    out = [Decimal("0.00")] * 12
    with chain.app.app_context():
        for d in db.session.scalars(select(Disbursement).where(Disbursement.status.in_(("disbursed", "voided")))):
            if date(2025, 1, 1) <= d.disbursement_date <= end:
                out[d.disbursement_date.month - 1] += d.amount
            if d.voided_on is not None and date(2025, 1, 1) <= d.voided_on <= end:
                out[d.voided_on.month - 1] -= d.amount
    return out


def test_the_statement_carries_the_prescribed_title_columns_header_and_signatories(year):
    ws = statement(year, "far4", 2)
    numbers, _rows = table(ws, 18)
    words = texts(ws)
    header = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, numbers)}

    assert "SUMMARY REPORT OF DISBURSEMENTS" in words and "FAR No. 4" in words
    assert "For the quarter ending June 30, 2025" in words
    assert header["Agency:"] == HEADER["agency"] and header["Fund Cluster:"].startswith("01")
    assert [ws.cell(numbers, c).value for c in range(1, 19)] == list(range(1, 19))
    headings = [ws.cell(numbers - 1, c).value for c in range(1, 19)]
    assert headings[:5] == ["Particulars", "January", "February", "March", "Total"] and headings[15] == "December"
    assert [g for g in (ws.cell(numbers - 2, c).value for c in range(1, 19)) if g] == [
        "1st Quarter", "2nd Quarter", "3rd Quarter", "4th Quarter"]
    formulas = [ws.cell(numbers + 1, c).value for c in range(1, 19)]
    assert formulas[4] == "5=(2+3+4)" and formulas[17] == "18=(5+9+13+17)"
    assert words.count("Certified Correct:") == 1 and "Approved By:" in words
    for person in ("chief_accountant", "head_of_agency"):
        assert HEADER[person]["name"] in words and HEADER[person]["position"] in words


def test_months_and_quarters_equal_the_disbursement_rows_and_far_no_1_columns_16_to_19(year):
    _numbers, rows = table(statement(year, "far4", 2), 18)
    by = {r[0]: r for r in rows}
    months = by_month(year, date(2025, 6, 30))
    grand = by["GRAND TOTAL"]
    far1 = next(r for r in table(statement(year, "far1", 2), 24)[1] if r[0] == "GRAND TOTAL")

    assert [grand[c] for c in (1, 2, 3, 5, 6, 7)] == months[:6]
    assert grand[4] == sum(months[:3]) == far1[15] == Decimal("370000.00")
    assert grand[8] == sum(months[3:6]) == far1[16] == Decimal("130000.00")
    assert grand[9:17] == [None] * 8  # after the quarter's end
    assert grand[17] == grand[4] + grand[8] == far1[19]
    # by mode of payment within MOOE: the void of March's MDS check counts back in April
    assert by["NCA - MDS Checks Issued"][1:9] == [0, Decimal("100000.00"), Decimal("20000.00"), Decimal("120000.00"),
                                                  Decimal("-20000.00"), 0, 0, Decimal("-20000.00")]
    assert by["NCA - Advice to Debit Account (ADA)"][4] == Decimal("250000.00")
    assert by["Commercial Checks Issued"][8] == Decimal("150000.00")
    details = [r for r in rows if r[0] in ("NCA - MDS Checks Issued", "NCA - Advice to Debit Account (ADA)",
                                           "Commercial Checks Issued")]
    for column in MONTHS_Q2:
        assert grand[column] == by[f"Subtotal, {MOOE}"][column] == sum(r[column] for r in details)
        assert grand[column] == sum(by[f"Total, {r[0]}"][column] for r in details)
    assert f"{MOOE} (02)" in by and "A. Current Year Appropriations" in by


def test_a_draft_and_next_years_dv_count_nowhere(year):
    _numbers, rows = table(statement(year, "far4", 4), 18)
    grand = next(r for r in rows if r[0] == "GRAND TOTAL")
    far1 = next(r for r in table(statement(year, "far1", 4), 24)[1] if r[0] == "GRAND TOTAL")

    assert grand[17] == sum(by_month(year, date(2025, 12, 31))) == far1[19] == Decimal("500000.00")
    assert (grand[12], grand[16]) == (far1[17], far1[18]) == (0, 0)
    assert all(r[0] != "Others" for r in rows)


def test_a_focal_person_gets_only_their_moas_statement(year):
    world = year.world
    own = statement(year, "far4", 2, who=world.focal)
    other = world.client.get("/api/reports/far4.xlsx?fiscal_year=2025&moa=MTIT", headers=world.focal.headers)

    assert HEADER["agency"] in texts(own) and other.status_code == 404


def test_the_pdf_names_the_form(year):
    response = year.world.client.get("/api/reports/far4.pdf?fiscal_year=2025&moa=MSSD&quarter=2",
                                     headers=year.world.admin.headers)

    assert response.status_code == 200 and response.get_data().startswith(b"%PDF")
    with pdfplumber.open(BytesIO(response.get_data())) as document:
        text = "\n".join(page.extract_text() for page in document.pages)
    assert "SUMMARY REPORT OF DISBURSEMENTS" in text and "FAR No. 4" in text and "PEDRO SANTOS" in text
