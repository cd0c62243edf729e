"""Access in the browser is exactly the API's (issue 11)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def test_another_moas_ppa_is_a_404_page(web, page, check_page):
    world = web.world
    theirs = world.create_ppa(world.focal, title="MSSD only")
    mine = world.create_ppa(world.other_focal, title="MTIT road maintenance")

    sign_in(page, web, world.other_focal)
    response = page.goto(f"/ppas/{theirs['id']}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("main")).not_to_contain_text("MSSD only")
    check_page(page, "error page (404)")
    response = page.goto(f"/ppas/{mine['id']}")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("MTIT road maintenance")
    check_page(page, "/ppas/<id> (read-only)")
