"""Kinds of question (when, who, number, list, …), whether a sentence holds the kind of fact asked
for, and which questions the register settles rather than the passages."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from functools import lru_cache

from assistant.councils import gazetteer
from assistant.register.facts import asks_for_metric
from assistant.retrieval.spelling import GLOSSARY
from assistant.text import stem as _stem
from assistant.text import terms

_MONEY_WORDS = r"\b(?:cost|costs|budget|salary|salaries|spend|spending|funding|funded|price|fee|fees|grant)\b"
_ASKS_AHEAD = re.compile(r"\b(?:next|upcoming|forthcoming|will)\b", re.I)
_FREQUENCY = re.compile(r"\b(?:quarterly|monthly|weekly|daily|annually|yearly|fortnightly|every|each (?:week|month|quarter|year)|times a|per (?:week|month|year)|regular(?:ly)?)\b", re.I)

_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("when", re.compile(r"^\s*(?:and\s+)?when(?:s|['’]s)?\b|\bwhat (?:date|day|month|year|time)\b|\bwhich (?:date|month|year)\b|\bhow soon\b|\bby when\b|\bsince when\b|\bwhen (?:was|is|were|did|does|will|are)\b|\bdates\b|\bdate\s*\??\s*$|\bdue\b.*\?$", re.I)),
    ("who", re.compile(r"^\s*(?:and\s+)?(?:who|whom|whose|who['’]?s)\b|\bwhat(?:'s|’s|\s+is|\s+was|\s+are|\s+were)\s+(?:their|his|her|the\s+(?:\w+\s+)?\w+['’]s)\s+names?\b|\bwhich (?:officer|officers|person|people|director|member)\b|\bname of\b|\b(?:called|named)\s*(?:now|today|these days)?\s*\??\s*$|\b(?:inspector|director|chair|chief executive|leader|commissioner|manager)s?\s*\??\s*$", re.I)),
    ("number", re.compile(r"\bhow (?:many|much|long|far|often|high|low|big|large)\b|\bwhat (?:percentage|proportion|share|number|figure|rate)\b|\b(?:rates?|percentages?|numbers?|proportions?)\b|%|" + _MONEY_WORDS, re.I)),
    ("judgement", re.compile(r"\b(?:grade|graded|judge|judgement|judgment|judged|rated|rating|verdict|outcome)\b", re.I)),
    ("list", re.compile(r"\bwhat (?:areas|priorities|strengths|weaknesses|actions|recommendations|improvements|measures|changes|findings|examples)\b|\bwhich (?:areas|priorities)\b|\blist\b|\bwhat (?:are|were) the\b|\bneeds? (?:to )?improv\w*|\bto improve\b|\bareas? (?:for|of) (?:improvement|strength)\b|\brecommend(?:s|ed|ations?)?\b|\b(?:strengths|weaknesses)\b", re.I)),
    ("commitment", re.compile(r"\b(?:plan(?:ned|ning|s)? to|planned|planning|promis\w*|commit\w*|will|going to|intend\w*|scheduled|next|upcoming|future|due to|aim(?:s|ed|ing)?|targets?|expect(?:s|ed|ing)? to)\b", re.I)),
]
COMPARE = re.compile(r"\b(?:compare|comparison|versus|vs\.?|differ|each council|both)\b", re.I)

MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?(?:\s*(?:/|-|and|to)\s*\d{{1,2}}(?:st|nd|rd|th)?)?\s+{MONTH}(?:\s+\d{{4}})?"
    rf"|{MONTH}\s+\d{{4}}|{MONTH}\b|(?:early|late|end|start|beginning|middle|first half|second half|spring|summer|autumn|winter)\s+(?:of\s+)?(?:the\s+)?(?:\d{{4}}|year)"
    rf"|\b(?:19|20)\d{{2}}\b|\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?|\bQ[1-4]\b)",
)
_DATE_ANY_CASE = re.compile(
    r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:january|february|march|april|may|june|july|august|september|october|november|december)\b", re.I
)
YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_REFERENCE = re.compile(
    r"\b(?:appendix|appendices|annex|no\.|number|para(?:graph)?|item|page|section|table|extension|tel)\s*\d+(?:\s*(?:&|and|,)\s*\d+)*|\b\d{3,}[\s/]\d{3,}\b",
    re.I,
)
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|half|quarter|dozen)\b", re.I)
_MONEY = re.compile(r"£\s?\d|\d\s?(?:k|m|bn|million|billion|thousand)\b|\bpounds\b", re.I)
_GRADE = re.compile(r"\b(?:inadequate|requires? improvement(?: to be good)?|good|outstanding)\b", re.I)
# Wording that looks ahead ("to be good" is the end of a grade's name, "requires improvement to be good", not a plan).
FUTURE = re.compile(
    r"\b(?:will|shall|is to|are to|to be(?! good\b)|going to|planned|planning|plans? to|scheduled|expected|due|intend\w*|"
    r"aim\w* to|aim(?:s|ed|ing)? (?:for|at)|targets?(?: of)?|expects? to|(?:approved|agreed|allocated|committed) (?:to|for)|hop(?:e|ing) to|next|forthcoming|upcoming|being (?:completed|developed|launched|introduced|prepared)|from (?:April|May|June|July|September|January)\s+\d{4})\b",
    re.I,
)
_NAME = re.compile(r"\b([A-Z][a-z]+(?:-[a-z]+)?(?:[- ](?:Mc|Mac|O')?[A-Z][a-z]+){1,2})\b")
_ROLE_WORDS = {
    "chief", "executive", "director", "leader", "member", "members", "cabinet", "officer", "officers",
    "commissioner", "adviser", "advisor", "manager", "chair", "chairman", "head", "lead", "inspector",
    "minister", "councillor", "mayor", "secretary", "board",
}
_NOT_NAMES = {
    "County", "Council", "Children", "Services", "Ofsted", "Department", "Education", "Cabinet", "Member",
    "Director", "Executive", "Chief", "Board", "Panel", "Committee", "Improvement", "Plan", "Youth",
    "Social", "Work", "Offer", "Family", "Front", "Door", "Care", "Trust", "Programme", "Report",
    "Scrutiny", "Officers", "Officer", "Overview", "Commissioner", "Adviser", "Leader", "Business",
    "Manager", "Lead", "Senior", "Assistant", "Safeguarding", "Partner", "Practice", "Monitoring",
    "Visit", "Review", "The", "Our", "His", "Her", "Mr", "Mrs", "Ms", "Councillor", "Local", "Authority",
}
_NUMERIC_KIND = re.compile(r"\b(?:rate|percentage|proportion|share|per ?cent)\b", re.I)


# ---------------------------------------------------------------- question kinds


def inner_kind(question: str) -> str:
    """The kind of a comparison's question, asked of each council."""
    return question_kind(COMPARE.sub("", question))


