"""A PPA shows when its current approval stage falls due (issue 10;
docs/design.md §3, §7): ``stage_due_at``, counted in business days by the same
calendar as reminders and overdue alerts, so clients never reimplement it."""

from __future__ import annotations

from datetime import datetime

from jobs.tasks import send_approval_deadline_reminders


def test_a_ppa_in_technical_review_since_5_june_2025_shows_it_due_on_23_june(world):
    # 10 business days: Eid al-Adha (6 June), Independence Day (12 June) and two weekends are skipped.
    ppa = world.ppa_in_stage_since("technical_review")

    single = world.get(ppa["id"], world.focal)
    listed = world.client.get("/api/monitoring-entries", headers=world.focal.headers).get_json()

    assert single["stage_due_at"] == "2025-06-23"
    assert [p["stage_due_at"] for p in listed] == ["2025-06-23"]


def test_the_due_date_shown_is_the_one_the_reminders_use(world):
    ppa = world.ppa_in_stage_since("technical_review")
    world.technical_reviewer  # noqa: B018  (a reviewer to remind)
    with world.app.app_context():
        send_approval_deadline_reminders(today="2025-06-22")
    inbox = world.client.get("/api/notifications", headers=world.technical_reviewer.headers).get_json()

    due = world.get(ppa["id"], world.focal)["stage_due_at"]

    reminders = [n["subject"] for n in inbox if n["kind"] == "approval_deadline"]  # besides the submission's notice
    assert reminders == [f"[ppaflow] Technical review of PPA {ppa['id']} is due {due}"]


def test_stages_without_a_due_time_show_null(world):
    draft = world.create_ppa()
    enacted = world.advance(world.create_ppa(title="Enacted PPA")["id"], "enacted")

    assert draft["stage_due_at"] is None
    assert enacted["stage_due_at"] is None


def test_a_transition_answers_with_the_new_stages_due_date(world):
    ppa = world.create_ppa()

    submitted = world.fire(ppa["id"], "submit", world.focal).get_json()

    entered = datetime.fromisoformat(submitted["stage_entered_at"])
    assert submitted["approval_status"] == "technical_review"
    assert submitted["stage_due_at"] is not None
    assert submitted["stage_due_at"] > entered.date().isoformat()
