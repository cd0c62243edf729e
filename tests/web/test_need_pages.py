"""Community needs on pages (issue 15, docs/design.md §14): the list with
its filters, a need's page with its vote button and Actions panel, and the
forward step that names the MOA."""

from __future__ import annotations

RAISED = {"title": "Water system for Arco", "description": "Households fetch water 2 km away.",
          "category": "water_sanitation", "urgency": "high", "province_code": "1900700000",
          "estimated_cost": "2500000.00", "consent": True}


def _need(world, **extra) -> int:
    response = world.client.post("/api/needs", json=RAISED | extra, headers=world.planning_officer.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_planner_validates_and_forwards_a_need_and_anyone_signed_in_votes_for_it(world, browser_for):
    world.focal  # noqa: B018 - MSSD exists
    need = _need(world)
    planner = browser_for(world.planning_officer)
    page = f"/needs/{need}"

    assert "Validate" in planner.client.get(page).get_data(as_text=True)
    assert planner.post_form(f"{page}/transitions", {"trigger": "validate"}, page=page).status_code == 302
    forwarded = planner.post_form(f"{page}/transitions", {"trigger": "forward", "organization": "MSSD"}, page=page)
    assert forwarded.status_code == 302

    focal = browser_for(world.focal)
    html = focal.client.get(page).get_data(as_text=True)
    assert "Forwarded to a MOA" in html and "₱2,500,000.00" in html and "Vote for this need" in html
    focal.post_form(f"{page}/vote", page=page)
    assert "Withdraw my vote" in focal.client.get(page).get_data(as_text=True)


def test_the_list_filters_by_category_and_province(world, browser_for):
    _need(world)
    _need(world, title="Rural health unit", category="health", province_code="1903600000")
    browser = browser_for(world.technical_reviewer)

    html = browser.client.get("/needs?category=health").get_data(as_text=True)
    basilan = browser.client.get("/needs?province_code=1900700000").get_data(as_text=True)

    assert "Rural health unit" in html and "Water system for Arco" not in html
    assert "Water system for Arco" in basilan and "Rural health unit" not in basilan


def test_the_public_page_opens_without_signing_in(world, app):
    _need(world)

    response = app.test_client().get("/public/needs")

    assert response.status_code == 200 and "No published need matches." in response.get_data(as_text=True)


def test_a_focal_person_raises_a_need_on_a_form_and_consent_is_asked_next_to_its_box(world, browser_for):
    browser = browser_for(world.focal)
    form = {"title": "Footbridge for Sitio Lumbia", "description": "Children cross the river on foot.",
            "category": "water_sanitation", "urgency": "high", "submission_type": "community_submission",
            "province_code": "1900700000", "estimated_cost": "1,250,000.50", "population_affected": "420"}

    assert "Raise a need" in browser.client.get("/needs").get_data(as_text=True)
    refused = browser.post_form("/needs/new", form)
    raised = browser.post_form("/needs/new", form | {"consent": "y"})

    assert refused.status_code == 422
    assert 'id="consent-error"' in refused.get_data(as_text=True)
    assert "consent is required to record personal data" in refused.get_data(as_text=True)
    assert 'value="Footbridge for Sitio Lumbia"' in refused.get_data(as_text=True)  # nothing typed is lost
    assert raised.status_code == 302
    page = browser.client.get(raised.headers["Location"]).get_data(as_text=True)
    assert "Footbridge for Sitio Lumbia" in page and "₱1,250,000.50" in page
