"""Everything works with the keyboard alone (issue 11, WCAG 2.1.1)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from services import notifications


def test_a_reviewer_signs_in_and_acknowledges_an_alert_with_the_keyboard_alone(web, page):
    world = web.world
    world.ppa_in_stage_since("technical_review", title="Barangay Health Stations")
    with web.app.app_context():
        notifications.send_deadline_reminders()
    password = web.password(world.technical_reviewer)

    page.goto("/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(world.technical_reviewer.username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")

    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link: focus moves to the main content
    expect(page.locator("main")).to_be_focused()
    acknowledge = page.get_by_role("button", name=re.compile("^Acknowledge"))
    for _ in range(40):  # Tab through the page to the button
        page.keyboard.press("Tab")
        if acknowledge.evaluate("button => button === document.activeElement"):
            break
    expect(acknowledge).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Alerts", exact=True)).to_contain_text(
        f"acknowledged by {world.technical_reviewer.username}")
