"""Schema and database-level guarantees on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from db import db
from db.migrate import head_revision, upgrade


def test_init_db_is_idempotent_and_at_head(app):
    with app.app_context():
        before, after = upgrade(db.engine)
        tables = set(inspect(db.engine).get_table_names())

    assert before == after == head_revision()
    assert {"ppas", "work_items", "ppa_transitions", "users", "api_tokens", "organizations"} <= tables


def test_approval_history_is_append_only_in_the_database(app, world):
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)

    with app.app_context():
        for statement in ("UPDATE ppa_transitions SET comment = 'rewritten'", "DELETE FROM ppa_transitions"):
            with pytest.raises(DBAPIError, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text(statement))
        count = db.session.scalar(text("SELECT count(*) FROM ppa_transitions"))
    assert count == 1


@pytest.mark.parametrize("column, value", [("budget_allocation", -1), ("progress", 101),
                                           ("category", "'ministry'")])
def test_database_refuses_out_of_range_ppa_values(app, world, column, value):
    ppa = world.create_ppa()

    with app.app_context(), pytest.raises(IntegrityError):
        with db.engine.begin() as connection:
            connection.execute(text(f"UPDATE ppas SET {column} = {value} WHERE id = {ppa['id']}"))


def test_api_tokens_are_stored_hashed(app, world):
    token = world.focal.token

    with app.app_context():
        stored = db.session.scalars(text("SELECT token_hash FROM api_tokens")).all()

    assert token not in stored
    assert all(len(h) == 64 for h in stored)
