"""Checking a briefing note's citations over the sample reports: shared by the briefing, tab and CLI tests."""

from __future__ import annotations

import re
from datetime import date

from assistant.briefing.history import HISTORY_HEADING, SERIES_HEADING
from assistant.briefing.model import SECTIONS, Briefing, Point
from assistant.types import Citation

PREPARED = date(2025, 6, 1)
WS_2020 = "000_593dbc0cfa530023.txt"
WS_2021 = "004_db1cafc63c8d4454.txt"
WORCS = "001_6c25ee4f623b7f02.txt"
DARLINGTON = "002_d7b47842bbdc0095.txt"
NORTH_SOMERSET = "003_820a53567a27642e.txt"
HEADINGS = [*SECTIONS[:5], HISTORY_HEADING, SERIES_HEADING, SECTIONS[5]]


def norm(text: str) -> str:
    return re.sub(r"[\s;,.*]+", " ", text).strip().lower()


def all_points(note: Briefing) -> list[Point]:
    return note.summary + note.judgements + note.findings + note.progress


def cited(note: Briefing, n: int) -> Citation:
    return note.citations[n - 1]


def where(note: Briefing, words: str) -> tuple[Point, Citation]:
    """The point holding `words`, and the citation it gives."""
    for point in all_points(note):
        if words.lower() in point.text.lower():
            return point, cited(note, point.refs[0])
    raise AssertionError(f"no point mentions {words!r}: {[p.text[:60] for p in all_points(note)]}")


def check_citations(note: Briefing, engine) -> None:
    """Every citation quotes its passage verbatim, as indexed; every point's text is in what it cites; nothing repeats."""
    assert [c.n for c in note.citations] == list(range(1, len(note.citations) + 1))
    indexed: dict[str, dict[str, str]] = {}
    for c in note.citations:
        if c.source not in indexed:
            indexed[c.source] = {p.id: p.text for p in engine.index.load_report(c.source)[1]}
        assert indexed[c.source][c.passage_id] == c.passage
        assert c.quote and c.quote in c.passage
    for point in all_points(note):
        assert len(point.refs) == 1 and 1 <= point.refs[0] <= len(note.citations)
        quote = norm(cited(note, point.refs[0]).quote)
        if point.section == "judgement":
            assert point.text.split()[0].lower()[:6] in quote
            continue
        for piece in point.items or [point.text]:
            assert norm(piece) in quote, (piece, quote)
    for row in note.commitments:
        assert row.refs and 1 <= row.refs[0] <= len(note.citations)
    # Each cited span stands in one place only (questions refer back to it).
    owners = [n for p in all_points(note) for n in p.refs] + [n for r in note.commitments for n in r.refs]
    assert len(owners) == len(set(owners))
    every = set(owners) | {n for q in note.questions for n in q.refs}
    every |= {n for r in [*note.history, *note.series] for n in r.refs}
    assert every == {c.n for c in note.citations}
    listed = {s.source: s for s in note.sources}
    for c in note.citations:
        entry = listed[c.source]
        assert c.paragraph in entry.paragraphs and c.n in entry.refs
        assert entry.title and entry.council == c.council and entry.date == c.date