# A grade the question states as given ("strengths despite the inadequate grade"): context, not what it asks.
_GIVEN_GRADE = re.compile(
    r"\b(?:the|an?|its|their|this|that|despite|after|with)\s+(?:inadequate|requires?\s+improvement(?:\s+to\s+be\s+good)?|good|outstanding)"
    r"\s+(?:grade|rating|judge?ment|verdict|outcome)s?\b",
    re.I,
)


def without_given_grade(question: str) -> str:
    """The question less a grade it states as given ("despite the inadequate grade")."""
    return _GIVEN_GRADE.sub(" ", question)


def question_kind(question: str, councils_named: int = 0) -> str:
    """compare, when, who, number, judgement, list, commitment or fact: the first that fits."""
    if councils_named >= 2 or COMPARE.search(question):
        return "compare"
    question = without_given_grade(question)
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return "fact"


# How members name what inspectors found lacking or asked for, and the words reports head such a list with.
_SHORTCOMINGS = frozenset(terms("problems weaknesses concerns issues failings shortcomings fixing wrong criticisms recommendations"))
_IMPROVE = frozenset(terms("needs improve improvement"))


def heading_terms(asked: set[str]) -> set[str]:
    """A question's terms with those of the heading it means: "the main problems", "any recommendations"
    ask for what a report lists under "What needs to improve", as do "areas for improvement"."""
    return asked | (_IMPROVE if asked & (_SHORTCOMINGS | _IMPROVE) else set())


