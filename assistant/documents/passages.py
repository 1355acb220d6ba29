"""Split a report into passages: one numbered paragraph (with its list) = one passage.

Written by hand because llama-index's splitters cut by token count, not by the numbered
paragraphs that council reports are cited by; `assistant.documents.nodes` wraps it as a node parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.text import rough_sentence_spans, sentence_spans
from assistant.types import Passage, Report

SPLITTER_VERSION = "paragraphs-10"

_NUMBERED = re.compile(r"^(\s*(?:[-•]\s+)?)(\d{1,3}(?:\.\d{1,2})*)(?:[.)])?\s+(?=\S)")
_BULLET = re.compile(r"^\s*(?:[-•*–]\s+|\(?(?:[a-z]|[ivx]{1,4})\)\s+)")
_SUBLABEL = re.compile(r"^\s*(?:[-•]\s+)?\(([a-z]|[ivx]{1,4})\)\s+")

TokenCounter = Callable[[str], int]


@dataclass
class _Line:
    kind: str  # "num", "bullet", "text", "heading", "short"
    text: str
    start: int
    end: int
    label: str = ""
    body_start: int = 0
    listed: bool = False  # an item of a list of short numbered lines, never a heading


@dataclass
class _Draft:
    label: str
    section: str
    lines: list[_Line] = field(default_factory=list)
    short: bool = False
    resumes: bool = False  # carries on the paragraph of the same label that a footnote interrupted

    @property
    def start(self) -> int:
        first = self.lines[0]
        return first.body_start if first.kind == "num" else first.start

    @property
    def end(self) -> int:
        return self.lines[-1].end


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    offset = 0
    for raw in text.split("\n"):
        start, end = offset, offset + len(raw)
        offset = end + 1
        stripped = raw.strip()
        if not stripped:
            continue
        lead = len(raw) - len(raw.lstrip())
        out.append(_Line("text", stripped, start + lead, start + lead + len(stripped)))
    return out


def _join_wrapped_headings(lines: list[_Line]) -> list[_Line]:
    """"The experiences and progress of children in care:" over "outstanding": one heading the PDF wrapped."""
    out: list[_Line] = []
    for line in lines:
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.text.endswith(":")
            and 0 < _word_count(line.text) <= 4
            and line.text[0].islower()
            and not re.search(r"[.,;:]$", line.text)
        ):
            out[-1] = _Line(previous.kind, f"{previous.text} {line.text}", previous.start, line.end)
            continue
        out.append(line)
    return out


def _word_count(text: str) -> int:
    return len(text.split())


def _heading_like(text: str) -> bool:
    words = _word_count(text)
    if words == 0 or words > 14 or len(text) > 100:
        return False
    if text[-1] in ".,;" or (text.endswith(":") and words > 2):
        return False
    # A heading opens with a word (or its number): a line opening with a bracket or a list glyph
    # ("\uf02d there have been 48 adoptions", a PDF's symbol-font dash) is part of the text.
    if not (text[0].isalnum() or text[0] in "'‘\"“") or text[0].islower():
        return False
    if re.search(r"\d{5,}|@|https?:|www\.|\t|,", text) or _unbalanced(text):
        return False
    # "Key: value" lines are fields of a cover sheet, not headings.
    return not re.search(r"\w:\s+\S", text)


def _head(line: _Line) -> int | None:
    """The leading number of a line that starts like a numbered paragraph ("12. ", "3 "), if any."""
    if "\t" in line.text or _SUBLABEL.match(line.text):
        return None
    number = _NUMBERED.match(line.text)
    return int(number.group(2).split(".")[0]) if number else None


def _footnote(lines: list[_Line], index: int, last_number: int) -> bool:
    """A "1" inside a running sequence that the next numbered line carries on from is a footnote at a page
    foot ("1 The areas for improvement have been cross-referenced…"), not a list starting again."""
    for line in lines[index + 1 : index + 40]:
        head = _head(line)
        if head is not None:
            return last_number < head <= last_number + 3
    return False


def _unbalanced(text: str) -> bool:
    """A line closing a bracket it never opened ("Framework)") is the tail of a wrapped line."""
    return text.count(")") > text.count("(")


def _continues(previous: _Line, line: _Line) -> bool:
    """A line carrying on the sentence the line before it left open (a PDF line or page break)."""
    if previous.kind in ("table", "heading") or re.search(r"[.!?:;]$", previous.text):
        return False
    # "…for care leavers aged" over "18 to 25 ceases.": a number no paragraph's label carries on the sentence too.
    return line.text[0].islower() or line.text[0] == "(" or _unbalanced(line.text) or (line.text[0].isdigit() and line.kind == "text")


def _classify(lines: list[_Line]) -> None:
    last_number: int | None = None
    for index, line in enumerate(lines):
        if "\t" in line.text:
            line.kind = "table"  # a table row: cells joined by tabs (PDF, DOCX and HTML readers)
            continue
        number = _NUMBERED.match(line.text)
        if number and not _SUBLABEL.match(line.text):
            head = int(number.group(2).split(".")[0])
            plausible = head == 1 or (last_number is not None and last_number < head <= last_number + 3)
            if last_number is None and head <= 3:
                plausible = True
            if head == 1 and last_number is not None and last_number >= 2 and _footnote(lines, index, last_number):
                line.kind = "note"
                continue
            if plausible:
                line.kind, line.label = "num", number.group(2)
                line.body_start = line.start + number.end()
                last_number = head
                continue
        if _BULLET.match(line.text):
            line.kind = "bullet"
        elif _heading_like(line.text):
            line.kind = "candidate"
    _resolve_headings(lines)
    for line, following in zip(lines, lines[1:]):
        # A short unpunctuated line over a numbered paragraph heads it, even in "Topic: grade" form.
        if line.kind in ("text", "short", "candidate") and following.kind == "num" and _titles(line.text) and not line.listed:
            line.kind = "heading"


def _titles(text: str) -> bool:
    # A sentence ended inside the line ("…further harm. (Recommendation)") makes it text, not a title.
    if re.search(r"[.!?]\s", text):
        return False
    return 0 < _word_count(text) <= 20 and text[-1] not in ".,;" and (text[0].isalnum() or text[0] in "'‘\"“") and not text[0].islower()


def _numbered_heading(line: _Line) -> bool:
    body = line.text[line.body_start - line.start :]
    return line.kind == "num" and not line.listed and _heading_like(body) and not body.endswith(":") and _word_count(body) <= 8


def _numbered_list(lines: list[_Line]) -> int:
    """Where a run of short lines turns into a list, if it does: three or more short numbered lines in a row
    ("1. Children who need help and protection Good", "2.1 Adoption performance Outstanding", …) head nothing,
    as headings nest two deep at most before text. The run's length when it does not."""
    numbered = [bool(_NUMBERED.match(line.text)) for line in lines]
    return next((at for at in range(len(lines) - 2) if all(numbered[at : at + 3])), len(lines))


