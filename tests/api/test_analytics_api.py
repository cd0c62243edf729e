"""Analytics over the API (issue 16 item 6; docs/design.md §18): trends by
MOA, sector and class, execution velocity against BED No. 3, needs
fulfilment, the year-end projection with its stated method, and the
chart exports as PDF and PNG.

One world, built once: MSSD's FY2025 PPA with a PHP 5,000,000.00 MOOE
appropriation, a SARO of 2,000,000.00 released 6 Jan, ORS of 100,000.00
(15 Jan), 200,000.00 (14 Feb) and 300,000.00 (14 Mar), each paid half by a
DV five days later, plus a DV of 40,000.00 voided in March (nothing net);
BED No. 3 programs 100,000.00 in January and February and 200,000.00 in
March; two needs in Basilan published, one addressed by the PPA, and one
only submitted."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pdfplumber
import pytest

from services.analytics import project
from tests.api.test_needs_api import BASILAN, RAISED, _community, _fire, _post
from tests.conftest import ONE_BACKEND, _dispose, _make_app
from tests.support import Chain, World


@pytest.fixture(scope="module")
def chain(request, tmp_path_factory):
    application = _make_app(ONE_BACKEND, request, tmp_path_factory.mktemp("analytics"))
    world = World(application)
    chain = Chain(world)
    allotment = chain.allot("2000000.00", day="2025-01-06")["id"]
    for amount, ors_day, dv_day in (("100000.00", "2025-01-15", "2025-01-20"), ("200000.00", "2025-02-14", "2025-02-19"),
                                    ("300000.00", "2025-03-14", "2025-03-19")):
        ors = chain.obligate(allotment, amount, day=ors_day)["id"]
        chain.disburse(ors, str(Decimal(amount) / 2), day=dv_day)
    spoiled = chain.disburse(ors, "40000.00", day="2025-03-20")
    chain.post(f"/api/disbursements/{spoiled['id']}/void", world.focal, 200, reason="Check spoiled",
               voided_on="2025-03-25")
    plan = [{"month": month, "allotment_class": "mooe", "obligations_planned": "0.00", "disbursements_planned": amount}
            for month, amount in ((1, "100000.00"), (2, "100000.00"), (3, "200000.00"))]
    response = world.client.put(f"/api/monitoring-entries/{chain.ppa}/execution-plan", json={"lines": plan},
                                headers=world.focal.headers)
    assert response.status_code == 200, response.get_json()
    rep = _community(world)
    needs = [_post(world, "/api/needs", rep, RAISED | {"title": f"Need {i}"}).get_json()["id"] for i in range(3)]
    for need in needs[:2]:
        assert _fire(world, need, "validate", world.planning_officer).status_code == 200
        assert _fire(world, need, "forward", world.planning_officer, organization="MSSD").status_code == 200
    assert _post(world, f"/api/monitoring-entries/{chain.ppa}/needs", world.focal,
                 {"need_id": needs[0]}).status_code == 201
    yield chain
    _dispose(application)


def get(chain, path, who=None, status=200):
    response = chain.world.client.get(path, headers=(who or chain.world.budget_analyst).headers)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response


def test_trends_by_class_give_each_quarters_money_and_the_rates_to_date_exactly(chain):
    rows = get(chain, "/api/analytics/trends?from_year=2024&to_year=2025&by=class").get_json()

    assert [(r["group"], r["fiscal_year"], r["quarter"]) for r in rows] == [("MOOE", 2025, q) for q in (1, 2, 3, 4)]
    first, second = rows[0], rows[1]
    assert (first["appropriation"], first["allotted"], first["obligated"], first["disbursed"]) == (
        "5000000.00", "2000000.00", "600000.00", "300000.00")
    assert (first["obligation_rate"], first["disbursement_rate"]) == ("30.00", "50.00")
    assert (second["obligated"], second["cumulative_obligated"], second["cumulative_disbursed"]) == (
        "0.00", "600000.00", "300000.00")
    assert second["obligation_rate"] == "30.00"


def test_trends_group_by_moa_and_by_sector_with_the_same_figures(chain):
    by_moa = get(chain, "/api/analytics/trends?from_year=2025&to_year=2025&by=moa").get_json()
    by_sector = get(chain, "/api/analytics/trends?from_year=2025&to_year=2025&by=sector").get_json()

    assert {r["group"] for r in by_moa} == {"MSSD"} and {r["group"] for r in by_sector} == {"social"}
    assert [r["cumulative_disbursed"] for r in by_moa] == [r["cumulative_disbursed"] for r in by_sector]


def test_an_unknown_grouping_or_years_backwards_are_refused_per_field(chain):
    assert "by" in get(chain, "/api/analytics/trends?from_year=2025&to_year=2025&by=color", status=422).get_data(
        as_text=True)
    problem = get(chain, "/api/analytics/trends?from_year=2025&to_year=2024", status=422).get_json()
    assert "to_year" in str(problem)


def test_velocity_sets_bed3_programmed_disbursements_against_the_actual_month_by_month(chain):
    months = get(chain, "/api/analytics/velocity?fiscal_year=2025&as_of=2025-03-31").get_json()

    assert [(m["programmed"], m["actual"], m["ratio"]) for m in months[:3]] == [
        ("100000.00", "50000.00", "50.00"), ("100000.00", "100000.00", "75.00"), ("200000.00", "150000.00", "75.00")]
    assert months[2]["cumulative_programmed"] == "400000.00" and months[2]["cumulative_actual"] == "300000.00"
    assert months[3] == {"month": 4, "reached": False, "programmed": "0.00", "actual": None,
                         "cumulative_programmed": "400000.00", "cumulative_actual": None, "ratio": None}


def test_needs_fulfilment_counts_published_needs_and_those_a_ppa_addresses(chain):
    rows = get(chain, "/api/analytics/needs-fulfilment").get_json()

    assert rows == [{"province_code": BASILAN, "province": "Basilan", "category": "water_sanitation", "raised": 2,
                     "addressed": 1, "share": "50.00"}]


def test_the_projection_extrapolates_the_monthly_mean_with_a_band_from_their_spread(chain):
    body = get(chain, "/api/analytics/projection?fiscal_year=2025&as_of=2025-03-31").get_json()

    assert (body["months_elapsed"], body["months_remaining"]) == (3, 9)
    assert "1.96" in body["method"] and "sample standard deviation" in body["method"]
    # obligations 100k, 200k, 300k: mean 200k, 600k + 9 x 200k; sd 100k, 1.96 x 100k x 3 = 588k
    assert body["obligations"] == {"to_date": "600000.00", "projected": "2400000.00", "low": "1812000.00",
                                   "high": "2988000.00", "months": ["100000.00", "200000.00", "300000.00"]}
    # disbursements 50k, 100k, 150k (the voided DV nets to nothing): 300k + 9 x 100k; 1.96 x 50k x 3 = 294k
    assert (body["disbursements"]["projected"], body["disbursements"]["low"], body["disbursements"]["high"]) == (
        "1200000.00", "906000.00", "1494000.00")


def test_the_band_never_goes_below_what_is_already_posted():
    one_big_month = project([Decimal("10.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"),
                             Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"),
                             Decimal("0.00")])
    assert one_big_month.low == Decimal("10.00")  # 10.91 projected - 1.96 x 3.02 x 1 would be below 10
    assert project([Decimal("7.00")]).projected == Decimal("84.00")  # one month: no spread, no band
    assert project([Decimal("7.00")]).low == project([Decimal("7.00")]).high == Decimal("84.00")


def test_a_moa_focal_person_gets_their_own_moa_and_not_another(chain):
    world = chain.world
    own = get(chain, "/api/analytics/trends?from_year=2025&to_year=2025&by=moa", who=world.focal).get_json()
    assert {r["group"] for r in own} == {"MSSD"}
    assert get(chain, "/api/analytics/trends?from_year=2025&to_year=2025&by=moa", who=world.other_focal).get_json() == []
    get(chain, "/api/analytics/velocity?fiscal_year=2025&moa=MSSD", who=world.other_focal, status=404)


def test_each_view_exports_a_pdf_with_its_figures_and_a_png_of_its_charts(chain):
    pdf = get(chain, "/api/analytics/projection.pdf?fiscal_year=2025&as_of=2025-03-31")
    assert pdf.mimetype == "application/pdf"
    with pdfplumber.open(BytesIO(pdf.get_data())) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
    assert "Year-end projection" in text and "2,400,000.00" in text and "1.96" in text
    for view, query in (("trends", "from_year=2025&to_year=2025&by=class"), ("velocity", "fiscal_year=2025"),
                        ("needs-fulfilment", ""), ("projection", "fiscal_year=2025")):
        png = get(chain, f"/api/analytics/{view}.png?{query}")
        assert png.mimetype == "image/png" and png.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
