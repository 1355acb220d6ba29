"""The keyword index: saved and loaded whole, searched under filters, boilerplate flagged."""

from __future__ import annotations

from pathlib import Path

from assistant.index.bm25 import FOLDER, BM25Store, boilerplate, build_bm25
from assistant.types import Filters, Passage


def passage(pid: str, text: str, council: str = "Darlington", date: str = "2016") -> Passage:
    return Passage(id=pid, source=f"{pid}.txt", council=council, date=date, paragraph="1", ordinal=0, start=0, end=len(text), text=text)


def test_bm25_store_round_trip_and_mask(tmp_path: Path) -> None:
    passages = [
        passage("a", "The vacancy gap is 5.34%.", council="West Sussex", date="2020-02"),
        passage("b", "The vacancy rate fell in Darlington.", council="Darlington", date="2016"),
    ]
    BM25Store.build(passages).save(tmp_path / "bm25")
    store = BM25Store.load(tmp_path / "bm25")
    assert [pid for pid, _ in store.search("vacancy", 5)] and store.doc_freq("vacanc") == 2
    only = store.search("vacancy", 5, Filters(councils=["Darlington"]))
    assert [pid for pid, _ in only] == ["b"]
    assert store.search("vacancy", 5, Filters(date_from="2021")) == []


def test_wording_that_recurs_across_reports_is_boilerplate_and_findings_are_not() -> None:
    footer = "This report was published by the inspectorate and is available from the address printed on the back cover of this document."
    passages = [passage(f"r{n}", footer) for n in range(4)]
    passages += [passage(f"f{n}", f"Report {n} found that {n + 11} children waited too long for a plan to be agreed with them.") for n in range(4)]
    flags = boilerplate(passages)
    assert list(flags[:4]) == [True] * 4
    assert not flags[4:].any()


def test_a_footer_dated_by_its_year_is_still_boilerplate_and_a_finding_heading_is_not() -> None:
    # "© Crown copyright 2026" is shared by that year's reports only: a year is no fact of one report's own.
    footer = "Piccadilly Gate Store Street Manchester M1 2WD T: 0300 123 1231 E: enquiries@ofsted.gov.uk © Crown copyright {year}"
    passages = [passage(f"r{n}", footer.format(year=2020 + n)) for n in range(6)]
    # A heading stating a finding, wrapped over two lines in the PDF, is the section it opens.
    heading = "The experiences and progress of children who need help and protection:\noutstanding"
    passages += [
        passage(f"h{n}", heading).model_copy(update={"section": heading.replace("\n", " ")}) for n in range(6)
    ]
    flags = boilerplate(passages)
    assert list(flags[:6]) == [True] * 6
    assert not flags[6:].any()


def test_a_templated_line_with_its_own_date_is_a_fact_and_a_shared_dated_footer_is_not() -> None:
    # Reports of one framework print the same line with their own dates, and inspections come in rounds,
    # so a few reports share a month; a template's own date is in far more of them.
    previous = "The previous inspection of the local authority's safeguarding arrangements was in May 2012. The local authority was judged to be adequate."
    footer = "This report was last updated in April 2019 and is published by the inspectorate at the address on the back cover."
    footers = [passage(f"f{n}", footer).model_copy(update={"source": f"r{n}.pdf"}) for n in range(20)]
    lines = [passage(f"p{n}", previous).model_copy(update={"source": f"r{n}.pdf"}) for n in range(4)]
    flags = boilerplate(footers + lines)
    assert flags[:20].all()
    assert not flags[20:].any()


def test_an_empty_library_has_no_keyword_index_and_finds_nothing(tmp_path: Path) -> None:
    BM25Store.build([passage("a", "The vacancy gap is 5.34%.")]).save(tmp_path / FOLDER)
    build_bm25(tmp_path, [])
    assert not (tmp_path / FOLDER).exists()
    assert BM25Store.empty().search("vacancy", 5) == []
    assert not BM25Store.empty().is_boilerplate("a")


