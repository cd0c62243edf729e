"""``/reports`` without a browser (issue 11): a small report downloads at
once, a large one runs as a job whose page is polled until it ends; a MOA
focal person reports on their own MOA only."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from db import db
from db.models import User
from services import job_records, reports
from services.unit_of_work import transaction
from tests.support import Chain

REPORT = {"report": "mfbm", "fiscal_year": "2025", "moa": ""}


def titles_of(response) -> list[str]:
    """The title rows of the main sheet, then the PPA titles of every sheet (the MFBM report's
    "Pipeline" sheet included)."""
    book = load_workbook(io.BytesIO(response.get_data()))
    return [book.worksheets[0].cell(row, 1).value for row in range(1, 7)] + [
        cell.value for sheet in book.worksheets for cell in sheet["B"]]


def test_a_small_report_downloads_at_once_and_a_focal_person_gets_their_moa(world, browser_for):
    Chain(world)
    world.create_ppa(world.other_focal, title="MTIT road maintenance")
    focal, analyst = browser_for(world.focal), browser_for(world.budget_analyst)

    own = focal.post_form("/reports", REPORT | {"moa": "MSSD"})
    everything = analyst.post_form("/reports", REPORT)
    other_moa = focal.post_form("/reports", REPORT | {"moa": "MTIT"})

    assert own.status_code == 200 and "MFBM_Budget_Execution_FY2025_MSSD.xlsx" in own.headers["Content-Disposition"]
    assert "MTIT road maintenance" not in titles_of(own) and titles_of(own)[4].startswith("MSSD — ")
    assert "MTIT road maintenance" in titles_of(everything)
    assert other_moa.status_code == 404
    assert 'value="MTIT"' not in focal.client.get("/reports").get_data(as_text=True)


def test_the_far1_statement_downloads_too(world, browser_for):
    Chain(world)

    response = browser_for(world.budget_analyst).post_form("/reports", REPORT | {"report": "far1"})

    assert response.status_code == 200 and "FAR1_Statement_FY2025.xlsx" in response.headers["Content-Disposition"]


def test_a_report_can_be_asked_for_as_a_pdf_to_print(world, browser_for):
    Chain(world)

    response = browser_for(world.budget_analyst).post_form("/reports", REPORT | {"file_format": "pdf"})

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "MFBM_Budget_Execution_FY2025.pdf" in response.headers["Content-Disposition"]
    assert response.get_data().startswith(b"%PDF-")


def test_a_report_in_the_background_is_followed_on_its_page_until_the_download(world, browser_for):
    Chain(world)
    analyst = browser_for(world.budget_analyst)

    requested = analyst.post_form("/reports", REPORT | {"background": "y"})
    job_page = analyst.client.get(requested.headers["Location"])
    poll = analyst.client.get(requested.headers["Location"], headers={"HX-Request": "true"})
    link = re.search(r'href="(/reports/files/[0-9a-f]+)"', job_page.get_data(as_text=True)).group(1)

    assert requested.status_code == 302 and "/reports/jobs/" in requested.headers["Location"]
    assert "Ready" in job_page.get_data(as_text=True) and "hx-trigger" not in job_page.get_data(as_text=True)
    assert poll.status_code == 286  # htmx stops polling
    assert "MFBM_Budget_Execution_FY2025.xlsx" in analyst.client.get(link).headers["Content-Disposition"]
    assert browser_for(world.focal).client.get(link).status_code == 404  # a report job is its requester's
    assert "MFBM Budget Execution Report, FY 2025, all MOAs" in analyst.client.get("/reports").get_data(as_text=True)


def test_a_waiting_job_is_polled_with_a_progress_indicator(world, browser_for, app):
    analyst = browser_for(world.budget_analyst)
    with app.app_context():
        with transaction():
            record = job_records.new_record("a" * 32, "generate_report", {"report": "mfbm"},
                                            db.session.get(User, world.budget_analyst.id))
        job_id = record.id

    page = analyst.client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    poll = analyst.client.get(f"/reports/jobs/{job_id}", headers={"HX-Request": "true"})
    early = analyst.client.get(f"/reports/files/{job_id}")

    assert 'hx-trigger="every 1s"' in page and "<progress aria-label" in page and "Waiting for its turn" in page
    assert poll.status_code == 200 and "Waiting for its turn" in poll.get_data(as_text=True)
    assert early.status_code == 409 and "has not produced a report" in early.get_data(as_text=True)


def test_a_year_too_large_to_build_at_once_runs_as_a_job_without_asking(world, browser_for, monkeypatch):
    Chain(world)
    monkeypatch.setattr(reports, "INLINE_LIMIT", 0)  # one PPA is already "large"
    analyst = browser_for(world.budget_analyst)

    requested = analyst.post_form("/reports", REPORT)

    assert requested.status_code == 302 and "/reports/jobs/" in requested.headers["Location"]
    assert browser_for(world.technical_reviewer).client.get(requested.headers["Location"]).status_code == 404


# -- issue 13 item 7: every report, a statement's quarter and fund cluster, a preview, filed or interim ---------------

def test_every_report_is_offered_and_a_statement_comes_for_the_quarter_and_fund_cluster_chosen(world, browser_for):
    Chain(world)
    analyst = browser_for(world.budget_analyst)

    page = analyst.client.get("/reports").get_data(as_text=True)
    response = analyst.post_form("/reports", REPORT | {"report": "far1", "quarter": "1", "fund_cluster": "01"})

    assert all(f'value="{name}"' in page for name in reports.REPORT_KINDS)
    assert 'name="quarter"' in page and 'name="fund_cluster"' in page
    assert "FAR1_Statement_FY2025_Q1_FC01.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    assert sheet.title == "FC 01 Q1 2025" and sheet.cell(3, 1).value == "For the quarter ending March 31, 2025"


def test_the_preview_shows_the_first_page_and_says_interim_until_the_quarter_is_closed_then_filed(world, browser_for):
    from tests.web.test_period_close_page import sign_close

    Chain(world)
    focal = browser_for(world.focal)
    choice = "report=far1&fiscal_year=2025&moa=MSSD&quarter=1&fund_cluster=&file_format=pdf"

    interim = focal.client.get(f"/reports/preview?{choice}").get_data(as_text=True)
    image = focal.client.get(f"/reports/preview.png?{choice}")
    for signer in (world.budget_officer, world.chief_accountant):
        assert sign_close(browser_for(signer), 1).status_code == 302
    filed = focal.client.get(f"/reports/preview?{choice}").get_data(as_text=True)
    workbook = focal.post_form("/reports", REPORT | {"report": "far1", "moa": "MSSD", "quarter": "1"})
    wrong = focal.client.get("/reports/preview?report=far1&fiscal_year=1800")

    assert "Interim — not for filing" in interim and 'src="/reports/preview.png?' in interim
    assert image.status_code == 200 and image.mimetype == "image/png" and image.get_data().startswith(b"\x89PNG")
    assert "Filed copy" in filed and "March 31, 2025" in filed
    assert load_workbook(io.BytesIO(workbook.get_data())).worksheets[0].protection.sheet is True
    assert wrong.status_code == 422 and "Fiscal year" in wrong.get_data(as_text=True)
