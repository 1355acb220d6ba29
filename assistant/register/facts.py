"""Facts over time: the figures reports state (vacancy rates, children looked after, timeliness …) as series per council.

Read by the structure of the sentences that state them: a metric phrase next to a number of the
metric's unit, and a date phrase attached to that number, at the head of the sentence, or the
report's own date when the sentence speaks in the present. Precision comes before recall: a number
with a comparator beside it ("the national average of 16%"), a change ("increased by 33%"), a range
or a number with no date it can be placed at yields no fact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, Field

from assistant.dates import Anchor
from assistant.documents.passages import unit_spans
from assistant.text import compile_table
from assistant.timeexpr import TimeSpan, find_times
from assistant.types import Citation, Passage

FACTS_VERSION = 1
UNITS = {"pct": "%", "count": "count", "money": "£", "rate": "per 10,000 children", "caseload": "cases per worker"}

_W = r"[\s\-–]+"  # the space between words, as PDFs give it
_CHILDREN = r"(?:children|young\s+people)(?:\s+and\s+young\s+people)?"
# How questions name children looked after and children in need: by count and by rate alike.
_CLA = r"(?:children\s+)?looked[\s-]+after(?:\s+children)?|children\s+(?:are\s+)?in\s+care|\bCLA\b"
_CIN = r"(?:children\s+)?in\s+need\b(?!\s+of)|\bCIN\b"
_EET = r"(?:education|employment|training),?\s+(?:education|employment|training),?\s+(?:or|and)\s+(?:education|employment|training)"


@dataclass(frozen=True)
class Metric:
    """One measured thing with its unit: a rate and a count of the same thing are two metrics."""

    name: str
    kind: str  # key of UNITS
    words: str  # how questions and the CLI name it (any synonym)
    lead: str = ""  # a phrase the value follows closely ("the uncovered vacancy gap is currently 5.34%")
    trail: str = ""  # what must follow the value ("427 children are being looked after by …")
    per: str = ""  # the metric of a "(a rate of N per 10,000 children)" that follows this one's count


METRICS: tuple[Metric, ...] = (
    Metric("vacancy rate", "pct", r"vacanc(?:y|ies)(?:\s+(?:rate|gap|level)s?)?",
           lead=r"\b(?:social\s+work(?:er)?\s+)?(?:uncovered\s+)?vacancy\s+(?:rate|gap|level)s?\b",
           trail=r"\s+of\s+(?:social\s+work(?:er)?\s+)?posts\s+(?:are|were|remain)\s+vacant"),
    Metric("agency staff rate", "pct", r"agency(?:\s+(?:staff|workers?|social\s+workers?|rate|use))?|locums?",
           lead=r"\b(?:use\s+of\s+|reliance\s+on\s+)?agency\s+(?:social\s+work(?:er)?s?|staff|workers?)(?:\s+rate)?\b|\bagency\s+rate\b",
           trail=r"\s+of\s+(?:the\s+)?(?:social\s+work(?:er)?s?\s+|qualified\s+)?(?:workforce|staff|social\s+workers|posts)\s+(?:is|are|was|were)\s+(?:agency|locum|interim)\b"),
    Metric("agency social workers", "count", r"agency(?:\s+(?:staff|workers?|social\s+workers?))?",
           trail=r"\s+(?:FTE\s+)?agency\s+(?:social\s+workers|staff|workers)\s+(?:are|were)\s+(?:currently\s+)?(?:in\s+post|employed|working|in\s+use)\b"),
    Metric("permanent workforce", "pct", r"permanent\s+(?:workforce|staff|social\s+workers?)",
           lead=r"\bpermanent\s+(?:social\s+work(?:er)?s?\s+)?(?:workforce|staff)\b",
           trail=r"\s+of\s+(?:the\s+)?(?:social\s+work(?:er)?s?\s+)?(?:workforce|staff|social\s+workers|posts)\s+(?:is|are|was|were)\s+(?:now\s+)?permanent\b"),
    Metric("staff turnover", "pct", r"(?:staff\s+|workforce\s+|social\s+work(?:er)?\s+)?turnover",
           lead=r"\b(?:staff\s+|workforce\s+|social\s+work(?:er)?s?\s+)?turnover(?:\s+rates?)?\b",
           trail=r",\s*(?:staff\s+|workforce\s+|social\s+work(?:er)?\s+)?turnover\s+(?:rate\s+)?(?:is|was|has\s+been|remains|remained)\b"),
    Metric("caseload", "caseload", r"case\s*loads?|workloads?|cases\s+per\s+(?:social\s+)?worker",
           lead=r"(?<!IRO\s)(?<!IROs\s)\b(?:average\s+)?(?:social\s+work(?:er)?s?['’]?\s+)?caseloads?(?:\s+per\s+(?:social\s+)?worker)?\b",
           trail=r"\s+cases\s+per\s+(?:social\s+)?worker\b"),
    Metric("children looked after", "count", _CLA,
           trail=rf"\s+{_CHILDREN}\s+(?:are|were|was|is)\s+(?:being\s+|currently\s+)?looked\s+after\s+by\b", per="children looked after per 10,000"),
    Metric("children looked after per 10,000", "rate", _CLA),
    Metric("child protection plans", "count", r"child\s+protection\s+plans?|(?:subject\s+to|on)\s+(?:a\s+)?(?:child\s+protection\s+|CP\s+)?plans?|CP\s+plans?",
           trail=rf"\s+{_CHILDREN}\s+(?:(?:are|were|was|is)\s+)?(?:currently\s+)?(?:the\s+)?subject\s+(?:of|to)\s+(?:a\s+)?child\s+protection\s+plans?\b",
           per="child protection plans per 10,000"),
    Metric("child protection plans per 10,000", "rate", r"child\s+protection\s+plans?|CP\s+plans?"),
    Metric("children in need", "count", _CIN,
           trail=r"\s+children\s+(?:had\s+been|have\s+been|were|are)\s+identified\s+(?:through\s+assessment\s+)?as\s+(?:being\s+)?(?:formally\s+)?in\s+need\b",
           per="children in need per 10,000"),
    Metric("children in need per 10,000", "rate", _CIN),
    Metric("care leavers in education, employment or training", "pct", rf"care\s+leavers.{{0,30}}(?:{_EET}|\bEET\b)",
           trail=rf"\)?\s+of\s+(?:all\s+)?care\s+leavers(?:\s+aged\s+\d+\s*(?:to|-|–)\s*\d+)?\s+(?:are|were)\s+(?:now\s+)?(?:in|engaged\s+in)\s+(?:{_EET}|EET)\b"),
    Metric("care leavers not in education, employment or training", "pct", r"care\s+leavers.{0,30}(?:not\s+in\s+(?:education|employment|training)|\bNEET\b)",
           lead=rf"\bcare\s+leavers\s+(?:who\s+are\s+)?not\s+in\s+{_EET}",
           trail=r"\)?\s+of\s+(?:all\s+)?care\s+leavers(?:\s+aged\s+\d+\s*(?:to|-|–)\s*\d+)?\s+(?:are|were)\s+(?:NEET|not\s+in\s+(?:education|employment|training))\b"),
    Metric("assessments in timescale", "pct", r"(?:timel(?:y|iness\s+of)\s+)?assessments?(?:\s+(?:in|within)\s+(?:time(?:scales?)?|45\s+days))?",
           lead=r"\btimeliness\s+of\s+(?:single\s+|social\s+work\s+)?assessments\b",
           trail=r"\s+of\s+(?:children\s+had\s+their\s+needs\s+assessed|(?:single\s+|initial\s+|core\s+|social\s+work\s+)?assessments\s+(?:were\s+|are\s+|being\s+)?(?:completed|carried\s+out|undertaken))\s+(?:with)?in\s+(?:45\s+(?:working\s+)?days|(?:an\s+appropriate\s+|the\s+required\s+)?timescales?)\b"),
    Metric("initial conferences in timescale", "pct", r"(?:initial\s+)?(?:child\s+protection\s+)?conferences?",
           lead=r"\b(?:percentage|proportion)\s+of\s+initial\s+child\s+protection\s+conferences\s+(?:taking\s+place|held)\s+within\s+15\s+(?:working\s+)?days(?:\s+of\s+(?:a|the)\s+strategy\s+(?:discussion|meeting))?",
           trail=r"\s+of\s+initial\s+(?:child\s+protection\s+)?conferences\s+(?:were\s+|are\s+|being\s+)?(?:held|taking\s+place|convened)\s+within\s+15\s+(?:working\s+)?days\b"),
    Metric("re-referral rate", "pct", r"re-?referrals?(?:\s+rate)?", lead=r"\bre-?referral\s+rate\b|\brate\s+of\s+re-?referrals\b"),
    Metric("repeat child protection plans", "pct", r"(?:repeat|second\s+or\s+subsequent)\s+(?:child\s+protection\s+|CP\s+)?plans?",
           lead=r"\b(?:repeat|second\s+or\s+subsequent)\s+child\s+protection\s+plans?\b"),
    Metric("three or more placement moves", "pct", r"placement\s+(?:stability|moves)|(?:three|3)\s+or\s+more\s+(?:placement\s+)?moves",
           lead=r"\b(?:children\s+having\s+)?(?:three|3)\s+or\s+more\s+placement\s+moves\b",
           trail=r"\s+of\s+(?:children|children\s+looked\s+after|looked\s+after\s+children)\s+(?:had|have|experienced)\s+(?:three|3)\s+or\s+more\s+(?:placement\s+)?moves\b"),
    Metric("adoptions", "count", r"adoptions?|adopted", trail=r"\s+adoptions\b(?!\s+(?:panel|team|agenc|service|support))"),
    Metric("children's services budget", "money", r"budgets?", lead=r"\b(?:net\s+|gross\s+|total\s+|annual\s+|base\s+)?budget\b"),
    Metric("overspend", "money", r"over-?spends?|over-?spent|deficit", lead=r"\b(?:over-?spend|over-?spent|deficit)\b", trail=r"\s+(?:over-?spend|deficit)\b"),
    Metric("child population", "count", r"(?:child|children['’]?s?)\s+population|children\s+(?:and\s+young\s+people\s+)?(?:live|living)\s+in",
           trail=rf"\s+{_CHILDREN}\s+under\s+the\s+age\s+of\s+18(?:\s+years)?\s+live\s+in\b"),
    Metric("children living in poverty", "pct", r"(?:child|children\s+(?:living\s+)?in)\s+poverty|low[\s-]income\s+families",
           trail=rf"\s+of\s+the\s+local\s+authority['’]s\s+{_CHILDREN}(?:\s+aged\s+under\s+16(?:\s+years)?)?\s+(?:are\s+)?living\s+in\s+(?:poverty|low[\s-]income\s+families)\b"),
)
BY_NAME = {m.name: m for m in METRICS}
# Every word a question may name a metric by: the engine counts them as register words.
METRIC_WORDS = " ".join(
    sorted({w for m in METRICS for w in re.findall(r"[a-z]{3,}", re.sub(r"\\[a-zA-Z]", " ", f"{m.name} {m.words}").lower())} - {"per", "are", "the"})
)

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_VALUE = {
    "pct": re.compile(rf"(?<![\d.,£])(?P<num>{_NUM})\s?(?:%|per\s?cent\b)"),
    "money": re.compile(rf"£\s?(?P<num>{_NUM})\s?(?P<mult>bn\b|billion|m\b|million|k\b|thousand)?"),
    "rate": re.compile(rf"(?<![\d.,£])(?P<num>{_NUM})\s+per\s+10,000\b"),
    "count": re.compile(rf"(?<![\d.,£/:-])(?P<num>{_NUM})(?![\d/:A-Za-z]|\.\d|,\d|\s?%|\s?per\s?cent|\s+per\s+10,000)"),
}
_VALUE["caseload"] = _VALUE["count"]
_MULTIPLIER = {"bn": 1e9, "billion": 1e9, "m": 1e6, "million": 1e6, "k": 1e3, "thousand": 1e3}
# How a sentence around a number reads: labels, comparisons, changes, gaps, tense.
_CUES = compile_table({
    # Numbers that are labels, not quantities: "paragraph 8", "section 136", "page 4", "s11", "Key Stage 2".
    "label_before": r"(?:\b(?:para(?:graph)?s?|sections?|s|pages?|appendix|annex|table|items?|no\.?|tel|ext(?:ension)?|stage|level|year|aged?|ages|key\s+stage|grade|phase|tier|article|rule|regulation|schedule|room|clause)\.?\s*|[A-Za-z])$",
    "comparator": r"\b(?:national(?:ly)?|nation|England|English|similar|statistical|comparators?|neighbou?r\w*|region\w*|London|country|other\s+(?:areas|authorities|councils|local)|benchmark|target|expected|maximum|minimum|threshold)\b",
    "change_after": r"^\s*(?:percentage\s+)?(?:points?\s+)?(?:increase|decrease|reduction|rise|fall|drop|improvement|decline|higher|lower|more|fewer|less|greater|growth|change)\b",
    "change_before": r"\b(?:increas|decreas|reduc|ris|rose|fell|fall|drop|improv|grew|grow|declin|cut|chang)\w*\s+by\s+(?:around\s+|about\s+|almost\s+|nearly\s+|over\s+)?$",
    "bad_gap": r"[\d;:%£]|\b(?:but|although|though|however|while|whereas|between|up\s+to|more\s+than|less\s+than|fewer\s+than|under|over|above|below|within|except|excluding|which|who|whom|that|per)\b",
    "chain": r"^[\s,()–-]*(?:and\s+)?(?:having\s+been|compared\s+(?:with|to)|(?:(?:it\s+)?(?:is|was)\s+)?(?:an?\s+)?(?:improvement|increase|reduction|decrease|rise|fall|drop)\s+(?:on|from)"
    r"|(?:up|down)\s+from|(?:falling|rising|decreasing|increasing|reducing|dropping|down|up)\s+to|from|to|and)[\s(]*$",
    # Caseloads of some teams, workers or reviewing officers are not the council's caseload.
    "not_all_caseloads": r"\b(?:teams?|IROs?|independent\s+reviewing|reviewing\s+officers?|personal\s+advisers?|some|managers?|few|many)\b",
    "own_date_gap": r"^\s*(?:\([^()]{0,60}\)\s*)?,?\s*(?:in|at|as\s+at|as\s+of|on|during|for|of|(?:in|at|by)\s+the\s+end\s+of)?\s*$",
    "lead_date_gap": r"^\s*,?\s*(?:(?:it|this|the\s+figure|the\s+rate|there)\s+)?(?:(?:was|is|were|are|stood\s+at|at|only|around|about|approximately|nearly|almost|over|just|some|had|has|been)\s+|,\s*)*$",
    "sentence_head": r"^\W*(?:(?:at|in|as\s+at|as\s+of|during|by|on|for|over)\s+)?(?:the\s+(?:end\s+of\s+)?)?$",
    "now": r"\b(?:currently|now|at\s+present|presently|at\s+the\s+(?:time|point)\s+of\s+(?:the\s+|this\s+)?(?:inspection|visit|writing))\b",
    "present": r"\b(?:is|are|has|have|remains?|stands?)\b",
    "past": r"\b(?:was|were|had|did|previously|last\s+year)\b",
    "carry": r"^\W*This\s+(?:is|was|represents)\s+an?\s+(?:increase|reduction|decrease|rise|fall|drop)\s+(?:from|on)\s+",
})
_PER_AFTER = re.compile(rf"^[^.;]{{0,80}}?\(\s*(?:or\s+|a\s+rate\s+of\s+)?(?P<num>{_NUM})\s+per\s+10,000\b[^)]*\)")


class Fact(BaseModel):
    """A figure a report states, with the date it describes and the sentence that states it."""

    metric: str = Field(description="Metric name from the vocabulary in assistant.register.facts.METRICS.")
    value: float
    unit: str = Field(description="%, count, £, per 10,000 children or cases per worker.")
    date: str = Field(description="The date described, ISO: 2017-03-31, 2019-02, 2016, or a financial year 2014-15.")
    sort: str = Field(description="Last day of that date, ISO, for ordering a series.")
    council: str = ""
    citation: Citation


@dataclass
class _Value:
    start: int
    end: int
    number: float


def _number(match: re.Match[str]) -> float:
    value = float(match.group("num").replace(",", ""))
    mult = match.groupdict().get("mult")
    return value * _MULTIPLIER[mult.lower()] if mult else value


def _values(sentence: str, kind: str) -> list[_Value]:
    """Numbers of a unit in a sentence, without labels, years, phone numbers and comparators."""
    found = []
    for match in _VALUE[kind].finditer(sentence):
        before, after = sentence[: match.start()], sentence[match.end() :]
        if kind in ("count", "caseload"):
            number = match.group("num")
            if _CUES["label_before"].search(before) or re.match(r"(?:19|20)\d\d$", number) or re.search(r"\d\s*$", before) or re.match(r"\s*\d", after):
                continue  # a label, a year or a piece of a phone number
            if re.match(r"\s*(?:years?|months?|weeks?|days?|hours?|miles?|minutes?|am|pm|st|nd|rd|th)\b|\s*(?:-|–|to|and|or)\s*\d", after, re.I):
                continue  # a duration or one end of a range
        if _CUES["comparator"].search(before[-45:]) or re.match(r"[^,;.]{0,25}?\b(?:national(?:ly)?|England|similar|statistical|comparators?|neighbou?r|region|London|country)\b", after, re.I):
            continue  # the figure of somewhere else
        if re.match(r"\s*(?:\+|plus\b|or\s+(?:more|over|above|fewer|less|under)\b)", after, re.I):
            continue  # a bound, not a value
        if _CUES["change_after"].match(after) or _CUES["change_before"].search(before):
            continue  # a change, not a level
        found.append(_Value(match.start(), match.end(), _number(match)))
    return found


def _label(span: TimeSpan) -> str:
    start, end = span.start, span.end
    if start == end:
        return start.isoformat()
    if span.granularity == "financial year":
        return f"{start.year}-{str(end.year)[2:]}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return str(start.year)
    if (start.year, start.month) == (end.year, end.month):
        return start.isoformat()[:7]
    return f"{start.isoformat()[:7]}/{end.isoformat()[:7]}"


class _Dater:
    """The date each value of one sentence describes; None where the sentence does not place it."""

    def __init__(self, sentence: str, report_date: str) -> None:
        self.sentence = sentence
        self.report_date = report_date
        anchor = Anchor.parse(report_date)
        self.spans = [s for s in find_times(sentence, anchor, "past") if s.relation in ("", "by") and re.search(r"\d|this|last", s.text)]
        head = next((s for s in self.spans if _CUES["sentence_head"].match(sentence[: s.pos])), None)
        self.head = head

    def own(self, value: _Value) -> TimeSpan | None:
        for span in self.spans:
            if span.pos >= value.end and _CUES["own_date_gap"].match(self.sentence[value.end : span.pos]):
                return span
            if span.endpos <= value.start and span is not self.head and _CUES["lead_date_gap"].match(self.sentence[span.endpos : value.start]):
                return span
        return None

    def date(self, value: _Value, chained: bool) -> tuple[str, str] | None:
        """(label, last day) of the value's date."""
        span = self.own(value)
        if span is None and not chained:
            clause = re.split(r"[;]", self.sentence[: value.start])[-1]
            if _CUES["now"].search(clause):
                return self._report()
            if self.head is not None and self.head.endpos <= value.start:
                span = self.head
            elif _CUES["present"].search(self.sentence) and not _CUES["past"].search(self.sentence):
                return self._report()
        if span is None:
            return None
        return _label(span), span.end.isoformat()

    def _report(self) -> tuple[str, str] | None:
        anchor = Anchor.parse(self.report_date)
        return (self.report_date, anchor.end.isoformat()) if anchor else None


