"""The Execution tab in a real browser (issue 11, issue 12 item 8): an
allotment, an obligation and a disbursement entered through forms, the boxes
of the ORS and DV signed on the page by the people whose work each is, and an
over-obligation refused with its amounts next to the amount; a certification
by the wrong person is closed with the reason shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.harness import DESKTOP
from tests.support import Chain, built_once
from tests.web.conftest import quick_passwords  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


def signer(browser, web, person, ppa: int):
    """A new browser context where ``person`` is signed in, on the PPA's Execution tab."""
    context = browser.new_context(viewport=DESKTOP, base_url=web.base, locale="en-PH", timezone_id="Asia/Manila")
    page = context.new_page()
    sign_in(page, web, person)
    page.goto(f"/ppas/{ppa}/execution")
    return page


def sign_box(page, entry: str, button: str) -> None:
    """Click ``button`` in the entry (``#steps-obligation-1``) of a document: HTMX replaces only that entry."""
    page.locator(entry).get_by_role("button", name=button).click()


def obligate(page, ors: str, day: str, payee: str, amount: str) -> None:
    """Fill in and send the open "Record an obligation" form."""
    form = page.locator("#obligations form")
    form.get_by_label("ORS number").fill(ors)
    form.get_by_label("Obligation date").fill(day)
    form.get_by_label("Payee").fill(payee)
    form.get_by_label("Amount (PHP)").fill(amount)
    form.get_by_role("button", name="Record obligation").click()


