"""Time expressions in report text, normalised to date intervals against the report's own date.

Written by hand around dateparser: dateparser reads a date it is given ("12 October 2017",
"10/11/2016") well, but it neither finds vague periods in running text ("the early part of 2022",
"toward the end of 2016", "the second week of May") nor resolves a year-less month against the
date of the report that mentions it ("in July" in a March 2021 report is July 2021).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from assistant.dates import ANY_MONTH, FULL_MONTHS, MONTH_NAMES, MONTHS, Anchor, add_months, month_end

SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
            "final": -1, "last": -1, "latter": 2}
# Parts of a year and of a month, as (first month, last month) and (first day, last day).
YEAR_PARTS = {"early": (1, 4), "mid": (5, 8), "late": (9, 12), "end": (9, 12)}
MONTH_PARTS = {"early": (1, 10), "mid": (11, 20), "late": (21, 31), "end": (21, 31)}
NEAR_TERM_MONTHS = 3
# A report is often written a few weeks before the meeting date it carries.
TOLERANCE = timedelta(days=31)


@dataclass(frozen=True)
class TimeSpan:
    """A time expression found in text, with the interval it stands for."""

    text: str  # as written, with its relation word ("not later than January 2022")
    start: date
    end: date
    granularity: str  # day, days, week, part of month, month, months, quarter, season, half year, …
    relation: str  # "" (during), "by" (deadline), "from" (starting then), "since" (past)
    pos: int  # offsets of `text` in the text searched
    endpos: int

    def overlaps(self, start: date, end: date) -> bool:
        return self.start <= end and start <= self.end

    def as_json(self) -> dict[str, str]:
        return {
            "text": self.text,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "granularity": self.granularity,
            "relation": self.relation,
        }


def _year(text: str | None, base: int | None = None) -> int | None:
    """A four-digit year, or a two-digit one completed from `base` ('2015-17')."""
    if not text:
        return None
    value = int(text)
    if len(text) == 2 and base is not None:
        value += base // 100 * 100
    return value


# "5 March 2021", as `_spans_for` writes a day: read here as dateparser reads it (None if the month has no such day),
# sparing its milliseconds a call; any other text goes to dateparser.
_PLAIN_DAY = re.compile(r"(?P<d>[0-9]{1,2}) (?P<m>[A-Z][a-z]+) (?P<y>(?:19|20)[0-9][0-9])")
_FULL_MONTH_NUMBERS = {name: number for number, name in enumerate(MONTH_NAMES, start=1)}


@lru_cache(maxsize=2048)
def _dateparser(text: str) -> date | None:
    if (plain := _PLAIN_DAY.fullmatch(text)) and (number := _FULL_MONTH_NUMBERS.get(plain["m"])):
        year, day = int(plain["y"]), int(plain["d"])
        return date(year, number, day) if 1 <= day <= calendar.monthrange(year, number)[1] else None
    import dateparser

    parsed = dateparser.parse(
        text, languages=["en"], settings={"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["day", "month", "year"]}
    )
    return parsed.date() if parsed else None


# ------------------------------------------------------------------ patterns

Builder = Callable[[int], "tuple[date, date] | None"]


def _m(n: int, full_only: bool = False) -> str:
    return rf"(?P<m{n}>{FULL_MONTHS if full_only else ANY_MONTH})\b"


def _d(n: int) -> str:
    return rf"(?P<d{n}>[0-3]?\d)(?:st|nd|rd|th)?"


def _y(n: int) -> str:
    return rf"(?P<y{n}>(?:19|20)\d\d)(?!\d)"


_WEEKDAY = r"(?:(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)?"
_DASH = r"\s*(?:-|–|—|(?i:to|until|till))\s*"
_PART = r"(?i:(?P<part>early|mid|late|the\s+(?:beginning|start|middle|end)\s+of|(?:the\s+)?(?:end|start|beginning|middle)\s+of|(?:the\s+)?(?:early|latter|later|last|first|middle)\s+(?:part|months|weeks|days)\s+of))[\s-]+"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("day_to_day", re.compile(rf"\b{_WEEKDAY}{_d(1)}\s+{_m(1)}(?:,?\s+{_y(1)})?{_DASH}{_d(2)}\s+{_m(2)},?\s+{_y(2)}")),
    ("day_range", re.compile(rf"\b{_d(1)}\s*(?:(?i:and|to)|-|–|/|&)\s*{_d(2)}\s+{_m(2)}(?:,?\s+{_y(2)})?")),
    ("day", re.compile(rf"\b{_WEEKDAY}{_d(1)}\s+{_m(1)}(?:,?\s+{_y(1)})?")),
    ("us_day", re.compile(rf"\b{_m(1)}\s+{_d(1)},?\s+{_y(1)}")),
    ("numeric", re.compile(r"(?<![\d/])(?P<num>[0-3]?\d/[01]?\d/(?:19|20)?\d\d)(?![\d/])")),
    ("week", re.compile(rf"(?i:(?:the\s+)?(?P<nth>first|second|third|fourth|last|final)\s+week\s+(?:of|in))\s+{_m(1)}(?:\s+{_y(1)})?")),
    ("week_commencing", re.compile(rf"(?i:(?:the\s+)?week\s+(?:commencing|beginning)|w/c)\s+{_d(1)}\s+{_m(1)}(?:\s+{_y(1)})?")),
    ("part_month", re.compile(rf"{_PART}{_m(1, full_only=True)}(?:,?\s+{_y(1)})?")),
    ("month_range", re.compile(rf"\b{_m(1, full_only=True)}(?:\s+{_y(1)})?\s*(?:-|–|—|(?i:to|until|till|through))\s*{_m(2, full_only=True)}(?:\s+{_y(2)})?")),
    ("month_year", re.compile(rf"\b{_m(1)},?\s+{_y(1)}")),
    ("month_rel_year", re.compile(rf"\b{_m(1, full_only=True)}\s+(?i:(?P<which>this|next|last)\s+year)\b")),
    ("month", re.compile(rf"\b{_m(1, full_only=True)}(?!\s*\d)")),
    ("season", re.compile(rf"(?i:(?P<smod>early|late|mid)[\s-]+)?(?i:(?P<season>spring|summer|autumn|winter))(?:(?i:\s+of)?\s+{_y(1)}(?:/\d\d)?)?")),
    ("quarter", re.compile(rf"(?i:(?:the\s+)?(?P<nth>first|second|third|fourth|final|last|1st|2nd|3rd|4th)\s+quarter\s+(?:of\s+)?(?:the\s+)?(?P<fin>financial\s+year\s+)?){_y(1)}(?:/(?P<fy>\d\d(?:\d\d)?))?")),
    ("q", re.compile(rf"\b(?i:q)(?P<q>[1-4])(?:\s+of)?\s+{_y(1)}(?:/(?P<fy>\d\d(?:\d\d)?))?")),
    ("half", re.compile(rf"(?i:(?:the\s+)?(?P<nth>first|second|1st|2nd|latter)\s+half\s+of\s+(?:the\s+)?(?:(?:financial|calendar)\s+year\s+)?){_y(1)}")),
    ("h", re.compile(rf"\b(?i:h)(?P<q>[12])\s+{_y(1)}")),
    ("part_year", re.compile(rf"{_PART}(?i:the\s+year\s+)?{_y(1)}")),
    ("year_range", re.compile(rf"\b{_y(1)}\s*(?P<sep>-|–|—|/|(?i:to))\s*(?P<y2>(?:19|20)\d\d|\d\d)(?![\d%])")),
    ("remainder", re.compile(rf"(?i:(?:the\s+)?(?:remainder|rest|balance)\s+of\s+(?:the\s+year|this\s+year|(?=\d))){_y(1)}?|(?i:later\s+this\s+year)")),
    ("year", re.compile(rf"(?<![\d£$.,/-]){_y(1)}(?![\d%]|,\d)")),
    ("this_year", re.compile(r"(?i:\b(?:this|the\s+current)\s+(?:calendar\s+)?year\b)")),
    ("next_year", re.compile(r"(?i:\bnext\s+(?:calendar\s+)?year\b)")),
    ("last_year", re.compile(r"(?i:\b(?:last|the\s+previous)\s+year\b)")),
    ("coming_year", re.compile(r"(?i:\b(?:the\s+|this\s+)?(?:coming|next)\s+(?:year|12\s+months|twelve\s+months)\b|\bthe\s+year\s+ahead\b)")),
    ("within", re.compile(r"(?i:\b(?:within|in|over)\s+(?:the\s+)?(?:next\s+|coming\s+)?(?P<n>\d{1,2}|two|three|four|six|nine|twelve|eighteen)\s+(?P<unit>weeks?|months?|years?)(?:'?\s+time)?)")),
    ("this_month", re.compile(r"(?i:\b(?P<which>this|next)\s+month\b)")),
    ("soon", re.compile(r"(?i:\b(?:soon|shortly|imminently|in\s+the\s+near\s+future|in\s+the\s+coming\s+(?:weeks|months)|in\s+the\s+next\s+few\s+(?:weeks|months)|about\s+to)\b)")),
]
_WORD_NUMBERS = {"two": 2, "three": 3, "four": 4, "six": 6, "nine": 9, "twelve": 12, "eighteen": 18}
# Words that may stand before a time expression and change what it means.
_RELATION = re.compile(
    r"(?i:\b(?P<rel>not\s+later\s+than|no\s+later\s+than|by\s+the\s+end\s+of|by|before|until|till|up\s+to|"
    r"from|starting(?:\s+(?:in|from|at|on))?|with\s+effect\s+from|commencing(?:\s+(?:in|from|on))?|beginning(?:\s+(?:in|from))?|"
    r"since|towards?|during|in|on|at|throughout|over|within|for)\s+)$"
)
_RELATION_KIND = {"not later than": "by", "no later than": "by", "by": "by", "before": "by", "until": "by", "till": "by",
                  "up to": "by", "by the end of": "by", "from": "from", "starting": "from", "with effect from": "from",
                  "commencing": "from", "beginning": "from", "since": "since"}
_MAY_BEFORE = re.compile(r"(?i:\b(?:in|during|by|from|until|till|before|after|since|throughout|of|early|mid|late|end|start|beginning|since|last|next|this|on)\s+)$")


def _spans_for(name: str, match: re.Match[str]) -> tuple[Builder | None, str, bool]:
    """How to build the interval from a year, its granularity, and whether the text gives the year."""
    g = match.groupdict()

    def month(key: str) -> int:
        return MONTHS[g[key].rstrip(".")]

    if name in ("day", "us_day", "day_range", "day_to_day", "week_commencing"):
        first_m = month("m1") if g.get("m1") else month("m2")
        last_m = month("m2") if g.get("m2") else first_m
        year2 = _year(g.get("y2")) or _year(g.get("y1"))
        year1 = _year(g.get("y1")) or year2

        def build(year: int) -> tuple[date, date] | None:
            y1 = year1 or year
            y2 = year2 or year
            start = _dateparser(f"{g['d1']} {calendar.month_name[first_m]} {y1}")
            if name in ("day", "us_day"):
                return (start, start) if start else None
            if name == "week_commencing":
                return (start, start + timedelta(days=6)) if start else None
            end = _dateparser(f"{g['d2']} {calendar.month_name[last_m]} {y2}")
            if name == "day_range" and start and end and start > end:
                start = None
            return (start, end) if start and end and start <= end else None

        single = name in ("day", "us_day")
        return build, "day" if single else ("week" if name == "week_commencing" else "days"), bool(year2)
    if name == "numeric":
        day = _dateparser(g["num"])
        return (lambda _y: (day, day)) if day else None, "day", True
    if name == "week":
        nth = ORDINALS[g["nth"].lower()]

        def build_week(year: int) -> tuple[date, date]:
            m = month("m1")
            last = calendar.monthrange(year, m)[1]
            first_day = last - 6 if nth == -1 else 1 + 7 * (nth - 1)
            return date(year, m, first_day), date(year, m, min(first_day + 6, last))

        return build_week, "week", bool(g.get("y1"))
    if name == "part_month":
        first_day, last_day = MONTH_PARTS[_part_key(g["part"])]

        def build_part(year: int) -> tuple[date, date]:
            m = month("m1")
            return date(year, m, first_day), date(year, m, min(last_day, calendar.monthrange(year, m)[1]))

        return build_part, "part of month", bool(g.get("y1"))
    if name in ("month", "month_year"):
        return (lambda year: (date(year, month("m1"), 1), month_end(year, month("m1")))), "month", bool(g.get("y1"))
    if name == "month_range":
        m1, m2 = month("m1"), month("m2")
        y2 = _year(g.get("y2"))
        y1 = _year(g.get("y1"))

        def build_range(year: int) -> tuple[date, date]:
            end_year = y2 or year
            start_year = y1 or (end_year if m1 <= m2 else end_year - 1)
            return date(start_year, m1, 1), month_end(end_year, m2)

        return build_range, "months", bool(y1 or y2)
    if name == "season":
        first, last = SEASONS[g["season"].lower()]
        mod = (g.get("smod") or "").lower()

        def build_season(year: int) -> tuple[date, date]:
            start = date(year, first, 1)
            end = month_end(year + 1 if last < first else year, last)
            if mod == "early":
                end = month_end(start.year, start.month)
            elif mod == "late":
                start = date(end.year, end.month, 1)
            elif mod == "mid":
                middle = add_months(start, 1)
                start, end = middle, month_end(middle.year, middle.month)
            return start, end

        return build_season, "season", bool(g.get("y1"))
    if name in ("quarter", "q", "half", "h"):
        year = _year(g["y1"])
        assert year is not None
        fiscal = bool(g.get("fy") or g.get("fin"))
        number = int(g["q"]) if g.get("q") else ORDINALS[g["nth"].lower()]
        size = 3 if name in ("quarter", "q") else 6
        count = 12 // size
        number = count if number == -1 else number
        base = date(year, 4 if fiscal else 1, 1)
        start = add_months(base, size * (number - 1))
        end = add_months(start, size) - timedelta(days=1)
        return (lambda _y: (start, end)), ("quarter" if size == 3 else "half year"), True
    if name == "part_year":
        key = _part_key(g["part"])
        first, last = YEAR_PARTS[key]
        year = _year(g["y1"])
        assert year is not None
        label = {"early": "early year", "mid": "mid year", "late": "end of year", "end": "end of year"}[key]
        return (lambda _y: (date(year, first, 1), month_end(year, last))), label, True
    if name == "year_range":
        y1 = _year(g["y1"])
        assert y1 is not None
        y2 = _year(g["y2"], base=y1)
        if y2 is None or not 0 < y2 - y1 <= 10:
            return None, "", True
        if y2 == y1 + 1 and (g["sep"] == "/" or len(g["y2"]) == 2):
            # A UK financial year: 2021/22 runs from April 2021 to March 2022.
            return (lambda _y: (date(y1, 4, 1), date(y2, 3, 31))), "financial year", True
        return (lambda _y: (date(y1, 1, 1), date(y2, 12, 31))), "years", True
    if name == "year":
        year = _year(g["y1"])
        assert year is not None
        return (lambda _y: (date(year, 1, 1), date(year, 12, 31))), "year", True
    return None, "", False


def _part_key(part: str) -> str:
    words = part.lower().replace("the ", "").split()
    first = words[0]
    if first in ("early", "beginning", "start", "first"):
        return "early"
    if first in ("mid", "middle"):
        return "mid"
    if first in ("late", "later", "latter", "last"):
        return "late"
    return "end"


def _relative(name: str, match: re.Match[str], anchor: Anchor) -> tuple[date, date, str] | None:
    """Expressions read from the report date itself ('this year', 'soon', 'the coming year')."""
    base = anchor.start
    year_end = date(base.year, 12, 31)
    if name == "this_year":
        return date(base.year, 1, 1), year_end, "year"
    if name == "next_year":
        return date(base.year + 1, 1, 1), date(base.year + 1, 12, 31), "year"
    if name == "last_year":
        return date(base.year - 1, 1, 1), date(base.year - 1, 12, 31), "year"
    if anchor.granularity == "year":
        return None  # "soon" or "the coming year" in a report dated only by year: too vague to place
    if name == "coming_year":
        return base, add_months(base, 12) - timedelta(days=1), "next 12 months"
    if name == "remainder":
        year = _year(match.group("y1")) or base.year
        return (base if year == base.year else date(year, 1, 1)), date(year, 12, 31), "rest of year"
    if name == "within":
        raw = match.group("n").lower()
        n = _WORD_NUMBERS.get(raw) or int(raw)
        unit = match.group("unit").lower()
        if unit.startswith("week"):
            return base, base + timedelta(weeks=n), "weeks"
        return base, add_months(base, n * (12 if unit.startswith("year") else 1)), "months"
    if name == "month_rel_year":
        year = base.year + {"this": 0, "next": 1, "last": -1}[match.group("which").lower()]
        number = MONTHS[match.group("m1")]
        return date(year, number, 1), month_end(year, number), "month"
    if name == "this_month":
        start = add_months(date(base.year, base.month, 1), 1 if match.group("which").lower() == "next" else 0)
        return start, month_end(start.year, start.month), "month"
    if name == "soon":
        return base, add_months(base, NEAR_TERM_MONTHS), "near term"
    return None


def _resolve(build: Builder, anchor: Anchor, tense: str) -> tuple[date, date] | None:
    """Pick the year for a year-less expression: the report's own, the one before or after."""
    if anchor.granularity == "year":
        return build(anchor.start.year)
    candidates = [span for year in (anchor.start.year - 1, anchor.start.year, anchor.start.year + 1) if (span := build(year))]
    if not candidates:
        return None
    if tense == "future":
        ahead = [s for s in candidates if s[1] >= anchor.start - TOLERANCE]
        return min(ahead) if ahead else candidates[-1]
    if tense == "past":
        behind = [s for s in candidates if s[0] <= anchor.end + TOLERANCE]
        return max(behind) if behind else candidates[0]
    middle = anchor.start + (anchor.end - anchor.start) / 2
    return min(candidates, key=lambda s: abs((s[0] + (s[1] - s[0]) / 2) - middle))