def _resolve_headings(lines: list[_Line]) -> None:
    """A run of short lines is a heading only when substantive text follows it."""
    i = 0
    while i < len(lines):
        if lines[i].kind != "candidate" and not _numbered_heading(lines[i]):
            i += 1
            continue
        j = i
        while j < len(lines) and (lines[j].kind == "candidate" or _numbered_heading(lines[j])):
            j += 1
        listed = i + _numbered_list(lines[i:j])
        if listed < j:
            # The lines before the list are resolved as a run of their own; the list's lines are its items.
            end = listed
            while end < j and _NUMBERED.match(lines[end].text):
                lines[end].listed = True
                lines[end].kind = "num" if lines[end].label else "short"
                end += 1
            _resolve_run(lines, i, listed)
            i = end
            continue
        _resolve_run(lines, i, j)
        i = j


def _resolve_run(lines: list[_Line], i: int, j: int) -> None:
    following = lines[j] if j < len(lines) else None
    substantive = following is not None and (following.kind in ("num", "bullet") or _word_count(following.text) >= 12)
    for k in range(i, j):
        if (_numbered_heading(lines[k]) and following is not None) or (substantive and k >= j - 2):
            lines[k].kind = "heading"
        elif lines[k].kind == "candidate":
            lines[k].kind = "short"


