"""A PDF page's geometry from pdfium: its runs of text, whether they set cells side by side, and the page
as fixed-width text that keeps a table's columns apart.

The fixed-width text is what `pdf.tables_into` reads tables from. pypdf's layout mode gave it, but it
parses the content stream in Python: on the field reports two thirds of all reading's CPU went to the
one page in fifteen it was asked for. pdfium already knows where every character stands, so the page is
set here from the runs its lines split into, the way layout mode sets it (rows by baseline, columns in
proportion to x), and tables read the same. Words stay whole, where layout mode now and then splits one
("o f"); pypdf is left for pages pdfium gives no geometry for.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pypdfium2 import PdfTextPage

# A list number or bullet; bullets include the private-use code points symbol fonts put them at ("\uf02d", "\uf06e").
MARKER = re.compile(r"^(?:\(?\d{1,3}(?:\.\d{1,2})*[.)]?|\(?[a-z]{1,4}\)|[-•◼▪■●\uf000-\uf0ff])$")
# pdfium joins a word hyphenated at a line end and marks the hyphen U+FFFE (U+0002 in older builds).
_HYPHEN_MARKS = str.maketrans({"\ufffe": "-", "\x02": "-"})
# A paragraph number set off by a tab stop comes out glued to its first word ("26.All"); pypdf and
# the splitter's list patterns expect "26. All".
_GLUED_NUMBER = re.compile(r"^(\s*\d{1,3}(?:\.\d{1,2})*\.)(?=[^\W\d_]|[‘'“\"(])")

# Two runs of text on one line are a table's cells when this many ems apart (of the larger font size
# beside the gap): a justified line spaces its words up to about 0.55 em, cells in the field reports
# stand 0.9 em apart or more. Erring low only costs a table reading.
_CELL_GAP = 0.6
# Runs whose baselines lie less than this many ems apart share a row: a cell centred beside a wrapped
# one sits half a line off.
_ROW_SPREAD = 1.5
# Layout mode's column is the page's mean character width over 1.25: a run's text ends short of the
# next run's column, so the gap between cells widens.
_COLUMN_SHARE = 1.25
# `pdf._segments` parts cells at four spaces or more.
_CELL_SPACES = 4
# Bounds on a line's indent and a row's empty lines above it, whatever odd geometry a page has.
_MAX_COLUMN = 1000
_MAX_EMPTY_LINES = 100


def clean_line(text: str, *, starts_line: bool = True) -> str:
    """A pdfium line (or the rest of one) as pypdf prints it: line-end hyphens back, a paragraph number
    apart from its word. Tested before replacing: this runs on every line of every page."""
    if "\ufffe" in text or "\x02" in text:
        text = text.translate(_HYPHEN_MARKS)
    return _GLUED_NUMBER.sub(r"\1 ", text) if starts_line and _GLUED_NUMBER.match(text) else text


class Run(NamedTuple):
    """A stretch of a pdfium line without a wide gap: a line of prose, or one cell of a table row."""

    baseline: float
    left: float
    right: float
    size: float
    text: str


def page_runs(textpage: PdfTextPage, text: str) -> list[Run] | None:
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
    runs: list[Run] = []
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
                if len(starts) == 1 and MARKER.match(stripped[start : gap.start()]):
                    continue
                if not (
                    pdfium_c.FPDFText_GetCharBox(raw, position + gap.start() - 1, *box)
                    and pdfium_c.FPDFText_GetCharOrigin(raw, position + gap.end(), *origin)
                ):
                    return None
                width = x.value - right.value
                # A footnote number in a small font may start the line: a wide gap is measured again
                # against the text after it.
                if width >= _CELL_GAP * size and width >= _CELL_GAP * pdfium_c.FPDFText_GetFontSize(raw, position + gap.end()):
                    ends.append(right.value)
                    starts.append((gap.end(), x.value, y.value))
            if not pdfium_c.FPDFText_GetCharBox(raw, position + len(stripped) - 1, *box):
                return None
            ends.append(right.value)
            stops = [cut for cut, _, _ in starts[1:]] + [len(stripped)]
            for (first, x0, baseline), x1, stop in zip(starts, ends, stops):
                piece = clean_line(stripped[first:stop].rstrip(), starts_line=first == start)
                runs.append(Run(baseline, x0, x1, size, piece))
        position += len(line) + 2
    return runs


def _rows_of_cells(runs: Sequence[Run]) -> int:
    """How many runs have a cell beside them on their left: about the same baseline, ending before they
    start. A row of n cells counts n - 1, prose in one column none (two columns count as cells: a
    table reading more)."""
    ordered = sorted(runs)
    baselines = [run.baseline for run in ordered]
    count = 0
    for run in ordered:
        lo = bisect.bisect_left(baselines, run.baseline - _ROW_SPREAD * run.size)
        hi = bisect.bisect_right(baselines, run.baseline + _ROW_SPREAD * run.size)
        count += any(
            other.right <= run.left
            and abs(other.baseline - run.baseline) < _ROW_SPREAD * min(run.size, other.size)
            and not MARKER.match(other.text)
            for other in ordered[lo:hi]
        )
    return count


def sets_cells_side_by_side(runs: Sequence[Run]) -> bool:
    """Two rows or more of cells side by side, as a table needs (header and one row) to be read as one."""
    return _rows_of_cells(runs) >= 2


def layout_text(runs: Sequence[Run]) -> str:
    """The page as fixed-width text, set as pypdf's layout mode sets it, so tables read the same.

    Going down the page, a run joins the row above when its baseline, to the point, is the row's first,
    or lies less than a font size from it and the run overlaps no run of the row; a row steps down one
    empty line for each font size past the first. Each run stands at the column of its x position, in
    columns of the mean character width over 1.25, and four spaces at least after the run before it:
    `page_runs` cut it at a cell gap.
    """
    chars = sum(len(run.text) for run in runs)
    if not chars:
        return ""
    column = sum(max(0.0, run.right - run.left) for run in runs) / (_COLUMN_SHARE * chars) or 1.0
    page_left = min(run.left for run in runs)
    rows: list[tuple[int, float, list[Run]]] = []
    for run in sorted(runs, key=lambda run: (-run.baseline, run.left)):
        if rows:
            top, size, members = rows[-1]
            level = int(run.baseline)
            if level == top or (
                abs(top - level) < min(size, run.size)
                and not any(other.left < run.right and run.left < other.right for other in members)
            ):
                members.append(run)
                continue
        rows.append((int(run.baseline), run.size, [run]))
    lines: list[str] = []
    above: int | None = None
    for level, _, members in rows:
        members.sort(key=lambda run: run.left)
        if above is not None:
            lines.extend([""] * min(_MAX_EMPTY_LINES, max(0, int((above - level) / members[0].size) - 1)))
        above = level
        line = ""
        for run in members:
            at = min(_MAX_COLUMN, int((run.left - page_left) / column))
            line = line.ljust(max(at, len(line) + _CELL_SPACES) if line else at) + run.text
        lines.append(line.rstrip())
    return "\n".join(lines)
