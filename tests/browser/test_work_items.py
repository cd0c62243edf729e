"""The Work items tab in a real browser (issue 11): a focal person starts and
completes a task, records an expenditure that overspends and sees the alert,
enables tracking with a template; a large WBS opens its branches from the
server."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.bench.wbs import insert_tree
from tests.browser.conftest import sign_in


def item(page, title: str):
    """The row of the work item called ``title`` (its figures and actions, not its children)."""
    return page.locator(".wbs-row").filter(has=page.locator(".wbs-title", has_text=re.compile(f"^{re.escape(title)}$")))


def test_a_focal_person_starts_and_completes_a_task(web, page, check_page):
    world = web.world
    ppa, _ = world.tracked_ppa("budget_review", template="activity")
    sign_in(page, web, world.focal)

    page.goto(f"/ppas/{ppa['id']}/work-items")
    expect(page.get_by_role("heading", name="Work items")).to_be_visible()
    check_page(page, "/ppas/<id>/work-items")
    task = item(page, "Planning & Coordination")
    expect(task).to_contain_text("Not started")
    task.get_by_role("button", name="Start “Planning & Coordination”").click()

    expect(page.get_by_role("status")).to_contain_text("“Planning & Coordination” is now in progress.")
    task = item(page, "Planning & Coordination")
    expect(task).to_contain_text("In progress")
    expect(item(page, "Preparation")).to_contain_text("In progress")  # the parent follows its child
    task.get_by_role("button", name="Complete “Planning & Coordination”").click()

    expect(page.get_by_role("status")).to_contain_text("is now completed")
    task = item(page, "Planning & Coordination")
    expect(task).to_contain_text("Completed")
    expect(task.locator("progress")).to_have_attribute("value", "100")
    assert web.sql("SELECT status FROM work_items WHERE title = 'Planning & Coordination'").scalar_one() == "completed"


def test_an_expenditure_that_overspends_shows_an_alert(web, page, check_page):
    world = web.world
    ppa, _ = world.tracked_ppa("enacted", template="activity")
    sign_in(page, web, world.focal)
    page.goto(f"/ppas/{ppa['id']}/work-items")

    task = item(page, "Resource Mobilization")  # 375,000.00 allocated
    task.locator("summary", has_text="Record expenditure").click()
    task.get_by_label("Amount spent (PHP)").fill("400,000.50")
    task.get_by_role("button", name="Record the amount spent on “Resource Mobilization”").click()

    expect(page.get_by_role("status")).to_contain_text(
        "₱400,000.50 recorded on “Resource Mobilization”; it has spent ₱400,000.50. That is ₱25,000.50 over its "
        "allocation of ₱375,000.00: a budget variance alert is open.")
    alerts = page.get_by_role("region", name="Alerts", exact=True)
    expect(alerts).to_contain_text("'Resource Mobilization' has spent PHP 400000.50")
    expect(item(page, "Resource Mobilization")).to_contain_text("Over budget")
    expect(page.get_by_role("link", name=re.compile("^Alerts")).locator(".count")).to_have_text("1")
    check_page(page, "/ppas/<id>/work-items (over budget)")
    assert web.sql("SELECT count(*) FROM alerts WHERE type = 'workitem_budget_variance' AND resolved_at IS NULL"
                   ).scalar_one() == 1


def test_a_refused_expenditure_is_shown_next_to_its_field_and_nothing_is_saved(web, page):
    world = web.world
    ppa, _ = world.tracked_ppa("budget_review", template="minimal")
    sign_in(page, web, world.focal)
    page.goto(f"/ppas/{ppa['id']}/work-items")

    task = item(page, "Main Deliverable")
    task.locator("summary", has_text="Record expenditure").click()
    task.get_by_label("Amount spent (PHP)").fill("12.345")
    task.get_by_role("button", name="Record the amount spent on “Main Deliverable”").click()

    field = item(page, "Main Deliverable").get_by_label("Amount spent (PHP)")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("12.345")
    expect(item(page, "Main Deliverable")).to_contain_text("more than two decimal places")
    assert web.sql("SELECT sum(actual_expenditure) FROM work_items").scalar_one() == 0


def test_enable_tracking_with_a_template(web, page, check_page):
    world = web.world
    draft = world.create_ppa(title="Still a draft")
    submitted = world.create_ppa(title="Barangay water systems")
    world.advance(submitted["id"], "technical_review")  # no project until technical review is approved
    sign_in(page, web, world.focal)

    page.goto(f"/ppas/{draft['id']}/work-items")
    page.get_by_label("WBS template").select_option(label="Minimal (one deliverable)")
    page.get_by_role("button", name="Enable execution tracking").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Work item tracking cannot be enabled while the PPA is in the Draft stage")
    assert web.sql("SELECT count(*) FROM work_items").scalar_one() == 0

    page.goto(f"/ppas/{submitted['id']}/work-items")
    check_page(page, "/ppas/<id>/work-items (no WBS)")
    page.get_by_label("WBS template").select_option(label="Minimal (one deliverable)")
    page.get_by_role("button", name="Enable execution tracking").click()

    expect(page.get_by_role("status")).to_contain_text("Execution tracking enabled: 2 work items generated")
    expect(item(page, "Main Deliverable")).to_contain_text("₱5,000,000.00")
    assert web.sql("SELECT count(*) FROM work_items").scalar_one() == 2


def test_a_large_wbs_opens_a_branch_from_the_server(web, page, check_page):
    world = web.world
    ppa = world.create_ppa(title="Large WBS")
    world.advance(ppa["id"], "technical_review")
    with web.app.app_context():
        insert_tree(ppa["id"], 421, 20, 500_000_000, 100_000)  # the project, 20 items, 400 below them
    sign_in(page, web, world.focal)

    page.goto(f"/ppas/{ppa['id']}/work-items")
    expect(page.locator("li.wbs-item")).to_have_count(21)  # the rest opens on request
    branch = page.locator("#item-100001 > details.wbs-branch")
    branch.locator("summary").focus()
    page.keyboard.press("Enter")

    expect(branch.locator("li.wbs-item")).to_have_count(20)
    expect(item(page, "Item 21")).to_contain_text("₱12,500.00")
    expect(page.locator("li.wbs-item")).to_have_count(41)
    check_page(page, "/ppas/<id>/work-items (a branch opened)")
