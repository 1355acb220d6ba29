"""Time expressions: found in running text and resolved against the report's own date."""

from __future__ import annotations

import pytest

from assistant.dates import Anchor
from assistant.timeexpr import find_times

CASES = [
    # (report date, text, tense, expression as written, start, end, granularity, relation)
    ("2020-02", "The next scheduled Monitoring Visit is in the second week of May, when", "future",
     "in the second week of May", "2020-05-08", "2020-05-14", "week", ""),
    ("2021-03-19", "in July a new simplified staffing structure will be rolled out", "future",
     "in July", "2021-07-01", "2021-07-31", "month", ""),
    ("2021-03-19", "become fully functional in the early part of 2022.", "future",
     "in the early part of 2022", "2022-01-01", "2022-04-30", "early year", ""),
    ("2016", "The next DfE review is scheduled toward the end of 2016.", "future",
     "toward the end of 2016", "2016-09-01", "2016-12-31", "end of year", ""),
    ("2016", "The third and fourth visits will take place in the first half of 2017 before", "future",
     "in the first half of 2017", "2017-01-01", "2017-06-30", "half year", ""),
    ("2021-03-19", "a final decision expected not later than January 2022", "future",
     "not later than January 2022", "2021-03-19", "2022-01-31", "month", "by"),
    ("2020-02", "membership of Adoption South East from April 2020, to improve", "future",
     "from April 2020", "2020-04-01", "2020-04-30", "month", "from"),
    ("2017-10-24", "is likely to be scheduled to take place during February 2018 with", "future",
     "during February 2018", "2018-02-01", "2018-02-28", "month", ""),
    ("2016", "Ofsted will be making its next monitoring visit on 12/13 October.", "future",
     "on 12/13 October", "2016-10-12", "2016-10-13", "days", ""),
    ("2016", "will take place towards summer 2017, as it has to be", "future",
     "towards summer 2017", "2017-06-01", "2017-08-31", "season", ""),
    ("2020-02", "will undergo a process of scrutiny and re-adoption during March.", "future",
     "during March", "2020-03-01", "2020-03-31", "month", ""),
    ("2020-02", "John Readman left the County Council at the end of January to become", "past",
     "at the end of January", "2020-01-21", "2020-01-31", "part of month", ""),
    ("2020-02", "she will join West Sussex in early May.", "future",
     "in early May", "2020-05-01", "2020-05-10", "part of month", ""),
    ("2021-03-19", "Monitoring Visits, starting at the end of May 2021.", "future",
     "starting at the end of May 2021", "2021-05-21", "2021-05-31", "part of month", "from"),
    ("2021-03-19", "our strong performance during the Focused Visit in October demonstrates", "",
     "in October", "2020-10-01", "2020-10-31", "month", ""),
    ("2017-10-24", "The next phase of the plan will cover the period October 2017 to March 2018.", "future",
     "October 2017 to March 2018", "2017-10-01", "2018-03-31", "months", ""),
    ("2017-10-24", "priority improvement plan for July to September 2017, which", "",
     "for July to September 2017", "2017-07-01", "2017-09-30", "months", ""),
    ("2017-10-24", "which took place on 12 and 13 September 2017 and focused", "past",
     "on 12 and 13 September 2017", "2017-09-12", "2017-09-13", "days", ""),
    ("2020-02", "The first Ofsted Monitoring visit took place on 3 to 4 December 2019,", "past",
     "on 3 to 4 December 2019", "2019-12-03", "2019-12-04", "days", ""),
    ("2016", "Ofsted monitoring visit of 10/11 July 2016.", "past",
     "10/11 July 2016", "2016-07-10", "2016-07-11", "days", ""),
    ("2020-10-21", "Ofsted report 'Inspection of children's social care services', 2 March 2020 to 13 March 2020", "past",
     "2 March 2020 to 13 March 2020", "2020-03-02", "2020-03-13", "days", ""),
    ("2020-10-21", "which was completed in April this year.", "past",
     "in April this year", "2020-04-01", "2020-04-30", "month", ""),
    ("2020-02", "will continue to support the improvement journey during 2020.", "future",
     "during 2020", "2020-01-01", "2020-12-31", "year", ""),
    ("2020-10-21", "Plan for Continuous Improvement 2020 – 2022.", "",
     "2020 – 2022", "2020-01-01", "2022-12-31", "years", ""),
    ("2021-03-19", "the budget for 2021/22 is set", "",
     "for 2021/22", "2021-04-01", "2022-03-31", "financial year", ""),
    ("2021-03-19", "spending in Q2 2021/22 rose", "",
     "in Q2 2021/22", "2021-07-01", "2021-09-30", "quarter", ""),
    ("2021-03-19", "a review in the third quarter of 2021", "future",
     "in the third quarter of 2021", "2021-07-01", "2021-09-30", "quarter", ""),
    ("2021-03-19", "The Commissioner will formally review our progress in July, with", "future",
     "in July", "2021-07-01", "2021-07-31", "month", ""),
    ("2021-03-19", "we will soon be starting to open new children's homes", "future",
     "soon", "2021-03-19", "2021-06-19", "near term", ""),
    ("2021-03-19", "improvements that we expect to deliver during the remainder of 2021", "future",
     "during the remainder of 2021", "2021-03-19", "2021-12-31", "rest of year", ""),
    ("2021-03-19", "the improvements we are implementing over the next year, and", "future",
     "over the next year", "2021-03-19", "2022-03-18", "next 12 months", ""),
    ("2020-10-21", "we expect a decision in spring", "future",
     "in spring", "2021-03-01", "2021-05-31", "season", ""),
    ("2021-03-19", "the new team starts in winter 2021", "future",
     "in winter 2021", "2021-12-01", "2022-02-28", "season", ""),
    ("2021-03-19", "in mid-March, we are presenting as a finalist", "",
     "in mid-March", "2021-03-11", "2021-03-20", "part of month", ""),
    ("2021-03-19", "The board will meet by the end of June.", "future",
     "by the end of June", "2021-03-19", "2021-06-30", "part of month", "by"),
    ("2021-03-19", "The plan will be signed off before September 2021.", "future",
     "before September 2021", "2021-03-19", "2021-08-31", "month", "by"),
    ("2021-03-19", "The board will meet on 10/05/2021 to agree it.", "future",
     "on 10/05/2021", "2021-05-10", "2021-05-10", "day", ""),
    ("2021-03-19", "The board will meet on Tuesday 4 May to agree it.", "future",
     "on Tuesday 4 May", "2021-05-04", "2021-05-04", "day", ""),
    ("2021-03-19", "the plan will be delivered within six months", "future",
     "within six months", "2021-03-19", "2021-09-19", "months", ""),
    ("2017-10-24", "published on 12 October 2017.", "past",
     "on 12 October 2017", "2017-10-12", "2017-10-12", "day", ""),
    ("2016", "Darlington Children's Services updated Improvement Plan 2015-17", "",
     "2015-17", "2015-01-01", "2017-12-31", "years", ""),
]


