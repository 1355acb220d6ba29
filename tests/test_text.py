"""Text as the assistant reads it: the sentence splitters and the word normaliser."""

from __future__ import annotations

import pytest

from assistant.text import LIST_START, Normaliser, rough_sentence_spans, sentence_spans, stem, terms, words

PROSE = "The plan was agreed on 12 March 2020 (see para. 4.2). Staff e.g. social workers will join. Is it done? Yes!"
PADDED = '  Leaders met Mr. Smith in Jan. 2021.  "It works." the panel said. 3 posts remain. '


def _pieces(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[start:end] for start, end in spans]


def test_sentences_know_abbreviations_and_numbers() -> None:
    assert _pieces(PROSE, sentence_spans(PROSE)) == [
        "The plan was agreed on 12 March 2020 (see para. 4.2).",
        "Staff e.g. social workers will join.",
        "Is it done?",
        "Yes!",
    ]


def test_sentence_spans_are_offsets_without_surrounding_space() -> None:
    assert sentence_spans(PADDED) == [(2, 37), (39, 66), (67, 82)]
    assert _pieces(PADDED, sentence_spans(PADDED)) == [
        "Leaders met Mr. Smith in Jan. 2021.", '"It works." the panel said.', "3 posts remain.",
    ]


@pytest.mark.parametrize("text", ["", "   "])
def test_no_sentences_in_blank_text(text: str) -> None:
    assert sentence_spans(text) == []


def test_rough_sentences_cut_at_every_full_stop_before_a_capital_or_digit() -> None:
    # Where passages are cut: the index's passage boundaries depend on these exact cuts.
    assert _pieces(PROSE, rough_sentence_spans(PROSE)) == [
        "The plan was agreed on 12 March 2020 (see para.", "4.2).", "Staff e.g. social workers will join.",
        "Is it done?", "Yes!",
    ]
    assert rough_sentence_spans(PADDED) == [(0, 17), (18, 31), (32, 37), (39, 66), (67, 83)]
    assert rough_sentence_spans("") == []


