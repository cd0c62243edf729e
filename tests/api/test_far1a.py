"""FAR No. 1-A, the Summary of Appropriations, Allotments, Obligations,
Disbursements and Balances by Object of Expenditures (issue 13 item 2;
docs/design.md §8 "FAR No. 1-A as built"), read back with openpyxl and
pdfplumber: FAR No. 1's headings and column numbers, rows by allotment class
and UACS object code, the header block, signatories and notes; every figure
against sums of the database's rows, to the centavo; the next year's ORS
and a draft counted nowhere; a focal person's statement is their MOA's.

One world per backend, built once for the module: MSSD's FY2025 with a
MOOE program budget whose line items give one object code and a
supplemental CO program budget whose line items give two."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from io import BytesIO

import pdfplumber
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from db import db
from db.models import Allotment, BudgetLineItem, Disbursement, Obligation, ProgramBudget
from tests.api.test_admin_api import HEADER, organization_path
from tests.api.test_payables import deliver
from tests.conftest import BACKENDS, _dispose, _make_app
from tests.support import Chain, World

XLSX = "/api/reports/far1a.xlsx?fiscal_year=2025&moa=MSSD&quarter=4"
TRAINING, ICT, VEHICLES = "50202010-01", "10705030-00", "10706010-00"


@pytest.fixture(scope="module", params=BACKENDS)
def year(request, tmp_path_factory):
    """MSSD's FY2025: a MOOE program budget of 5,000,000.00 with one MOOE
    line item (``TRAINING``) and a supplemental CO one of 1,000,000.00 with
    two (``ICT``, ``VEHICLES``). Q1: a MOOE SARO of 2,000,000.00, an ORS of
    800,000.00 (deliveries accepted 500,000.00, a DV of 300,000.00), a
    draft ORS of 70,000.00; Q2: a CO SARO of 800,000.00, an ORS of
    500,000.00 paid 200,000.00; an ORS dated in January 2026."""
    app = _make_app(request.param, request, tmp_path_factory.mktemp("far1a"))
    world = World(app)
    chain = Chain(world, budget="6000000.00")
    path = organization_path(world)
    etag = world.client.get(path, headers=world.admin.headers).headers["ETag"]
    assert world.client.patch(path, json=HEADER, headers=world.admin.headers | {"If-Match": etag}).status_code == 200
    chain.post(f"/api/program-budgets/{chain.program_budget}/line-items", world.focal, 201, uacs_code=TRAINING,
               description="Training Expenses", amount="1000000.00")
    capital = chain.post("/api/program-budgets", world.budget_analyst, 201, proposal_id=chain.proposal,
                         ppa_id=chain.ppa, co="1000000.00", supplemental=True, enactment_act="BAA No. 45",
                         enactment_date="2025-01-20")["id"]
    for code, name, amount in ((ICT, "ICT Equipment", "600000.00"), (VEHICLES, "Motor Vehicles", "400000.00")):
        chain.post(f"/api/program-budgets/{capital}/line-items", world.focal, 201, uacs_code=code, description=name,
                   amount=amount)
    mooe = chain.allot("2000000.00", quarter=1)["id"]
    ors = chain.obligate(mooe, "800000.00", day="2025-03-10")["id"]
    deliver(chain, ors, "500000.00", day="2025-03-20")
    chain.disburse(ors, "300000.00", day="2025-03-20")
    chain.post("/api/obligations", world.focal, 201, allotment_id=mooe, payee="Draft Supplier",
               particulars="Not yet obligated", obligation_date="2025-03-12", amount="70000.00")
    co = chain.post("/api/allotments", world.budget_analyst, 201, program_budget_id=capital,
                    release_date="2025-04-01", saro_number=chain.number("SARO-BARMM"), amount="800000.00",
                    allotment_class="co")["id"]
    chain.dates[co] = "2025-04-01"
    chain.disburse(chain.obligate(co, "500000.00", day="2025-05-05")["id"], "200000.00", day="2025-05-10")
    chain.obligate(mooe, "100000.00", day="2026-01-15")
    yield chain
    _dispose(app)


def workbook(chain, url=XLSX, who=None):
    response = chain.world.client.get(url, headers=(who or chain.world.admin).headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response, load_workbook(BytesIO(response.get_data())).worksheets


def number(value):
    return Decimal(str(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def table(ws):
    """(row of the column numbers, every line of the table up to the grand total)."""
    numbers = next(r for r in range(1, 40) if [ws.cell(r, c).value for c in (1, 2, 3)] == [1, 2, 3])
    rows = []
    for r in range(numbers + 2, ws.max_row + 1):
        rows.append([number(ws.cell(r, c).value) for c in range(1, 25)])
        if rows[-1][0] == "GRAND TOTAL":
            return numbers, rows
    raise AssertionError("no grand total")


def texts(ws) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def expected(app):
    """Columns 11–20 and 23–24 by UACS code (an object code, or the class's
    own code for an ORS of no single object code), and columns 3–10 by
    class, summed here from the database's rows: posted, dated in 2025."""
    by_code: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    with app.app_context():
        codes = defaultdict(set)
        for budget_id, klass, code in db.session.execute(select(
                BudgetLineItem.program_budget_id, BudgetLineItem.allotment_class, BudgetLineItem.uacs_code)):
            codes[(budget_id, klass)].add(code)
        owner = {}
        for o in db.session.scalars(select(Obligation)):
            found = codes[(o.allotment.program_budget_id, o.allotment.allotment_class)]
            owner[o.id] = next(iter(found)) if len(found) == 1 else {"mooe": "50200000-00", "co": "50600000-00"}[
                o.allotment.allotment_class]
            if o.posted and o.obligation_date.year == 2025:
                by_code[owner[o.id]][10 + (o.obligation_date.month - 1) // 3] += o.amount
        for d in db.session.scalars(select(Disbursement)):
            if d.posted and d.disbursement_date.year == 2025:
                by_code[owner[d.obligation_id]][15 + (d.disbursement_date.month - 1) // 3] += d.amount
        by_class = defaultdict(lambda: defaultdict(Decimal))
        for budget in db.session.scalars(select(ProgramBudget)):
            for klass in ("mooe", "co"):
                by_class[klass][2] += budget.class_amount(klass)
        for a in db.session.scalars(select(Allotment)):
            by_class[a.allotment_class][5] += a.amount
    return by_code, by_class


def test_the_summary_carries_far_no_1s_columns_its_header_notes_and_signatories(year):
    _response, sheets = workbook(year)
    ws = sheets[0]
    numbers, rows = table(ws)
    words = texts(ws)

    assert ("SUMMARY OF APPROPRIATIONS, ALLOTMENTS, OBLIGATIONS, DISBURSEMENTS AND BALANCES BY OBJECT OF "
            "EXPENDITURES") in words and "FAR No. 1-A" in words
    assert "For the quarter ending December 31, 2025" in words
    header = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, numbers)}
    assert header["Department:"] == HEADER["department"] and header["Organization Code (UACS):"] == "400010100001"
    assert header["Fund Cluster:"].startswith("01") and "[x] Current Year" in header["Appropriations:"]
    assert [ws.cell(numbers, c).value for c in range(1, 25)] == list(range(1, 25))
    formulas = [ws.cell(numbers + 1, c).value for c in range(1, 25)]
    assert formulas[4] == "5=(3+4)" and formulas[9] == "10=[{6+(-)7}-8+9]" and formulas[21] == "22=(10-15)"
    assert [ws.cell(numbers - 1, c).value for c in (1, 2)] == ["Particulars", "UACS Code"]
    assert [(r[0], r[1]) for r in rows] == [
        ("A. Current Year Appropriations", None),
        ("Maintenance and Other Operating Expenses", "50200000-00"), ("Training Expenses", TRAINING),
        ("Total, Maintenance and Other Operating Expenses", "50200000-00"),
        ("Capital Outlay", "50600000-00"), ("Total, Capital Outlay", "50600000-00"),
        ("Total, this section", None), ("GRAND TOTAL", None)]
    assert any(w.startswith("Appropriations and allotments (columns 3 to 10)") for w in words)
    for name, position in [(v["name"], v["position"]) for v in HEADER.values() if isinstance(v, dict)]:
        assert name in words and position in words
    assert words.count("Certified Correct:") == 2 and "Approved By:" in words


