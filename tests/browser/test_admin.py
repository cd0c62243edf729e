"""Administration in a real browser: users and organizations, refused forms,
and a form that survives the end of its session (issue 11)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

NEW_PASSWORD = "sampaguita under the rain 2026"


def _fill_new_user(page) -> None:
    page.get_by_label("Username").fill("mssd.budget")
    page.get_by_label("Full name").fill("Norjana Ali (MSSD budget officer)")
    page.get_by_label("Organization").select_option("MSSD")
    page.get_by_label(re.compile("moa_focal")).check()


def test_an_administrator_creates_a_user_who_can_then_sign_in(web, page, check_page):
    world = web.world
    world.org("MSSD", "Ministry of Social Services and Development")
    sign_in(page, web, world.admin)
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    check_page(page, "/admin/users")
    page.get_by_role("link", name="New user").click()
    check_page(page, "/admin/users/new")
    _fill_new_user(page)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("User mssd.budget created")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("mssd.budget")
    check_page(page, "/admin/users/<id>")
    page.get_by_role("button", name=re.compile("^Sign out")).click()

    page.get_by_label("Username").fill("mssd.budget")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    expect(page.get_by_text("Signed in as")).to_contain_text("mssd.budget, MSSD")


def test_a_refused_user_form_shows_each_message_next_to_its_field_and_saves_nothing(web, page, check_page):
    world = web.world
    world.org("MSSD", "Ministry of Social Services and Development")
    sign_in(page, web, world.admin)
    page.goto("/admin/users/new")
    _fill_new_user(page)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#password-error")).to_contain_text("12")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Username")).to_have_value("mssd.budget")
    expect(page.get_by_label(re.compile("moa_focal"))).to_be_checked()
    check_page(page, "/admin/users/new (refused)")
    assert web.sql("SELECT count(*) FROM users WHERE username = 'mssd.budget'").scalar_one() == 0


def test_an_expired_session_returns_to_sign_in_and_back_to_the_form_with_the_input_kept(web, page):
    world = web.world
    world.org("MSSD", "Ministry of Social Services and Development")
    password = web.password(world.admin)
    sign_in(page, web, world.admin, password)
    page.goto("/admin/users/new")
    _fill_new_user(page)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    web.sql("UPDATE web_sessions SET expires_at = now() - interval '1 minute'"
            if web.app.config["BACKEND"] == "postgresql"
            else "UPDATE web_sessions SET expires_at = datetime('now', '-1 minute')")
    page.get_by_role("button", name="Create user").click()

    expect(page).to_have_url(re.compile(r"/login\?next=/admin/users/new"))
    expect(page.get_by_text("Your session ended")).to_be_visible()
    sign_in(page, web, world.admin, password, path=None)
    expect(page).to_have_url(web.url("/admin/users/new"))
    expect(page.get_by_label("Username")).to_have_value("mssd.budget")
    expect(page.get_by_label("Full name")).to_have_value("Norjana Ali (MSSD budget officer)")
    expect(page.get_by_label("Organization")).to_have_value("MSSD")
    expect(page.get_by_label(re.compile("moa_focal"))).to_be_checked()
    expect(page.get_by_label("Password")).to_have_value("")  # never kept
    assert web.sql("SELECT count(*) FROM users WHERE username = 'mssd.budget'").scalar_one() == 0
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("User mssd.budget created")).to_be_visible()


def test_an_administrator_adds_an_organization(web, page, check_page):
    world = web.world
    sign_in(page, web, world.admin)
    page.goto("/admin/organizations")
    page.get_by_role("textbox", name="Code", exact=True).fill("MOST")
    page.get_by_label("Official name").fill("Ministry of Science and Technology")
    page.get_by_role("button", name="Add organization").click()
    expect(page.get_by_text("Organization MOST added.")).to_be_visible()
    expect(page.get_by_role("region", name="Organizations", exact=True)).to_contain_text(
        "Ministry of Science and Technology")
    check_page(page, "/admin/organizations")