def _drafts(lines: list[_Line]) -> list[_Draft]:
    drafts: list[_Draft] = []
    section: list[str] = []
    after_heading = False
    tables = 0
    current: _Draft | None = None
    interrupted: _Draft | None = None
    for line in lines:
        if line.kind == "note":
            # A footnote stands alone; the paragraph its page break interrupted carries on after it.
            numbered = current is not None and current.label != "" and not current.label.startswith("table")
            interrupted = current if numbered else interrupted
            drafts.append(_Draft("", " › ".join(section), [line], short=True))
            current = None
            continue
        if current is None and interrupted is not None and line.kind in ("text", "short") and not after_heading:
            current = _Draft(interrupted.label, interrupted.section, [line], resumes=True)
            drafts.append(current)
            interrupted = None
            continue
        interrupted = None
        if current is not None and line.kind in ("text", "short") and _continues(current.lines[-1], line):
            current.lines.append(line)
            continue
        if line.kind == "heading":
            # "What needs to improve?1": a footnote mark glued to a heading is not part of its title.
            title = re.sub(r"(?<=[?!)a-z])\d{1,2}$", "", line.text).rstrip(":").strip()
            section = section[-1:] + [title] if after_heading else [title]
            after_heading = True
            current = None
            if re.search(r"\w:\s+\w|\b(?:is|are|was|were|requires?)\b", line.text):
                # "The experiences and progress of care leavers: good", "Children's services in Barnet
                # are inadequate": a heading that states a finding is also a passage, found and quoted.
                drafts.append(_Draft("", " › ".join(section), [line], short=True))
            continue
        after_heading = False
        heading = " › ".join(section)
        if line.kind == "table":
            if current is None or current.label[:5] != "table" or current.lines[-1].kind != "table":
                tables += 1
                current = _Draft(f"table {tables}", heading, [])
                drafts.append(current)
            current.lines.append(line)
            continue
        if current is not None and current.lines[-1].kind == "table":
            current = None  # a table ends where its rows do
        if line.kind == "num":
            current = _Draft(line.label, heading, [line])
            drafts.append(current)
        elif line.kind == "bullet":
            if current is None or current.short:
                current = _Draft("", heading, [line])
                drafts.append(current)
            else:
                current.lines.append(line)
        elif line.text.endswith(":") and line.kind != "short":
            current = _Draft("", heading, [line])
            drafts.append(current)
        elif line.kind == "short" or _word_count(line.text) < 12:
            if current is not None and (current.short or current.lines[-1].text.endswith(":")):
                current.lines.append(line)
            else:
                current = _Draft("", heading, [line], short=True)
                drafts.append(current)
        else:
            lead_in = current is not None and current.lines[-1].text.endswith(":")
            if current is not None and not current.short and (current.label or lead_in):
                current.lines.append(line)
            else:
                current = _Draft("", heading, [line])
                drafts.append(current)
    return drafts


def _pieces(draft: _Draft, report_text: str, section: str, limit: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Split a too-long draft at line breaks, then sentence boundaries, into spans under the limit."""
    units: list[tuple[int, int]] = []
    for index, line in enumerate(draft.lines):
        start = line.body_start if (index == 0 and line.kind == "num") else line.start
        units.extend((start + a, start + b) for a, b in rough_sentence_spans(report_text[start : line.end]))
    prefix = count(section) + 2 if section else 0
    pieces: list[tuple[int, int]] = []
    piece_start: int | None = None
    piece_end = 0
    for start, end in units:
        if piece_start is None:
            piece_start, piece_end = start, end
            continue
        if prefix + count(report_text[piece_start:end]) > limit:
            pieces.append((piece_start, piece_end))
            piece_start = start
        piece_end = end
    if piece_start is not None:
        pieces.append((piece_start, piece_end))
    return pieces


def split_report(report: Report, *, max_tokens: int = 256, count_tokens: TokenCounter | None = None) -> list[Passage]:
    """Passages of a report, in reading order, each with a label and its span in the text."""
    count = count_tokens or (lambda text: len(text.split()) * 4 // 3)
    lines = _join_wrapped_headings(_lines(report.text))
    _classify(lines)
    passages: list[Passage] = []
    unnumbered = 0
    # Every passage carries its report's own fields, so a hit can be cited and filtered alone.
    carried = report.model_dump(include={"source", "title", "council", "committee", "date"})
    for draft in _drafts(lines):
        if draft.label:
            label = draft.label
        else:
            unnumbered += 1
            label = f"¶{unnumbered}"
        whole = (draft.start, draft.end)
        text = report.text[whole[0] : whole[1]]
        spans = [whole]
        section_text = draft.section
        # Count what the encoder will read: Passage.embedding_text() puts council and section first.
        context = ". ".join(part for part in (report.council, section_text) if part)
        if count(f"{context}: {text}" if context else text) > max_tokens:
            spans = _pieces(draft, report.text, context, max_tokens, count)
        first_part = 1 if len(spans) > 1 else 0
        cut = [i for i, p in enumerate(passages) if p.paragraph == label] if draft.resumes else []
        if cut:
            # The rest of a paragraph a footnote cut: its next part, under the same printed label.
            if passages[cut[-1]].part == 0:
                passages[cut[-1]] = passages[cut[-1]].model_copy(update={"part": 1})
            first_part = passages[cut[-1]].part + 1
        for part, (start, end) in enumerate(spans, start=first_part):
            ordinal = len(passages)
            passages.append(
                Passage(
                    id=f"{report.source}#{ordinal}@{report.content_hash[:10]}",
                    section=section_text,
                    paragraph=label,
                    part=part,
                    ordinal=ordinal,
                    start=start,
                    end=end,
                    text=report.text[start:end],
                    **carried,
                )
            )
    return passages


@lru_cache(maxsize=4)
def token_counter(model_dir: Path) -> TokenCounter:
    """Word-piece counter of the embedding model (the `tokenizers` library; no torch needed)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=True).ids)

    return count


