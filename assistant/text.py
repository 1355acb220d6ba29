"""Text as the assistant reads it: sentences, and words as it compares them.

Sentences: `sentence_spans` (pysbd, which knows abbreviations, numbers and quotes) for what is
quoted and cited; `rough_sentence_spans` (a full stop before a capital) only where passages are
cut, whose boundaries the built index records. Words: lower case, irregular forms joined,
Porter-stemmed, the same in BM25 and in answers.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any, Protocol

# A line that starts a list item: a bullet, "(a)", "1." or "2.1".
LIST_START = re.compile(r"^\s*(?:[-•*–]\s|\(?[a-z]{1,4}\)\s|\(?\d+[.)]?\s|\d+\.\d+\s)", re.I)


def compile_table(patterns: Mapping[str, str], flags: int = re.IGNORECASE) -> dict[str, re.Pattern[str]]:
    """A table of named patterns compiled with the same flags: a module's vocabulary kept as data, by name."""
    return {name: re.compile(pattern, flags) for name, pattern in patterns.items()}


_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'’”)]*\s+(?=[\"'‘“(]?[A-Z0-9])")

STOPWORDS = {
    "a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "were", "be",
    "been", "did", "do", "does", "what", "when", "who", "whom", "whose", "which", "how", "why", "where",
    "it", "its", "this", "that", "these", "those", "with", "by", "at", "from", "as", "about", "has",
    "have", "had", "any", "there", "their", "they", "them", "s", "many", "much", "pls", "please",
    "quick", "tell", "me", "i", "we", "our", "us", "you", "your", "can", "could", "would", "should",
    "will", "going", "get", "got", "into", "after", "before", "under", "over", "than", "then", "so",
    "also", "doing", "done", "say", "said", "says", "report", "reports", "council", "county",
    # How people frame a request, not what they ask about ("list the points", "summarise please").
    "list", "point", "points", "item", "items", "summarise", "summarize", "summary", "outline", "give",
    "show", "explain", "describe", "briefing", "hello", "hi", "thanks", "preparing", "prepare", "anything",
    "notable", "something", "know", "like", "want",
    # The keyword index's own stopwords, so a word it never indexes is not weighed as unmatched.
    "but", "if", "no", "not", "such",
    "i'm", "i've", "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "haven't", "hasn't",
    "can't", "won't", "it's", "that's", "what's", "who's", "there's", "they're", "we're", "you're",
}

# Irregular past forms the stemmer leaves apart from their verb ("kept" vs "keep").
_IRREGULAR = {
    "kept": "keep", "went": "go", "gone": "go", "left": "leave", "made": "make", "took": "take",
    "taken": "take", "found": "find", "led": "lead", "met": "meet", "held": "hold", "gave": "give",
    "given": "give", "saw": "see", "seen": "see", "began": "begin", "begun": "begin", "brought": "bring",
    "told": "tell", "paid": "pay", "sent": "send", "spent": "spend", "won": "win", "built": "build",
    "bought": "buy", "chose": "choose", "chosen": "choose", "came": "come", "knew": "know", "known": "know",
    "rose": "rise", "risen": "rise", "fell": "fall", "fallen": "fall", "wrote": "write", "written": "write",
    "thought": "think", "sought": "seek", "taught": "teach", "understood": "understand", "undertook": "undertake",
    "undertaken": "undertake", "grew": "grow", "grown": "grow", "heard": "hear", "lost": "lose", "ran": "run",
    # Nouns the stemmer keeps apart from their verb ("decision" vs "decide").
    "decision": "decide", "decisions": "decide", "judgement": "judge", "judgements": "judge",
    "judgment": "judge", "judged": "judge", "publication": "publish", "provision": "provide",
    "conclusion": "conclude", "admission": "admit", "inclusion": "include", "extension": "extend",
    "author": "write", "authors": "write", "authored": "write",
    "delivery": "deliver", "deliveries": "deliver", "referral": "refer", "referrals": "refer", "recovery": "recover",
    "failure": "fail", "failures": "fail", "closure": "close", "closures": "close", "departure": "depart", "departures": "depart",
}


def words(text: str) -> list[str]:
    """Every word of a text, lower-cased, as written ("children’s" stays one word)."""
    found: list[str] = _WORD.findall(text.lower())
    return found


_ABBREVIATION_PLURAL = re.compile(r"\b([A-Z]{2,6})s\b")  # "DCSs", "IROs", "PAs": the stemmer keeps "dcss"


def terms(text: str) -> list[str]:
    """Content words of a text, normalised."""
    text = _ABBREVIATION_PLURAL.sub(r"\1", text.replace("’", "'"))
    return [stem(w) for w in words(text) if w not in STOPWORDS]


# What the assistant uses of PyStemmer and pysbd, neither of which ships type hints.
class _Stemmer(Protocol):
    def stemWord(self, word: str) -> str: ...  # noqa: N802 - PyStemmer's name


class _Span(Protocol):
    sent: str
    start: int


class _Segmenter(Protocol):
    def segment(self, text: str) -> list[_Span]: ...


