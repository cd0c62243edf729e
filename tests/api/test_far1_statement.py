"""FAR No. 1, the SAAODB as COA and DBM prescribe it (issue 13 item 1;
docs/design.md §8 "FAR No. 1 as built"), read back with openpyxl and
pdfplumber: header block, grouped headings, column numbers 1–24 and the
formula row, rows by PAP and allotment class, the signatories, the interim
mark of an open quarter; every total against sums of the API's figures,
to the centavo; a closed quarter's statement unchanged by later postings."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pdfplumber
import pytest
from openpyxl import load_workbook

from tests.api.test_admin_api import HEADER, organization_path
from tests.api.test_payables import deliver
from tests.api.test_period_closures import close
from tests.api.test_transfers_api import adjust, sub_allot
from tests.support import Chain

XLSX = "/api/reports/far1.xlsx?fiscal_year=2025"


@pytest.fixture
def year(world):
    """MSSD's FY2025 (appropriation 5,000,000.00 MOOE, PPA budget 6,000,000.00),
    its header block and signatories set. Q1: a SARO of 2,000,000.00, an ORS of
    800,000.00, deliveries accepted of 500,000.00, a DV of 300,000.00; Q1 is
    closed by its budget officer and chief accountant."""
    chain = Chain(world, budget="6000000.00")
    path = organization_path(world)
    etag = world.client.get(path, headers=world.admin.headers).headers["ETag"]
    assert world.client.patch(path, json=HEADER, headers=world.admin.headers | {"If-Match": etag}).status_code == 200
    chain.allotment = chain.allot("2000000.00", quarter=1)["id"]
    chain.ors = chain.obligate(chain.allotment, "800000.00", day="2025-03-10")["id"]
    deliver(chain, chain.ors, "500000.00", day="2025-03-20")
    chain.dv = chain.disburse(chain.ors, "300000.00", day="2025-03-20")["id"]
    chain.signers = (world.person("mssd.budget", "budget_officer", org="MSSD"),
                     world.person("mssd.accountant", "chief_accountant", org="MSSD"))
    return chain


def second_quarter(chain):
    """Q2: an augmentation of 500,000.00, an allotment reduction of 100,000.00,
    a sub-allotment of 300,000.00 to MTIT, an ORS of 400,000.00, a DV of
    100,000.00 and the void of Q1's DV."""
    world = chain.world
    adjust(chain, chain.program_budget, "augmentation", "500000.00", allotment_class="mooe")
    chain.post(f"/api/allotments/{chain.allotment}/adjustments", world.budget_analyst, 201, kind="reduction",
               amount="100000.00", adjustment_date="2025-05-02", reason="Realigned", legal_basis="DBM letter 041")
    sub_allot(chain, chain.allotment, "300000.00")
    second = chain.obligate(chain.allotment, "400000.00", day="2025-05-05")["id"]
    chain.disburse(second, "100000.00", day="2025-05-10")
    chain.post(f"/api/disbursements/{chain.dv}/void", world.focal, 200, reason="Check spoiled", voided_on="2025-06-01")
    return second


