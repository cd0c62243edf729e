"""Supporting documents of ORS and DV over the API (issue 12 item 8;
docs/design.md §12): the same checks as a PPA's (type by content, audited),
seen by whoever may see the obligation or disbursement, attached by its
MOA's officers of the money chain and MFBM.

Attachments are files and their checks the services', not the database's:
these tests run on one backend (``ONE_BACKEND``)."""

from __future__ import annotations

import io

import pytest

from tests import documents
from tests.conftest import ONE_BACKEND, one_backend_app
from tests.support import Chain, built_once


def upload(world, path: str, who, content: bytes, name: str):
    return world.client.post(f"/api/{path}/attachments", headers=who.headers,
                             data={"file": (io.BytesIO(content), name, "application/pdf")},
                             content_type="multipart/form-data")


def listed(world, path: str, who):
    return world.client.get(f"/api/{path}/attachments", headers=who.headers)


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    """The application on ``ONE_BACKEND`` only."""
    yield from one_backend_app(request, tmp_path)


@pytest.fixture
def paid(world):
    """An ORS of PHP 300,000.00 and a DV of PHP 100,000.00 paying it, in a
    ``chain`` (built once: ``built_once``): their API paths."""
    return built_once(world, "paid_ors_and_dv", _paid)


def _paid(world) -> dict[str, str]:
    chain = Chain(world)
    allotment = chain.allot("1000000.00")["id"]
    obligation = chain.obligate(allotment, "300000.00")["id"]
    disbursement = chain.disburse(obligation, "100000.00")["id"]
    return {"obligation": f"obligations/{obligation}", "disbursement": f"disbursements/{disbursement}"}


@pytest.mark.parametrize("record_type", ["obligation", "disbursement"])
def test_the_moa_attaches_a_pdf_to_an_ors_or_a_dv_and_mfbm_downloads_it_byte_for_byte(world, paid, record_type):
    content = documents.pdf("Purchase request and abstract of canvass")

    created = upload(world, paid[record_type], world.focal, content, "Abstract of canvass.pdf")
    body = created.get_json()
    download = world.client.get(created.headers["Location"], headers=world.budget_analyst.headers)

    assert created.status_code == 201, body
    assert (body["record_type"], body["record_id"], body["file_name"]) == (
        record_type, int(paid[record_type].rsplit("/", 1)[1]), "Abstract of canvass.pdf")
    assert listed(world, paid[record_type], world.budget_analyst).get_json() == [body]
    assert download.status_code == 200 and download.get_data() == content


def test_a_program_named_like_a_pdf_is_refused_on_a_dv_by_its_content(world, paid):
    refused = upload(world, paid["disbursement"], world.focal, documents.exe(), "official receipt.pdf")

    assert refused.status_code == 422
    assert "a Windows program (exe)" in refused.get_json()["errors"]["file"][0]
    assert listed(world, paid["disbursement"], world.focal).get_json() == []


@pytest.mark.parametrize("record_type", ["obligation", "disbursement"])
def test_another_moas_ors_and_dv_have_no_documents_to_list_upload_or_download(world, paid, record_type):
    created = upload(world, paid[record_type], world.focal, documents.pdf(), "contract.pdf")
    stranger = world.other_focal

    assert listed(world, paid[record_type], stranger).status_code == 404
    assert upload(world, paid[record_type], stranger, documents.pdf(), "mine.pdf").status_code == 404
    assert world.client.get(created.headers["Location"], headers=stranger.headers).status_code == 404
    assert listed(world, paid[record_type], world.focal).get_json() == [created.get_json()]


def test_an_unknown_ors_or_dv_has_no_documents(world, paid):
    assert listed(world, "obligations/999999", world.focal).status_code == 404
    assert upload(world, "disbursements/999999", world.focal, documents.pdf(), "x.pdf").status_code == 404


def test_a_reviewer_outside_the_money_chain_reads_the_documents_but_does_not_attach_them(world, paid):
    upload(world, paid["obligation"], world.budget_analyst, documents.pdf(), "SARO copy.pdf")

    refused = upload(world, paid["obligation"], world.technical_reviewer, documents.pdf(), "notes.pdf")

    assert refused.status_code == 403
    assert "officers of the money chain" in refused.get_json()["detail"]
    assert [d["file_name"] for d in listed(world, paid["obligation"], world.technical_reviewer).get_json()] == [
        "SARO copy.pdf"]


def test_an_upload_to_an_ors_is_audited_with_who_and_what(world, paid):
    created = upload(world, paid["obligation"], world.focal, documents.pdf(), "ORS signed.pdf").get_json()

    [entry] = world.client.get(f"/api/audit?entity=attachment&id={created['id']}",
                               headers=world.admin.headers).get_json()

    assert (entry["action"], entry["actor"]) == ("create", "mssd.focal")
    assert '"record_type": "obligation"' in entry["new_value"]