def _gap_ok(gap: str, words: int = 8) -> bool:
    return len(gap.split()) <= words and not _CUES["bad_gap"].search(gap) and not _CUES["comparator"].search(gap)


def _chain(sentence: str, first: _Value, values: list[_Value], dater: _Dater, after: int = 0) -> list[tuple[_Value, bool]]:
    """Values chained to the first by 'from … to …', 'having been', 'falling to': each must carry its own date.

    `after` is where the first value's own words end ("49.9 agency staff were employed, falling to 22.3").
    """
    out = []
    previous = first
    for value in (v for v in values if v.start >= first.end):
        between = sentence[max(previous.end, after) : value.start]
        own = dater.own(previous)
        if own is not None and previous.end <= own.pos < value.start:
            between = sentence[own.endpos : value.start]
        if not _CUES["chain"].match(between):
            break
        out.append((value, True))
        previous = value
    return out


def _led(metric: Metric, sentence: str, values: list[_Value], dater: _Dater) -> list[tuple[_Value, bool]]:
    """Values that follow the metric's phrase closely, then those chained to them ('from 77% in March 2014 to 52%')."""
    out: list[tuple[_Value, bool]] = []
    for lead in re.finditer(metric.lead, sentence, re.I):
        if _CUES["comparator"].search(sentence[max(0, lead.start() - 30) : lead.start()]):
            continue
        following = [v for v in values if v.start >= lead.end()]
        if not following:
            continue
        if metric.kind == "caseload" and not (
            "average" in lead.group(0).lower() or re.match(r"\s+(?:children|cases|families|young\s+people)\b", sentence[following[0].end :])
        ):
            continue  # "caseloads are high at around 40" says nothing of what is counted
        gap = sentence[lead.end() : following[0].start]
        if not _gap_ok(gap) or _any_lead().search(gap):
            continue  # too far, or another metric's figure ("turnover and the use of agency staff, at 16%")
        out.append((following[0], bool(re.search(r"\bfrom\s*\(?\s*$", gap, re.I))))
        out += _chain(sentence, following[0], values, dater)
    return out


