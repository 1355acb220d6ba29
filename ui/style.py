"""The app's stylesheet: plain, readable, council-blue; cards and tables that reflow on narrow screens."""

CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto !important; }
.cra-header h1 { font-size: 1.6rem; margin: 0.2rem 0 0.25rem; color: #0b3d6e; }
.cra-header p { margin: 0 0 0.5rem; color: #334155; max-width: 60rem; }
.cra-panel-title { margin: 0; font-size: 1.05rem; }
.cra-hint { margin: 0.1rem 0 0.4rem; color: #64748b; font-size: 0.9rem; }
.cra-scope { margin: 0 0 0.4rem; padding: 0.35rem 0.6rem; border-radius: 6px; background: #f1f5f9; color: #334155; font-size: 0.92rem; }
.cra-scope-filtered { background: #e0f2fe; color: #0c4a6e; }
.cra-scope-bad { background: #fef2f2; color: #991b1b; }

/* messages */
.cra-question { white-space: normal; }
.cra-answer p { margin: 0.25rem 0; }
.cra-answer ul { margin: 0.25rem 0 0.25rem 1.2rem; }
.cra-ref { color: #0b5cad; font-weight: 600; font-size: 0.85em; margin-left: 0.1em; }
.cra-understood, .cra-searched { color: #64748b; font-size: 0.85rem; font-style: italic; }
.cra-refused { border-left: 4px solid #d97706; padding-left: 0.7rem; }
.cra-error { border-left: 4px solid #b91c1c; padding-left: 0.7rem; }
.cra-refusal-title { font-weight: 700; color: #92400e; }
.cra-error .cra-refusal-title { color: #991b1b; }
.cra-sources { margin-top: 0.5rem; }
.cra-sources-title { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: #64748b; margin: 0.3rem 0 !important; }

/* citation cards */
details.cra-card { border: 1px solid #cbd5e1; border-left: 4px solid #0b5cad; border-radius: 6px; margin: 0.35rem 0; background: #f8fafc; }
details.cra-closest { border-left-color: #94a3b8; }
details.cra-card > summary { cursor: pointer; padding: 0.35rem 0.6rem; font-size: 0.9rem; list-style-position: inside; overflow-wrap: anywhere; }
details.cra-card[open] > summary { border-bottom: 1px solid #e2e8f0; }
.cra-n { font-weight: 700; color: #0b5cad; }
.cra-meta { color: #1e293b; }
.cra-context { padding: 0.4rem 0.7rem; font-size: 0.92rem; }
.cra-section { color: #475569; font-weight: 600; font-size: 0.85rem; margin: 0 0 0.3rem !important; }
.cra-para { margin: 0.3rem 0; line-height: 1.45; overflow-wrap: anywhere; }
.cra-neighbour { color: #64748b; }
.cra-label { display: inline-block; min-width: 3.2em; font-size: 0.8rem; font-weight: 600; color: #475569; }
mark.cra-quote { background: #fde68a; color: inherit; padding: 0 0.1em; border-radius: 2px; }
.cra-open { padding: 0 0.7rem 0.45rem; margin: 0 !important; font-size: 0.88rem; }
.cra-file { color: #64748b; font-family: ui-monospace, Consolas, monospace; font-size: 0.8rem; overflow-wrap: anywhere; }

/* library */
.cra-count { color: #334155; margin: 0.2rem 0 0.4rem; }
.cra-table-wrap { overflow-x: auto; }
table.cra-library { width: 100%; border-collapse: collapse; font-size: 0.92rem; }
table.cra-library th, table.cra-library td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid #e2e8f0; vertical-align: top; }
table.cra-library th { background: #f1f5f9; color: #334155; }
.cra-num { text-align: right !important; }
.cra-nowrap { white-space: nowrap; }
ul.cra-outcomes { list-style: none; padding: 0; margin: 0.4rem 0; }
li.cra-outcome { padding: 0.4rem 0.6rem; margin: 0.25rem 0; border-radius: 6px; background: #f0fdf4; border-left: 4px solid #15803d; }
li.cra-failed { background: #fef2f2; border-left-color: #b91c1c; }
li.cra-unchanged { background: #f8fafc; border-left-color: #94a3b8; }
.cra-status { font-weight: 700; margin-right: 0.3rem; }
.cra-outcome-message { color: #7f1d1d; margin-top: 0.15rem; overflow-wrap: anywhere; }
li.cra-removed .cra-outcome-message, li.cra-added .cra-outcome-message { color: #334155; }
.cra-empty { color: #64748b; }

/* report reader */
.cra-report { max-width: 52rem; }
.cra-report-title { font-size: 1.3rem; margin: 0.3rem 0; }
.cra-report-meta { color: #64748b; margin: 0 0 0.8rem; }
.cra-gap { font-weight: 600; color: #334155; margin: 0.8rem 0 0.2rem; overflow-wrap: anywhere; }
.cra-report .cra-para { margin: 0.45rem 0; }
.cra-target { background: #eff6ff; outline: 2px solid #93c5fd; border-radius: 4px; padding: 0.3rem; }

@media (max-width: 820px) {
  .cra-header h1 { font-size: 1.3rem; }
  table.cra-library td.cra-file, table.cra-library th:last-child { display: none; }
}
"""
