"""The library's words and the abbreviations its reports define, counted for question mending."""

from __future__ import annotations

from assistant.index.vocabulary import defined_abbreviations, vocabulary


def test_words_are_counted_lower_case_with_inner_apostrophes_and_hyphens() -> None:
    counts = vocabulary(["The Council's multi-agency hub.", "the council's 'hub' in 2021"])
    assert counts["the"] == 2 and counts["council's"] == 2 and counts["hub"] == 2
    assert counts["multi-agency"] == 1 and "2021" not in counts and "" not in counts


def test_an_abbreviation_a_report_defines_is_kept_with_its_fewest_words() -> None:
    texts = [
        "Adopters now go through our Regional Adoption Agency (RAA) first.",
        "We met the Independent Reviewing Officers (IROs) twice.",
        "The budget (GBP) rose.",  # no words spell it: not an abbreviation defined here
    ]
    assert defined_abbreviations(texts) == {"raa": "regional adoption agency", "iros": "independent reviewing officers"}


def test_hyphenated_parts_and_minor_words_spell_an_abbreviation_as_reports_write_them() -> None:
    texts = [
        "Referrals go to the multi-agency safeguarding hub (MASH) first.",
        "The Director of Children's Services (DCS) reported to Cabinet.",
        "Most children looked after (CLA) live in the county.",
    ]
    assert defined_abbreviations(texts) == {
        "mash": "multi-agency safeguarding hub",
        "dcs": "director of children's services",
        "cla": "children looked after",
    }
