"""FAR No. 3, the Aging of Due and Demandable Obligations (issue 13 item 2;
docs/design.md §8 "FAR No. 3 as built"), read back with openpyxl and
pdfplumber from the API: headings, column numbers, header block,
signatories; each ORS aged from its deliveries' acceptance, oldest paid
first; every total against the API's figures and FAR No. 1's column 23,
to the centavo; drafts and next year's ORS nowhere; a focal person's own
MOA only. One world, built once per backend."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pdfplumber
import pytest
from openpyxl import load_workbook

from tests.api.test_admin_api import HEADER, organization_path
from tests.api.test_payables import deliver
from tests.conftest import BACKENDS, _dispose, _make_app
from tests.support import Chain, World

XLSX = "/api/reports/far3.xlsx?fiscal_year=2025&moa=MSSD"


@pytest.fixture(scope="module", params=BACKENDS)
def year(request, tmp_path_factory):
    """MSSD's FY2025, its header block and signatories set; a SARO of
    2,000,000.00 (MOOE) released 10 Jan and, against it:

    - ORS A, 800,000.00 of 15 Jan: deliveries of 300,000.00 accepted 20 Jan
      and 200,000.00 accepted 15 May; a DV of 100,000.00 paid 1 Feb (it
      settles the January delivery first);
    - ORS B, 400,000.00 of 10 Mar: 400,000.00 accepted 20 Jun, unpaid;
    - ORS C, 300,000.00 of 10 Mar: accepted 10 Apr and paid in full 20 Apr;
    - a draft ORS (prepared, never signed) of 50,000.00;
    - ORS D of 100,000.00 dated 12 Jan 2026, accepted 15 Jan 2026.
    """
    application = _make_app(request.param, request, tmp_path_factory.mktemp("far3"))
    world = World(application)
    chain = Chain(world, budget="6000000.00")
    path = organization_path(world)
    etag = world.client.get(path, headers=world.admin.headers).headers["ETag"]
    assert world.client.patch(path, json=HEADER, headers=world.admin.headers | {"If-Match": etag}).status_code == 200
    allotment = chain.allot("2000000.00", day="2025-01-10")["id"]
    chain.a = chain.obligate(allotment, "800000.00", day="2025-01-15")
    deliver(chain, chain.a["id"], "300000.00", day="2025-01-20")
    deliver(chain, chain.a["id"], "200000.00", day="2025-05-15")
    chain.disburse(chain.a["id"], "100000.00", day="2025-02-01")
    chain.b = chain.obligate(allotment, "400000.00", day="2025-03-10")
    deliver(chain, chain.b["id"], "400000.00", day="2025-06-20")
    chain.c = chain.obligate(allotment, "300000.00", day="2025-03-10")
    deliver(chain, chain.c["id"], "300000.00", day="2025-04-10")
    chain.disburse(chain.c["id"], "300000.00", day="2025-04-20")
    chain.draft = chain.post("/api/obligations", world.focal, 201, allotment_id=allotment, payee="Draft Payee Inc.",
                             particulars="Never signed", obligation_date="2025-03-11", amount="50000.00")
    chain.d = chain.obligate(allotment, "100000.00", day="2026-01-12")
    deliver(chain, chain.d["id"], "100000.00", day="2026-01-15")
    yield chain
    _dispose(application)


def download(chain, url, who=None):
    response = chain.world.client.get(url, headers=(who or chain.world.admin).headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def number(value):
    return Decimal(str(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def table(ws, width):
    """(row of the column numbers, every data row's values) of a statement sheet."""
    numbers = next(r for r in range(1, 40) if [ws.cell(r, c).value for c in (1, 2, 3)] == [1, 2, 3])
    rows = []
    for r in range(numbers + 2, ws.max_row + 1):
        if ws.cell(r, 1).value in ("Certified Correct:", "Approved By:"):
            break
        values = [number(ws.cell(r, c).value) for c in range(1, width + 1)]
        if any(v is not None for v in values):
            rows.append(values)
    return numbers, rows


def texts(ws) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def far3(chain, quarter, who=None, moa="MSSD"):
    ws = load_workbook(BytesIO(download(chain, f"/api/reports/far3.xlsx?fiscal_year=2025&moa={moa}&quarter={quarter}",
                                        who).get_data())).worksheets[0]
    return ws, {row[0]: row for row in table(ws, 10)[1]}


def far1_due(chain, quarter) -> Decimal:
    ws = load_workbook(BytesIO(download(chain, f"/api/reports/far1.xlsx?fiscal_year=2025&moa=MSSD&quarter={quarter}")
                               .get_data())).worksheets[0]
    _numbers, rows = table(ws, 24)
    return next(r for r in rows if r[0] == "GRAND TOTAL")[22]


def test_the_statement_carries_the_prescribed_title_columns_header_and_signatories(year):
    ws, _rows = far3(year, 2)
    numbers, _ = table(ws, 10)
    words = texts(ws)
    header = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, numbers)}

    assert "AGING OF DUE AND DEMANDABLE OBLIGATIONS" in words and "FAR No. 3" in words
    assert "As at June 30, 2025" in words and any("INTERIM" in w for w in words)
    assert header["Agency:"] == HEADER["agency"] and header["Organization Code (UACS):"] == "400010100001"
    assert header["Fund Cluster:"].startswith("01")
    assert [ws.cell(numbers, c).value for c in range(1, 11)] == list(range(1, 11))
    assert [ws.cell(numbers - 1, c).value for c in range(1, 11)] == [
        "ORS No.", "Date", "Name of Creditor/Payee", "Particulars", "1-30 Days", "31-60 Days", "61-90 Days",
        "91-365 Days", "Over One Year", "Total Amount Due and Demandable"]
    assert ws.cell(numbers + 1, 10).value == "10=(5+6+7+8+9)"
    assert words.count("Certified Correct:") == 2 and "Approved By:" in words
    for person in ("budget_officer", "chief_accountant", "head_of_agency"):
        assert HEADER[person]["name"] in words and HEADER[person]["position"] in words
    assert "Aging of due and demandable obligations" in words


