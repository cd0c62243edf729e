"""Community feedback on the need's page (issue 15 item 3, docs/design.md §14
"Feedback"): the form appears once a PPA addressing the need is completed,
refusals show next to their fields, and the saved feedback is listed with
its average, its comment inert and its photo a download."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import text

from db import db

NEED = {"title": "Footbridge for Arco", "description": "The river cuts the barangay in two.",
        "category": "infrastructure", "urgency": "high", "consent": True}


def _completed_need(world) -> int:
    world.focal  # noqa: B018 - MSSD exists
    need = world.client.post("/api/needs", json=NEED, headers=world.planning_officer.headers).get_json()["id"]
    for step, extra in (("validate", {}), ("forward", {"organization": "MSSD"})):
        etag = world.client.get(f"/api/needs/{need}", headers=world.planning_officer.headers).headers["ETag"]
        assert world.client.post(f"/api/needs/{need}/transitions", json={"trigger": step, **extra},
                                 headers=world.planning_officer.headers | {"If-Match": etag}).status_code == 200
    ppa = world.create_ppa(title="Arco footbridge")["id"]
    assert world.client.post(f"/api/monitoring-entries/{ppa}/needs", json={"need_id": need},
                             headers=world.focal.headers).status_code == 201
    with world.app.app_context(), db.engine.begin() as connection:  # as tracking would report it
        connection.execute(text("UPDATE ppas SET status = 'completed' WHERE id = :id"), {"id": ppa})
    return need


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(out, "PNG")
    return out.getvalue()


def test_a_community_leaves_feedback_with_a_photo_on_the_needs_page(world, browser_for):
    need = _completed_need(world)
    rep = browser_for(world.person("arco.rep", "community_representative"))
    page = f"/needs/{need}"
    assert "Rate the completed PPA" in rep.client.get(page).get_data(as_text=True)

    missing = rep.post_form(f"{page}/feedback", {"comment": "Good"}, page=page)
    assert missing.status_code == 422
    assert 'id="rating-error"' in missing.get_data(as_text=True)
    not_a_photo = rep.post_form(f"{page}/feedback", {"rating": "4", "file": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")},
                                page=page)
    assert not_a_photo.status_code == 422 and 'id="file-error"' in not_a_photo.get_data(as_text=True)

    saved = rep.post_form(f"{page}/feedback", {"rating": "4", "comment": "<script>x()</script> Sturdy bridge",
                                               "file": (io.BytesIO(_png()), "bridge.png")}, page=page)
    assert saved.status_code == 302
    html = rep.client.get(page).get_data(as_text=True)
    assert "Average rating <strong>4.00</strong> of 5 from 1 rating." in html
    assert "&lt;script&gt;x()&lt;/script&gt; Sturdy bridge" in html and "<script>x()" not in html
    assert "bridge.png" in html and "Rate the completed PPA" not in html  # once per need
    photo = html.split('href="/attachments/')[1].split('"')[0]
    assert rep.client.get(f"/attachments/{photo}").mimetype == "image/png"


def test_feedback_waits_for_a_completed_ppa(world, browser_for):
    need = world.client.post("/api/needs", json=NEED, headers=world.planning_officer.headers).get_json()["id"]
    html = browser_for(world.planning_officer).client.get(f"/needs/{need}").get_data(as_text=True)

    assert "Feedback opens once a PPA addressing this need is completed." in html
    assert "Rate the completed PPA" not in html


def test_with_two_completed_ppas_the_form_asks_which_one_is_rated(world, browser_for):
    need = _completed_need(world)
    second = world.create_ppa(title="Arco footbridge railings")["id"]
    assert world.client.post(f"/api/monitoring-entries/{second}/needs", json={"need_id": need},
                             headers=world.focal.headers).status_code == 201
    with world.app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE ppas SET status = 'completed' WHERE id = :id"), {"id": second})
    rep = browser_for(world.person("arco.rep", "community_representative"))
    page = f"/needs/{need}"
    assert "The PPA you rate" in rep.client.get(page).get_data(as_text=True)

    unnamed = rep.post_form(f"{page}/feedback", {"rating": "5"}, page=page)
    named = rep.post_form(f"{page}/feedback", {"rating": "5", "ppa_id": str(second)}, page=page)

    assert unnamed.status_code == 422 and 'id="ppa_id-error"' in unnamed.get_data(as_text=True)
    assert named.status_code == 302
    assert "Arco footbridge railings" in rep.client.get(page).get_data(as_text=True)
