"""The PPA pages without a browser (issue 11): the list's filters, sort order,
totals and export; the new PPA and Details forms (refusals next to their
fields, nothing saved; a stale save says who saved first); the Actions
panel's refusals; supporting documents; the History tab."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from html import unescape

from openpyxl import load_workbook

from services.workbooks import MONEY as MONEY_FORMAT
from tests import documents


def text_of(response) -> str:
    """The page's text as a person reads it (what is hidden from screen readers left out)."""
    return text_of_html(response.get_data(as_text=True))


def text_of_html(html: str) -> str:
    html = re.sub(r'<span aria-hidden="true">[^<]*</span>', "", html)
    return re.sub(r"\s+([:,.;])", r"\1", unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))))


def rows_of(response) -> list[str]:
    """The titles of the PPAs listed, in order."""
    return re.findall(r'<td data-label="PPA"><a href="/ppas/\d+">([^<]+)</a>', response.get_data(as_text=True))


def etag_in(page: str) -> str:
    return unescape(re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1))


# -- the list ------------------------------------------------------------------------------------------------

def test_the_list_filters_sorts_and_totals_what_the_user_may_see(world, browser_for):
    world.create_ppa(title="Coconut Farmers Support", budget_allocation="3000000.00", fiscal_year=2025)
    world.create_ppa(title="Barangay Health Stations", budget_allocation="12500000.50", fiscal_year=2025)
    world.create_ppa(title="Solar Water Pumps", budget_allocation="800000.00", fiscal_year=2026)
    submitted = world.create_ppa(title="Madrasah Teachers Training", budget_allocation="1000000.00")
    world.fire(submitted["id"], "submit", world.focal)
    world.create_ppa(world.other_focal, title="MTIT road maintenance")
    focal = browser_for(world.focal)

    everything = focal.client.get("/ppas")
    by_budget = focal.client.get("/ppas?sort=-budget")
    by_title = focal.client.get("/ppas?sort=title&fiscal_year=2025")
    in_review = focal.client.get("/ppas?stage=technical_review")
    searched = focal.client.get("/ppas?q=water")

    assert "4 PPAs · total budget ₱17,300,000.50" in text_of(everything)
    assert "MTIT road maintenance" not in everything.get_data(as_text=True)
    assert rows_of(by_budget) == ["Barangay Health Stations", "Coconut Farmers Support",
                                  "Madrasah Teachers Training", "Solar Water Pumps"]
    assert 'aria-sort="descending"' in by_budget.get_data(as_text=True)
    assert rows_of(by_title) == ["Barangay Health Stations", "Coconut Farmers Support", "Madrasah Teachers Training"]
    assert "3 PPAs · total budget ₱16,500,000.50" in text_of(by_title)
    assert rows_of(in_review) == ["Madrasah Teachers Training"]
    assert rows_of(searched) == ["Solar Water Pumps"]


def test_a_sort_header_link_keeps_the_filters_and_reverses_the_order(world, browser_for):
    world.create_ppa(title="A")
    page = browser_for(world.focal).client.get("/ppas?fiscal_year=2025&sort=title&page=1").get_data(as_text=True)

    link = unescape(re.search(r'<th scope="col" class="sortable " aria-sort="ascending">\s*<a href="([^"]+)"',
                              page).group(1))

    assert "fiscal_year=2025" in link and "sort=-title" in link and "page=" not in link


def test_the_list_is_paged_25_at_a_time_with_its_totals(world, browser_for):
    for number in range(27):
        world.create_ppa(title=f"PPA number {number:02d}", budget_allocation="1000.00")
    focal = browser_for(world.focal)

    first, second = focal.client.get("/ppas?sort=title"), focal.client.get("/ppas?sort=title&page=2")

    assert len(rows_of(first)) == 25 and rows_of(second) == ["PPA number 25", "PPA number 26"]
    assert "Rows 26–27 of 27" in text_of(second)
    assert "27 PPAs · total budget ₱27,000.00" in text_of(second)


def test_an_invalid_filter_says_so_and_is_not_applied(world, browser_for):
    world.create_ppa(title="Kept")

    page = browser_for(world.focal).client.get("/ppas?fiscal_year=1800")

    assert "Number must be between 2000 and 2100" in text_of(page)
    assert rows_of(page) == ["Kept"]


