"""The MFBM Budget Execution Report's SPI and CPI columns (issue 16 item 3,
"the MFBM report shows SPI/CPI per PPA"; docs/design.md §8 and §15): each
PPA's indices as of the report's date equal what its earned value endpoint
answers for that day, in the workbook, the PDF and the JSON; blank without a baseline; and
computed for all the report's PPAs in as many statements for two PPAs as
for six."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from io import BytesIO

import pdfplumber
import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select, text

from db import db
from db.models import Ppa
from services.performance import spi_cpi
from tests.conftest import ONE_BACKEND, one_backend_app
from tests.support import Chain

AS_OF = "2025-04-30"


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    """The application on ``ONE_BACKEND`` only (nothing here depends on the database)."""
    yield from one_backend_app(request, tmp_path)


def _planned_ppa(world, title: str, stage: str = "enacted") -> tuple[int, int]:
    """A PPA whose one leaf plans PHP 600,000 over 1 March - 30 June 2025,
    advanced to ``stage`` (enactment baselines it); its id and the leaf's."""
    ppa, leaf = world.tracked_ppa("budget_review", budget_allocation="1000000.00", title=title)
    response = world.patch(f"/api/work-items/{leaf}", world.focal, {
        "allocated_budget": "600000.00", "start_date": "2025-03-01", "due_date": "2025-06-30"})
    assert response.status_code == 200, response.get_json()
    world.advance(ppa["id"], stage)
    return ppa["id"], leaf


class TrackedChain(Chain):
    """``Chain`` whose PPA has a planned, baselined WBS: its actual cost is
    the disbursements, and one dated after the report's day must not count."""

    def __init__(self, world):
        self.world, self.counter, self.dates = world, 0, {}
        self.ppa, self.leaf = _planned_ppa(world, "Livelihood Training")
        self.proposal = self.post("/api/budget-proposals", world.focal, organization="MSSD", fiscal_year=2025,
                                  title="MSSD FY2025 budget proposal")["id"]
        self.program_budget = self.post("/api/program-budgets", world.budget_analyst, proposal_id=self.proposal,
                                        ppa_id=self.ppa, approved_amount="1000000.00")["id"]
        self.enact_proposal(self.proposal)


@pytest.fixture
def year(world):
    """A chain PPA (paid 100,000 in March and 200,000 in May, 25 % done), a
    PPA reporting its own expenditure (40 % done, 150,000 spent) and a PPA
    enacted before earned value baselines existed (none stored)."""
    chain = TrackedChain(world)
    allotment = chain.allot("1000000.00", quarter=1)
    ors = chain.obligate(allotment["id"], "500000.00", day="2025-03-10")
    chain.disburse(ors["id"], "100000.00", day="2025-03-20")
    chain.disburse(ors["id"], "200000.00", day="2025-05-10")
    assert world.patch(f"/api/work-items/{chain.leaf}", world.focal, {"progress": 25}).status_code == 200
    reported, leaf = _planned_ppa(world, "Halal Workshop")
    assert world.patch(f"/api/work-items/{leaf}", world.focal, {"progress": 40}).status_code == 200
    assert world.client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "150000.00"},
                             headers=world.focal.headers).status_code == 200
    earlier = world.create_ppa(title="Sports Fest", budget_allocation="300000.00")["id"]
    world.advance(earlier, "enacted")
    with world.app.app_context(), db.engine.begin() as connection:  # as if enacted before baselines existed
        connection.execute(text("DELETE FROM ev_baseline_items WHERE ppa_id = :id"), {"id": earlier})
        connection.execute(text("DELETE FROM ev_baselines WHERE ppa_id = :id"), {"id": earlier})
    return {"Livelihood Training": chain.ppa, "Halal Workshop": reported, "Sports Fest": earlier}


def _endpoint(world, ppa: int) -> tuple[str | None, str | None]:
    response = world.client.get(f"/api/monitoring-entries/{ppa}/earned_value?as_of={AS_OF}",
                                headers=world.focal.headers)
    assert response.status_code == 200, response.get_json()
    figures = response.get_json()["ppa"]
    return figures["spi"], figures["cpi"]


def _text(value) -> str | None:
    return None if value is None else f"{Decimal(str(value)):.4f}"