# What every pattern above needs somewhere in the text: a digit, a month's name (as the patterns spell it, case and
# all) or a word of their own. Most sentences hold none, and are spared running every pattern over them.
_MAY_HOLD = re.compile(r"\d|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|(?i:year|month|week|soon|shortly|imminently|near|about|spring|summer|autumn|winter)")
_MONTH_STEMS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIME_WORDS = ("year", "month", "week", "soon", "shortly", "imminently", "near", "about", "spring", "summer", "autumn", "winter")
# A letter outside ASCII: only such a letter can match an ASCII letter case-insensitively other than its own
# upper or lower case ("ſ" matches "s"), so in a text without one, `word in text.lower()` is `(?i:word)`.
_WIDE_LETTER = re.compile(r"[^\W\d_\x00-\x7f]")


def _lowered(text: str) -> str | None:  # lower case, if substring tests on it are (?i:...) patterns' tests
    return text.lower() if text.isascii() or not _WIDE_LETTER.search(text) else None


def _may_hold(text: str, lowered: str | None) -> bool:  # _MAY_HOLD.search(text), by substring tests where exact
    if lowered is None:
        return bool(_MAY_HOLD.search(text))
    return any(m in text for m in _MONTH_STEMS) or any(w in lowered for w in _TIME_WORDS) or bool(_FEATURES["digit"].search(text))


