"""The PPA page's approval diagram without a browser (issue 14 item 5;
docs/design.md §11): the History tab carries the mermaid source of the
rules in force with the PPA's stage and path highlighted, the vendored
mermaid (no CDN, no inline script), and the path as a list beside it."""

from __future__ import annotations

import re
from html import unescape

from rules.diagrams import CURRENT_CLASS, PATH_CLASS


def test_a_ppa_in_budget_review_shows_the_diagram_with_its_stage_and_path_highlighted_and_the_path_in_words(
        world, browser_for):
    ppa = world.create_ppa(title="Diagrammed")
    world.fire(ppa["id"], "submit", world.focal)
    world.fire(ppa["id"], "return_for_revision", world.technical_reviewer, comment="Add the map")
    world.advance(ppa["id"], "budget_review")

    page = browser_for(world.focal).client.get(f"/ppas/{ppa['id']}/history").get_data(as_text=True)

    source = unescape(re.search(r'<pre class="mermaid"[^>]*>(.*?)</pre>', page, re.DOTALL).group(1))
    assert source.startswith("stateDiagram-v2")
    assert "budget_review --> stakeholder_consultation : approve [budget_analyst]" in source
    assert f"class draft,technical_review {PATH_CLASS}" in source
    assert f"class budget_review {CURRENT_CLASS}" in source
    assert '/static/vendor/mermaid/mermaid.min.js"' in page and '/static/diagrams.js"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # nothing inline
    steps = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", step)).strip()
             for step in re.findall(r"<li[^>]*>(.*?)</li>", page.split('class="path-taken"')[1].split("</ol>")[0],
                                    re.DOTALL)]
    assert [step.split(" (")[0] for step in steps] == [
        "Draft", "Technical review", "Draft", "Technical review", "Budget review"]
    assert steps[2].startswith("Draft (return for revision, ") and steps[-1].endswith("— now")


def test_the_rules_page_draws_every_workflow_and_lists_its_transitions_with_who_fires_them(world, browser_for):
    from rules.diagrams import machines
    from tests.support import shipped_rules

    page = browser_for(world.technical_reviewer).client.get("/rules").get_data(as_text=True)

    sources = [unescape(source) for source in re.findall(r'<pre class="mermaid"[^>]*>(.*?)</pre>', page, re.DOTALL)]
    names = list(machines(shipped_rules()))
    assert len(names) >= 5 and [source.splitlines()[1].split()[1].rstrip(",") for source in sources] == names
    assert not any("classDef" in source for source in sources)  # nothing is highlighted: no record here
    ors = page.split('id="workflow-ors"')[1].split("</section>")[0]
    assert "ORS workflow" in ors
    assert re.search(r'<td data-label="From">Box A signed: charges necessary and lawful</td><td data-label="Transition">certify obligation</td>'
                     r'<td data-label="Who">MOA budget officer</td><td data-label="To">Box B signed: obligated</td>', ors), ors
    assert '/static/vendor/mermaid/mermaid.min.js"' in page
