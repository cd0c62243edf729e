"""The Excel reports (docs/design.md §8), read back with openpyxl: headers, one row
per PPA, values equal to the API's figures, exact totals, number formats,
frozen header, autofilter, print titles; a full budget cycle end to end."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from services.workbooks import MONEY as MONEY_FORMAT
from tests.support import Chain, cli


@pytest.fixture
def cycle(world):
    """A full budget cycle: an enacted, tracked PPA with proposal, program
    budget, allotments, obligations and disbursements (its work items'
    expenditure: it is in the money chain); plus a draft PPA and another
    MOA's PPA."""
    chain = Chain(world)
    q1 = chain.allot("2000000.00", quarter=1)
    q2 = chain.allot("1000000.00", quarter=2)
    training = chain.obligate(q1["id"], "1500000.00", day="2025-03-10")
    kits = chain.obligate(q2["id"], "600000.00", day="2025-05-05")
    chain.disburse(training["id"], "1500000.00", day="2025-03-31")
    chain.disburse(kits["id"], "250000.00", day="2025-07-01")
    world.create_ppa(title="Cash-for-Work, Marawi", budget_allocation="10499999.99", program_code="MSSD-CFW-011")
    world.create_ppa(world.other_focal, title="Halal Workshop", budget_allocation="850000.00", category="moa_ppa")
    return chain


def workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(BytesIO(response.get_data())).active


