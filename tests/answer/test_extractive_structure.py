"""The answerer reads a report's structure: the abbreviations it defines, the heading a list sits under."""

from __future__ import annotations

from assistant.answer.extractive import ExtractiveAnswerer
from assistant.settings import load_settings
from assistant.types import Passage, SearchHit


def _hit(text: str, rank: int, section: str = "", pid: str = "") -> SearchHit:
    passage = Passage(
        id=pid or f"r.txt:{rank}", source="r.txt", council="Somewhere", section=section,
        paragraph=str(rank), ordinal=rank, start=0, end=len(text), text=text,
    )
    return SearchHit(passage=passage, score=1.0 / rank, rank=rank)


def test_a_sentence_using_a_defined_abbreviation_matches_its_long_form() -> None:
    hits = [
        _hit("Senior managers are aware of the pressure on the team and have plans to act.", 1),
        _hit("In March, caseloads in the ART were at an average of 33.", 2),
    ]
    question = "what were caseloads in the assessment and response team?"
    plain = ExtractiveAnswerer(load_settings())
    knowing = ExtractiveAnswerer(load_settings(), abbreviations={"art": "assessment and response team"})
    assert not plain.answer(question, hits, kind="fact", councils=[])[0].startswith("In March")
    assert knowing.answer(question, hits, kind="fact", councils=[])[0].startswith("In March, caseloads in the ART")
    assert {"assess", "respons", "team"} <= knowing._unit_terms("Two IROs and the ART")


def test_a_list_under_a_heading_the_question_echoes_whole_answers_despite_a_preamble() -> None:
    items = "• The quality of plans for children\n• The effectiveness of supervision\n• The consistency of decisions"
    hits = [
        _hit("Member oversight is through the corporate parenting board and the scrutiny committee.", 1),
        _hit(items, 2, section="What needs to improve?1", pid="r.txt:list"),
    ]
    question = "Hello, I'm a new member of the scrutiny committee. Could you summarise what the council needs to improve?"
    text, citations, _ = ExtractiveAnswerer(load_settings()).answer(question, hits, kind="list", councils=[])
    assert "supervision" in text and "consistency of decisions" in text
    assert citations[0].paragraph == "2"


def test_a_word_of_the_reports_letterhead_helps_choose_but_is_no_evidence() -> None:
    hits = [
        _hit("Any complaints about the Ofsted inspection or the report should be made in writing.", 1, pid="old:1"),
        _hit("Inspection dates: 11 to 15 March 2024", 2, pid="new:1"),
    ]
    hits[1].passage.source = "new.txt"
    question = "latest ofsted inspection - when was it?"
    answerer = ExtractiveAnswerer(load_settings(), idf=lambda term: 3.0 if term == "ofst" else 1.0)
    letterheads = {"new.txt": frozenset({"ofst"}), "r.txt": frozenset({"ofst"})}
    text, _, evidence = answerer.answer(question, hits, kind="when", councils=[], letterheads=letterheads)
    assert "11 to 15 March 2024" in text
    # The letterhead counts toward choosing the sentence, not toward how well the report answers.
    assert evidence.coverage < 0.5


def test_the_engine_reads_a_reports_letterhead_from_its_standard_wording(shared_engine) -> None:
    source = next(iter(shared_engine.index.reports))
    letterhead = shared_engine._letterhead(source)
    assert isinstance(letterhead, frozenset)
    assert shared_engine._letterhead(source) is letterhead  # read once per index generation


def test_an_abbreviation_typed_asks_for_its_long_form_and_the_role_it_names() -> None:
    hits = [
        _hit("The council holds the DCS to account through its improvement board.", 1),
        _hit("Author: Jane Okafor, Director, People and Communities", 2),
    ]
    common = {"children": 0.2, "servic": 0.3, "council": 0.3}  # words most passages hold weigh little, as in a library
    answerer = ExtractiveAnswerer(load_settings(), idf=lambda term: common.get(term, 3.0))
    # "dcs" in any case is the sector's abbreviation; a director named is the answer to "who", not a sentence using it.
    for question in ("who is the DCS", "who's the dcs"):
        text, _, evidence = answerer.answer(question, hits, kind="who", councils=[])
        assert "Jane Okafor" in text and evidence.typed
    assert answerer.concepts("who is the DCS") == {"dcs": frozenset({"direct", "children", "servic"})}
    assert answerer.concepts("what art therapy is offered?") == {}  # a report's "ART" typed in lower case is a word
    # Weights stay the question's own words: what a briefing topic weighs too.
    assert set(answerer.question_weights("caseloads in the MASH", [])) == {"caseload", "mash"}


