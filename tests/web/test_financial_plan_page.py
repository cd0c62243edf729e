"""The financial plan (BED No. 1 / No. 3) on the Execution tab (issue 13
item 3; docs/design.md §12 "Financial plan (BED No. 1 and No. 3)"): a month
× class grid saved in one post, a refusal next to its input with every
value kept, and the plan against the actual below it."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import emptied_after
from tests.web.test_ppa_tabs import tree_rows

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


@pytest.fixture
def app(request, module_app):
    """The module's one application, on a database emptied after each test."""
    yield from emptied_after(request, module_app)


def _grid(**amounts: tuple[str, str]) -> dict[str, str]:
    """The posted grid of a PPA appropriated in MOOE only: entry i is month
    i + 1; ``m3=("1,000,000", "250000")`` fills March's two inputs."""
    data = {}
    for index in range(12):
        obligations, disbursements = amounts.get(f"m{index + 1}", ("", ""))
        data |= {f"plan-lines-{index}-month": str(index + 1), f"plan-lines-{index}-allotment_class": "mooe",
                 f"plan-lines-{index}-obligations_planned": obligations,
                 f"plan-lines-{index}-disbursements_planned": disbursements}
    return data


def test_the_plan_is_saved_from_the_grid_and_a_refusal_is_shown_next_to_its_input_with_the_values_kept(
        app, world, chain, browser_for):
    page = f"/ppas/{chain.ppa}/execution"
    browser = browser_for(world.focal)

    refused = browser.post_form(f"{page}/plan", _grid(m2=("3,000,000", ""), m6=("2,500,000.50", "")), page=page)

    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    error = re.search(r'id="plan-lines-5-obligations_planned-error" class="field-error">([^<]*)<', html)
    assert error and "through June total PHP 5,500,000.50" in error.group(1)
    assert 'value="2,500,000.50"' in html and 'value="3,000,000"' in html
    assert tree_rows(app, "SELECT count(*) FROM execution_plan_lines") == [(0,)]

    saved = browser.post_form(f"{page}/plan", _grid(m3=("1,000,000", "250000.25"), m7=("", "750000")), page=page)

    assert saved.status_code == 302
    assert tree_rows(app, "SELECT month, obligations_planned, disbursements_planned FROM execution_plan_lines "
                          "ORDER BY month") == [(3, 100_000_000, 25_000_025), (7, 0, 75_000_000)]
    html = browser.client.get(page).get_data(as_text=True)
    assert 'id="plan-lines-2-obligations_planned" inputmode="decimal" name="plan-lines-2-obligations_planned" ' \
           'size="14" type="text" value="1000000.00"' in html
    march = re.search(r'<th scope="row">March</th>(.*?)</tr>', html.split('id="plan-vs-actual"')[1], re.DOTALL).group(1)
    assert "₱1,000,000.00" in march and "₱250,000.25" in march