# What each pattern needs somewhere in the text, as features all of which must be found (each matched as the
# pattern spells it): a text is run only through the patterns it can match, a few of the 28 for most sentences.
_CASED_WORDS = {"month": _MONTH_STEMS, "slash": ("/",)}
_WORDS = {
    "week": ("week", "w/c"), "month word": ("month",), "year word": ("year",), "quarter": ("quarter",), "half": ("half",),
    "season": ("spring", "summer", "autumn", "winter"), "remainder": ("remainder", "rest", "balance", "later"),
    "period": ("week", "month", "year"), "coming": ("year", "months"),
    "soon": ("soon", "shortly", "imminently", "near", "coming", "next", "about"),
}
_FEATURES = {
    "digit": re.compile(r"\d"), "year": re.compile(r"(?:19|20)\d\d"),
    **{feature: re.compile("|".join(map(re.escape, words))) for feature, words in _CASED_WORDS.items()},
    **{feature: re.compile("(?i:" + "|".join(map(re.escape, words)) + ")") for feature, words in _WORDS.items()},
}


def _present(text: str, lowered: str | None) -> set[str]:  # the features found in `text`, as _FEATURES match them
    if lowered is None:
        return {feature for feature, pattern in _FEATURES.items() if pattern.search(text)}
    present = {feature for feature in ("digit", "year") if _FEATURES[feature].search(text)}
    present.update(feature for feature, words in _CASED_WORDS.items() if any(word in text for word in words))
    present.update(feature for feature, words in _WORDS.items() if any(word in lowered for word in words))
    return present