@lru_cache(maxsize=1)
def _any_lead() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{m.lead})" for m in METRICS if m.lead), re.I)


def _trailed(metric: Metric, sentence: str, values: list[_Value], dater: _Dater) -> list[tuple[_Value, bool]]:
    out: list[tuple[_Value, bool]] = []
    for value in values:
        if trail := re.match(metric.trail, sentence[value.end :], re.I):
            out += [(value, False), *_chain(sentence, value, values, dater, value.end + trail.end())]
    return out


def sentence_facts(sentence: str, passage: Passage, previous: Sequence[Fact] = ()) -> list[Fact]:
    """Facts one sentence of a passage states; `previous` are the facts of the sentence before it."""
    dater = _Dater(sentence, passage.date)
    found: list[Fact] = []

    quote = sentence.strip()

    def add(metric: Metric, value: _Value, chained: bool, *, need_own: bool = False) -> Fact | None:
        when = (_label(s), s.end.isoformat()) if (s := dater.own(value)) else None
        if when is None and not need_own:
            when = dater.date(value, chained)
        if when is None:
            return None
        fact = Fact(
            metric=metric.name, value=value.number, unit=UNITS[metric.kind], date=when[0], sort=when[1],
            council=passage.council, citation=Citation.from_passage(0, passage, quote),
        )
        if not any(f.metric == fact.metric and f.value == fact.value and f.date == fact.date for f in found):
            found.append(fact)
        return fact

    carried = _CUES["carry"].match(sentence)
    if carried and previous:
        # The quote holds the sentence that names the metric too, so it shows what the figure counts.
        before = passage.text.find(previous[0].citation.quote)
        after = passage.text.find(quote, max(before, 0))
        if 0 <= before < after:
            quote = passage.text[before : after + len(quote)]
    if carried:
        # "This is a reduction from 448 (76 per 10,000 children) at 31 March 2016.": the last sentence's metric, then.
        for metric in {BY_NAME[f.metric] for f in previous if BY_NAME[f.metric].kind == "count"}:
            counts = [v for v in _values(sentence, "count") if v.start == carried.end()]
            for value in counts:
                fact = add(metric, value, True, need_own=True)
                if fact is not None and metric.per and (rate := _PER_AFTER.match(sentence[value.end :])):
                    number = float(rate.group("num").replace(",", ""))
                    found.append(fact.model_copy(update={"metric": metric.per, "value": number, "unit": UNITS["rate"]}))
        return found
    by_kind: dict[str, list[_Value]] = {}  # a sentence's values of a kind, found once for all its metrics
    for metric in METRICS:
        if not (metric.lead or metric.trail):
            continue
        if metric.kind not in by_kind:
            by_kind[metric.kind] = _values(sentence, metric.kind)
        values = by_kind[metric.kind]
        if not values or (metric.kind == "caseload" and _CUES["not_all_caseloads"].search(sentence)):
            continue
        hits = (_led(metric, sentence, values, dater) if metric.lead else []) + (_trailed(metric, sentence, values, dater) if metric.trail else [])
        for value, chained in hits:
            fact = add(metric, value, chained)
            if fact is not None and metric.per and (rate := _PER_AFTER.match(sentence[value.end :])):
                number = float(rate.group("num").replace(",", ""))
                found.append(fact.model_copy(update={"metric": metric.per, "value": number, "unit": UNITS["rate"]}))
    return found


