"""Reading report files: cleaning, encodings, each format, the manifest and the folder walk."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_files import REPORT_LINES, _pdf, encrypted_pdf, scanned_pdf, text_pdf, write_docx

from assistant.documents.read import (
    clean_text,
    discover,
    load_manifest,
    read_bytes,
    read_report,
)
from assistant.errors import (
    EmptyReport,
    ReportError,
    ReportTooLarge,
    SettingsError,
    UnreadableReport,
    UnsupportedFormat,
)


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'’]*|\d+(?:[.,]\d+)*%?", text)


# ---------------------------------------------------------------- cleaning

CONVERTED = """Strengthening the Workforce

- 8** Significant activity is continuing to build a resilient workforce, fully motivated and
resourced to meet the needs of **vulnerable children** and their families. The Cabinet
agreed the plan in

12

March 2020 and the work continues.
-
- 9** The next monitoring visit is in the second week of May.
Page 3 of 10
- The uncovered vacancy gap is currently 5.34%;
"""


def test_clean_text_undoes_conversion_artefacts() -> None:
    cleaned = clean_text(CONVERTED)
    lines = [line for line in cleaned.split("\n") if line]
    assert lines == [
        "Strengthening the Workforce",
        "- 8 Significant activity is continuing to build a resilient workforce, fully motivated and "
        "resourced to meet the needs of vulnerable children and their families. The Cabinet agreed "
        "the plan in March 2020 and the work continues.",
        "- 9 The next monitoring visit is in the second week of May.",
        "- The uncovered vacancy gap is currently 5.34%;",
    ]


def test_clean_text_keeps_every_word() -> None:
    cleaned = clean_text(CONVERTED)
    # Only the page furniture (a page number, "Page 3 of 10") goes; every word stays, in order.
    without_furniture = CONVERTED.replace("\n12\n", "\n").replace("Page 3 of 10\n", "")
    assert words(cleaned) == words(without_furniture)
    assert "**" not in cleaned


def test_clean_text_joins_a_sentence_broken_across_a_page_break() -> None:
    raw = "The plan was agreed by the Improvement Board on the basis of the\n\n\f\n- 14 -\n\nevidence in the monitoring letter.\n"
    assert clean_text(raw) == (
        "The plan was agreed by the Improvement Board on the basis of the evidence in the monitoring letter.\n"
    )


def test_clean_text_keeps_paragraph_and_list_boundaries() -> None:
    raw = "Summary\n\n1. The first paragraph ends here.\n2. The second one starts a list:\n(a) the first item;\n(b) the second item.\n"
    assert clean_text(raw) == raw


def test_clean_text_normalises_line_endings_and_spaces() -> None:
    assert clean_text("The Council\u00a0met on\r\nthe day.\r\n") == "The Council met on the day.\n"


# ---------------------------------------------------------------- encodings and formats


def test_reads_a_cp1252_text_file(tmp_path: Path) -> None:
    text = (
        "Budget Monitoring Report\n\n"
        "1. The council has set aside £2.5 million for the new café and résumé service in 2021.\n"
        "2. A further £300,000 will support the fostering service, as agreed by the Cabinet.\n"
    )
    path = tmp_path / "budget.txt"
    path.write_bytes(text.encode("cp1252"))
    report = read_report(path)
    assert "£2.5 million for the new café and résumé service" in report.text
    assert "£300,000" in report.text
    assert report.source == "budget.txt"


def test_reads_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffThe Council spent £40 on the café service this year.\n".encode())
    assert read_report(path).text == "The Council spent £40 on the café service this year.\n"


def test_reads_markdown(tmp_path: Path) -> None:
    path = tmp_path / "update.md"
    path.write_text(
        "Children's Services Update\n\nBackground\n\n"
        "1. Ofsted carried out a **monitoring visit** on 12 and 13 September 2017 and found progress.\n"
        "2. The next visit is expected in the new year, focusing on children in care.\n",
        encoding="utf-8",
    )
    report = read_report(path)
    assert "Ofsted carried out a monitoring visit on 12 and 13 September 2017" in report.text
    assert "**" not in report.text
    assert report.title == "Children's Services Update"


HTML = """<!doctype html>
<html><head><title>Workforce</title>
<script>var secret = "tracking code must not be indexed";</script>
<style>p { color: red }</style></head>
<body>
<nav>Home | Meetings | Contact</nav>
<h1>Workforce Update</h1>
<p>1. Significant activity is continuing to build a resilient workforce. Progress has been made in these areas:</p>
<ul>
  <li>The uncovered vacancy gap is 5.34%;
    <ul><li>down from 18.5% in February 2019;</li><li>measured monthly by the service;</li></ul>
  </li>
  <li>Caseloads are falling in four of the eight teams.</li>
