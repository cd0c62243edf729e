"""Alerts and notifications in a real browser (issue 11)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from services import notifications
from tests.browser.conftest import sign_in


def test_a_reviewer_acknowledges_an_alert(web, page, check_page):
    world = web.world
    ppa = world.ppa_in_stage_since("technical_review", title="Barangay Health Stations")
    with web.app.app_context():
        notifications.send_deadline_reminders()
    reviewer = world.technical_reviewer

    sign_in(page, web, reviewer)
    alerts = page.get_by_role("region", name="Alerts", exact=True)
    expect(alerts).to_contain_text("Technical review of 'Barangay Health Stations'")
    page.get_by_role("link", name=re.compile("^Alerts")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    check_page(page, "/alerts")
    row = page.locator("#alert-1")
    row.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(row).to_contain_text(f"acknowledged by {reviewer.username}")
    assert web.sql("SELECT acknowledged_by_id FROM alerts WHERE ppa_id = :id", id=ppa["id"]).scalar_one() == reviewer.id
    page.get_by_label("Status").select_option("resolved")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No alerts match these filters.")).to_be_visible()


def test_a_reviewer_reads_a_reminder_and_marks_it_read(web, page, check_page):
    world = web.world
    world.ppa_in_stage_since("technical_review", title="Barangay Health Stations")
    with web.app.app_context():
        notifications.send_deadline_reminders()

    sign_in(page, web, world.technical_reviewer)
    nav_link = page.get_by_role("link", name=re.compile("^Notifications"))
    expect(nav_link.locator(".count")).to_have_text("2")  # the reminder and the notice of the submission
    nav_link.click()
    note = page.locator("li.notification").first
    expect(note).to_contain_text("Technical review of PPA 1")
    check_page(page, "/notifications")
    note.get_by_role("button", name=re.compile("^Mark read")).click()
    expect(note.locator(".badge")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("link", name=re.compile("^Notifications")).locator(".count")).to_have_text("1")
