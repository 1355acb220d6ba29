"""A chat: follow-up questions rewritten to stand alone, filters that persist until changed.

Written by hand: without an LLM, llama-index's condense-question chat engines cannot run,
and these follow-ups ("what about North Somerset?", "is another one planned?") yield to rules.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Protocol

from assistant.answer.from_register import JUDGED_AREAS
from assistant.answer.scope import read_scope
from assistant.councils import gazetteer
from assistant.types import Answer, Filters

_SWITCH = re.compile(r"^\s*(?:and|but|so)?\s*(?:what|how)\s+about\s+(.+?)\s*\??\s*$", re.I)
_AND_X = re.compile(r"^\s*and\s+(?:in|for|at)?\s*([A-Z][\w' -]{1,40}?)\s*\??\s*$")
# "and in harrow?", "harrow?": a council typed in lower case, or alone, read as one only when it names councils.
_AND_IN = re.compile(r"^\s*(?:and\s+)?(?:(?:in|for|at)\s+)?([\w'’ &-]{2,40}?)\s*\??\s*$", re.I)
_AND_THE = re.compile(r"^\s*and\s+((?:the|its|their)\s+[\w'’ -]{2,40}?)\s*\??\s*$", re.I)
_LEADING = re.compile(r"^\s*(?:and|but|so|also|ok|okay|then)\b[,\s]*", re.I)
_ONE = re.compile(
    r"\b(another|the next|the last|the first|the second|the third|the current|the new|the previous|the latest|the present|that|this)\s+one\b",
    re.I,
)
# "How many care leavers were placed …?" then "and how many were still there?": the count's noun carries over.
_COUNTED_PHRASE = re.compile(
    r"\bhow\s+many\s+((?:[\w'’-]+\s+){0,3}?[\w'’-]+?)\s+(?:are|is|does|did|do|have|has|had|were|was|will|can|in|at|on|for)\b", re.I
)
_BARE_COUNT = re.compile(r"^(how\s+many(?:\s+of)?)(?:\s+them)?(?=\s+(?:are|is|were|was|had|have|did|do|does|will|still)\b)", re.I)
# "How many DCSs have they had?" counts a thing that "the current one" then points back at.
_COUNTED = re.compile(r"\bhow\s+many\s+([A-Za-z][\w'’-]*)", re.I)
_IT = re.compile(r"\b(it|its|it's|that|this|he|she|him|her|they|them)\b", re.I)
_TOPIC = re.compile(
    r"\b((?:the|a|an|its|their|[A-Z][\w-]*['’]s)\s+[^?.,;]*?)(?=\s+(?:by|for|in|at|on|during|to|from|when|after|before)\b|[?.,;]|$)"
)
_ABOUT = re.compile(r"\babout\s+([^?.,;]+?)(?=\s+(?:in|for|at|during|since|by|from)\b|[?.,;]|$)", re.I)
_NAME_OF = re.compile(r"^(?:the|a)\s+(?:name|title)s?\s+of\s+(?=\S+\s+\S)", re.I)
_BARE_WH = re.compile(r"^(?:since|from|until|by)?\s*(?:when|why|how|where|how long|how many|how much|how come|by whom|who by)\s*\??$", re.I)
_WH = re.compile(r"^\s*(?:who|what|when|where|which|why|how|is|are|was|were|did|does|do|has|have|will|can)\b", re.I)


def mentioned_councils(question: str, councils: list[str]) -> list[str]:
    """Councils of the library named in a question, in the order named, in any form (gazetteer)."""
    return read_scope(question, councils).councils


def _topic(question: str) -> str:
    """The main noun phrase of a question ('the mid-term review of Darlington's improvement plan')."""
    body = _WH.sub("", question.strip().rstrip("?"))
    candidates = [m.group(1).strip() for m in _TOPIC.finditer(body)]
    # "What did Ofsted say about brighton's front door?": what it is about, however it is written.
    candidates += [m.group(1).strip() for m in _ABOUT.finditer(body)]
    candidates = [c for c in candidates if len(c.split()) >= 2]
    if not candidates:
        return ""
    # "What's the name of Sunderland's children's trust?": "it" will be the trust, not its name.
    return _NAME_OF.sub("", max(candidates, key=lambda c: len(c.split())))


def _head(topic: str) -> str:
    """A topic without its determiner and ordinal: 'the last monitoring visit' → 'monitoring visit'."""
    words = topic.split()
    while words and words[0].lower() in {"the", "a", "an", "last", "first", "second", "third", "next", "latest", "its", "their"}:
        words = words[1:]
    return " ".join(words)


def is_follow_up(question: str) -> bool:
    words = question.split()
    return bool(
        _SWITCH.match(question)
        or _LEADING.match(question)
        or _ONE.search(question)
        or _IT.search(question)
        or len(words) <= 3
    )


_AT_ANOTHER_TIME = re.compile(
    r"^\s*(?:and|but|so)?\s*(?:(?:what|how)\s+about\s+)?(?:in|for|from|during)?\s*(?:the\s+)?"
    r"((?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+)?(?:19|20)\d{2})"
    r"(?:\s+(?:one|report|inspection|visit))?\s*\??\s*$",
    re.I,
)
_TIME = re.compile(
    r"\b(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+)?(?:19|20)\d{2}\b", re.I
)


def rewrite(question: str, previous: str, councils: list[str], *, subject: str = "") -> str:
    """Rewrite a follow-up to stand alone, given the previous standalone question.

    `subject` is what the previous answer was about when its question names no topic of its own
    ("the inspection", after one answered with an inspection's grades): "who led it?" asks of that.

    A question that names no council carries on the conversation's council and time ("the Dec
    2024 inspection"), follow-up or not: in a chat about one council's report, "what were the
    areas to improve?" is still about that report.
    """
    if not previous:
        return question
    switch = _switch(question, councils)
    if _names_a_council(question, councils) and not switch:
        return question  # "leeds ofsted grade" asks about Leeds, in the library or not
    text = _resolve(question, previous, councils, subject) if is_follow_up(question) else question
    return _carry_scope(text, previous, councils)


def _switch(question: str, councils: list[str]) -> re.Match[str] | None:
    """"What about X?", "and in X?": the same question asked of another council or topic."""
    found = _SWITCH.match(question) or _AND_X.match(question)
    if found is None and (lower := _AND_IN.match(question)) and _only_councils(lower.group(1), councils):
        return lower
    return found


def _only_councils(text: str, councils: list[str]) -> bool:
    """Whether the text names councils and nothing else ("harrow", "barnet and harrow")."""
    mentions = gazetteer().find(text, known=councils)
    for mention in reversed(mentions):
        text = text[: mention.start] + " " + text[mention.end :]
    return bool(mentions) and not re.sub(r"\b(?:and|&)\b|[\W_]", "", text, flags=re.I)


def _names_a_council(question: str, councils: list[str]) -> bool:
    scope = read_scope(question, councils)
    return bool(scope.councils or scope.missing)


def _resolve(question: str, previous: str, councils: list[str], subject: str = "") -> str:
    previous_councils = mentioned_councils(previous, councils)
    if when := _AT_ANOTHER_TIME.match(question):
        # "and in 2017?": the same question of another time.
        asked = when.group(1)
        if _TIME.search(previous):
            return _TIME.sub(asked, previous, count=1)
        return f"{previous.rstrip(' ?')} in {asked}?"
    switch = _switch(question, councils)
    if switch:
        target = switch.group(1).strip()
        if mentioned_councils(target, councils) or not previous_councils:
            if previous_councils:
                out = previous
                for council in previous_councils:
                    out = re.sub(rf"\b{re.escape(council)}\b", target, out, count=1, flags=re.I)
                if out != previous:
                    return out
            return f"{previous.rstrip(' ?')} for {target}?"
        # "what about care leavers?": the same question, asked of another topic.
        topic = _topic(previous)
        area = next((m for rule in JUDGED_AREAS.values() if (m := rule.search(topic or previous))), None)
        if area and any(rule.search(target) for rule in JUDGED_AREAS.values()):
            # "the care leavers judgement" then "what about children in care?": the same of another judged area.
            source = topic or previous
            return previous.replace(source, source[: area.start()] + target + source[area.end() :], 1)
        if topic and re.match(rf"\s*what\s+(?:is|are|was|were)\s+{re.escape(topic)}", previous, re.I):
            # "What were the main problems?" then "what about care leavers?": the same thing asked of them.
            return previous.replace(topic, f"{topic} for {target}", 1)
        if topic:  # a council the topic named ("brighton's front door") is carried on afterwards
            return previous.replace(topic, target, 1)
        return f"{previous.rstrip(' ?')}, for {target}?"
    topic = _topic(previous) or subject
    other = _AND_THE.match(question)
    if other and topic and not mentioned_councils(other.group(1), councils):
        # "and the IROs?" after "How high were caseloads in Darlington's referral teams?": the same question of
        # another subject. The previous one's councils are carried on afterwards.
        return previous.replace(topic, other.group(1).strip(), 1)
    text = _LEADING.sub("", question).strip()
    text = text[0].upper() + text[1:] if text else question
    counts = _COUNTED_PHRASE.search(previous)
    if counts and (bare := _BARE_COUNT.match(text)):
        # "and how many were still there?" counts what the last question counted ("care leavers").
        noun = f"the {counts.group(1)}" if bare.group(1).lower().endswith("of") else counts.group(1)
        text = f"{bare.group(1)} {noun} {text[bare.end():].lstrip()}"
    replaced = 0
    counted = _COUNTED.search(previous)
    if not topic and counted and _ONE.search(text):
        # The thing counted, singular: "DCSs" → "DCS", "directors" → "director".
        noun = counted.group(1)
        plural = re.search(r"(?<=[A-Z])s$|(?:(?<=ss)|(?<=sh)|(?<=ch)|(?<=[xz]))es$|(?<=[a-z]{2})(?<!s)s$", noun)  # "DCSs", "directors", "classes"
        topic = noun[: plural.start()] if plural else noun
    if topic:
        head = _head(topic)
        text, replaced = _ONE.subn(lambda m: f"{m.group(1)} {head}" if m.group(1).lower() not in ("that", "this") else topic, text, count=1)
        if not replaced:
            # "it", or "that"/"this" standing alone ("this time", "that inspection" name their own noun).
            pronoun = r"\bit\b(?!\s+(?:is|was)\s+(?:the|a)\b)|\b(?:that|this)\b(?=\s*(?:[?.,]|$))"
            text, replaced = re.subn(pronoun, topic, text, count=1, flags=re.I)
            if replaced and re.search(r"\b(?:[Ww]hat|[Ww]ho|[Ww]hen|[Hh]ow)['’]s " + re.escape(topic), text):
                text = re.sub(r"(\w+)['’]s " + re.escape(topic), rf"\1 is {topic}", text, count=1)
    if _BARE_WH.match(text):
        # "since when?": the last question asked again, with this.
        return f"{previous.strip().rstrip(' ?')}, and {text.rstrip(' ?').lower()}?"
    if not replaced and len(text.split()) <= 4 and not mentioned_councils(text, councils) and (topic or not previous_councils or not _IT.search(text)):
        # "Since when?": too short to stand alone; it asks about what the last question asked. ("Who led it?"
        # after a question of a council's inspection takes that council and time instead, as any question does.)
        context = f"{topic}" if topic else previous.rstrip(" ?")
        text = f"{text.rstrip(' ?')} ({context})?"
    return text


def _carry_scope(text: str, previous: str, councils: list[str]) -> str:
    """Add the previous question's councils and time when the question names none of its own."""
    if mentioned_councils(text, councils):
        return text
    previous_councils = mentioned_councils(previous, councils)
    if not previous_councils:
        return text
    carried = f" in {' and '.join(previous_councils)}"
    time = _TIME.search(previous)
    if time and not _TIME.search(text):
        carried += f" ({time.group(0)})"
    return f"{text.rstrip(' ?')}{carried}?"


class AnswersQuestions(Protocol):
    """What a conversation asks its questions of (the engine): the library's councils, and answers."""

    def councils(self) -> list[str]: ...

    def answer(self, question: str, *, standalone: str | None = None, filters: Filters | None = None) -> Answer: ...


@dataclass
class Turn:
    """One exchange: the question as asked, as it was answered (standalone), and the answer."""

    question: str
    standalone: str
    answer: Answer


@dataclass
class Conversation:
    """One user's chat: history and filters. Not shared between users."""

    engine: AnswersQuestions
    filters: Filters = field(default_factory=Filters)
    turns: list[Turn] = field(default_factory=list)

    def ask(self, question: str, *, filters: Filters | None = None) -> Answer:
        started = time.perf_counter()
        if filters is not None:
            self.filters = filters
        previous = self.turns[-1].standalone if self.turns else ""
        # An answer of an inspection's grades is about that inspection, whatever its question's words.
        subject = "the inspection" if self.turns and self.turns[-1].answer.kind.startswith("inspection") else ""
        standalone = rewrite(question, previous, self.engine.councils(), subject=subject)
        answer = self.engine.answer(question, standalone=standalone, filters=self.filters)
        if answer.refused and standalone != question and not is_follow_up(question):
            # A whole question took on the chat's council and time; when they find nothing, the library may.
            alone = self.engine.answer(question, standalone=question, filters=self.filters)
            if not alone.refused:
                standalone, answer = question, alone
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        self.turns.append(Turn(question, standalone, answer))
        return answer

    def reset(self) -> None:
        self.turns.clear()
        self.filters = Filters()