def test_allotment_obligation_and_disbursement_through_forms_and_an_over_obligation_refused(
        web, browser, page, check_page):
    world = web.world
    chain = built_once(world, "chain", Chain)  # an enacted PPA with a PHP 5,000,000.00 program budget

    sign_in(page, web, world.budget_analyst)
    page.goto(f"/ppas/{chain.ppa}/execution")
    check_page(page, "/ppas/<id>/execution (budget analyst)")
    page.get_by_text("Release an allotment").click()
    release = page.locator("#allotments form")
    expect(release.get_by_label("Program budget")).to_contain_text("₱5,000,000.00 unallotted")
    release.get_by_label("Release date").fill("2025-02-03")
    release.get_by_label("SARO/GARO number").fill("SARO-BARMM-2025-0101")
    release.get_by_label("Amount (PHP)").fill("1,000,000.00")
    release.get_by_role("button", name="Release allotment").click()
    expect(page.get_by_role("status")).to_have_text("Allotment SARO-BARMM-2025-0101 of ₱1,000,000.00 released for Q1.")
    expect(page.locator("#program-budgets")).to_contain_text("₱4,000,000.00")  # not yet allotted

    focal = browser.new_context(viewport=DESKTOP, base_url=web.base, locale="en-PH", timezone_id="Asia/Manila")
    mine = focal.new_page()
    sign_in(mine, web, world.focal)
    mine.goto(f"/ppas/{chain.ppa}/execution")
    expect(mine.get_by_text("Release an allotment")).to_have_count(0)  # budget analysts release allotments
    mine.get_by_text("Record an obligation").click()
    expect(mine.locator("#obligations form").get_by_label("Allotment")).to_contain_text(
        "SARO-BARMM-2025-0101 (Q1): ₱1,000,000.00 available")
    obligate(mine, "02-01-2025-03-00001", "2025-03-10", "Cotabato Training Services Cooperative", "400000")
    expect(mine.get_by_role("status")).to_have_text(
        "ORS 02-01-2025-03-00001 of ₱400,000.00 prepared as a draft; it obligates once Box A (head of office) and "
        "Box B (budget officer) are signed.")
    ors = web.sql("SELECT id FROM obligations").scalar_one()
    entry = f"#steps-obligation-{ors}"
    expect(mine.locator(entry)).to_contain_text("Draft (prepared by the MOA) — waiting for Box A")
    head = signer(browser, web, world.office_head, chain.ppa)  # Box A: the head of the requesting office
    sign_box(head, entry, "Certify charges")
    expect(head.locator(entry).get_by_role("status")).to_have_text("ORS 02-01-2025-03-00001: Box A signed.")
    head.context.close()
    officer = signer(browser, web, world.budget_officer, chain.ppa)  # Box B: the budget officer obligates it
    expect(officer.locator(entry)).to_contain_text("waiting for Box B (MOA budget officer)")
    sign_box(officer, entry, "Certify obligation")
    expect(officer.locator(entry).get_by_role("status")).to_have_text(
        "ORS 02-01-2025-03-00001: Box B signed: it is obligated.")
    expect(officer.locator(entry)).to_contain_text("Box B signed: obligated — by mssd.budget_officer")
    officer.context.close()
    mine.reload()

    mine.get_by_text("Record an obligation").click()
    obligate(mine, "02-01-2025-03-00002", "2025-03-11", "Maguindanao Catering", "700,000.00")

    amount = mine.locator("#obligations form").get_by_label("Amount (PHP)")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_value("700,000.00")
    expect(mine.locator("#obligations form")).to_contain_text(
        "Not recorded: the obligations would total ₱1,100,000.00 (₱400,000.00 already plus ₱700,000.00), above "
        "the allotment of ₱1,000,000.00. ₱600,000.00 is available.")
    check_page(mine, "/ppas/<id>/execution (over-obligation refused)")
    assert web.sql("SELECT count(*) FROM obligations").scalar_one() == 1

    mine.goto(f"/ppas/{chain.ppa}/execution")
    mine.get_by_text("Record a disbursement").click()
    disburse = mine.locator("#disbursements form")
    expect(disburse.get_by_label("Obligation")).to_contain_text("₱400,000.00 left to pay")
    disburse.get_by_label("DV number").fill("2025-04-0001")
    disburse.get_by_label("Disbursement date").fill("2025-04-15")
    disburse.get_by_label("Mode of payment").select_option("mds_check")
    disburse.get_by_label("Amount (PHP)").fill("150000.00")
    disburse.get_by_role("button", name="Record disbursement").click()

    expect(mine.get_by_role("status")).to_have_text(
        "DV 2025-04-0001 of ₱150,000.00 prepared as a draft; it is paid once Boxes A to D are signed and the "
        "disbursing officer pays it (Box E).")
    dv = web.sql("SELECT id FROM disbursements").scalar_one()
    steps = f"#steps-disbursement-{dv}"
    for person, button, done in ((world.office_head, "Certify necessary", "Box A signed."),
                                 (world.accountant, "Record entry", "Box B signed."),
                                 (world.chief_accountant, "Certify cash", "Box C signed."),
                                 (world.agency_head, "Approve payment", "Box D signed: approved for payment.")):
        boxes = signer(browser, web, person, chain.ppa)  # Boxes A to D, each by the person whose work it is
        sign_box(boxes, steps, button)
        expect(boxes.locator(steps).get_by_role("status")).to_have_text(f"DV 2025-04-0001: {done}")
        boxes.context.close()
    cashier = signer(browser, web, world.cashier, chain.ppa)  # Box E: the disbursing officer pays it
    entry = cashier.locator(f"#steps-disbursement-{dv}")
    entry.get_by_label("Check or ADA number").fill("MDS-0042")
    entry.get_by_label("Check or ADA issue date").fill("2025-04-15")
    entry.get_by_role("button", name="Pay").click()
    jev = entry.get_by_label("JEV number")
    expect(jev).to_have_attribute("aria-invalid", "true")  # refused next to the field; nothing paid
    expect(entry).to_contain_text("is required to pay a DV (Box E)")
    assert web.sql("SELECT status FROM disbursements").scalar_one() == "approved"
    jev.fill("JEV-2025-04-0042")
    entry.get_by_role("button", name="Pay").click()
    expect(entry.get_by_role("status")).to_have_text("DV 2025-04-0001: Box E signed: it is paid.")
    check_page(cashier, "/ppas/<id>/execution (DV paid by the cashier)")
    cashier.context.close()
    mine.reload()
    expect(mine.locator("#obligations")).to_contain_text("₱250,000.00")  # the obligation's balance
    budget = mine.locator("#program-budgets")
    for label, shown in (("Allotted", "₱1,000,000.00"), ("Obligated", "₱400,000.00"), ("Disbursed", "₱150,000.00"),
                         ("Unpaid", "₱250,000.00")):
        expect(budget.locator("div", has=mine.locator("dt", has_text=label)).first).to_contain_text(shown)
    check_page(mine, "/ppas/<id>/execution (MOA)")
    focal.close()