_NEEDS: dict[str, tuple[str, ...]] = {
    "day_to_day": ("digit", "month"), "day_range": ("digit", "month"), "day": ("digit", "month"), "us_day": ("year", "month"),
    "numeric": ("slash", "digit"), "week": ("week", "month"), "week_commencing": ("week", "digit", "month"),
    "part_month": ("month",), "month_range": ("month",), "month_year": ("year", "month"), "month_rel_year": ("year word", "month"),
    "month": ("month",), "season": ("season",), "quarter": ("quarter", "year"), "q": ("year",), "half": ("half", "year"),
    "h": ("year",), "part_year": ("year",), "year_range": ("year",), "remainder": ("remainder",), "year": ("year",),
    "this_year": ("year word",), "next_year": ("year word",), "last_year": ("year word",), "coming_year": ("coming",),
    "within": ("period",), "this_month": ("month word",), "soon": ("soon",),
}


@lru_cache(maxsize=4096)
def _all_matches(text: str) -> tuple[tuple[str, re.Match[str]], ...]:
    """All pattern matches, longest first at each position, never overlapping (cached: commitments, inspections and facts read the same sentences)."""
    if not _may_hold(text, lowered := _lowered(text)):
        return ()
    present = _present(text, lowered)
    found = [(m.start(), -(m.end() - m.start()), order, name, m) for order, (name, pattern) in enumerate(PATTERNS)
             if present.issuperset(_NEEDS[name]) for m in pattern.finditer(text)]
    found.sort(key=lambda item: item[:3])
    taken_until = -1
    kept: list[tuple[str, re.Match[str]]] = []
    for start, _negative_length, _order, name, match in found:
        if start < taken_until or match.end() == start:
            continue
        if name == "month" and match.group("m1") == "May" and not _MAY_BEFORE.search(text[: start]):
            continue  # "may" the verb, or a sentence-initial "May" with nothing to mark it as the month
        taken_until = match.end()
        kept.append((name, match))
    return tuple(kept)