@pytest.mark.parametrize(("report_date", "text", "tense", "written", "start", "end", "granularity", "relation"), CASES)
def test_time_expression(report_date: str, text: str, tense: str, written: str, start: str, end: str, granularity: str, relation: str) -> None:
    spans = find_times(text, Anchor.parse(report_date), tense)
    assert [s.text for s in spans] == [written]
    span = spans[0]
    assert (span.start.isoformat(), span.end.isoformat(), span.granularity, span.relation) == (start, end, granularity, relation)
    assert text[span.pos : span.endpos] == written


@pytest.mark.parametrize(
    "text",
    [
        "Officers may wish to comment.",  # the verb, not the month
        "May I thank all members.",
        "over 2,000 young people took part",
        "Contact: 033 022 22511",
        "took 4 years to go from inadequate to outstanding",
        "The uncovered vacancy gap is currently 5.34%",
        "at a cost of £2020 per child",
    ],
)
def test_no_time_expression(text: str) -> None:
    assert find_times(text, Anchor.parse("2021-03-19"), "future") == []


def test_two_expressions_in_one_sentence() -> None:
    text = "The Commissioner will formally review our progress in July, with a final decision expected not later than January 2022."
    spans = find_times(text, Anchor.parse("2021-03-19"), "future")
    assert [(s.text, s.start.isoformat(), s.end.isoformat()) for s in spans] == [
        ("in July", "2021-07-01", "2021-07-31"),
        ("not later than January 2022", "2021-03-19", "2022-01-31"),
    ]


