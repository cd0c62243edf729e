"""The gap analysis of community needs (issue 15 item 8, docs/design.md §14):
per category and per province, the needs raised, validated, funded (by a
PPA with a budget) and unfunded, with their estimated costs to the
centavo and the totals; each user counts the needs they may see."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update

from db import db
from db.models import Ppa

BASILAN, LANAO_DEL_SUR = "1900700000", "1903600000"
WATER = {"title": "Water system for Arco", "description": "Households fetch water 2 km away.",
         "category": "water_sanitation", "urgency": "high", "province_code": BASILAN, "estimated_cost": "2500000.50",
         "consent": True}


def _need(world, **extra) -> int:
    body = {k: v for k, v in (WATER | extra).items() if v is not None}
    response = world.client.post("/api/needs", json=body, headers=world.planning_officer.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _fire(world, need_id, trigger, **extra):
    etag = world.client.get(f"/api/needs/{need_id}", headers=world.planning_officer.headers).headers["ETag"]
    response = world.client.post(f"/api/needs/{need_id}/transitions", json={"trigger": trigger, **extra},
                                 headers=world.planning_officer.headers | {"If-Match": etag})
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def seeded(world):
    """A water need of Basilan funded by an MSSD PPA (2,500,000.50), a health
    need of Basilan validated only (1,000,000.00), a water need of Lanao del
    Sur just raised (no estimate), and a declined one (300.25)."""
    world.focal  # noqa: B018 - MSSD exists
    funded = _need(world)
    for trigger, extra in (("validate", {}), ("forward", {"organization": "MSSD"})):
        _fire(world, funded, trigger, **extra)
    ppa = world.create_ppa()["id"]
    linked = world.client.post(f"/api/monitoring-entries/{ppa}/needs", json={"need_id": funded},
                               headers=world.focal.headers)
    assert linked.status_code == 201, linked.get_json()
    validated = _need(world, title="Rural health unit", category="health", estimated_cost="1000000.00")
    _fire(world, validated, "validate")
    _need(world, title="Spring box", province_code=LANAO_DEL_SUR, estimated_cost=None)
    declined = _need(world, title="Duplicate well", estimated_cost="300.25")
    _fire(world, declined, "decline", comment="A duplicate of the water system")
    return world, ppa


def _gaps(world, who=None, query=""):
    response = world.client.get(f"/api/needs/gap-analysis{query}", headers=(who or world.technical_reviewer).headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _row(rows, key):
    return next(r for r in rows if r["key"] == key)


FIGURES = ("raised", "validated", "funded", "unfunded")


def _counts(row):
    return tuple(row[f] for f in FIGURES)


def _costs(row):
    return tuple(row[f"{f}_cost"] for f in FIGURES)


def test_the_gap_analysis_counts_and_costs_each_category_province_and_the_totals_exactly(seeded):
    world, _ = seeded

    gaps = _gaps(world)

    water, health = _row(gaps["by_category"], "water_sanitation"), _row(gaps["by_category"], "health")
    basilan, lanao = _row(gaps["by_area"], BASILAN), _row(gaps["by_area"], LANAO_DEL_SUR)
    assert _counts(water) == (3, 1, 1, 0)
    assert _costs(water) == ("2500300.75", "2500000.50", "2500000.50", "0.00")
    assert _counts(health) == (1, 1, 0, 1) and _costs(health) == ("1000000.00", "1000000.00", "0.00", "1000000.00")
    assert (basilan["name"], _counts(basilan)) == ("Basilan", (3, 2, 1, 1))
    assert _costs(basilan) == ("3500300.75", "3500000.50", "2500000.50", "1000000.00")
    assert _counts(lanao) == (1, 0, 0, 0) and _costs(lanao) == ("0.00",) * 4
    assert _counts(gaps["total"]) == (4, 2, 1, 1)
    assert _costs(gaps["total"]) == ("3500300.75", "3500000.50", "2500000.50", "1000000.00")


def test_a_need_whose_ppa_has_no_budget_is_not_funded(seeded):
    world, ppa = seeded
    with world.app.app_context():
        db.session.execute(update(Ppa).where(Ppa.id == ppa).values(budget_allocation=Decimal("0.00")))
        db.session.commit()

    total = _gaps(world)["total"]

    assert _counts(total) == (4, 2, 0, 2) and total["unfunded_cost"] == "3500000.50"


def test_the_filters_narrow_the_needs_counted(seeded):
    world, _ = seeded

    gaps = _gaps(world, query=f"?province_code={LANAO_DEL_SUR}")

    assert _counts(gaps["total"]) == (1, 0, 0, 0)
    assert _counts(_row(gaps["by_category"], "health")) == (0, 0, 0, 0)


def test_another_moas_focal_person_does_not_count_the_needs_forwarded_to_mssd(seeded):
    world, _ = seeded

    total = _gaps(world, world.other_focal)["total"]

    assert _counts(total) == (3, 1, 0, 1)


def test_a_bad_filter_is_refused_by_name(seeded):
    world, _ = seeded
    response = world.client.get("/api/needs/gap-analysis?province_code=Basilan",
                                headers=world.technical_reviewer.headers)
    assert response.status_code == 422 and "province_code" in str(response.get_json())
