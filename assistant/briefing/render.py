"""A briefing note as Markdown, HTML (a page, or a fragment for the app) or a Word document.

Report text is untrusted: Markdown escapes its markup characters, HTML escapes everything it did
not write itself, and Word receives it as plain runs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.briefing import history
from assistant.briefing.model import (
    SECTIONS,
    TABLE_HEADERS,
    Briefing,
    Point,
    Question,
    by_council,
    citation_line,
    figure_lead,
    finding_lead,
    heading_rows,
    para_label,
    point_lead,
    report_line,
    see_also,
    status_text,
    title,
    when_text,
)
from assistant.briefing.word import to_docx
from assistant.dates import human_date
from assistant.errors import AssistantError
from assistant.types import Citation

FORMATS = ("md", "html", "docx")
SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".docx": "docx"}


# ------------------------------------------------------------------ Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<|])")


def md(text: str) -> str:
    """Report text that Markdown shows literally."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _md_refs(refs: Sequence[int]) -> str:
    # No link definitions are written, so '[1]' stays literal text in any CommonMark reader.
    return "".join(f"[{n}]" for n in refs)


def _md_point(point: Point, *, with_council: bool, figure: bool = False) -> str:
    lead = figure_lead(point) if figure else point_lead(point, with_council=with_council)
    head = f"**{md(lead)}:** " if lead else ""
    return f"{head}{md(point.text)} {_md_refs(point.refs)}"


def to_markdown(note: Briefing) -> str:
    out = [f"# {md(title(note))}", ""]
    out += [f"- **{label}:** {md(value)}" for label, value in heading_rows(note)]
    out += ["", "Reports drawn on:", ""]
    out += [f"- {md(report_line(s))}" for s in note.sources]
    out += ["", f"## {SECTIONS[0]}", ""]
    out += [f"{i}. {_md_point(p, with_council=True)}" for i, p in enumerate(note.summary, start=1)] or ["Nothing in the reports."]

    out += ["", f"## {SECTIONS[1]}", ""]
    if not (note.findings or note.judgements):
        out += ["The reports drawn on give no other Ofsted findings on this topic.", ""]
    groups = by_council(note.judgements + note.findings)
    for council in sorted(groups):
        out += [f"### {md(council)}", ""]
        for p in groups[council]:
            if p.items:
                out.append(f"- **{md(finding_lead(note, p))}:** {_md_refs(p.refs)}")
                out += [f"  - {md(item)}" for item in p.items]
            else:
                out.append(f"- **{md(finding_lead(note, p))}:** {md(p.text)} {_md_refs(p.refs)}")
        out.append("")
    if see_also(note, "findings"):
        out += [f"_{see_also(note, 'findings')}_", ""]

    out += [f"## {SECTIONS[2]}", ""]
    if note.commitments:
        out += ["| " + " | ".join(TABLE_HEADERS) + " |", "|" + "---|" * len(TABLE_HEADERS)]
        for row in note.commitments:
            cells = [md(row.what), md(row.who or "—"), md(when_text(row)), md(status_text(row)),
                     f"{md(row.council)}, {md(human_date(row.report_date))} {_md_refs(row.refs)}"]
            out.append("| " + " | ".join(cells) + " |")
    else:
        out += ["The register holds no dated commitments on this topic."]

    out += ["", f"## {SECTIONS[3]}", ""]
    if not note.progress:
        out += ["The reports give no other figures or changes on this topic.", ""]
    groups = by_council(note.progress)
    for council in sorted(groups):
        out += [f"### {md(council)}", ""]
        out += [f"- {_md_point(p, with_council=False, figure=True)}" for p in groups[council]]
        out.append("")
    if see_also(note, "progress"):
        out += [f"_{see_also(note, 'progress')}_", ""]

    out += [f"## {SECTIONS[4]}", ""]
    out += [f"{i}. **{md(q.ask)}** {md(q.basis)} {_md_refs(q.refs)}" for i, q in enumerate(note.questions, start=1)] or [
        "None arise from the reports drawn on."
    ]

    out += ["", *history.to_markdown(note.history, note.series, md, _md_refs), f"## {SECTIONS[5]}", ""]
    for s in note.sources:
        paras = ", ".join(para_label(p) for p in s.paragraphs)
        out.append(f"- **{md(s.council)}**, _{md(s.title)}_, {md(s.committee) + ', ' if s.committee else ''}"
                   f"{human_date(s.date)} (`{s.source}`): {md(paras)} — references {_md_refs(s.refs)}")
    out += ["", "### References", ""]
    out += [f"{_md_refs([c.n])} {md(citation_line(c))}: “{md(c.quote)}”  " for c in note.citations]
    return "\n".join(out).rstrip() + "\n"


