"""The approval diagram in a real browser (issue 14 item 5; docs/design.md
§11): the vendored mermaid draws the PPA's History tab diagram as an SVG with
the stage now and the path taken highlighted, under a policy that refuses
inline script; the
rules page draws every workflow of the rule set."""

from __future__ import annotations

from playwright.sync_api import expect

from rules.diagrams import CURRENT_CLASS, PATH_CLASS
from tests.browser.conftest import sign_in

#: A policy with no inline or evaluated script: the page's scripts must all be static files of this site.
STRICT_POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"


def under_strict_policy(route) -> None:
    """Serve the page as the app does, under ``STRICT_POLICY`` (the app sends no policy on pages today)."""
    response = route.fetch()
    route.fulfill(response=response, headers=response.headers | {"content-security-policy": STRICT_POLICY})


def test_the_vendored_mermaid_draws_the_diagram_with_the_budget_review_stage_highlighted(web, page, check_page):
    world = web.world
    ppa = world.create_ppa(title="Madrasah Teachers Training")
    world.advance(ppa["id"], "budget_review")
    loaded = []
    page.on("request", lambda request: loaded.append(request.url))

    sign_in(page, web, world.focal)
    page.route("**/history", under_strict_policy)
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(f"/ppas/{ppa['id']}/history")

    svg = page.locator(".workflow-diagram pre.mermaid svg")
    expect(svg).to_be_visible()
    current = svg.locator(f"g.{CURRENT_CLASS}")
    expect(current).to_have_count(1)
    expect(current).to_contain_text("Budget review")
    expect(svg.locator(f"g.{PATH_CLASS}")).to_have_count(2)  # draft, technical review
    expect(page.locator("ol.path-taken li[aria-current=step]")).to_contain_text("Budget review")
    assert any(url.endswith("/static/vendor/mermaid/mermaid.min.js") for url in loaded)
    assert all(url.startswith(web.base) for url in loaded), "loaded from another site"
    assert refused == []
    page.unroute("**/history")
    page.reload()  # axe is injected as an inline script, which the policy refuses
    expect(page.locator(f".workflow-diagram svg g.{CURRENT_CLASS}")).to_have_count(1)
    check_page(page, "/ppas/<id>/history (diagram)")

    page.get_by_role("link", name="Every workflow of the rules in force").click()
    sections = page.locator("section.workflow-diagram")
    expect(sections.first).to_be_visible()
    expect(page.locator("section.workflow-diagram pre.mermaid svg")).to_have_count(sections.count())
    expect(page.locator("section#workflow-ors svg")).to_contain_text("Box B signed: obligated")
    check_page(page, "/rules")