def sentences(text: str) -> list[str]:
    """Sentences and list items of a passage, verbatim; a line broken mid-sentence is joined to the next."""
    spans: list[list[int]] = []
    for start, end, bullet, _lead_in in unit_spans(text):
        if spans and not bullet and not re.search(r"[.;:!?]\W*$", text[spans[-1][0] : spans[-1][1]]) and re.match(r"\s*[a-z0-9(£]", text[start:end]):
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [text[start:end].strip() for start, end in spans]


def extract_facts(report: Iterable[Passage]) -> list[Fact]:
    """Every fact of a report's passages, in reading order."""
    facts: list[Fact] = []
    for passage in report:
        previous: list[Fact] = []
        for sentence in sentences(passage.text):
            previous = sentence_facts(sentence, passage, previous) if re.search(r"\d", sentence) else []
            facts.extend(previous)
    return facts


def merge_facts(facts: Iterable[Fact]) -> list[Fact]:
    """One fact per council, metric, date and value (the first report to state it), in series order."""
    seen: dict[tuple[str, str, str, float], Fact] = {}
    for fact in facts:
        seen.setdefault((fact.council, fact.metric, fact.date, fact.value), fact)
    return sorted(seen.values(), key=lambda f: (f.council, f.metric, f.sort, f.citation.source))


