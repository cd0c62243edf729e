"""A PPA changing stage notifies its owner and the next stage's reviewers, in
the app and by e-mail when SMTP is set, in the transition's own transaction
(issue 11; docs/design.md §7)."""

from __future__ import annotations

import smtplib

from sqlalchemy import text

from db import db


def inbox(world, person) -> list[dict]:
    response = world.client.get("/api/notifications", headers=person.headers)
    assert response.status_code == 200, response.get_json()
    return [n for n in response.get_json() if n["kind"] == "stage_changed"]


def test_a_submission_notifies_the_technical_reviewers_and_not_the_submitter(world):
    reviewers = (world.technical_reviewer, world.person("bpda.reviewer2", "technical_reviewer", org="BPDA"))
    world.budget_analyst  # noqa: B018 - reviews another stage
    ppa = world.create_ppa(title="Madrasah Teachers Training")

    assert world.fire(ppa["id"], "submit", world.focal).status_code == 200

    for reviewer in reviewers:
        [note] = inbox(world, reviewer)
        assert (note["ppa_id"], note["stage"], note["status"]) == (ppa["id"], "technical_review", "pending")
        assert note["subject"] == f"[ppaflow] PPA {ppa['id']} is now in Technical review"
        assert "moved from Draft to Technical review: submit by mssd.focal" in note["body"]
        assert f"/ppas/{ppa['id']}" in note["body"]
    assert inbox(world, world.focal) == [] and inbox(world, world.budget_analyst) == []


def test_an_approval_notifies_the_owner_and_the_next_stages_reviewers_but_not_the_approver(world):
    world.budget_analyst  # noqa: B018
    ppa = world.create_ppa()
    world.advance(ppa["id"], "technical_review")

    assert world.fire(ppa["id"], "approve", world.technical_reviewer).status_code == 200

    [owner] = inbox(world, world.focal)
    [analyst] = inbox(world, world.budget_analyst)
    assert owner["stage"] == analyst["stage"] == "budget_review"
    assert [n["stage"] for n in inbox(world, world.technical_reviewer)] == ["technical_review"]  # the submission's


def test_a_return_for_revision_tells_the_owner_with_the_reviewers_comment(world):
    ppa = world.create_ppa()
    world.advance(ppa["id"], "technical_review")

    world.fire(ppa["id"], "return_for_revision", world.technical_reviewer, comment="Attach the beneficiary list")

    [note] = inbox(world, world.focal)
    assert note["stage"] == "draft"
    assert "Comment: Attach the beneficiary list" in note["body"]


def test_entering_a_stage_again_the_same_day_brings_back_the_one_notification_unread(world, app):
    world.technical_reviewer  # noqa: B018
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)
    [first] = inbox(world, world.technical_reviewer)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE notifications SET read_at = created_at"))
    world.fire(ppa["id"], "return_for_revision", world.technical_reviewer, comment="Add the map")

    world.fire(ppa["id"], "submit", world.focal)

    [again] = inbox(world, world.technical_reviewer)
    assert again["id"] == first["id"]
    with app.app_context():
        unread = db.session.execute(text("SELECT read_at FROM notifications WHERE id = :id"),
                                    {"id": again["id"]}).scalar_one()
    assert unread is None


def test_a_refused_transition_notifies_nobody(world):
    ppa = world.create_ppa()
    world.advance(ppa["id"], "technical_review")
    before = len(inbox(world, world.focal))

    refused = world.fire(ppa["id"], "reject", world.technical_reviewer)  # a comment is required

    assert refused.status_code == 422
    assert len(inbox(world, world.focal)) == before


def test_deactivated_reviewers_are_not_notified(world, app):
    away = world.person("bpda.away", "technical_reviewer", org="BPDA")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE users SET is_active = false WHERE username = 'bpda.away'"))
    world.technical_reviewer  # noqa: B018
    ppa = world.create_ppa()

    world.fire(ppa["id"], "submit", world.focal)

    with app.app_context():
        recipients = db.session.execute(text("SELECT recipient_id FROM notifications WHERE ppa_id = :id"),
                                        {"id": ppa["id"]}).scalars().all()
    assert recipients == [world.technical_reviewer.id] and away.id not in recipients


class RecordingSMTP:
    """Stands in for smtplib.SMTP: keeps (to, subject) of what would be sent."""

    sent: list = []

    def __init__(self, host, port, timeout=None):
        pass

    def send_message(self, message):
        RecordingSMTP.sent.append((message["To"], message["Subject"]))

    def quit(self):
        pass


def test_with_smtp_set_the_stage_change_is_e_mailed_after_the_commit(world, app, monkeypatch):
    RecordingSMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", RecordingSMTP)
    world.technical_reviewer  # noqa: B018
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE users SET email = 'reviewer@bangsamoro.test' WHERE username = 'bpda.reviewer'"))
    app.config["SMTP_URL"] = "smtp://mail.bangsamoro.test:2525"
    ppa = world.create_ppa()

    world.fire(ppa["id"], "submit", world.focal)

    assert RecordingSMTP.sent == [("reviewer@bangsamoro.test", f"[ppaflow] PPA {ppa['id']} is now in Technical review")]
    assert inbox(world, world.technical_reviewer)[0]["status"] == "sent"
