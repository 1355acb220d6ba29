"""QA files: one question a JSON line, with the evidence that answers it, read into chains of follow-ups."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError


def normalise(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("**", "")
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class Question:
    id: str
    question: str
    kind: str
    evidence: list[str]
    answer_any: list[str]
    answer_all: list[str]
    follow_up_of: str | None
    docs: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    def is_gold(self, text: str, source: str = "") -> bool:
        """Whether a passage holds the evidence; when the question names its reports, only theirs count."""
        # Ofsted's judgement lines recur word for word across councils: the right words in another report are no hit.
        if source and self.docs and source not in self.docs:
            return False
        body = normalise(text)
        return any(normalise(e) in body for e in self.evidence if e.strip())


def load_questions(path: Path) -> list[Question]:
    out: list[Question] = []
    lines: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            doc = row.get("doc") or []
            question = Question(
                id=str(row.get("id", number)),
                question=row["question"],
                kind=row.get("type", "fact"),
                evidence=list(row.get("evidence") or []),
                answer_any=list(row.get("answer_any") or []),
                answer_all=list(row.get("answer_all") or []),
                follow_up_of=row.get("follow_up_of"),
                docs=[doc] if isinstance(doc, str) else list(doc),
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise AssistantError(f"{path}:{number}: not a QA line ({exc}); each line needs at least \"question\"") from None
        if question.id in lines:
            raise AssistantError(f"{path}:{number}: id {question.id!r} repeats line {lines[question.id]}; ids must be unique")
        lines[question.id] = number
        out.append(question)
    return out


def conversations(questions: Sequence[Question]) -> list[list[Question]]:
    """Chains of follow-ups, each in order; a question starts a chain unless it follows one."""
    chains: dict[str, list[Question]] = {}
    order: list[list[Question]] = []
    for q in questions:
        if q.follow_up_of and q.follow_up_of in chains:
            chain = chains[q.follow_up_of]
        else:
            chain = []
            order.append(chain)
        chain.append(q)
        chains[q.id] = chain
    return order
