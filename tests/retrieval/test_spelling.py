"""Question mending: typos corrected to words the library uses, abbreviations spelled out for searching."""

from __future__ import annotations

from pathlib import Path

from assistant.index.bm25 import BM25Store
from assistant.index.index import Index
from assistant.retrieval.spelling import mend_question, standing_for
from assistant.types import Passage


def test_a_typo_is_mended_to_the_librarys_own_word(shared_index: Index) -> None:
    vocab, defined = shared_index.bm25.vocab, shared_index.bm25.abbreviations
    assert "commissioner" in vocab and "comissioner" not in vocab
    assert mend_question("What is the comissioner doing about caselods?", vocab) == "What is the commissioner doing about caseloads?"
    assert mend_question("How many social workres are there?", vocab, expand=False) == "How many social workers are there?"
    # An abbreviation a sample report defines itself is spelled out like the glossary's.
    assert mend_question("Who runs the FFD?", vocab, defined) == "Who runs the FFD? (family front door)"


def test_words_the_library_has_or_too_short_to_judge_are_left_alone() -> None:
    vocab = {"croydon": 9, "inspection": 4, "vacancy": 3}
    assert mend_question("croydons inspection, the xyz", vocab) == "croydons inspection, the xyz"
    assert mend_question("vacancey", {}) == "vacancey"  # no vocabulary: nothing to mend against
    assert mend_question("vacancey", vocab) == "vacancy"


def test_abbreviations_are_spelled_out_and_long_forms_abbreviated() -> None:
    assert mend_question("Was Croydon RI?", {}) == "Was Croydon RI? (requires improvement)"
    assert mend_question("is it ri", {}) == "is it ri"  # two letters are an abbreviation only in capitals
    assert mend_question("Who runs the multi agency safeguarding hub?", {}) == "Who runs the multi agency safeguarding hub? (MASH)"
    assert mend_question("What did the PSG do?", {}, {"psg": "practice standards group"}) == "What did the PSG do? (practice standards group)"
    assert mend_question("Was Croydon RI?", {}, expand=False) == "Was Croydon RI?"


def test_a_long_form_of_words_every_report_uses_is_not_added() -> None:
    # A library large enough for its counts to say what every report says: these words lead it.
    common = ["inspection", "of", "local", "authority", "children's", "services", "children"]
    vocab = {word: 10_000 for word in common}
    vocab |= {f"word{n}": 1_000 - n // 10 for n in range(4000)}
    vocab |= {"workforce": 3, "hub": 2}
    assert mend_question("croydon permanent workforce (ilacs)", vocab) == "croydon permanent workforce (ilacs)"
    # A long form with a word of its own still helps: "hub" is not what every report says.
    assert mend_question("is the MASH working", vocab).endswith("(multi-agency safeguarding hub)")
    # In a small library counts say little: the long form is added as before.
    small = {"inspection": 4, "local": 3}
    assert mend_question("the ILACS report", small) == "the ILACS report (inspection of local authority children's services)"


def test_everyday_words_become_the_reports_and_one_thing_is_searched_by_all_its_names() -> None:
    vocab = {"children": 40, "looked": 12, "after": 30, "care": 50}
    assert mend_question("how many kids in care?", vocab, expand=False) == "how many children in care?"
    searched = mend_question("how many kids in care?", vocab)
    assert "looked after children" in searched and "children looked after" in searched
    assert mend_question("how many looked after children?", vocab).count("children in care") == 1
    # A question word with its "is" glued on asks what it would with the apostrophe.
    assert mend_question("wats the grade", vocab, expand=False) == "whats the grade"
    assert mend_question("whens the next visit", vocab, expand=False) == "when's the next visit"


def test_a_short_slip_from_a_question_word_is_that_word_not_a_rare_term() -> None:
    vocab = {"croydon": 9, "inspection": 4, "leavers": 3, "send": 2}
    assert mend_question("wat did ofsted say abut care leavers", vocab) == "what did ofsted say about care leavers"
    assert mend_question("wht is teh plan", vocab) == "what is the plan"
    # A word the library has, an abbreviation in capitals, or one a letter longer than a question word or with
    # one changed ("dogs", not "does") stays as typed.
    assert mend_question("send the WAT ehcp dogs", vocab, expand=False) == "send the WAT ehcp dogs"


def test_a_word_cut_short_is_the_librarys_word_it_begins() -> None:
    vocab = {"executive": 40, "executed": 2, "information": 30, "informed": 12, "carers": 9, "caring": 8, "carried": 7, "lacks": 6}
    assert mend_question("who is the chief exec", vocab, expand=False) == "who is the chief executive"
    assert mend_question("any info on caseloads", vocab, expand=False) == "any information on caseloads"  # "informed" shares its stem
    # No one word the library uses most ("car": carers, caring, carried), or a sector abbreviation: left as typed.
    assert mend_question("the car park", vocab, expand=False) == "the car park"
    assert mend_question("lac in croydon", vocab, expand=False) == "lac in croydon"


def passage(pid: str, text: str) -> Passage:
    return Passage(id=pid, source=f"{pid}.txt", council="Tameside", date="2024", paragraph="1", ordinal=0, start=0, end=len(text), text=text)


def test_an_abbreviation_beside_its_long_form_counts_for_every_word_of_it(tmp_path: Path) -> None:
    passages = [
        passage("short", "Inspectors found that the MASH is not always effective in identifying children who need help."),
        passage("spelled", "Several agencies met, and a multi-agency hub for safeguarding adults opened in the town centre."),
        passage("other", "Care leavers live in suitable homes and are well supported by their personal advisers."),
    ]
    BM25Store.build(passages).save(tmp_path / "bm25")
    store = BM25Store.load(tmp_path / "bm25")
    asked = mend_question("what did inspectors find at the multi agency safeguarding hub", store.vocab, store.abbreviations)
    assert asked.endswith("(MASH)")
    # As typed, the long form's four words outweigh the one word the finding prints.
    assert [pid for pid, _ in store.search(asked, 2)][0] == "spelled"
    words = standing_for(store.words(asked), store.abbreviations, store.words)
    assert words.count("mash") == 4 and sorted(set(words)) == sorted(set(store.words(asked)))
    assert [pid for pid, _ in store.search_words(words, 2)][0] == "short"
    # Either form alone is searched as typed.
    for alone in ("what did inspectors find at the MASH", "what did inspectors find at the multi agency safeguarding hub"):
        assert standing_for(store.words(alone), store.abbreviations, store.words) == store.words(alone)
