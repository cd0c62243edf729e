"""Small real files of each kind a supporting document may be, and one that
must be refused, for the attachment tests (API, pages, browser)."""

from __future__ import annotations

import base64
import io
import zipfile

from openpyxl import Workbook

#: A 1 x 1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def pdf(text: str = "Barangay profile") -> bytes:
    """A one-page PDF saying ``text`` (valid enough for any reader)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def xlsx() -> bytes:
    """An Excel workbook (openpyxl)."""
    workbook = Workbook()
    workbook.active["A1"] = "Line-item budget"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def docx() -> bytes:
    """A minimal Word document (the parts Office requires)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                         'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/'
                         'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                         '</Relationships>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats'
                         '.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Work plan</w:t></w:r></w:p>'
                         '</w:body></w:document>')
    return buffer.getvalue()


def exe() -> bytes:
    """The start of a Windows program (MZ header pointing at a PE header)."""
    header = bytearray(b"MZ" + b"\x00" * 126)
    header[0x3C:0x40] = (0x80).to_bytes(4, "little")
    return bytes(header) + b"PE\x00\x00" + b"\x00" * 200
