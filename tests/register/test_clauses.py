"""Sentences, list items and clauses of council prose."""

from __future__ import annotations

import re

from assistant.register.clauses import first_label, leaning, units


def test_units_keep_a_broken_list_item_whole() -> None:
    text = "Key points:\n - A focus on education ensures each child\n has a plan; and\n - Caseloads have reduced."
    assert [u.text for u in units(text)] == ["Key points:", "A focus on education ensures each child\n has a plan; and", "Caseloads have reduced."]


def test_a_clause_leans_by_its_own_verbs() -> None:
    text = "The plan was adopted in May, and the review will be held in July."
    lean = leaning(text)
    assert (lean(text.index("May")), lean(text.index("July"))) == ("past", "future")
    assert leaning("Caseloads in March.")(3) == "" and leaning("Caseloads in March.", "past")(3) == "past"


def test_first_label_is_the_first_rule_that_matches() -> None:
    rules = [("visit", re.compile(r"visit")), ("review", re.compile(r"review"))]
    assert (first_label(rules, "a review visit"), first_label(rules, "a plan", "other")) == ("visit", "other")
