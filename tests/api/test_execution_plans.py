"""BED No. 1 and BED No. 3 over the API (issue 13 item 3; docs/design.md §12
"Financial plan (BED No. 1 and No. 3)"): a PPA's obligations and
disbursements planned by month and class, entered by its MOA, never above
its appropriation, and set against the ORS and DV it actually posted.

One enacted PPA with a PHP 5,000,000 MOOE appropriation per backend and
module; each test that writes a plan writes the whole plan it reads."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, _dispose, _make_app
from tests.support import Chain, World


@pytest.fixture(scope="module", params=BACKENDS)
def chain(request, tmp_path_factory) -> Chain:
    application = _make_app(request.param, request, tmp_path_factory.mktemp("plans"))
    yield Chain(World(application))
    _dispose(application)


def plan_path(chain: Chain, ppa: int | None = None) -> str:
    return f"/api/monitoring-entries/{ppa or chain.ppa}/execution-plan"


def put_plan(chain: Chain, lines: list[dict], who=None):
    who = who or chain.world.focal
    return chain.world.client.put(plan_path(chain), json={"lines": lines}, headers=who.headers)


def line(month: int, obligations: str, disbursements: str = "0.00", klass: str = "mooe") -> dict:
    return {"month": month, "allotment_class": klass, "obligations_planned": obligations,
            "disbursements_planned": disbursements}


PLAN = [line(1, "1000000.01"), line(3, "2500000.00", "999999.99"), line(12, "0.00", "3500000.00")]


def test_a_plan_is_read_back_exactly_to_the_centavo_with_its_totals(chain):
    response = put_plan(chain, PLAN)

    assert response.status_code == 200, response.get_json()
    plan = chain.get(plan_path(chain))
    assert plan == response.get_json()
    assert plan["lines"] == PLAN
    assert plan["appropriation"] == {"ps": "0.00", "mooe": "5000000.00", "finex": "0.00", "co": "0.00"}
    january, march, december = plan["months"][0], plan["months"][2], plan["months"][11]
    assert january["obligations"]["mooe"] == "1000000.01" and january["obligations"]["ps"] == "0.00"
    assert march["cumulative_obligations"] == "3500000.01"
    assert march["cumulative_disbursements"] == "999999.99"
    assert december["disbursements_total"] == "3500000.00"
    assert december["cumulative_disbursements"] == "4499999.99"
    assert plan["obligations_by_class"]["mooe"] == plan["obligations_total"] == "3500000.01"
    assert plan["disbursements_total"] == "4499999.99"


def test_entering_the_plan_again_replaces_it_and_each_change_is_audited(chain):
    put_plan(chain, PLAN)

    response = put_plan(chain, [line(3, "2000000.00", "500000.00"), line(6, "10.00", klass="mooe")])

    assert response.get_json()["lines"] == [line(3, "2000000.00", "500000.00"), line(6, "10.00")]
    audit = chain.get("/api/audit?entity=execution_plan_line&field=obligations_planned")
    assert any(entry["old_value"] == '"2500000.00"' and entry["new_value"] == '"2000000.00"' for entry in audit)
    assert {"create", "delete"} <= {entry["action"] for entry in chain.get("/api/audit?entity=execution_plan_line")}


def test_a_class_planned_above_its_appropriation_is_refused_on_the_month_it_goes_above_and_nothing_changes(chain):
    put_plan(chain, PLAN)

    response = put_plan(chain, [line(2, "3000000.00"), line(5, "2000000.01"), line(9, "1.00")])

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == ["lines.1.obligations_planned"]
    assert "through May total PHP 5,000,000.01" in errors["lines.1.obligations_planned"][0]
    assert "MOOE appropriation of PHP 5,000,000.00" in errors["lines.1.obligations_planned"][0]
    assert chain.get(plan_path(chain))["lines"] == PLAN


def test_a_class_without_an_appropriation_takes_no_plan(chain):
    response = put_plan(chain, [line(1, "0.01", klass="co")])

    assert response.status_code == 422
    assert "CO appropriation of PHP 0.00" in response.get_json()["errors"]["lines.0.obligations_planned"][0]


def test_a_bad_month_class_or_negative_amount_is_refused_by_line_and_nothing_changes(chain):
    put_plan(chain, PLAN)

    response = put_plan(chain, [line(13, "1.00"), line(2, "1.00", klass="goods"), line(4, "-1.00"),
                                line(5, "1.00", "0.001"), line(1, "1.00"), line(1, "2.00")])

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) >= {"lines.0.month", "lines.1.allotment_class",
                                                  "lines.2.obligations_planned", "lines.3.disbursements_planned"}
    assert chain.get(plan_path(chain))["lines"] == PLAN


def test_a_month_and_class_sent_twice_is_refused_on_the_second(chain):
    response = put_plan(chain, [line(1, "1.00"), line(1, "2.00")])

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["lines.1.month"]


def test_only_the_moas_focal_person_or_budget_officer_enters_the_plan(chain):
    world = chain.world

    assert put_plan(chain, PLAN, world.budget_analyst).status_code == 403
    assert put_plan(chain, PLAN, world.other_focal).status_code == 404
    assert put_plan(chain, PLAN, world.budget_officer).status_code == 200
    assert world.client.get(plan_path(chain), headers=world.executive.headers).status_code == 200


def test_a_ppa_without_an_appropriation_has_no_plan_to_enter(chain):
    draft = chain.world.create_ppa(title="Not yet appropriated")["id"]

    response = chain.world.client.put(plan_path(chain, draft), json={"lines": [line(1, "1.00")]},
                                      headers=chain.world.focal.headers)

    assert response.status_code == 409
    assert response.get_json()["code"] == "not_appropriated"
    assert chain.get(plan_path(chain, draft))["appropriated"] is False


def test_the_plan_is_set_against_posted_ors_and_dv_month_by_month(chain):
    put_plan(chain, [line(3, "1000000.00"), line(4, "0.00", "400000.00"), line(5, "500000.00", "100000.00"),
                     line(8, "1.00")])
    allotment = chain.allot("2000000.00")["id"]
    obligation = chain.obligate(allotment, "600000.00", day="2025-03-10")["id"]
    rescinded = chain.obligate(allotment, "100000.00", day="2025-03-12")
    chain.post(f"/api/obligations/{rescinded['id']}/cancel", chain.world.focal, 200, reason="rescinded",
               cancelled_on="2025-05-02")
    chain.disburse(obligation, "250000.00", day="2025-04-15")
    chain.disburse(obligation, "50000.00", day="2025-07-01")  # after as_of: not counted

    variance = chain.get(f"{plan_path(chain)}/variance?as_of=2025-06-30")

    assert variance["as_of"] == "2025-06-30" and variance["fiscal_year"] == 2025
    march, april, may, july = (variance["months"][m - 1] for m in (3, 4, 5, 7))
    assert (march["planned_obligations"], march["actual_obligations"], march["obligations_variance"]) == (
        "1000000.00", "700000.00", "-300000.00")
    assert march["obligations_rate"] == "0.7000"
    assert (may["actual_obligations"], may["cumulative_actual_obligations"]) == ("-100000.00", "600000.00")
    assert may["cumulative_obligations_variance"] == "-900000.00" and may["obligations_rate"] == "0.4000"
    assert (april["actual_disbursements"], april["disbursements_variance"]) == ("250000.00", "-150000.00")
    assert april["disbursements_rate"] == "0.6250"
    assert may["cumulative_actual_disbursements"] == "250000.00" and may["disbursements_rate"] == "0.5000"
    assert variance["months"][0]["obligations_rate"] is None  # nothing planned through January
    assert july["reached"] is False and july["actual_disbursements"] == "0.00"
    assert july["disbursements_variance"] is None and july["obligations_rate"] is None


# -- printed (issue 13 item 3): BED No. 1 and No. 3 as workbooks and PDFs ------------------------------------------

def test_bed1_and_bed3_print_the_plan_by_month_quarter_and_year_to_the_centavo(chain):
    from decimal import Decimal
    from io import BytesIO

    from openpyxl import load_workbook

    assert put_plan(chain, PLAN).status_code == 200
    client, focal = chain.world.client, chain.world.focal.headers

    bed1 = client.get("/api/reports/bed1.xlsx?fiscal_year=2025", headers=focal)
    bed3 = client.get("/api/reports/bed3.xlsx?fiscal_year=2025", headers=focal)
    pdf = client.get("/api/reports/bed3.pdf?fiscal_year=2025", headers=focal)

    def table(response):
        sheet = load_workbook(BytesIO(response.get_data())).worksheets[0]
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
        headings = next(r for r in rows if r[0] == "Particulars")
        total = next(r for r in rows if r[0] == "GRAND TOTAL")
        return rows, dict(zip(headings, total, strict=True))

    rows1, total1 = table(bed1)
    rows3, total3 = table(bed3)
    assert bed1.status_code == bed3.status_code == pdf.status_code == 200
    assert ["FINANCIAL PLAN"] == [r[0] for r in rows1 if r[0] == "FINANCIAL PLAN"] and rows1[1][0] == "BED No. 1"
    assert rows3[0][0] == "MONTHLY DISBURSEMENT PROGRAM" and rows3[2][0] == "Fiscal Year 2025"
    assert Decimal(str(total1["January"])) == Decimal("1000000.01") and Decimal(str(total1["Total, 1st Quarter"])) == Decimal("3500000.01")
    assert Decimal(str(total1["Total for the Year"])) == Decimal("3500000.01") and total1["December"] == 0
    assert Decimal(str(total3["March"])) == Decimal("999999.99") and Decimal(str(total3["December"])) == Decimal("3500000.00")
    assert Decimal(str(total3["Total for the Year"])) == Decimal("4499999.99")
    assert any(r[0] == "Maintenance and Other Operating Expenses" for r in rows1)
    assert any("Prepared By:" in r for r in rows1) and any("Approved By:" in r for r in rows1)
    assert pdf.get_data().startswith(b"%PDF-")


def test_a_plan_prints_as_an_unprotected_sheet_and_its_name_claims_no_quarter(chain):
    from io import BytesIO

    from openpyxl import load_workbook

    response = chain.world.client.get("/api/reports/bed1.xlsx?fiscal_year=2025&quarter=2",
                                      headers=chain.world.focal.headers)

    assert response.status_code == 200
    assert "BED1_Financial_Plan_FY2025_MSSD.xlsx" in response.headers["Content-Disposition"]
    assert load_workbook(BytesIO(response.get_data())).worksheets[0].protection.sheet is False


def test_a_statement_of_an_unknown_moa_is_404_and_of_an_unlisted_fund_cluster_422_for_every_report(chain):
    client, analyst = chain.world.client, chain.world.budget_analyst.headers
    from services.reports import REPORT_KINDS

    for name in REPORT_KINDS:
        unknown = client.get(f"/api/reports/{name}.xlsx?fiscal_year=2025&moa=NOPE", headers=analyst)
        assert unknown.status_code == 404, name
    cluster = client.get("/api/reports/far1.xlsx?fiscal_year=2025&fund_cluster=99", headers=analyst)
    assert cluster.status_code == 422 and "fund_cluster" in cluster.get_json()["errors"]
