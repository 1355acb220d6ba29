"""Read report files (txt, md, pdf, docx, html) into cleaned text with metadata."""

from __future__ import annotations

import hashlib
import re
import threading
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.documents.metadata import infer_metadata
from assistant.errors import (
    EmptyReport,
    ReportError,
    ReportTooLarge,
    SettingsError,
    UnreadableReport,
    UnsupportedFormat,
)
from assistant.text import LIST_START as _LIST_START
from assistant.types import Report, ReportMeta

MANIFEST_NAME = "manifest.toml"
SUPPORTED = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")


# ---------------------------------------------------------------- reading


def _read_text_file(path: Path, data: bytes) -> str:
    """Text in the encodings UK reports come in: UTF-8, UTF-16 (with or without BOM), Windows-1252, then a guess."""
    binary = UnreadableReport(path, "binary data, not text", "export the report as PDF, DOCX or text")
    utf16 = _utf16_codec(data)
    if utf16:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            raise binary from None
        if _junk_share(text) > 0.05:
            raise binary
        return text.lstrip("\ufeff")
    if b"\x00" in data[:8192]:
        raise binary
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Windows-1252 before any guess: detectors take short English text with a £ or a dash for
    # cp1257 or cp1250 ("Progress Report û March 2021"); Latin-1 text reads the same in 1252.
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = ""
    if text and _junk_share(text) <= 0.05:
        return text
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnreadableReport(path, "text in an unknown encoding", "save it as UTF-8")
    text = str(best)
    if _junk_share(text) > 0.05:
        raise binary
    return text


