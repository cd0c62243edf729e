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

    source = unescape(re.search(r'<pre class="mermaid"[^>]*>(.*?)</pre>', page, re.S).group(1))
    assert source.startswith("stateDiagram-v2")
    assert "budget_review --> stakeholder_consultation : approve [budget_analyst]" in source
    assert f"class draft,technical_review {PATH_CLASS}" in source
    assert f"class budget_review {CURRENT_CLASS}" in source
    assert '/static/vendor/mermaid/mermaid.min.js"' in page and '/static/diagrams.js"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # nothing inline
    steps = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", step)).strip()
             for step in re.findall(r"<li[^>]*>(.*?)</li>", page.split('class="path-taken"')[1].split("</ol>")[0],
                                    re.S)]
    assert [step.split(" (")[0] for step in steps] == [
        "Draft", "Technical review", "Draft", "Technical review", "Budget review"]
    assert steps[2].startswith("Draft (return for revision, ") and steps[-1].endswith("— now")