def test_every_figure_and_total_equals_the_sums_of_the_databases_rows_to_the_centavo(year):
    _response, sheets = workbook(year)
    rows = {r[0]: r for r in table(sheets[0])[1]}
    by_code, by_class = expected(year.world.app)
    training, mooe_line, co_line = (rows["Training Expenses"], rows["Maintenance and Other Operating Expenses"],
                                    rows["Capital Outlay"])
    mooe_total, co_total = rows["Total, Maintenance and Other Operating Expenses"], rows["Total, Capital Outlay"]

    for line, code in ((training, TRAINING), (co_line, "50600000-00")):
        assert line[10:14] == [by_code[code][c] for c in range(10, 14)]
        assert line[15:19] == [by_code[code][c] for c in range(15, 19)]
    assert training[10] == Decimal("800000.00") and co_line[11] == Decimal("500000.00")  # neither draft nor 2026
    assert training[2:10] == [None] * 8 and training[20:22] == [None, None]
    assert training[22:] == [Decimal("500000.00") - Decimal("300000.00"), Decimal("300000.00")]
    assert "50200000-00" not in by_code and mooe_line[10:20] == [0] * 10  # every MOOE ORS has its object code
    for line, klass in ((mooe_line, "mooe"), (co_line, "co")):
        assert (line[2], line[5], line[21]) == (by_class[klass][2], by_class[klass][5], None)
        assert line[20] == line[4] - line[9]
    for total, members in ((mooe_total, (mooe_line, training)), (co_total, (co_line,))):
        for column in (*range(2, 10), *range(10, 14), *range(15, 19), 22, 23):
            assert total[column] == sum((m[column] or 0) for m in members)  # None: an empty cell
        assert total[14] == sum(total[10:14]) and total[19] == sum(total[15:19])
        assert total[21] == total[9] - total[14] and total[22] + total[23] == total[14] - total[19]
    for column in range(2, 24):
        assert rows["GRAND TOTAL"][column] == mooe_total[column] + co_total[column] == rows["Total, this section"][
            column]