# ---------------------------------------------------------------- does a sentence hold the fact asked for


@lru_cache(maxsize=1)
def role_stems() -> frozenset[str]:
    """Stems of the words that name a role (director, chair, inspector, …)."""
    return frozenset(_stem(r) for r in _ROLE_WORDS)


def holds_kind(text: str, kind: str, question: str, role_terms: set[str], own_councils: Collection[str] = ()) -> bool:
    """Does the sentence hold the kind of fact the question asks for?

    `role_terms`: the roles a "who" question names; `own_councils`: the report's councils, which name no person.
    """
    if kind == "when":
        # "When is the next inspection?": a date the report looks forward to, not the dates of the one it reports.
        ahead = not _ASKS_AHEAD.search(question) or FUTURE.search(text)
        return bool(DATE.search(text)) and _within_bound(text, question) and bool(ahead)
    if kind == "number":
        undated = YEAR.sub(" ", _DATE_ANY_CASE.sub(" ", DATE.sub(" ", text)))
        if re.search(r"\bhow much\b|" + _MONEY_WORDS, question, re.I):
            return bool(_MONEY.search(undated))
        if re.search(r"\bhow often\b", question, re.I):
            return bool(_FREQUENCY.search(text))
        if _NUMERIC_KIND.search(question):
            return bool(re.search(r"\d\s?%|per ?cent|\bout of\b|\bin every\b|\bratio\b", undated, re.I))
        undated = _REFERENCE.sub(" ", undated)
        if re.search(r"\bhow long\b", question, re.I):
            # "for 18 months", or "in post since August 2023": a duration or its start.
            return bool(
                re.search(rf"(?:{_NUMBER.pattern})\w*\s+(?:years?|months?|weeks?|days?)", undated, re.I)
                or re.search(rf"\bsince\s+(?:\d{{1,2}}\s+)?{MONTH}", text)
            )
        focus = _counted(question)
        if not focus and re.search(r"\bhow many\b", question, re.I):
            # "Did they recruit more social workers? How many?": what is counted is named elsewhere in the question.
            focus = set(terms(YEAR.sub(" ", question))) - _NOT_COUNTED
        if focus:
            return _number_near(undated, focus)
        return bool(_NUMBER.search(undated))
    if kind == "who":
        # "What is the front door called?": a name, which a report may give as a term it defines ("the integrated front door (IFD)").
        # "Who runs children's services?" (no role named): a person, or an organisation ("… Children's Trust (NCT)").
        return (
            _names_role(text, role_terms, own_councils)
            or bool(_NAME_ASKED.search(question) and _DEFINED_TERM.search(text))
            or bool(not role_terms and not _PERSON_ASKED.search(question) and _ORGANISATION.search(text))
        )
    if kind == "judgement":
        return bool(_GRADE.search(text))
    if kind == "commitment":
        return bool(FUTURE.search(text))
    if kind == "fact" and (subject := defined_subject(question)):
        # "What is Family Connect?": the sentence that says what it is, not every one that mentions it.
        return defines(text, subject)
    return True


# "What is Family Connect (in Warwickshire)?", "what's the MASH", "what does Next Steps do": a thing asked to be defined.
_DEFINITION_ASKED = re.compile(
    r"^\s*(?:and\s+|so\s+)?what(?:['’]s|\s+is|\s+are|\s+was|\s+were|\s+does|\s+do)\s+(?:the\s+|a\s+|an\s+)?"
    r"(?P<subject>[\w'’-]+(?:\s+[\w'’-]+){0,3}?)(?:\s+(?:do|mean|stand\s+for))?"
    r"(?:\s+(?:in|at|for|of|by|from)\s+.+)?\s*\??\s*$",
    re.I,
)
# How reports define a thing: "a new front door called Family Connect", "Next Steps, the care leavers' service",
# "The MASH is a multi-agency team".
_DEFINING = r"(?:\b(?:called|known\s+as|named|branded|titled)\s+(?:the\s+)?['‘’\"]?{x}\b|\b{x}['’\"]?\s*(?:\([^)]{{1,40}}\)\s*)?(?:,\s*(?:a|an|the|our|which|who)\b|\s+(?:is|are|was|were|acts\s+as|serves\s+as|provides|offers|brings)\s+(?:a|an|the|our)\b))"


