"""Progress read by a user is exact (issue 10, item 13; docs/design.md §4):
the rollup keeps fractions through every level and rounds once, half-up,
where it is shown: the PPA, the project work item, and the nightly sync."""

from __future__ import annotations

from sqlalchemy import text

from db import db
from services.sweeps import sync_tracked_ppas

#: Seven activities; the first has tasks at 40, 40 and 45 % (125/3), the
#: others tasks at 25 and 50 % (37.5). Exactly: (125/3 + 6 x 37.5) / 7 =
#: 800/21 = 38.10 %. Rounding each activity first (42, 38 x 6) reads 39.
ACTIVITIES = [[40, 40, 45]] + [[25, 50]] * 6


def add_item(world, parent_id: int, work_type: str, title: str) -> dict:
    response = world.client.post("/api/work-items", json={"parent_id": parent_id, "work_type": work_type,
                                                          "title": title}, headers=world.focal.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json() | {"etag": response.headers["ETag"]}


def set_progress(world, item: dict, progress: int) -> None:
    response = world.client.patch(f"/api/work-items/{item['id']}", json={"progress": progress},
                                  headers=world.focal.headers | {"If-Match": item["etag"]})
    assert response.status_code == 200, response.get_json()


def seven_activity_ppa(world) -> tuple[int, int]:
    """A tracked PPA whose project holds the seven activities above (the
    template's own task cancelled, so it is left out). Returns (PPA, project)."""
    ppa, template_task = world.tracked_ppa("budget_review")
    cancelled = world.client.post(f"/api/work-items/{template_task}/transitions", json={"trigger": "cancel"},
                                  headers=world.focal.headers)
    assert cancelled.status_code == 200, cancelled.get_json()
    project = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]
    for number, progresses in enumerate(ACTIVITIES, start=1):
        activity = add_item(world, project, "activity", f"Activity {number}")
        for task_number, progress in enumerate(progresses, start=1):
            set_progress(world, add_item(world, activity["id"], "task", f"Task {number}.{task_number}"), progress)
    return ppa["id"], project


def test_a_ppa_whose_exact_progress_is_38_10_reads_38_not_39(world):
    ppa_id, project = seven_activity_ppa(world)

    shown = world.get(ppa_id, world.focal)["progress"]
    project_item = world.client.get(f"/api/work-items/{project}", headers=world.focal.headers).get_json()
    tree = world.tree(ppa_id)["breakdown"][0]

    assert (shown, project_item["progress"], tree["progress"]) == (38, 38, 38)
    assert [a["progress"] for a in tree["children"][1:]] == [42] + [38] * 6  # 41.67 and 37.5, each shown half-up


def test_the_nightly_sync_gives_the_same_exact_progress(world):
    ppa_id, _ = seven_activity_ppa(world)
    with world.app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE ppas SET progress = 0 WHERE id = :id"), {"id": ppa_id})

    with world.app.app_context():
        result = sync_tracked_ppas()

    assert (result["changed"], result["errors"]) == (1, 0)
    assert world.get(ppa_id, world.focal)["progress"] == 38
