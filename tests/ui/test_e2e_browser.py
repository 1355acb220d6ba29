"""The running app driven in headless Chromium: chat, citations, filters, uploads, safe rendering.

Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`); screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from served import ROOT, Server, serve

from assistant.documents.read import read_report
from assistant.errors import ReportError

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
TIMEOUT = 60_000

FOSTERING = (
    # A real council the samples do not cover: councils come from the gazetteer, never invented.
    "Rutland County Council\n\nFostering Recruitment Progress Report\n\nCabinet, 14 July 2022\n\n"
    "1. The Fostering Recruitment Hub opened in April 2022 to speed up assessments of new carers.\n\n"
    "2. Between April and June 2022 the Fostering Recruitment Hub approved 14 new foster carers.\n\n"
    "3. A second recruitment campaign will start in September 2022.\n"
)
MARKUP = (
    "Northumberland County Council\n\n"
    'Report on <script>window.__pwned=1</script> Kinship Care <img src=x onerror="window.__pwned=2">\n\n'
    '1. The kinship care panel met 9 times <b onmouseover="window.__pwned=3">in 2022</b> and '
    '<img src=x onerror="window.__pwned=4"> approved 23 kinship carers.\n\n'
    "2. A review of kinship allowances will report in March 2023.\n"
)
BROKEN_PDF = b"%PDF-1.4 this is not really a pdf"


@pytest.fixture(scope="module")
def app(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("e2e"), index_from=sample_index_dir) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Any, app: Server) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(app.url)
    page.locator("#cra-question textarea").wait_for()
    yield page
    context.close()
    assert not errors, errors


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def ask(page: Any, question: str) -> Any:
    """Ask in the chat and return the new answer's element."""
    answers = page.locator("#cra-chat .cra-answer")
    before = answers.count()
    page.locator("#cra-question textarea").fill(question)
    page.locator("#cra-ask").click()
    answers.nth(before).wait_for()
    return answers.nth(before)


def choose(page: Any, dropdown: str, option: str) -> None:
    """Pick the first option of a dropdown that contains `option`, typing it to filter the list."""
    field = page.locator(f"{dropdown} input")
    field.click()
    field.fill(option)
    page.get_by_role("option").filter(has_text=option).first.click()
    page.keyboard.press("Escape")


