"""The ORS and DV printed as their GAM forms (Appendices 11 and 32; issue 13
item 2; docs/design.md §8 "Forms"): ``GET /api/obligations/{id}/form.pdf`` and
``/api/disbursements/{id}/form.pdf``, read back with pdfplumber: the boxes'
labels, the document's number, amount and payee, who signed each box printed
in that box (an OIC "under delegation of" the officer), the DRAFT mark on a
draft only, 8 pt or larger on one page, the peso sign in the bundled font, a
hostile payee printed as text, and another MOA answered 404.

Printing is the services', not the database's: one backend (``ONE_BACKEND``)."""

from __future__ import annotations

import re
from io import BytesIO

import pdfplumber
import pytest
from fontTools.ttLib import TTFont

from services.printing import FONTS
from tests.api.test_delegations_api import delegate
from tests.conftest import ONE_BACKEND, one_backend_app


@pytest.fixture(params=[ONE_BACKEND])
def app(request, tmp_path):
    """The application on ``ONE_BACKEND`` only."""
    yield from one_backend_app(request, tmp_path)


HOSTILE = '=HYPERLINK("http://evil") <b>bold</b><img src="file:///etc/passwd">'
DRAFT = "DRAFT — NOT SIGNED"
#: The characters both bundled fonts have (regular and bold).
COVERED = {chr(code) for code in set(TTFont(FONTS / "DejaVuSansCondensed.ttf").getBestCmap())
           & set(TTFont(FONTS / "DejaVuSansCondensed-Bold.ttf").getBestCmap())}


def read(world, path, who=None) -> dict:
    response = world.client.get(path, headers=(who or world.focal).headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    with pdfplumber.open(BytesIO(response.get_data())) as document:
        page = document.pages[0]
        return {"pages": len(document.pages), "text": page.extract_text(), "words": page.extract_words(),
                "sizes": {round(c["size"], 2) for c in page.chars},
                "fonts": {re.sub(r"^[A-Z]{6}\+", "", c["fontname"]) for c in page.chars},
                "characters": {ch for c in page.chars for ch in c["text"]}}


def box_of(form: dict, name: str) -> str:
    """The letter of the box a printed name is in: the nearest box label
    ("A." … "E.") above it and not to its right."""
    word = next(w for w in form["words"] if w["text"].rstrip(",") == name)
    labels = [w for w in form["words"] if w["text"] in {"A.", "B.", "C.", "D.", "E."}
              and w["top"] < word["top"] and w["x0"] <= word["x0"] + 1]
    return max(labels, key=lambda w: (round(w["top"]), w["x0"]))["text"][0]


def test_a_signed_ors_and_its_paid_dv_print_as_their_gam_forms_with_each_signer_in_their_box(chain, world):
    allotment = chain.allot("2000000.00")["id"]
    world.person("mssd.oic", "moa_focal", org="MSSD")
    delegate(world, world.budget_officer, "mssd.oic", "budget_officer")
    ors_id = chain.ors_ready_for_box_b(allotment, "1250000.50", particulars="Training venue and meals")
    signed = world.client.post(f"/api/obligations/{ors_id}/transitions", json={"trigger": "certify_obligation"},
                               headers=world.person("mssd.oic").headers)
    assert signed.status_code == 200, signed.get_json()
    ors = signed.get_json()
    dv = chain.disburse(ors_id, "1000000.25", day="2025-04-15")

    ors_form = read(world, f"/api/obligations/{ors_id}/form.pdf")
    dv_form = read(world, f"/api/disbursements/{dv['id']}/form.pdf")

    text = ors_form["text"]
    for label in ("Appendix 11", "OBLIGATION REQUEST AND STATUS", "Serial No.", "Fund Cluster", "Payee", "Office",
                  "Address", "Responsibility Center", "Particulars", "MFO/PAP", "UACS Object Code", "Amount",
                  "Certified: Charges to appropriation/allotment", "Allotment available and obligated",
                  "STATUS OF OBLIGATION", "Printed Name", "Position", "Signature"):
        assert label in text, label
    assert ors["ors_number"] in text and "₱ 1,250,000.50" in text and "Supplier" in text
    assert "One million two hundred fifty thousand pesos and 50/100" in text
    assert (box_of(ors_form, "mssd.office_head"), box_of(ors_form, "mssd.oic")) == ("A", "B")
    assert "signed under delegation of mssd.budget_officer" in text
    assert "Head of the requesting office or unit" in text and "MOA budget officer" in text

    text = dv_form["text"]
    for label in ("Appendix 32", "DISBURSEMENT VOUCHER", "Fund Cluster", "DV No.", "Mode of Payment", "MDS check",
                  "Commercial check", "ADA", "Others", "ORS/BURS No.", "Accounting Entry", "Account Title",
                  "UACS Code", "Debit", "Credit", "Cash available", "Approved for Payment", "Receipt of Payment",
                  "Check/ADA No.", "JEV No.", "Amount Due"):
        assert label in text, label
    assert dv["dv_number"] in text and ors["ors_number"] in text and "₱ 1,000,000.25" in text
    assert dv["check_ada_number"] in text and dv["jev_number"] in text and "15 April 2025" in text
    assert "✓" in text  # the DV's mode of payment is ticked
    assert [box_of(dv_form, name) for name in ("mssd.office_head", "mssd.entry_accountant", "mssd.chief_accountant",
                                               "mssd.agency_head", "mssd.cashier")] == list("ABCDE")
    for form in (ors_form, dv_form):
        assert form["pages"] == 1 and DRAFT not in form["text"]
        assert min(form["sizes"]) >= 8
        assert form["fonts"] == {"Report-Sans-Semi-Condensed", "Report-Sans-Bold-Semi-Condensed"}
        assert "₱" in form["characters"] and form["characters"] - COVERED == set()  # no glyph missing


def test_a_draft_prints_marked_with_its_boxes_blank_and_a_hostile_payee_as_text(chain, world):
    allotment = chain.allot("2000000.00")["id"]
    draft = chain.post("/api/obligations", world.focal, 201, allotment_id=allotment, payee=HOSTILE,
                       obligation_date="2025-03-10", amount="1000.00")
    posted = chain.obligate(allotment, "5000.00")
    dv = chain.post("/api/disbursements", world.focal, 201, obligation_id=posted["id"], payment_method="ada",
                    disbursement_date="2025-04-15", amount="100.00")

    ors_form = read(world, f"/api/obligations/{draft['id']}/form.pdf")
    dv_form = read(world, f"/api/disbursements/{dv['id']}/form.pdf")

    assert DRAFT in ors_form["text"] and DRAFT in dv_form["text"]
    assert HOSTILE.replace(" ", "") in ors_form["text"].replace("\n", "").replace(" ", "")
    assert "mssd.office_head" not in ors_form["text"] and "mssd.cashier" not in dv_form["text"]
    assert ors_form["pages"] == dv_form["pages"] == 1


def test_another_moa_may_not_download_the_form(chain, world):
    allotment = chain.allot("2000000.00")["id"]
    ors = chain.obligate(allotment, "5000.00")
    dv = chain.disburse(ors["id"], "100.00")

    for path in (f"/api/obligations/{ors['id']}/form.pdf", f"/api/disbursements/{dv['id']}/form.pdf"):
        assert world.client.get(path, headers=world.other_focal.headers).status_code == 404
        assert world.client.get(path, headers=world.admin.headers).status_code == 200