</ul>
<p>2. The next monitoring visit is in May.</p>
<script>document.write("injected words")</script>
</body></html>
"""


def test_reads_html_with_nested_lists_and_no_script(tmp_path: Path) -> None:
    path = tmp_path / "workforce.html"
    path.write_text(HTML, encoding="utf-8")
    text = read_report(path).text
    assert "tracking code" not in text and "injected" not in text and "color" not in text
    assert "Home | Meetings" not in text
    lines = [line for line in text.split("\n") if line.strip()]
    assert lines == [
        "Workforce Update",
        "1. Significant activity is continuing to build a resilient workforce. Progress has been made in these areas:",
        "- The uncovered vacancy gap is 5.34%;",
        "  - down from 18.5% in February 2019;",
        "  - measured monthly by the service;",
        "- Caseloads are falling in four of the eight teams.",
        "2. The next monitoring visit is in May.",
    ]
    # Each nested item appears once, not again inside its parent item.
    assert text.count("18.5%") == 1


def test_reads_html_passages_keep_the_list_with_its_paragraph(tmp_path: Path) -> None:
    from assistant.documents.passages import split_report

    path = tmp_path / "workforce.htm"
    path.write_text(HTML, encoding="utf-8")
    passages = split_report(read_report(path))
    first = next(p for p in passages if p.paragraph == "1")
    assert "5.34%" in first.text and "18.5%" in first.text and "four of the eight teams" in first.text
    assert first.section == "Workforce Update"


def test_reads_docx(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "update.docx",
        "Children's Workforce Update",
        [
            "The service has recruited twelve permanent social workers since the last report.",
            "Caseloads have fallen to an average of eighteen children per worker.",
        ],
        ["agency use is falling", "sickness absence is stable"],
    )
    report = read_report(path)
    lines = [line for line in report.text.split("\n") if line]
    assert lines[:5] == [
        "Children's Workforce Update",
        "1. The service has recruited twelve permanent social workers since the last report.",
        "2. Caseloads have fallen to an average of eighteen children per worker.",
        "- agency use is falling",
        "- sickness absence is stable",
    ]
    assert "Agency social workers\t75 FTE" in report.text
    assert report.title == "Children's Workforce Update"


def test_reads_pdf_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "update.pdf"
    path.write_bytes(text_pdf(REPORT_LINES))
    report = read_report(path)
    assert "recruited twelve permanent social workers" in report.text
    assert "average of eighteen children" in report.text
    assert report.title.endswith("Services Improvement: Progress Report")
    assert len(report.content_hash) == 64


@pytest.mark.parametrize(
    ("name", "data", "error", "words_in_message"),
    [
        ("scan.pdf", scanned_pdf(), UnreadableReport, "no text layer"),
        ("locked.pdf", encrypted_pdf(REPORT_LINES), UnreadableReport, "encrypted"),
        ("broken.pdf", text_pdf(REPORT_LINES)[:300], UnreadableReport, "corrupt PDF"),
        ("junk.txt", bytes(range(256)) * 40, UnreadableReport, "binary data"),
        ("blank.txt", b"  \n\n  \n", EmptyReport, "empty"),
        ("numbers.txt", b"12 34\n56\n", EmptyReport, "no readable text"),
        ("broken.docx", b"PK\x03\x04 not really a zip", UnreadableReport, "corrupt Word file"),
        ("slides.pptx", b"anything", UnsupportedFormat, "unsupported file type '.pptx'"),
    ],
)
def test_unreadable_files_raise_an_error_naming_the_file(
    tmp_path: Path, name: str, data: bytes, error: type[ReportError], words_in_message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(error) as caught:
        read_report(path)
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    assert words_in_message in message
    assert "\n" not in message


def test_a_pdf_keeps_its_paragraphs_and_its_judgement_table(tmp_path: Path) -> None:
    """pdfium reads the text; an empty line between paragraphs and a table's columns survive it."""
    rows = [("Judgement", "Grade"), ("Overall effectiveness", "Good"), ("Children in care", "Requires improvement")]
    ops = [b"BT /F1 11 Tf 50 800 Td (Ofsted judgements) Tj ET"]
    for n, (judgement, grade) in enumerate(rows):
        y = 772 - 14 * n
        ops += [b"BT /F1 11 Tf 50 %d Td (%s) Tj ET" % (y, judgement.encode()), b"BT /F1 11 Tf 300 %d Td (%s) Tj ET" % (y, grade.encode())]
    prose = ["The service has improved since the last", "inspection in every area.", "", "Leaders know their service well."]
    ops += [b"BT /F1 11 Tf 14 TL 50 700 Td"] + [b"(%s) Tj T*" % line.encode() for line in prose] + [b"ET"]
    path = tmp_path / "judgements.pdf"
    path.write_bytes(_pdf(b"\n".join(ops)))
    text = read_report(path).text
    assert "Judgement\tGrade\nOverall effectiveness\tGood\nChildren in care\tRequires improvement\n" in text
    assert text.endswith("The service has improved since the last inspection in every area.\n\nLeaders know their service well.\n")