# ------------------------------------------------------------------ queries and output


def find_metrics(text: str) -> list[Metric]:
    """Metrics a text names, by name or synonym: "vacancy gap" is the vacancy rate; "looked after" is its count and its rate."""
    wanted = " ".join(text.lower().split())
    exact = [m for m in METRICS if m.name == wanted]
    return exact or [m for m in METRICS if re.search(rf"\b(?:{m.words})", text, re.I)]


def show_value(fact: Fact) -> str:
    """'18.5%', '427', '73 per 10,000 children', '£1,500,000'."""
    number = f"{fact.value:,.2f}".rstrip("0").rstrip(".")
    if fact.unit == "%":
        return f"{number}%"
    if fact.unit == "£":
        return f"£{number}"
    return number if fact.unit == "count" else f"{number} {fact.unit}"


# ------------------------------------------------------------------ questions

# Words a question about a metric's values may hold besides the metric and the council.
_ASKING = {
    "how", "has", "have", "had", "did", "does", "is", "are", "was", "were", "what", "whats", "the", "a", "an", "in",
    "of", "for", "at", "on", "by", "our", "its", "their", "been", "changed", "change", "changes", "changing", "moved",
    "move", "moving", "developed", "develop", "gone", "over", "time", "years", "year", "since", "trend", "trends",
    "series", "latest", "current", "currently", "now", "level", "levels", "figure", "figures", "value", "values",
    "today", "recent", "recently", "show", "give", "list", "many", "much", "there",
}
_ASKS = re.compile(r"\b(?:how\s+(?:has|have|did|is|are|many|much)\b|what(?:['’]s|\s+(?:is|was|are|were)\b)|over\s+(?:time|the\s+years)|trend|series|figures?\b|latest\b)", re.I)


def asks_for_metric(question: str, councils: Sequence[str] = ()) -> bool:
    """Whether a question asks only for a metric's value or its values over time ("how has the vacancy rate changed in X")."""
    if not find_metrics(question) or not (_ASKS.search(question) or len(question.split()) <= 6):
        return False
    text = question.lower().replace("’", "'")
    for council in sorted(councils, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(council.lower())}(?:'s)?\b", " ", text)
    metric_words = set(METRIC_WORDS.split()) | {"rate", "rates", "number", "numbers", "proportion", "percentage", "social", "workers", "worker", "staff", "children"}
    words = re.findall(r"[a-z][a-z'-]*", text)
    leftover = [w for w in words if w.removesuffix("'s") not in _ASKING | metric_words and w.rstrip("s") not in metric_words]
    return not leftover