def test_the_export_holds_every_filtered_row_in_order_with_text_inert(world, browser_for):
    world.create_ppa(title='=HYPERLINK("http://evil.example","Click")', budget_allocation="100.10")
    world.create_ppa(title="@SUM(A1:A9)", budget_allocation="200.20")
    world.create_ppa(title="Other year", fiscal_year=2026)
    focal = browser_for(world.focal)

    response = focal.client.get("/ppas/export.xlsx?fiscal_year=2025&sort=title")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header = next(row[0].row for row in sheet.iter_rows() if row[0].value == "PPA ID")
    rows = list(sheet.iter_rows(min_row=header + 1))

    assert response.headers["Content-Disposition"].startswith("attachment")
    assert [row[2].value for row in rows[:2]] == ['=HYPERLINK("http://evil.example","Click")', "@SUM(A1:A9)"]
    assert all(row[2].data_type == "s" for row in rows[:2])
    assert rows[2][0].value == "TOTAL" and Decimal(str(rows[2][9].value)) == Decimal("300.30")  # as Excel reads it
    assert rows[2][9].number_format == MONEY_FORMAT
    assert "fiscal year 2025" in sheet.cell(4, 1).value


# -- new PPA, Details -----------------------------------------------------------------------------------------

NEW = {"title": "Livelihood Starter Kits", "summary": "Kits for 200 families", "category": "moa_ppa",
       "implementing_moa": "MSSD", "fiscal_year": "2025", "appropriation_class": "mooe", "priority": "high",
       "start_date": "2025-03-01", "target_end_date": "2025-11-30", "budget_allocation": "₱2,500,000.50",
       "wbs_template": "", "budget_distribution_policy": "manual"}


def test_a_focal_person_creates_a_draft_with_exact_money(world, browser_for, app):
    focal = browser_for(world.focal)

    response = focal.post_form("/ppas/new", NEW)
    ppa_id = int(response.headers["Location"].rsplit("/", 1)[1])

    created = world.get(ppa_id, world.focal)
    assert (created["title"], created["budget_allocation"], created["approval_status"]) == (
        "Livelihood Starter Kits", "2500000.50", "draft")
    assert "PPA created as a draft" not in text_of(focal.client.get("/ppas/new"))


def test_a_refused_new_ppa_shows_each_message_next_to_its_field_and_saves_nothing(world, browser_for, app):
    focal = browser_for(world.focal)

    response = focal.post_form("/ppas/new", NEW | {"target_end_date": "2025-01-01", "budget_allocation": "12.345",
                                                 "sector": "social\u202e"})
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert re.search(r'id="budget_allocation-error"[^>]*>[^<]*two decimal', page)
    assert 'id="sector-error"' in page and "bidirectional" in page
    assert 'value="Livelihood Starter Kits"' in page
    listed = world.client.get("/api/monitoring-entries", headers=world.focal.headers).get_json()
    assert listed == []
    response = focal.post_form("/ppas/new", NEW | {"target_end_date": "2025-01-01"})
    assert response.status_code == 422
    assert re.search(r'id="target_end_date-error"[^>]*>must be on or after start_date', response.get_data(as_text=True))


def test_only_moa_focal_persons_and_administrators_create_ppas(world, browser_for):
    reviewer = browser_for(world.technical_reviewer)

    assert reviewer.client.get("/ppas/new").status_code == 403
    assert "New PPA" not in reviewer.client.get("/ppas").get_data(as_text=True)


def test_a_stale_details_form_says_who_saved_first_and_keeps_the_input(world, browser_for, app):
    ppa = world.create_ppa(title="Women Entrepreneurs Fund")
    colleague = world.person("mssd.colleague", "moa_focal", org="MSSD")
    mine, theirs = browser_for(world.focal), browser_for(colleague)
    path = f"/ppas/{ppa['id']}"
    my_version = etag_in(mine.client.get(path).get_data(as_text=True))
    their_version = etag_in(theirs.client.get(path).get_data(as_text=True))
    fields = NEW | {"implementing_moa": "MSSD"}

    first = theirs.post_form(path, fields | {"version": their_version, "title": "Women Entrepreneurs Fund 2025"})
    second = mine.post_form(path, fields | {"version": my_version, "title": "Fund for Women Entrepreneurs"})

    assert first.status_code == 302
    assert second.status_code == 412
    page = text_of(second)
    assert "mssd.colleague saved this PPA at" in page and "nothing of yours was saved" in page
    assert 'value="Fund for Women Entrepreneurs"' in second.get_data(as_text=True)
    assert world.get(ppa["id"], world.focal)["title"] == "Women Entrepreneurs Fund 2025"
    again = mine.post_form(path, fields | {"version": etag_in(second.get_data(as_text=True)),
                                           "title": "Fund for Women Entrepreneurs"})
    assert again.status_code == 302
    assert world.get(ppa["id"], world.focal)["title"] == "Fund for Women Entrepreneurs"