def test_each_unpaid_delivery_is_aged_from_its_acceptance_the_oldest_paid_first(year):
    _ws, rows = far3(year, 2)
    a, b = rows[year.a["ors_number"]], rows[year.b["ors_number"]]

    # A: 300,000 accepted 20 Jan less the 100,000 paid is 161 days old; 200,000 accepted 15 May, 46 days
    assert a[1:4] == [a[1], "Cotabato Training Services Cooperative", "Training venue and meals"]
    assert str(a[1])[:10] == "2025-01-15"
    assert a[4:] == [0, Decimal("200000.00"), 0, Decimal("200000.00"), 0, Decimal("400000.00")]
    assert b[4:] == [Decimal("400000.00"), 0, 0, 0, 0, Decimal("400000.00")]
    assert year.c["ors_number"] not in rows  # accepted and paid in full: nothing due
    assert "Maintenance and Other Operating Expenses (02)" in rows


def test_every_total_equals_the_apis_payables_and_far_no_1_column_23(year):
    _ws, rows = far3(year, 2)
    grand, subtotal = rows["GRAND TOTAL"], rows["Subtotal, Maintenance and Other Operating Expenses"]
    details = [rows[year.a["ors_number"]], rows[year.b["ors_number"]]]
    api = sum(Decimal(year.get(f"/api/obligations/{o['id']}")["due_and_demandable"]) for o in (year.a, year.b, year.c))

    for column in range(4, 10):
        assert grand[column] == subtotal[column] == sum(r[column] for r in details)
    assert grand[9] == sum(grand[4:9]) == api == Decimal("800000.00")
    assert grand[9] == far1_due(year, 2)
    # at March 31: only A's January delivery was accepted, 100,000 of it paid, 70 days old
    _ws, first = far3(year, 1)
    assert first["GRAND TOTAL"][4:] == [0, 0, Decimal("200000.00"), 0, 0, Decimal("200000.00")]
    assert first["GRAND TOTAL"][9] == far1_due(year, 1)


def test_a_draft_and_next_years_ors_count_nowhere(year):
    ws, rows = far3(year, 4)
    words = texts(ws)

    assert year.draft["ors_number"] not in words and "Draft Payee Inc." not in words
    assert year.d["ors_number"] not in words
    assert rows["GRAND TOTAL"][9] == far1_due(year, 4) == Decimal("800000.00")


def test_a_focal_person_gets_only_their_moas_statement(year):
    world = year.world
    ws, _rows = far3(year, 2, who=world.focal, moa="MSSD")
    other = world.client.get("/api/reports/far3.xlsx?fiscal_year=2025&moa=MTIT", headers=world.focal.headers)

    assert HEADER["agency"] in texts(ws)
    assert other.status_code == 404


def test_the_pdf_names_the_form(year):
    response = download(year, XLSX.replace(".xlsx", ".pdf") + "&quarter=2")

    assert response.mimetype == "application/pdf" and response.get_data().startswith(b"%PDF")
    with pdfplumber.open(BytesIO(response.get_data())) as document:
        text = "\n".join(page.extract_text() for page in document.pages)
    assert "AGING OF DUE AND DEMANDABLE OBLIGATIONS" in text and "FAR No. 3" in text
    assert year.a["ors_number"] in text and "PEDRO SANTOS" in text
