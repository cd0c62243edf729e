"""Authentication (issue 10): the failed-authentication limit never locks
out a valid token, counts per real client address (``TRUSTED_PROXIES``),
and every refused token gets the same 401 detail."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from services import users
from services.access import Operator
from tests.support import World


@pytest.fixture
def strict(request, tmp_path):
    """An app allowing 3 failed authentications per address a minute,
    with ``TRUSTED_PROXIES`` from the test's parameter (default 0)."""
    from tests.conftest import _dispose, _make_app

    hops = getattr(request, "param", 0)
    application = _make_app("sqlite", request, tmp_path, FAILED_AUTH_LIMIT="3 per minute", TRUSTED_PROXIES=hops)
    yield application
    _dispose(application)


def made_up(world: World, n: int = 0, **headers):
    return world.client.get("/api/me", headers={"Authorization": f"Bearer ppa_made-up-{n}"} | headers)


def test_a_valid_token_is_never_refused_because_of_its_address(app, world):
    focal = world.focal
    flood = [made_up(world, n).status_code for n in range(61)]

    valid = world.client.get("/api/me", headers=focal.headers)
    still_refused = made_up(world, 99)

    assert flood[:60] == [401] * 60 and flood[60] == 429
    assert valid.status_code == 200 and valid.get_json()["username"] == "mssd.focal"
    assert still_refused.status_code == 429  # the address making up tokens is still slowed down


def test_only_failed_authentications_count_towards_the_limit(strict):
    world = World(strict)
    focal = world.focal

    valid = [world.client.get("/api/me", headers=focal.headers).status_code for _ in range(10)]
    failed = [made_up(world, n).status_code for n in range(4)]

    assert valid == [200] * 10
    assert failed == [401, 401, 401, 429]


def test_a_request_without_any_token_counts_as_a_failure(strict):
    world = World(strict)

    statuses = [world.client.get("/api/me").status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]


@pytest.mark.parametrize("strict", [1], indirect=True)
def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(strict):
    world = World(strict)
    alice, bob = {"X-Forwarded-For": "203.0.113.10"}, {"X-Forwarded-For": "198.51.100.20"}

    from_alice = [made_up(world, n, **alice).status_code for n in range(4)]
    from_bob = [made_up(world, n, **bob).status_code for n in range(3)]

    assert from_alice == [401, 401, 401, 429]
    assert from_bob == [401, 401, 401]  # the proxy's own address (127.0.0.1) is shared, the clients' are not


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_limit(strict):
    world = World(strict)

    statuses = [made_up(world, n, **{"X-Forwarded-For": f"192.0.2.{n}"}).status_code for n in range(4)]

    assert statuses == [401, 401, 401, 429]


def test_a_bad_limit_or_proxy_count_stops_the_app_with_a_clear_message(tmp_path):
    from web import create_app
    from web.config import ConfigurationError

    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(ConfigurationError, match="FAILED_AUTH_LIMIT"):
        create_app({"DATABASE_URL": url, "FAILED_AUTH_LIMIT": "lots"})
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXIES"):
        create_app({"DATABASE_URL": url, "TRUSTED_PROXIES": "two"})


def test_unknown_revoked_expired_and_deactivated_tokens_get_the_same_401(app, world, caplog):
    focal, other = world.focal, world.other_focal
    with app.app_context():
        expired = users.issue_token(focal.username, expires_in=timedelta(seconds=-1))
        revoked = users.issue_token(focal.username, name="laptop")
        users.revoke_tokens(focal.username, label="laptop")
        users.update_user(Operator(), other.id, {"active": False})

    with caplog.at_level(logging.INFO, logger="ppaflow.services"):
        answers = {reason: world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
                   for reason, token in [("unknown", "ppa_never-issued"), ("revoked", revoked),
                                         ("expired", expired), ("deactivated", other.token)]}

    assert {reason: (a.status_code, a.get_json()["detail"]) for reason, a in answers.items()} == {
        reason: (401, users.INVALID_TOKEN) for reason in answers}
    logged = caplog.text
    assert all(f"refused: {reason} token" in logged for reason in answers)  # the reason goes to the log
    assert revoked not in logged and expired not in logged  # never the token itself
