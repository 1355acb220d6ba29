"""PDF pages to text that keeps the document's structure: paragraphs, tables as rows, no running headers.

pdfium reads the text (a tenth of pypdf's CPU) but drops the empty lines between paragraphs, which the
splitter reads as paragraph ends; `with_paragraph_breaks` puts them back from the lines' baselines.

Tables are read by hand on top of pypdf's layout mode, asked only for pages that may hold one: plain
extraction interleaves a table's wrapped cells ("The experiences and progress of care / leavers /
Good"), so the fact a member asks about first (Ofsted's judgement table) never stands in one sentence.
Layout mode keeps columns apart; this module reads the columns back into rows (cells joined by a tab,
the convention the DOCX and HTML readers share) and drops the lines that recur at the top or bottom of
most pages.
"""

from __future__ import annotations

import bisect
import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

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


# Bullets include the private-use code points symbol fonts put them at ("\uf02d", "\uf06e").
_MARKER = re.compile(r"^(?:\(?\d{1,3}(?:\.\d{1,2})*[.)]?|\(?[a-z]{1,4}\)|[-•◼▪■●\uf000-\uf0ff])$")


def _row_segments(line: str) -> list[tuple[int, str]] | None:
    """The cells of a table row, or None: a numbered or bulleted line with a hanging indent is a list item."""
    if not _is_row(line):
        return None
    segments = _segments(line)
    return None if _MARKER.match(segments[0][1]) else segments


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

    Plain extraction keeps words whole (layout mode now and then splits one: "o f"), so prose is
    taken from it; a table's span is found there by its first and last cells.
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
# pdfium joins a word hyphenated at a line end and marks the hyphen U+FFFE (U+0002 in older builds).
_HYPHEN_MARKS = str.maketrans({"\ufffe": "-", "\x02": "-"})
# A paragraph number set off by a tab stop comes out glued to its first word ("26.All"); pypdf and
# the splitter's list patterns expect "26. All".
_GLUED_NUMBER = re.compile(r"^(\s*\d{1,3}(?:\.\d{1,2})*\.)(?=[^\W\d_]|[‘'“\"(])")


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
            cleaned = _GLUED_NUMBER.sub(r"\1 ", line.rstrip().translate(_HYPHEN_MARKS))
            lines.append(Line(cleaned, baseline, size))
        position += len(line) + 2
    return lines


# Two runs of text on one line are a table's cells when this many ems apart (of the line's font size):
# a justified line spaces its words up to about 0.55 em, cells in the field reports stand 0.9 em apart or
# more. Erring low only costs a layout pass.
_CELL_GAP = 0.6
# Runs whose baselines lie less than this many ems apart share a row: pypdf's layout mode puts text less
# than a font height apart on one line, and a cell centred beside a wrapped one sits half a line off.
_ROW_SPREAD = 1.5


class _Run(NamedTuple):
    """A stretch of a pdfium line without a wide gap: a line of prose, or one cell of a table row."""

    baseline: float
    left: float
    right: float
    size: float
    text: str