def test_its_class_totals_are_far_no_1s(year):
    _response, summary = workbook(year)
    _response, far1 = workbook(year, XLSX.replace("far1a", "far1"))
    mine = {r[0]: r[2:] for r in table(summary[0])[1]}
    theirs = {r[0]: r[2:] for r in table(far1[0])[1]}

    assert mine["Total, Maintenance and Other Operating Expenses"] == theirs[
        "Subtotal, Maintenance and Other Operating Expenses"]
    assert mine["Total, Capital Outlay"] == theirs["Subtotal, Capital Outlay"]
    assert mine["GRAND TOTAL"] == theirs["GRAND TOTAL"]


def test_an_ors_of_the_next_year_and_a_draft_count_nowhere_in_this_year(year):
    _response, sheets = workbook(year)
    grand = {r[0]: r for r in table(sheets[0])[1]}["GRAND TOTAL"]

    # 800,000.00 (Q1) and 500,000.00 (Q2): not the 70,000.00 draft, not the 100,000.00 of January 2026
    assert grand[10:15] == [Decimal("800000.00"), Decimal("500000.00"), 0, 0, Decimal("1300000.00")]
    assert grand[22] + grand[23] == Decimal("1300000.00") - Decimal("500000.00")


def test_the_pdf_names_the_form(year):
    response = year.world.client.get(XLSX.replace(".xlsx", ".pdf"), headers=year.world.admin.headers)

    assert response.status_code == 200 and response.get_data()[:4] == b"%PDF"
    with pdfplumber.open(BytesIO(response.get_data())) as document:
        text = "\n".join(page.extract_text() for page in document.pages)
    assert "FAR No. 1-A" in text and "BY OBJECT OF EXPENDITURES" in text and "Training Expenses" in text


def test_a_focal_person_gets_only_their_moas_summary(year):
    world = year.world
    own, sheets = workbook(year, "/api/reports/far1a.xlsx?fiscal_year=2025&quarter=4", who=world.focal)
    other = world.client.get("/api/reports/far1a.xlsx?fiscal_year=2025&moa=MTIT", headers=world.focal.headers)

    assert own.headers["Content-Disposition"].endswith("FAR1A_Summary_FY2025_Q4_MSSD.xlsx")
    assert HEADER["agency"] in texts(sheets[0])
    assert other.status_code == 404
