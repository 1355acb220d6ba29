"""Questions as members type them: typos mended against the library's own words, abbreviations spelled out.

The vocabulary is the library's (counted when the BM25 index is built: assistant/index/vocabulary.py),
so a correction is always a word some report uses; the glossary holds the sector's abbreviations people type but reports
spell out ("RI", "DCS"), plus those a report defines itself ("multi-agency safeguarding hub (MASH)").
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from assistant.index.vocabulary import WORD
from assistant.text import STOPWORDS

# Children's services abbreviations and the words reports use for them.
GLOSSARY = {
    "ri": "requires improvement",
    "dcs": "director of children's services",
    "cla": "children looked after",
    "lac": "looked after children",
    "cic": "children in care",
    "mash": "multi-agency safeguarding hub",
    "la": "local authority",
    "ilacs": "inspection of local authority children's services",
    "sif": "single inspection framework",
    "lscb": "local safeguarding children board",
    "iro": "independent reviewing officer",
    "iros": "independent reviewing officers",
    "pa": "personal adviser",
    "pas": "personal advisers",
    "neet": "not in education, employment or training",
    "ehcp": "education, health and care plan",
    "uasc": "unaccompanied asylum-seeking children",
    "lado": "local authority designated officer",
    "cp": "child protection",
    "cin": "children in need",
    "jtai": "joint targeted area inspection",
    "hmi": "His Majesty's Inspector",
    "sw": "social worker",
    "sws": "social workers",
}
# Everyday words for what reports name formally: replaced, as a typo is mended, so both search and the
# weighing of an answer's words read the report's word.
EVERYDAY = {
    "kids": "children", "kid": "child", "youngsters": "young people", "mums": "mothers", "dads": "fathers",
    # A question word typed with its "is" glued on ("whens the next inspection"): the question it asks.
    "wats": "whats", "whens": "when's", "wheres": "where's", "hows": "how's", "whys": "why's", "whos": "who's",
}
# The sector's names for one thing: a question using one also searches the others.
SAME_THING = [("children in care", "looked after children", "children looked after")]
COMMON_WORDS = 150  # the library's most used words: what every report of it says


# Worked out once per vocabulary (held, so its identity is not reused): a question mends several times.
_common: dict[int, tuple[Mapping[str, int], frozenset[str]]] = {}


def _common_words(vocab: Mapping[str, int]) -> frozenset[str]:
    """The library's most used words (none for a small library, where counts say little)."""
    if len(vocab) < 20 * COMMON_WORDS:
        return frozenset()
    held = _common.get(id(vocab))
    if held is not None and held[0] is vocab:
        return held[1]
    common = frozenset(heapq.nlargest(COMMON_WORDS, vocab, key=vocab.__getitem__))
    _common.clear()  # one library at a time: the previous vocabulary is let go
    _common[id(vocab)] = (vocab, common)
    return common


def _correct(word: str, vocab: Mapping[str, int]) -> str | None:
    """The library word one or two edits away that the library uses most, if the word is not its own."""
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import extract

    if word.endswith("s") and word[:-1] in vocab:
        return None  # "croydons": a possessive without its apostrophe, not a typo
    limit = 1 if len(word) < 7 else 2
    matches = extract(word, list(vocab), scorer=Levenshtein.distance, score_cutoff=limit, limit=20)
    if not matches:
        return None
    best = min(matches, key=lambda m: (m[1], -vocab[m[0]]))
    return str(best[0])


@lru_cache(maxsize=1024)
def _stopword(word: str) -> str | None:
    """The question word the typed one slipped from by a letter left out ("wat", "abut") or two swapped ("teh");
    a longer one first. A letter added or changed ("care", "dogs") may be a word of its own, and stays."""

    def slipped(w: str) -> bool:
        if len(w) == len(word) + 1:
            return any(w[:i] + w[i + 1 :] == word for i in range(len(w)))
        return len(w) == len(word) and any(w[:i] + w[i + 1] + w[i] + w[i + 2 :] == word for i in range(len(w) - 1))

    near = [w for w in STOPWORDS if w.isalpha() and slipped(w)]
    return max(near, key=lambda w: (len(w), w)) if near else None


# A word cut short ("exec", "info", "govt" aside) is the library's word it begins, when that word (with the words
# sharing its stem: "information", "informed") makes up most of the words so begun and is used often enough.
COMPLETED_SHARE = 0.8
COMPLETED_MIN = 5
_completions: dict[tuple[str, int], str | None] = {}


