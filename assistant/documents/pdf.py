"""PDF pages to text that keeps the document's structure: paragraphs, tables as rows, no running headers.

pdfium reads the text (a tenth of pypdf's CPU) but drops the empty lines between paragraphs, which the
splitter reads as paragraph ends; `with_paragraph_breaks` puts them back from the lines' baselines.

Tables are read by hand from a fixed-width layout of the page, made only for pages that may hold one:
plain extraction interleaves a table's wrapped cells ("The experiences and progress of care / leavers /
Good"), so the fact a member asks about first (Ofsted's judgement table) never stands in one sentence.
The layout (`pdf_layout`: pdfium's geometry set as pypdf's layout mode sets a page, pypdf itself only
where pdfium gives no geometry) keeps columns apart; this module reads the columns back into rows
(cells joined by a tab, the convention the DOCX and HTML readers share) and drops the lines that recur
at the top or bottom of most pages.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from assistant.documents.pdf_layout import MARKER, Run, clean_line, layout_text, page_runs, sets_cells_side_by_side

if TYPE_CHECKING:
    from pypdfium2 import PdfDocument, PdfPage, PdfTextPage

# Lines within this many characters of a column's start belong to that column.
_ALIGN = 3
# Running headers and footers: the top and bottom lines of a page that recur on most pages.
_EDGE_LINES = 3


def _segments(line: str) -> list[tuple[int, str]]:
    """(column, text) of each cell of a layout line: text split at runs of four or more spaces."""
    out: list[tuple[int, str]] = []
    # A column gap is a run of four or more spaces; prose has single spaces (justified lines rarely more than two).
    for match in re.finditer(r"\S+(?: {1,3}\S+)*", line):
        out.append((match.start(), match.group(0)))
    return out


def _is_row(line: str) -> bool:
    segments = _segments(line)
    # A gap before punctuation is a hole where a link or footnote was, not a new column.
    return len(segments) >= 2 and not any(re.match(r"[,.;:)]", text) for _, text in segments[1:])


def _column(starts: Sequence[int], position: int) -> int | None:
    """The column a piece of text at this position belongs to: the nearest start at or left of it."""
    if position < starts[0] - _ALIGN:
        return None
    return max(i for i, start in enumerate(starts) if start <= position + _ALIGN or i == 0)


def _row_segments(line: str) -> list[tuple[int, str]] | None:
    """The cells of a table row, or None: a numbered or bulleted line with a hanging indent is a list item."""
    if not _is_row(line):
        return None
    segments = _segments(line)
    return None if MARKER.match(segments[0][1]) else segments


def _fits(segment: tuple[int, str], column: int, starts: Sequence[int]) -> bool:
    """A wrapped cell stays inside its column; a line running past the next column is prose."""
    position, text = segment
    return column + 1 >= len(starts) or position + len(text) < starts[column + 1]


def _tables(lines: list[str]) -> list[tuple[int, int, list[list[str]]]]:
    """Blocks of lines that read as a table: (first line, last line + 1, rows of cells)."""
    found: list[tuple[int, int, list[list[str]]]] = []
    i = 0
    while i < len(lines):
        first = _row_segments(lines[i])
        if first is None:
            i += 1
            continue
        starts = [col for col, _ in first]
        rows = [[text for _, text in first]]
        j = last = i
        j += 1
        blank_run = 0
        while j < len(lines):
            line = lines[j]
            if not line.strip():
                blank_run += 1
                if blank_run > 2:
                    break
                j += 1
                continue
            segments = _segments(line)
            placed = [_column(starts, col) for col, _ in segments]
            columns = [col for col in placed if col is not None]
            if len(columns) < len(placed):
                break
            if _row_segments(line) is not None:
                cells = [""] * len(starts)
                for (_, text), col in zip(segments, columns):
                    cells[col] = f"{cells[col]} {text}".strip()
                rows.append(cells)
            elif blank_run == 0 and len(segments) == 1 and _fits(segments[0], columns[0], starts):
                # A wrapped cell: the line continues the cell above it in the same column.
                col = columns[0]
                rows[-1] += [""] * (len(starts) - len(rows[-1]))
                rows[-1][col] = f"{rows[-1][col]} {segments[0][1]}".strip()
            else:
                break
            last = j
            blank_run = 0
            j += 1
        if len(rows) >= 2 and not _reads_as_prose(rows):
            found.append((i, last + 1, [[cell for cell in row if cell] for row in rows]))
            i = last + 1
        else:
            i += 1
    return found


def _reads_as_prose(rows: list[list[str]]) -> bool:
    """Justified prose whose wide word gaps look like columns: most of its cells end mid-sentence and the
    next goes on in lower case or mid-word ("improvements have been made | to some areas", "multi |
    -agency"), or a line stands as one long cell. A table's next cell starts a new value (a capital, a
    figure, a grade), and its rows keep their columns."""
    breaks = 0
    running_on = 0
    for row in rows:
        cells = [c for c in row if c]
        if len(cells) == 1:
            breaks += 1
            running_on += len(cells[0].split()) >= 8
        for a, b in zip(cells, cells[1:]):
            breaks += 1
            running_on += (b[0].islower() or b[0] in "-’'" or a.endswith("-")) and not a.endswith((".", ":", ";", "?", "!"))
    return breaks > 0 and running_on * 2 >= breaks


def _words_pattern(text: str) -> str:
    return r"\s*".join(re.escape(word) for word in text.split())


def tables_into(plain: str, layout: str) -> str:
    """The plain text of a page with each table the layout shows replaced by its rows.

    Prose is taken from the plain text, which keeps paragraphs and words whole (pypdf's layout mode,
    the fallback, now and then splits one: "o f"); a table's span is found there by its first and last
    cells.
    """
    for _, _, rows in _tables(layout.split("\n")):
        head = re.search(_words_pattern(" ".join(rows[0][0].split()[:6])), plain)
        if head is None:
            continue
        size = sum(len(cell) + 1 for row in rows for cell in row)
        window = plain[head.start() : head.start() + size * 3 // 2 + 100]
        # The last row whole, else the last match of its last cell within the table's reach.
        tails = list(re.finditer(_words_pattern(" ".join(rows[-1])), window))
        tails = tails or list(re.finditer(_words_pattern(rows[-1][-1]), window))
        if not tails:
            continue
        end = head.start() + tails[0 if len(rows[-1]) > 1 and len(tails) == 1 else -1].end()
        rendered = "\n".join("\t".join(" ".join(cell.split()) for cell in row) for row in rows)
        plain = f"{plain[: head.start()]}\n\n{rendered}\n\n{plain[end:]}"
    return plain


def _may_hold_table(text: str) -> bool:
    """Three short lines in a row: how a table's cells come out of plain extraction (cheap test)."""
    run = 0
    for line in text.split("\n"):
        run = run + 1 if 0 < len(line.strip()) < 45 else 0
        if run >= 3:
            return True
    return False


