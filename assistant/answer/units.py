"""Sentence units: the sentences and list items of retrieved passages that an answer is chosen from.

Spans come from the splitter (`unit_spans`); their vectors, stored at ingest, give each unit its own
similarity to the question, so a long passage's one relevant sentence is not judged by the whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.documents.passages import unit_spans
from assistant.types import Passage, SearchHit

__all__ = ["Evidence", "Unit", "UnitVectors", "attach_semantic", "is_heading", "units_of"]

# Sentence spans (start, end, bullet, lead-in) and their vectors, per passage id, stored at ingest.
UnitVectors = dict[str, tuple[list[tuple[int, int, bool, bool]], np.ndarray]]

# ---------------------------------------------------------------- evidence units


@dataclass
class Unit:
    """A sentence or list item of a passage, with its span in the passage text."""

    hit: SearchHit
    start: int
    end: int
    bullet: bool
    lead_in: bool
    score: float = 0.0
    lexical: float = 0.0
    semantic: float | None = None
    raw_semantic: float = 0.0

    @property
    def passage(self) -> Passage:
        return self.hit.passage

    @property
    def text(self) -> str:
        return self.hit.passage.text[self.start : self.end]


def units_of(hit: SearchHit) -> list[Unit]:
    """The sentences and list items of a hit's passage, in order."""
    return [Unit(hit, s, e, b, lead) for s, e, b, lead in unit_spans(hit.passage.text)]


@dataclass
class Evidence:
    """How well the chosen unit answers; the refusal decision reads this."""

    score: float
    coverage: float
    typed: bool


def attach_semantic(units: list[Unit], query_vector: np.ndarray, unit_vectors: UnitVectors) -> None:
    """Sentence similarity from the unit vectors stored at ingest."""
    for unit in units:
        stored = unit_vectors.get(unit.passage.id)
        if stored is None:
            continue
        for (start, end, _, _), vector in zip(*stored):
            if start == unit.start and end == unit.end:
                unit.semantic = float(np.dot(vector, query_vector))
                break


def is_heading(unit: Unit) -> bool:
    """Whether the unit is its passage's heading, standing as a passage of its own."""
    heading = unit.passage.section.rsplit(" › ", 1)[-1]
    return " ".join(unit.text.split()).rstrip(" .:?") == " ".join(heading.split()).rstrip(" .:?") != ""
