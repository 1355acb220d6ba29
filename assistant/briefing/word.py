"""A briefing note as a Word document: heading styles, real tables, superscript references with endnotes.

python-docx is imported only when Word is asked for.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.briefing import history, model
from assistant.briefing.model import SECTIONS, TABLE_HEADERS, Briefing
from assistant.dates import human_date

if TYPE_CHECKING:
    from docx.text.paragraph import Paragraph

FONT = "Arial"


def to_docx(note: Briefing) -> bytes:
    """The note as a Word document: heading styles, a real table, superscript references with endnotes."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    for name in ("Title", "Heading 1", "Heading 2"):
        doc.styles[name].font.name = FONT
        doc.styles[name].font.color.rgb = RGBColor(0x0B, 0x3D, 0x62)
    props = doc.core_properties
    props.title, props.subject, props.author = model.title(note), note.topic, "Council Reports Assistant"

    def refs(paragraph: Paragraph, numbers: Sequence[int]) -> None:
        for n in numbers:
            run = paragraph.add_run(f"[{n}]")
            run.font.superscript = True

    def labelled(style: str, lead: str, text: str, numbers: Sequence[int], *, number: int = 0) -> None:
        paragraph = doc.add_paragraph(style=style)
        if number:
            # Numbers written out: Word's list numbering would run on from one list into the next.
            paragraph.paragraph_format.left_indent = Cm(0.9)
            paragraph.paragraph_format.first_line_indent = Cm(-0.6)
            paragraph.add_run(f"{number}.\t")
        if lead:
            paragraph.add_run(f"{lead}: ").bold = True
        paragraph.add_run(text)
        refs(paragraph, numbers)

    doc.add_paragraph(model.title(note), style="Title")
    for label, value in model.heading_rows(note):
        paragraph = doc.add_paragraph()
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(value)
    doc.add_paragraph().add_run("Reports drawn on:").bold = True
    for s in note.sources:
        doc.add_paragraph(model.report_line(s), style="List Bullet")

    doc.add_heading(SECTIONS[0], level=1)
    for i, p in enumerate(note.summary, start=1):
        labelled("Normal", model.point_lead(p, with_council=True), p.text, p.refs, number=i)

    doc.add_heading(SECTIONS[1], level=1)
    if not (note.findings or note.judgements):
        doc.add_paragraph("The reports drawn on give no other Ofsted findings on this topic.")
    groups = model.by_council(note.judgements + note.findings)
    for council in sorted(groups):
        doc.add_heading(council, level=2)
        for p in groups[council]:
            labelled("List Bullet", model.finding_lead(note, p), "" if p.items else p.text, p.refs)
            for item in p.items:
                doc.add_paragraph(item, style="List Bullet 2")
    if model.see_also(note, "findings"):
        doc.add_paragraph().add_run(model.see_also(note, "findings")).italic = True

    doc.add_heading(SECTIONS[2], level=1)
    if note.commitments:
        table = doc.add_table(rows=1, cols=len(TABLE_HEADERS))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, header in zip(table.rows[0].cells, TABLE_HEADERS):
            cell.text = ""
            cell.paragraphs[0].add_run(header).bold = True
            shade = OxmlElement("w:shd")
            shade.set(qn("w:val"), "clear")
            shade.set(qn("w:fill"), "E5EDF4")
            cell._tc.get_or_add_tcPr().append(shade)
        header_row = table.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        header_row.append(repeat)
        for row in note.commitments:
            cells = table.add_row().cells
            for cell, text in zip(cells, (row.what, row.who or "—", model.when_text(row), model.status_text(row))):
                cell.text = text
            cells[4].text = f"{row.council}, {human_date(row.report_date)}"
            refs(cells[4].paragraphs[0], row.refs)
    else:
        doc.add_paragraph("The register holds no dated commitments on this topic.")

    doc.add_heading(SECTIONS[3], level=1)
    if not note.progress:
        doc.add_paragraph("The reports give no other figures or changes on this topic.")
    groups = model.by_council(note.progress)
    for council in sorted(groups):
        doc.add_heading(council, level=2)
        for p in groups[council]:
            labelled("List Bullet", model.figure_lead(p), p.text, p.refs)
    if model.see_also(note, "progress"):
        doc.add_paragraph().add_run(model.see_also(note, "progress")).italic = True

    doc.add_heading(SECTIONS[4], level=1)
    for i, q in enumerate(note.questions, start=1):
        labelled("Normal", "", "", [], number=i)
        paragraph = doc.paragraphs[-1]
        paragraph.add_run(q.ask + " ").bold = True
        paragraph.add_run(q.basis)
        refs(paragraph, q.refs)
    if not note.questions:
        doc.add_paragraph("None arise from the reports drawn on.")

    history.to_docx(doc, note.history, note.series, refs)
    doc.add_heading(SECTIONS[5], level=1)
    for s in note.sources:
        paragraph = doc.add_paragraph(style="List Bullet")
        paragraph.add_run(s.council).bold = True
        paragraph.add_run(f", {s.title}")
        paragraph.add_run(f", {s.committee}" if s.committee else "")
        paragraph.add_run(f", {human_date(s.date)} ({s.source}): ")
        paragraph.add_run(", ".join(model.para_label(p) for p in s.paragraphs))
    doc.add_heading("References", level=2)
    for c in note.citations:
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(3)
        marker = paragraph.add_run(f"[{c.n}] ")
        marker.bold = True
        body = paragraph.add_run(f"{model.citation_line(c)}: “{' '.join(c.quote.split())}”")
        body.font.size = marker.font.size = Pt(9)

    footer = doc.sections[0].footer.paragraphs[0]
    footer.text = f"{model.title(note)} · prepared {human_date(note.prepared)} from council reports · every point cites its source"
    footer.runs[0].font.size = Pt(8)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
