"""The one date vocabulary: month names, ISO dates from their parts, dates in words, report dates as intervals.

Report text names months in full or abbreviated ("Sept", "Dec."); everything the assistant stores
is ISO ("2021-03-19", or "2021-03" and "2021" when the text gives no more); people read dates in
words ("19 March 2021"). Finding time expressions in running text is `assistant.timeexpr`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
# Month names and the abbreviations reports use, each to its number.
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("January", "Jan"), ("February", "Feb"), ("March", "Mar"), ("April", "Apr"), ("May",),
            ("June", "Jun"), ("July", "Jul"), ("August", "Aug"), ("September", "Sept", "Sep"),
            ("October", "Oct"), ("November", "Nov"), ("December", "Dec"),
        ],
        start=1,
    )
    for name in names
}
# Regular-expression alternations: full month names, and any month as reports write it.
FULL_MONTHS = "|".join(MONTH_NAMES)
ANY_MONTH = FULL_MONTHS + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?"


def month_number(name: str) -> int | None:
    """1-12 for a month name or abbreviation in any case ('march', 'Sept', 'DEC.'); None otherwise."""
    return MONTHS.get(name.rstrip(".").capitalize())


def iso_date(day: str | None, month: str, year: str) -> str:
    """'19', 'March', '2021' → '2021-03-19'; without a day, '2021-03'; '' when it is no real date."""
    number = month_number(month)
    try:
        if number is None:
            return ""
        if day is None:
            return date(int(year), number, 1).isoformat()[:7]
        return date(int(year), number, int(day)).isoformat()
    except ValueError:
        return ""


def human_date(iso: str) -> str:
    """'2021-03-19' → '19 March 2021'; '2020-02' → 'February 2020'; '2016' → '2016'; '' → 'undated'.

    Anything that is not an ISO date at day, month or year precision is returned as it is.
    """
    anchor = Anchor.parse(iso)
    if anchor is None:
        return iso or "undated"
    start = anchor.start
    if anchor.granularity == "day":
        return f"{start.day} {MONTH_NAMES[start.month - 1]} {start.year}"
    return f"{MONTH_NAMES[start.month - 1]} {start.year}" if anchor.granularity == "month" else str(start.year)


def human_month(iso: str) -> str:
    """'2021-03-19' and '2021-03' → 'March 2021'; '2016' → '2016'; '' → 'undated'."""
    anchor = Anchor.parse(iso)
    if anchor is None:
        return iso or "undated"
    if anchor.granularity == "year":
        return str(anchor.start.year)
    return f"{MONTH_NAMES[anchor.start.month - 1]} {anchor.start.year}"


def human_span(start: date, end: date) -> str:
    """An interval as people write it: '3 December 2019', '3–4 December 2019', 'July 2016', '2021'."""
    whole_months = start.day == 1 and end == month_end(end.year, end.month)
    first, last = f"{MONTH_NAMES[start.month - 1]} {start.year}", f"{MONTH_NAMES[end.month - 1]} {end.year}"
    if start == end:
        return f"{start.day} {first}"
    if whole_months and (start.month, end.month) == (1, 12) and start.year == end.year:
        return str(start.year)
    if (start.year, start.month) == (end.year, end.month):
        return first if whole_months else f"{start.day}–{end.day} {first}"
    if not whole_months:
        return f"{start.day} {first} to {end.day} {last}"
    return f"{MONTH_NAMES[start.month - 1]} to {last}" if start.year == end.year else f"{first} to {last}"


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Anchor:
    """The date a report carries, as an interval: its time expressions are read against it."""

    start: date
    end: date
    granularity: str  # day, month, year

    @classmethod
    def parse(cls, iso: str) -> Anchor | None:
        parts = iso.split("-") if iso else []
        try:
            numbers = [int(p) for p in parts]
            if len(numbers) == 3:
                day = date(*numbers)
                return cls(day, day, "day")
            if len(numbers) == 2:
                return cls(date(numbers[0], numbers[1], 1), month_end(numbers[0], numbers[1]), "month")
            if len(numbers) == 1:
                return cls(date(numbers[0], 1, 1), date(numbers[0], 12, 31), "year")
        except ValueError:
            return None
        return None
