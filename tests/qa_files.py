"""Made-up QA lines for evaluation tests: one answerable question on the samples, one unanswerable."""

from __future__ import annotations

import json
from pathlib import Path

AGENCY = {"id": "a", "question": "How many agency social workers does West Sussex have in post?", "type": "number",
          "doc": "000_593dbc0cfa530023.txt", "evidence": ["Around 75 FTE Agency Social Workers are in post"], "answer_any": ["75"]}
MAYOR = {"id": "b", "question": "Who is the Mayor of Darlington?", "type": "unanswerable", "evidence": [], "answer_any": []}


def write_qa(path: Path, *rows: dict) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path
