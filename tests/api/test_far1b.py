"""FAR No. 1-B, the List of Allotments and Sub-Allotments (issue 13 item 2;
docs/design.md §8 "FAR No. 1-B as built"), read back with openpyxl and
pdfplumber: the form's title, header block, COA's column numbers, one line
per SARO and per sub-allotment received or issued to the quarter's end, the
signatories; every total against the database's rows to the centavo; FAR
No. 1's columns 8 and 9 equal to the list's sub-allotments issued and
received. One world, built once per backend."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pdfplumber
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from db import db
from db.models import Allotment, Organization, SubAllotment
from tests.api.test_admin_api import HEADER, organization_path
from tests.api.test_transfers_api import BASIS, second_program_budget, sub_allot
from tests.conftest import BACKENDS, _dispose, _make_app
from tests.support import Chain, World, cli

LIST = "/api/reports/far1b.xlsx?fiscal_year=2025"
FAR1 = "/api/reports/far1.xlsx?fiscal_year=2025"
PARTS = {"A": "A. Allotments Received (SARO/GARO)", "B": "B. Sub-Allotments Received (Transfer From)",
         "C": "C. Sub-Allotments Issued to Other Operating Units (Transfer To)"}
SUBTOTALS = {"A": "Subtotal, Allotments Received", "B": "Subtotal, Sub-Allotments Received",
             "C": "Subtotal, Sub-Allotments Issued"}
#: Indexes (0-based) of the list's money columns: received PS..CO, total (col. 9); issued (col. 13); net (col. 17).
RECEIVED, ISSUED, NET = range(8, 13), range(13, 18), range(18, 23)
CLASS_INDEX = {"ps": 0, "mooe": 1, "finex": 2, "co": 3}


@pytest.fixture(scope="module", params=BACKENDS)
def year(request, tmp_path_factory):
    """MSSD's FY2025 with its header block set: Q1 a MOOE SARO of
    2,000,000.00; Q2 a CO SARO of 400,000.00 (a supplemental appropriation),
    sub-allotments to MTIT of 300,000.00 MOOE and 150,000.25 CO, and MTIT's
    onward sub-allotment of 50,000.50 back to MSSD; Q3 another 100,000.00 to
    MTIT."""
    app = _make_app(request.param, request, tmp_path_factory.mktemp("far1b"))
    world = World(app)
    chain = Chain(world, budget="6000000.00")
    path = organization_path(world)
    etag = world.client.get(path, headers=world.admin.headers).headers["ETag"]
    assert world.client.patch(path, json=HEADER, headers=world.admin.headers | {"If-Match": etag}).status_code == 200
    analyst = world.budget_analyst
    chain.mooe = chain.allot("2000000.00", quarter=1)["id"]
    co_budget = second_program_budget(chain, approved="1000000.00", budget="1000000.00", appropriation_class="co")
    chain.co = chain.post("/api/allotments", analyst, 201, program_budget_id=co_budget, release_date="2025-04-01",
                          saro_number="SARO-BARMM-2025-CO01", amount="400000.00")["id"]
    received = sub_allot(chain, chain.mooe, "300000.00")["recipient_allotment_id"]
    chain.post(f"/api/allotments/{chain.co}/sub-allotments", analyst, 201, recipient="MTIT", amount="150000.25",
               sub_allotment_date="2025-06-10", saro_number="SUB-ARO-2025-002", **BASIS)
    mtit_officer = world.person("mtit.budget", "budget_officer", org="MTIT")
    sub_allot(chain, received, "50000.50", recipient="MSSD", who=mtit_officer, day="2025-06-15")
    chain.post(f"/api/allotments/{chain.mooe}/sub-allotments", analyst, 201, recipient="MTIT", amount="100000.00",
               sub_allotment_date="2025-08-01", saro_number="SUB-ARO-2025-003", **BASIS)
    yield chain
    _dispose(app)


def workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return load_workbook(BytesIO(response.get_data()))


def number(value):
    return Decimal(str(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def table(ws):
    """(numbers row index, data rows) of a FAR No. 1-B or FAR No. 1 sheet."""
    numbers = next(r for r in range(1, 40) if [ws.cell(r, c).value for c in (1, 2, 3)] == [1, 2, 3])
    rows = []
    for r in range(numbers + 2, ws.max_row + 1):
        if ws.cell(r, 1).value in ("Certified Correct:", "Approved By:"):
            break
        values = [number(ws.cell(r, c).value) for c in range(1, ws.max_column + 1)]
        if any(v is not None for v in values):
            rows.append(values)
    return numbers, rows


def parts(rows) -> dict[str, list]:
    """The document lines of each part (A, B, C) of a list."""
    out: dict[str, list] = {}
    current = None
    for row in rows:
        part = next((k for k, title in PARTS.items() if row[0] == title), None)
        if part:
            current = out.setdefault(part, [])
        elif isinstance(row[0], Decimal) and current is not None:
            current.append(row)
    return out


def by_label(rows) -> dict:
    return {row[0]: row for row in rows if isinstance(row[0], str)}


def texts(ws) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def zero(value) -> Decimal:
    return Decimal(0) if value is None else value


def database_documents(app, code: str, end: date) -> dict[str, list[tuple]]:
    """What the list must hold, read from the tables: (number, date, class, amount) per part."""
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.code == code))
        received_ids = set(db.session.scalars(select(SubAllotment.recipient_allotment_id)))
        sub_allotments = list(db.session.scalars(select(SubAllotment).where(SubAllotment.sub_allotment_date <= end)))
        allotments = [a for a in db.session.scalars(select(Allotment).where(Allotment.organization_id == org.id))
                      if a.id not in received_ids and a.release_date <= end]
        return {
            "A": [(a.saro_number, a.release_date, a.allotment_class, a.amount) for a in allotments],
            "B": [(s.recipient_allotment.saro_number, s.sub_allotment_date, s.allotment.allotment_class, s.amount)
                  for s in sub_allotments if s.recipient_organization_id == org.id],
            "C": [(s.recipient_allotment.saro_number, s.sub_allotment_date, s.allotment.allotment_class, s.amount)
                  for s in sub_allotments if s.organization_id == org.id]}


def listed(lines) -> list[tuple]:
    out = []
    for row in lines:
        klass = next(k for k, i in CLASS_INDEX.items() if row[RECEIVED[i]] is not None or row[ISSUED[i]] is not None)
        amount = row[RECEIVED[CLASS_INDEX[klass]]] or row[ISSUED[CLASS_INDEX[klass]]]
        out.append((row[1], row[2].date() if isinstance(row[2], datetime) else row[2], klass, amount))
    return out


def test_the_list_carries_the_forms_title_header_numbered_columns_and_signatories(year):
    world = year.world
    book = workbook(world.client.get(LIST + "&moa=MSSD&quarter=2", headers=world.admin.headers))
    ws = book.worksheets[0]
    numbers, _rows = table(ws)
    words = texts(ws)

    assert "FAR No. 1-B" in book.properties.title and ws.title == "FC 01 Q2 2025"
    assert {"LIST OF ALLOTMENTS AND SUB-ALLOTMENTS", "FAR No. 1-B", "For the quarter ending June 30, 2025"} <= set(words)
    assert any("INTERIM" in w for w in words)  # Q2 is not closed
    header = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, numbers)}
    assert (header["Department:"], header["Agency:"], header["Operating Unit:"],
            header["Organization Code (UACS):"]) == (HEADER["department"], HEADER["agency"], "Central Office",
                                                     "400010100001")
    assert header["Fund Cluster:"].startswith("01") and "[x] Supplemental" in header["Appropriations:"]
    assert [ws.cell(numbers, c).value for c in range(1, 24)] == [
        1, 2, 3, None, None, None, 4, 5, 6, 7, "7a", 8, 9, 10, 11, "11a", 12, 13, 14, 15, "15a", 16, 17]
    headings = [ws.cell(numbers - 1, c).value for c in range(1, 24)]
    assert headings[:3] == ["No.", "Allotment/Sub-Allotment No.", "Date of Issuance"]
    assert headings[8:13] == ["PS", "MOOE", "FinEx", "CO", "Total"]
    groups = [g for g in (ws.cell(numbers - 2, c).value for c in range(1, 24)) if g]
    assert groups == ["Allotments/Sub-Allotments Received", "Sub-Allotments Transferred to Other Operating Units",
                      "Total"]
    formulas = [ws.cell(numbers + 1, c).value for c in range(1, 24)]
    assert (formulas[12], formulas[17], formulas[22]) == ("9=(6+7+7a+8)", "13=(10+11+11a+12)", "17=(9-13)")
    assert {"JUANA CRUZ", "Budget Officer IV", "AMINA SAMPACO", "Minister"} <= set(words)
    assert "PEDRO SANTOS" not in words and words.count("Certified Correct:") == 1 and "Approved By:" in words


def test_every_saro_and_sub_allotment_to_the_quarters_end_is_listed_and_totalled_to_the_centavo(year):
    world = year.world
    ws = workbook(world.client.get(LIST + "&moa=MSSD&quarter=2", headers=world.admin.headers)).worksheets[0]
    _numbers, rows = table(ws)
    lines, labels = parts(rows), by_label(rows)
    expected = database_documents(world.app, "MSSD", date(2025, 6, 30))

    assert {k: listed(v) for k, v in lines.items()} == expected
    assert expected["B"] == [("SUB-ARO-2025-001", date(2025, 6, 15), "mooe", Decimal("50000.50"))]
    assert "SUB-ARO-2025-003" not in [r[1] for r in rows]  # dated 1 August: after the quarter's end
    assert [r[0] for part in "ABC" for r in lines[part]] == [Decimal(n) for n in range(1, 6)]
    assert lines["C"][0][5] == "To: MTIT - Organization MTIT" and lines["B"][0][5].startswith("From: MTIT")
    grand = labels["GRAND TOTAL"]
    for part, columns in (("A", RECEIVED), ("B", RECEIVED), ("C", ISSUED)):
        subtotal = labels[SUBTOTALS[part]]
        for klass, i in CLASS_INDEX.items():
            assert subtotal[columns[i]] == sum((d[3] for d in expected[part] if d[2] == klass), Decimal(0))
        assert subtotal[columns[4]] == sum((d[3] for d in expected[part]), Decimal(0))
    assert grand[RECEIVED[4]] == Decimal("2450000.50") and grand[ISSUED[4]] == Decimal("450000.25")
    for column in (*RECEIVED, *ISSUED):
        assert grand[column] == sum(zero(r[column]) for part in "ABC" for r in lines[part])
    assert [grand[c] for c in NET] == [grand[r] - grand[i] for r, i in zip(RECEIVED, ISSUED, strict=True)]
    assert grand[NET[4]] == Decimal("2000000.25")


@pytest.mark.parametrize(("scope", "quarter"), [("&moa=MSSD", 2), ("&moa=MTIT", 3), ("", 3)],
                         ids=["MSSD Q2", "MTIT Q3", "consolidated Q3"])
def test_far1_columns_8_and_9_equal_the_lists_sub_allotments_issued_and_received(year, scope, quarter):
    world = year.world
    query = f"{scope}&quarter={quarter}"
    far1 = by_label(table(workbook(world.client.get(FAR1 + query, headers=world.admin.headers)).worksheets[0])[1])
    lasa = by_label(table(workbook(world.client.get(LIST + query, headers=world.admin.headers)).worksheets[0])[1])
    issued, received = lasa[SUBTOTALS["C"]], lasa[SUBTOTALS["B"]]

    assert far1["GRAND TOTAL"][7] == issued[ISSUED[4]] and issued[ISSUED[4]] > 0  # column 8, transfer to
    assert far1["GRAND TOTAL"][8] == received[RECEIVED[4]] and received[RECEIVED[4]] > 0  # column 9, from
    assert far1["GRAND TOTAL"][5] == lasa.get(SUBTOTALS["A"], [0] * 23)[RECEIVED[4]]  # column 6, received
    for label, klass in (("Subtotal, Maintenance and Other Operating Expenses", "mooe"),
                         ("Subtotal, Capital Outlay", "co")):
        if label in far1:
            assert (far1[label][7], far1[label][8]) == (issued[ISSUED[CLASS_INDEX[klass]]],
                                                        received[RECEIVED[CLASS_INDEX[klass]]])


def test_a_focal_person_gets_only_their_moas_list_and_another_year_lists_nothing(year):
    world = year.world
    own = world.client.get(LIST + "&quarter=3", headers=world.other_focal.headers)  # MTIT's
    other = world.client.get(LIST + "&moa=MSSD", headers=world.other_focal.headers)
    later = workbook(world.client.get("/api/reports/far1b.xlsx?fiscal_year=2026&moa=MSSD&quarter=1",
                                      headers=world.admin.headers)).worksheets[0]

    _numbers, rows = table(workbook(own).worksheets[0])
    lines = parts(rows)
    assert own.headers["Content-Disposition"].endswith("FAR1B_List_FY2025_Q3_MTIT.xlsx")
    assert [r[1] for r in lines["B"]] == ["SUB-ARO-2025-001", "SUB-ARO-2025-002", "SUB-ARO-2025-003"]
    assert [r[1] for r in lines["C"]] == ["SUB-ARO-2025-001"] and "A" not in lines
    assert all(r[5].startswith("From: MSSD") for r in lines["B"])
    assert other.status_code == 404
    assert [r[0] for r in table(later)[1]] == ["GRAND TOTAL"]


def test_the_pdf_and_the_command_line_give_the_list(year, tmp_path):
    world = year.world
    response = world.client.get("/api/reports/far1b.pdf?fiscal_year=2025&moa=MSSD&quarter=2",
                                headers=world.admin.headers)
    out = tmp_path / "lasa.xlsx"
    result = cli(world.app, "report", "far1b", "--fiscal-year", "2025", "--moa", "MSSD", "--quarter", "2",
                 "--out", str(out))

    assert response.status_code == 200 and response.get_data().startswith(b"%PDF")
    with pdfplumber.open(BytesIO(response.get_data())) as document:
        text = "\n".join(page.extract_text() for page in document.pages)
    assert "LIST OF ALLOTMENTS AND SUB-ALLOTMENTS" in text and "FAR No. 1-B" in text
    assert "SUB-ARO-2025-002" in text and "150,000.25" in text
    assert result.exit_code == 0, result.output
    assert [r[1] for r in parts(table(load_workbook(out).worksheets[0])[1])["C"]] == [
        "SUB-ARO-2025-001", "SUB-ARO-2025-002"]