# "Lead inspector: Andy Waugh", "Inspection dates: 4 to 15 December 2023": each field is its own unit.
_FIELD_LINE = re.compile(r"^[A-Z][\w ’']{2,40}:\s+\S")
_UNIT_BULLET = re.compile(r"^\s*(?:[-•*–]\s+)?(?:\(?(?:[a-z]|[ivx]{1,4})\)\s+)?")


@lru_cache(maxsize=20000)
def unit_spans(text: str) -> tuple[tuple[int, int, bool, bool], ...]:
    """(start, end, is_bullet, is_lead_in) for each sentence or list item of a passage."""
    spans: list[tuple[int, int, bool, bool]] = []
    offset = 0
    for line in text.split("\n"):
        line_start = offset
        offset += len(line) + 1
        if not line.strip():
            continue
        marker = _UNIT_BULLET.match(line)
        is_bullet = bool(marker and marker.end() > 0 and re.match(r"^\s*(?:[-•*–]|\(?[a-z]{1,4}\))\s", line))
        number = None if is_bullet else _NUMBERED.match(line)
        if is_bullet and marker:
            body_start = line_start + marker.end()
        elif number:
            body_start = line_start + number.end()  # "12. " is the label, cited apart, not quoted
        else:
            body_start = line_start + len(line) - len(line.lstrip())
        body = text[body_start : line_start + len(line)].rstrip()
        if not body:
            continue
        if is_bullet and len(body) < 400:
            spans.append((body_start, body_start + len(body), True, False))
            continue
        for start, end in sentence_spans(body):
            spans.append((body_start + start, body_start + end, is_bullet, False))
    spans = _join_short_lines(text, spans)
    if spans:
        last_lead = None
        for i, (start, end, bullet, _) in enumerate(spans):
            if not bullet and text[start:end].rstrip().endswith((":", "?")) and i + 1 < len(spans) and spans[i + 1][2]:
                last_lead = i
        if last_lead is not None:
            s, e, b, _ = spans[last_lead]
            spans[last_lead] = (s, e, b, True)
    return tuple(spans)


def _join_short_lines(text: str, spans: list[tuple[int, int, bool, bool]]) -> list[tuple[int, int, bool, bool]]:
    """Consecutive short unpunctuated lines (a signature, a cover sheet) read as one unit: name with role."""
    out: list[tuple[int, int, bool, bool]] = []
    for span in spans:
        start, end, bullet, lead = span
        piece = text[start:end]
        # Table rows (tab-separated cells) stay one unit each: a row is what a citation quotes.
        short = (
            not bullet and len(piece.split()) < 12 and not re.search(r"[.!?]$", piece)
            and "\t" not in piece and not _FIELD_LINE.match(piece)
        )
        if out and short and out[-1][3] is False and not out[-1][2]:
            prev_start, prev_end, _, _ = out[-1]
            previous = text[prev_start:prev_end]
            gap = text[prev_end:start]
            if "\n" in gap and not gap.strip() and len(previous.split()) < 40 and not re.search(r"[.!?]$", previous) and "\t" not in previous:
                out[-1] = (prev_start, end, False, False)
                continue
        out.append(span)
    return out