def _utf16_codec(data: bytes) -> str:
    """'utf-16' (with BOM), 'utf-16-le' or 'utf-16-be' (ASCII-heavy text: every other byte NUL), or ''."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = data[:8192]
    pairs = len(sample) // 2
    if pairs < 4:
        return ""
    even = sum(1 for i in range(0, pairs * 2, 2) if sample[i] == 0)
    odd = sum(1 for i in range(1, pairs * 2, 2) if sample[i] == 0)
    if odd >= 0.4 * pairs and even <= 0.05 * pairs:
        return "utf-16-le"
    if even >= 0.4 * pairs and odd <= 0.05 * pairs:
        return "utf-16-be"
    return ""


def _junk_share(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    junk = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\n\r\t\f") or ch == "\ufffd")
    return junk / len(sample)


# pdfium is not thread-safe; the web UI may read two uploads at once.
_PDFIUM = threading.Lock()


def _read_pdf(path: Path, data: bytes) -> str:
    with _PDFIUM:
        return _read_pdf_locked(path, data)


def _read_pdf_locked(path: Path, data: bytes) -> str:
    import pypdfium2 as pdfium

    from assistant.documents.pdf import pdf_text

    try:
        # pdfium opens a PDF with an empty user password (owner-only "protection", RC4 or AES) by itself.
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise UnreadableReport(path, "encrypted: re-export without a password") from None
        # "Failed to load document (PDFium: Data format error)." says "data format error".
        found = re.search(r"PDFium: ([^)]+)", str(exc))
        reason = found.group(1).lower() if found else str(exc)
        raise UnreadableReport(path, f"corrupt PDF ({reason})", "re-export the PDF") from None
    try:
        text = pdf_text(document, _pypdf_layout(data))
    except ReportError:
        raise
    except Exception as exc:  # pdfium raises on pages it cannot load
        raise UnreadableReport(path, f"corrupt PDF ({exc})", "re-export the PDF") from None
    finally:
        document.close()
    if not text.strip():
        raise UnreadableReport(
            path, "the PDF has no text layer (scanned?)", "run it through OCR first, then ingest"
        )
    return text


def _pypdf_layout(data: bytes) -> Callable[[int], str]:
    """Page n in pypdf's layout mode, which keeps a table's columns apart: asked only for a page that may
    hold a table and whose geometry pdfium cannot give, opened only when first asked.

    A page pypdf cannot lay out reads as plain text (no table rows), not as a damaged file.
    """
    reader: list[Any] = []

    def layout(number: int) -> str:
        import io

        from pypdf import PdfReader

        try:
            if not reader:
                opened = PdfReader(io.BytesIO(data))
                if opened.is_encrypted:
                    opened.decrypt("")
                reader.append(opened)
            return reader[0].pages[number].extract_text(extraction_mode="layout") or ""
        except Exception:  # pypdf raises many kinds on damaged files; the plain text stands
            return ""

    return layout


def _read_docx(path: Path, data: bytes) -> str:
    import io
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableReport(path, f"corrupt Word file ({exc})", "re-save it from Word") from None
    blocks: list[str] = []
    numbering: dict[str, int] = {}
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if "list" in style:
            if "number" in style:
                numbering[style] = numbering.get(style, 0) + 1
                text = f"{numbering[style]}. {text}"
            else:
                text = f"- {text}"
        blocks.append(text)
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells if cell.text.strip()]
            if cells:
                blocks.append("\t".join(dict.fromkeys(cells)))
    return "\n\n".join(blocks)


def _read_html(path: Path, data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "template"]):
        tag.decompose()
    blocks: list[str] = []
    for element in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre"]):
        if element.find_parent(["li", "p", "tr"]) is not None and element.name != "li":
            continue
        if element.name == "tr":
            text = "\t".join(c.get_text(" ", strip=True) for c in element.find_all(["td", "th"]))
        elif element.name == "li":
            # A nested list's items are blocks of their own; leave them out of the outer item.
            own = [c for c in element.contents if getattr(c, "name", None) not in ("ul", "ol")]
            text = " ".join(" ".join(_node_text(c).split()) for c in own).strip()
        else:
            text = element.get_text(" ", strip=True)
        if not text:
            continue
        if element.name == "li":
            parent = element.find_parent(["ol", "ul"])
            depth = len(element.find_parents("li"))
            if parent is not None and parent.name == "ol":
                index = len(element.find_previous_siblings("li")) + 1
                text = f"{'  ' * depth}{index}. {text}"
            else:
                text = f"{'  ' * depth}- {text}"
        blocks.append(text)
    if not blocks:
        blocks = [soup.get_text("\n", strip=True)]
    return "\n\n".join(blocks)


def _node_text(node: object) -> str:
    from bs4 import Comment

    if isinstance(node, Comment):
        return ""
    get_text = getattr(node, "get_text", None)
    return get_text(" ") if get_text is not None else str(node)


READERS: dict[str, Callable[[Path, bytes], str]] = {
    ".txt": _read_text_file,
    ".md": _read_text_file,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
    ".html": _read_html,
    ".htm": _read_html,
}


def read_bytes(path: Path, max_mb: float) -> bytes:
    """File bytes, after the checks that need no parsing."""
    if isinstance(path, _LinkOut):
        raise UnreadableReport(
            path,
            f"a link to {path.target}, outside the folder being ingested: not read",
            "copy the report into the folder if it belongs there",
        )
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise UnsupportedFormat(
            path,
            f"unsupported file type '{suffix or 'none'}'",
            f"convert it to one of {', '.join(SUPPORTED)}",
        )
    try:
        size = path.stat().st_size
        if size > max_mb * 1024 * 1024:
            raise ReportTooLarge(
                path,
                f"{size / 1024 / 1024:.2f} MB is over the {max_mb:g} MB limit",
                "split the report or raise ASSISTANT_MAX_FILE_MB",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableReport(path, "the file disappeared before it could be read", "check the corpus folder") from None
    except IsADirectoryError:
        raise UnreadableReport(path, "is a folder, not a file") from None
    except PermissionError:
        raise UnreadableReport(path, "permission denied", "make the file readable") from None
    if not data.strip():
        raise EmptyReport(path, "the file is empty", "remove it or replace it with the full report")
    return data


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_report(path: Path, *, max_mb: float = 50.0, meta: ReportMeta | None = None, data: bytes | None = None) -> Report:
    """Read, clean and describe one report file; raises a ReportError naming the file."""
    path = Path(path)
    if data is None:
        data = read_bytes(path, max_mb)
    raw = READERS[path.suffix.lower()](path, data)
    text = clean_text(raw)
    if len(re.findall(r"[A-Za-z]{2,}", text)) < 5:
        raise EmptyReport(path, "no readable text found", "check the file opens and holds the report")
    inferred = infer_metadata(text)
    if meta is not None:
        overrides = {k: v for k, v in meta.model_dump().items() if v}
        inferred = inferred.model_copy(update=overrides)
    return Report(source=path.name, text=text, content_hash=content_hash(data), **inferred.model_dump())


# ---------------------------------------------------------------- cleaning

# PDF converters print a paragraph number as "- 1**"; bold as **text**.
_NUMBER_STARS = re.compile(r"^(\s*(?:-\s+)?)(\d+(?:\.\d+)*)\*\*\s*", re.M)
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_STRAY_STARS = re.compile(r"\*\*")
# Bullet glyphs PDFs use (squares, private-use symbol-font bullets) read as one bullet.
_GLYPH_BULLET = re.compile(r"^([ \t]*)[\uf0a7\uf0b7\uf0d8\uf076\uf0fc\u25aa\u25a0\u25fc\u25cf\u25e6\u2022\u2023\u2043]\s*", re.M)
_PAGE_FURNITURE = re.compile(
    r"^\s*(?:page\s+\d+(?:\s+of\s+\d+)?|\d{1,3}|-\s*\d{1,3}\s*-|ITEM NO\.?|agenda item\s*\d*)\s*$",
    re.I,
)
_CONNECTIVES = {
    "the", "a", "an", "of", "to", "and", "or", "in", "on", "for", "with", "by", "as", "at",
    "from", "that", "which", "who", "whose", "their", "its", "our", "this", "these", "is",
    "are", "was", "were", "be", "been", "have", "has", "had", "not", "such", "than", "into",
}


def clean_text(raw: str) -> str:
    """Undo PDF-conversion artefacts without changing the words."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = text.replace("\u00a0", " ").replace("\u00ad", "")
    text = _NUMBER_STARS.sub(lambda m: f"{m.group(1)}{m.group(2)} ", text)
    text = _BOLD.sub(r"\1", text)
    text = _STRAY_STARS.sub("", text)
    text = _GLYPH_BULLET.sub(r"\1• ", text)
    lines = [line.rstrip() for line in text.split("\n")]
    lines = [
        "" if (line.strip() in {"-", "–", "•", "*"} or _PAGE_FURNITURE.match(line)) else line
        for line in lines
    ]
    return "\n".join(_join_broken_lines(lines)).strip() + "\n"


