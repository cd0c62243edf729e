"""Community feedback on completed PPAs (issue 15 item 3, docs/design.md §14
"Feedback"): a rating and a comment once per user per need, after a PPA
that addressed it is completed; photos checked by content and stripped of
their EXIF; the quarterly report per MOA beside its budget utilisation.

One backend, one world built for the module, each test's writes rolled back.
"""

from __future__ import annotations

import io
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from PIL import ExifTags, Image
from sqlalchemy import text

from db import db
from services import privacy, users
from tests import documents
from tests.conftest import ONE_BACKEND, _dispose, _make_app
from tests.support import Chain, World, rolled_back

NEED = {"title": "Footbridge for Arco", "description": "The river cuts the barangay in two.",
        "category": "infrastructure", "urgency": "high", "consent": True}


def _sql(world: World, statement: str, **values) -> None:
    """Change rows behind the services' back (as tracking would report it)."""
    with world.app.app_context():
        db.session.execute(text(statement), values)
        db.session.commit()


def _published_need(world: World, title: str) -> int:
    need = world.client.post("/api/needs", json=NEED | {"title": title}, headers=world.focal.headers).get_json()["id"]
    for step, extra in (("validate", {}), ("forward", {"organization": "MSSD"})):
        etag = world.client.get(f"/api/needs/{need}", headers=world.planning_officer.headers).headers["ETag"]
        response = world.client.post(f"/api/needs/{need}/transitions", json={"trigger": step, **extra},
                                     headers=world.planning_officer.headers | {"If-Match": etag})
        assert response.status_code == 200, response.get_json()
    return need


def _link(world: World, ppa: int, need: int) -> None:
    response = world.client.post(f"/api/monitoring-entries/{ppa}/needs", json={"need_id": need},
                                 headers=world.focal.headers)
    assert response.status_code == 201, response.get_json()


@pytest.fixture(scope="module")
def built(request, tmp_path_factory):
    """An enacted MSSD PPA (PHP 200,000; PHP 12,345.67 disbursed), completed,
    addressing the need ``done``; a draft MSSD PPA, not completed, addressing
    ``open``; ``both`` addressed by the two."""
    request.param = ONE_BACKEND
    application = _make_app(ONE_BACKEND, request, tmp_path_factory.mktemp("feedback"))
    world = World(application)
    world.focal, world.other_focal, world.planning_officer  # noqa: B018
    chain = Chain(world, budget="200000.00", approved="200000.00")
    allotment = chain.allot("100000.00")
    obligation = chain.obligate(allotment["id"], "50000.00")
    chain.disburse(obligation["id"], "12345.67")
    draft = world.create_ppa(title="Spring box", budget_allocation="1000.00")["id"]
    names = {"ppa": chain.ppa, "draft": draft, "done": _published_need(world, "Footbridge"),
             "open": _published_need(world, "Spring"), "both": _published_need(world, "Road")}
    _link(world, chain.ppa, names["done"])
    _link(world, draft, names["open"])
    _link(world, chain.ppa, names["both"])
    _link(world, draft, names["both"])
    _sql(world, "UPDATE ppas SET status = 'completed', progress = 100 WHERE id = :id", id=chain.ppa)
    names["rep"] = world.person("arco.rep", "community_representative")
    yield world, names
    _dispose(application)


@pytest.fixture
def w(built):
    world, names = built
    with rolled_back(world.app):
        yield world, names


def _rate(world, need, who, **body):
    return world.client.post(f"/api/needs/{need}/feedback", json={"rating": 4} | body, headers=who.headers)


def _photo(fmt: str = "JPEG", *, gps: bool = False, size=(40, 30)) -> bytes:
    image = Image.new("RGB", size, "red")
    out = BytesIO()
    if gps:
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "Phone"
        location = exif.get_ifd(ExifTags.IFD.GPSInfo)
        location[ExifTags.GPS.GPSLatitudeRef], location[ExifTags.GPS.GPSLatitude] = "N", (6.0, 40.0, 12.5)
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


def _upload(world, need, feedback, who, content: bytes, name: str = "site.jpg"):
    return world.client.post(f"/api/needs/{need}/feedback/{feedback}/photos", headers=who.headers,
                             data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def test_a_community_rates_the_completed_ppa_that_addressed_its_need(w):
    world, names = w
    response = _rate(world, names["done"], names["rep"], rating=5, comment="The bridge holds in the rains.")

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["rating"], body["ppa_id"], body["username"], body["photos"]) == (5, names["ppa"], "arco.rep", [])
    listed = world.client.get(f"/api/needs/{names['done']}/feedback", headers=world.other_focal.headers)
    assert listed.status_code == 404  # another MOA's need
    listed = world.client.get(f"/api/needs/{names['done']}/feedback", headers=world.planning_officer.headers)
    assert [f["comment"] for f in listed.get_json()] == ["The bridge holds in the rains."]
    assert "X-Pagination" in listed.headers
    assert not {"user_id", "email", "full_name"} & set(listed.get_json()[0])