def test_a_one_item_list_under_an_echoed_heading_and_the_reports_own_words() -> None:
    hits = [
        _hit("Since the last inspection, leaders have improved most areas identified as weak.", 1),
        _hit("• Management oversight of children living in the most complex circumstances.", 2, section="What needs to improve?1"),
    ]
    answerer = ExtractiveAnswerer(load_settings())
    # "she" points back at the inspector: no word an answer must hold.
    text, _, _ = answerer.answer("What did she say needs improving?", hits, kind="list", councils=[])
    assert "Management oversight" in text
    assert "she" not in answerer.question_weights("What did she say?", [])
    assert set(answerer.question_weights("whos the dcs", [])) == {"dcs"}
    # Verbs of saying frame the question, and who says it: the answer need not hold them.
    assert set(answerer.question_weights("What did Ofsted think of early help?", [])) == {"earli", "help"}
    # "Ofsted" and "report" are the report's standard wording (its letterhead): they describe the list too.
    three = "• Consistency of plans.\n• Support for older care leavers.\n• Safety planning."
    hits[1] = _hit(three, 2, section="What needs to improve?")
    question = "What are the areas for improvement in the Ofsted report?"
    letterheads = {"r.txt": frozenset({"ofst", "report"})}
    assert "Safety planning" in answerer.answer(question, hits, kind="list", councils=[], letterheads=letterheads)[0]


def test_standard_wording_a_finding_ran_on_into_never_answers() -> None:
    blurb = "Ofsted regulates and inspects to achieve excellence in the care of children and young people."
    hits = [_hit(f"Workers are supervised regularly, although the quality of supervision is inconsistent.\n\n{blurb}", 1)]
    answerer = ExtractiveAnswerer(load_settings())
    question = "What does Ofsted do to achieve excellence in the care of children?"
    assert answerer.answer(question, hits, kind="fact", councils=[])[0].startswith("Ofsted regulates")
    text, _, _ = answerer.answer(question, hits, kind="fact", councils=[], standard=frozenset({" ".join(blurb.lower().split())}))
    assert "Ofsted regulates" not in text


def test_a_sentence_saying_only_what_was_asked_leads_into_the_next() -> None:
    text = (
        "The council has strengths too. Since the last inspection the council has improved its response to disabled children. "
        "Recruitment remains a challenge for the service."
    )
    hits = [_hit(text, 1), _hit("Leaders know where practice is weaker and are acting on it.", 2)]
    answer, _, _ = ExtractiveAnswerer(load_settings()).answer("what are the council's strengths?", hits, kind="fact", councils=[])
    assert answer.startswith("The council has strengths too. Since the last inspection") and "Recruitment" not in answer


def test_a_report_nearer_the_time_asked_about_answers_before_an_older_one() -> None:
    hits = [
        _hit("Work is well advanced to create a multi-agency safeguarding hub (MASH).", 1, pid="old:1"),
        _hit("Social workers in the MASH evaluate information well and act quickly.", 2, pid="new:1"),
    ]
    hits[0].passage.source, hits[1].passage.source = "old.txt", "new.txt"
    question = "is the MASH working now?"
    answerer = ExtractiveAnswerer(load_settings())
    unweighted, _, _ = answerer.answer(question, hits, kind="fact", councils=[])
    text, citations, evidence = answerer.answer(question, hits, kind="fact", councils=[], report_weights={"old.txt": 0.6, "new.txt": 1.0})
    assert "advanced" in unweighted  # on words alone the older report's sentence wins
    assert "evaluate information well" in text and citations[0].source == "new.txt"
    assert evidence.score > 0


def test_the_problems_asked_for_are_the_list_under_what_needs_to_improve() -> None:
    items = "• The response to children suffering neglect\n• Sufficient placements for children in care"
    hits = [
        _hit("Leaders have a clear understanding of the main strengths of the service.", 1),
        _hit(items, 2, section="What needs to improve?", pid="r.txt:list"),
    ]
    answerer = ExtractiveAnswerer(load_settings())
    for question in ("what were the main problems?", "what are the weaknesses"):
        text, citations, evidence = answerer.answer(question, hits, kind="list", councils=[])
        assert "Sufficient placements" in text and citations[0].paragraph == "2"
        assert evidence.score >= load_settings().refusal_threshold
    text, _, _ = answerer.answer("what were the main strengths?", hits, kind="list", councils=[])
    assert "Sufficient placements" not in text


def test_who_is_asked_what_they_said_is_not_what_the_answer_must_hold() -> None:
    answerer = ExtractiveAnswerer(load_settings())
    assert set(answerer.question_weights("what did ofsted say about kinship care", [])) == {"kinship", "care"}
    assert set(answerer.question_weights("what did inspectors find about the MASH", [])) == {"mash"}
    assert "ofst" in answerer.question_weights("when was the ofsted inspection", [])
    assert set(answerer.question_weights("What did Ofsted find in Worcestershire?", ["Worcestershire"])) == {"ofst"}


