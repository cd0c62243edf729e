"""Approval deadline reminders (docs/design.md §7): once per recipient, PPA, stage
and day; due dates in business days skip weekends and Philippine holidays;
SMTP delivery when configured."""

from __future__ import annotations

import shutil
import smtplib
from datetime import UTC, date, datetime

from sqlalchemy import text

from db import db
from jobs.tasks import send_approval_deadline_reminders
from rules import DEFAULT_RULES_DIR
from services import calendar, rule_sets
from services.runtime import runtimes
from tests.support import STAGE_ENTERED
from web import create_app


def ppa_in_technical_review(app, world) -> int:
    """A PPA in technical review since ``STAGE_ENTERED`` (due Monday 23 June 2025)."""
    return world.ppa_in_stage_since("technical_review")["id"]


def reviewers(world):
    return [world.technical_reviewer, world.person("bpda.reviewer2", "technical_reviewer", org="BPDA"),
            world.person("bpda.senior", "technical_reviewer", "planning_officer", org="BPDA")]


def remind(app, day: str) -> dict:
    with app.app_context():
        return send_approval_deadline_reminders(today=day)


def test_due_date_skips_weekends_and_philippine_holidays(app):
    with app.app_context():
        assert calendar.due_date(STAGE_ENTERED, 10) == date(2025, 6, 23)
        assert calendar.due_date(datetime(2025, 12, 23, 1, tzinfo=UTC), 1) == date(2025, 12, 26)  # Christmas Eve, Day
        assert calendar.due_date(datetime(2025, 12, 26, 1, tzinfo=UTC), 1) == date(2025, 12, 29)  # a weekend


def test_a_ppa_due_tomorrow_gets_one_reminder_per_reviewer_and_its_owner(app, world):
    people = reviewers(world)
    world.budget_analyst  # noqa: B018  (reviews another stage: not reminded)
    ppa_id = ppa_in_technical_review(app, world)

    first = remind(app, "2025-06-22")
    second = remind(app, "2025-06-22")
    inbox = world.client.get("/api/notifications", headers=people[0].headers).get_json()
    analyst = world.client.get("/api/notifications", headers=world.budget_analyst.headers).get_json()

    assert (first["ppas_due"], first["notifications"]) == (1, 4)  # three reviewers and the owner
    assert second["notifications"] == 0
    reminders = [n for n in inbox if n["kind"] == "approval_deadline"]  # besides the submission's notice
    assert [(n["ppa_id"], n["stage"], n["day"], n["status"]) for n in reminders] == [
        (ppa_id, "technical_review", "2025-06-22", "pending")]
    assert "is due 2025-06-23" in reminders[0]["subject"]
    assert analyst == []
    assert len(world.client.get("/api/notifications", headers=world.focal.headers).get_json()) == 1


def test_a_ppa_pinned_to_a_rule_set_that_no_longer_loads_is_skipped_and_the_others_are_reminded(app, world):
    world.technical_reviewer  # noqa: B018  (the reviewer of the stage)
    served = ppa_in_technical_review(app, world)
    stranded = ppa_in_technical_review(app, world)
    broken = "f" * 64  # stored files that hash to something else: the set cannot be loaded by this code
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("INSERT INTO rule_sets (hash, files, loaded_at, active) "
                                "VALUES (:hash, '[]', CURRENT_TIMESTAMP, false)"), {"hash": broken})
        connection.execute(text("UPDATE ppas SET rules_hash = :hash WHERE id = :id"), {"hash": broken, "id": stranded})

    result = remind(app, "2025-06-22")
    inbox = world.client.get("/api/notifications", headers=world.technical_reviewer.headers).get_json()

    assert result["ppas_due"] == 1
    assert {n["ppa_id"] for n in inbox if n["kind"] == "approval_deadline"} == {served}


def test_reminders_repeat_on_a_later_day_while_the_stage_is_overdue(app, world):
    reviewers(world)
    ppa_in_technical_review(app, world)

    remind(app, "2025-06-22")
    later = remind(app, "2025-06-25")

    assert later["notifications"] == 4
    inbox = world.client.get("/api/notifications", headers=world.technical_reviewer.headers).get_json()
    assert "(2 day(s) overdue)" in inbox[0]["subject"]


def test_no_reminder_before_the_window_counted_in_business_days(app, world):
    reviewers(world)
    ppa_in_technical_review(app, world)

    # In calendar days the stage would fall due on Sunday 15 June.
    assert remind(app, "2025-06-14")["notifications"] == 0


def test_with_business_days_off_due_dates_count_calendar_days(app, world, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    schedule = rules / "schedule.yaml"
    schedule.write_text(schedule.read_text().replace("business_days: true", "business_days: false"))
    calendar_app = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PPAFLOW_RULES_DIR": str(rules),
                               "REDIS_URL": None})
    with calendar_app.app_context():  # the database's active set is the one in force (docs/design.md §13)
        rule_sets.activate(runtimes().loaded.rules)
        db.session.remove()
    reviewers(world)
    ppa_in_technical_review(app, world)

    result = remind(calendar_app, "2025-06-14")
    with calendar_app.app_context():
        db.engine.dispose()

    assert (result["ppas_due"], result["notifications"]) == (1, 4)


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what would have been sent."""

    sent: list = []

    def __init__(self, host, port, timeout=None):
        self.address = (host, port)

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        if message["To"] == "bounce@example.org":
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no such user")})
        FakeSMTP.sent.append((self.address, message["From"], message["To"], message["Subject"]))

    def quit(self):
        pass


def test_with_smtp_configured_reminders_are_delivered_and_marked_sent(app, world, monkeypatch):
    FakeSMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    people = reviewers(world)
    ppa_in_technical_review(app, world)
    app.config["SMTP_URL"] = "smtp://mail.bangsamoro.test:2525?from=ppaflow@bangsamoro.test"
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE users SET email = username || '@bangsamoro.test' WHERE username LIKE 'bpda.%'"))
        connection.execute(text("UPDATE users SET email = 'bounce@example.org' WHERE username = 'mssd.focal'"))

    remind(app, "2025-06-22")

    assert sorted(to for _, _, to, subject in FakeSMTP.sent if " is due " in subject) == [
        "bpda.reviewer2@bangsamoro.test", "bpda.reviewer@bangsamoro.test", "bpda.senior@bangsamoro.test"]
    assert {(address, sender) for address, sender, _, _ in FakeSMTP.sent} == {
        (("mail.bangsamoro.test", 2525), "ppaflow@bangsamoro.test")}
    statuses = [world.client.get("/api/notifications", headers=p.headers).get_json()[0]["status"]
                for p in (*people, world.focal)]
    assert statuses == ["sent", "sent", "sent", "pending"]  # the bounce is retried later