@pytest.mark.parametrize("rating", [0, 6, 4.5, "4", True, None])
def test_a_rating_is_a_whole_number_from_1_to_5_and_nothing_else(w, rating):
    world, names = w
    response = _rate(world, names["done"], names["rep"], rating=rating)

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"rating"}


def test_a_comment_over_2000_characters_is_refused_by_name(w):
    world, names = w
    response = _rate(world, names["done"], names["rep"], comment="x" * 2001)

    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"comment"}
    assert _rate(world, names["done"], names["rep"], comment="x" * 2000).status_code == 201


def test_one_feedback_per_user_per_need(w):
    world, names = w
    assert _rate(world, names["done"], names["rep"]).status_code == 201
    second = _rate(world, names["done"], names["rep"], rating=1)

    assert (second.status_code, second.get_json()["code"]) == (409, "already_rated")
    assert second.get_json()["title"] == "Feedback already left"


def test_no_feedback_until_a_ppa_addressing_the_need_is_completed(w):
    world, names = w
    response = _rate(world, names["open"], names["rep"])

    assert (response.status_code, response.get_json()["code"]) == (409, "not_completed")


def test_with_two_addressing_ppas_the_rated_one_is_named_and_must_be_completed(w):
    world, names = w
    unnamed = _rate(world, names["both"], names["rep"])
    draft = _rate(world, names["both"], names["rep"], ppa_id=names["draft"])
    stranger = _rate(world, names["both"], names["rep"], ppa_id=999999)

    assert unnamed.status_code == 422 and set(unnamed.get_json()["errors"]) == {"ppa_id"}
    assert (draft.status_code, draft.get_json()["code"]) == (409, "not_completed")
    assert stranger.status_code == 422
    assert _rate(world, names["both"], names["rep"], ppa_id=names["ppa"]).status_code == 201


