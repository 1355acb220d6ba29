"""The council gazetteer: UK councils, their aliases and predecessors; find and resolve councils in text."""

from __future__ import annotations

import csv
import re
from bisect import bisect_right
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

# Names that are also ordinary words: matched only when capitalised, beside a council word, or known.
COMMON_WORD_NAMES = frozenset(
    {"bury", "reading", "hull", "stoke", "slough", "harrow", "wilts", "bucks", "fife", "highland"}
)
# Phrases that contain a council's name but are not that council; they are consumed and never reported.
NOT_COUNCILS = (
    "Greater Manchester",
    "Greater London",
    "Bury St Edmunds",
    "Stoke Newington",
    "Stoke Mandeville",
    "Sutton Coldfield",
    "Newcastle-under-Lyme",
    "New York",
    "Duke of Edinburgh",
)
# A place followed by a postcode is an address ("Store Street, Manchester M1 2WD"), not a council.
_POSTCODE = re.compile(r"[\s,]*[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")
_CONNECTORS = frozenset({"and", "of", "upon", "on", "with", "the", "in", "na", "h", "nan", "city"})
# A common-word name followed by one of these is a verb ("bury the past", "Reading this report").
_DETERMINERS = frozenset("the a an this that these those it them his her their our its my your".split())  # noqa: SIM905 (a word list reads best as words)
_NEXT_WORD = re.compile(r"\s+(\w+)")
_SEP = r"[\s,.\-–]+"
_AND = rf"(?:\s*&\s*|{_SEP}and{_SEP})"
_PREFIX = r"(?:the\s+)?(?:London\s+Borough\s+of|Royal\s+Borough\s+of|Metropolitan\s+Borough\s+of|City\s+and\s+County\s+of|City\s+of|County\s+of|Borough\s+of|LB)\s+"
_SUFFIX = r"\s+(?:(?:(?:Metropolitan|County)\s+)?Borough\s+Council|(?:County|City|District)\s+Council|Council|MBC|CBC|BC|CC|City)"
_FUZZY_MIN = 7  # letters: shorter names are too close to ordinary words for a typo to be safe
# A name of two places joined ("Kensington and Chelsea", "Blackburn with Darwen", "Richmond upon Thames",
# "Southend-on-Sea") is spoken as its first place. Such short forms are worked out, not listed: they are read
# in questions only (a report's "Windsor Road" is no council), like a common-word name, and only when no other
# council's name holds the same first word ("Kingston": upon Thames or upon Hull, left to the listed aliases).
_JOINS = frozenset({"and", "with", "upon", "on"})
_NOT_PLACES = frozenset({"north", "south", "east", "west", "mid", "central", "greater", "city", "county", "royal", "isle", "isles", "vale"})
_MAX_WORDS = 6


@dataclass(frozen=True)
class Council:
    """One council: its display name, the other names it goes by, and where it sits."""

    name: str
    aliases: tuple[str, ...] = ()
    region: str = ""
    type: str = ""
    country: str = "England"
    dfe_la_code: str = ""
    ons_code: str = ""
    status: str = "current"
    successors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mention:
    """A council named in a text, at text[start:end]."""

    council: Council
    start: int
    end: int
    surface: str

    @property
    def span(self) -> tuple[int, int]:
        """Where the mention sits in its text."""
        return self.start, self.end


def normalise(name: str) -> str:
    """Lower-case a name, spell '&' as 'and', and reduce punctuation to single spaces."""
    name = name.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^\w\s]|_", " ", name).split())


def _alias_pattern(key: str) -> str:
    words = key.split()
    out = re.escape(words[0])
    for prev, word in zip(words, words[1:]):
        if word == "and":
            out += _AND
        else:
            out += ("" if prev == "and" else _SEP) + re.escape(word)
    return out


