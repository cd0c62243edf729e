"""Sign-in, sign-out, wrong passwords and CSRF in a real browser (issue 11)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from services import notifications
from tests.browser.conftest import sign_in


def test_a_reviewer_signs_in_and_out(web, page, check_page):
    reviewer = web.world.technical_reviewer
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    check_page(page, "/login")
    sign_in(page, web, reviewer, path=None)
    expect(page).to_have_url(web.url("/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    expect(page.get_by_text("Signed in as")).to_contain_text(reviewer.username)
    page.get_by_role("button", name=re.compile("^Sign out")).click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/alerts")
    expect(page).to_have_url(re.compile(r"/login\?next=/alerts$"))


def test_a_wrong_password_is_shown_next_to_the_password_field(web, page, check_page):
    reviewer = web.world.technical_reviewer
    web.password(reviewer)
    sign_in(page, web, reviewer, "not the password")
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-error")).to_have_text("Wrong username or password.")
    expect(password).to_have_attribute("aria-describedby", "password-error")
    expect(page.get_by_label("Username")).to_have_value(reviewer.username)
    expect(password).to_have_value("")
    check_page(page, "/login (wrong password)")
    page.goto("/")
    expect(page).to_have_url(re.compile("/login"))


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(web, page, check_page):
    world = web.world
    reviewer = world.technical_reviewer
    ppa = world.ppa_in_stage_since("technical_review")
    with web.app.app_context():
        notifications.send_deadline_reminders()  # opens an approval_overdue alert on the PPA
    sign_in(page, web, reviewer)
    page.goto("/alerts")
    expect(page.get_by_role("button", name=re.compile("^Acknowledge"))).to_be_visible()
    # The same form as the Acknowledge button's, posted without its token.
    page.evaluate("""url => { const form = document.createElement('form');
                              form.method = 'post'; form.action = url; document.body.append(form); form.submit(); }""",
                  "/alerts/1/acknowledge")
    expect(page.get_by_role("heading", level=1)).to_have_text("Form refused")
    expect(page.get_by_text("Nothing was saved")).to_be_visible()
    check_page(page, "error page (400, CSRF)")
    acknowledged = web.sql("SELECT acknowledged_at FROM alerts WHERE ppa_id = :id", id=ppa["id"]).scalar_one()
    assert acknowledged is None
