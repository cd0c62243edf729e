"""My work in a real browser: what waits for a reviewer and for a focal
person, and the closed actions saying why (issue 11)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def test_my_work_shows_a_technical_reviewer_the_ppas_waiting_for_technical_review(web, page, check_page):
    world = web.world
    waiting = world.create_ppa(title="Madrasah Teachers Training")
    world.fire(waiting["id"], "submit", world.focal)
    world.ppa_in_stage_since("technical_review", title="Barangay Health Stations")
    world.create_ppa(title="Still a draft")
    further = world.create_ppa(title="Already in budget review")
    world.advance(further["id"], "budget_review")

    sign_in(page, web, world.technical_reviewer)
    section = page.get_by_role("region", name="Awaiting your review", exact=True)
    expect(section.get_by_role("row")).to_have_count(3)  # the header and two PPAs
    expect(section).to_contain_text("Madrasah Teachers Training")
    expect(section).not_to_contain_text("Still a draft")
    expect(section).not_to_contain_text("Already in budget review")
    late = section.get_by_role("row", name=re.compile("Barangay Health Stations"))
    expect(late).to_contain_text("23 Jun 2025")  # ten business days after 5 June 2025 (holidays skipped)
    expect(late.locator("mark.overdue")).to_contain_text("Overdue by")
    expect(late.get_by_role("link", name="Approve")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^My work")).locator(".count")).to_have_text("2")
    check_page(page, "/ (My work, reviewer)")


def test_my_work_shows_a_focal_person_their_drafts_and_the_ppas_returned_for_revision(web, page, check_page):
    world = web.world
    draft = world.create_ppa(title="Livelihood Starter Kits")
    returned = world.create_ppa(title="Women Entrepreneurs Fund")
    world.advance(returned["id"], "technical_review")
    assert world.fire(returned["id"], "return_for_revision", world.technical_reviewer,
                      comment="Add the list of beneficiaries per municipality").status_code == 200
    in_review = world.create_ppa(title="Submitted and waiting")
    world.advance(in_review["id"], "technical_review")
    world.create_ppa(world.other_focal, title="Another MOA's draft")

    sign_in(page, web, world.focal)
    returned_section = page.get_by_role("region", name="Returned for revision", exact=True)
    expect(returned_section).to_contain_text("Women Entrepreneurs Fund")
    expect(returned_section).to_contain_text("Add the list of beneficiaries per municipality")
    expect(returned_section.get_by_role("link", name="Submit")).to_be_visible()
    drafts = page.get_by_role("region", name="Drafts of your MOA", exact=True)
    expect(drafts).to_contain_text("Livelihood Starter Kits")
    expect(drafts).to_contain_text("₱5,000,000.00")
    main = page.get_by_role("main")
    expect(main).not_to_contain_text("Submitted and waiting")
    expect(main).not_to_contain_text("Another MOA's draft")
    assert draft["id"] != returned["id"]
    check_page(page, "/ (My work, focal person)")


def test_the_submitter_sees_approve_closed_with_the_reason(web, page, check_page):
    world = web.world
    dual = world.person("mssd.dual", "moa_focal", "technical_reviewer", org="MSSD")
    ppa = world.create_ppa(dual, title="Solar Water Pumps")
    assert world.fire(ppa["id"], "submit", dual).status_code == 200

    sign_in(page, web, dual)
    row = page.get_by_role("row", name=re.compile("Solar Water Pumps"))
    approve = row.get_by_role("button", name="Approve")
    expect(approve).to_be_disabled()
    expect(row).to_contain_text("You submitted this PPA, so you cannot approve it")
    reason_id = approve.get_attribute("aria-describedby")
    expect(page.locator(f"#{reason_id}")).to_contain_text("you cannot approve it")
    expect(row.get_by_role("link", name="Reject")).to_be_visible()
    check_page(page, "/ (My work, submitter)")