# ------------------------------------------------------------------ HTML

CSS = """
.cra-brief { font-family: Arial, Helvetica, sans-serif; color: #1f2937; max-width: 52rem; line-height: 1.45; }
.cra-brief h1 { color: #0b3d62; font-size: 1.6rem; border-bottom: 3px solid #0b3d62; padding-bottom: .3rem; }
.cra-brief h2 { color: #0b3d62; font-size: 1.2rem; margin-top: 1.6rem; }
.cra-brief h3 { font-size: 1rem; margin-bottom: .3rem; }
.cra-brief table { border-collapse: collapse; width: 100%; font-size: .92rem; }
.cra-brief th, .cra-brief td { border: 1px solid #9ca3af; padding: .3rem .45rem; text-align: left; vertical-align: top; }
.cra-brief th { background: #e5edf4; }
.cra-brief table.cra-brief-head th { width: 11rem; }
.cra-brief sup a { text-decoration: none; }
.cra-brief .cra-brief-refs { font-size: .88rem; }
.cra-brief .cra-brief-see { font-style: italic; color: #4b5563; }
""".strip()


def esc(text: str) -> str:
    return html.escape(" ".join(str(text).split()), quote=True)


def _html_refs(refs: Sequence[int], link: Callable[[int], str]) -> str:
    return "".join(f'<sup><a href="{esc(link(n))}">[{n}]</a></sup>' for n in refs)


def _html_point(point: Point, refs: str, *, with_council: bool, figure: bool = False) -> str:
    lead = figure_lead(point) if figure else point_lead(point, with_council=with_council)
    head = f"<strong>{esc(lead)}:</strong> " if lead else ""
    return f"{head}{esc(point.text)}{refs}"


