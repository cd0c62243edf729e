"""``GET /api/wbs-templates/{name}/preview`` (issue 14, item 6): a WBS template
laid out on a budget and date range exactly as enabling tracking generates
it, with nothing written."""

from __future__ import annotations


def preview(world, name, who=None, **query):
    return world.client.get(f"/api/wbs-templates/{name}/preview", query_string=query,
                            headers=(who or world.focal).headers)


def flatten(node, key_budget, key_dates):
    """(title, allocation, first day, last day) of a node and its descendants, pre-order."""
    out = [(node["title"], node[key_budget], *(node.get(k) for k in key_dates))]
    for child in node["children"]:
        out += flatten(child, key_budget, key_dates)
    return out


def test_a_preview_is_what_enabling_tracking_generates_for_the_same_budget_and_dates(world):
    ppa = world.create_ppa(wbs_template="program", budget_allocation="1234567.89",
                           start_date="2025-02-01", target_end_date="2025-11-30")
    world.advance(ppa["id"], "technical_review")

    shown = preview(world, "program", world.technical_reviewer, budget="1234567.89",
                    start_date="2025-02-01", end_date="2025-11-30")

    assert shown.status_code == 200
    body = shown.get_json()
    assert (body["template"], body["budget"], body["items"]) == ("program", "1234567.89", 13)
    enabled = world.client.post(f"/api/monitoring-entries/{ppa['id']}/enable_workitem_tracking/",
                                json={"structure_template": "program"}, headers=world.focal.headers).get_json()
    generated = enabled["budget_allocation_tree"]["breakdown"][0]
    previewed = flatten(body["root"], "allocated_budget", ())
    assert [row[1:] for row in previewed] == [row[1:] for row in flatten(generated, "allocated_budget", ())]
    assert [row[0] for row in previewed[1:]] == [row[0] for row in flatten(generated, "allocated_budget", ())[1:]]
    assert body["root"]["children"][0]["start_date"] == "2025-02-01"
    assert body["root"]["children"][-1]["due_date"] == "2025-11-30"


def test_every_level_of_a_preview_sums_exactly_to_its_parent(world):
    body = preview(world, "program", budget="0.07").get_json()

    def check(node):
        if node["children"]:
            total = sum(int(c["allocated_budget"].replace(".", "")) for c in node["children"])
            assert total == int(node["allocated_budget"].replace(".", "")), node["title"]
            for child in node["children"]:
                check(child)

    check(body["root"])
    assert body["root"]["allocated_budget"] == "0.07"


def test_an_unknown_template_is_404(world):
    response = preview(world, "nonesuch", budget="100.00")

    assert response.status_code == 404


def test_bad_input_is_422_per_field(world):
    missing = preview(world, "activity")
    bad = preview(world, "activity", budget="1.005", start_date="2025-13-01")
    backwards = preview(world, "activity", budget="100.00", start_date="2025-06-01", end_date="2025-05-31")

    assert missing.status_code == bad.status_code == backwards.status_code == 422
    assert set(missing.get_json()["errors"]) == {"budget"}
    assert set(bad.get_json()["errors"]) == {"budget", "start_date"}
    assert set(backwards.get_json()["errors"]) == {"end_date"}