def _within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion, substitution or adjacent swap."""
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return (
        a[i + 1 :] == b[i + 1 :]
        or a[i:] == b[i + 1 :]
        or a[i + 1 :] == b[i:]
        or a[i + 1 : i + 2] + a[i] + a[i + 2 :] == b[i:]
    )


def _deletions(key: str) -> Iterator[str]:
    yield key
    for i in range(len(key)):
        yield key[:i] + key[i + 1 :]


class Gazetteer:
    """Councils by name and alias, with exact, possessive, '&'/'and' and one-typo matching in text."""

    def __init__(self, councils: list[Council]) -> None:
        self._councils = {c.name: c for c in councils}
        self._by_key: dict[str, Council | None] = {normalise(b): None for b in NOT_COUNCILS}
        for council in councils:  # display names first, so an alias never shadows another council's name
            self._by_key[normalise(council.name)] = council
        for council in councils:
            for alias in council.aliases:
                self._by_key.setdefault(normalise(alias), council)
        short = {key: council for key, council in _short_forms(councils).items() if key not in self._by_key}
        self._by_key.update(short)
        self._short = frozenset(short)
        cores = sorted(self._by_key, key=len, reverse=True)  # longest first: the regex takes the first that fits
        core = "|".join(_alias_pattern(k) for k in cores)
        self._pattern = re.compile(
            rf"(?<![\w&])(?P<pre>{_PREFIX})?(?P<core>{core})(?P<suf>{_SUFFIX})?(?P<poss>['’]s|['’]|s)?(?![\w&])",
            re.IGNORECASE,
        )
        self._fuzzy: dict[str, set[str]] = {}
        for key, owner in self._by_key.items():
            if owner and len(key.replace(" ", "")) >= _FUZZY_MIN and key not in COMMON_WORD_NAMES and key not in self._short:
                for variant in _deletions(key):
                    self._fuzzy.setdefault(variant, set()).add(key)
        self._typo_seen: dict[str, str | None] = {}
        self._vocab = {word for key in self._fuzzy for word in key.split()}

    def names(self) -> list[str]:
        """Display names of every council, current and former."""
        return sorted(self._councils)

    def get(self, name: str) -> Council | None:
        """The council with this display name (any case), or None."""
        found = self._by_key.get(normalise(name))
        return found if found and normalise(found.name) == normalise(name) else None

    def lookup(self, name: str) -> Council | None:
        """The council a name or alias stands for, in any case or punctuation, allowing one typo."""
        mentions = self._scan(name, case_sensitive=False, known=(), gate=False)
        if len(mentions) != 1:
            return None
        rest = name[: mentions[0].start] + name[mentions[0].end :]
        return mentions[0].council if set(normalise(rest).split()) <= {"the"} else None

    def find(self, text: str, *, case_sensitive: bool = False, known: Collection[str] | None = None) -> list[Mention]:
        """Every council mention in text, longest first and non-overlapping, in text order.

        case_sensitive is for report text: every significant word must be capitalised. Otherwise (question
        text) one typo is forgiven in names of seven letters or more, and a lower-case common-word name
        ("bury", "reading") counts only if it is among `known` (names of councils the library has reports for).
        """
        if case_sensitive:  # report text: read once, at ingest
            return self._scan(text, case_sensitive=True, known=known or (), gate=True)
        # A question is read several times on its way to an answer (its scope, its filters, the register).
        return list(self._question_mentions(text, frozenset(known or ())))

    @lru_cache(maxsize=256)  # noqa: B019 - the gazetteer is one per process, held for its life
    def _question_mentions(self, text: str, known: frozenset[str]) -> tuple[Mention, ...]:
        return tuple(self._scan(text, case_sensitive=False, known=known, gate=True))

    def _scan(self, text: str, *, case_sensitive: bool, known: Collection[str], gate: bool) -> list[Mention]:
        known_names = {c.name for c in (self._by_key.get(normalise(k)) or self.lookup(k) for k in known) if c}
        found: list[Mention] = []
        blocked: list[tuple[int, int]] = []
        pos = 0
        while match := self._pattern.search(text, pos):
            council = self._by_key[normalise(match["core"])]
            if council is None:
                blocked.append(match.span())
                pos = match.end()
                continue
            core = match["core"]
            if not case_sensitive and council.name not in known_names and not match["poss"] and core[-1:] in "sS":
                # "derbys" may be Derbyshire's short form or "Derby's" typed without its apostrophe: in a
                # question, the council the library holds is the one meant.
                possessor = self._by_key.get(normalise(core[:-1]))
                if possessor and possessor.name in known_names:
                    council = possessor
            key = normalise(match["core"])
            ok = not case_sensitive or (_capitalised(match["core"]) and match["poss"] != "s" and key not in self._short)
            ok = ok and not _POSTCODE.match(text, match.end())
            if ok and gate and (key in COMMON_WORD_NAMES or key in self._short):
                ok = _plausible_place(text, match, case_sensitive, council.name in known_names)
            if ok:
                found.append(Mention(council, match.start(), match.end(), match.group()))
            pos = match.end() if ok else match.start() + 1
        if not case_sensitive:
            typos = self._find_typos(text, found, blocked)
            found = [m for m in found if not any(t.start <= m.start and m.end <= t.end for t in typos)] + typos
        return sorted(found, key=lambda m: m.start)

    def _find_typos(self, text: str, exact: list[Mention], blocked: list[tuple[int, int]]) -> list[Mention]:
        """Names with one typo; a longer one may swallow a shorter exact match ("Brighton and Hvoe")."""
        words = [w for w in re.finditer(r"\w+", text) if not any(a <= w.start() < b for a, b in blocked)]
        starts = [m.start for m in exact]  # exact mentions arrive in text order and never overlap
        owner = [
            k if (k := bisect_right(starts, w.start()) - 1) >= 0 and w.start() < exact[k].end else -1 for w in words
        ]
        known_word = [w.group().lower() in self._vocab for w in words]
        used: set[int] = set()
        found: list[Mention] = []
        for size in range(_MAX_WORDS, 0, -1):
            for i in range(len(words) - size + 1):
                # One edit changes at most one word, so the others must be words of some name.
                if size > 1 and known_word[i : i + size].count(False) > 1 or used.intersection(range(i, i + size)):
                    continue
                span = words[i : i + size]
                start, end = span[0].start(), span[-1].end()
                inside = {exact[k].span for k in owner[i : i + size] if k >= 0}
                if any(a < start or b > end or (a, b) == (start, end) for a, b in inside) or any(
                    not re.fullmatch(r"[\s,\-&]+", text[a.end() : b.start()]) for a, b in zip(span, span[1:])
                ):
                    continue
                candidate = " ".join(w.group().lower() for w in span)
                key = self._typo_key(candidate) or (candidate.endswith("s") and self._typo_key(candidate[:-1]))
                if key:
                    council = self._by_key[key]
                    assert council is not None
                    found.append(Mention(council, start, end, text[start:end]))
                    used.update(range(i, i + size))
        return found

    def _typo_key(self, candidate: str) -> str | None:
        if len(candidate.replace(" ", "")) < _FUZZY_MIN - 1:
            return None
        if candidate not in self._typo_seen:  # report text repeats its words; look each up once
            keys = {k for variant in _deletions(candidate) for k in self._fuzzy.get(variant, ())}
            close = (k for k in keys if k != candidate and _within_one_edit(candidate, k))
            if len(self._typo_seen) > 100_000:
                self._typo_seen.clear()  # bounded: the gazetteer lives as long as the process
            self._typo_seen[candidate] = min(close, default=None)
        return self._typo_seen[candidate]

    def report_council(self, text: str, title: str = "") -> Council | None:
        """The council that owns a report: named in its title or letterhead, else clearly the most named."""
        for part in (title, _heading(text)):
            owners = list(dict.fromkeys(m.council for m in self.find(part, case_sensitive=True)))
            if len(owners) == 1:
                return owners[0]
            if owners:
                return None  # several councils head the report: which one owns it is a guess
        # Reports call themselves "the Council"; a body mention in full ("Hampshire County Council") is mostly another.
        scores: dict[Council, float] = {}
        for mention in self.find(text, case_sensitive=True):
            full = (parts := self._pattern.fullmatch(mention.surface)) and (parts["pre"] or parts["suf"])
            scores[mention.council] = scores.get(mention.council, 0.0) + (0.5 if full else 1.0)
        ranked = sorted(scores.items(), key=lambda item: -item[1])[:2]
        if not ranked or ranked[0][1] < 2 or (len(ranked) > 1 and ranked[0][1] < 1.5 * ranked[1][1]):
            return None
        return ranked[0][0]


def _heading(text: str, lines: int = 15, max_words: int = 16) -> str:
    """The report's letterhead and title: its first non-empty lines, up to the first line of prose."""
    head: list[str] = []
    for line in [line.strip() for line in text.splitlines() if line.strip()][:lines]:
        if len(line.split()) > max_words or re.search(r"\w{3}[.;:]$", line):
            break  # a sentence: the body has begun, and councils named there may be comparators
        head.append(line)
    return "\n".join(head)


