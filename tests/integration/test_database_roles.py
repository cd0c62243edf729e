"""The role split on PostgreSQL (issue 10, item 12 and Administration):
``ppaflow init-db`` migrates as the owner (``DATABASE_OWNER_URL``) and
grants the role of ``DATABASE_URL`` what the application needs; that role
cannot UPDATE, DELETE or TRUNCATE the audit log or the workflow histories.

PostgreSQL roles belong to the whole server: the role made here has a name
of its own for this run and is dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from db import db
from db.migrate import APPEND_ONLY_TABLES
from web import create_app
from web.cli import main


@pytest.fixture
def app_role_url(pg_app) -> Iterator[str]:
    """The URL of a fresh login role ``ppaflow_test_app_<random>`` on the
    test database (no privileges yet); the role is dropped afterwards."""
    owner_url = pg_app.config["DATABASE_URL"]
    name, password = f"ppaflow_test_app_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    owner = create_engine(owner_url, poolclass=NullPool)
    with owner.begin() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    try:
        yield make_url(owner_url).set(username=name, password=password).render_as_string(hide_password=False)
    finally:
        with owner.begin() as connection:
            connection.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'")
            connection.exec_driver_sql(f"DROP OWNED BY {name}")
            connection.exec_driver_sql(f"DROP ROLE {name}")
        owner.dispose()


def init_db(owner_url: str, app_url: str):
    return CliRunner().invoke(main, ["init-db"], catch_exceptions=False, env={
        "DATABASE_URL": app_url, "DATABASE_OWNER_URL": owner_url, "REDIS_URL": ""})


def test_init_db_migrates_as_the_owner_and_the_app_role_cannot_rewrite_audit_or_history(pg_app, pg_world, app_role_url):
    world = pg_world
    ppa = world.create_ppa()
    assert world.fire(ppa["id"], "submit", world.focal).status_code == 200

    result = init_db(pg_app.config["DATABASE_URL"], app_role_url)

    assert result.exit_code == 0, result.output
    assert "is up to date" in result.output and "granted ppaflow_test_app_" in result.output
    app_engine = create_engine(app_role_url, poolclass=NullPool)
    try:
        with app_engine.begin() as connection:  # reading and appending is what the app does
            assert connection.scalar(text("SELECT count(*) FROM ppa_transitions")) == 1
            assert connection.scalar(text("SELECT count(*) FROM audit_log")) > 0
        for table in APPEND_ONLY_TABLES:  # the audit log, ppa_transitions, workflow_transitions
            for statement in (f"UPDATE {table} SET created_at = created_at", f"DELETE FROM {table}",
                              f"TRUNCATE {table}", f"TRUNCATE {table} CASCADE",
                              f"DROP TRIGGER {table}_append_only ON {table}"):
                with pytest.raises(DBAPIError, match="permission denied|must be owner"):
                    with app_engine.begin() as connection:
                        connection.execute(text(statement))
    finally:
        app_engine.dispose()
    with pg_app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM ppa_transitions")) == 1


def test_the_app_runs_its_whole_workflow_as_the_granted_role(pg_app, pg_world, app_role_url):
    world = pg_world
    ppa = world.create_ppa(wbs_template="minimal")
    assert init_db(pg_app.config["DATABASE_URL"], app_role_url).exit_code == 0
    app = create_app({"DATABASE_URL": app_role_url, "REDIS_URL": None, "TESTING": True,
                      "RATE_LIMIT": "1000000 per minute"})
    client = app.test_client()
    try:
        for trigger, who in (("submit", world.focal), ("approve", world.technical_reviewer)):
            response = client.post(f"/api/monitoring-entries/{ppa['id']}/transitions", json={"trigger": trigger},
                                   headers=who.headers | {"Idempotency-Key": f"{trigger}-{ppa['id']}"})
            assert response.status_code == 200, response.get_json()
        tree = client.get(f"/api/monitoring-entries/{ppa['id']}/budget_allocation_tree/", headers=world.focal.headers)
        leaf = tree.get_json()["breakdown"][0]["children"][0]["work_item_id"]
        spent = client.post(f"/api/work-items/{leaf}/expenditures", json={"amount": "1500.00"},
                            headers=world.focal.headers)
        assert spent.status_code == 200, spent.get_json()
        audit = client.get(f"/api/audit?entity=work_item&id={leaf}", headers=world.admin.headers)
        assert [r["field"] for r in audit.get_json()][-1] == "actual_expenditure"
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
