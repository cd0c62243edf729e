"""Supporting documents over the API (issue 11): multipart upload, list and
download under the PPA's access rules; the type told by the content, the
size limited, the file stored outside the web root under a generated name,
the name sanitised, every upload audited."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from services.attachments import DOCX, XLSX, clean_file_name
from tests import documents


def upload(world, ppa_id: int, who, content: bytes, name: str, content_type: str = "application/pdf"):
    return world.client.post(f"/api/monitoring-entries/{ppa_id}/attachments", headers=who.headers,
                             data={"file": (io.BytesIO(content), name, content_type)},
                             content_type="multipart/form-data")


def listed(world, ppa_id: int, who):
    return world.client.get(f"/api/monitoring-entries/{ppa_id}/attachments", headers=who.headers)


def stored_files(app) -> list[Path]:
    return sorted(Path(app.config["ATTACHMENTS_DIR"]).glob("*"))


def test_a_focal_person_attaches_a_pdf_and_a_reviewer_downloads_it_byte_for_byte(world):
    ppa = world.create_ppa()
    content = documents.pdf("Barangay Tamontaka profile")

    created = upload(world, ppa["id"], world.focal, content, "Barangay profile.pdf")
    body = created.get_json()
    download = world.client.get(created.headers["Location"], headers=world.technical_reviewer.headers)

    assert created.status_code == 201, body
    assert {key: body[key] for key in ("record_type", "record_id", "file_name", "media_type", "size",
                                       "uploaded_by")} == {
        "record_type": "ppa", "record_id": ppa["id"], "file_name": "Barangay profile.pdf",
        "media_type": "application/pdf", "size": len(content), "uploaded_by": "mssd.focal"}
    assert listed(world, ppa["id"], world.technical_reviewer).get_json() == [body]
    assert download.status_code == 200 and download.get_data() == content
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"] == 'attachment; filename="Barangay profile.pdf"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("content", "media_type", "name"), [
    (documents.PNG, "image/png", "site photo.png"),
    (documents.xlsx(), XLSX, "line-item budget.xlsx"),
    (documents.docx(), DOCX, "work plan.docx"),
])
def test_images_workbooks_and_word_documents_are_accepted(world, content, media_type, name):
    ppa = world.create_ppa()

    created = upload(world, ppa["id"], world.focal, content, name, "application/octet-stream")

    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["media_type"], created.get_json()["file_name"]) == (media_type, name)


def test_a_program_disguised_as_a_pdf_is_refused_by_its_content_and_nothing_is_stored(world, app):
    ppa = world.create_ppa()

    refused = upload(world, ppa["id"], world.focal, documents.exe(), "budget.pdf", "application/pdf")

    assert refused.status_code == 422
    [message] = refused.get_json()["errors"]["file"]
    assert "a Windows program (exe)" in message and "whatever its name says" in message
    assert listed(world, ppa["id"], world.focal).get_json() == []
    assert stored_files(app) == []


def test_text_that_is_no_document_is_refused_whatever_it_is_called(world):
    ppa = world.create_ppa()

    refused = upload(world, ppa["id"], world.focal, b"<html><script>alert(1)</script></html>", "minutes.pdf")

    assert refused.status_code == 422
    assert "not a type of document ppaflow recognises" in refused.get_json()["errors"]["file"][0]


def test_the_type_comes_from_the_content_and_the_download_name_gets_its_extension(world):
    ppa = world.create_ppa()

    created = upload(world, ppa["id"], world.focal, documents.PNG, "scan.pdf", "application/pdf")
    download = world.client.get(created.headers["Location"], headers=world.focal.headers)

    assert created.get_json()["media_type"] == "image/png"
    assert created.get_json()["file_name"] == "scan.pdf.png"
    assert download.mimetype == "image/png"


def test_the_size_limit_is_a_setting_and_an_empty_file_is_refused(world, app):
    app.config["ATTACHMENT_MAX_BYTES"] = 2000
    ppa = world.create_ppa()
    content = documents.pdf()
    exact = content + b"%" * (2000 - len(content))

    accepted = upload(world, ppa["id"], world.focal, exact, "exact.pdf")
    too_large = upload(world, ppa["id"], world.focal, exact + b"%", "one byte more.pdf")
    empty = upload(world, ppa["id"], world.focal, b"", "empty.pdf")
    far_too_large = upload(world, ppa["id"], world.focal, exact + b"%" * (2 * 1024 * 1024), "huge.pdf")

    assert accepted.status_code == 201
    assert too_large.status_code == 422 and "larger than 2,000 bytes" in too_large.get_json()["errors"]["file"][0]
    assert empty.status_code == 422 and "empty" in empty.get_json()["errors"]["file"][0]
    assert far_too_large.status_code == 413
    assert len(listed(world, ppa["id"], world.focal).get_json()) == 1


def test_files_are_stored_outside_the_web_root_under_generated_names(world, app):
    ppa = world.create_ppa()

    upload(world, ppa["id"], world.focal, documents.pdf(), "../../web/static/evil.pdf")

    [stored] = stored_files(app)
    assert re.fullmatch(r"[0-9a-f]{32}", stored.name)
    assert Path(app.static_folder).resolve() not in stored.resolve().parents
    assert world.client.get("/static/evil.pdf").status_code == 404


def test_names_are_sanitised_for_display_and_for_the_content_disposition_header(world):
    ppa = world.create_ppa()

    created = upload(world, ppa["id"], world.focal, documents.pdf(), "C:/Users/x/Ulat ng\u202e Barangay; a=b – Ñ.pdf")
    download = world.client.get(created.headers["Location"], headers=world.focal.headers)

    assert created.get_json()["file_name"] == "Ulat ng Barangay_ a=b – Ñ.pdf"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"Ulat ng Barangay_ a=b  N.pdf\"; "
        "filename*=UTF-8''Ulat%20ng%20Barangay_%20a%3Db%20%E2%80%93%20%C3%91.pdf")


@pytest.mark.parametrize(("raw", "media_type", "expected"), [
    ("report.PDF", "application/pdf", "report.pdf"),
    ("photo.jpeg", "image/jpeg", "photo.jpeg"),
    (".pdf", "application/pdf", "document.pdf"),
    ("", "application/pdf", "document.pdf"),
    ("/etc/passwd", "application/pdf", "passwd.pdf"),
    ("a\u200bb\x00c.pdf", "application/pdf", "abc.pdf"),
    ('Ulat "Barangay"\r\nSet-Cookie: a=b.pdf', "application/pdf", "Ulat _Barangay_ Set-Cookie_ a=b.pdf"),
    ("..hidden", "application/pdf", "hidden.pdf"),
    ("C:\\Users\\x\\plan.docx", DOCX, "plan.docx"),
    ("x" * 300 + ".pdf", "application/pdf", "x" * 146 + ".pdf"),
])
def test_clean_file_name_keeps_a_safe_name_with_the_contents_extension(raw, media_type, expected):
    assert clean_file_name(raw, media_type) == expected


def test_another_moas_ppa_has_no_attachments_to_list_upload_or_download(world):
    ppa = world.create_ppa()
    created = upload(world, ppa["id"], world.focal, documents.pdf(), "profile.pdf")
    stranger = world.other_focal

    assert listed(world, ppa["id"], stranger).status_code == 404
    assert upload(world, ppa["id"], stranger, documents.pdf(), "mine.pdf").status_code == 404
    assert world.client.get(created.headers["Location"], headers=stranger.headers).status_code == 404
    assert world.client.get("/api/attachments/999", headers=world.focal.headers).status_code == 404


def test_a_reviewer_reads_the_documents_but_only_the_moa_attaches_them(world):
    ppa = world.create_ppa()

    refused = upload(world, ppa["id"], world.technical_reviewer, documents.pdf(), "review notes.pdf")
    by_admin = upload(world, ppa["id"], world.admin, documents.pdf(), "from the administrator.pdf")

    assert refused.status_code == 403
    assert "focal persons and administrators" in refused.get_json()["detail"]
    assert by_admin.status_code == 201


def test_every_upload_is_audited_with_who_and_what(world):
    ppa = world.create_ppa()
    created = upload(world, ppa["id"], world.focal, documents.pdf(), "profile.pdf").get_json()

    audit = world.client.get(f"/api/audit?entity=attachment&id={created['id']}", headers=world.admin.headers)

    [entry] = audit.get_json()
    assert (entry["action"], entry["actor"]) == ("create", "mssd.focal")
    assert '"file_name": "profile.pdf"' in entry["new_value"] and f'"record_id": {ppa["id"]}' in entry["new_value"]


def test_an_upload_without_a_file_names_the_field(world):
    ppa = world.create_ppa()

    missing = world.client.post(f"/api/monitoring-entries/{ppa['id']}/attachments", headers=world.focal.headers,
                                data={}, content_type="multipart/form-data")

    assert missing.status_code == 422 and "file" in missing.get_json()["errors"]
