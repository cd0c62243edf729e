"""Supporting documents of ORS and DV on the Execution tab (issue 12 item 8;
docs/design.md §12 "In the web app"): each ORS and DV lists its files with
an upload form for the MOA's officers of the money chain and MFBM; a
refused file is a sentence next to that document's file field."""

from __future__ import annotations

import io
import re

import pytest

from tests import documents
from tests.web.conftest import emptied_after

pytestmark = pytest.mark.usefixtures("quick_passwords")  # sign-in is not the subject: tests/web/conftest.py


@pytest.fixture
def app(request, module_app):
    """The module's one application, on a database emptied after each test."""
    yield from emptied_after(request, module_app)


def test_a_document_attached_to_an_ors_on_the_execution_tab_is_listed_under_it_and_downloads(world, chain, browser_for):
    ors = chain.obligate(chain.allot("100000.00")["id"], "60000.00")
    obligation, number = ors["id"], ors["ors_number"]
    page = f"/ppas/{chain.ppa}/execution"
    focal = browser_for(world.focal)

    attached = focal.post_form(f"{page}/obligations/{obligation}/attachments",
                               {"file": (io.BytesIO(documents.pdf()), "Purchase request.pdf")}, page=page)
    html = focal.client.get(page).get_data(as_text=True)
    entry = re.search(rf'<details class="record-form" id="documents-obligation-{obligation}">.*?</details>',
                      html, re.DOTALL).group(0)
    link = re.search(r'<a href="(/attachments/\d+)" download>Purchase request.pdf</a>', entry).group(1)

    assert attached.status_code == 302
    assert attached.headers["Location"].endswith(f"#documents-obligation-{obligation}")
    assert f"ORS {number}: 1 document" in entry
    assert f'<label for="documents-obligation-{obligation}-file">Document for ORS {number}' in entry
    assert focal.client.get(link).get_data() == documents.pdf()
    assert browser_for(world.other_focal).client.get(link).status_code == 404


def test_a_program_attached_to_a_dv_is_refused_next_to_its_file_field_and_nothing_is_listed(world, chain, browser_for):
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]
    dv = chain.disburse(obligation, "10000.00")
    disbursement = dv["id"]
    page = f"/ppas/{chain.ppa}/execution"
    focal = browser_for(world.focal)

    refused = focal.post_form(f"{page}/disbursements/{disbursement}/attachments",
                              {"file": (io.BytesIO(documents.exe()), "official receipt.pdf")}, page=page)
    html = refused.get_data(as_text=True)

    assert refused.status_code == 422
    assert re.search(rf'<details class="record-form" id="documents-disbursement-{disbursement}" open>', html)
    assert re.search(rf'id="documents-disbursement-{disbursement}-file-error" class="field-error">the file&#39;s '
                     r"content is a Windows program \(exe\)", html)
    assert f"DV {dv['dv_number']}: 0 documents" in html


def test_a_reviewer_sees_the_documents_of_an_ors_but_no_upload_form(world, chain, browser_for):
    number = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["ors_number"]

    html = browser_for(world.technical_reviewer).client.get(f"/ppas/{chain.ppa}/execution").get_data(as_text=True)

    assert "Supporting documents of ORS and DV" in html and f"ORS {number}: 0 documents" in html
    assert "Attach the document" not in html


def test_an_ors_of_another_ppa_takes_no_document_through_this_ppas_tab(world, chain, browser_for):
    other = world.create_ppa(budget_allocation="1000000.00")["id"]
    obligation = chain.obligate(chain.allot("100000.00")["id"], "60000.00")["id"]
    focal = browser_for(world.focal)

    refused = focal.post_form(f"/ppas/{other}/execution/obligations/{obligation}/attachments",
                              {"file": (io.BytesIO(documents.pdf()), "a.pdf")}, page=f"/ppas/{chain.ppa}/execution")

    assert refused.status_code == 404
