"""Pure rendering: answers, citation cards, the library and reports as HTML; answers as plain text.

Report text, titles and file names are untrusted: every piece of them goes through `esc`, and the
only markup in the output is what these functions write. Chat messages are single-line HTML blocks
so the chat's Markdown renderer never reads report text as Markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from assistant.dates import human_date
from assistant.types import Answer, Citation, IndexedReport, Passage, Report, SearchHit

TITLE = "Council Reports Assistant"
_MARKER = re.compile(r"\[(\d+)\]")
_NUMBER_ONLY = re.compile(r"^[\s\-•*]*\(?[0-9]{1,3}[a-z]?[.)]?[\s*]*$")


@dataclass(frozen=True)
class Context:
    """The paragraphs either side of a cited passage, for reading it in place."""

    before: Passage | None = None
    after: Passage | None = None


def escape(text: object) -> str:
    """Text as HTML (or SVG) that displays it literally, quotes included."""
    return html.escape(str(text), quote=True)


def esc(text: object) -> str:
    """Text as HTML that displays it literally; newlines become <br> so output stays one line."""
    return escape(text).replace("\r\n", "\n").replace("\n", "<br>")


def para_label(paragraph: str) -> str:
    """'para 8' for a numbered paragraph; unnumbered text keeps its '¶n' position."""
    return paragraph if paragraph.startswith("¶") else f"para {paragraph}"


def report_url(source: str, passage_id: str = "", quote: tuple[int, int] | None = None) -> str:
    """Relative link that opens the report reader at a passage (and highlights a span of it)."""
    query = {"report": source}
    if passage_id:
        query["passage"] = passage_id
    if quote:
        query["q"] = f"{quote[0]}-{quote[1]}"
    return "?" + urlencode(query)


def quote_span(citation: Citation) -> tuple[int, int] | None:
    """Where the quote sits inside its passage; None when it cannot be found verbatim."""
    at = citation.passage.find(citation.quote) if citation.quote else -1
    return (at, at + len(citation.quote)) if at >= 0 else None


def citation_url(citation: Citation) -> str:
    """Relative link that opens the report reader at the cited paragraph, the quote highlighted."""
    return report_url(citation.source, citation.passage_id, quote_span(citation))


def _highlight(text: str, span: tuple[int, int] | None) -> str:
    if not span:
        return esc(text)
    start, end = span
    return f'{esc(text[:start])}<mark class="cra-quote">{esc(text[start:end])}</mark>{esc(text[end:])}'


def _para(label: str, body_html: str, cls: str) -> str:
    return f'<div class="cra-para {cls}"><span class="cra-label">{esc(label)}</span> {body_html}</div>'


def _meta_line(council: str, title: str, date: str, paragraph: str) -> str:
    bits = [council or "Unknown council", title or "Untitled report", human_date(date), para_label(paragraph)]
    return " · ".join(esc(b) for b in bits)


def _card(citation: Citation, *, number: int | None, span: tuple[int, int] | None, context: Context | None, kind: str) -> str:
    context = context or Context()
    marker = f'<span class="cra-n">[{number}]</span> ' if number is not None else ""
    parts = [
        f'<details class="cra-card cra-{kind}"><summary>{marker}<span class="cra-meta">'
        f"{_meta_line(citation.council, citation.title, citation.date, citation.paragraph)}</span></summary>",
        '<div class="cra-context">',
    ]
    if citation.section:
        parts.append(f'<p class="cra-section">{esc(citation.section)}</p>')
    if context.before is not None:
        parts.append(_para(para_label(context.before.paragraph), esc(context.before.text), "cra-neighbour"))
    parts.append(_para(para_label(citation.paragraph), _highlight(citation.passage, span), "cra-cited"))
    if context.after is not None:
        parts.append(_para(para_label(context.after.paragraph), esc(context.after.text), "cra-neighbour"))
    link = report_url(citation.source, citation.passage_id, span)
    parts.append(
        f'</div><p class="cra-open"><a href="{esc(link)}" target="_blank" rel="noopener">'
        f"Open the whole report at {esc(para_label(citation.paragraph))}</a> "
        f'<span class="cra-file">{esc(citation.source)}</span></p></details>'
    )
    return "".join(parts)


def citation_card(citation: Citation, context: Context | None = None) -> str:
    """A compact card (council · title · date · para) that expands to the passage in its context."""
    return _card(citation, number=citation.n, span=quote_span(citation), context=context, kind="citation")


def closest_card(hit: SearchHit, context: Context | None = None) -> str:
    """A card for a passage shown beside a refusal: nearest the question, but not an answer."""
    return _card(Citation.from_passage(0, hit.passage, ""), number=None, span=None, context=context, kind="closest")


def answer_body(text: str) -> str:
    """Answer text as paragraphs and lists, its [n] markers styled; every character escaped."""
    blocks: list[str] = []
    items: list[str] = []

    def line_html(line: str) -> str:
        out, last = [], 0
        for match in _MARKER.finditer(line):
            out.append(esc(line[last : match.start()]))
            out.append(f'<span class="cra-ref">[{match.group(1)}]</span>')
            last = match.end()
        out.append(esc(line[last:]))
        return "".join(out)

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(("- ", "• ")):
            items.append(f"<li>{line_html(stripped[2:])}</li>")
            continue
        if items:
            blocks.append(f"<ul>{''.join(items)}</ul>")
            items = []
        blocks.append(f"<p>{line_html(stripped)}</p>")
    if items:
        blocks.append(f"<ul>{''.join(items)}</ul>")
    return "".join(blocks)


def filters_text(filters: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> str:
    """Filters in words, e.g. 'West Sussex · from 2020 · to 2021-03'; empty when there are none."""
    titles = titles or {}
    bits: list[str] = []
    if filters.get("councils"):
        bits.append(", ".join(filters["councils"]))
    if filters.get("date_from"):
        bits.append(f"from {filters['date_from']}")
    if filters.get("date_to"):
        bits.append(f"to {filters['date_to']}")
    sources = filters.get("sources") or []
    if len(sources) == 1:
        bits.append(titles.get(sources[0]) or sources[0])
    elif sources:
        bits.append(f"{len(sources)} reports")
    return " · ".join(bits)


def filters_html(filters: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> str:
    """The line above the chat saying what the next question will search."""
    words = filters_text(filters, titles)
    if not words:
        return '<p class="cra-scope">Searching <strong>all reports</strong> in the library.</p>'
    return f'<p class="cra-scope cra-scope-filtered">Searching only: <strong>{esc(words)}</strong></p>'


def question_html(question: str) -> str:
    return f'<div class="cra-question">{esc(question)}</div>'


def answer_html(answer: Answer, contexts: Mapping[str, Context] | None = None) -> str:
    """One chat message: the answer (or refusal) with its citation (or closest-passage) cards."""
    contexts = contexts or {}
    kind = "cra-refused" if answer.refused else "cra-answered"
    parts = [f'<div class="cra-answer {kind}">']
    if answer.standalone_question.strip() != answer.question.strip():
        parts.append(f'<p class="cra-understood">Understood as: {esc(answer.standalone_question)}</p>')
    if answer.refused:
        parts.append('<p class="cra-refusal-title">Not found in the reports</p>')
    parts.append(f'<div class="cra-text">{answer_body(answer.answer)}</div>')
    if answer.written_by == "llm" and not answer.refused:
        parts.append('<p class="cra-searched">Worded by the language model from the passages below; each sentence was checked against its citation.</p>')
    scope = filters_text(answer.filters)
    if scope:
        parts.append(f'<p class="cra-searched">Searched only: {esc(scope)}</p>')
    if answer.citations:
        parts.append('<div class="cra-sources"><p class="cra-sources-title">Sources</p>')
        parts.extend(citation_card(c, contexts.get(c.passage_id)) for c in answer.citations)
        parts.append("</div>")
    elif answer.refused and answer.closest:
        parts.append('<div class="cra-sources"><p class="cra-sources-title">Closest passages (they do not answer it)</p>')
        parts.extend(closest_card(h, contexts.get(h.passage.id)) for h in answer.closest)
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def error_html(message: str) -> str:
    return f'<div class="cra-answer cra-error"><p class="cra-refusal-title">Could not answer</p><p>{esc(message)}</p></div>'


def reference_line(c: Citation) -> str:
    date = human_date(c.date)
    return f'[{c.n}] {c.council or "Unknown council"}, "{c.title or c.source}", {date}, {para_label(c.paragraph)} ({c.source})'


def email_text(answer: Answer) -> str:
    """The answer with numbered references, as plain text to paste into an email."""
    lines = [answer.question.strip(), "", answer.answer.strip()]
    if answer.citations:
        lines += ["", "References"]
        for c in answer.citations:
            lines.append(reference_line(c))
            lines.append(f'    "{" ".join(c.quote.split())}"')
    elif answer.refused and answer.closest:
        lines += ["", "Closest passages"]
        for hit in answer.closest:
            p = hit.passage
            lines.append(f'- {p.council}, "{p.title or p.source}", {human_date(p.date)}, {para_label(p.paragraph)} ({p.source})')
    return "\n".join(lines)


# ---------------------------------------------------------------- library


def header_html(count: int, councils: Sequence[str]) -> str:
    """The page's heading: what the assistant answers from."""
    where = f" ({', '.join(councils)})" if 0 < len(councils) <= 6 else ""
    return (
        f'<div class="cra-header"><h1>{esc(TITLE)}</h1>'
        f"<p>Answers questions only from the {count} council report{'s' if count != 1 else ''} in the library{esc(where)}, "
        "quoting the paragraph each fact comes from. When the reports do not say, it says so.</p></div>"
    )


