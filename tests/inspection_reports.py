"""Ofsted report first pages of each framework and a council paper, as passages: shared by the register and answer tests."""

from __future__ import annotations

import re

from assistant.register.ofsted import InspectionRecord, read_inspection
from assistant.types import Passage

ILACS_STANDARD = """Inspection of Tameside local authority children’s services
Inspection dates: 4 to 15 December 2023
Lead inspector: Andy Waugh, His Majesty’s Inspector

Judgement Grade
The impact of leaders on social work practice with children and families Inadequate
The experiences and progress of children who need help and protection Inadequate
The experiences and progress of children in care Inadequate
The experiences and progress of care leavers Requires improvement to be good
Overall effectiveness Inadequate

There has been ineffective senior leadership in Tameside since the last inspection in 2019.
"""
ILACS_SHORT = """Inspection of the Royal Borough of
Kensington and Chelsea local authority children’s services
Inspection dates: 11 to 15 November 2024
Lead inspector: Nick Bennison, His Majesty’s Inspector

Judgement\tGrade
The impact of leaders on social work practice with children and families\tOutstanding
The experiences and progress of children who need help and protection\tOutstanding
The experiences and progress of children in care and care leavers\tGood
Overall effectiveness\tOutstanding

Children living in the borough continue to receive excellent services.
"""
SIF = """Tameside Borough Council
Inspection of services for children in need of help and protection, children looked after and care leavers and Review of the effectiveness of the Local Safeguarding Children Board1
Inspection date: 26 September 2016 to 20 October 2016
Report published: 9 December 2016

Children’s services in Tameside are inadequate
1. Children who need help and protection Inadequate
2. Children looked after and achieving permanence Requires improvement

2.1 Adoption performance Good
2.2 Experiences and progress of care leavers Requires improvement
3. Leadership, management and governance Inadequate

1 Ofsted produces this report under its power to combine reports in accordance with section 152 of the Education and Inspections Act 2006.

The Local Safeguarding Children Board (LSCB)
The Local Safeguarding Children Board requires improvement

The inspection team
Lead inspector: Paula Thomson-Jones HMI
Deputy lead inspector: Shirley Bailey HMI
"""
PRE_2013 = """Inspection of looked after children services
Medway Council

Inspection dates: 15-19 July 2013
Reporting inspector Sarah Urding HMI

Age group: All
Published: 23 August 2013

Overall effectiveness of services for looked after children and young people
Grade 4 (Inadequate)
8. The judgement for overall effectiveness is inadequate.

Leadership and management
Grade 4 (Inadequate)
61. From a starting point of a very low base the local authority has made progress.
"""
ACT = """Tameside Council Cabinet, 1 March 2017

1. Ofsted inspected the council under section 136 of the Education and Inspections Act 2006.
2. The Children Act 1989 sets out the duties of the council.
"""
MENTION = "5. Ofsted inspected Tameside's children's services in December 2023 and rated them as inadequate."


def passages(text: str, source: str, council: str = "Tameside", date: str = "2024-02-13") -> list[Passage]:
    """One passage per blank-line block, with offsets into `text` as split_report gives them."""
    out = []
    for n, block in enumerate(re.finditer(r"\S(?:.|\n(?!\s*\n))*", text)):
        out.append(
            Passage(
                id=f"{source}@x#{n}", source=source, council=council, date=date, paragraph=f"¶{n + 1}",
                ordinal=n, start=block.start(), end=block.end(), text=block.group(0),
            )
        )
    return out


def read(text: str, source: str = "report.pdf", council: str = "Tameside") -> InspectionRecord:
    record = read_inspection(passages(text, source, council))
    assert record is not None
    return record