def test_a_heading_standing_alone_names_what_follows_rather_than_answers() -> None:
    heading = "The experiences and progress of care leavers: good"
    hits = [
        _hit(heading, 1, section=heading),
        _hit("Personal advisers keep in touch with care leavers and know them well.", 2, section=heading),
    ]
    answerer = ExtractiveAnswerer(load_settings())
    assert "Personal advisers" in answerer.answer("what did ofsted say about care leavers", hits, kind="fact", councils=[])[0]
    assert answerer.answer("care leavers judgement?", hits, kind="judgement", councils=[])[0].startswith(heading)


def test_an_open_question_is_answered_by_the_paragraph_that_is_about_it() -> None:
    detail = (
        "Leaders have strengthened the front door. Managers review contacts daily. "
        "This has been strengthened by focused training for managers in the MASH."
    )
    topic = "The MASH is not always effective in identifying risk. Partners do not always share information quickly."
    hits = [_hit(detail, 1), _hit(topic, 2)]
    question = "is the MASH working properly?"
    answerer = ExtractiveAnswerer(load_settings())
    text, citations, _ = answerer.answer(question, hits, kind="fact", councils=[])
    assert text.startswith("The MASH is not always effective") and citations[0].paragraph == "2"
    # Without the topic sentence's bonus the search's first passage wins, on its passing mention.
    answerer.lead_bonus = 0.0
    assert answerer.answer(question, hits, kind="fact", councils=[])[1][0].paragraph == "1"


def test_an_open_question_gets_a_second_finding_of_the_same_report_that_answers_nearly_as_well() -> None:
    summary = _hit("The MASH is not always effective in identifying children who need help and protection.", 1)
    detail = _hit("Delays in the MASH mean that some children wait too long for help.", 2)
    other = _hit("Delays in the MASH are rare.", 3, pid="other.txt:1")
    other.passage.source = "other.txt"
    text, citations, _ = ExtractiveAnswerer(load_settings()).answer("is the MASH working?", [summary, detail, other], kind="fact", councils=[])
    assert [c.paragraph for c in citations] == ["1", "2"] and "wait too long" in text
    # A fact of a narrow kind keeps to the one sentence that states it; an unrelated line is no second finding.
    when = ExtractiveAnswerer(load_settings()).answer("when did the MASH open?", [_hit("The MASH opened in May 2019.", 1), detail], kind="when", councils=[])
    assert len(when[1]) == 1
    weak = ExtractiveAnswerer(load_settings()).answer("is the MASH working?", [summary, _hit("Staff morale is high.", 2)], kind="fact", councils=[])
    assert len(weak[1]) == 1


def test_words_added_for_emphasis_weigh_nothing() -> None:
    answerer = ExtractiveAnswerer(load_settings(), idf=lambda term: 6.0 if term in {"actual", "realli"} else 1.0)
    plain = answerer.question_weights("is the MASH working?", [])
    assert answerer.question_weights("is the MASH actually working?", []) == plain
    assert answerer.question_weights("is the MASH really working, please?", []) == plain
    # So the evidence for an answer is not diluted by them: the same sentence answers as strongly.
    hits = [_hit("The MASH is working well and decisions are timely.", 1)]
    strength = lambda q: answerer.answer(q, hits, kind="fact", councils=[])[2].score  # noqa: E731
    assert strength("is the MASH actually working?") == strength("is the MASH working?")


def test_children_looked_after_are_children_in_care() -> None:
    hits = [
        _hit("At 19 June 2017, 760 children were being looked after by the local authority.", 1),
        _hit("Two children's homes were kept open and the payment to care leavers rose.", 2),
    ]
    answerer = ExtractiveAnswerer(load_settings())
    assert answerer.answer("how many children in care are there?", hits, kind="number", councils=[])[0].startswith("At 19 June 2017, 760")
    assert answerer._unit_terms("looked-after children") >= answerer._unit_terms("children in care")


def test_a_list_of_a_report_nearer_the_time_asked_about_answers_before_an_older_one() -> None:
    old = "• Ensure that plans for children are specific\n• Ensure that strategy discussions include all partners"
    new = "• Services to children out of hours\n• Sufficiency of accommodation for care leavers"
    hits = [
        _hit(old, 1, section="Recommendations", pid="old:1"),
        _hit(new, 2, section="What needs to improve?", pid="new:1"),
    ]
    hits[0].passage.source, hits[1].passage.source = "old.txt", "new.txt"
    question = "list the recommendations for 2024"
    answerer = ExtractiveAnswerer(load_settings())
    unweighted, _, _ = answerer.answer(question, hits, kind="list", councils=[])
    text, citations, _ = answerer.answer(question, hits, kind="list", councils=[], report_weights={"old.txt": 0.6, "new.txt": 1.0})
    assert "strategy discussions" in unweighted  # its heading echoes the question's word
    assert "out of hours" in text and citations[0].source == "new.txt"
