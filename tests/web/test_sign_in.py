"""Sign-in, sessions and CSRF of the web app, without a browser (issue 11)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from db import db
from db.models import WebSession
from db.types import utcnow
from tests.web.conftest import PASSWORD, Browser, csrf_token
from web import create_app


def _sessions(app) -> list[WebSession]:
    with app.app_context():
        return list(db.session.scalars(select(WebSession)))


def test_the_session_cookie_is_httponly_and_samesite_lax(app, world, browser_for):
    browser = browser_for(world.technical_reviewer)
    cookie = browser.client.get_cookie("ppaflow_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure


def test_the_session_cookie_is_secure_when_configured(app):
    secure = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SESSION_COOKIE_SECURE": "1",
                         "TESTING": True})
    response = secure.test_client().get("/login", base_url="https://ppaflow.example")
    assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


def test_the_session_is_kept_on_the_server_and_the_cookie_holds_only_its_id(app, world, browser_for):
    reviewer = world.technical_reviewer
    browser = browser_for(reviewer)
    sid = browser.client.get_cookie("ppaflow_session").value
    rows = _sessions(app)
    assert [(row.session_id, row.user_id) for row in rows] == [(sid, reviewer.id)]
    assert len(sid) >= 40 and "." not in sid  # a random id, not signed data
    assert b"_user_id" in rows[0].data


def test_signing_in_gives_a_new_session_id(app, world):
    from services import users

    with app.app_context():
        users.set_password(world.focal.username, PASSWORD)
    browser = Browser(app)
    browser.client.get("/login")
    before = browser.client.get_cookie("ppaflow_session").value
    assert browser.sign_in(world.focal.username).status_code == 302
    assert browser.client.get_cookie("ppaflow_session").value != before
    assert before not in {row.session_id for row in _sessions(app)}


def test_a_session_idle_longer_than_the_timeout_is_over(app, world, browser_for):
    browser = browser_for(world.technical_reviewer)
    assert browser.client.get("/").status_code == 200
    expires = _sessions(app)[0].expires_at
    assert timedelta(minutes=29) < expires - utcnow() <= timedelta(minutes=30)
    with app.app_context():
        db.session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = browser.client.get("/alerts")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/alerts"


def test_signing_out_ends_the_session_on_the_server(app, world, browser_for):
    browser = browser_for(world.technical_reviewer)
    assert browser.post_form("/logout", page="/").status_code == 302
    assert all(row.user_id is None for row in _sessions(app))
    assert browser.client.get("/").status_code == 302


def test_failed_sign_ins_are_limited_per_username_and_address_without_locking_out_others(app, world):
    from services import users

    focal, reviewer = world.focal, world.technical_reviewer
    with app.app_context():
        users.set_password(focal.username, PASSWORD)
        users.set_password(reviewer.username, PASSWORD)
    attacker = Browser(app, "203.0.113.7")
    for _ in range(5):
        assert attacker.sign_in(focal.username, "guess").status_code == 401
    refused = attacker.sign_in(focal.username)  # even the right password, from this address
    assert refused.status_code == 429
    assert "Too many failed sign-ins for this username" in refused.get_data(as_text=True)
    # The owner, from their own address, and another user, from the attacker's, are not locked out.
    assert Browser(app, "198.51.100.20").sign_in(focal.username).status_code == 302
    assert Browser(app, "203.0.113.7").sign_in(reviewer.username).status_code == 302


def test_failed_sign_ins_are_limited_per_address_across_usernames(app, world):
    spray = Browser(app, "203.0.113.8")
    for number in range(20):
        assert spray.sign_in(f"user{number}", "guess").status_code == 401
    assert spray.sign_in("someone.else", "guess").status_code == 429
    assert Browser(app, "198.51.100.21").sign_in("someone.else", "guess").status_code == 401


def test_a_form_without_its_csrf_token_is_refused(app, world, browser_for):
    browser = browser_for(world.technical_reviewer)
    response = browser.client.post("/notifications/read-all")
    assert response.status_code == 400
    assert "Form refused" in response.get_data(as_text=True)


def test_the_sign_in_form_needs_its_csrf_token(app, world):
    from services import users

    with app.app_context():
        users.set_password(world.focal.username, PASSWORD)
    client = app.test_client()
    response = client.post("/login", data={"username": world.focal.username, "password": PASSWORD})
    assert response.status_code == 400


def test_the_api_takes_bearer_tokens_without_csrf_and_sets_no_session(app, world):
    response = app.test_client().post("/api/monitoring-entries", headers=world.focal.headers,
                                      json={"title": "x", "category": "moa_ppa", "fiscal_year": 2025})
    assert response.status_code in (201, 422)
    assert "Set-Cookie" not in response.headers
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_a_form_posted_after_the_session_ended_is_kept_for_after_sign_in(app, world, browser_for):
    browser = browser_for(world.technical_reviewer)
    token = csrf_token(browser.client, "/alerts")
    with app.app_context():
        db.session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = browser.client.post("/notifications/read-all", data={"csrf_token": token, "note": "kept"},
                                   headers={"Origin": "http://localhost", "Referer": "http://localhost/alerts?status=open"})
    assert response.status_code == 302
    login = response.headers["Location"]
    assert login.startswith("/login?next=/alerts")
    assert "Your session ended" in browser.client.get(login).get_data(as_text=True)
    assert any(b"kept" in row.data for row in _sessions(app))  # the form, never its token
    signed_in = browser.sign_in(world.technical_reviewer.username, path=login)
    assert signed_in.headers["Location"] == "/alerts?status=open"


def test_behind_a_trusted_proxy_failed_sign_ins_count_per_forwarded_client_address(app, world):
    from services import users

    proxied = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "TRUSTED_PROXIES": "1", "TESTING": True,
                          "REDIS_URL": None})
    with proxied.app_context():
        users.set_password(world.focal.username, PASSWORD)
    attacker, owner = Browser(proxied, "10.0.0.2"), Browser(proxied, "10.0.0.2")  # both behind the same proxy
    attacker.client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.50"
    owner.client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.60"
    for _ in range(5):
        assert attacker.sign_in(world.focal.username, "guess").status_code == 401
    assert attacker.sign_in(world.focal.username).status_code == 429
    assert owner.sign_in(world.focal.username).status_code == 302
