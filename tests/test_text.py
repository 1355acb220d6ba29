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