def _runs(textpage: PdfTextPage, text: str) -> list[_Run] | None:
    """The runs of a page: its pdfium lines, cut where a gap of `_CELL_GAP` ems parts two words (a list
    number or bullet set off from its item by a tab stop starts no cell). None where pdfium gives no geometry."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    if len(text) != textpage.count_chars():
        return None
    raw = textpage.raw
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    box = (ctypes.byref(left), ctypes.byref(right), ctypes.byref(bottom), ctypes.byref(top))
    x, y = ctypes.c_double(), ctypes.c_double()
    origin = (ctypes.byref(x), ctypes.byref(y))
    runs: list[_Run] = []
    position = 0
    for line in text.split("\r\n"):
        stripped = line.rstrip()
        start = len(line) - len(line.lstrip())
        if start < len(stripped):
            size = pdfium_c.FPDFText_GetFontSize(raw, position + start) or 1.0
            if not pdfium_c.FPDFText_GetCharOrigin(raw, position + start, *origin):
                return None
            starts = [(start, x.value, y.value)]
            ends: list[float] = []
            for gap in re.finditer(r"(?<=\S)\s+(?=\S)", stripped):
                if len(starts) == 1 and _MARKER.match(stripped[start : gap.start()]):
                    continue
                if not (
                    pdfium_c.FPDFText_GetCharBox(raw, position + gap.start() - 1, *box)
                    and pdfium_c.FPDFText_GetCharOrigin(raw, position + gap.end(), *origin)
                ):
                    return None
                if x.value - right.value >= _CELL_GAP * size:
                    ends.append(right.value)
                    starts.append((gap.end(), x.value, y.value))
            if not pdfium_c.FPDFText_GetCharBox(raw, position + len(stripped) - 1, *box):
                return None
            ends.append(right.value)
            stops = [cut for cut, _, _ in starts[1:]] + [len(stripped)]
            for (first, x0, baseline), x1, stop in zip(starts, ends, stops):
                runs.append(_Run(baseline, x0, x1, size, stripped[first:stop].rstrip()))
        position += len(line) + 2
    return runs


def _rows_of_cells(runs: list[_Run]) -> int:
    """How many runs have a cell beside them on their left: about the same baseline, ending before they
    start. A row of n cells counts n - 1, prose in one column none (two columns count as cells: a
    layout pass more)."""
    ordered = sorted(runs)
    baselines = [run.baseline for run in ordered]
    count = 0
    for run in ordered:
        lo = bisect.bisect_left(baselines, run.baseline - _ROW_SPREAD * run.size)
        hi = bisect.bisect_right(baselines, run.baseline + _ROW_SPREAD * run.size)
        count += any(
            other.right <= run.left
            and abs(other.baseline - run.baseline) < _ROW_SPREAD * min(run.size, other.size)
            and not _MARKER.match(other.text)
            for other in ordered[lo:hi]
        )
    return count


def _sets_cells_side_by_side(textpage: PdfTextPage, text: str) -> bool:
    """Two rows or more of cells side by side, as a table needs (header and one row) for layout mode to
    find it; a page without geometry is given the benefit of the doubt."""
    runs = _runs(textpage, text)
    return runs is None or _rows_of_cells(runs) >= 2


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


def _read_page(document: PdfDocument, number: int, ask_cells: Callable[[str], bool]) -> tuple[str, bool | None]:
    """Page n's text with its paragraph breaks, and whether it sets cells side by side, measured only
    where `ask_cells(text)` (None elsewhere): the geometry costs two calls a word gap."""
    page = document[number]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            joined = with_paragraph_breaks(_lines(textpage, text))
            cells = _sets_cells_side_by_side(textpage, text) if ask_cells(joined) else None
        finally:
            textpage.close()
    finally:
        page.close()
    return joined, cells


def pdf_text(document: PdfDocument, layout: Callable[[int], str]) -> str:
    """The whole text of an open pdfium document, page by page, with tables as rows of tab-separated cells.

    `layout(n)` gives page n in a layout that keeps columns apart (pypdf's layout mode). It costs ten
    times pdfium's reading, so it is asked only for pages whose plain text may hold a table and whose
    geometry sets cells side by side on two rows: most pages of short lines are lists, and justified
    prose that layout mode spaces out reads as a table there and comes back mangled.
    """
    pages: list[str] = []
    cells: list[bool | None] = []
    for number in range(len(document)):
        text, beside = _read_page(document, number, _may_hold_table)
        pages.append(text)
        cells.append(beside)
    plain = strip_running_lines(pages)
    text = ""
    for number, page_text_ in enumerate(plain):
        if _may_hold_table(page_text_):
            beside = cells[number]
            if beside is None:  # dropping a running line joined short lines into a run: measure now
                beside = _read_page(document, number, lambda _: True)[1]
            if beside:
                page_text_ = tables_into(page_text_, layout(number))
        text = _join_pages(text, page_text_)
    return text


def _join_pages(before: str, after: str) -> str:
    """A sentence the page break cut ("a new 'front door' called" | "Family Connect") is one again."""
    # A page number standing alone at the foot or head of a page is not where the sentence stops.
    tail = re.sub(r"\n\s*\d{1,3}\s*$", "", before.rstrip()).rstrip()
    head = re.sub(r"^\s*\d{1,3}\s*\n", "", after.lstrip()).lstrip()
    if not tail:
        return after
    if re.search(r"[A-Za-z,’']$", tail) and re.match(r"[A-Za-z‘'(]", head):
        first_line = head.split("\n", 1)[0]
        if not first_line.rstrip().endswith(("?", ":")) and "\t" not in first_line:
            return f"{tail} {head}"
    return f"{before}\n\n{after}"