def _edge_key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def strip_running_lines(pages: list[str]) -> list[str]:
    """Drop the lines that stand at the top or bottom of most pages (running headers, footers)."""
    if len(pages) < 3:
        return pages
    split = [[line for line in page.split("\n")] for page in pages]
    counts: Counter[str] = Counter()
    for lines in split:
        filled = [line for line in lines if line.strip()]
        edges = filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]
        counts.update({_edge_key(line) for line in edges})
    # Most pages after the title page carry them; half the pages is a safe floor.
    threshold = max(3, (len(pages) - 1) // 2)
    running = {key for key, n in counts.items() if n >= threshold}
    if not running:
        return pages
    out: list[str] = []
    for number, lines in enumerate(split):
        if number == 0:
            out.append("\n".join(lines))  # the title page keeps its title, which headers often repeat
            continue
        filled_index = [i for i, line in enumerate(lines) if line.strip()]
        edge = set(filled_index[:_EDGE_LINES] + filled_index[-_EDGE_LINES:])
        out.append("\n".join(line for i, line in enumerate(lines) if not (i in edge and _edge_key(line) in running)))
    return out


# A baseline this many line pitches below the one before leaves an empty line: a paragraph ends.
_PARAGRAPH_GAP = 1.9
# Baseline steps larger than this (points) are column or section jumps, not the page's line pitch.
_MAX_PITCH = 40.0


class Line(NamedTuple):
    """One line of a page as pdfium reads it: its text, the baseline of its first character and that
    character's font size (points; None where pdfium gives no geometry)."""

    text: str
    baseline: float | None
    size: float | None


def page_lines(page: PdfPage) -> list[Line]:
    """The non-empty lines of one pdfium page with their geometry."""
    textpage = page.get_textpage()
    try:
        return _lines(textpage, textpage.get_text_range())
    finally:
        textpage.close()


def _lines(textpage: PdfTextPage, text: str) -> list[Line]:
    import ctypes

    import pypdfium2.raw as pdfium_c

    # Text and character indices agree unless a character lies outside the BMP; then skip geometry.
    aligned = len(text) == textpage.count_chars()
    x, y = ctypes.c_double(), ctypes.c_double()
    lines: list[Line] = []
    position = 0
    for line in text.split("\r\n"):
        if line.strip():
            first = position + len(line) - len(line.lstrip())
            baseline = size = None
            if aligned and pdfium_c.FPDFText_GetCharOrigin(textpage.raw, first, ctypes.byref(x), ctypes.byref(y)):
                baseline, size = y.value, pdfium_c.FPDFText_GetFontSize(textpage.raw, first) or None
            cleaned = clean_line(line.rstrip())
            lines.append(Line(cleaned, baseline, size))
        position += len(line) + 2
    return lines


def with_paragraph_breaks(lines: Sequence[Line]) -> str:
    """The lines of a page joined, with a blank line where the layout leaves an empty line between two.

    pdfium drops the empty lines a word processor writes between paragraphs, which is how the splitter
    finds paragraph ends. They come back from geometry: the page's line pitch is the median step from one
    baseline down to the next; a step of nearly two pitches holds an empty line. Lines in a larger font
    (a title) step further, in proportion to their size against the page's body text.
    """
    steps = [
        a.baseline - b.baseline
        for a, b in zip(lines, lines[1:])
        if a.baseline is not None and b.baseline is not None and 0 < a.baseline - b.baseline < _MAX_PITCH
    ]
    sizes = [line.size for line in lines if line.size]
    pitch = statistics.median(steps) if steps else 0.0
    body = statistics.median(sizes) if sizes else 0.0
    out: list[str] = []
    for before, line in zip([None, *lines], lines):
        if before is not None and pitch and before.baseline is not None and line.baseline is not None:
            scale = max(1.0, min(before.size or body, line.size or body) / body) if body else 1.0
            if before.baseline - line.baseline > _PARAGRAPH_GAP * pitch * scale:
                out.append("")
        out.append(line.text)
    return "\n".join(out)


class _Page(NamedTuple):
    """A page as pdfium reads it: its text with paragraph breaks and, where they were measured, its runs."""

    text: str
    measured: bool
    runs: list[Run] | None  # None where pdfium gives no geometry


def _read_page(document: PdfDocument, number: int, ask_runs: Callable[[str], bool]) -> _Page:
    """Page n's text with its paragraph breaks, and its runs, measured only where `ask_runs(text)`: the
    geometry costs three calls a word gap."""
    page = document[number]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            joined = with_paragraph_breaks(_lines(textpage, text))
            if not ask_runs(joined):
                return _Page(joined, False, None)
            return _Page(joined, True, page_runs(textpage, text))
        finally:
            textpage.close()
    finally:
        page.close()


def _layout(number: int, runs: list[Run] | None, fallback: Callable[[int], str]) -> str | None:
    """Page n as fixed-width text if it sets cells side by side (None if not): set from pdfium's runs, or
    by `fallback(n)` where pdfium gives no geometry."""
    if runs is None:
        return fallback(number)
    return layout_text(runs) if sets_cells_side_by_side(runs) else None


def pdf_text(document: PdfDocument, fallback: Callable[[int], str]) -> str:
    """The whole text of an open pdfium document, page by page, with tables as rows of tab-separated cells.

    Tables are looked for only on pages whose plain text may hold one and whose geometry sets cells side
    by side on two rows: most pages of short lines are lists. `fallback(n)` gives page n in a layout that
    keeps columns apart (pypdf's layout mode) where pdfium gives no geometry.
    """
    pages = [_read_page(document, number, _may_hold_table) for number in range(len(document))]
    plain = strip_running_lines([page.text for page in pages])
    text = ""
    for number, page_text_ in enumerate(plain):
        if _may_hold_table(page_text_):
            page = pages[number]
            if not page.measured:  # dropping a running line joined short lines into a run: measure now
                page = _read_page(document, number, lambda _: True)
            layout = _layout(number, page.runs, fallback)
            if layout is not None:
                page_text_ = tables_into(page_text_, layout)
        text = _join_pages(text, page_text_)
    return text


_FOOT_NUMBER = re.compile(r"\n\s*\d{1,3}\s*$")


def _without_foot_number(text: str) -> str:
    """The text without a page number standing alone at its end. Only the trailing spaces and digits are
    searched: a search through every page read so far made joining a report's pages quadratic."""
    stripped = text.rstrip()
    start = len(stripped)
    while start and (stripped[start - 1].isspace() or stripped[start - 1].isdecimal()):
        start -= 1
    return (stripped[:start] + _FOOT_NUMBER.sub("", stripped[start:])).rstrip()


def _join_pages(before: str, after: str) -> str:
    """A sentence the page break cut ("a new 'front door' called" | "Family Connect") is one again."""
    # A page number standing alone at the foot or head of a page is not where the sentence stops.
    tail = _without_foot_number(before)
    head = re.sub(r"^\s*\d{1,3}\s*\n", "", after.lstrip()).lstrip()
    if not tail:
        return after
    if re.match(r"[A-Za-z,’']$", tail[-1]) and re.match(r"[A-Za-z‘'(]", head):
        first_line = head.split("\n", 1)[0]
        if not first_line.rstrip().endswith(("?", ":")) and "\t" not in first_line:
            return f"{tail} {head}"
    return f"{before}\n\n{after}"