def library_html(reports: Mapping[str, IndexedReport]) -> str:
    """The indexed reports as a table: council, date, title, passages, file."""
    if not reports:
        return '<p class="cra-empty">No reports are indexed yet. Upload some below.</p>'
    rows = sorted(reports.items(), key=lambda item: (item[1].council, item[1].date, item[0]))
    total = sum(int(e.passages) for _, e in rows)
    body = "".join(
        "<tr>"
        f'<td>{esc(e.council or "—")}</td>'
        f'<td class="cra-nowrap">{esc(human_date(e.date))}</td>'
        f'<td>{esc(e.title or "Untitled report")}</td>'
        f'<td class="cra-num">{int(e.passages)}</td>'
        f'<td class="cra-file">{esc(source)}</td>'
        "</tr>"
        for source, e in rows
    )
    return (
        f'<p class="cra-count">{len(rows)} report{"s" if len(rows) != 1 else ""}, {total} passages.</p>'
        '<div class="cra-table-wrap"><table class="cra-library"><thead><tr>'
        "<th>Council</th><th>Date</th><th>Title</th><th>Passages</th><th>File</th>"
        f"</tr></thead><tbody>{body}</tbody></table></div>"
    )


_STATUS_WORDS = {
    "added": "Added",
    "updated": "Updated",
    "unchanged": "Already indexed",
    "removed": "Removed",
    "failed": "Not added",
}


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one uploaded or removed file, as shown to the user."""

    name: str
    status: str
    passages: int = 0
    message: str = ""


def outcomes_html(outcomes: Sequence[FileOutcome]) -> str:
    """One line per file: its status, name, passages and (for failures) the reason."""
    if not outcomes:
        return ""
    items = []
    for o in outcomes:
        detail = f" — {o.passages} passage{'s' if o.passages != 1 else ''}" if o.passages and o.status != "failed" else ""
        message = f'<div class="cra-outcome-message">{esc(o.message)}</div>' if o.message else ""
        items.append(
            f'<li class="cra-outcome cra-{esc(o.status)}"><span class="cra-status">{esc(_STATUS_WORDS.get(o.status, o.status))}</span> '
            f'<span class="cra-file">{esc(o.name)}</span>{esc(detail)}{message}</li>'
        )
    return f'<ul class="cra-outcomes">{"".join(items)}</ul>'


# ---------------------------------------------------------------- report reader


def report_html(
    report: Report,
    passages: Iterable[Passage],
    *,
    target: str = "",
    span: tuple[int, int] | None = None,
) -> str:
    """A whole report with its paragraphs labelled; the target passage (and span in it) highlighted."""
    head = (
        f'<div class="cra-report"><h2 class="cra-report-title">{esc(report.title or report.source)}</h2>'
        f'<p class="cra-report-meta">{esc(" · ".join(b for b in (report.council, report.committee, human_date(report.date), report.source) if b))}</p>'
    )
    parts = [head]
    cursor = 0
    text = report.text

    def gap(between: str) -> None:
        # Headings stay; a bare paragraph number is dropped, as each passage shows its label.
        for line in between.splitlines():
            if line.strip() and not _NUMBER_ONLY.match(line):
                parts.append(f'<div class="cra-gap">{esc(line.strip())}</div>')

    for p in sorted(passages, key=lambda p: p.start):
        if p.start > cursor:
            gap(text[cursor : p.start])
        is_target = p.id == target
        body = _highlight(text[p.start : p.end], span if is_target else None)
        cls = "cra-cited cra-target" if is_target else "cra-plain"
        parts.append(
            f'<div class="cra-para {cls}" id="cra-p-{p.ordinal}"><span class="cra-label">{esc(para_label(p.paragraph))}</span> {body}</div>'
        )
        cursor = max(cursor, p.end)
    gap(text[cursor:])
    parts.append("</div>")
    return "".join(parts)


def report_choice_label(source: str, entry: IndexedReport) -> str:
    """How a report is named in pickers: council · date · title."""
    bits = [entry.council or "", human_date(entry.date), entry.title or source]
    return " · ".join(b for b in bits if b)
