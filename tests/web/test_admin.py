"""Administration pages without a browser: who may use them, and what a
password reset, a deactivation, a stale form and a token revocation do (issue 11)."""

from __future__ import annotations

import re

from sqlalchemy import select

from db import db
from db.models import ApiToken, User


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def test_only_administrators_open_the_admin_pages(app, world, browser_for):
    focal = browser_for(world.focal)
    for path in ("/admin/users", "/admin/users/new", "/admin/organizations"):
        response = focal.client.get(path)
        assert response.status_code == 403, path
        assert "managing users and organizations needs the role admin" in response.get_data(as_text=True)


def test_a_password_reset_ends_the_users_sessions(app, world, browser_for):
    admin, reviewer = browser_for(world.admin), browser_for(world.technical_reviewer)
    assert reviewer.client.get("/").status_code == 200
    path = f"/admin/users/{world.technical_reviewer.id}"
    response = admin.post_form(f"{path}/password", {"password": "a brand new password 42"}, page=path)
    assert response.status_code == 302
    assert reviewer.client.get("/").status_code == 302  # back to sign-in


def test_a_deactivated_user_is_signed_out_at_their_next_request(app, world, browser_for):
    admin, focal = browser_for(world.admin), browser_for(world.focal)
    world.admin  # noqa: B018 - the administrator exists
    path = f"/admin/users/{world.focal.id}"
    page = admin.client.get(path).get_data(as_text=True)
    version = re.search(r'id="version" name="version" type="hidden" value="([^"]+)"', page).group(1)
    response = admin.post_form(path, {"version": version.replace("&#34;", '"'), "organization": "MSSD",
                                      "roles": ["moa_focal"]})  # "active" unchecked
    assert response.status_code == 302, response.get_data(as_text=True)
    assert focal.client.get("/").status_code == 302


def test_a_user_form_saved_by_someone_else_first_is_refused_and_says_so(app, world, browser_for):
    admin = browser_for(world.admin)
    path = f"/admin/users/{world.focal.id}"
    response = admin.post_form(path, {"version": '"user-1-v0"', "organization": "MSSD", "roles": ["moa_focal"],
                                      "active": "y"})
    assert response.status_code == 412
    assert "Someone else saved a change" in response.get_data(as_text=True)


def test_an_administrator_revokes_a_users_api_tokens(app, world, browser_for):
    admin = browser_for(world.admin)
    focal = world.focal
    path = f"/admin/users/{focal.id}"
    response = admin.post_form(f"{path}/tokens/revoke", page=path)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(ApiToken.revoked_at).where(ApiToken.user_id == focal.id)).all() != [None]
    assert app.test_client().get("/api/monitoring-entries", headers=focal.headers).status_code == 401


def _organization_page(admin, path):
    page = admin.client.get(path).get_data(as_text=True)
    return page, re.search(r'id="version" name="version" type="hidden" value="([^"]+)"', page).group(1).replace(
        "&#34;", '"')


FORM = {"name": "Ministry of Social Services and Development", "department": "BARMM",
        "agency": "Ministry of Social Services and Development", "operating_unit": "Central Office",
        "uacs_code": "400010100001", "budget_officer_name": "JUANA CRUZ",
        "budget_officer_position": "Budget Officer IV", "chief_accountant_name": "PEDRO SANTOS",
        "chief_accountant_position": "Chief Accountant", "head_of_agency_name": "<b>AMINA</b>",
        "head_of_agency_position": "Minister"}


def test_an_administrator_sets_the_statement_header_and_signatories_on_the_organization_page(app, world, browser_for):
    from services import users

    world.org("MSSD")
    with app.app_context():
        path = f"/admin/organizations/{users.get_organization('MSSD').id}"
    admin = browser_for(world.admin)
    page, version = _organization_page(admin, path)
    assert "Statement header (FAR No. 1)" in page and 'name="budget_officer_position"' in page

    saved = admin.post_form(path, FORM | {"version": version})
    after = admin.client.get(path).get_data(as_text=True)

    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert 'value="Budget Officer IV"' in after and "&lt;b&gt;AMINA&lt;/b&gt;" in after and "<b>AMINA" not in after
    with app.app_context():
        assert users.get_organization("MSSD").signatory("head_of_agency") == ("<b>AMINA</b>", "Minister")
    assert browser_for(world.focal).client.get(path).status_code == 403


def test_a_bad_uacs_code_or_a_name_without_position_is_shown_next_to_its_field(app, world, browser_for):
    from services import users

    world.org("MSSD")
    with app.app_context():
        path = f"/admin/organizations/{users.get_organization('MSSD').id}"
    admin = browser_for(world.admin)
    _, version = _organization_page(admin, path)

    refused = admin.post_form(path, FORM | {"version": version, "uacs_code": "4000101",
                                            "chief_accountant_position": ""})
    page = refused.get_data(as_text=True)

    assert refused.status_code == 422
    assert re.search(r'id="uacs_code-error"[^>]*>[^<]*12 digits', page)
    assert re.search(r'id="chief_accountant_position-error"[^>]*>[^<]*give both the name and the position', page)
    with app.app_context():
        assert users.get_organization("MSSD").uacs_code is None
