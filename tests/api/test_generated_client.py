"""A client generated from ``/api/openapi.json`` by openapi-python-client
works (issue 10): the generator must produce it without a single warning
(a field, header or response it cannot express fails here), and a short
scenario runs through it against the app served on the loopback address:
create a PPA, read it with its ETag, edit it with If-Match, move it through
a transition, read its budget tree, download a workbook.

Offline: the generator is a dev dependency and nothing but the local
server is called. Its one setting beyond names maps the workbook's media
type to bytes, the generator's way for any binary type it does not know.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from web import create_app
from web.contract import XLSX

GENERATOR_CONFIG = f"""\
package_name_override: ppaflow_client
project_name_override: ppaflow-client
post_hooks: []
content_type_overrides:
  {XLSX}: application/octet-stream
  application/pdf: application/octet-stream
  image/png: application/octet-stream
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Iterator:
    """The generated client package, imported from a temporary directory."""
    directory = tmp_path_factory.mktemp("client")
    application = create_app({"DATABASE_URL": "sqlite://", "REDIS_URL": None, "TESTING": True})
    (directory / "openapi.json").write_bytes(application.test_client().get("/api/openapi.json").get_data())
    (directory / "config.yaml").write_text(GENERATOR_CONFIG)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "openapi-python-client"), "generate", "--path", "openapi.json",
         "--config", "config.yaml", "--meta", "none", "--output-path", "ppaflow_client", "--fail-on-warning"],
        cwd=directory, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stdout + result.stderr
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module("ppaflow_client")
    finally:
        sys.path.remove(str(directory))
        for name in [m for m in sys.modules if m == "ppaflow_client" or m.startswith("ppaflow_client.")]:
            del sys.modules[name]


@pytest.fixture
def served(app) -> Iterator[str]:
    """``app`` served over HTTP on 127.0.0.1 (a free port) while the test runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_generated_client_creates_edits_moves_and_reports_on_a_ppa(generated, served, world):
    from ppaflow_client import AuthenticatedClient
    from ppaflow_client.api.monitoring_entries import (
        get_api_monitoring_entries_ppa_id as read_ppa,
    )
    from ppaflow_client.api.monitoring_entries import (
        get_api_monitoring_entries_ppa_id_budget_allocation_tree as read_tree,
    )
    from ppaflow_client.api.monitoring_entries import (
        patch_api_monitoring_entries_ppa_id as edit_ppa,
    )
    from ppaflow_client.api.monitoring_entries import (
        post_api_monitoring_entries as create_ppa,
    )
    from ppaflow_client.api.monitoring_entries import (
        post_api_monitoring_entries_ppa_id_transitions as transition,
    )
    from ppaflow_client.api.records import get_api_reports_mfbm_budget_execution_xlsx as mfbm_report
    from ppaflow_client.models import PpaPatch, PpaWrite, PpaWriteCategory, Problem, TransitionRequest

    focal = AuthenticatedClient(base_url=served, token=world.focal.token, raise_on_unexpected_status=True)
    reviewer = AuthenticatedClient(base_url=served, token=world.technical_reviewer.token,
                                   raise_on_unexpected_status=True)

    created = create_ppa.sync_detailed(client=focal, body=PpaWrite(
        title="Livelihood Training Program", category=PpaWriteCategory.OOBC_PPA, fiscal_year=2025,
        budget_allocation="5000000.00", wbs_template="minimal"), idempotency_key="client-create-1")
    assert created.status_code == 201, created.content
    ppa_id = created.parsed.id

    read = read_ppa.sync_detailed(ppa_id, client=focal)
    etag = read.headers["ETag"]
    assert read.parsed.implementing_moa == "MSSD" and read.parsed.execution_project_id is None

    stale = edit_ppa.sync_detailed(ppa_id, client=focal, body=PpaPatch(title="Lost update"), if_match='"0"')
    edited = edit_ppa.sync_detailed(ppa_id, client=focal, body=PpaPatch(summary="Skills training for OBC members."),
                                    if_match=etag)
    assert isinstance(stale.parsed, Problem) and stale.parsed.code == "stale_version"
    assert edited.status_code == 200 and edited.parsed.summary == "Skills training for OBC members."
    assert edited.headers["ETag"] != etag

    submitted = transition.sync_detailed(ppa_id, client=focal, body=TransitionRequest(trigger="submit"),
                                         if_match=edited.headers["ETag"])
    approved = transition.sync_detailed(ppa_id, client=reviewer, body=TransitionRequest(trigger="approve"))
    assert submitted.parsed.approval_status == "technical_review"
    assert approved.parsed.approval_status == "budget_review"

    tree = read_tree.sync(ppa_id, client=focal)
    root = tree.breakdown[0]
    assert (tree.ppa_budget, root.allocated_budget) == ("5000000.00", "5000000.00")
    assert [child.title for child in root.children] == ["Main Deliverable"]

    report = mfbm_report.sync_detailed(client=focal, fiscal_year=2025)
    assert report.status_code == 200
    sheet = load_workbook(BytesIO(report.parsed.payload.read()))["Pipeline (not enacted)"]  # in review: not enacted
    assert "Livelihood Training Program" in [cell.value for cell in sheet["B"]]


def test_a_generated_client_uploads_a_supporting_document_and_downloads_it(generated, served, world):
    from ppaflow_client import AuthenticatedClient
    from ppaflow_client.api.attachments import get_api_attachments_attachment_id as download
    from ppaflow_client.api.attachments import get_api_monitoring_entries_ppa_id_attachments as list_files
    from ppaflow_client.api.attachments import post_api_monitoring_entries_ppa_id_attachments as upload
    from ppaflow_client.models import AttachmentUpload, Problem
    from ppaflow_client.types import File

    from tests import documents

    focal = AuthenticatedClient(base_url=served, token=world.focal.token, raise_on_unexpected_status=True)
    ppa_id = world.create_ppa()["id"]
    content = documents.pdf("Barangay Tamontaka profile")

    created = upload.sync_detailed(ppa_id, client=focal, body=AttachmentUpload(
        file=File(payload=BytesIO(content), file_name="profile.pdf", mime_type="application/pdf")))
    refused = upload.sync_detailed(ppa_id, client=focal, body=AttachmentUpload(
        file=File(payload=BytesIO(documents.exe()), file_name="budget.pdf", mime_type="application/pdf")))

    assert created.status_code == 201 and created.parsed.media_type == "application/pdf"
    assert isinstance(refused.parsed, Problem) and refused.status_code == 422
    assert [a.file_name for a in list_files.sync(ppa_id, client=focal)] == ["profile.pdf"]
    assert download.sync(created.parsed.id, client=focal).payload.read() == content
