"""The library's own words and the abbreviations its reports define, counted when the keyword index is built.

Question mending (assistant/retrieval/spelling.py) corrects typos against these words, so a
correction is always a word some report uses.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# A word as the library and the questions both have it: letters, inner apostrophes and hyphens.
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SHORT = re.compile(r"\s\([A-Z]{2,6}s?\)")
_DEFINED = re.compile(r"((?:[A-Za-z][\w'’-]*[ -]){1,7}?[A-Za-z][\w'’-]*)\s+\(([A-Z]{2,6}s?)\)")


_MINOR = frozenset({"of", "and", "for", "the", "in", "to", "on", "&"})


def _spellings(words: list[str]) -> set[str]:
    """The ways the words' initials may spell an abbreviation, lower case."""
    major = [w for w in words if w.lower() not in _MINOR]
    return {
        "".join(part[0] for word in chosen for part in (word.split("-") if split else [word]) if part).lower()
        for chosen in (words, major)
        for split in (False, True)
    }


def vocabulary(texts: Iterable[str]) -> Counter[str]:
    """Lower-case words of the library and how often each stands (the corrections' dictionary)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(word.lower().strip("'’-") for word in WORD.findall(text))
    return counts


def defined_abbreviations(texts: Iterable[str]) -> dict[str, str]:
    """Abbreviations a report defines in passing: "multi-agency safeguarding hub (MASH)"."""
    found: dict[str, Counter[str]] = {}
    for text in texts:
        # The full pattern backtracks over every word of a text; most texts define nothing.
        if not _SHORT.search(text):
            continue
        for match in _DEFINED.finditer(text):
            words, short = match.group(1).split(), match.group(2)
            letters = short.rstrip("s").lower() if short.endswith("s") and len(short) > 2 else short.lower()
            # Keep the fewest trailing words whose initials spell it: hyphenated parts may count one
            # letter each ("multi-agency safeguarding hub"), and minor words may count none ("Director of
            # Children's Services").
            for size in range(1, min(len(words), len(letters) + 3) + 1):
                tail = words[-size:]
                if tail[0].lower() in _MINOR:
                    continue
                if letters in _spellings(tail):
                    found.setdefault(short.lower(), Counter())[" ".join(tail).lower()] += 1
                    break
    return {short: forms.most_common(1)[0][0] for short, forms in found.items()}