def to_html(
    note: Briefing,
    *,
    standalone: bool = True,
    link: Callable[[int], str] | None = None,
    source_link: Callable[[Citation], str] | None = None,
) -> str:
    """The note as HTML: a whole page, or (standalone=False) a fragment to place in the app.

    `link` gives each [n] marker's target (default: the reference below); `source_link`, when
    given, makes each reference a link to the cited passage.
    """
    link = link or (lambda n: f"#ref-{n}")

    def reference(c: Citation) -> str:
        text = esc(citation_line(c))
        return f'<a href="{esc(source_link(c))}">{text}</a>' if source_link else text

    def refs(ns: Sequence[int]) -> str:
        return _html_refs(ns, link)

    parts = ['<div class="cra-brief">', f"<h1>{esc(title(note))}</h1>", '<table class="cra-brief-head">']
    parts += [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in heading_rows(note)]
    parts += ["</table>", "<p>Reports drawn on:</p><ul>"] + [f"<li>{esc(report_line(s))}</li>" for s in note.sources] + ["</ul>"]

    parts.append(f"<h2>{SECTIONS[0]}</h2>")
    parts.append("<ol>" + "".join(f"<li>{_html_point(p, refs(p.refs), with_council=True)}</li>" for p in note.summary) + "</ol>"
                 if note.summary else "<p>Nothing in the reports.</p>")

    parts.append(f"<h2>{SECTIONS[1]}</h2>")
    if not (note.findings or note.judgements):
        parts.append("<p>The reports drawn on give no other Ofsted findings on this topic.</p>")
    groups = by_council(note.judgements + note.findings)
    for council in sorted(groups):
        items = []
        for p in groups[council]:
            body = "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in p.items) + "</ul>" if p.items else esc(p.text)
            items.append(f"<li><strong>{esc(finding_lead(note, p))}:</strong> {refs(p.refs) if p.items else ''}{body}{'' if p.items else refs(p.refs)}</li>")
        parts.append(f"<h3>{esc(council)}</h3><ul>{''.join(items)}</ul>")
    if see_also(note, "findings"):
        parts.append(f'<p class="cra-brief-see">{esc(see_also(note, "findings"))}</p>')

    parts.append(f"<h2>{SECTIONS[2]}</h2>")
    if note.commitments:
        head = "".join(f"<th>{h}</th>" for h in TABLE_HEADERS)
        rows = "".join(
            f"<tr><td>{esc(r.what)}</td><td>{esc(r.who or '—')}</td><td>{esc(when_text(r))}</td><td>{esc(status_text(r))}</td>"
            f"<td>{esc(r.council)}, {esc(human_date(r.report_date))}{refs(r.refs)}</td></tr>"
            for r in note.commitments
        )
        parts.append(f'<table class="cra-brief-commitments"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>')
    else:
        parts.append("<p>The register holds no dated commitments on this topic.</p>")

    parts.append(f"<h2>{SECTIONS[3]}</h2>")
    if not note.progress:
        parts.append("<p>The reports give no other figures or changes on this topic.</p>")
    groups = by_council(note.progress)
    for council in sorted(groups):
        items = [f"<li>{_html_point(p, refs(p.refs), with_council=False, figure=True)}</li>" for p in groups[council]]
        parts.append(f"<h3>{esc(council)}</h3><ul>{''.join(items)}</ul>")
    if see_also(note, "progress"):
        parts.append(f'<p class="cra-brief-see">{esc(see_also(note, "progress"))}</p>')

    parts.append(f"<h2>{SECTIONS[4]}</h2>")
    parts.append("<ol>" + "".join(_html_question(q, refs(q.refs)) for q in note.questions) + "</ol>"
                 if note.questions else "<p>None arise from the reports drawn on.</p>")

    parts += history.to_html(note.history, note.series, esc, refs)
    parts.append(f"<h2>{SECTIONS[5]}</h2><ul>")
    for s in note.sources:
        paras = ", ".join(para_label(p) for p in s.paragraphs)
        parts.append(f"<li><strong>{esc(s.council)}</strong>, <em>{esc(s.title)}</em>, {esc(s.committee) + ', ' if s.committee else ''}"
                     f"{esc(human_date(s.date))} (<code>{esc(s.source)}</code>): {esc(paras)} — references {refs(s.refs)}</li>")
    parts.append('</ul><h3>References</h3><ol class="cra-brief-refs">')
    parts += [f'<li id="ref-{c.n}" value="{c.n}">{reference(c)}: “{esc(c.quote)}”</li>' for c in note.citations]
    parts.append("</ol></div>")
    body = "\n".join(parts)
    if not standalone:
        return body
    return (f'<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8"><title>{esc(title(note))}</title>'
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


def _html_question(q: Question, refs: str) -> str:
    return f"<li><strong>{esc(q.ask)}</strong> {esc(q.basis)}{refs}</li>"


# ------------------------------------------------------------------ files


def choose_format(fmt: str | None, out: Path | None) -> str:
    """The format asked for, else the one the file name implies, else Markdown."""
    implied = SUFFIXES.get(out.suffix.lower()) if out else None
    if fmt and implied and fmt != implied:
        raise AssistantError(f"--out {out}: the name ends {out.suffix} but --format is {fmt}; make them agree")  # type: ignore[union-attr]
    chosen = fmt or implied or "md"
    if chosen not in FORMATS:
        raise AssistantError(f"--format {chosen!r}: expected one of {', '.join(FORMATS)}")
    return chosen


def render(note: Briefing, fmt: str) -> bytes:
    if fmt == "docx":
        return to_docx(note)
    text = to_html(note) if fmt == "html" else to_markdown(note)
    return text.encode("utf-8")


def file_name(note: Briefing, fmt: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", note.topic.lower()).strip("-")[:40] or "note"
    return f"briefing-{slug}.{fmt}"


def write(note: Briefing, fmt: str, path: Path) -> Path:
    """Write the note to `path` whole (a temporary file renamed into place)."""
    data = render(note, fmt)
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise AssistantError(f"--out {path}: the folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AssistantError(f"--out {path}: cannot write ({exc.strerror})") from None
    return path
