"""A MOA's focal persons and coordination meetings on pages (issue 15 item
6, docs/design.md §16 "Focal persons and coordination meetings"): a planner
appoints a focal person (a refusal shown next to its field), the MOA reads
its registry with contacts, another MOA does not; a meeting's page shows
its pre-meeting report."""

from __future__ import annotations

from services import users


def _mssd(world) -> int:
    world.focal  # noqa: B018 - MSSD exists
    with world.app.app_context():
        return users.get_organization("MSSD").id


FORM = {"kind": "primary", "name": "Bai Norhaya Mangudadatu", "position": "Planning Officer III",
        "email": "norhaya.m@example.org", "phone": "+63 917 555 0101", "appointed_on": "2025-01-06"}


def test_a_planner_appoints_a_primary_focal_person_and_a_second_is_refused_on_the_form(world, browser_for):
    page = f"/organizations/{_mssd(world)}/focal-persons"
    planner = browser_for(world.planning_officer)

    assert planner.post_form(page, FORM).status_code == 302
    again = planner.post_form(page, FORM | {"name": "Datu Ali"})
    html = again.get_data(as_text=True)

    assert again.status_code == 409
    assert "already has a current primary focal person" in html and 'value="Datu Ali"' in html
    bad = planner.post_form(page, FORM | {"kind": "deputy"})
    assert bad.status_code == 422 and 'id="kind-error"' in bad.get_data(as_text=True)


def test_the_moa_reads_its_focal_persons_contacts_and_another_moa_gets_404(world, browser_for):
    page = f"/organizations/{_mssd(world)}/focal-persons"
    browser_for(world.planning_officer).post_form(page, FORM)

    html = browser_for(world.focal).client.get(page).get_data(as_text=True)
    assert "norhaya.m@example.org" in html and "+63 917 555 0101" in html and "Appoint a focal person" not in html
    assert browser_for(world.other_focal).client.get(page).status_code == 404


def test_a_meetings_page_shows_its_pre_meeting_report(world, browser_for):
    world.create_ppa(title="Day care centres", budget_allocation="1250000.00")
    planner = browser_for(world.planning_officer)

    called = planner.post_form("/coordination-meetings", {"organization": "MSSD", "fiscal_year": "2025",
                                                          "quarter": "2", "held_on": "2025-07-10", "agenda": ""})
    assert called.status_code == 302, called.get_data(as_text=True)
    html = planner.client.get(called.headers["Location"]).get_data(as_text=True)

    assert "Day care centres" in html and "₱1,250,000.00" in html and "2025-06-30" in html
    assert "2025-07-03" in html  # due seven days before, by goals.yaml
    workbook = planner.client.get(f"{called.headers['Location']}/pre-meeting-report.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"  # an xlsx is a zip


def test_a_bad_email_on_the_form_is_shown_next_to_it_and_nothing_is_saved(world, browser_for):
    page = f"/organizations/{_mssd(world)}/focal-persons"
    planner = browser_for(world.planning_officer)

    refused = planner.post_form(page, FORM | {"email": "norhaya at example"})

    assert refused.status_code == 422 and 'id="email-error"' in refused.get_data(as_text=True)
    assert "No focal person is recorded" in planner.client.get(page).get_data(as_text=True)
