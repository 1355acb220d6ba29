"""Follow-through: the later reports' passages that speak of a commitment, and the status that follows from them.

Lexical, not the embedding model: a commitment is a short phrase with distinctive names
("Adoption South East", "Family and Friends Team", "Lucy Butler") and an officer accepts a later
passage as evidence when it repeats them; stored passage vectors cover whole paragraphs (one
vector for a 13-item list), and loading the model would cost seconds at every rebuild.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date

from assistant.dates import Anchor
from assistant.register.clauses import VERBAL_FUTURE, Unit, content_words, units
from assistant.register.commitments import Commitment, Evidence
from assistant.types import Citation, Passage

MIN_EVIDENCE = 0.45
_DONE = re.compile(
    r"\b(?:(?:has|have|had)\b[^.;]{0,40}?\b(?:\w+ed|given|made|begun|taken|seen|done|shown|brought|met|held|built|won|become|set\s+up)|"
    r"(?:was|were)\s+\w+ed|took\s+place|completed|achieved|in\s+place|in\s+post|now\s+(?:established|live|operational|in\s+place)|went\s+live|"
    r"delivered|launched|joined)\b",
    re.I,
)


def _idf(passages: Sequence[Passage]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for p in passages:
        df.update(content_words(p.text))
    n = max(len(passages), 1)
    return {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}


def link_follow_through(commitments: list[Commitment], passages: Sequence[Passage]) -> None:
    """Attach to each commitment the passages of the same council's later reports that speak of it."""
    idf = _idf(passages)
    by_council: dict[str, list[Passage]] = defaultdict(list)
    for p in passages:
        by_council[p.council].append(p)
    unit_cache: dict[str, list[tuple[Unit, set[str]]]] = {}
    # A report's commitments share its council and date: its later passages are found once, not per commitment.
    later_of: dict[tuple[str, str], list[Passage]] = {}
    anchors: dict[str, Anchor | None] = {}
    for item in commitments:
        anchor = Anchor.parse(item.report_date)
        if not item.council or anchor is None:
            continue
        later = later_of.get((item.council, item.report_date))
        if later is None:
            for p in by_council[item.council]:
                if p.date not in anchors:
                    anchors[p.date] = Anchor.parse(p.date)
            later = later_of[(item.council, item.report_date)] = [
                p for p in by_council[item.council] if (a := anchors[p.date]) is not None and a.start > anchor.end
            ]
        # The council's own name is in every one of its reports: it says nothing about the topic.
        query = content_words(f"{item.action} {item.responsible}") - content_words(item.council)
        weight = sum(idf.get(w, 0.0) for w in query) or 1.0
        found: dict[str, list[Evidence]] = defaultdict(list)
        for passage in later:
            if passage.id not in unit_cache:
                unit_cache[passage.id] = [(u, content_words(u.text)) for u in units(passage.text)]
            for unit, words in unit_cache[passage.id]:
                shared = query & words
                score = sum(idf.get(w, 0.0) for w in shared) / weight
                if len(shared) < 2 or score < MIN_EVIDENCE:
                    continue
                signal = "done" if _DONE.search(unit.text) and not VERBAL_FUTURE.search(unit.text) else "in progress"
                found[passage.source].append(Evidence(signal=signal, score=round(score, 3), citation=Citation.from_passage(0, passage, unit.text)))
        item.evidence = sorted(
            (e for group in found.values() for e in sorted(group, key=lambda e: -e.score)[:2]),
            key=lambda e: (e.citation.date, -e.score),
        )


def assess(item: Commitment, reference: date, *, later_reports: bool) -> tuple[str, str]:
    """Status of a commitment as of `reference` (the council's latest report, or a date the user gives)."""
    if item.evidence:
        done = [e for e in item.evidence if e.signal == "done"]
        last = (done or item.evidence)[-1]
        where = f"{last.citation.source} para {last.citation.paragraph}"
        return ("done", f"reported done in {where}") if done else ("in progress", f"reported in progress in {where}")
    if item.end < reference:
        if later_reports:
            return "overdue", f"due by {item.time.end}; later reports do not mention it"
        return "overdue", f"due by {item.time.end}; no later report on it"
    if later_reports:
        return "not mentioned again", "later reports do not mention it; not yet due"
    return "open", "no later report yet; not yet due"
