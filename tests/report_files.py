"""Small report files built in the test run: PDFs with and without text, encrypted PDFs, Word files."""

from __future__ import annotations

import io
from pathlib import Path

# A ToUnicode map that reads "~" as an emoji, a character outside the Basic Multilingual Plane.
EMOJI_TILDE = (
    b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Tilde def /CMapType 2 def\n"
    b"1 begincodespacerange <00> <FF> endcodespacerange\n1 beginbfchar <7E> <D83DDE00> endbfchar\n"
    b"endcmap CMapName currentdict /CMap defineresource pop end end"
)


def _pdf(content: bytes, *, with_font: bool = True, to_unicode: bytes | None = None) -> bytes:
    """A one-page PDF around a content stream; `to_unicode`, a ToUnicode CMap for its font.

    Built by hand (no PDF writer that can lay out text is installed); the cross-reference
    table is computed so readers do not have to repair the file.
    """
    font = b" /Resources << /Font << /F1 5 0 R >> >>" if with_font else b""
    mapped = b" /ToUnicode 6 0 R" if to_unicode else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R" + font + b" >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica" + mapped + b" >>",
    ]
    if to_unicode:
        objects.append(b"<< /Length %d >>\nstream\n" % len(to_unicode) + to_unicode + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds the given lines (ASCII)."""
    ops = [b"BT", b"/F1 11 Tf", b"14 TL", b"50 800 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(b"(" + escaped.encode("latin-1") + b") Tj T*")
    ops.append(b"ET")
    return _pdf(b"\n".join(ops))


def scanned_pdf() -> bytes:
    """A PDF page with drawing only: what a scan without OCR looks like to a text extractor."""
    return _pdf(b"0.5 g 50 50 495 742 re f 0 g 100 100 m 400 700 l S", with_font=False)


def encrypted_pdf(lines: list[str], password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(lines))))
    # RC4 needs no extra crypto library; any password-protected PDF must be refused alike.
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def write_docx(path: Path, heading: str, paragraphs: list[str], bullets: list[str]) -> Path:
    """A Word file with a heading, numbered paragraphs, a bullet list and a small table."""
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text, style="List Number")
    for text in bullets:
        document.add_paragraph(text, style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Measure"
    table.cell(0, 1).text = "Value"
    table.cell(1, 0).text = "Agency social workers"
    table.cell(1, 1).text = "75 FTE"
    document.save(str(path))
    return path


REPORT_LINES = [
    "Children's Services Improvement: Progress Report",
    "1. The service has recruited twelve permanent social workers since the last report.",
    "2. Caseloads in the assessment teams have fallen to an average of eighteen children.",
]
