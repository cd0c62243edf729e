"""An organization-scoped role counts only inside its own organization, on
every path (issue 10, item 4): a MOA focal person who is also a technical
reviewer reviews every MOA's PPAs, but submits only their own MOA's, over
the API, in the /actions listing and on the command line."""

from __future__ import annotations

from tests.support import cli


def reviewing_focal(world):
    """MTIT's focal person, who also holds the technical reviewer role."""
    return world.person("mtit.reviewing-focal", "moa_focal", "technical_reviewer", org="MTIT")


def actions(world, ppa_id, who):
    response = world.client.get(f"/api/monitoring-entries/{ppa_id}/actions", headers=who.headers)
    assert response.status_code == 200, response.get_json()
    return {a["trigger"]: a for a in response.get_json()["actions"]}


def history(world, ppa_id):
    response = world.client.get(f"/api/monitoring-entries/{ppa_id}/history", headers=world.admin.headers)
    return [(h["trigger"], h["role"]) for h in response.get_json()]


def test_a_focal_person_who_also_reviews_cannot_submit_another_moas_draft(world):
    draft = world.create_ppa()  # MSSD's

    response = world.fire(draft["id"], "submit", reviewing_focal(world))

    problem = response.get_json()
    assert (response.status_code, problem["code"]) == (403, "role_missing")
    assert "moa_focal role counts only for your own organization's PPAs" in problem["detail"]
    assert world.get(draft["id"], world.admin)["approval_status"] == "draft"
    assert history(world, draft["id"]) == []


def test_the_actions_listing_does_not_offer_them_another_moas_submit(world):
    draft = world.create_ppa()

    listed = actions(world, draft["id"], reviewing_focal(world))

    assert listed["submit"]["open"] is False
    assert [r["code"] for r in listed["submit"]["reasons"]] == ["role_missing"]
    assert "only for your own organization" in listed["submit"]["reasons"][0]["message"]


def test_the_command_line_refuses_them_another_moas_submit(app, world):
    draft = world.create_ppa()
    reviewing_focal(world)

    refused = cli(app, "ppa", "transition", str(draft["id"]), "submit", "--as", "mtit.reviewing-focal")

    assert refused.exit_code == 1 and "role_missing" in refused.output
    assert world.get(draft["id"], world.admin)["approval_status"] == "draft"


def test_they_submit_their_own_moas_draft_and_review_other_moas_ppas(world):
    person = reviewing_focal(world)
    own = world.create_ppa(person, category="moa_ppa")
    other = world.create_ppa(wbs_template="minimal")
    world.fire(other["id"], "submit", world.focal)

    submitted = world.fire(own["id"], "submit", person)
    approved = world.fire(other["id"], "approve", person)

    assert submitted.status_code == 200 and approved.status_code == 200, (submitted.get_json(), approved.get_json())
    assert history(world, own["id"]) == [("submit", "moa_focal")]
    assert history(world, other["id"]) == [("submit", "moa_focal"), ("approve", "technical_reviewer")]
    assert world.tree(other["id"])["breakdown"], "the approval's effect generated the execution project"