def test_a_pdf_with_an_empty_user_password_is_read(tmp_path: Path) -> None:
    path = tmp_path / "owner-only.pdf"
    path.write_bytes(encrypted_pdf(REPORT_LINES, password=""))
    assert "twelve permanent social workers" in read_report(path).text


def test_size_limit_names_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("The council met. " * 4000, encoding="utf-8")
    with pytest.raises(ReportTooLarge) as caught:
        read_bytes(path, max_mb=0.01)
    assert str(caught.value).startswith("big.txt: ")
    assert "ASSISTANT_MAX_FILE_MB" in str(caught.value)
    assert "0.06 MB is over the 0.01 MB limit" in str(caught.value)


def test_missing_file_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(UnreadableReport, match=r"^gone\.txt: the file disappeared"):
        read_bytes(tmp_path / "gone.txt", max_mb=50)


# ---------------------------------------------------------------- manifest


def test_manifest_overrides_inferred_metadata(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text(
        "Worcestershire County Council\n\nService Improvement Plan Update\n\n"
        "1. Worcestershire has made progress since the inspection in January.\n",
        encoding="utf-8",
    )
    (tmp_path / "manifest.toml").write_text(
        '["report.txt"]\ntitle = "Improvement Plan: October Update"\ndate = "2017-10-24"\n', encoding="utf-8"
    )
    manifest = load_manifest(tmp_path)
    report = read_report(tmp_path / "report.txt", meta=manifest["report.txt"])
    assert report.title == "Improvement Plan: October Update"
    assert report.date == "2017-10-24"
    assert report.council == "Worcestershire"  # left out of the manifest: still inferred


def test_no_manifest_means_no_overrides(tmp_path: Path) -> None:
    assert load_manifest(tmp_path) == {}


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('["report.txt"\ntitle = "x"\n', "not valid TOML"),
        ('["report.txt"]\ntitle = "x"\npublisher = "y"\n', "unknown field(s) publisher"),
        ('title = "not inside a table"\n', "must be a table"),
    ],
)
def test_bad_manifest_names_the_file(tmp_path: Path, content: str, complaint: str) -> None:
    path = tmp_path / "manifest.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_manifest(tmp_path)
    assert str(path) in str(caught.value)
    assert complaint in str(caught.value)


def test_discover_skips_manifest_and_hidden_files(tmp_path: Path) -> None:
    for name in ("b.txt", "a.pdf", "manifest.toml", ".hidden.txt", "sub/c.md", ".git/x.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = discover([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.pdf", "b.txt", "sub/c.md"]


# ---------------------------------------------------------------- input at the edges

UK_TEXT = (
    "Progress Report – March 2021\n\n"
    "1. The council’s £2.5 million plan for the café and résumé service is on track.\n"
    "2. Caseloads have fallen to an average of eighteen children per worker.\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le", "utf-16-be"])
def test_uk_text_encodings_are_read_correctly(tmp_path: Path, encoding: str) -> None:
    # utf-16-le/-be carry no BOM: ASCII-heavy text shows them by every other byte being NUL.
    path = tmp_path / "progress.txt"
    path.write_bytes(UK_TEXT.encode(encoding))
    text = read_report(path).text
    assert text.startswith("Progress Report – March 2021\n")
    assert "council’s £2.5 million plan for the café and résumé service" in text


def test_latin1_text_is_not_taken_for_a_baltic_code_page(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_bytes("Café provision in Bromley: résumé of progress for £40,000 – agreed.\n".encode("cp1252"))
    assert read_report(path).text == "Café provision in Bromley: résumé of progress for £40,000 – agreed.\n"


def _aes_pdf(user_password: str) -> bytes:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(REPORT_LINES))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_an_aes_pdf_without_a_user_password_is_read(tmp_path: Path) -> None:
    path = tmp_path / "aes-owner-only.pdf"
    path.write_bytes(_aes_pdf(""))
    assert "twelve permanent social workers" in read_report(path).text


@pytest.mark.parametrize("data", [_aes_pdf("secret"), encrypted_pdf(REPORT_LINES)], ids=["aes", "rc4"])
def test_a_pdf_that_needs_a_password_says_so(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(data)
    with pytest.raises(UnreadableReport, match=r"^locked\.pdf: encrypted: re-export without a password$"):
        read_report(path)


def test_a_link_out_of_the_folder_is_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "report.txt").write_text(UK_TEXT, encoding="utf-8")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "sub" / "same.txt").symlink_to(folder / "report.txt")  # inside the folder: read as usual
    found = discover([folder])
    assert [p.relative_to(folder).as_posix() for p in found] == ["passwd.txt", "report.txt", "sub/same.txt"]
    with pytest.raises(UnreadableReport, match=r"^passwd\.txt: a link to /etc/passwd, outside the folder"):
        read_bytes(found[0], 50)
    assert read_bytes(found[2], 50) == UK_TEXT.encode()