def defined_subject(question: str) -> str | None:
    """What a "what is X?" question asks to have defined; None for other questions."""
    match = _DEFINITION_ASKED.match(question)
    if not match:
        return None
    subject = match.group("subject")
    words = terms(subject)
    return subject if words and len(words) == len(subject.split()) else None  # "what is the" + stopwords: no subject


def defines(text: str, subject: str) -> bool:
    """Whether a sentence says what `subject` is."""
    x = r"\s+".join(re.escape(w) for w in subject.split())
    return re.search(_DEFINING.format(x=x), text, re.I) is not None


_BOUND = re.compile(
    rf"\b(?P<rel>after|following|since|later\s+than|before|prior\s+to|earlier\s+than)\s+(?:the\s+|its\s+|their\s+)?"
    rf"(?:(?P<month>{MONTH})\w*\s+)?(?P<year>(?:19|20)\d\d)\b",
    re.I,
)
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def _within_bound(text: str, question: str) -> bool:
    """A "when … after December 2023?" is answered by a date after it, never by an earlier one the sentence recalls."""
    bound = _BOUND.search(question)
    if bound is None:
        return True
    month = _MONTHS.index(bound.group("month")[:3].lower()) + 1 if bound.group("month") else 0
    limit = (int(bound.group("year")), month)
    later = bound.group("rel").lower() in ("after", "following", "since") or bound.group("rel").lower().startswith("later")
    found: list[tuple[int, int]] = []
    for match in re.finditer(rf"(?:\b({MONTH})\w*\s+)?\b((?:19|20)\d\d)\b", text):
        found.append((int(match.group(2)), _MONTHS.index(match.group(1)[:3].lower()) + 1 if match.group(1) else 0))
    if not found:
        return False  # a date within the bound names its year; "Jan" of "Jan Edwards" is no date after December 2023
    if later:
        return any(y > limit[0] or (y == limit[0] and (not m or not limit[1] or m > limit[1])) for y, m in found)
    return any(y < limit[0] or (y == limit[0] and (not m or not limit[1] or m < limit[1])) for y, m in found)


_NAME_ASKED = re.compile(r"\b(?:called|named)\b", re.I)  # a thing's name; "their name" asks for a person
_DEFINED_TERM = re.compile(r"\b[a-z][\w'’-]*(?:\s+[\w'’-]+){0,5}\s+\([A-Z][A-Za-z]{1,6}\)")
# An organisation's name: capitalised words ending in what it is, or given with its short form ("Together for Children (TfC)").
_ORGANISATION = re.compile(
    r"\b(?:[A-Z][\w’'&-]*\s+){1,5}(?:Trust|Partnership|Company|Limited|Ltd|Foundation|Alliance|CIC)\b"
    r"|\b[A-Z][\w’'-]*(?:\s+(?:for|of|and|the|[A-Z][\w’'-]*)){1,5}\s+\([A-Z][A-Za-z]{1,6}\)"
)
_PERSON_ASKED = re.compile(r"\b(?:their|his|her)\s+names?\b", re.I)
_NOT_COUNTED = frozenset(terms("how many more much number total did does do have has were was"))


def _counted(question: str) -> set[str]:
    """Stems of what a 'how many' question counts ('how many agency social workers' → agency, social, worker)."""
    match = re.search(r"\bhow many (?:of (?:the|our|their) )?((?:[\w'-]+\s+){0,3}?[\w'-]+?)\s+(?:are|is|does|did|do|have|has|were|was|will|can|in|at|on|for)\b", question, re.I)
    if not match:
        return set()
    counted = set(terms(match.group(1)))
    # An abbreviation counted in the plural ("how many DCSs") is counted in its long form too ("four directors of …").
    for short in re.findall(r"\b([A-Z]{2,6})s?\b", match.group(1)):
        counted |= {short.lower(), *terms(GLOSSARY.get(short.lower(), ""))}
    return counted