def _join_broken_lines(lines: list[str]) -> list[str]:
    """Join a sentence the converter broke across lines (and page breaks)."""
    out: list[str] = []
    pending_blank = False
    for line in lines:
        if not line.strip():
            pending_blank = True
            continue
        if out and _continues(out[-1], line, after_blank=pending_blank):
            previous = out[-1].rstrip()
            # "decision-\nmaking": a word hyphenated at the line end is one word again.
            joiner = "" if re.search(r"[a-z]-$", previous) and line.strip()[:1].islower() else " "
            out[-1] = previous + joiner + line.strip()
        else:
            if pending_blank and out:
                out.append("")
            out.append(line)
        pending_blank = False
    return out


def _continues(previous: str, line: str, *, after_blank: bool) -> bool:
    prev = previous.rstrip()
    stripped = line.strip()
    if not prev or prev[-1] in ".!?:;" or _LIST_START.match(line) or "\t" in prev or "\t" in line:
        return False  # table rows stay one to a line
    last_word = prev.split()[-1].lower()
    starts_lower = stripped[0].islower()
    if starts_lower and (len(prev) > 40 or last_word in _CONNECTIVES or prev[-1] == ","):
        return True
    if last_word in _CONNECTIVES and len(prev) > 40:
        return True
    # A full line of prose that stops without a full stop runs on, even into a capital ("… called\n
    # Family Connect, a new …"); a list item or a short line (a heading) does not.
    if not after_blank and len(prev) > 60 and prev[-1].isalpha() and not _LIST_START.match(previous):
        return True
    # An indented continuation line inside a list item (no blank line between).
    return not after_blank and starts_lower


# ---------------------------------------------------------------- manifest


def load_manifest(folder: Path) -> dict[str, ReportMeta]:
    """Metadata overrides from `manifest.toml` in a corpus folder, keyed by file name."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc}); fix or remove the manifest") from None
    result: dict[str, ReportMeta] = {}
    for name, values in data.items():
        if not isinstance(values, dict):
            raise SettingsError(f"{path}: [{name}] must be a table of fields like title = \"…\"")
        unknown = set(values) - set(ReportMeta.model_fields)
        if unknown:
            raise SettingsError(
                f"{path}: [{name}] has unknown field(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(ReportMeta.model_fields)}"
            )
        result[name] = ReportMeta(**{k: str(v) for k, v in values.items()})
    return result


class _LinkOut(type(Path())):  # type: ignore[misc]
    """A file found in a folder through a link that leads out of it; `read_bytes` refuses it by name."""

    target: Path


def discover(paths: list[Path]) -> list[Path]:
    """Report files under the given files and folders, sorted, skipping manifests and hidden files.

    A link that leads out of the folder (to /etc/passwd, say) is listed so that ingest refuses it by name.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            for child in sorted(path.rglob("*")):
                if child.is_file() and not _skipped(child, path):
                    target = child.resolve()
                    if not target.is_relative_to(root):
                        child = _LinkOut(child)
                        child.target = target
                    found.append(child)
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _skipped(child: Path, root: Path) -> bool:
    relative = child.relative_to(root)
    return child.name == MANIFEST_NAME or any(part.startswith(".") for part in relative.parts)