@lru_cache(maxsize=1)
def _stemmer() -> _Stemmer:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    # Held by word: the register stems every word of every passage, most of them many times over.
    stemmed = _stemmer().stemWord(_IRREGULAR.get(word, word))
    # The agent noun meets its verb: "inspector"/"inspection"/"inspected", "director"/"directed";
    # Porter leaves them apart. ("-er" nouns stay: a "Leader" is not a "Lead".)
    if len(stemmed) >= 7 and stemmed.endswith("or"):
        return stemmed[:-2]
    return stemmed


class Normaliser:
    """A stemmer for bm25s that also joins irregular forms, so BM25 and answers agree on words."""

    def stemWords(self, words: list[str]) -> list[str]:  # noqa: N802 - the name bm25s calls
        return [stem(w) for w in words]


# pysbd, made faster without changing a single span: each shortcut below skips only work that cannot change the
# text it works on, and tests/test_text.py checks the spans against pysbd's own on tricky texts.
_SPACES = re.compile(r"\s*")
# The characters other than ASCII letters that `re.IGNORECASE` matches to one (İ, ı, ſ, the Kelvin sign).
_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")
_LETTERS_BEFORE_STOP = re.compile(r"([a-z]+)\.")
# What pysbd's list patterns need: a one-letter word before a full stop ("a. Item"), a number before a full stop
# and a space or bracket ("1. Item"), a number before a bracket ("1) Item"); or its own list marks.
_LETTER_ITEM = re.compile(r"(?<!\S)[a-z](?=\.)")
_NUMBER_ITEM = re.compile(r"\d\.[\s)]|♨")
_NUMBER_PAREN_ITEM = re.compile(r"\d\)|☝")


# What can make pysbd end a sentence before a text's end, or change the text it returns: a full stop, "!" or "?"
# before the last character; a line break; a closing bracket (lists "a) … b)", "(ii) Word"); its own placeholder
# characters; full-width punctuation; a backslash; a closing quote after "-" before a capital (`_QUOTE_END`).
_ONE_SENTENCE_BREAKS = frozenset(
    "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029)\\ǃ∯ȸȹ♨☝∮♬♭ᓰᓱᓳᓴᓷᓸ☉☇☈☄✂⌬ƪ♟♝☏⎋。．！？（）「」"
)
_STOPS = re.compile(r"[.!?]")
_QUOTE_END = re.compile(r"[!?.-][\"'“”]\s[A-Z]")  # pysbd's QUOTATION_AT_END_OF_SENTENCE_REGEX


def _one_sentence(text: str) -> bool:
    """True when pysbd would find `text` to be one sentence, all of it: a text with no sentence break but a
    last full stop, nothing that pysbd takes for a list or a quotation, and no space around it.
    Most of a report's lines and list items are such, and each cost pysbd as much as a paragraph."""
    return (
        len(text) >= 2
        and not text[0].isspace()
        and not text[-1].isspace()
        and text[0] not in "'\"“‘(["
        and text[-1] not in "!?"
        and not _STOPS.search(text, 0, len(text) - 1)
        and _ONE_SENTENCE_BREAKS.isdisjoint(text)
        and not _QUOTE_END.search(text)
    )