def find_times(text: str, anchor: Anchor | None, tense: str | Callable[[int], str] = "") -> list[TimeSpan]:
    """Time expressions in `text`, resolved against the report date `anchor`.

    `tense` ('future', 'past' or '') says which way a year-less date leans; it may be a function
    of the expression's offset, so each clause of a sentence can lean its own way.
    """
    spans: list[TimeSpan] = []
    for name, match in _all_matches(text):
        lean = tense(match.start()) if callable(tense) else tense
        if name in ("this_year", "next_year", "last_year", "coming_year", "remainder", "within", "this_month", "soon", "month_rel_year"):
            if anchor is None:
                continue
            relative = _relative(name, match, anchor)
            if relative is None:
                continue
            start, end, granularity = relative
        else:
            build, granularity, year_given = _spans_for(name, match)
            if build is None:
                continue
            if year_given:
                given = match.groupdict().get("y1") or match.groupdict().get("y2")
                interval = build(int(given) if given and len(given) == 4 else 0)
            elif anchor is None:
                continue
            else:
                interval = _resolve(build, anchor, lean)
            if interval is None:
                continue
            start, end = interval
        pos = match.start()
        relation = ""
        before = _RELATION.search(text[max(0, pos - 40) : pos])
        if before and name not in ("within", "soon"):
            pos -= len(before.group(0))
            word = " ".join(before.group("rel").lower().split())
            relation = _RELATION_KIND.get(word.split(" ")[0] if word.startswith(("starting", "commencing", "beginning")) else word, "")
        if relation == "by" and anchor is not None:
            if before and before.group("rel").lower() == "before":
                end = start - timedelta(days=1)
            start = min(anchor.start, end)
        spans.append(TimeSpan(text[pos : match.end()], start, end, granularity, relation, pos, match.end()))
    return spans
