"""Users in the services and the database (issue 10): password checks
(argon2id, always a full check, rehash on new parameters), canonical names,
and the migration that makes existing names canonical."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from db import db
from db.migrate import head_revision, upgrade
from services import users
from services.access import Operator

PASSWORD = "a passphrase long enough"


def test_verify_password_accepts_only_the_active_users_own_password(app, world):
    world.focal  # noqa: B018
    with app.app_context():
        users.set_password("mssd.focal", PASSWORD)
        user = users.get_user("mssd.focal")

        assert users.verify_password(user, PASSWORD)
        assert users.verify_password(user, PASSWORD.upper()) is False
        assert users.verify_password(None, PASSWORD) is False  # unknown user
        assert users.verify_password(users.get_user_or_raise(world.other_focal.username), PASSWORD) is False  # none


def test_verify_password_runs_a_full_check_whoever_is_asked_for(app, world, monkeypatch):
    world.focal, world.other_focal  # noqa: B018
    checks = []

    class Counting(PasswordHasher):
        def verify(self, stored, given):
            checks.append(stored)
            return super().verify(stored, given)

    monkeypatch.setattr(users, "_PASSWORDS", Counting())
    with app.app_context():
        users.set_password("mssd.focal", PASSWORD)
        users.update_user(Operator(), users.get_user("mssd.focal").id, {"active": False})

        answers = [users.verify_password(users.get_user(name), PASSWORD)
                   for name in ("mssd.focal", "mtit.focal", "nobody")]  # deactivated, no password, unknown

    assert answers == [False, False, False]
    assert len(checks) == 3 and all(stored.startswith("$argon2id$") for stored in checks)


def test_a_hash_with_old_parameters_is_replaced_at_the_next_good_check(app, world):
    world.focal  # noqa: B018
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE users SET password_hash = :h WHERE username = 'mssd.focal'"), {"h": weak})
        user = users.get_user("mssd.focal")

        assert users.verify_password(user, "not it") is False and user.password_hash == weak
        assert users.verify_password(user, PASSWORD)
        stored = db.session.scalar(text("SELECT password_hash FROM users WHERE username = 'mssd.focal'"))

    assert stored != weak and not users._PASSWORDS.check_needs_rehash(stored)
    assert users._PASSWORDS.verify(stored, PASSWORD)


@pytest.mark.parametrize("typed, canonical", [
    ("Admin", "admin"), ("ＡＤＭＩＮ", "admin"), ("Straße", "strasse"), ("mssd.fo\u00adcal", "mssd.focal"),
])
def test_usernames_are_found_as_typed_in_any_case_or_width(app, world, typed, canonical):
    world.person(canonical, "executive")
    with app.app_context():
        assert users.get_user(typed).username == canonical


def _database_at_0005(tmp_path, names):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0005")
    with engine.begin() as connection:
        for name in names:
            connection.execute(text("INSERT INTO users (username, full_name, is_active, created_at) "
                                    "VALUES (:n, :n, 1, CURRENT_TIMESTAMP)"), {"n": name})
    return engine


def test_the_migration_makes_existing_usernames_canonical(tmp_path):
    engine = _database_at_0005(tmp_path, ["Admin", "MSSD.Focal"])

    upgrade(engine)

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT username, username_skeleton, version FROM users ORDER BY id")).all()
    assert [(r.username, r.username_skeleton, r.version) for r in rows] == [
        ("admin", users.username_skeleton("admin"), 1), ("mssd.focal", users.username_skeleton("mssd.focal"), 1)]


def test_the_migration_stops_on_look_alike_existing_names_and_changes_nothing(tmp_path):
    engine = _database_at_0005(tmp_path, ["admin", "adrnin", "bob"])

    with pytest.raises(RuntimeError, match="'admin' and 'adrnin'"):
        upgrade(engine)

    with engine.begin() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
        connection.execute(text("UPDATE users SET username = 'root' WHERE username = 'adrnin'"))
    assert upgrade(engine) == ("0005", head_revision())  # once renamed, the upgrade goes through
