"""The PPA page's Performance tab (issue 16 items 3-4, docs/design.md §15):
a focal person sees SPI and CPI, the S-curve and the critical path of their
PPA, and a PPA without a WBS says why there is nothing to measure."""

from __future__ import annotations

import re

from tests.api.test_earned_value_api import _two_task_ppa


def test_a_focal_person_sees_spi_cpi_the_s_curve_and_the_critical_path_of_their_ppa(world, browser_for):
    ppa, a, b = _two_task_ppa(world)
    assert world.client.post(f"/api/work-items/{b}/dependencies", json={"predecessor_id": a},
                             headers=world.focal.headers).status_code == 200
    assert world.patch(f"/api/work-items/{a}", world.focal, {"progress": 100}).status_code == 200
    browser = browser_for(world.focal)

    html = browser.client.get(f"/ppas/{ppa}/performance").get_data(as_text=True)

    assert "<h2 id=\"tab-heading\">Performance</h2>" in html
    assert re.search(r"<dt>SPI</dt><dd class=\"index\">\d\.\d{4}</dd>", html)
    assert re.search(r"<dt>Earned value</dt><dd>₱600,000.00</dd>", html)  # A done: 100% of 600,000
    assert "<title>Planned value (PV)</title></polyline>" in html and "<circle" in html  # the S-curve
    rows = re.findall(r"<tr class=\"(critical)?\"><td>(A|B)</td>", html)
    assert sorted(rows) == [("critical", "A"), ("critical", "B")]  # B waits for A: both on the path


def test_a_ppa_without_a_wbs_says_there_is_nothing_to_measure(world, browser_for):
    ppa = world.create_ppa()
    browser = browser_for(world.focal)

    html = browser.client.get(f"/ppas/{ppa['id']}/performance").get_data(as_text=True)

    assert "Nothing to measure yet" in html


def test_the_work_items_tab_marks_critical_items_in_words_and_shows_each_items_spi_and_cpi(world, browser_for):
    ppa, a, b = _two_task_ppa(world)  # A 1-10 Jan, B 6-15 Jan 2025: B alone is critical
    assert world.patch(f"/api/work-items/{a}", world.focal, {"progress": 50}).status_code == 200
    assert world.client.post(f"/api/work-items/{a}/expenditures", json={"amount": "200000.00"},
                             headers=world.focal.headers).status_code == 200
    tree = world.client.get(f"/api/monitoring-entries/{ppa}/budget_allocation_tree/?include=earned_value",
                            headers=world.focal.headers).get_json()
    figures = {n["work_item_id"]: n["earned_value"] for n in tree["breakdown"][0]["children"]}
    browser = browser_for(world.focal)

    html = browser.client.get(f"/ppas/{ppa}/work-items").get_data(as_text=True)

    item = {i: html[html.index(f'id="item-{i}"') - 50:] for i in (a, b)}
    item = {i: text[:text.index("</dl>")] for i, text in item.items()}
    assert 'class="wbs-item wbs-critical"' in item[b] and "Critical path</strong>" in item[b]
    assert "wbs-critical" not in item[a] and "Critical path" not in item[a]
    assert figures[a]["spi"] == "0.5000" and figures[a]["cpi"] == "1.5000"  # EV 300,000 of PV 600,000; AC 200,000
    assert re.search(r'SPI</abbr></dt><dd>0\.5000</dd>', item[a]) and re.search(r'CPI</abbr></dt><dd>1\.5000</dd>',
                                                                             item[a])
    assert re.search(r'SPI</abbr></dt><dd>0\.0000</dd>', item[b]) and re.search(r'CPI</abbr></dt><dd>—</dd>', item[b])
