"""Budget scenarios in a real browser (issue 16 item 1, docs/design.md §17
"In the web app"): an MFBM analyst copies the enacted year, cuts a copy,
lets the optimiser answer in place (HTMX), compares the three with the
differences highlighted and downloads the comparison."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.support import Chain


def test_an_analyst_builds_scenarios_lets_the_optimiser_propose_and_compares_three(web, page, check_page):
    world = web.world
    Chain(world)  # FY2025: one enacted PPA appropriated PHP 5,000,000.00
    sign_in(page, web, world.budget_analyst)
    page.get_by_role("link", name="Scenarios").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget scenarios")
    check_page(page, "/scenarios")

    page.get_by_label("Fiscal year to copy").fill("2025")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enacted FY 2025")
    page.get_by_role("link", name="Budget scenarios").click()
    page.get_by_label("Fiscal year to copy").fill("2025")
    page.get_by_label("Name", exact=True).fill("Austerity")
    page.get_by_label("Mark it as the baseline").uncheck()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Austerity")

    page.get_by_label("Adjust", exact=True).select_option("moa")
    page.get_by_label("Which one").fill("MSSD")
    page.get_by_label("By percent").fill("-10")
    page.get_by_role("button", name="Adjust", exact=True).click()
    expect(page.get_by_role("region", name="Table of allocations")).to_contain_text("₱4,500,000.00")
    check_page(page, "/scenarios/<id>")

    page.get_by_label("Name of the proposal").fill("Optimised")
    page.get_by_role("button", name="Propose").click()
    answer = page.locator("#optimiser-answer")
    expect(answer).to_contain_text("Gap of the greedy estimate")
    expect(answer.get_by_role("link", name="Optimised")).to_be_visible()

    page.get_by_role("link", name="Budget scenarios").first.click()
    for name in ("Enacted FY 2025", "Austerity", "Optimised"):
        page.get_by_label(f"Compare {name}").check()
    page.get_by_role("button", name="Compare the chosen scenarios").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Scenarios compared")
    expect(page.locator("mark").first).to_be_visible()  # a difference from the first, highlighted
    check_page(page, "/scenarios/compare")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel workbook (.xlsx)").click()

    sheet = load_workbook(BytesIO(Path(download.value.path()).read_bytes())).active
    assert [c.value for c in sheet[3]][2:5] == ["Optimised", "Austerity", "Enacted FY 2025"]