def sheet(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    book = load_workbook(BytesIO(response.get_data()))
    return book, book.worksheets


def number(value):
    return Decimal(str(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def table(ws):
    """(numbers row, {particulars: values}, every data row) of a FAR No. 1 sheet."""
    numbers = next(r for r in range(1, 40) if [ws.cell(r, c).value for c in (1, 2, 3)] == [1, 2, 3])
    rows = []
    for r in range(numbers + 2, ws.max_row + 1):
        if ws.cell(r, 1).value in ("Certified Correct:", "Approved By:"):
            break
        values = [number(ws.cell(r, c).value) for c in range(1, 25)]
        if any(v is not None for v in values):
            rows.append(values)
    return numbers, {row[0]: row for row in rows}, rows


def texts(ws) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def test_the_statement_carries_the_prescribed_header_columns_formulas_and_signatories(year):
    world = year.world
    close(world, year.signers, quarter=1)

    book, sheets = sheet(world.client.get(XLSX + "&moa=MSSD&quarter=1", headers=world.admin.headers))
    ws = sheets[0]
    numbers, _by, _rows = table(ws)
    words = texts(ws)

    assert book.properties.creator == "ppaflow" and "FAR No. 1" in book.properties.title
    assert "STATEMENT OF APPROPRIATIONS, ALLOTMENTS, OBLIGATIONS, DISBURSEMENTS AND BALANCES" in words
    assert "For the quarter ending March 31, 2025" in words and not any("INTERIM" in w for w in words)
    header = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, numbers)}
    assert header["Department:"] == HEADER["department"] and header["Agency:"] == HEADER["agency"]
    assert header["Operating Unit:"] == "Central Office" and header["Organization Code (UACS):"] == "400010100001"
    assert header["Fund Cluster:"].startswith("01") and "Current Year Appropriations" in header["Appropriations:"]
    groups = [ws.cell(numbers - 2, c).value for c in range(1, 25)]
    assert [g for g in groups if g] == ["Appropriations", "Allotments", "Current Year Obligations",
                                        "Current Year Disbursements", "Balances"]
    assert [ws.cell(numbers, c).value for c in range(1, 25)] == list(range(1, 25))
    formulas = [ws.cell(numbers + 1, c).value for c in range(1, 25)]
    assert formulas[4] == "5=(3+4)" and formulas[9] == "10=[{6+(-)7}-8+9]" and formulas[14] == "15=(11+12+13+14)"
    assert formulas[19] == "20=(16+17+18+19)" and formulas[20] == "21=(5-10)" and formulas[21] == "22=(10-15)"
    headings = [ws.cell(numbers - 1, c).value for c in range(1, 25)]
    assert headings[:3] == ["Particulars", "UACS Code", "Authorized Appropriations"]
    assert headings[7:9] == ["Transfer To", "Transfer From"] and headings[22:] == [
        "Due and Demandable", "Not Yet Due and Demandable"]
    for name, position in [(v["name"], v["position"]) for k, v in HEADER.items() if isinstance(v, dict)]:
        assert name in words and position in words
    assert words.count("Certified Correct:") == 2 and "Approved By:" in words
    assert {c.data_type for row in ws.iter_rows() for c in row if isinstance(c.value, str)} == {"s"}


def test_every_total_equals_the_sums_of_the_apis_figures_to_the_centavo(year):
    world = year.world
    second = second_quarter(year)

    _book, sheets = sheet(world.client.get(XLSX + "&moa=MSSD&quarter=2", headers=world.admin.headers))
    _numbers, by, rows = table(sheets[0])
    budget = year.get(f"/api/program-budgets/{year.program_budget}")
    obligations = [year.get(f"/api/obligations/{o}") for o in (year.ors, second)]
    mooe, grand = by["Maintenance and Other Operating Expenses"], by["GRAND TOTAL"]

    assert any("INTERIM — NOT FOR FILING" in w for w in texts(sheets[0]))  # Q2 is not closed
    assert mooe[2:10] == [Decimal(budget["approved_amount"]), Decimal("500000.00"), Decimal(budget["adjusted_amount"]),
                          Decimal("2000000.00"), Decimal("-100000.00"), Decimal("300000.00"), 0,
                          Decimal("1600000.00")]
    assert mooe[9] == Decimal(year.get(f"/api/allotments/{year.allotment}")["adjusted_amount"])
    assert mooe[10:15] == [Decimal("800000.00"), Decimal("400000.00"), 0, 0,
                           sum(Decimal(o["adjusted_amount"] if "adjusted_amount" in o else o["amount"])
                               for o in obligations)]
    # Q1's DV counts in Q1; its void, in Q2, where the Q2 DV counts too
    assert mooe[15:20] == [Decimal("300000.00"), Decimal("-200000.00"), 0, 0, Decimal(budget["disbursed"])]
    assert mooe[20] == mooe[4] - mooe[9] and mooe[21] == mooe[9] - mooe[14]
    assert mooe[22] == sum(Decimal(o["due_and_demandable"]) for o in obligations) == Decimal("500000.00")
    assert mooe[23] == sum(Decimal(o["not_yet_due_and_demandable"]) for o in obligations) == Decimal("600000.00")
    assert mooe[22] + mooe[23] == mooe[14] - mooe[19]
    details = [r for r in rows if r[0] == "Maintenance and Other Operating Expenses"]
    for column in range(2, 24):
        assert grand[column] == sum(r[column] for r in details)


def test_the_consolidated_statement_shows_a_sub_allotment_given_and_received_once(year):
    world = year.world
    second_quarter(year)

    _book, sheets = sheet(world.client.get(XLSX + "&quarter=2", headers=world.budget_analyst.headers))
    _numbers, by, rows = table(sheets[0])
    grand = by["GRAND TOTAL"]
    details = [r for r in rows if r[0] == "Maintenance and Other Operating Expenses"]

    assert sorted((r[7], r[8]) for r in details) == [(0, Decimal("300000.00")), (Decimal("300000.00"), 0)]
    assert (grand[5], grand[7], grand[8], grand[9]) == (Decimal("2000000.00"), Decimal("300000.00"),
                                                       Decimal("300000.00"), Decimal("1900000.00"))


def test_a_closed_quarters_statement_is_the_same_after_later_postings_and_a_void(year):
    world = year.world
    close(world, year.signers, quarter=1)
    before = table(sheet(world.client.get(XLSX + "&moa=MSSD", headers=world.admin.headers))[1][0])[2]

    second_quarter(year)  # dated in Q2, the void of Q1's DV included
    _after, after_sheets = sheet(world.client.get(XLSX + "&moa=MSSD&quarter=1", headers=world.admin.headers))
    default = table(sheet(world.client.get(XLSX + "&moa=MSSD", headers=world.admin.headers))[1][0])[2]

    assert table(after_sheets[0])[2] == before == default  # the default is the last closed quarter
    mooe = table(after_sheets[0])[1]["Maintenance and Other Operating Expenses"]
    assert (mooe[15], mooe[22], mooe[23]) == (Decimal("300000.00"), Decimal("200000.00"), Decimal("300000.00"))


def test_a_focal_person_gets_only_their_moas_statement(year):
    world = year.world
    own = world.client.get("/api/reports/far1.xlsx?fiscal_year=2025&quarter=1", headers=world.focal.headers)
    other = world.client.get("/api/reports/far1.xlsx?fiscal_year=2025&moa=MTIT", headers=world.focal.headers)
    bad = world.client.get("/api/reports/far1.xlsx?fiscal_year=2025&quarter=5", headers=world.focal.headers)

    ws = sheet(own)[1][0]
    assert "Ministry of Social Services and Development" in texts(ws)
    assert own.headers["Content-Disposition"].endswith("FAR1_Statement_FY2025_Q1_MSSD.xlsx")
    assert other.status_code == 404
    assert bad.status_code == 422 and "quarter" in str(bad.get_json())


def test_one_fund_cluster_only_when_asked(year):
    world = year.world
    _book, sheets = sheet(world.client.get(XLSX + "&moa=MSSD&quarter=1&fund_cluster=05",
                                           headers=world.admin.headers))
    _numbers, by, _rows = table(sheets[0])

    assert len(sheets) == 1 and sheets[0].title == "FC 05 Q1 2025"
    assert all(v in (None, 0) for v in by["GRAND TOTAL"][2:])


def test_the_pdf_prints_at_8_pt_or_more_two_pages_wide_with_title_and_page_numbers(year):
    world = year.world
    response = world.client.get("/api/reports/far1.pdf?fiscal_year=2025&moa=MSSD&quarter=1",
                                headers=world.admin.headers)

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    with pdfplumber.open(BytesIO(response.get_data())) as document:
        pages = [(page.extract_text(), {c["size"] for c in page.chars}) for page in document.pages]
    count = len(pages)
    assert count >= 2
    for index, (text, sizes) in enumerate(pages, start=1):
        assert round(min(sizes), 2) >= 8  # pdfplumber reads 8 pt back as 7.9995
        assert f"Page {index} of {count}" in text
        assert "STATEMENT OF APPROPRIATIONS, ALLOTMENTS, OBLIGATIONS, DISBURSEMENTS AND BALANCES" in text
        assert "INTERIM" in text and "Particulars" in text
    assert "JUANA CRUZ" in pages[-1][0] and "Approved By:" in pages[-1][0]


def test_continuing_appropriations_are_section_b_with_the_years_obligations_and_payments(year):
    from tests.api.test_year_end import a_year_of_mssd

    world = year.world
    operations, ors, _administration, _office_ors = a_year_of_mssd(year)
    for quarter in (1, 2, 3, 4):
        close(world, year.signers, quarter=quarter)
    year.obligate(operations, "200000.00", day="2026-02-16")
    year.disburse(ors, "50000.00", day="2026-03-02")

    _book, sheets = sheet(world.client.get("/api/reports/far1.xlsx?fiscal_year=2026&moa=MSSD&quarter=1",
                                           headers=world.admin.headers))
    _numbers, by, rows = table(sheets[0])
    opening = world.client.get("/api/opening-balances?organization=MSSD&fiscal_year=2026",
                               headers=world.admin.headers).get_json()
    titles = [r[0] for r in rows]
    mooe = rows[titles.index("B. Continuing Appropriations") + 2]

    assert "A. Current Year Appropriations" in titles and mooe[0] == "Maintenance and Other Operating Expenses"
    assert mooe[2] == mooe[5] == Decimal(opening["totals"]["continuing_appropriations"])
    assert (mooe[10], mooe[14], mooe[15], mooe[19]) == (Decimal("200000.00"), Decimal("200000.00"),
                                                       Decimal("50000.00"), Decimal("50000.00"))
    # unpaid: the new ORS, and the two ORS carried less the 50,000.00 paid this year
    assert mooe[22] + mooe[23] == Decimal("200000.00") + Decimal(opening["totals"]["unpaid_obligations"]) - \
        Decimal("50000.00")
    assert by["GRAND TOTAL"][2:] == mooe[2:]
