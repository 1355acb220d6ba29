"""How the register reads council prose: sentences and list items, clauses, and which way a clause leans in time.

Commitments and inspection events are both read clause by clause: a time expression belongs to
the clause that holds it, and the clause's verbs say whether it speaks of what is to come.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from assistant.text import sentence_spans
from assistant.text import stem as _stem

_BULLET = re.compile(r"^\s*(?:[-•*–]\s*(?:\([a-z]{1,4}\)\s+)?|\(?(?:[a-z]|[ivx]{1,4})\)\s+)")


@dataclass(frozen=True)
class Unit:
    """A sentence or list item of a passage; offsets are into the passage text."""

    start: int
    end: int
    bullet: bool
    text: str


@lru_cache(maxsize=4096)
def units(text: str) -> tuple[Unit, ...]:
    """Sentences and list items, in order (a list item broken over lines stays whole)."""
    blocks: list[list[int]] = []  # [start, end, is_bullet]
    offset = 0
    for line in text.split("\n"):
        start, end = offset, offset + len(line)
        offset = end + 1
        stripped = line.strip()
        if not stripped or stripped in ("-", "•"):
            continue
        lead = start + len(line) - len(line.lstrip())
        bullet = bool(_BULLET.match(line))
        if blocks and not bullet and text[blocks[-1][1] - 1] not in ".:!?;":
            blocks[-1][1] = lead + len(stripped)
            continue
        blocks.append([lead, lead + len(stripped), int(bullet)])
    out: list[Unit] = []
    for start, end, is_bullet in blocks:
        body = text[start:end]
        marker = _BULLET.match(body) if is_bullet else None
        skip = marker.end() if marker else 0
        # A list item or sentence broken over lines is one unit: pysbd would end it at the line break.
        for first, last in sentence_spans(body[skip:].replace("\n", " ")):
            s, e = start + skip + first, start + skip + last
            out.append(Unit(s, e, bool(is_bullet) and first == 0, text[s:e]))
    return tuple(out)


VERBAL_FUTURE = re.compile(
    r"\b(?:will|shall|is\s+to\s+be|are\s+to\s+be|is\s+due|are\s+due|due\s+to|scheduled|planned|planning|plans?\s+to|"
    r"intends?|intention|aims?\s+to|expected|expects?|expecting|likely\s+to|going\s+to|about\s+to|forthcoming|upcoming|"
    r"anticipated?|proposed|preparing\s+(?:for|to)|to\s+be\s+(?:introduced|launched|held|published|rolled\s+out|completed|"
    r"delivered|agreed|implemented|decided|confirmed|offered|established|created))\b",
    re.I,
)
FUTURE = re.compile(rf"{VERBAL_FUTURE.pattern}|\b(?:the\s+next|forthcoming)\b", re.I)
_CLAUSE_BREAK = re.compile(
    r";|\s+[–—]\s+|,\s+(?=(?:with|which|while|whilst|but|and|when|where|although|as)\b)|(?<!\bin)(?<!\bof)(?<!\bby)(?<!\bfor)(?<!\bwith)\s+(?=which\b)|"
    r"\s+(?=(?:and|but)\s+(?:we|i|they|it|he|she|this|these|there|will)\b)",
    re.I,
)


def clause_around(text: str, pos: int, endpos: int) -> tuple[int, int]:
    """The clause of a sentence that holds text[pos:endpos]."""
    start, end = 0, len(text)
    for brk in _CLAUSE_BREAK.finditer(text):
        if brk.end() <= pos:
            start = brk.end()
        elif brk.start() >= endpos:
            end = brk.start()
            break
    return start, end


def leans_future(clause: str) -> bool:
    """True when a clause speaks of what is to come ('the next' counts only in a clause with no past verb)."""
    return bool(VERBAL_FUTURE.search(clause)) or (bool(FUTURE.search(clause)) and not past_clause(clause))


def content_words(text: str) -> set[str]:
    """The stemmed words of a text that say what it is about: no stopwords, dates or numbers."""
    return {w for w in _words(text) if w not in _STOP and not w.isdigit()}


_WORD = re.compile(r"[a-z][a-z'’-]+")
_STOP = frozenset(
    ["a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "by", "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "will", "shall", "would", "could", "should", "may", "can", "this", "that", "these", "those", "it", "its", "their", "our", "we", "i", "he", "she", "they", "them", "his", "her", "there", "here", "which", "who", "whom", "what", "when", "where", "while", "whilst", "than", "then", "also", "not", "no", "so", "such", "into", "over", "under", "about", "after", "before", "during", "until", "up", "out", "all", "any", "each", "more", "most", "other", "some", "very", "has", "have", "had", "do", "does", "did", "next", "new", "further", "last", "year", "years", "month", "months", "week", "weeks", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "spring", "summer", "autumn", "winter", "early", "late", "end", "part", "half", "quarter", "likely", "expected", "scheduled", "planned", "take", "place", "place"]
)


def _words(text: str) -> list[str]:
    return [_stem(w.strip("'’-")) for w in _WORD.findall(text.lower())]


_PAST = re.compile(r"\b(?:was|were|had|took\s+place|has\s+been|have\s+been|undertaken|completed|published|left|since)\b", re.I)


def past_clause(clause: str) -> bool:
    return bool(_PAST.search(clause))


def leaning(text: str, otherwise: str = "") -> Callable[[int], str]:
    """Which way the clause at an offset of `text` leans: 'future', 'past', else `otherwise`.

    `find_times` resolves a year-less date that way ("in March" in "will be held in March").
    """

    def lean(pos: int) -> str:
        start, end = clause_around(text, pos, pos + 1)
        clause = text[start:end]
        return "future" if leans_future(clause) else ("past" if past_clause(clause) else otherwise)

    return lean


def first_label(rules: Iterable[tuple[str, re.Pattern[str]]], text: str, default: str = "") -> str:
    """The label of the first rule whose pattern the text holds; `default` when none does."""
    return next((label for label, rule in rules if rule.search(text)), default)