def exact(value):
    """A number as written in the file (openpyxl reads numbers back as floats;
    the file holds the exact decimal text, which the shortest repr restores)."""
    return Decimal(str(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def table_rows(ws, first_header: str):
    header_row = next(r for r in range(1, 20) if ws.cell(r, 1).value == first_header)
    rows = [[exact(c.value) for c in ws[r]] for r in range(header_row + 1, ws.max_row + 1)]
    return header_row, [c.value for c in ws[header_row]], rows


def test_mfbm_report_matches_the_api_to_the_centavo(cycle):
    world = cycle.world
    ws = workbook(world.client.get("/api/reports/mfbm-budget-execution.xlsx?fiscal_year=2025",
                                   headers=world.admin.headers))

    header_row, headers, rows = table_rows(ws, "PPA Code")
    ppa = cycle.get(f"/api/monitoring-entries/{cycle.ppa}")
    program_budget = cycle.get(f"/api/program-budgets/{cycle.program_budget}")
    mine = next(r for r in rows if r[1] == ppa["title"])

    assert [ws.cell(i, 1).value for i in (1, 2, 3)] == [
        "Ministry of Finance, and Budget and Management", "BANGSAMORO AUTONOMOUS REGION IN MUSLIM MINDANAO",
        "BUDGET EXECUTION REPORT - FY 2025"]
    assert headers[:8] == ["PPA Code", "PPA Title", "Implementing MOA", "Allotment Class", "Appropriation",
                           "Allotments", "Obligations", "Disbursements"]
    assert mine[2:8] == ["MSSD", "MOOE", Decimal(program_budget["approved_amount"]), Decimal("3000000.00"),
                         Decimal(program_budget["obligated"]), Decimal(program_budget["disbursed"])]
    assert mine[11] == Decimal("0.7") and mine[12] == Decimal("0.8333")  # 2,100,000 / 3,000,000; 1,750,000 / 2,100,000
    assert {ws.cell(header_row + 1, c).number_format for c in range(5, 12)} == {MONEY_FORMAT}
    assert {ws.cell(header_row + 1, c).number_format for c in (12, 13, 14)} == {"0.00%"}
    assert ws.freeze_panes == f"C{header_row + 1}"
    assert ws.print_title_rows == f"${header_row}:${header_row}"


def test_far1_statement_balances_by_pap_class_and_quarter(cycle):
    """The statement of FY2025 (Q4: no quarter closed, so the current one of a past year), its MOOE line;
    the full structure and every column are in tests/api/test_far1_statement.py."""
    ws = workbook(cycle.world.client.get("/api/reports/far1.xlsx?fiscal_year=2025&moa=MSSD",
                                         headers=cycle.world.admin.headers))

    numbers = next(r for r in range(1, 40) if ws.cell(r, 3).value == 3)
    rows = {ws.cell(r, 1).value: [exact(ws.cell(r, c).value) for c in range(1, 25)]
            for r in range(numbers + 2, ws.max_row + 1)}
    mssd = rows["Maintenance and Other Operating Expenses"]

    assert [ws.cell(numbers - 1, c).value for c in (1, 2, 3, 6)] == [
        "Particulars", "UACS Code", "Authorized Appropriations", "Allotments Received"]
    assert mssd[1] == "02" and mssd[2] == Decimal("5000000.00") and mssd[5] == Decimal("3000000.00")
    assert mssd[10:15] == [Decimal("1500000.00"), Decimal("600000.00"), 0, 0, Decimal("2100000.00")]
    assert mssd[15:20] == [Decimal("1500000.00"), 0, Decimal("250000.00"), 0, Decimal("1750000.00")]
    assert mssd[20:] == [Decimal("2000000.00"), Decimal("900000.00"), 0, Decimal("350000.00")]
    assert rows["GRAND TOTAL"][2:] == mssd[2:]


def test_a_report_can_run_as_a_job_and_be_downloaded(cycle):
    world = cycle.world
    accepted = world.client.get("/api/reports/far1.xlsx?fiscal_year=2025&async=true", headers=world.focal.headers)
    job_id = accepted.get_json()["job_id"]

    job = world.client.get(f"/api/jobs/{job_id}", headers=world.focal.headers).get_json()
    download = world.client.get(f"/api/reports/files/{job_id}", headers=world.focal.headers)
    stranger = world.client.get(f"/api/reports/files/{job_id}", headers=world.other_focal.headers)

    assert accepted.status_code == 202 and accepted.headers["Location"] == f"/api/jobs/{job_id}"
    # a focal person's report covers their MOA, and its name says so (issue 10)
    assert (job["status"], job["result"]["download_name"]) == ("finished", "FAR1_Statement_FY2025_MSSD.xlsx")
    ws = workbook(download)
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert "MTIT" not in " ".join(cells)  # the job ran as the focal person: their MOA only
    assert stranger.status_code == 404


def test_a_report_job_and_its_file_are_only_for_who_asked_and_administrators(world):
    world.create_ppa(title="Cash-for-Work, Marawi")
    colleague = world.person("mssd.budget", "moa_focal", org="MSSD")  # same MOA, same role
    accepted = world.client.get("/api/reports/mfbm-budget-execution.xlsx?fiscal_year=2025&async=true",
                                headers=world.focal.headers)
    job_id = accepted.get_json()["job_id"]

    def statuses(person):
        return [world.client.get(path, headers=person.headers).status_code
                for path in (f"/api/jobs/{job_id}", f"/api/reports/files/{job_id}")]

    assert accepted.status_code == 202
    assert statuses(world.focal) == [200, 200]
    assert statuses(world.admin) == [200, 200]
    assert statuses(colleague) == [404, 404]  # issue 10: no longer the whole organization's
    assert statuses(world.budget_analyst) == [404, 404]  # a reviewer sees all PPAs, not others' report jobs
    assert statuses(world.other_focal) == [404, 404]


def test_the_cli_writes_both_reports(app, cycle, tmp_path):
    for kind in ("mfbm", "far1"):
        out = tmp_path / f"{kind}.xlsx"
        result = cli(app, "report", kind, "--fiscal-year", "2025", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert load_workbook(out).active.cell(1, 1).value == {
            "mfbm": "Ministry of Finance, and Budget and Management",
            "far1": "STATEMENT OF APPROPRIATIONS, ALLOTMENTS, OBLIGATIONS, DISBURSEMENTS AND BALANCES"}[kind]