def test_scores_are_bm25s_own_sums_with_and_without_a_filter(tmp_path: Path) -> None:
    import bm25s
    import numpy as np

    words = ["vacancy", "rate", "agency", "social", "workers", "budget", "plan", "children"]
    passages = [
        passage(f"p{n}", " ".join(words[(n * k) % len(words)] for k in range(1, 2 + n % 6)), council=["Darlington", "Leeds"][n % 2])
        for n in range(60)
    ]
    BM25Store.build(passages).save(tmp_path / "bm25")
    store = BM25Store.load(tmp_path / "bm25")
    assert store.retriever is None and store.postings is not None  # read with numpy alone
    reference = bm25s.BM25.load(str(tmp_path / "bm25" / "bm25s"), mmap=True)
    for query in ("vacancy rate", "agency social workers plan", "children budget", "nothing matches this"):
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=store.stemmer, show_progress=False, return_ids=False)[0]
        assert store.words(query) == list(tokens)
        for filters in (None, Filters(councils=["Leeds"])):
            mask = store.mask(filters) if filters else None
            expected = reference.get_scores(list(tokens), weight_mask=mask) if any(
                t in reference.vocab_dict for t in tokens
            ) else np.zeros(len(passages), dtype=np.float32)
            got = store.scores(list(tokens), mask)
            assert got.dtype == expected.dtype and np.array_equal(got, expected), (query, filters)
    leeds = store.search("vacancy rate", 60, Filters(councils=["Leeds"]))
    assert leeds and all(int(pid[1:]) % 2 == 1 for pid, _ in leeds)
    assert store.mask(Filters(councils=["Leeds"])) is store.mask(Filters(councils=["Leeds"]))  # remembered


def test_questions_are_split_as_bm25s_splits_them(tmp_path: Path) -> None:
    import bm25s

    BM25Store.build([passage("a", "The vacancy gap is 5.34%.")]).save(tmp_path / "bm25")
    store = BM25Store.load(tmp_path / "bm25")
    questions = [
        "Who's the DCS in North Somerset?", "WHAT WAS THE OVERALL JUDGEMENT in 2019", "how many agency social workers (FTE) are there",
        "children’s services: £1.2m budget, 16- and 17-year-olds", "a I of the", "", "Café naïve co-operation 5.34% x",
    ]
    for question in questions:
        expected = bm25s.tokenize([question], stopwords="en", stemmer=store.stemmer, show_progress=False, return_ids=False)
        assert store.words(question) == (list(expected[0]) if expected else []), question


def test_a_keyword_index_saved_without_its_stopwords_still_reads_questions(tmp_path: Path) -> None:
    import json

    BM25Store.build([passage("a", "The vacancy rate fell."), passage("b", "Agency staff left.")]).save(tmp_path / "bm25")
    current = BM25Store.load(tmp_path / "bm25")
    ids = tmp_path / "bm25" / "ids.json"
    ids.write_text(json.dumps({k: v for k, v in json.loads(ids.read_text()).items() if k != "stopwords"}))
    store = BM25Store.load(tmp_path / "bm25")
    assert store.stopwords is None and current.stopwords
    assert store.words("What was the vacancy rate?") == current.words("What was the vacancy rate?")
    assert "vacanc" in store.words("What was the vacancy rate?") and "the" not in store.words("What was the vacancy rate?")
    assert [pid for pid, _ in store.search("What was the vacancy rate?", 5)] == ["a"]


def test_boilerplate_does_not_depend_on_the_order_of_passages() -> None:
    footer = "This report was published by the inspectorate and is available from the address printed on the back cover of this document."
    passages = []
    for n in range(4):
        passages.append(passage(f"r{n}", footer))
        passages.append(passage(f"r{n}", f"Report {n} found that {n + 11} children waited too long for a plan to be agreed with them."))
    # Two passages of each report, interleaved with other reports' passages.
    passages = [p.model_copy(update={"id": f"{p.id}-{i}"}) for i, p in enumerate(passages)]
    flags = boilerplate(passages[::2] + passages[1::2])
    assert list(flags[:4]) == [True] * 4
    assert not flags[4:].any()


def test_a_question_is_scored_without_importing_bm25s_or_scipy(tmp_path: Path) -> None:
    """Importing bm25s loads scipy (~0.2 s of a one-shot `assistant ask`): a saved index is searched with numpy."""
    import json
    import subprocess
    import sys

    BM25Store.build([passage("a", "The vacancy rate fell."), passage("b", "Agency staff left.")]).save(tmp_path / "bm25")
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from assistant.index.bm25 import BM25Store\n"
        f"found = BM25Store.load(Path({str(tmp_path / 'bm25')!r})).search('vacancy rates', 5)\n"
        "print(json.dumps({'found': [pid for pid, _ in found], 'heavy': [m for m in ('bm25s', 'scipy') if m in sys.modules]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"found": ["a"], "heavy": []}
