"""The Budget tab in a real browser (issue 11): the distribution is checked on
the server as it is typed, refused above the parent in the browser and on the
server, previewed, then applied; locked allocations are explained."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

#: The activity template on PHP 5,000,000.00 (rules/default/wbs_templates.yaml).
TEMPLATE_SPLIT = [("Preparation", 75_000_000), ("Execution", 375_000_000), ("Completion & Reporting", 50_000_000)]


def allocations(web) -> list[tuple[str, int]]:
    """The project's children and their allocations (centavos), from the database."""
    return [tuple(row) for row in web.sql(
        "SELECT title, allocated_budget FROM work_items WHERE level = 1 ORDER BY position")]


def test_distribution_refuses_an_over_allocation_in_the_browser_and_on_the_server(web, page, check_page):
    world = web.world
    ppa, _ = world.tracked_ppa("budget_review", template="activity")
    sign_in(page, web, world.focal)
    page.goto(f"/ppas/{ppa['id']}/budget")
    check_page(page, "/ppas/<id>/budget")
    form = page.locator("#distribution-form")
    check = page.locator("#distribution-check")
    expect(check).to_contain_text("Now the 3 work items under “Livelihood Training Program for OBCs FY2025” hold all "
                                  "of its allocation, to the centavo.")

    form.get_by_label("Amount for “Preparation” (PHP)").fill("1,500,000.00")  # as typed: no submit

    message = ("The work items under “Livelihood Training Program for OBCs FY2025” would hold ₱5,750,000.00, "
               "₱750,000.00 more than its allocation of ₱5,000,000.00.")
    expect(check).to_contain_text(message)
    expect(check.locator("table")).to_have_count(0)
    assert page.url.endswith(f"/ppas/{ppa['id']}/budget")  # checked in place, nothing sent as a form
    check_page(page, "/ppas/<id>/budget (over-allocation checked as typed)")

    form.get_by_role("button", name="Apply this distribution").click()  # the server refuses it too

    expect(page.locator("#distribution-check")).to_contain_text(message)
    expect(page.locator("#distribution-form").get_by_label("Amount for “Preparation” (PHP)")).to_have_value(
        "1,500,000.00")
    assert allocations(web) == TEMPLATE_SPLIT


def test_a_manual_distribution_is_previewed_then_applied(web, page, check_page):
    world = web.world
    ppa, _ = world.tracked_ppa("budget_review", template="activity")
    sign_in(page, web, world.focal)
    page.goto(f"/ppas/{ppa['id']}/budget")
    form = page.locator("#distribution-form")

    form.get_by_label("Amount for “Preparation” (PHP)").fill("500000")
    form.get_by_label("Amount for “Execution” (PHP)").fill("4,000,000.00")

    check = page.locator("#distribution-check")
    expect(check).to_contain_text("Preview: nothing is saved until you apply it.")
    expect(check).to_contain_text("would hold all of its allocation, to the centavo")
    expect(check.get_by_role("row", name="Preparation (changes) ₱750,000.00 ₱500,000.00")).to_be_visible()
    expect(check.get_by_role("row", name="Execution (changes) ₱3,750,000.00 ₱4,000,000.00")).to_be_visible()
    expect(check).to_contain_text("4 work items further down follow in proportion.")
    assert allocations(web) == TEMPLATE_SPLIT  # a preview writes nothing

    form.get_by_role("button", name="Apply this distribution").click()

    expect(page.get_by_role("status")).to_contain_text("Budget distributed: 6 work items changed.")
    assert allocations(web) == [("Preparation", 50_000_000), ("Execution", 400_000_000),
                                ("Completion & Reporting", 50_000_000)]
    breakdown = page.locator("#wbs")
    expect(breakdown.locator(".wbs-row", has_text="Planning & Coordination")).to_contain_text("₱250,000.00")


def test_an_equal_split_is_previewed_as_the_page_opens(web, page):
    world = web.world
    ppa, _ = world.tracked_ppa("budget_review", template="activity")
    sign_in(page, web, world.focal)
    page.goto(f"/ppas/{ppa['id']}/budget")

    page.get_by_label("Method").select_option("equal")
    page.get_by_role("button", name="Show").click()

    check = page.locator("#distribution-check")
    expect(check.get_by_role("row", name="Preparation (changes) ₱750,000.00 ₱1,666,666.67")).to_be_visible()
    expect(check.get_by_role("row", name="Completion & Reporting (changes) ₱500,000.00 ₱1,666,666.66")).to_be_visible()
    page.get_by_role("button", name="Apply this distribution").click()
    expect(page.get_by_role("status")).to_contain_text("Budget distributed")
    assert [amount for _, amount in allocations(web)] == [166_666_667, 166_666_667, 166_666_666]


def test_locked_allocations_are_explained_in_words(web, page, check_page):
    world = web.world
    ppa, _ = world.tracked_ppa("stakeholder_consultation", template="activity")
    sign_in(page, web, world.focal)

    page.goto(f"/ppas/{ppa['id']}/budget")

    note = page.get_by_role("note")
    expect(note).to_contain_text("The allocations are locked.")
    expect(note).to_contain_text("mfbm.analyst")
    expect(note).to_contain_text("from Budget review to Stakeholder consultation")
    expect(note).to_contain_text("They unlock only if a reviewer sends the PPA back (“return for revision”)")
    expect(page.locator("#distribution-form")).to_have_count(0)
    check_page(page, "/ppas/<id>/budget (locked)")