def _number_near(text: str, focus: set[str]) -> bool:
    """A number stands within a few words before a word of what is counted."""
    tokens = re.findall(r"[\w%'’.-]+", text)
    stems = [terms(t)[0] if terms(t) else "" for t in tokens]
    numeric = (i for i, t in enumerate(tokens) if _NUMBER.fullmatch(t) or re.fullmatch(r"\d[\d,.]*%?", t))
    return any(any(stem in focus for stem in stems[i + 1 : i + 6]) for i in numeric)


def _looks_like_a_name(text: str, match: re.Match[str]) -> bool:
    """Capitalised words that may be a person: "Sarah Urding", "Mr Coughlan". A sentence's first word is
    capitalised whatever it is, so "Since Ofsted" (one word of a name's kind, opening the sentence) is none."""
    words = match.group(1).replace("-", " ").split()
    if words[0] in _NOT_NAMES and words[0] not in _TITLES:
        return False
    own = [w for w in words if w not in _NOT_NAMES]
    opens = not text[: match.start()].strip(" •-\t\n\uf06e\uf0b7")
    return len(own) >= 2 or (len(own) == 1 and (not opens or words[0] in _TITLES))


_TITLES = frozenset({"Mr", "Mrs", "Ms", "Dr", "Councillor", "Cllr", "Sir", "Dame", "Professor"})


def _names_role(text: str, role_terms: set[str], own: Collection[str] = ()) -> bool:
    """A person's name stands in the sentence, next to the role asked about (if any)."""
    # The council a report is about is no person ("Inspection of Derby City …"); another council may be the answer.
    places = [(m.start, m.end) for m in gazetteer().find(text, case_sensitive=True) if m.council.name in own]
    names = [
        m for m in _NAME.finditer(text)
        if _looks_like_a_name(text, m)
        and not any(start < m.end() and m.start() < end for start, end in places)  # "Derby City" is no person
    ]
    if not names:
        return False
    if not role_terms:
        return True
    words = [(m.start(), m.end(), terms(m.group(0))[0] if terms(m.group(0)) else "") for m in re.finditer(r"[A-Za-z]+", text)]
    role_positions = [i for i, (_, _, w) in enumerate(words) if w in role_terms]
    if not role_positions:
        return False
    for name in names:
        name_index = next((i for i, (s, _, _) in enumerate(words) if s >= name.start()), None)
        if name_index is None:
            continue
        for pos in role_positions:
            low, high = sorted((pos, name_index))
            between = {w for _, _, w in words[low + 1 : high]}
            other_roles = role_stems() - role_terms
            if high - low <= 6 and not (between & other_roles):
                return True
    return False


# ---------------------------------------------------------------- questions the register settles

_YES_NO = re.compile(r"^\s*(?:and\s+)?(?:has|have|had|did|does|do|is|are|was|were|will|can)\b", re.I)
_PROMISE_WORDS = re.compile(r"\b(?:promis\w*|commit\w*|pledg\w*)\b", re.I)
# Words of a question the register answers: grades, the judged areas, time, change, promises.
_REGISTER_WORDS = (
    "grade graded grades rating ratings rated rate judgement judgements judgment judged judge ofsted ilacs sif "
    "inspection inspections inspected overall effectiveness outstanding good requires require improvement inadequate "
    "change changed changes improve improved better worse since compare comparison versus latest current now recent "
    "year years time over history trend get got kept keep still which councils council authorities list all "
    "care leavers leaver children help protection need leaders leadership impact adoption performance lscb local "
    "safeguarding board looked after permanence experiences progress social work practice families "
    "promise promised promises commitment commitments committed pledge next visit monitoring focused planned due "
    "scheduled deliver delivered done overdue status between both outcome outcomes result results"
)
# A council's own inspections set side by side: the words that frame it are no topic.
_OWN_REPORTS_COMPARED = re.compile(
    r"\b(?:compar\w*|up\s+or\s+down|(?:go|goes|gone|went)\s+(?:up|down))\b.*\b(?:ofsted|inspections?|reports?|ilacs)\b"
    r"|\b(?:ofsted|inspections?|reports?|ilacs)\b.*\b(?:compar\w*|up\s+or\s+down)\b",
    re.I,
)