def test_the_mfbm_workbook_shows_each_ppas_spi_and_cpi_as_its_earned_value_gives_them(year, world):
    response = world.client.get(f"/api/reports/mfbm.xlsx?fiscal_year=2025&as_of={AS_OF}",
                                headers=world.budget_analyst.headers)
    assert response.status_code == 200
    ws = load_workbook(BytesIO(response.get_data())).worksheets[0]
    header_row = next(r for r in range(1, 20) if ws.cell(r, 1).value == "PPA Code")
    headers = [c.value for c in ws[header_row]]
    spi, cpi, title = headers.index("SPI"), headers.index("CPI"), headers.index("PPA Title")
    shown = {}
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if row[title] in year:
            shown[row[title]] = (_text(row[spi]), _text(row[cpi]))

    expected = {name: _endpoint(world, ppa) for name, ppa in year.items() if name != "Sports Fest"}
    # Livelihood Training: PV 61 of 122 days x 600,000 = 300,000; EV 25 % = 150,000; AC 100,000 (May's
    # 200,000 is paid after the day). Halal Workshop: EV 240,000 on the same PV; AC 150,000.
    assert expected == {"Livelihood Training": ("0.5000", "1.5000"), "Halal Workshop": ("0.8000", "1.6000")}
    assert shown == expected | {"Sports Fest": (None, None)}  # no baseline: blank; the report stores none
    late = world.client.get(f"/api/monitoring-entries/{year['Sports Fest']}/earned_value",
                            headers=world.focal.headers).get_json()
    assert late["baseline_captured_late"] is True  # its first computation takes one
    notes = [ws.cell(r, 1).value for r in range(header_row, ws.max_row + 1)]
    assert any(n and n.startswith("SPI and CPI:") and "Blank when the PPA has no work-breakdown structure" in n
               for n in notes)


def test_the_mfbm_pdf_prints_the_same_indices_and_says_what_a_blank_means(year, world):
    response = world.client.get(f"/api/reports/mfbm.pdf?fiscal_year=2025&as_of={AS_OF}",
                                headers=world.budget_analyst.headers)
    assert response.status_code == 200
    with pdfplumber.open(BytesIO(response.get_data())) as document:
        text = "\n".join(page.extract_text() for page in document.pages)

    assert "SPI" in text and "CPI" in text
    assert "0.5000" in text and "1.5000" in text and "0.8000" in text and "1.6000" in text
    assert "Blank when the PPA has no work-breakdown" in " ".join(text.split())


@contextmanager
def statements():
    """Count the SQL statements sent inside the block."""
    seen = []

    def count(*_args, **_kwargs):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_the_indices_of_many_ppas_take_as_many_statements_as_those_of_two(app, world):
    ids = [_planned_ppa(world, f"Project {n}")[0] for n in range(6)]
    chain = TrackedChain(world)
    allotment = chain.allot("1000000.00", quarter=1)
    chain.disburse(chain.obligate(allotment["id"], "500000.00")["id"], "100000.00", day="2025-05-10")
    with app.app_context():
        ppas = list(db.session.scalars(select(Ppa).where(Ppa.id.in_([*ids, chain.ppa])).order_by(Ppa.id)))
        spi_cpi(ppas[:1], date(2025, 4, 30))  # warm-up: a first call reads once what later ones reuse
        with statements() as few:
            small = spi_cpi([ppas[0], ppas[-1]], date(2025, 4, 30))
        db.session.expire_all()
        ppas = list(db.session.scalars(select(Ppa).where(Ppa.id.in_([*ids, chain.ppa])).order_by(Ppa.id)))
        with statements() as many:
            large = spi_cpi(ppas, date(2025, 4, 30))

    assert len(large) == 7 and all(spi is not None for spi, _ in large.values())
    assert small == {ppas[0].id: large[ppas[0].id], ppas[-1].id: large[ppas[-1].id]}
    assert len(few) == len(many) == 5  # baselines, their items, the trees, the chain, later disbursements


def test_the_mfbm_report_as_json_carries_the_same_indices_and_the_footnote(year, world):
    response = world.client.get(f"/api/reports/mfbm?fiscal_year=2025&as_of={AS_OF}",
                                headers=world.budget_analyst.headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    details = {line["title"]: (line["spi"], line["cpi"]) for line in body["lines"] if line["kind"] == "detail"}

    assert details == {name: _endpoint(world, ppa) if name != "Sports Fest" else (None, None)
                       for name, ppa in year.items()}
    assert all(line["spi"] is None for line in body["lines"] if line["kind"] != "detail")
    assert body["as_of"] == AS_OF and body["note"].startswith("SPI and CPI:")
    assert body["lines"][-1]["kind"] == "total"