def upload(page: Any, files: list[dict[str, Any]]) -> Any:
    """Upload files in the Library tab and return the result list."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.get_by_role("tab", name="Library").click()
    chips = [page.locator("#cra-upload").get_by_text(f["name"].split("/")[-1][:12]).first for f in files]
    page.locator("#cra-upload input[type=file]").set_input_files(files)
    try:
        for chip in chips:
            chip.wait_for(timeout=30_000)
    except PlaywrightTimeout:
        # The previous upload's reply clears the file box; under load it can land after new files were set.
        if any(chip.count() for chip in chips):
            raise
        page.locator("#cra-upload input[type=file]").set_input_files(files)
        for chip in chips:
            chip.wait_for()
    page.locator("#cra-upload-button").click()
    outcomes = page.locator("#cra-outcomes li")
    outcomes.first.wait_for()
    return page.locator("#cra-outcomes")


def text_file(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/plain", "buffer": text.encode()}


def test_chat_cites_expands_follows_up_filters_and_copies(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#cra-header h1")).to_have_text("Council Reports Assistant")
    expect(page.get_by_text("What did Ofsted find at Worcestershire's latest monitoring visit?")).to_be_visible()

    answer = ask(page, "How many agency social workers does West Sussex have in post?")
    expect(answer).to_have_class("cra-answer cra-answered")
    expect(answer.locator(".cra-text")).to_contain_text("Around 75 FTE Agency Social Workers")
    expect(answer.locator(".cra-ref").first).to_have_text("[1]")
    card = answer.locator("details.cra-card").first
    summary = card.locator("summary")
    expect(summary).to_contain_text("[1] West Sussex · ")
    expect(summary).to_contain_text(" · February 2020 · para 8")
    quote = card.locator("mark.cra-quote")
    expect(quote).to_be_hidden()
    summary.click()
    expect(quote).to_be_visible()
    expect(quote).to_contain_text("Around 75 FTE Agency Social Workers are in post")
    expect(card.locator(".cra-cited")).to_contain_text("The uncovered vacancy gap is currently 5.34%")
    expect(card.locator(".cra-neighbour").first).to_contain_text("para 7")
    expect(card.get_by_role("link", name="Open the whole report at para 8")).to_be_visible()
    shot(page, "chat-citation.png")

    page.locator("#cra-copy").click()
    copied = page.locator("#cra-copy-text textarea")
    expect(copied).to_be_visible()
    text = copied.input_value()
    assert text.startswith("How many agency social workers does West Sussex have in post?\n\n")
    assert "\nReferences\n[1] West Sussex, " in text and ", February 2020, para 8 (000_593dbc0cfa530023.txt)" in text

    follow = ask(page, "And what was the vacancy gap?")
    expect(follow.locator(".cra-understood")).to_contain_text("West Sussex")  # the follow-up took its subject from history
    expect(follow.locator(".cra-text")).to_contain_text("5.34%")

    refusal = ask(page, "What is the council's policy on parking permits?")
    expect(refusal).to_have_class("cra-answer cra-refused")
    expect(refusal.locator(".cra-refusal-title")).to_have_text("Not found in the reports")
    expect(refusal.locator("details.cra-closest").first).to_be_visible()
    expect(refusal.locator("details.cra-citation")).to_have_count(0)

    choose(page, "#cra-f-council", "Worcestershire")
    expect(page.locator("#cra-scope")).to_have_text("Searching only: Worcestershire")
    filtered = ask(page, "What did Ofsted find at the latest monitoring visit?")
    expect(filtered.locator(".cra-searched")).to_have_text("Searched only: Worcestershire")
    summaries = filtered.locator("details.cra-card summary").all_inner_texts()
    assert summaries and all(" Worcestershire · " in s for s in summaries), summaries

    page.locator("#cra-new").click()
    expect(page.locator("#cra-chat .cra-answer")).to_have_count(0)
    expect(page.locator("#cra-scope")).to_have_text("Searching all reports in the library.")
    expect(page.get_by_text("What did Ofsted find at Worcestershire's latest monitoring visit?")).to_be_visible()
    after = ask(page, "Who led it?")  # no history now: nothing to resolve "it" against
    expect(after.locator(".cra-understood")).to_have_count(0)


def test_citation_opens_the_report_at_its_paragraph(page: Any) -> None:
    from playwright.sync_api import expect

    answer = ask(page, "How many agency social workers does West Sussex have in post?")
    card = answer.locator("details.cra-card").first
    card.locator("summary").click()
    with page.context.expect_page() as opened:
        card.get_by_role("link", name="Open the whole report at para 8").click()
    reader = opened.value
    reader.locator("#cra-reader .cra-target").wait_for()
    expect(reader.get_by_role("tab", name="Read a report")).to_have_attribute("aria-selected", "true")
    target = reader.locator("#cra-reader .cra-target")
    expect(target.locator(".cra-label")).to_have_text("para 8")
    expect(target.locator("mark.cra-quote")).to_contain_text("Around 75 FTE Agency Social Workers")
    expect(target).to_be_in_viewport()
    expect(reader.locator("#cra-reader .cra-para")).to_have_count(14)
    shot(reader, "report-reader.png")


def test_upload_then_ask_and_a_bad_upload_is_explained(page: Any, app: Server) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#cra-library")).to_contain_text("5 reports")
    outcomes = upload(page, [text_file("exampleshire-fostering.txt", FOSTERING)])
    expect(outcomes.locator("li.cra-added")).to_have_text(re.compile(r"^Added exampleshire-fostering\.txt — \d+ passages$"))
    row = page.locator("#cra-library tr", has_text="exampleshire-fostering.txt")
    expect(row).to_contain_text("Rutland")
    expect(row).to_contain_text("Fostering Recruitment Progress Report")
    expect(page.locator("#cra-library")).to_contain_text("6 reports")
    assert (app.corpus / "uploads" / "exampleshire-fostering.txt").read_text(encoding="utf-8") == FOSTERING
    shot(page, "library-upload.png")

    broken = app.corpus.parent / "minutes.pdf"
    broken.write_bytes(BROKEN_PDF)
    with pytest.raises(ReportError) as cli_error:
        read_report(broken)
    outcomes = upload(page, [{"name": "minutes.pdf", "mimeType": "application/pdf", "buffer": BROKEN_PDF}])
    failed = outcomes.locator("li.cra-failed").first
    expect(failed.locator(".cra-status")).to_have_text("Not added")
    expect(failed.locator(".cra-outcome-message")).to_have_text(str(cli_error.value))
    assert not (app.corpus / "uploads" / "minutes.pdf").exists()
    expect(page.locator("#cra-library")).to_contain_text("6 reports")

    page.get_by_role("tab", name="Ask").click()
    answer = ask(page, "How many new foster carers did the Fostering Recruitment Hub approve?")
    expect(answer.locator(".cra-text")).to_contain_text("14 new foster carers")
    expect(answer.locator("details.cra-card summary").first).to_contain_text("Rutland · Fostering Recruitment Progress Report")


def test_markup_in_a_report_is_shown_as_text_and_never_runs(page: Any, app: Server) -> None:
    from playwright.sync_api import expect

    outcomes = upload(page, [text_file("kinship<img src=x onerror=window.__pwned=5>.txt", MARKUP)])
    expect(outcomes.locator("li.cra-added")).to_be_visible()
    row = page.locator("#cra-library tr", has_text="Northumberland")
    expect(row).to_contain_text('Report on <script>window.__pwned=1</script> Kinship Care <img src=x onerror="window.__pwned=2">')

    page.get_by_role("tab", name="Ask").click()
    answer = ask(page, "How many kinship carers did the kinship care panel approve?")
    expect(answer.locator(".cra-text")).to_contain_text('<img src=x onerror="window.__pwned=4"> approved 23 kinship carers')
    card = answer.locator("details.cra-card").first
    card.locator("summary").click()
    expect(card.locator("mark.cra-quote")).to_contain_text('<b onmouseover="window.__pwned=3">in 2022</b>')
    card.locator("mark.cra-quote").hover()

    page.get_by_role("tab", name="Read a report").click()
    choose(page, "#cra-reader-choice", "Northumberland")
    expect(page.locator("#cra-reader .cra-report-title")).to_contain_text("<script>window.__pwned=1</script>")
    shot(page, "markup-as-text.png")

    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("[onmouseover], [onerror]").count() == 0

    page.get_by_role("tab", name="Library").click()
    choose(page, "#cra-remove-choice", "Northumberland")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#cra-remove-button").click()
    expect(page.locator("#cra-outcomes li.cra-removed")).to_contain_text("its uploaded file was deleted")
    expect(page.locator("#cra-library")).not_to_contain_text("Northumberland")
    assert not list((app.corpus / "uploads").glob("kinship*"))


def test_readable_at_tablet_width(page: Any) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 820, "height": 1180})
    answer = ask(page, "How many agency social workers does West Sussex have in post?")
    answer.locator("details.cra-card summary").first.click()
    expect(page.locator("#cra-f-council")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "chat-tablet.png")


def test_timeline_history_charts_grades_and_a_figure_each_point_opening_its_citation(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Timeline").click()
    choose(page, "#cra-hist-council", "Worcestershire")
    chart = page.locator("#cra-hist-chart")
    point = chart.locator("a.cra-hist-point")
    expect(point).to_have_count(1)
    expect(point).to_have_attribute("data-grade", "inadequate")
    expect(chart.locator(".cra-hist-card").first).to_be_hidden()
    point.click()
    card = chart.locator(".cra-hist-card").first
    expect(card).to_be_visible()
    expect(card).to_contain_text("overall effectiveness: inadequate")
    expect(card).to_contain_text("Worcestershire")
    expect(card.locator("mark.cra-quote")).to_contain_text("inadequate")
    assert "report=" not in page.url  # the card opened in place; the point's link to the reader was not followed
    shot(page, "timeline-history.png")

    choose(page, "#cra-hist-council", "West Sussex")
    choose(page, "#cra-hist-metric", "vacancy rate")
    series = page.locator("#cra-hist-series")
    values = series.locator("a.cra-hist-value")
    expect(values).to_have_count(2)
    expect(values.nth(0)).to_contain_text("18.5%")
    expect(values.nth(1)).to_contain_text("5.34%")
    values.nth(0).click()
    shown = series.locator(".cra-hist-card:visible")
    expect(shown).to_have_count(1)
    expect(shown).to_contain_text("vacancy rate: 18.5% (2019-02)")
    expect(shown.locator("mark.cra-quote")).to_contain_text("18.5%")
    shot(page, "timeline-series.png")


def test_timeline_filters_by_council_and_opens_a_cited_item(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Timeline").click()
    chart = page.locator("#cra-tl-chart")
    expect(chart.locator("a.cra-tl-bar").first).to_be_attached()
    every = chart.locator("a.cra-tl-bar").count()

    choose(page, "#cra-tl-council", "Worcestershire")
    expect(page.locator("#cra-tl-summary")).to_contain_text("commitments")
    expect(chart.locator("a.cra-tl-bar")).not_to_have_count(every)
    table = page.locator("#cra-tl-table")
    expect(table).to_contain_text("Worcestershire")
    expect(table).not_to_contain_text("West Sussex")
    expect(table).not_to_contain_text("Darlington")

    table.get_by_text("during February 2018").first.click()
    passage = page.locator("#cra-tl-passage")
    expect(passage.locator("mark.cra-quote")).to_contain_text("likely to be scheduled to take place during February 2018")
    shot(page, "timeline.png")

    passage.get_by_role("link", name="Open in the report").click()
    target = page.locator("#cra-reader .cra-target")
    target.wait_for()
    expect(target.locator(".cra-label")).to_have_text("para 16")
    expect(target.locator("mark.cra-quote")).to_contain_text("February 2018")


def test_briefing_tab_prepares_previews_and_downloads_a_note(page: Any, tmp_path: Path) -> None:
    import docx
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Briefing").click()
    page.locator("#cra-brief-topic textarea, #cra-brief-topic input").first.fill("workforce")
    choose(page, "#cra-brief-council", "West Sussex")
    page.locator("#cra-brief-go").click()
    preview = page.locator("#cra-brief-preview")
    expect(preview).to_contain_text("Briefing note: Workforce", timeout=TIMEOUT)
    expect(preview).to_contain_text("5.34%")
    expect(preview).to_contain_text("Commitments and dates")
    expect(preview).to_contain_text("Social Work Offer")
    shot(page, "briefing.png")

    link = page.locator("#cra-brief-file a").first
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "note.docx"
    download.value.save_as(saved)
    document = docx.Document(str(saved))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Summary" in headings and "Commitments and dates" in headings
    assert document.tables and "Social Work Offer" in document.tables[0].rows[1].cells[0].text


@pytest.fixture(scope="module")
def login_app(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with a users file (an editor and a reader), served on loopback."""
    from ui.auth import add_user

    folder = tmp_path_factory.mktemp("e2e-login")
    users = folder / "users.txt"
    add_user(users, "edna", "edna-password", "editor")
    add_user(users, "rita", "rita-password", "reader")
    with serve(folder, index_from=sample_index_dir, env={"ASSISTANT_USERS_FILE": str(users)}) as server:
        yield server


