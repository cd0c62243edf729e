"""The PPA pages in a real browser (issue 11): a PPA from creation through
review and revision, the Actions panel and its comment dialog, two people
editing one PPA, supporting documents, the list."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests import documents
from tests.browser.conftest import sign_in

NEW_TITLE = "Livelihood Starter Kits for Displaced Families"


def stage_of(web, ppa_id: int) -> str:
    return web.sql("SELECT approval_status FROM ppas WHERE id = :id", id=ppa_id).scalar_one()


def ppa_id_in(page) -> int:
    return int(re.search(r"/ppas/(\d+)", page.url).group(1))


def open_as(browser_context, web, person, path: str):
    """A page of ``browser_context``, signed in as ``person``, on ``path``."""
    page = browser_context.new_page()
    sign_in(page, web, person)
    page.goto(path)
    return page


def test_a_focal_person_creates_submits_gets_it_back_edits_and_resubmits(web, page, browser, check_page):
    world = web.world
    world.org("MSSD", "Ministry of Social Services and Development")
    sign_in(page, web, world.focal)
    page.get_by_role("link", name="PPAs", exact=True).click()
    page.get_by_role("link", name="New PPA").click()
    check_page(page, "/ppas/new")
    page.get_by_label("Title").fill(NEW_TITLE)
    page.get_by_label("Summary").fill("Starter kits for 200 displaced families in Marawi City.")
    page.get_by_label("Fiscal year").fill("2025")
    page.get_by_label("Budget allocation (PHP)").fill("2,500,000.50")
    page.get_by_label("Start date").fill("2025-03-03")
    page.get_by_label("Target end date").fill("2025-11-28")
    page.get_by_role("button", name="Create the draft").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(NEW_TITLE)
    expect(page.get_by_text("created as a draft")).to_be_visible()
    ppa_id = ppa_id_in(page)
    header = page.locator(".ppa-header")
    expect(header).to_contain_text("Draft")
    expect(header).to_contain_text("₱2,500,000.50")
    check_page(page, "/ppas/<id> (Details, draft)")
    page.get_by_role("complementary", name="Actions").get_by_role("button", name="Submit").click()
    expect(page.get_by_text(f"Submitted: PPA {ppa_id} is now in Technical review.")).to_be_visible()
    expect(page.get_by_role("button", name="Save the changes")).to_have_count(0)  # no longer editable

    reviewer_context = browser.new_context(viewport=page.viewport_size, base_url=web.base, timezone_id="Asia/Manila")
    reviewer = open_as(reviewer_context, web, world.technical_reviewer, f"/ppas/{ppa_id}")
    reviewer.get_by_role("button", name="Return for revision").click()
    dialog = reviewer.get_by_role("dialog")
    dialog.get_by_label("Comment").fill("Add the list of beneficiaries per barangay.")
    dialog.get_by_role("button", name="Return for revision").click()
    expect(reviewer.get_by_text(f"Returned for revision: PPA {ppa_id} is now in Draft.")).to_be_visible()
    reviewer_context.close()

    page.reload()
    expect(page.locator(".notice")).to_contain_text("Add the list of beneficiaries per barangay.")
    page.get_by_label("Budget allocation (PHP)").fill("2,750,000.00")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_text(f"PPA {ppa_id} saved.")).to_be_visible()
    expect(page.locator(".ppa-header")).to_contain_text("₱2,750,000.00")
    page.get_by_role("complementary", name="Actions").get_by_role("button", name="Submit").click()
    expect(page.locator(".ppa-header")).to_contain_text("Technical review")
    assert stage_of(web, ppa_id) == "technical_review"

    page.get_by_role("link", name="History").click()
    timeline = page.locator("ol.timeline")
    expect(timeline.locator(":scope > li")).to_have_count(5)  # created, submitted, returned, changed, submitted
    expect(timeline).to_contain_text("Budget allocation: ₱2,500,000.50")
    expect(timeline).to_contain_text("Add the list of beneficiaries per barangay.")
    check_page(page, "/ppas/<id>/history")


def test_a_technical_reviewer_approves_from_my_work_and_it_reaches_the_budget_analyst(web, page, browser, check_page):
    world = web.world
    ppa = world.create_ppa(title="Madrasah Teachers Training")
    world.fire(ppa["id"], "submit", world.focal)
    world.budget_analyst  # noqa: B018 - exists, so the approval notifies them

    sign_in(page, web, world.technical_reviewer)
    row = page.get_by_role("row", name=re.compile("Madrasah Teachers Training"))
    row.get_by_role("link", name="Approve").click()
    expect(page).to_have_url(re.compile(rf"/ppas/{ppa['id']}#actions$"))
    check_page(page, "/ppas/<id> (Details, reviewer)")
    page.get_by_role("complementary", name="Actions").get_by_role("button", name="Approve").click()
    expect(page.get_by_text(f"Approved: PPA {ppa['id']} is now in Budget review.")).to_be_visible()

    analyst_context = browser.new_context(viewport=page.viewport_size, base_url=web.base, timezone_id="Asia/Manila")
    analyst = analyst_context.new_page()
    sign_in(analyst, web, world.budget_analyst)
    waiting = analyst.get_by_role("region", name="Awaiting your review", exact=True)
    expect(waiting).to_contain_text("Madrasah Teachers Training")
    expect(analyst.get_by_role("link", name=re.compile("^Notifications")).locator(".count")).to_have_text("1")
    analyst_context.close()


def test_the_submitter_sees_approve_disabled_with_the_reason(web, page, check_page):
    world = web.world
    dual = world.person("mssd.dual", "moa_focal", "technical_reviewer", org="MSSD")
    ppa = world.create_ppa(dual, title="Solar Water Pumps")
    world.fire(ppa["id"], "submit", dual)

    sign_in(page, web, dual)
    page.goto(f"/ppas/{ppa['id']}")
    panel = page.get_by_role("complementary", name="Actions")
    approve = panel.get_by_role("button", name="Approve")
    expect(approve).to_be_disabled()
    expect(page.locator(f"#{approve.get_attribute('aria-describedby')}")).to_have_text(
        "You submitted this PPA, so you cannot approve it.")
    expect(panel.get_by_role("button", name="Enact")).to_be_disabled()
    expect(panel).to_contain_text("Cannot enact a PPA in technical review.")
    expect(panel.get_by_role("button", name="Reject")).to_be_enabled()
    check_page(page, "/ppas/<id> (Details, submitter)")


def test_reject_without_a_comment_is_impossible_in_the_browser_and_on_the_server(web, page, check_page):
    world = web.world
    ppa = world.create_ppa(title="Barangay Health Stations")
    world.fire(ppa["id"], "submit", world.focal)

    sign_in(page, web, world.technical_reviewer)
    page.goto(f"/ppas/{ppa['id']}")
    opener = page.get_by_role("complementary", name="Actions").get_by_role("button", name="Reject")
    opener.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    comment = dialog.get_by_label("Comment")
    expect(comment).to_be_focused()
    check_page(page, "/ppas/<id> (reject dialog)")
    dialog.get_by_role("button", name="Reject").click()
    assert comment.evaluate("field => field.validity.valueMissing")
    expect(dialog).to_be_visible()
    assert stage_of(web, ppa["id"]) == "technical_review"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    opener.click()
    comment.evaluate("field => field.removeAttribute('required')")  # as a script could
    comment.fill("   ")
    dialog.get_by_role("button", name="Reject").click()
    expect(page.locator("#comment-error")).to_contain_text("a comment is required to reject")
    expect(page.locator("#comment")).to_have_attribute("aria-invalid", "true")
    check_page(page, "/ppas/<id>/transitions (refused)")
    assert stage_of(web, ppa["id"]) == "technical_review"


def test_two_browsers_edit_the_same_ppa_and_the_second_is_told_who_saved_first(web, page, browser):
    world = web.world
    world.org("MSSD", "Ministry of Social Services and Development")
    colleague = world.person("mssd.colleague", "moa_focal", org="MSSD")
    ppa = world.create_ppa(title="Women Entrepreneurs Fund")
    other_context = browser.new_context(viewport=page.viewport_size, base_url=web.base, timezone_id="Asia/Manila")
    theirs = open_as(other_context, web, colleague, f"/ppas/{ppa['id']}")
    sign_in(page, web, world.focal)
    page.goto(f"/ppas/{ppa['id']}")

    theirs.get_by_label("Title").fill("Women Entrepreneurs Fund 2025")
    theirs.get_by_role("button", name="Save the changes").click()
    expect(theirs.get_by_text(f"PPA {ppa['id']} saved.")).to_be_visible()
    other_context.close()
    page.get_by_label("Title").fill("Fund for Women Entrepreneurs")
    page.get_by_label("Budget allocation (PHP)").fill("5,250,000.00")
    page.get_by_role("button", name="Save the changes").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("mssd.colleague saved this PPA at")
    expect(alert).to_contain_text("nothing of yours was saved")
    expect(page.get_by_label("Title")).to_have_value("Fund for Women Entrepreneurs")
    expect(page.get_by_label("Budget allocation (PHP)")).to_have_value("5,250,000.00")
    assert web.sql("SELECT title FROM ppas WHERE id = :id", id=ppa["id"]).scalar_one() == "Women Entrepreneurs Fund 2025"


def test_a_supporting_document_is_uploaded_and_downloaded_and_a_disguised_program_refused(web, page, check_page,
                                                                                          tmp_path):
    world = web.world
    ppa = world.create_ppa(title="Rural Health Unit Upgrading")
    content = documents.pdf("Rural health unit floor plan")
    sign_in(page, web, world.focal)
    page.goto(f"/ppas/{ppa['id']}")

    page.locator("input#file").set_input_files(
        {"name": "Floor plan.pdf", "mimeType": "application/pdf", "buffer": content})
    page.get_by_role("button", name="Attach the document").click()
    expect(page.get_by_text("Floor plan.pdf attached.")).to_be_visible()
    documents_list = page.get_by_role("region", name="Supporting documents list")
    expect(documents_list).to_contain_text("PDF")
    with page.expect_download() as download:
        documents_list.get_by_role("link", name="Floor plan.pdf").click()
    assert download.value.suggested_filename == "Floor plan.pdf"
    assert Path(download.value.path()).read_bytes() == content

    page.locator("input#file").set_input_files(
        {"name": "budget.pdf", "mimeType": "application/pdf", "buffer": documents.exe()})
    page.get_by_role("button", name="Attach the document").click()
    expect(page.locator("#file-error")).to_contain_text("a Windows program (exe), whatever its name says")
    expect(page.locator("input#file")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("region", name="Supporting documents list").get_by_role("row")).to_have_count(2)
    check_page(page, "/ppas/<id> (document refused)")
    assert web.sql("SELECT count(*) FROM attachments").scalar_one() == 1


def test_the_list_filters_sorts_and_exports(web, page, check_page):
    world = web.world
    world.create_ppa(title="Coconut Farmers Support", budget_allocation="3000000.00")
    world.create_ppa(title="Barangay Health Stations", budget_allocation="12500000.00")
    world.create_ppa(title="Solar Water Pumps", budget_allocation="800000.00", fiscal_year=2026)

    sign_in(page, web, world.focal)
    page.get_by_role("link", name="PPAs", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("PPAs")
    check_page(page, "/ppas")
    page.get_by_label("Fiscal year").fill("2025")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("2 PPAs · total budget ₱15,500,000.00")).to_be_visible()
    table = page.get_by_role("region", name="PPAs list")
    table.get_by_role("link", name=re.compile("^Budget")).click()
    expect(table.get_by_role("columnheader", name=re.compile("^Budget"))).to_have_attribute("aria-sort", "ascending")
    expect(table.get_by_role("row").nth(1)).to_contain_text("Coconut Farmers Support")
    table.get_by_role("link", name=re.compile("^Budget")).click()
    expect(table.get_by_role("row").nth(1)).to_contain_text("Barangay Health Stations")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export the 2 PPAs to Excel").click()
    assert download.value.suggested_filename == "ppaflow_PPAs.xlsx"
