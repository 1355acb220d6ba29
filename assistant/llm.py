"""Optional LLM-written answers from numbered passages, every sentence's citation checked afterwards.

Any failure (no endpoint, timeout, bad reply, a sentence without a valid citation) raises LLMError;
the engine then falls back to the extractive answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import httpx

from assistant.errors import LLMError
from assistant.passages import unit_spans
from assistant.settings import Settings
from assistant.text import terms
from assistant.types import Citation, SearchHit

SYSTEM = (
    "You answer questions about UK council reports using only the numbered passages given. "
    "Write at most four short sentences. End every sentence with the number of the passage it comes "
    "from in square brackets, like [2]. Do not add facts the passages do not state. If the passages "
    "do not answer the question, reply exactly: NOT IN REPORTS"
)
_MARKER = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r"(?<=[.!?\]])\s+(?=[A-Z\"'‘“(])")
MIN_SUPPORT = 0.6  # share of a sentence's content words that its cited passage must contain


def _prompt(question: str, hits: Sequence[SearchHit]) -> str:
    blocks = []
    for n, hit in enumerate(hits, start=1):
        p = hit.passage
        blocks.append(f"[{n}] {p.council}, {p.title} ({p.date or 'undated'}), para {p.paragraph}:\n{p.text}")
    return "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"


class LLMAnswerer:
    """Talks to an OpenAI-compatible /chat/completions endpoint (Ollama, vLLM, llama.cpp, hosted)."""

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        if not settings.llm_url:
            raise LLMError("no LLM endpoint configured (ASSISTANT_LLM_URL)")
        self.settings = settings
        self.url = settings.llm_url.rstrip("/") + "/chat/completions"
        self.client = client or httpx.Client(timeout=settings.llm_timeout)

    def complete(self, question: str, hits: Sequence[SearchHit]) -> str:
        headers = {"Authorization": f"Bearer {self.settings.llm_api_key}"} if self.settings.llm_api_key else {}
        body: dict[str, Any] = {
            "model": self.settings.llm_model,
            "temperature": 0,
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": _prompt(question, hits)}],
        }
        try:
            response = self.client.post(self.url, json=body, headers=headers)
            response.raise_for_status()
            return str(response.json()["choices"][0]["message"]["content"]).strip()
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise LLMError(f"the LLM at {self.settings.llm_url} failed: {exc}") from None

    def answer(self, question: str, hits: Sequence[SearchHit]) -> tuple[str, list[Citation]] | None:
        """(answer text, citations), or None when the LLM says the passages do not answer."""
        reply = self.complete(question, hits)
        if reply.upper().startswith("NOT IN REPORTS"):
            return None
        return check_citations(reply, hits)


def check_citations(reply: str, hits: Sequence[SearchHit]) -> tuple[str, list[Citation]]:
    """Renumber the reply's markers in order of use and check each sentence against its passages."""
    sentences = [s.strip() for s in _SENTENCE.split(reply.strip()) if s.strip()]
    if not sentences:
        raise LLMError("the LLM gave an empty answer")
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    out: list[str] = []
    for sentence in sentences:
        cited = [int(n) for n in _MARKER.findall(sentence)]
        if not cited:
            raise LLMError(f"the LLM wrote a sentence without a citation: {sentence[:80]!r}")
        if any(n < 1 or n > len(hits) for n in cited):
            raise LLMError(f"the LLM cited a passage it was not given: {sentence[:80]!r}")
        claim = set(terms(_MARKER.sub("", sentence)))
        support = set().union(*(terms(hits[n - 1].passage.text) for n in cited))
        if claim and len(claim & support) / len(claim) < MIN_SUPPORT:
            raise LLMError(f"a sentence is not supported by the passages it cites: {sentence[:80]!r}")
        for n in cited:
            if n not in numbers:
                numbers[n] = len(numbers) + 1
                passage = hits[n - 1].passage
                citations.append(Citation.from_passage(numbers[n], passage, _best_quote(claim, passage.text)))
        out.append(_MARKER.sub(lambda m: f"[{numbers[int(m.group(1))]}]", sentence))
    return " ".join(out), citations


def _best_quote(claim: set[str], text: str) -> str:
    """The passage sentence that shares most words with the claim: the quote stays verbatim."""
    spans = unit_spans(text)
    if not spans:
        return text
    start, end, _, _ = max(spans, key=lambda s: len(claim & set(terms(text[s[0] : s[1]]))))
    return text[start:end]