def test_outside_draft_the_details_are_read_only_and_a_forced_edit_is_refused(world, browser_for):
    ppa = world.create_ppa(title="Submitted already")
    world.fire(ppa["id"], "submit", world.focal)
    focal = browser_for(world.focal)
    path = f"/ppas/{ppa['id']}"

    page = focal.client.get(path).get_data(as_text=True)
    forced = focal.post_form(path, NEW | {"version": world.client.get(
        f"/api/monitoring-entries/{ppa['id']}", headers=world.focal.headers).headers["ETag"]})

    assert "Save the changes" not in page and "Budget allocation" in page
    assert forced.status_code == 409 and "can only change while the PPA is in draft" in text_of(forced)
    assert world.get(ppa["id"], world.focal)["title"] == "Submitted already"


def test_another_moas_ppa_and_its_tabs_are_404_pages(world, browser_for):
    ppa = world.create_ppa()
    stranger = browser_for(world.other_focal)

    for path in (f"/ppas/{ppa['id']}", f"/ppas/{ppa['id']}/history"):
        assert stranger.client.get(path).status_code == 404
    assert stranger.post_form(f"/ppas/{ppa['id']}/transitions", {"trigger": "submit"}, page="/ppas").status_code == 404


# -- the Actions panel --------------------------------------------------------------------------------------

def test_the_panel_shows_every_trigger_open_or_closed_with_the_reason_in_words(world, browser_for):
    dual = world.person("mssd.dual", "moa_focal", "technical_reviewer", org="MSSD")
    ppa = world.create_ppa(dual)
    world.fire(ppa["id"], "submit", dual)

    page = browser_for(dual).client.get(f"/ppas/{ppa['id']}").get_data(as_text=True)
    panel = text_of_html(page.split('id="actions"')[1].split("</aside>")[0])

    assert "You submitted this PPA, so you cannot approve it." in panel
    assert "Cannot enact a PPA in technical review." in panel
    assert "Cannot submit a PPA in technical review." in panel
    assert 'commandfor="dialog-reject"' in page and 'commandfor="dialog-return-for-revision"' in page



def test_a_reject_without_a_comment_is_refused_on_the_server_and_changes_nothing(world, browser_for):
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)
    reviewer = browser_for(world.technical_reviewer)
    path = f"/ppas/{ppa['id']}"

    refused = reviewer.post_form(f"{path}/transitions", {"trigger": "reject", "comment": "  \u200b ", "next": path},
                                 page=path)

    assert refused.status_code == 422
    assert re.search(r'id="comment-error"[^>]*>a comment is required to reject', refused.get_data(as_text=True))
    assert world.get(ppa["id"], world.focal)["approval_status"] == "technical_review"


def test_a_closed_action_forced_through_is_refused_with_the_reason(world, browser_for):
    dual = world.person("mssd.dual", "moa_focal", "technical_reviewer", org="MSSD")
    ppa = world.create_ppa(dual)
    world.fire(ppa["id"], "submit", dual)
    path = f"/ppas/{ppa['id']}"

    forced = browser_for(dual).post_form(f"{path}/transitions", {"trigger": "approve", "next": path}, page=path)

    assert forced.status_code == 403
    assert "you submitted this PPA, so you cannot approve it" in text_of(forced)
    assert world.get(ppa["id"], dual)["approval_status"] == "technical_review"


def test_an_action_fired_on_a_stale_page_is_refused_and_says_who_moved_it(world, browser_for):
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)
    reviewer = browser_for(world.technical_reviewer)
    path = f"/ppas/{ppa['id']}"
    stale = re.search(r'name="version" value="([^"]+)"', reviewer.client.get(path).get_data(as_text=True)).group(1)
    world.fire(ppa["id"], "return_for_revision", world.admin, comment="Wrong year")

    refused = reviewer.post_form(f"{path}/transitions", {"trigger": "approve", "version": unescape(stale),
                                                         "next": path}, page=path)

    assert refused.status_code == 412 and "admin changed this PPA at" in text_of(refused)


def test_an_action_returns_to_the_tab_it_was_fired_from(world, browser_for):
    ppa = world.create_ppa()
    focal = browser_for(world.focal)
    history = f"/ppas/{ppa['id']}/history"

    response = focal.post_form(f"/ppas/{ppa['id']}/transitions", {"trigger": "submit", "next": history},
                               page=history)
    shown = text_of(focal.client.get(history))
    elsewhere = focal.post_form(f"/ppas/{ppa['id']}/transitions",
                                {"trigger": "submit", "next": "https://evil.example/"}, page=history)

    assert response.status_code == 302 and response.headers["Location"] == history
    assert f"Submitted: PPA {ppa['id']} is now in Technical review." in shown
    assert elsewhere.status_code in (302, 409) and "evil.example" not in elsewhere.headers.get("Location", "")