def test_the_summary_gives_the_count_average_and_distribution(w):
    world, names = w
    for who, rating in ((names["rep"], 5), (world.focal, 4), (world.planning_officer, 4)):
        assert _rate(world, names["done"], who, rating=rating).status_code == 201
    body = world.client.get(f"/api/needs/{names['done']}/feedback/summary", headers=world.focal.headers).get_json()

    assert (body["count"], body["average_rating"]) == (3, "4.33")
    assert body["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}


def test_a_photo_loses_its_gps_position_and_every_exif_tag(w):
    world, names = w
    feedback = _rate(world, names["done"], names["rep"]).get_json()["id"]
    sent = _photo(gps=True)
    assert Image.open(BytesIO(sent)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload has a position

    response = _upload(world, names["done"], feedback, names["rep"], sent)
    assert response.status_code == 201, response.get_json()
    stored = world.client.get(response.headers["Location"], headers=world.planning_officer.headers)

    assert stored.status_code == 200 and stored.mimetype == "image/jpeg"
    image = Image.open(BytesIO(stored.data))
    assert image.size == (40, 30)
    assert dict(image.getexif()) == {} and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Exif" not in stored.data
    listed = world.client.get(f"/api/needs/{names['done']}/feedback", headers=world.focal.headers).get_json()
    assert [p["id"] for p in listed[0]["photos"]] == [response.get_json()["id"]]


def test_only_jpeg_and_png_photos_by_their_content_are_accepted(w):
    world, names = w
    feedback = _rate(world, names["done"], names["rep"]).get_json()["id"]
    pdf = _upload(world, names["done"], feedback, names["rep"], documents.pdf(), "photo.jpg")
    gif = _upload(world, names["done"], feedback, names["rep"], _photo("GIF"), "photo.png")
    png = _upload(world, names["done"], feedback, names["rep"], _photo("PNG"), "photo.jpg")

    assert pdf.status_code == 422 and "PDF" not in pdf.get_json()["errors"]["file"][0].split("add")[1]
    assert "application/pdf" in pdf.get_json()["errors"]["file"][0]
    assert gif.status_code == 422 and set(gif.get_json()["errors"]) == {"file"}
    assert png.status_code == 201 and png.get_json()["media_type"] == "image/png"
    assert png.get_json()["file_name"] == "photo.jpg.png"


def test_a_photo_over_the_size_cap_of_feedback_yaml_is_refused(w):
    world, names = w
    feedback = _rate(world, names["done"], names["rep"]).get_json()["id"]
    limit = world.app.extensions["ppaflow"].rules.feedback.photo_max_bytes
    too_big = _photo() + b"\0" * (limit + 1)

    response = _upload(world, names["done"], feedback, names["rep"], too_big)
    assert response.status_code == 422 and "larger than" in response.get_json()["errors"]["file"][0]


def test_a_feedback_carries_at_most_the_photos_feedback_yaml_allows(w):
    world, names = w
    feedback = _rate(world, names["done"], names["rep"]).get_json()["id"]
    most = world.app.extensions["ppaflow"].rules.feedback.max_photos_per_feedback
    for _ in range(most):
        assert _upload(world, names["done"], feedback, names["rep"], _photo("PNG"), "a.png").status_code == 201

    response = _upload(world, names["done"], feedback, names["rep"], _photo("PNG"), "a.png")
    assert response.status_code == 422 and "at most" in response.get_json()["errors"]["file"][0]


def test_only_the_author_adds_and_deletes_the_photos_of_a_feedback(w):
    world, names = w
    feedback = _rate(world, names["done"], names["rep"]).get_json()["id"]
    assert _upload(world, names["done"], feedback, world.focal, _photo()).status_code == 403
    photo = _upload(world, names["done"], feedback, names["rep"], _photo()).headers["Location"]

    assert world.client.delete(photo, headers=world.focal.headers).status_code == 403
    assert world.client.delete(photo, headers=names["rep"].headers).status_code == 204
    assert world.client.get(photo, headers=names["rep"].headers).status_code == 404


def _report(world, who, quarter=2, suffix=""):
    return world.client.get(f"/api/reports/feedback{suffix}?fiscal_year=2025&quarter={quarter}", headers=who.headers)


def test_the_quarterly_report_puts_ratings_beside_budget_utilisation_per_moa(w):
    world, names = w
    for who, rating in ((names["rep"], 5), (world.focal, 4), (world.planning_officer, 2)):
        assert _rate(world, names["done"], who, rating=rating).status_code == 201
    _sql(world, "UPDATE need_feedback SET submitted_on = :day", day="2025-05-10")

    rows = _report(world, world.planning_officer).get_json()
    assert rows == [{"moa": "MSSD", "moa_name": rows[0]["moa_name"], "count": 3, "average_rating": "3.67",
                     "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}, "budget": "200000.00",
                     "disbursed": "12345.67", "utilisation": "6.17"}]
    first = _report(world, world.planning_officer, quarter=1).get_json()
    assert [(r["moa"], r["count"], r["average_rating"], r["utilisation"]) for r in first] == [
        ("MSSD", 0, None, "6.17")]
    assert _report(world, world.other_focal).get_json() == []  # MTIT sees no MSSD PPA


def test_the_quarterly_report_as_a_workbook_holds_the_same_figures(w):
    world, names = w
    assert _rate(world, names["done"], names["rep"], rating=5, comment="=HYPERLINK(\"x\")").status_code == 201
    _sql(world, "UPDATE need_feedback SET submitted_on = :day", day="2025-05-10")

    response = _report(world, world.focal, suffix=".xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    row = [cell.value for cell in sheet[4]]
    assert row[0] == "MSSD" and row[2:9] == [1, 5, 0, 0, 0, 0, 1]
    assert [Decimal(str(v)) for v in row[9:12]] == [Decimal(200000), Decimal("12345.67"), Decimal("6.17")]


def test_erasing_a_person_detaches_their_feedback_and_deletes_their_photos_but_keeps_the_average(w):
    world, names = w
    feedback = _rate(world, names["done"], names["rep"], comment="My neighbour Ana helped").get_json()["id"]
    photo = _upload(world, names["done"], feedback, names["rep"], _photo())
    assert photo.status_code == 201, photo.get_json()
    before = world.client.get(f"/api/needs/{names['done']}/feedback/summary", headers=world.focal.headers).get_json()

    with world.app.app_context():
        outcome = privacy.erase(users.get_user(world.admin.username), names["rep"].username)

    assert outcome.counts["feedback"] == 1 and outcome.counts["photos"] == 1
    listed = world.client.get(f"/api/needs/{names['done']}/feedback", headers=world.focal.headers).get_json()
    assert (listed[0]["username"], listed[0]["comment"], listed[0]["photos"]) == (None, "", [])
    assert world.client.get(photo.headers["Location"], headers=world.planning_officer.headers).status_code == 404
    after = world.client.get(f"/api/needs/{names['done']}/feedback/summary", headers=world.focal.headers).get_json()
    assert after == before  # the rating still counts, anonymously
