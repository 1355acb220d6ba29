"""The council gazetteer: lookup, finding councils in questions and reports, and a report's owner."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from assistant.councils import Council, gazetteer

FIELD = Path(__file__).parent / "data" / "field"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bournemouth, christchurch & poole", "Bournemouth, Christchurch and Poole"),
        ("BCP Council", "Bournemouth, Christchurch and Poole"),
        ("brighton and hove", "Brighton and Hove"),
        ("Brighton & Hove City Council", "Brighton and Hove"),
        ("Brighton", "Brighton and Hove"),
        ("tameside", "Tameside"),
        ("Tameside MBC", "Tameside"),
        ("Tameside Metropolitan Borough Council", "Tameside"),
        ("Tameside's", "Tameside"),
        ("tamesides", "Tameside"),
        ("West Sussex County Council", "West Sussex"),
        ("London Borough of Barnet", "Barnet"),
        ("LB Barnet", "Barnet"),
        ("Royal Borough of Kensington and Chelsea", "Kensington and Chelsea"),
        ("RBKC", "Kensington and Chelsea"),
        ("K&C", "Kensington and Chelsea"),
        ("kensington & chelsea", "Kensington and Chelsea"),
        ("RBWM", "Windsor and Maidenhead"),
        ("City of Wolverhampton Council", "Wolverhampton"),
        ("B&NES", "Bath and North East Somerset"),
        ("Bristol, City of", "Bristol"),
        ("Bristol City Council", "Bristol"),
        ("Kingston Upon Hull, City of", "Kingston upon Hull"),
        ("Hull", "Kingston upon Hull"),
        ("Kingston", "Kingston upon Thames"),
        ("Telford", "Telford and Wrekin"),
        ("Stoke", "Stoke-on-Trent"),
        ("Stoke on Trent City Council", "Stoke-on-Trent"),
        ("St. Helens", "St Helens"),
        ("Saint Helens Council", "St Helens"),
        ("Derby City", "Derby"),
        ("Metropolitan Borough of Barnsley Council", "Barnsley"),
        ("South Glos", "South Gloucestershire"),
        ("West Northants", "West Northamptonshire"),
        ("North Northants", "North Northamptonshire"),
        ("Herts", "Hertfordshire"),
        ("Notts", "Nottinghamshire"),
        ("Lancs", "Lancashire"),
        ("Hants", "Hampshire"),
        ("Wilts", "Wiltshire"),
        ("Glos", "Gloucestershire"),
        ("Leics", "Leicestershire"),
        ("Lincs", "Lincolnshire"),
        ("Cambs", "Cambridgeshire"),
        ("Oxon", "Oxfordshire"),
        ("Bucks", "Buckinghamshire"),
        ("Northumberland County Council", "Northumberland"),
        ("Durham County Council", "Durham"),
        ("the Wirral", "Wirral"),
        ("Wandswoth", "Wandsworth"),
        ("Warwickshre", "Warwickshire"),
        ("City of London", "City of London"),
        ("Cardiff Council", "Cardiff"),
        ("Rhondda Cynon Taf County Borough Council", "Rhondda Cynon Taf"),
        ("Glasgow City Council", "Glasgow"),
        ("The Highland Council", "Highland"),
        ("Belfast City Council", "Belfast"),
    ],
)
def test_lookup_resolves_names_aliases_and_typos(name: str, expected: str) -> None:
    council = gazetteer().lookup(name)
    assert council is not None and council.name == expected


@pytest.mark.parametrize(
    "name", ["Children", "Care", "Youth", "Us", "Council", "County", "London", "North East", "Tameside plan"]
)
def test_lookup_refuses_what_is_not_a_council(name: str) -> None:
    assert gazetteer().lookup(name) is None


def test_predecessors_are_former_councils_with_successors() -> None:
    g = gazetteer()
    northants = g.lookup("Northamptonshire County Council")
    assert northants is not None and northants.status == "former"
    assert set(northants.successors) == {"North Northamptonshire", "West Northamptonshire"}
    assert all(g.get(name) for name in northants.successors)
    for old in ("Poole", "Bournemouth"):
        assert (g.get(old) or Council("")).successors == ("Bournemouth, Christchurch and Poole",)
    assert (g.get("Cumbria") or Council("")).successors == ("Cumberland", "Westmorland and Furness")
    assert (g.lookup("Dorset County Council") or Council("")).name == "Dorset"


def test_all_four_nations_are_listed() -> None:
    g = gazetteer()
    councils = [g.get(name) for name in g.names()]
    countries = [c.country for c in councils if c and c.status == "current"]
    assert (countries.count("England"), countries.count("Wales"), countries.count("Scotland")) == (153, 22, 32)
    assert countries.count("Northern Ireland") == 11
    assert (g.get("tameside") or Council("")).ons_code == "E08000008"


def _found(text: str, **kwargs: object) -> list[tuple[str, str]]:
    return [(m.surface, m.council.name) for m in gazetteer().find(text, **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wandsworth care leavers housing", [("wandsworth", "Wandsworth")]),
        ("south glos front door", [("south glos", "South Gloucestershire")]),
        ("west northants 2026 ofsted", [("west northants", "West Northamptonshire")]),
        ("what did inspecters find about croydons out of hours servce", [("croydons", "Croydon")]),
        ("LB Barnet 2017", [("LB Barnet", "Barnet")]),
        ("RBKC", [("RBKC", "Kensington and Chelsea")]),
        ("Tameside MBC", [("Tameside MBC", "Tameside")]),
        ("how is warwickshre doing", [("warwickshre", "Warwickshire")]),
        ("Brighton and Hvoe agency staff", [("Brighton and Hvoe", "Brighton and Hove")]),
        ("North Yorkshire and York", [("North Yorkshire", "North Yorkshire"), ("York", "York")]),
        ("West Sussex County Council's plan", [("West Sussex County Council's", "West Sussex")]),
        (
            "Bournemouth, Christchurch and Poole",
            [("Bournemouth, Christchurch and Poole", "Bournemouth, Christchurch and Poole")],
        ),
        ("compare Sutton with Merton", [("Sutton", "Sutton"), ("Merton", "Merton")]),
        ("Bury Council and Reading", [("Bury Council", "Bury"), ("Reading", "Reading")]),
        ("Bury's front door", [("Bury's", "Bury")]),
        ("care leavers in Bury", [("Bury", "Bury")]),
        ("stoke-on-trent", [("stoke-on-trent", "Stoke-on-Trent")]),
        ("the City of London", [("City of London", "City of London")]),
    ],
)
def test_find_in_questions(text: str, expected: list[tuple[str, str]]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Children's services",
        "care leavers",
        "the Youth service",
        "Us and the County Council",
        "bury the past",
        "reading the report",
        "Reading the report, members asked",
        "North East region",
        "the South West and London",
        "Greater Manchester",
        "Mr Stokes said",
        "highland cattle",
        "Piccadilly Gate, Store Street, Manchester M1 2WD",
    ],
)
def test_find_ignores_words_that_are_not_councils(text: str) -> None:
    assert _found(text) == []


def test_common_word_names_in_lower_case_need_to_be_known() -> None:
    assert _found("ofsted visit to reading") == []
    assert _found("ofsted visit to reading", known=["Reading"]) == [("reading", "Reading")]
    assert _found("what about bury care leavers", known={"bury"}) == [("bury", "Bury")]
    assert _found("bury the past", known={"Bury"}) == []


def test_a_name_of_two_places_joined_is_spoken_as_its_first() -> None:
    # Worked out from the names, not listed: every council named "X and Y", "X with Y", "X upon Y", "X-on-Y".
    assert _found("problems with the front door in Kensington?") == [("Kensington", "Kensington and Chelsea")]
    assert _found("how is hammersmith doing", known=["Hammersmith and Fulham"]) == [("hammersmith", "Hammersmith and Fulham")]
    assert _found("how is hammersmith doing") == []  # lower case: only a council the library holds
    assert _found("bath time for toddlers") == []  # a word, unless the library holds the council (as "bury")
    assert gazetteer().lookup("Windsor") == gazetteer().get("Windsor and Maidenhead")
    # In a report, a short form is a street or a town: never the council.
    assert _found("Our office on Windsor Road, Kensington", case_sensitive=True) == []
    # Listed aliases keep their reach: "Telford" heads a report.
    assert _found("Telford", case_sensitive=True) == [("Telford", "Telford and Wrekin")]


def test_case_sensitive_find_wants_capitals() -> None:
    assert _found("north somerset and Tameside", case_sensitive=True) == [("Tameside", "Tameside")]
    assert _found("WEST SUSSEX COUNTY COUNCIL", case_sensitive=True) == [("WEST SUSSEX COUNTY COUNCIL", "West Sussex")]
    assert _found("Warwickshre", case_sensitive=True) == []


_BODY = "\n".join(["The service has improved. Leaders in Hampshire County Council shared practice."] * 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Inspection of Tameside local authority\nchildren's services\nInspection dates: 4 to 15 December 2023\n",
            "Tameside",
        ),
        (
            "Inspection of Bournemouth, \nChristchurch and Poole local authority \nchildren's services\n",
            "Bournemouth, Christchurch and Poole",
        ),
        (
            " 1 \nTameside Borough Council\nInspection of services for children in need of help and\nprotection\n",
            "Tameside",
        ),
        ("London Borough of Barnet\nInspection of services for children in need of help\n", "Barnet"),
        (
            " 1 \nRoyal Borough of Kensington and \nChelsea\nInspection of services for children\n",
            "Kensington and Chelsea",
        ),
        ("Metropolitan Borough of Barnsley \nCouncil \nInspection of services for children\n", "Barnsley"),
        (
            "Inspection of looked after children\nservices\nMedway Council\nInspection dates: 15-19 July 2013\n",
            "Medway",
        ),
        ("West Sussex County Council\nReport to Cabinet\nDate: 1 March 2021\n", "West Sussex"),
        ("North Somerset Council\nReport to the Executive\nDate of Meeting: 21 October 2020\n", "North Somerset"),
        ("Inspection of Derby City local authority\nchildren's services\n", "Derby"),
        ("Bury Borough Council\nInspection of services for children\n", "Bury"),
    ],
)
def test_report_council_reads_the_heading(text: str, expected: str) -> None:
    council = gazetteer().report_council(text + _BODY)
    assert council is not None and council.name == expected


def test_report_council_prefers_the_title_over_comparators() -> None:
    g = gazetteer()
    text = "Update on improvement\n" + "\n".join(["Our practice was compared with Leeds and with Leeds again."] * 5)
    assert (g.report_council(text, title="Darlington Cabinet report") or Council("")).name == "Darlington"
    assert (g.report_council(text) or Council("")).name == "Leeds"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Update on improvement\nThe Council has improved its front door and its care leavers offer.",
        "Update\n"
        + "\n".join(["Support from Hampshire and from Surrey, and from Kent, was useful to the Council."] * 4),
        "Joint report of Hampshire County Council and Isle of Wight Council\nCabinet\n",
        "Update\nWe visited Leeds to learn how they improved; their approach was shared.",
    ],
)
def test_report_council_never_guesses(text: str) -> None:
    assert gazetteer().report_council(text) is None


def _field_reports() -> list[tuple[Path, str]]:
    truth = FIELD / "truth.csv"
    if not truth.exists():
        return []
    with truth.open(encoding="utf-8") as f:
        return [(FIELD / r["file"], r["council"]) for r in csv.DictReader(f) if (FIELD / r["file"]).exists()]


@pytest.mark.parametrize(("path", "council"), _field_reports(), ids=lambda v: getattr(v, "name", v))
def test_report_council_on_field_reports(path: Path, council: str) -> None:
    from pypdf import PdfReader

    if not path.read_bytes().startswith(b"%PDF"):
        assert path.read_bytes().lstrip().startswith(b"<"), path  # the saved "report not found" web page
        return
    text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    assert gazetteer().report_council(text) == gazetteer().lookup(council)


def test_a_short_form_that_is_also_a_possessive_is_the_council_the_library_holds() -> None:
    # "Derbys" is Derbyshire's short form, and "derbys" is how "Derby's" is typed in a hurry.
    question = "what did the 2017 one say about derbys care leavers"
    assert [m.council.name for m in gazetteer().find(question, known=["Derby"])] == ["Derby"]
    assert [m.council.name for m in gazetteer().find(question, known=["Derbyshire", "Derby"])] == ["Derbyshire"]
    assert [m.council.name for m in gazetteer().find(question)] == ["Derbyshire"]


def test_a_council_written_with_its_short_suffix_is_one_mention() -> None:
    for text, name in [("Surrey CC - compare", "Surrey"), ("swindon bc grades", "Swindon"), ("Tameside MBC Dec 2023", "Tameside")]:
        found = gazetteer().find(text)
        assert [m.council.name for m in found] == [name] and text[found[0].start : found[0].end].lower().endswith(("cc", "bc"))