def test_an_over_reduction_is_refused_next_to_the_amount_and_a_norsa_is_recorded_through_the_form(
        web, browser, page, check_page):
    world = web.world
    chain = built_once(world, "chain", Chain)  # copied in: built once per run
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]  # SARO-…-0001, ORS 02-01-2025-03-00001

    sign_in(page, web, world.budget_analyst)
    page.goto(f"/ppas/{chain.ppa}/execution")
    page.get_by_text("Adjust an allotment").click()
    adjust = page.locator("#corrections form").first
    adjust.get_by_label("Kind").select_option("reduction")
    adjust.get_by_label("Amount (PHP)").fill("50,000.00")
    adjust.get_by_label("Date").fill("2025-03-20")
    adjust.get_by_label("Reason").fill("Savings from the venue")
    adjust.get_by_label("Legal basis").fill("SARO amendment 1")
    adjust.get_by_role("button", name="Record adjustment").click()

    amount = page.locator("#allotment_adjustment-amount")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_value("50,000.00")
    expect(page.locator("#allotment_adjustment-amount-error")).to_contain_text("₱40,000.00 is available")
    check_page(page, "/ppas/<id>/execution (over-reduction refused)")
    assert web.sql("SELECT count(*) FROM allotment_adjustments").scalar_one() == 0

    focal = browser.new_context(viewport=DESKTOP, base_url=web.base, locale="en-PH", timezone_id="Asia/Manila")
    mine = focal.new_page()
    sign_in(mine, web, world.focal)
    mine.goto(f"/ppas/{chain.ppa}/execution")
    expect(mine.get_by_text("Adjust an allotment")).to_have_count(0)  # budget analysts adjust allotments
    mine.get_by_text("Record a NORSA").click()
    norsa = mine.locator("#corrections form").first
    norsa.get_by_label("Obligation").select_option(str(obligation))
    norsa.get_by_label("Signed amount (PHP)").fill("-1500.00")
    norsa.get_by_label("Date").fill("2025-05-02")
    norsa.get_by_label("Reason").fill("Fewer participants")
    norsa.get_by_label("Legal basis").fill("NORSA No. 2025-05-0001")
    norsa.get_by_role("button", name="Record NORSA").click()

    expect(mine.get_by_role("status")).to_have_text("NORSA of -₱1,500.00 recorded on the obligation.")
    expect(mine.get_by_role("list", name="NORSA of 02-01-2025-03-00001")).to_contain_text(
        "NORSA of -₱1,500.00 on")
    expect(mine.locator("#obligations")).to_contain_text("₱58,500.00")
    check_page(mine, "/ppas/<id>/execution (after a NORSA)")
    focal.close()


def test_a_certification_by_the_right_person_succeeds_and_by_the_wrong_person_is_closed_with_the_reason(
        web, browser, page, check_page):
    world = web.world
    chain = built_once(world, "chain", Chain)  # copied in: built once per run
    preparer = world.person("mssd.focal_head", "moa_focal", "head_of_office", org="MSSD")
    ors = chain.post("/api/obligations", preparer, 201, allotment_id=chain.allot("100000.00")["id"],
                     payee="Supplier", obligation_date="2025-03-10", amount="60000.00")
    entry = f"#steps-obligation-{ors['id']}"

    sign_in(page, web, preparer)  # the wrong person: they prepared it
    page.goto(f"/ppas/{chain.ppa}/execution")
    closed = page.locator(entry).get_by_role("button", name="Certify charges")
    expect(closed).to_be_disabled()
    expect(page.locator(entry)).to_contain_text("You prepared this ORS; another person must certify it.")
    check_page(page, "/ppas/<id>/execution (the preparer of an ORS)")

    head = signer(browser, web, world.office_head, chain.ppa)  # the right person
    sign_box(head, entry, "Certify charges")
    expect(head.locator(entry).get_by_role("status")).to_have_text(f"ORS {ors['ors_number']}: Box A signed.")
    expect(head.locator(entry)).to_contain_text("Box A signed: charges necessary and lawful — by mssd.office_head")
    expect(head.locator(entry).get_by_role("button", name="Certify obligation")).to_be_disabled()
    check_page(head, "/ppas/<id>/execution (Box A signed)")
    head.context.close()
    assert web.sql("SELECT status FROM obligations").scalar_one() == "charges_certified"