# -- supporting documents --------------------------------------------------------------------------------------

def test_a_document_attached_on_the_page_is_listed_and_downloads_and_a_disguised_program_is_refused(world, browser_for):
    ppa = world.create_ppa()
    focal = browser_for(world.focal)
    path = f"/ppas/{ppa['id']}"

    attached = focal.post_form(f"{path}/attachments", {"file": (io.BytesIO(documents.pdf()), "Work plan.pdf")},
                               page=path)
    refused = focal.post_form(f"{path}/attachments", {"file": (io.BytesIO(documents.exe()), "budget.pdf")},
                              page=path)
    page = focal.client.get(path).get_data(as_text=True)
    link = re.search(r'<a href="(/attachments/\d+)" download>Work plan.pdf</a>', page).group(1)

    assert attached.status_code == 302
    assert refused.status_code == 422
    assert re.search(r'id="file-error"[^>]*>the file&#39;s content is a Windows program \(exe\)',
                     refused.get_data(as_text=True))
    assert focal.client.get(link).get_data() == documents.pdf()
    assert browser_for(world.other_focal).client.get(link).status_code == 404
    assert browser_for(world.technical_reviewer).client.get(link).status_code == 200


def test_a_reviewer_sees_the_documents_but_no_upload_form(world, browser_for):
    ppa = world.create_ppa()

    page = browser_for(world.technical_reviewer).client.get(f"/ppas/{ppa['id']}").get_data(as_text=True)

    assert "Supporting documents" in page and "Attach the document" not in page


# -- the History tab ------------------------------------------------------------------------------------------

def test_the_history_merges_transitions_and_field_changes_by_time(world, browser_for):
    ppa = world.create_ppa(title="First title")
    world.patch(f"/api/monitoring-entries/{ppa['id']}", world.focal,
                {"title": "Second title", "budget_allocation": "6000000.00"})
    world.fire(ppa["id"], "submit", world.focal)
    world.fire(ppa["id"], "return_for_revision", world.technical_reviewer, comment="Add the map")

    page = text_of(browser_for(world.focal).client.get(f"/ppas/{ppa['id']}/history"))

    created = page.index("Created the PPA")
    changed = page.index("Title: First title to Second title")
    budget = page.index("Budget allocation: ₱5,000,000.00 to ₱6,000,000.00")
    submitted = page.index("Submit: Draft to Technical review")
    returned = page.index("Return for revision: Technical review to Draft")
    assert created < changed < submitted < returned and changed < budget < submitted
    assert "Add the map" in page and "as BPDA technical reviewer" in page
    assert re.search(r"Rule set [0-9a-f]{12}", page)
    assert "Approval status" not in page  # the transition says it


def test_the_list_costs_the_same_statements_for_few_and_for_many_ppas(world, browser_for, app):
    from tests.web.test_my_work import statements

    focal = browser_for(world.focal)
    world.create_ppa(title="One")
    focal.client.get("/ppas")  # warm: the first request of a session loads more
    with statements(app) as few:
        assert focal.client.get("/ppas").status_code == 200
    for number in range(30):
        world.create_ppa(title=f"More {number}")
    with statements(app) as many:
        assert len(rows_of(focal.client.get("/ppas"))) == 25

    assert len(few) == len(many)


def test_an_approver_of_one_stage_sees_the_next_approval_closed_and_why(world, browser_for):
    both = world.person("bpda.both", "technical_reviewer", "budget_analyst", org="BPDA")
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)
    world.fire(ppa["id"], "approve", both)

    page = browser_for(both).client.get(f"/ppas/{ppa['id']}").get_data(as_text=True)
    panel = text_of_html(page.split('id="actions"')[1].split("</aside>")[0])

    assert re.search(r'<button type="button" class="secondary" disabled aria-describedby="reason-approve">', page)
    assert ("You already approved the technical review stage of this PPA; one user may approve only one stage."
            in panel)
    assert "Requires role budget analyst" not in panel
    assert "Cannot enact a PPA in budget review." in panel


def test_a_missing_role_is_said_in_words(world, browser_for):
    ppa = world.create_ppa()
    world.fire(ppa["id"], "submit", world.focal)

    page = browser_for(world.focal).client.get(f"/ppas/{ppa['id']}").get_data(as_text=True)
    panel = text_of_html(page.split('id="actions"')[1].split("</aside>")[0])

    assert "Requires role technical reviewer." in panel