def _completed(word: str, vocab: Mapping[str, int]) -> str | None:
    """The library word a short one cuts off ("exec": "executive"), or None when the library says no one word."""
    key = (word, id(vocab))
    if key not in _completions:
        from assistant.text import stem

        if len(_completions) > 4096:
            _completions.clear()
        groups: dict[str, list[str]] = {}
        for candidate in vocab:
            if len(candidate) > len(word) + 1 and candidate.startswith(word) and candidate.isalpha():
                groups.setdefault(stem(candidate), []).append(candidate)
        counts = {s: sum(vocab[w] for w in words) for s, words in groups.items()}
        total = sum(counts.values())
        best = max(counts, key=counts.__getitem__, default=None)
        found = None
        if best is not None and counts[best] >= COMPLETED_MIN and counts[best] >= COMPLETED_SHARE * total:
            found = max(groups[best], key=vocab.__getitem__)
        _completions[key] = found
    return _completions[key]


_long: dict[int, tuple[Mapping[str, str], list[tuple[str, str]]]] = {}


def _long_forms(abbreviations: Mapping[str, str]) -> list[tuple[str, str]]:
    """(short, " long form in plain lower-case words ") for every abbreviation of three letters or more, once per library."""
    held = _long.get(id(abbreviations))
    if held is not None and held[0] is abbreviations:
        return held[1]
    forms = [
        (short, f" {re.sub(r'[^a-z]+', ' ', long.lower()).strip()} ")
        for short, long in {**abbreviations, **GLOSSARY}.items()
        if len(short) > 2
    ]
    _long.clear()
    _long[id(abbreviations)] = (abbreviations, forms)
    return forms


def mend_question(
    question: str, vocab: Mapping[str, int], abbreviations: Mapping[str, str] | None = None, *, expand: bool = True
) -> str:
    """The question with typos mended; with `expand`, abbreviations and their long forms added (for searching)."""
    extra: list[str] = []
    glossary = {**(abbreviations or {}), **GLOSSARY}

    def mend(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower().strip("'’-")
        if lower in EVERYDAY and lower not in vocab:
            return EVERYDAY[lower]
        # "RI", "LA": two letters are an abbreviation only in capitals; "it" is a word.
        if expand and lower in glossary and (word.isupper() or (len(lower) > 2 and lower not in STOPWORDS)):
            if telling(glossary[lower]):
                extra.append(glossary[lower])
            return word
        if vocab and len(lower) in (3, 4) and lower.isalpha() and not word.isupper() and lower not in vocab and lower not in STOPWORDS:
            # "wat did ofstd say abut …": a short word the library lacks, a slip from a word of the question's frame,
            # must not count as the rare word it seems; "chief exec": a word cut short, the library's word it begins.
            return _stopword(lower) or (None if lower in glossary else _completed(lower, vocab)) or word
        if not vocab or len(lower) < 5 or lower in vocab or lower in STOPWORDS or not lower.isalpha():
            return word
        fixed = _correct(lower, vocab)
        return fixed if fixed else word

    common = _common_words(vocab)

    def telling(long: str) -> bool:
        # A long form made only of words every report uses ("inspection of local authority children's
        # services" for ILACS) tells search nothing, and drowns the question's own words in its meaning.
        words = [w for w in re.findall(r"[a-z]+", long.lower()) if w not in STOPWORDS and len(w) > 2]
        return not common or not words or any(w not in common for w in words)

    mended = WORD.sub(mend, question)
    # The long form typed, the short one printed: "multi agency safeguarding hub" finds "the MASH".
    flat = " " + re.sub(r"[^a-z]+", " ", mended.lower()) + " "
    for short, long in _long_forms(abbreviations or {}) if expand else ():
        if long in flat:
            extra.append(short.upper())
    for names in SAME_THING if expand else ():
        if any(f" {name} " in flat for name in names):
            extra += [name for name in names if f" {name} " not in flat]
    return f"{mended} ({'; '.join(dict.fromkeys(extra))})" if extra else mended


# The stemmed words of each long form, per library: a question weighs them on every search.
_stemmed: dict[int, tuple[Mapping[str, str], list[tuple[list[str], list[str]]]]] = {}


def standing_for(words: list[str], abbreviations: Mapping[str, str], stem_words: Callable[[str], list[str]]) -> list[str]:
    """The keyword search's words, an abbreviation asked beside its long form ("multi agency safeguarding hub
    (MASH)", as mend_question adds one to the other) counted once for each word of that form: a passage that
    prints only "the MASH" says every one of them, and otherwise ranks below any that spells the form out.
    `stem_words` splits and stems as the keyword index does."""
    held = _stemmed.get(id(abbreviations))
    if held is None or held[0] is not abbreviations:
        pairs = [(stem_words(short), stem_words(long)) for short, long in _long_forms(abbreviations)]
        held = (abbreviations, [(s, long) for s, long in pairs if len(s) == 1 and len(long) > 1])
        _stemmed.clear()
        _stemmed[id(abbreviations)] = held
    asked = set(words)
    extra: list[str] = []
    for short, long in held[1]:
        if short[0] in asked and asked.issuperset(long):
            extra += short * (len(long) - 1)
    return words + extra
