"""The print module (services/printing.py; docs/design.md §8 "Print"): a report
rendered once to PDF and read back with pdfplumber, as a person holding the
printout would check it: Legal landscape, "Page X of Y" and the title on every
page, no text under 8 pt, every character drawn from the bundled font (the peso
sign included), accounting figures, user text printed as text."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

import pdfplumber
import pytest
from fontTools.ttLib import TTFont

from services.printing import FONTS, MONEY, PERCENT, Column, Line, PrintedReport, _fetcher, render_pdf
from workflow.money import accounting

HOSTILE = '<img src="file:///etc/passwd"><script>alert(1)</script>=HYPERLINK("http://x")'
TITLE = "TEST REPORT - FY 2025"
ROWS = 90  # one short line each: more than a Legal landscape page holds


def read(pdf: bytes) -> list[dict]:
    """Each page's size, text and characters."""
    with pdfplumber.open(BytesIO(pdf)) as document:
        return [{"size": (page.width, page.height), "text": page.extract_text(), "chars": page.chars,
                 "images": page.images, "links": page.hyperlinks} for page in document.pages]


@pytest.fixture(scope="module")
def printed():
    columns = [Column("PPA Code"), Column("PPA Title", wide=True), Column("Allocated ₱", MONEY),
               Column("Variance", MONEY), Column("Utilization", PERCENT)]
    lines = [Line([f"MSSD-{i:03}", f"Livelihood ₱ {i}", Decimal("1234567.5") + i, Decimal("-2500") if i % 2 else
                   Decimal("0"), Decimal("0.4215")]) for i in range(ROWS)]
    lines.insert(3, Line(["EVIL-1", HOSTILE, Decimal("1.00"), Decimal("0"), None]))
    lines.append(Line(["TOTAL", "", Decimal("-98765432.10"), Decimal("0"), None], "total"))
    report = PrintedReport(titles=("MINISTRY", "BANGSAMORO AUTONOMOUS REGION IN MUSLIM MINDANAO", TITLE),
                           columns=columns, lines=lines, scope="All MOAs", key_columns=2)
    return read(render_pdf(report))


def test_the_report_prints_on_legal_landscape_pages(printed):
    assert len(printed) >= 2
    assert {page["size"] for page in printed} == {(1008, 612)}  # 14 × 8.5 in, in points


def test_every_page_says_page_x_of_y_and_when_it_was_generated(printed):
    for number, page in enumerate(printed, start=1):
        assert f"Page {number} of {len(printed)}" in page["text"]
        assert re.search(r"Generated \d{2} \w+ \d{4} \d{2}:\d{2} \(Asia/Manila\) by ppaflow", page["text"])


def test_every_page_repeats_the_title_and_the_column_headings(printed):
    for page in printed:
        assert TITLE in page["text"]
        assert "PPA Code PPA Title Allocated ₱ Variance Utilization" in page["text"]


def test_no_character_is_smaller_than_8_points(printed):
    # pdfplumber reads 8 pt back as 7.9995 (the text matrix in floating point)
    assert round(min(char["size"] for page in printed for char in page["chars"]), 2) >= 8


def test_every_character_is_drawn_from_the_bundled_font_which_has_the_peso_sign(printed):
    chars = [char for page in printed for char in page["chars"]]
    covered = set(TTFont(FONTS / "DejaVuSansCondensed.ttf").getBestCmap()) & set(
        TTFont(FONTS / "DejaVuSansCondensed-Bold.ttf").getBestCmap())

    assert {re.sub(r"^[A-Z]{6}\+", "", char["fontname"]) for char in chars} == {
        "Report-Sans-Semi-Condensed", "Report-Sans-Bold-Semi-Condensed"}
    assert "₱" in {char["text"] for char in chars}
    # a ligature ("fi") is one glyph with two characters: each must be in the font
    assert {ch for char in chars for ch in char["text"] if ord(ch) not in covered} == set()
    assert all("(cid:" not in page["text"] and "\ufffd" not in page["text"] for page in printed)


def test_figures_are_in_accounting_format(printed):
    text = "\n".join(page["text"] for page in printed)

    assert "MSSD-001 Livelihood ₱ 1 1,234,568.50 (2,500.00) 42.15%" in text
    assert "MSSD-002 Livelihood ₱ 2 1,234,569.50 - 42.15%" in text
    assert "TOTAL (98,765,432.10) -" in text


def test_a_hostile_title_prints_as_text_and_fetches_nothing(printed):
    text = "".join(page["text"].replace("\n", "") for page in printed)

    assert HOSTILE in text
    assert all(page["images"] == [] and page["links"] == [] for page in printed)


def test_a_table_wider_than_the_page_prints_in_parts_with_its_key_columns_on_each():
    columns = [Column("Code"), Column("Particulars", wide=True),
               *(Column(f"Column {n}", MONEY, group="Obligations" if n < 12 else "Balances") for n in range(3, 25))]
    report = PrintedReport(titles=("FAR",), columns=columns,
                           lines=[Line(["A-1", "Training", *[Decimal("123456789.01")] * 22])], key_columns=2)

    parts = report.parts()
    pages = read(render_pdf(report))

    assert len(parts) == len(pages) >= 2
    assert sorted(i for part in parts for i in part[2:]) == list(range(2, 24))
    for number, page in enumerate(pages, start=1):
        assert f"part {number} of {len(pages)}" in page["text"]
        assert "Code Particulars" in page["text"] and "A-1 Training" in page["text"]
    assert "Obligations" in pages[0]["text"] and "Balances" in pages[-1]["text"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://169.254.169.254/latest/meta-data/",
                                 FONTS.as_uri() + "/../../../../settings.py",
                                 FONTS.as_uri() + "/%2e%2e/%2E%2E/LICENSE", "data:text/html,<b>x</b>"])
def test_printing_fetches_nothing_but_the_bundled_fonts(url):
    fetcher = _fetcher()

    with pytest.raises(ValueError, match="only the bundled fonts"):
        fetcher(url)
    font = fetcher(FONTS.as_uri() + "/DejaVuSansCondensed.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"  # a TrueType font
    font.close()


@pytest.mark.parametrize(("amount", "shown"), [
    (Decimal("1234567.891"), "1,234,567.89"), (Decimal("-1500"), "(1,500.00)"), (Decimal("0"), "-"),
    (Decimal("-0.004"), "-"), (Decimal("0.005"), "0.01"), (None, ""), (12, "12.00"),
])
def test_the_accounting_format(amount, shown):
    assert accounting(amount) == shown


def test_the_accounting_format_refuses_a_float():
    with pytest.raises(TypeError):
        accounting(1.5)