def _capitalised(surface: str) -> bool:
    words = re.findall(r"\w+", surface)
    return all(w[0].isupper() or w[0].isdigit() or w.lower() in _CONNECTORS for w in words)


def _plausible_place(text: str, match: re.Match[str], case_sensitive: bool, known: bool) -> bool:
    """Whether a common-word name ("Bury", "reading") is the place, not the word."""
    if match["pre"] or match["suf"] or (match["poss"] or "").startswith(("'", "’")):
        return True
    if match["poss"] == "s":  # "Stokes" is a surname, "readings" a noun
        return known and not case_sensitive
    after = _NEXT_WORD.match(text, match.end())
    if after and after.group(1).lower() in _DETERMINERS:
        return False
    if match["core"][0].isupper():
        return True
    return known and not case_sensitive


def _short_forms(councils: list[Council]) -> dict[str, Council]:
    """First places of joined names ("kensington" for Kensington and Chelsea), those naming one council only."""
    firsts: dict[str, set[str]] = {}
    owners: dict[str, Council] = {}
    for council in councils:
        words = normalise(council.name).split()
        firsts.setdefault(words[0], set()).add(council.name)
        if len(words) > 2 and words[1] in _JOINS and words[0] not in _NOT_PLACES and words[0] not in _CONNECTORS:
            owners[words[0]] = council
    return {word: council for word, council in owners.items() if len(firsts[word]) == 1}


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split("; ") if v)


@cache
def gazetteer() -> Gazetteer:
    """The gazetteer of the councils shipped in assistant/data/councils.csv, loaded once."""
    from importlib import resources  # here, not at the top: importing this module stays cheap

    with resources.files("assistant").joinpath("data/councils.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return Gazetteer(
        [
            Council(
                name=r["name"],
                aliases=_split(r["aliases"]),
                region=r["region"],
                type=r["type"],
                country=r["country"],
                dfe_la_code=r["dfe_la_code"],
                ons_code=r["ons_code"],
                status=r["status"],
                successors=_split(r["successors"]),
            )
            for r in rows
        ]
    )