def _log_in(browser: Any, server: Server, name: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(server.url)
    page.locator("input[type=password]").wait_for()
    page.locator("input:not([type=password])").first.fill(name)
    page.locator("input[type=password]").fill(f"{name}-password")
    page.get_by_role("button", name=re.compile("log ?in", re.I)).click()
    page.locator("#cra-question textarea").wait_for()
    return context, page


def test_login_page_hides_the_library_and_only_editors_see_library_controls(browser: Any, login_app: Server) -> None:
    from playwright.sync_api import expect

    from assistant.index.index import Index
    from assistant.settings import Settings

    reports = Index(Settings(index_dir=login_app.index)).reports
    names = sorted(reports) + Index(Settings(index_dir=login_app.index)).councils
    context = browser.new_context()
    page = context.new_page()
    page.goto(login_app.url)
    page.locator("input[type=password]").wait_for()
    shown = page.content()
    context.close()
    assert not [name for name in names if name in shown], "the login page names the library"

    context, page = _log_in(browser, login_app, "rita")
    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#cra-library")).to_contain_text("5 reports")
    expect(page.locator("#cra-upload-button")).to_be_hidden()
    expect(page.locator("#cra-remove-button")).to_be_hidden()
    shot(page, "library-reader.png")
    context.close()

    context, page = _log_in(browser, login_app, "edna")
    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#cra-upload-button")).to_be_visible()
    expect(page.locator("#cra-remove-button")).to_be_visible()
    context.close()
