"""The planning side of the web app (issue 15 item 8, docs/design.md §14 and
§16): a need's trail (need → PPA → WBS progress → disbursements), vote
buttons on the lists (HTMX), the gap-analysis dashboard with a chart drawn
on the server as SVG, the top priorities, the goals with their progress and
the alignment matrix."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import text

from db import db
from services import needs, users

NEED = {"title": "Water system for Arco", "description": "Households fetch water 2 km away.",
        "category": "water_sanitation", "urgency": "high", "province_code": "1900700000",
        "estimated_cost": "2500000.00", "consent": True}
HTMX = {"HX-Request": "true"}


def _need(world, *steps, **extra) -> int:
    response = world.client.post("/api/needs", json=NEED | extra, headers=world.planning_officer.headers)
    assert response.status_code == 201, response.get_json()
    need = response.get_json()["id"]
    for step in steps:
        etag = world.client.get(f"/api/needs/{need}", headers=world.planning_officer.headers).headers["ETag"]
        body = {"trigger": step} | ({"organization": "MSSD"} if step == "forward" else {})
        fired = world.client.post(f"/api/needs/{need}/transitions", json=body,
                                  headers=world.planning_officer.headers | {"If-Match": etag})
        assert fired.status_code == 200, fired.get_json()
    return need


def _set_progress(world, ppa_id: int, progress: int) -> None:
    with world.app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE ppas SET progress = :p WHERE id = :id"), {"p": progress, "id": ppa_id})


def test_a_needs_page_follows_it_to_its_ppa_stage_progress_and_money_spent(chain, browser_for):
    world = chain.world
    obligation = chain.obligate(chain.allot("100000.00")["id"], "50000.00")
    chain.disburse(obligation["id"], "100.00")
    _set_progress(world, chain.ppa, 60)
    need = _need(world, "validate", "forward")
    linked = world.client.post(f"/api/monitoring-entries/{chain.ppa}/needs", json={"need_id": need},
                               headers=world.focal.headers)
    assert linked.status_code == 201, linked.get_json()

    html = browser_for(world.executive).client.get(f"/needs/{need}").get_data(as_text=True)

    trail = html[html.index('id="trail-heading"'):]
    assert f'href="/ppas/{chain.ppa}"' in trail and "Enacted" in trail
    assert 'value="60"' in trail and "60%" in trail
    assert "₱5,000,000.00" in trail and "₱50,000.00" in trail and "₱100.00" in trail
    assert world.client.post(f"/api/needs/{need}/votes", headers=world.other_focal.headers).status_code == 404
    with world.app.app_context():
        assert needs.need_trail(users.get_user(world.other_focal.username), need) == []  # MSSD's PPA stays hidden


def test_the_gap_analysis_page_shows_its_figures_in_a_table_and_a_chart_drawn_on_the_server(world, browser_for):
    world.focal  # noqa: B018 - MSSD exists
    _need(world, "validate")
    _need(world, title="Rural health unit", category="health", estimated_cost="1000000.00")

    html = browser_for(world.technical_reviewer).client.get("/needs/gap-analysis").get_data(as_text=True)

    assert html.count("<svg") == 2 and "<script" not in html[html.index("<svg"):html.rindex("</svg>")]
    assert "Water and sanitation" in html and "Basilan" in html
    assert "₱3,500,000.00" in html and "₱2,500,000.00" in html  # raised in all; validated and unfunded


def test_the_gap_analysis_page_with_no_need_says_so(world, browser_for):
    html = browser_for(world.technical_reviewer).client.get("/needs/gap-analysis").get_data(as_text=True)
    assert "No need matches." in html and "<svg" not in html


def test_text_in_the_chart_is_inert(app):
    hostile = '<script>alert("x")</script>&'
    with app.test_request_context():
        svg = render_template("_bar_chart.svg.html", chart_id="c", chart_title=hostile,
                              chart_series=[(hostile, "#000")], chart_bars=[(hostile, [2])])

    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp;" in svg


def test_a_vote_from_the_list_replaces_only_its_button(world, browser_for):
    need = _need(world, "validate")
    browser = browser_for(world.focal)
    assert "Vote <span" in browser.client.get("/needs").get_data(as_text=True)

    answer = browser.post_form(f"/needs/{need}/vote", page="/needs", headers=HTMX)

    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and body.lstrip().startswith("<form") and "Withdraw" in body
    assert f'id="vote-{need}"' in body and '<span class="count" aria-label="1 votes">1</span>' in body


def test_the_top_priorities_page_ranks_the_published_needs_with_their_vote_buttons(world, browser_for):
    first = _need(world, "validate")
    _need(world, "validate", title="Second well")
    _need(world, title="Not validated yet")
    world.client.post(f"/api/needs/{first}/votes", headers=world.budget_analyst.headers)

    html = browser_for(world.focal).client.get("/needs/priorities").get_data(as_text=True)

    assert "Water and sanitation · Basilan" in html
    assert html.index("Water system for Arco") < html.index("Second well") and "Not validated yet" not in html
    assert f'hx-post="/needs/{first}/vote"' in html


def test_the_goals_page_and_the_alignment_matrix_show_progress_and_budget(chain, browser_for):
    world = chain.world
    _set_progress(world, chain.ppa, 60)
    goal = world.client.post("/api/strategic-goals", json={"title": "Universal access to safe water",
                                                           "target_year": 2028},
                             headers=world.planning_officer.headers).get_json()["id"]
    world.client.post("/api/strategic-goals", json={"title": "Roads for every town", "target_year": 2028},
                      headers=world.planning_officer.headers)
    linked = world.client.post(f"/api/strategic-goals/{goal}/ppas", json={"ppa_id": chain.ppa},
                               headers=world.planning_officer.headers)
    assert linked.status_code == 201, linked.get_json()
    browser = browser_for(world.executive)

    goals = browser.client.get("/goals").get_data(as_text=True)
    matrix = browser.client.get("/goals/alignment").get_data(as_text=True)

    assert "Universal access to safe water" in goals and "60.0%" in goals and "₱5,000,000.00" in goals
    assert 'href="/goals"' in goals and 'href="/needs"' in goals  # in the navigation
    cells = matrix[matrix.index('id="matrix-heading"'):matrix.index('id="unserved-heading"')]
    assert "MSSD" in cells and "1 PPA, ₱5,000,000.00" in cells and "60.0%" in cells
    unserved = matrix[matrix.index('id="unserved-heading"'):matrix.index('id="unaligned-heading"')]
    assert "Roads for every town" in unserved and "Universal access" not in unserved