@lru_cache(maxsize=1)
def _comparing_terms() -> frozenset[str]:
    return frozenset(terms("last two three previous first earlier latest report reports go goes gone went up down"))


# Asking how things changed: a topic the register holds no grade for ("has private fostering improved?")
# is a question for the passages, which say what each report found.
_CHANGE_ASKED = re.compile(r"\b(?:improv(?:ed|ing)|chang(?:ed|es)|better|worse|deteriorat\w*|declin\w*)\b", re.I)


@lru_cache(maxsize=1)
def _register_terms() -> frozenset[str]:
    return frozenset(terms(_REGISTER_WORDS))


# The facts an inspection report's first page states: who led it and when it was held.
LEAD_ASKED = re.compile(
    r"\b(?:lead|leading|reporting)\s+inspector\b"
    r"|\bwho\b.{0,30}\b(?:led|lead|leading)\b.{0,60}\b(?:inspection|visit|ofsted|ilacs|sif)\b"
    r"|\bwho\s+(?:inspected|carried\s+out|conducted)\b",
    re.I,
)
DATES_ASKED = re.compile(
    r"\binspection\s+dates?\b|\bdates?\s+of\s+(?:the\s+|its\s+|their\s+)?(?:[\w'’-]+\s+){0,5}?(?:inspection|visit)\b"
    r"|\bwhen\s+(?:was|were|did)\b.{0,60}\b(?:inspected|inspection|visit)\b(?!.{0,40}\b(?:publish\w*|report\w*|next|due)\b)",
    re.I,
)
_OTHER_INSPECTOR = re.compile(r"\b(?:deputy|team|assistant|other|second)\b", re.I)


def asks_inspection_fact(question: str) -> str:
    """'lead' (who led an inspection), 'dates' (when it was held), or '' for any other question."""
    if LEAD_ASKED.search(question) and not _OTHER_INSPECTOR.search(question):
        return "lead"
    if DATES_ASKED.search(question):
        return "dates"
    return ""


def register_can_answer(question: str, councils: list[str], mend: Callable[[str], str]) -> bool:
    """Whether the register can settle it: a question of grades or promises, not of findings.

    "Who led that inspection?" and "were there areas of strong practice despite the inadequate
    grade?" name grades but ask about something the register does not hold; a yes/no question
    about one thing ("has Bury committed money to …?") wants that thing, not a list of promises.
    `councils` are the library's; `mend` mends the question's typos against the library's words.
    """
    if asks_for_metric(question, councils) or asks_inspection_fact(question):
        return True  # "how has the vacancy rate changed", "who led the 2014 inspection": held by the register
    kind = question_kind(question)
    # "When did Worcestershire get its inadequate rating?": the register dates each grade; other "when"s are the passages'.
    graded_when = _GRADE.search(question) and re.search(r"\b(?:rat(?:ed|ing)|grade[ds]?|judge?(?:d|ment)|get|got|bec[ao]me|went)\b", question, re.I)
    if kind in ("who", "number", "list") or (kind == "when" and not graded_when and not re.search(r"\b(?:next|upcoming)\b", question, re.I)):
        return False
    if _YES_NO.match(question) and _PROMISE_WORDS.search(question):
        return False
    # What is left once councils (as typed), years and the register's own words are set aside.
    for mention in reversed(gazetteer().find(question, known=councils)):
        question = question[: mention.start] + " " + question[mention.end :]
    leftover = [t for t in terms(YEAR.sub(" ", mend(question))) if t not in _register_terms()]
    if _OWN_REPORTS_COMPARED.search(question):
        # "compare the last two Ofsted reports", "did it go up or down between its two inspections": grades,
        # unless a topic is named ("… on caseloads"), which the passages compare report by report.
        return not [t for t in leftover if t not in _comparing_terms()]
    return len(leftover) <= (1 if _CHANGE_ASKED.search(question) else 2)
