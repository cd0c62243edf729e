"""Reports in a real browser (issue 11): a small report downloads at once; a
report run as a job shows its progress, polled from the job record, until
its download link appears."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from db import db
from db.models import User
from jobs.runner import run_job
from services.reports import REPORTS
from services import job_records
from services.unit_of_work import transaction
from tests.browser.conftest import sign_in
from tests.support import Chain


def test_a_report_is_downloaded(web, page, check_page):
    world = web.world
    Chain(world)
    sign_in(page, web, world.budget_analyst)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    check_page(page, "/reports")
    page.get_by_label(REPORTS["far1"].title, exact=True).check()
    page.get_by_label("Fiscal year").fill("2025")
    with page.expect_download() as download:
        page.get_by_role("button", name="Get the report").click()

    assert download.value.suggested_filename == "FAR1_Statement_FY2025.xlsx"
    sheet = load_workbook(BytesIO(Path(download.value.path()).read_bytes())).active
    assert any("FAR No. 1" in str(sheet.cell(row, 1).value) for row in range(1, 8))


def test_a_report_run_as_a_job_shows_its_progress_then_its_download(web, page, check_page):
    world = web.world
    Chain(world)
    analyst = world.budget_analyst
    with web.app.app_context(), transaction():  # a job waiting for a worker, as with Redis
        job_id = job_records.new_record("b" * 32, "generate_report", {
            "report": "mfbm", "fiscal_year": 2025, "moa": None, "user_id": analyst.id,
            "output": "browser-test.xlsx"}, db.session.get(User, analyst.id)).id

    sign_in(page, web, analyst)
    page.goto(f"/reports/jobs/{job_id}")
    status = page.get_by_role("status")
    expect(status).to_contain_text("Waiting for its turn")
    expect(status.get_by_role("progressbar")).to_be_visible()
    check_page(page, "/reports/jobs/<id> (waiting)")
    with web.app.app_context():
        run_job(job_id)  # a worker takes it; the page learns it by polling

    link = status.get_by_role("link", name="Download the workbook")
    expect(link).to_be_visible(timeout=5000)
    expect(status).to_contain_text("Ready: 1 row.")
    check_page(page, "/reports/jobs/<id> (ready)")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "MFBM_Budget_Execution_FY2025.xlsx"
    page.goto("/reports")
    expect(page.get_by_role("region", name="Your reports prepared in the background")).to_contain_text("finished")
