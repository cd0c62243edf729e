"""The print check of every report (issue 13, "Tests and measurements";
docs/design.md §8 "Print"): each workbook rendered through LibreOffice
headless, as a budget officer printing it from a spreadsheet would, and
each PDF as it is, read back with pdfplumber: no character smaller than
8 pt, Legal landscape pages, and on the PDFs "Page X of Y" on every page.

LibreOffice comes from the system (``apt-get install libreoffice-calc-nogui``;
``.ci/run`` installs it): without it the test is skipped outside CI and
fails under ``CI=true``."""

from __future__ import annotations

import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pdfplumber
import pytest
from openpyxl import load_workbook

from services.reports import REPORT_KINDS
from tests.conftest import BACKENDS, CI, _dispose, _make_app
from tests.api.test_admin_api import organization_path
from tests.support import Chain, World

LEGAL_LANDSCAPE = (1008, 612)  # points
HOSTILE = {"agency": '=HYPERLINK("http://evil.example","MSSD")', "name": "@SUM(1+1)*cmd|' /C calc'!A0"}


@pytest.fixture(scope="module")
def files(request, tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """Every report of MSSD's small money chain (allotted, obligated, paid)
    as xlsx and PDF, on one database; MSSD's agency name and budget officer
    are hostile text (``HOSTILE``), as a careless or malicious admin could set them."""
    application = _make_app(BACKENDS[-1], request, tmp_path_factory.mktemp("print"))
    try:
        chain = Chain(World(application))
        world = chain.world
        path = organization_path(world)
        etag = world.client.get(path, headers=world.admin.headers).headers["ETag"]
        assert world.client.patch(path, headers=world.admin.headers | {"If-Match": etag}, json={
            "agency": HOSTILE["agency"], "budget_officer": {"name": HOSTILE["name"], "position": "Budget Officer"},
            "head_of_agency": {"name": "AMINA SAMPACO", "position": "Minister"}}).status_code == 200
        allotment = chain.allot("2000000.00", quarter=1)
        obligation = chain.obligate(allotment["id"], "1500000.00", day="2025-03-10")
        chain.disburse(obligation["id"], "1250000.50", day="2025-03-31")
        out: dict[str, dict[str, bytes]] = {}
        for name in REPORT_KINDS:
            for fmt in ("xlsx", "pdf"):
                response = world.client.get(f"/api/reports/{name}.{fmt}?fiscal_year=2025&moa=MSSD",
                                            headers=world.admin.headers)
                assert response.status_code == 200, (name, fmt, response.get_data(as_text=True)[:300])
                out.setdefault(name, {})[fmt] = response.get_data()
        return out
    finally:
        _dispose(application)


def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        message = "no LibreOffice: apt-get install libreoffice-calc-nogui"
        if CI:
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)
    return path


def printed(data: bytes) -> list[dict]:
    with pdfplumber.open(BytesIO(data)) as document:
        return [{"text": page.extract_text() or "", "size": (round(page.width), round(page.height)),
                 "smallest": min((c["size"] for c in page.chars), default=None)} for page in document.pages]


def test_every_workbook_prints_through_libreoffice_at_8_pt_or_larger_on_legal_landscape(files, tmp_path):
    for name, formats in files.items():
        (tmp_path / f"{name}.xlsx").write_bytes(formats["xlsx"])
    subprocess.run([soffice(), "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "pdf", "--outdir", str(tmp_path / "pdf"), *sorted(str(p) for p in tmp_path.glob("*.xlsx"))],
                   check=True, capture_output=True, timeout=300)

    for name in files:
        pages = printed(Path(tmp_path / "pdf" / f"{name}.pdf").read_bytes())
        assert pages, name
        assert {page["size"] for page in pages} == {LEGAL_LANDSCAPE}, name
        assert min(page["smallest"] for page in pages if page["smallest"] is not None) >= 8, name
        assert all(re.search(r"Page \d+ of \d+", page["text"]) for page in pages), name  # the sheet's footer


def test_every_pdf_is_numbered_page_x_of_y_at_8_pt_or_larger_on_legal_landscape(files):
    for name, formats in files.items():
        pages = printed(formats["pdf"])
        assert formats["pdf"].startswith(b"%PDF-") and pages, name
        assert {page["size"] for page in pages} == {LEGAL_LANDSCAPE}, name
        assert round(min(page["smallest"] for page in pages), 2) >= 8, name
        numbers = [re.search(r"Page (\d+) of (\d+)", page["text"]) for page in pages]
        assert all(numbers), name
        # statements follow one another, each numbered 1..m on its own
        expected, x = [], 0
        for match in numbers:
            x = x + 1 if x < expected_total(expected) else 1
            expected.append((x, int(match.group(2))))
        assert [(int(m.group(1)), int(m.group(2))) for m in numbers] == expected, name
        assert expected[-1][0] == expected[-1][1], name  # the last statement ends on its last page


def expected_total(expected: list[tuple[int, int]]) -> int:
    """The page count of the statement being numbered (0 before the first)."""
    return expected[-1][1] if expected else 0


def test_user_text_is_inert_in_every_report(files):
    """Issue 13 item 6: whatever its first character, a user's text is a
    string cell in every workbook (no formula anywhere) and plain text in
    every PDF."""
    for name, formats in files.items():
        book = load_workbook(BytesIO(formats["xlsx"]))
        cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
        hostile = [cell for cell in cells if cell.value in (HOSTILE["agency"], HOSTILE["name"])]
        assert not [cell for cell in cells if cell.data_type == "f"], name
        if name == "mfbm":  # no header block: its PPA titles are tested in test_reports_api and test_report_pdfs
            continue
        assert [cell.data_type for cell in hostile] and {cell.data_type for cell in hostile} == {"s"}, name
        text = " ".join(page["text"] for page in printed(formats["pdf"]))
        assert "HYPERLINK" in text and "evil.example" in text, name
