"""Commitments: what the reports say will happen, and when, read from the clauses that say it.

Written by hand (no library reads council prose for promises): a statement is a commitment when
the clause holding a time expression leans to the future ("will", "is scheduled", "from April
2020" under "planned for 2020"), and the time falls after the report's own date. Whether later
reports say it was done is `status.py`; the register that holds commitments beside the
inspection history and the facts is `store.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from assistant.dates import Anchor
from assistant.register.clauses import (
    FUTURE,
    VERBAL_FUTURE,
    Unit,
    clause_around,
    content_words,
    first_label,
    leaning,
    leans_future,
    units,
)
from assistant.text import compile_table
from assistant.timeexpr import TOLERANCE, TimeSpan, find_times
from assistant.types import Citation, Passage

REGISTER_VERSION = 1
STATUSES = ("done", "in progress", "not mentioned again", "overdue", "open")
STATUS_HELP = {
    "done": "reported done in a later report",
    "in progress": "reported in progress in a later report",
    "not mentioned again": "later reports say nothing of it; not yet due",
    "overdue": "due date passed without a report",
    "open": "no later report yet, and not yet due",
}
KINDS = ("inspection/visit", "review", "plan/strategy", "staffing", "service change", "governance", "decision")


class TimeInfo(BaseModel):
    """When: the expression as written and the interval it stands for."""

    text: str = Field(description="The time expression as written in the report.")
    start: str = Field(description="First day of the interval, ISO date.")
    end: str = Field(description="Last day of the interval, ISO date.")
    granularity: str = Field(description="day, days, week, part of month, month, months, quarter, season, …")
    relation: str = Field("", description="'by' for a deadline, 'from' for a start; empty for 'during'.")
    source: str = Field("", description="'heading' or 'lead-in' when a list item takes its date from there.")


class Dated:
    """`start` and `end` as dates, for a model whose `time` field holds its interval."""

    if TYPE_CHECKING:
        time: TimeInfo  # declared by each model itself, so the field keeps its place in the model's JSON

    @property
    def start(self) -> date:
        return date.fromisoformat(self.time.start)

    @property
    def end(self) -> date:
        return date.fromisoformat(self.time.end)


class Evidence(BaseModel):
    """A later passage that reports on a commitment."""

    signal: str = Field(description="'done' or 'in progress', as the later passage reads.")
    score: float = Field(description="Share of the commitment's distinctive words the passage repeats.")
    citation: Citation


class Commitment(BaseModel, Dated):
    """A planned, promised, scheduled or expected action or event, dated and cited."""

    id: str
    council: str
    source: str
    report_date: str
    action: str = Field(description="What will be done, in a short phrase.")
    responsible: str = Field("", description="Who will do it, where the text says so.")
    kind: str = Field(description="One of: " + ", ".join(KINDS))
    time: TimeInfo
    citation: Citation
    also: list[Citation] = Field(default_factory=list, description="The same commitment restated in the report.")
    evidence: list[Evidence] = Field(default_factory=list, description="Later passages on the same thing.")
    status: str = Field("", description="Set when the register is queried: " + ", ".join(STATUSES))
    status_note: str = ""


# ------------------------------------------------------------------ what will be done, and by whom

_MARKUP = re.compile(r"\*\*|__")
# How a commitment's who and what are trimmed from its clause.
_TRIM = compile_table({
    "adverbial": r"^(?:following|after|as\s+part\s+of|in\s+response\s+to|in\s+line\s+with|in\s+addition|given|concurrently|alongside)\b[^,]*,\s*",
    "that_clause": r"^.{0,60}?\b(?:(?:is|are|was)\s+that|(?:i|we)\s+(?:am|are)\s+(?:\w+\s+)?(?:confident|sure|clear|pleased|delighted|excited)\s+(?:that|about))\s+",
    "first_aux": r"\s+(?:am|is|are|was|were|has|have|had|will|shall)\b.*$",
    "leading": r"^(?:(?:and|but|with|which|that|whilst|while|when|where|although|so|as|then|concurrently|alongside|also|however|therefore),?\s+)+",
    "filler": r"\b(?:it\s+is\s+(?:expected|anticipated|likely|planned|intended)\s+that|we\s+are\s+(?:pleased|delighted)\s+to\s+(?:say|report)\s+that)\s+",
    "aux": r"^(?:(?:will|shall|is|are|be|being|been|has|have|not|now|also|then|soon|likely|expected|scheduled|planned|due|set|going|about|"
    r"preparing|progressively|formally|to|take\s+place|the\s+next)\b\s*)+",
    "cut": r",\s+(?:of|in|for)\s+which\b|(?:^|,?\s+)(?:so\s+that|in\s+order\s+to|to\s+ensure|to\s+improve|to\s+help|which|who|as\s+it|when\s+inspectors|with\s+the\s+focus|before\s+the)\b|[;:,(]\s*$|,\s+to\s+",
    "pronoun": r"^(?:it|this|these|they|he|she|we|i|which|that|there)$",
})
_PAREN = re.compile(r"\s*\((?:[^()]*\s){4,}[^()]*\)")
_THE = r"(?:[Tt]he\s+)?"
_AGENT = re.compile(
    rf"\b(?:Ofsted|{_THE}(?:DfE|Department\s+for\s+Education)(?:\s+and\s+Red\s+Quadrant)?|{_THE}(?:Children's\s+)?Commissioner|"
    rf"{_THE}Minister|{_THE}Improvement\s+Board|{_THE}Cabinet(?:\s+Member[\w\s]{{0,40}}?)?|{_THE}Executive|"
    rf"{_THE}(?:Chief\s+Executive|Leader)|inspectors|{_THE}LGA|Red\s+Quadrant|"
    rf"[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\s+(?:County\s+)?Council|{_THE}(?:Assistant\s+|Executive\s+)?Director[A-Za-z',\s]{{0,60}}?(?=[,.;)]|\s+(?:and|will|is|has)\b|$))"
)
_BY_AGENT = re.compile(r"\bby\s+((?:the\s+)?(?:[A-Z][\w'&]*(?:\s+(?:for|of|and|&)\s+|\s+))*[A-Z][\w']*)")
_PERSON = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b")
_NOT_PERSON = {"County", "Council", "Children", "Services", "Service", "Director", "Executive", "Young", "People", "Learning",
               "Ofsted", "Board", "Plan", "Cabinet", "Member", "West", "Sussex", "Department", "Education", "Improvement", "Trust"}


_GENERIC_WORDS = ( "improvement improvements improve deliver delivered work change changes progress service services children child young people "
    "implement implementing many well-served future better outcomes"
)


# ------------------------------------------------------------------ one commitment


_KIND_RULES = compile_table({
    "decision": r"\b(?:decision(?!-making)|decide[ds]?|sign[\s-]?off|approv\w+)\b",
    "inspection/visit": r"\b(?:inspection|re-?inspection|ILACS|monitoring\s+visits?|focused\s+visit|visits?)\b",
    "review": r"\b(?:review\w*|evaluat\w+|audit\w*|assess\w*)\b",
    "staffing": r"\b(?:staff\w*|recruit\w*|workforce|director|join|appoint\w*|social\s+work\s+offer|remuneration|training|caseloads?|team\s+manager)\b",
    "plan/strategy": r"\b(?:plan|strategy|toolkit|framework|policy|programme|pathway)\b",
    "governance": r"\b(?:board|commissioner|trust|scrutiny|panel|governance|partner\s+in\s+practice|partnership|cabinet|executive|council\s+meeting|report\s+to)\b",
})


def kind_of(text: str) -> str:
    return first_label(_KIND_RULES.items(), text, "service change")


def _antecedent(before: str) -> str:
    """The noun phrase a 'which' clause refers to: the end of the clause before it, less trailing prepositional phrases."""
    words = before.strip(" ,").split()
    while len(words) > 3 and any(w.lower() in ("on", "in", "at", "for", "of", "to", "with", "by") for w in words[-4:-1]):
        cut = max(i for i, w in enumerate(words) if w.lower() in ("on", "in", "at", "for", "of", "to", "with", "by") and i >= len(words) - 4)
        words = words[:cut]
    phrase: list[str] = []
    for word in reversed(words):
        lower = word.lower().strip(",")
        if lower in ("is", "are", "was", "were", "be", "been", "has", "have", "had", "will"):
            break
        if lower.endswith("ing") and phrase and words.index(word) > 0 and words[words.index(word) - 1].lower() in ("is", "are", "was", "were", "be", "been"):
            break
        phrase.insert(0, word)
        if lower in ("a", "an", "the", "our", "its", "their", "this", "these") or len(phrase) >= 7:
            break
    return " ".join(phrase).strip(" ,")


def _short(text: str, limit: int = 20) -> str:
    text = _MARKUP.sub("", " ".join(text.split())).strip(" ,;:.-–")
    text = re.sub(r"[\s,;]+(?:and|or)$", "", text).strip(" ,;:.-–")
    words = text.split()
    if len(words) > limit:
        text = " ".join(words[:limit]).rstrip(",;:") + " …"
    return text[:1].upper() + text[1:]


def action_and_agent(sentence: str, clause: tuple[int, int], span: TimeSpan, *, bullet: bool) -> tuple[str, str]:
    """A short phrase for what will be done, and who will do it ('we' when the council speaks of itself)."""
    c_start, c_end = clause
    # "soon" and "about to" stand where the verb's tense does: keep the clause a clause.
    filler = " will " if span.granularity == "near term" and span.relation == "" else " "
    body = _PAREN.sub("", sentence[c_start : span.pos] + filler + sentence[span.endpos : c_end])
    body = _TRIM["filler"].sub("", body).strip(" ,")
    starts_with_which = bool(re.match(r"which\b", body, re.I))
    agent = ""
    by = _BY_AGENT.search(body)
    if by and not re.match(r"by\s+(?:the\s+)?(?:end|start|beginning)", by.group(0), re.I):
        agent = by.group(1).strip()
        body = body[: by.start()] + body[by.end() :]
    stripped = _TRIM["that_clause"].sub("", _TRIM["adverbial"].sub("", _TRIM["leading"].sub("", body.strip(" ,"))))
    stripped = _TRIM["adverbial"].sub("", stripped)
    # "the next scheduled visit": a participle inside a noun phrase is no verb.
    marker = next(
        (m for m in VERBAL_FUTURE.finditer(stripped) if not re.search(r"\b(?:the|a|an|next|its|our|their)\s+$", stripped[: m.start()], re.I)),
        None,
    )
    if bullet or marker is None:
        phrase = _TRIM["cut"].split(stripped, maxsplit=1)[0]
        phrase = re.sub(r"\s+(?:is|are|will\s+be)\s*$", "", phrase.strip(" ,"))
        return _short(phrase), agent
    subject = _TRIM["first_aux"].sub("", stripped[: marker.start()].strip(" ,"))
    aux = stripped[marker.start() :]
    predicate = _TRIM["aux"].sub("", aux[marker.end() - marker.start() :].strip(" ,"))
    passive = bool(re.match(r"(?:\w+\s+){0,6}?be\s+(?!able)", aux[: len(aux) - len(predicate)] + " ", re.I))
    predicate = _TRIM["cut"].split(predicate, maxsplit=1)[0].strip(" ,.;:")
    if starts_with_which or not subject:
        subject = _antecedent(sentence[:c_start]) if starts_with_which else subject
    if _TRIM["pronoun"].match(subject):
        if subject.lower() in ("he", "she"):
            names = [n for n in _PERSON.findall(sentence[:c_start]) if not set(n.split()) & _NOT_PERSON]
            agent = agent or (names[0] if names else "")
        elif subject.lower() in ("we", "i"):
            agent = agent or "we"
        subject = ""
    if subject and (_AGENT.fullmatch(subject) or (_AGENT.match(subject) and len(subject.split()) <= 4)):
        return _short(predicate), agent or subject
    if not agent:
        found = _AGENT.search(_PAREN.sub("", sentence[c_start:c_end]))
        agent = found.group(0).strip() if found else ""
    if subject and predicate:
        return _short(f"{subject} {'to be' if passive else 'to'} {predicate}"), agent
    return _short(subject or predicate), agent


def _future_context(text: str) -> bool:
    return bool(FUTURE.search(text)) or bool(re.search(r"\b(?:next\s+steps|for\s+the\s+coming|forward\s+plan|priorities\s+for)\b", text, re.I))


def extract_commitments(passages: Sequence[Passage]) -> list[Commitment]:
    """Commitments in the passages of one report, in reading order, restatements merged."""
    found: list[Commitment] = []
    lead_in: dict[str, str] = {}  # paragraph label → lead-in sentence of its list
    for passage in passages:
        anchor = Anchor.parse(passage.date)
        heading = passage.section.split(" › ")[-1] if passage.section else ""
        heading_times = [t for t in find_times(heading, anchor, "future") if t.relation != "since"] if _future_context(heading) else []
        for unit in units(passage.text):
            if not unit.bullet and unit.text.rstrip().endswith(":"):
                lead_in[passage.paragraph] = unit.text
                continue
            context = lead_in.get(passage.paragraph, "") if unit.bullet else ""
            for span, clause, source in _dated_clauses(unit, anchor, heading_times, context, heading):
                action, agent = action_and_agent(unit.text, clause, span, bullet=unit.bullet)
                if len(content_words(f"{action} {agent}") - content_words(_GENERIC_WORDS) - content_words(passage.council)) < 2:
                    continue  # "the improvements we expect to deliver": no action named
                clause_text = unit.text[clause[0] : clause[1]]
                kind = kind_of(action)
                if kind == "service change":
                    kind = kind_of(unit.text if unit.bullet else clause_text)
                if agent == "we":
                    agent = "" if kind == "inspection/visit" else passage.council
                found.append(
                    Commitment(
                        id=f"{passage.source}#{passage.ordinal}.{unit.start}.{span.pos}",
                        council=passage.council,
                        source=passage.source,
                        report_date=passage.date,
                        action=action,
                        responsible=agent or ("Ofsted" if kind == "inspection/visit" and re.search(r"\bOfsted\b|inspectors", passage.text) else ""),
                        kind=kind,
                        time=TimeInfo(**span.as_json(), source=source),
                        citation=Citation.from_passage(0, passage, unit.text),
                        status="",
                    )
                )
    return _merge_restatements(found)


def _dated_clauses(unit: Unit, anchor: Anchor | None, heading_times: list[TimeSpan], context: str, heading: str) -> Iterable[tuple[TimeSpan, tuple[int, int], str]]:
    """(time, clause, where the time came from) for each future-leaning dated clause of a unit."""
    text = unit.text
    spans = [s for s in find_times(text, anchor, leaning(text)) if s.relation != "since"]
    inherited = unit.bullet and (_future_context(context) or bool(heading_times))
    taken = False
    for span in spans:
        clause = clause_around(text, span.pos, span.endpos)
        clause_text = text[clause[0] : clause[1]]
        if not (leans_future(clause_text) or inherited or span.granularity == "near term"):
            continue
        if _ATTRIBUTIVE.match(text[span.endpos :]) and re.search(r"\b(?:the|its|their|our)\s+$", text[: span.pos]):
            continue  # "against the 2015 inspection": a year naming a thing, not a time to act
        if anchor is not None and span.end < anchor.start - (TOLERANCE if anchor.granularity == "day" else 0 * TOLERANCE):
            continue
        taken = True
        yield span, clause, ""
    if not taken and not spans and inherited:
        times = heading_times or [t for t in find_times(context, anchor, "future") if t.relation != "since"]
        if times:
            span = times[0]
            yield TimeSpan(span.text, span.start, span.end, span.granularity, span.relation, 0, 0), (0, len(text)), "heading" if heading_times else "lead-in"


_ATTRIBUTIVE = re.compile(r"\s+(?!to\b|and\b|or\b)[a-z]")


def _merge_restatements(found: list[Commitment]) -> list[Commitment]:
    """A report often repeats a commitment (summary, then main report): keep the first, cite the rest."""
    kept: list[Commitment] = []
    for item in found:
        words = content_words(item.citation.quote)
        for other in kept:
            if (other.time.start, other.time.end) != (item.time.start, item.time.end) or other.kind != item.kind:
                continue
            if item.time.source or other.time.source:
                continue  # list items dated by their heading are distinct by construction
            if other.citation.passage_id == item.citation.passage_id and other.citation.quote == item.citation.quote:
                break  # two time expressions for one clause: keep the first
            theirs = content_words(other.citation.quote)
            if words and theirs and len(words & theirs) / min(len(words), len(theirs)) >= 0.5:
                if item.citation.paragraph != other.citation.paragraph or item.citation.quote != other.citation.quote:
                    other.also.append(item.citation)
                break
        else:
            kept.append(item)
    return kept