@lru_cache(maxsize=1)
def _segmenter() -> _Segmenter:
    """pysbd's English segmenter (loads its rules once), with the shortcuts above."""
    import pysbd
    from pysbd.languages import Language
    from pysbd.lists_item_replacer import ListItemReplacer
    from pysbd.processor import Processor
    from pysbd.utils import Text, TextSpan

    # pysbd passes pattern strings to `re` on every call; past the re module's cache of 512
    # patterns they are recompiled over and over, which was half of segmentation time at ingest.
    if getattr(re, "_MAXCACHE", 4096) < 4096:
        re._MAXCACHE = 4096  # type: ignore[attr-defined]

    english: Any = Language.get_language_code("en")
    # pysbd's abbreviations are lower-case words ("dr", "etc") but for a few with inner dots ("e.g"), checked always.
    every = english.Abbreviation.ABBREVIATIONS
    dotted = {i for i, a in enumerate(every) if not (a.isascii() and a.isalpha() and a.islower())}
    place = {a: i for i, a in enumerate(every) if i not in dotted}
    longest = max(map(len, every))

    class Replacer(english.AbbreviationReplacer):
        def search_for_abbreviations_in_string(self, text: str) -> str:
            """pysbd's own, skipping an abbreviation no full stop follows: all it does is mark the full stop after
            one (as `re.IGNORECASE` matched it: an ASCII word, save where the text holds one of `_FOLDS_TO_ASCII`).
            pysbd ran two regexes for every abbreviation inside a word ("is", "p", "man"), most of its time."""
            lowered = text.lower()
            abbreviations: list[str] = self.lang.Abbreviation.ABBREVIATIONS
            if _FOLDS_TO_ASCII.isdisjoint(text):
                # The words a full stop follows (every ending of the letters before each), in pysbd's order.
                before_stop = {run[-k:] for run in _LETTERS_BEFORE_STOP.findall(lowered) for k in range(1, min(len(run), longest) + 1)}
                abbreviations = [every[i] for i in sorted(dotted.union(place[w] for w in before_stop if w in place))]
            for abbr in abbreviations:
                stripped = abbr.strip()
                if stripped not in lowered:
                    continue
                abbrev_match = re.findall(rf"(?:^|\s|\r|\n){stripped}", text, flags=re.IGNORECASE)
                if not abbrev_match:
                    continue
                next_word_start = r"(?<={" + str(re.escape(stripped)) + "} ).{1}"
                char_array = re.findall(next_word_start, text)
                for ind, match in enumerate(abbrev_match):
                    text = self.scan_for_replacements(text, match, ind, char_array)
            return text

    class Lists(ListItemReplacer):
        """pysbd's list finder, skipping each kind of list the text holds no sign of (whose patterns find nothing)."""

        def add_line_breaks_for_alphabetical_list_with_periods(self, roman_numeral: bool = False) -> str:
            if not _LETTER_ITEM.search(self.text):
                return str(self.text)
            return str(super().add_line_breaks_for_alphabetical_list_with_periods(roman_numeral))

        def add_line_breaks_for_alphabetical_list_with_parens(self, roman_numeral: bool = False) -> str:
            if ")" not in self.text:
                return str(self.text)
            return str(super().add_line_breaks_for_alphabetical_list_with_parens(roman_numeral))

        def format_numbered_list_with_periods(self) -> None:
            if _NUMBER_ITEM.search(self.text):
                super().format_numbered_list_with_periods()

        def format_numbered_list_with_parens(self) -> None:
            if _NUMBER_PAREN_ITEM.search(self.text):
                super().format_numbered_list_with_parens()

    class Processing(Processor):
        text: str

        def process(self) -> list[str] | str:
            """pysbd's own, with `Lists` for its list finder."""
            text: str = self.text
            if not text:
                return text
            self.text = text.replace("\n", "\r")
            self.text = Lists(self.text).add_line_break()
            self.replace_abbreviations()
            self.replace_numbers()
            self.replace_continuous_punctuation()
            self.replace_periods_before_numeric_references()
            self.text = Text(self.text).apply(
                self.lang.Abbreviation.WithMultiplePeriodsAndEmailRule, self.lang.GeoLocationRule, self.lang.FileFormatRule
            )
            sentences: list[str] = self.split_into_segments()
            return sentences

    class English(english):
        AbbreviationReplacer = Replacer
        Processor = Processing

    class Segmenter(pysbd.Segmenter):
        def sentences_with_char_spans(self, sentences: list[str]) -> list[TextSpan]:
            """pysbd's own, with `str.find` where it compiled a pattern of each sentence's text followed by spaces
            (one no cache holds: a third of segmentation time). Same matches, in the same order."""
            text: str = self.original_text
            spans: list[TextSpan] = []
            prior_end = 0
            for sentence in sentences:
                if not sentence:
                    return super().sentences_with_char_spans(sentences)  # never seen; pysbd's empty-match rules
                at = text.find(sentence)
                while at >= 0:
                    end = _SPACES.match(text, at + len(sentence)).end()  # type: ignore[union-attr]
                    if end > prior_end:
                        spans.append(TextSpan(text[at:end], at, end))
                        prior_end = end
                        break
                    at = text.find(sentence, end)  # re.finditer goes on after the match
            return spans

    segmenter = Segmenter(language="en", clean=False, char_span=True)
    segmenter.language_module = English
    return segmenter


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, without the whitespace around it."""
    return list(_sentence_spans(text))


@lru_cache(maxsize=16384)
def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    # Held by text: a passage's lines are segmented for its units and again, as the same text, by the register.
    if _one_sentence(text):
        return ((0, len(text)),)
    spans: list[tuple[int, int]] = []
    for piece in _segmenter().segment(text):
        sentence = piece.sent.strip()
        if sentence:
            start = piece.start + len(piece.sent) - len(piece.sent.lstrip())
            spans.append((start, start + len(sentence)))
    return tuple(spans)


def rough_sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of `text` ending in '.', '!' or '?' before a capital or a digit."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


class StandardWording:
    """Sentences of a library's standard wording (lower-cased, spaces collapsed), found in a unit that is one
    of them or that ends or begins with one: a PDF glues its back page's "Any complaints about the inspection
    …" onto the line before ("Team inspectors: …"), which no full stop parts."""

    AFFIX_WORDS = 8  # shorter standard lines ("good", "inspection report") are words in any sentence

    def __init__(self, sentences: Collection[str]) -> None:
        self.sentences = frozenset(sentences)
        self._ends: dict[str, list[str]] = {}
        self._starts: dict[str, list[str]] = {}
        for sentence in self.sentences:
            words = sentence.split()
            if len(words) >= self.AFFIX_WORDS:
                self._ends.setdefault(" ".join(words[-3:]), []).append(sentence)
                self._starts.setdefault(" ".join(words[:3]), []).append(sentence)

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        if text in self.sentences:
            return True
        words = text.split()
        return any(text.endswith(s) for s in self._ends.get(" ".join(words[-3:]), ())) or any(
            text.startswith(s) for s in self._starts.get(" ".join(words[:3]), ())
        )