def test_year_less_dates_need_a_report_date() -> None:
    assert find_times("in July", None, "future") == []
    assert [s.text for s in find_times("in July 2021", None, "future")] == ["in July 2021"]


WORDED = [
    "We will act soon, shortly or imminently, in the near future, in the coming weeks, in the next few months.",
    "The board is about to meet this year, next year and next month; the year ahead; the coming 12 months.",
    "Within six months, over the next two years, in the remainder of the year, later this year, last year.",
    "In spring, early summer, autumn of 2021 and winter; in Sept and Dec. 2020; mid-March; the end of June.",
    "The first week of May, the week commencing 3 May, Q1 2021, H2 2022, the first half of 2023, 2021/22.",
]


@pytest.mark.parametrize("text", [case[1] for case in CASES] + WORDED)
def test_every_time_expression_holds_what_the_quick_check_looks_for(text: str) -> None:
    # find_times skips a text that holds no digit, month or time word (_MAY_HOLD): every pattern's match must hold one.
    from assistant.timeexpr import _MAY_HOLD, PATTERNS

    matched = [m.group() for _name, pattern in PATTERNS for m in pattern.finditer(text)]
    assert matched
    assert [m for m in matched if not _MAY_HOLD.search(m)] == []


def test_a_text_without_digit_month_or_time_word_has_no_time() -> None:
    assert find_times("The council's plan is agreed and staff are ready.", Anchor.parse("2021-03-19"), "future") == []
    assert [s.text for s in find_times("It will happen shortly.", Anchor.parse("2021-03-19"), "future")] == ["shortly"]


@pytest.mark.parametrize("text", [case[1] for case in CASES] + WORDED)
def test_every_pattern_match_holds_the_features_its_pattern_is_listed_as_needing(text: str) -> None:
    # A text is run only through the patterns whose features (_NEEDS) it holds; a match lacking one would be lost.
    from assistant.timeexpr import _FEATURES, _NEEDS, PATTERNS

    checked = 0
    for name, pattern in PATTERNS:
        for match in pattern.finditer(text):
            assert [f for f in _NEEDS[name] if not _FEATURES[f].search(match.group())] == [], (name, match.group())
            checked += 1
    assert checked


def test_a_plain_day_is_read_as_dateparser_reads_it() -> None:
    # _dateparser reads "5 March 2021" itself; dateparser must agree on every day of a leap year and on days that are no day.
    import calendar

    import dateparser

    from assistant.timeexpr import _PLAIN_DAY, _dateparser

    settings = {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["day", "month", "year"]}
    texts = [f"{day} {calendar.month_name[month]} 2024" for month in range(1, 13) for day in range(1, calendar.monthrange(2024, month)[1] + 1)]
    texts += ["0 March 2021", "00 May 2021", "29 February 2023", "31 April 2022", "32 January 2020", "05 June 1999", "31 December 2099"]
    for text in texts:
        assert _PLAIN_DAY.fullmatch(text), text
        parsed = dateparser.parse(text, languages=["en"], settings=settings)
        assert _dateparser(text) == (parsed.date() if parsed else None), text


@pytest.mark.parametrize(
    "text",
    [case[1] for case in CASES] + WORDED + ["it will be done \u017foon", "the wee\u212a ahead", "caf\u00e9 \u2013 no time here", "\u00bd the staff", "plain words only"],
)
def test_substring_tests_find_what_the_patterns_find(text: str) -> None:
    # Where a text has a letter outside ASCII ("ſ" matches "s" case-insensitively) the patterns themselves are run.
    from assistant.timeexpr import _FEATURES, _MAY_HOLD, _lowered, _may_hold, _present

    lowered = _lowered(text)
    assert _may_hold(text, lowered) == bool(_MAY_HOLD.search(text))
    assert _present(text, lowered) == {feature for feature, pattern in _FEATURES.items() if pattern.search(text)}


def test_a_letter_outside_ascii_matching_an_ascii_one_is_still_found() -> None:
    from assistant.timeexpr import _lowered, _may_hold

    assert _lowered("it will be done \u017foon") is None
    assert _may_hold("it will be done \u017foon", None)
    assert not _may_hold("caf\u00e9 \u2013 no time here", _lowered("caf\u00e9 \u2013 no time here"))