def test_terms_drop_stopwords_and_join_word_forms() -> None:
    assert terms("What did the inspectors say about the Children's decisions? They kept going.") == [
        "inspect", "children", "decid", "keep",
    ]


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [("inspector", "inspect"), ("inspection", "inspect"), ("director", "direct"), ("leader", "leader"), ("kept", "keep"),
     ("went", "go"), ("decisions", "decid"), ("delivery", stem("delivers")), ("referrals", stem("referred"))],
)
def test_stem(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_the_keyword_index_normalises_words_the_same_way() -> None:
    assert Normaliser().stemWords(["decisions", "went"]) == [stem("decisions"), stem("went")] == ["decid", "go"]


@pytest.mark.parametrize(("line", "starts_item"), [
    ("- a", True), ("(a) b", True), ("iv) f", True), ("1. c", True), ("2.1 d", True), ("• e", True), ("Text", False),
])
def test_list_start(line: str, starts_item: bool) -> None:
    assert bool(LIST_START.match(line)) is starts_item


def test_words_are_every_word_as_written() -> None:
    assert words("The Children’s Services — 2021/22: care-leavers' rates.") == [
        "the", "children’s", "services", "2021", "22", "care", "leavers", "rates",
    ]


def test_an_abbreviation_in_the_plural_is_the_abbreviation() -> None:
    assert terms("How many DCSs and IROs?") == terms("How many DCS and IRO?")
    assert terms("Our classes and bus") == ["class", "bus"]


def test_standard_wording_is_found_glued_to_a_line_before_or_after_it() -> None:
    from assistant.text import StandardWording

    blurb = "any complaints about the inspection or the report should be made following the procedures set out."
    standard = StandardWording([blurb, "good"])
    assert blurb in standard
    assert f"team inspectors: jo bloggs, sam smith {blurb}" in standard  # a page's last lines, unparted
    assert f"{blurb} the local authority has since improved" in standard
    assert "the local authority has since improved its front door." not in standard
    assert "good progress has been made" not in standard  # a short standard line is no affix


# Texts where pysbd's own rules matter: abbreviations, numbers, quotes, lists, repeats, lines broken mid-sentence.
TRICKY = [
    "Yes. Yes. Yes.",
    "No. 10 is the plan. See no. 4 and p. 7. It was agreed.",
    "Staff (e.g. social workers, i.e. qualified staff) will join. Dr. Smith, Mrs Jones and St. Mary's agreed.",
    "Growth was 3.5% in 2023. The rate rose to 4.25 by Q2. Costs were £1.2m.",
    'He said "it works." Then he left. \'Good\' Rating is next.',
    "The plan has three parts: (a) training; (b) audit; and (c) review. It ends in 2025.",
    "1) first item 2) second item 3) third item",
    "a. one b. two c. three",
    "1. First point. 2. Second point. 3. Third point.",
    "The options are (i) keep it (ii) close it. Option a. is preferred; see i. and ii. above.",
    "Plan 2.1 replaced 1.4) and 3 ) in full. Section 4. Review.",
    "Leaders met in\nMarch. The board\nagreed the plan.",
    "The council will review the policy by March 2025",
    "A single sentence ending in a full stop.",
    "Is it done? Yes! Really?! Wow...",
    "Visit www.example.gov.uk or read report.pdf for more. It is 9 a.m. Then 5 p.m. Meeting.",
    # "\u017f" (long s) matches "s" under re.IGNORECASE, so pysbd takes "\u017ft." for the abbreviation "st.".
    "The first visit was to \u017ft. mary today. Then home.",
    "The U.S. team met. The U.K. team did not.",
    "Items \u2022 one \u2022 two. The end.",
    "“Quoted sentence one.” “Quoted sentence two.” Plain.",
]


def _pysbd_spans(text: str) -> list[tuple[int, int]]:
    import pysbd

    spans = []
    for piece in pysbd.Segmenter(language="en", clean=False, char_span=True).segment(text):
        sentence = piece.sent.strip()
        if sentence:
            start = piece.start + len(piece.sent) - len(piece.sent.lstrip())
            spans.append((start, start + len(sentence)))
    return spans


@pytest.mark.parametrize("text", TRICKY)
def test_sentence_spans_are_pysbds_own(text: str) -> None:
    # sentence_spans speeds pysbd up (literal search for its sentences, abbreviations with no full stop skipped):
    # the spans must stay exactly the ones pysbd itself gives.
    assert sentence_spans(text) == _pysbd_spans(text)


def test_a_repeated_sentence_is_found_at_each_place() -> None:
    assert _pieces("Yes. Yes. Yes.", sentence_spans("Yes. Yes. Yes.")) == ["Yes.", "Yes.", "Yes."]
    assert sentence_spans("Yes. Yes. Yes.") == [(0, 4), (5, 9), (10, 14)]


def test_an_abbreviation_before_a_full_stop_still_holds_the_sentence_together() -> None:
    text = "Staff e.g. social workers met Dr. Smith at no. 4 Main St. in the town. It went well."
    assert _pieces(text, sentence_spans(text)) == [
        "Staff e.g. social workers met Dr. Smith at no. 4 Main St. in the town.", "It went well.",
    ]


# No full stop inside, yet pysbd ends a sentence: a list by brackets, a quotation closed after "-", a line break.
SPLIT_WITHOUT_FULL_STOP = ["a) first item b) second item", "1) first 2) second", "The so-called 'pre-' Assessment was made", "Next steps\rNew line"]
ONE_SENTENCE = [
    "The council will review the policy by March 2025",
    "A single sentence ending in a full stop.",
    "for care leavers aged",
    "18 to 25 ceases.",
    "Staff eg social workers and Dr Smith will join the Ofsted 'Good' Rating panel.",
    "Growth was 3 per cent (see appendix B; costs £1,200 – a rise of 4% – in 2023/24.",
    "He said 'go' Then left",
    "• Children’s services: “outstanding” overall",
]


@pytest.mark.parametrize("text", SPLIT_WITHOUT_FULL_STOP)
def test_texts_pysbd_splits_without_a_full_stop_go_to_pysbd(text: str) -> None:
    from assistant.text import _one_sentence

    assert not _one_sentence(text)
    assert len(sentence_spans(text)) == 2
    assert sentence_spans(text) == _pysbd_spans(text)


@pytest.mark.parametrize("text", ONE_SENTENCE)
def test_a_text_with_no_break_but_its_last_full_stop_is_one_sentence_as_pysbd_finds(text: str) -> None:
    from assistant.text import _one_sentence

    assert _one_sentence(text)
    assert sentence_spans(text) == _pysbd_spans(text) == [(0, len(text))]


@pytest.mark.parametrize("text", [" padded.", "Two. Sentences.", "Really?", "Wow!", "(a bracket", "'quoted' start", "x", "A line\nbreak"])
def test_the_quick_check_leaves_anything_else_to_pysbd(text: str) -> None:
    from assistant.text import _one_sentence

    assert not _one_sentence(text)
    assert sentence_spans(text) == _pysbd_spans(text)
