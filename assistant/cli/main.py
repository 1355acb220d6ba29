"""Command line: `assistant ingest|docs|search|ask|chat|commitments|inspections|brief|eval|serve|settings|user`."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from assistant.errors import AssistantError
from assistant.settings import Settings, load_settings


def _fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn AssistantError into one line on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AssistantError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]  # type: ignore[no-any-return]


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


LOG_NAME = "assistant.log"


class _IndexLog(logging.Handler):
    """Appends warnings to the log in the index folder; a folder that cannot be written loses them, quietly."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.WARNING)
        self.path = path
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(self.format(record) + "\n")
        except OSError:
            pass


def _route_logs(index_dir: Path) -> None:
    """Library warnings (pypdf's "EOF marker not found") go to index/assistant.log, not over the progress bar."""
    logging.captureWarnings(True)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "assistant"]:
        root.removeHandler(handler)
    ours = logging.StreamHandler(sys.stderr)
    ours.addFilter(lambda record: record.name.split(".")[0] in ("assistant", "ui"))
    ours.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    for handler in (_IndexLog(index_dir / LOG_NAME), ours):
        handler.set_name("assistant")
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "ASSISTANT"})
@click.option("--index-dir", type=click.Path(path_type=Path), help="Index folder (env ASSISTANT_INDEX_DIR).")
@click.version_option(package_name="council-reports-assistant")
@click.pass_context
def cli(ctx: click.Context, index_dir: Path | None) -> None:
    """Cited answers from UK council reports, offline.

    \b
    Examples:
      assistant ingest corpus/
      assistant ask "How many agency social workers does West Sussex have?"
    """
    ctx.ensure_object(dict)
    try:
        ctx.obj["settings"] = load_settings(index_dir=index_dir)
    except AssistantError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    _route_logs(Path(ctx.obj["settings"].index_dir))


def _check_writable(folder: Path) -> None:
    """Fail with the folder's name and the fix when the index folder cannot be written."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise AssistantError(
            f"the index folder {folder} cannot be written ({exc.strerror or exc}): fix its permissions, "
            "or choose another with --index-dir or ASSISTANT_INDEX_DIR"
        ) from None


# ---------------------------------------------------------------- ingest & library


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Drop reports whose files are no longer among PATHS.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
@_fail_cleanly
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: bool, quiet: bool) -> None:
    """Read reports into the index; unchanged files are skipped.

    PATHS are files or folders (default: the corpus folder). Supported: .txt .md .pdf .docx .html

    \b
    Examples:
      assistant ingest corpus/
      assistant ingest --prune corpus/
    """
    from tqdm import tqdm

    from assistant.index.index import FileResult, Index

    settings = _settings(ctx)
    _check_writable(Path(settings.index_dir))
    index = Index(settings)
    targets = list(paths) or [settings.corpus_dir]
    bar: Any = None

    def progress(number: int, total: int, name: str) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(total=total, unit="file", file=sys.stderr, leave=False, dynamic_ncols=True)
        bar.set_description(name[:40])
        bar.update(1)

    def on_file(result: FileResult) -> None:
        line = f"{result.status:<9} {result.source}"
        if result.passages and result.status != "failed":
            line += f"  ({result.passages} passages)"
        if result.message:
            line += f"  {result.message}"
        if bar is not None:
            bar.clear()
        click.echo(line)

    try:
        summary = index.ingest(targets, prune=prune, on_file=on_file, progress=progress)
    except PermissionError as exc:
        raise AssistantError(f"{exc.filename or settings.index_dir} cannot be written ({exc.strerror}): fix its permissions") from None
    if bar is not None:
        bar.close()
    parts = [f"{summary.count(s)} {s}" for s in ("added", "updated", "unchanged", "removed", "failed") if summary.count(s)]
    click.echo(f"{', '.join(parts) or 'nothing to do'}; {len(index.reports)} reports indexed ({summary.seconds:.1f}s)")
    if summary.failed:
        sys.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@_fail_cleanly
def docs(ctx: click.Context, as_json: bool) -> None:
    """List the indexed reports with their metadata and passage counts.

    \b
    Example:
      assistant docs --json
    """
    from assistant.index.index import Index

    index = Index(_settings(ctx))
    rows = [
        entry.model_dump(include={"title", "council", "committee", "date", "author", "passages"}) | {"source": source}
        for source, entry in sorted(index.reports.items(), key=lambda item: (item[1].council, item[1].date))
    ]
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        click.echo("No reports indexed yet: run `assistant ingest corpus/`.")
        return
    for row in rows:
        click.echo(f"{row['council'] or '?':<16} {row['date'] or '?':<10} {row['passages']:>4}  {row['source']}  {row['title'][:70]}")


@cli.command()
@click.argument("source")
@click.pass_context
@_fail_cleanly
def remove(ctx: click.Context, source: str) -> None:
    """Remove one report (by file name) from the index; its file is kept.

    \b
    Example:
      assistant remove 000_593dbc0cfa530023.txt
    """
    from assistant.index.index import Index

    result = Index(_settings(ctx)).remove(source)
    if result.status == "failed":
        raise AssistantError(result.message)
    click.echo(f"removed {source} ({result.passages} passages)")


def _date(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A --from/--to value that is a real date; anything else is a usage error naming it (exit 2)."""
    from assistant.retrieval.search import Filters

    try:
        return Filters(date_from=value or "").date_from
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date: use 2020, 2020-03 or 2020-03-19") from None


def _filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--council", "councils", multiple=True, help="Only this council (repeatable).")(func)
    func = click.option("--from", "date_from", default="", callback=_date, help="Reports dated on or after (2020, 2020-03).")(func)
    func = click.option("--to", "date_to", default="", callback=_date, help="Reports dated on or before.")(func)
    func = click.option("--report", "sources", multiple=True, help="Only this report file (repeatable).")(func)
    return func


def _filters(councils: tuple[str, ...], date_from: str, date_to: str, sources: tuple[str, ...]) -> Any:
    from pydantic import ValidationError

    from assistant.retrieval.search import Filters

    try:
        return Filters(councils=list(councils), date_from=date_from, date_to=date_to, sources=list(sources))
    except ValidationError as exc:
        raise click.UsageError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None


NO_MATCH = "No reports match these filters"


@cli.command()
@click.argument("query", required=False)
@click.option("-k", "k", type=click.IntRange(1, 100), default=None, help="How many passages, 1-100 (default: top_k setting).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--jsonl",
    is_flag=True,
    help="Read JSON lines {question, council?, date_from?, date_to?, report?} from stdin; print {question, hits} a line.",
)
@_filter_options
@click.pass_context
@_fail_cleanly
def search(ctx: click.Context, query: str | None, k: int | None, as_json: bool, jsonl: bool, **filters: Any) -> None:
    """Rank passages for QUERY (hybrid dense + BM25).

    \b
    Examples:
      assistant search "agency social workers" -k 3
      assistant search --json "monitoring visit" --council Worcestershire
      echo '{"question": "monitoring visit", "council": "Darlington"}' | assistant search --jsonl -k 5
    """
    from assistant.index.index import Index
    from assistant.retrieval.search import Retriever

    settings = _settings(ctx)
    retriever = Retriever(Index(settings))
    chosen = _filters(**filters)
    if jsonl:
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            text, line_filters = _search_line(line, number, chosen)
            hits = [] if line_filters.matches_nothing(retriever.index.reports) else retriever.search(text, k=k, filters=line_filters)
            click.echo(json.dumps({"question": text, "hits": [hit_json(hit) for hit in hits]}, ensure_ascii=False))
        return
    if not (query or "").strip():
        raise click.UsageError("give a QUERY, or --jsonl to read questions from stdin")
    assert query is not None
    if chosen.matches_nothing(retriever.index.reports):
        message = f"{NO_MATCH} ({chosen.describe()}); `assistant docs` lists the reports."
        if as_json:
            _emit_json([])
        click.echo(message, err=as_json)
        return
    hits = retriever.search(query, k=k, filters=chosen)
    if as_json:
        _emit_json([hit_json(hit) for hit in hits])
        return
    for hit in hits:
        p = hit.passage
        click.echo(f"{hit.rank}. [{hit.score:.4f}] {p.council} · {p.date} · para {p.paragraph} · {p.source}")
        click.echo(f"   {p.text[:300]}")


def _search_line(line: str, number: int, defaults: Any) -> tuple[str, Any]:
    """One `search --jsonl` line: its question, and the filters (keys on the line replace the options)."""
    from pydantic import ValidationError

    try:
        row = json.loads(line)
        question = row["question"]
        if not isinstance(question, str) or not question.strip():
            raise TypeError("question must be non-empty text")
        update: dict[str, Any] = {key: row[key] for key in ("date_from", "date_to") if key in row}
        for key, name in (("council", "councils"), ("report", "sources")):
            if key in row:
                # One council or report may be given bare; the filter holds a list.
                update[name] = ([row[key]] if row[key] else []) if isinstance(row[key], str) else row[key]
        filters = type(defaults).model_validate(defaults.model_dump() | update)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise AssistantError(f"stdin line {number}: {'.'.join(map(str, error['loc']))}: {error['msg']}") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise AssistantError(
            f'stdin line {number}: expected JSON like {{"question": "…", "council": "Darlington"}} ({exc})'
        ) from None
    return question, filters


def hit_json(hit: Any) -> dict[str, Any]:
    p = hit.passage
    return {
        "rank": hit.rank,
        "score": hit.score,
        "dense_score": hit.dense_score,
        "bm25_score": hit.bm25_score,
        "id": p.id,
        "source": p.source,
        "title": p.title,
        "council": p.council,
        "committee": p.committee,
        "date": p.date,
        "paragraph": p.paragraph,
        "section": p.section,
        "start": p.start,
        "end": p.end,
        "text": p.text,
    }


def render_answer(answer: Any) -> str:
    """Readable answer with its citations listed beneath."""
    lines = [answer.answer]
    if answer.standalone_question != answer.question:
        lines.insert(0, f"(understood as: {answer.standalone_question})")
    for c in answer.citations:
        lines.append(f"  [{c.n}] {c.council} · {c.title} · {c.date or 'undated'} · para {c.paragraph} · {c.source}")
        lines.append(f'      "{c.quote[:300]}"')
    if answer.refused:
        for hit in answer.closest:
            p = hit.passage
            lines.append(f"  - {p.council} · {p.date} · para {p.paragraph} · {p.source}: {p.text[:200]}")
    return "\n".join(lines)


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON answer object.")
@click.option("--jsonl", is_flag=True, help="Read JSON lines {question, conversation} from stdin; print one answer per line.")
@_filter_options
@click.pass_context
@_fail_cleanly
def ask(ctx: click.Context, question: str | None, as_json: bool, jsonl: bool, **filters: Any) -> None:
    """Answer QUESTION from the reports, citing each sentence.

    \b
    Examples:
      assistant ask "When is the next Ofsted monitoring visit in Worcestershire?"
      echo '{"question": "Who is the Chief Executive?", "conversation": "c1"}' | assistant ask --jsonl
    """
    from assistant.answer.extractive import Engine

    engine = Engine(_settings(ctx))
    engine.index.require_ready()
    chosen = _filters(**filters)
    if jsonl:
        chats: dict[str, Any] = {}
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["question"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise click.UsageError(f"stdin line {number}: expected JSON like {{\"question\": \"…\", \"conversation\": \"c1\"}}") from None
            if not isinstance(text, str) or not text.strip():
                raise click.UsageError(f"stdin line {number}: the question is empty")
            key = str(row.get("conversation") or f"line-{number}")
            chat = chats.setdefault(key, engine.conversation(chosen))
            answer = chat.ask(text)
            click.echo(json.dumps(answer.model_dump(mode="json") | {"conversation": key}, ensure_ascii=False))
        return
    if not (question or "").strip():
        raise click.UsageError("give a QUESTION (not just spaces), or --jsonl to read questions from stdin")
    assert question is not None
    answer = engine.conversation(chosen).ask(question)
    if as_json:
        _emit_json(answer.model_dump(mode="json"))
    else:
        click.echo(render_answer(answer))


@cli.command()
@_filter_options
@click.pass_context
@_fail_cleanly
def chat(ctx: click.Context, **filters: Any) -> None:
    """Chat in the terminal; follow-up questions use the conversation so far.

    Type a question; `/new` starts over, `/quit` (or Ctrl-D) leaves.

    \b
    Example:
      assistant chat --council "West Sussex"
    """
    from assistant.answer.extractive import Engine

    engine = Engine(_settings(ctx))
    engine.index.require_ready()
    conversation = engine.conversation(_filters(**filters))
    click.echo("Ask about the reports. /new starts over, /quit leaves.", err=True)
    while True:
        try:
            question = click.prompt("you", prompt_suffix="> ", err=True).strip()
        except (EOFError, click.Abort):
            click.echo("", err=True)
            return
        if question in ("/quit", "/exit"):
            return
        if question == "/new":
            conversation.reset()
            click.echo("(new conversation)", err=True)
            continue
        if question:
            click.echo(render_answer(conversation.ask(question)) + "\n")


@cli.command("eval")
@click.argument("qa_files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the tables as Markdown.")
@click.option("--details", "details_out", type=click.Path(dir_okay=False, path_type=Path), help="Write each question's answer as JSON lines.")
@click.option("--no-baselines", is_flag=True, help="Skip the BM25 and plain llama-index baselines.")
@click.option("--check", is_flag=True, help="Exit 1 if a quality target is missed in any file.")
@click.pass_context
@_fail_cleanly
def evaluate(
    ctx: click.Context, qa_files: tuple[Path, ...], markdown_out: Path | None, details_out: Path | None, no_baselines: bool, check: bool
) -> None:
    """Measure retrieval and answers on QA files, one table per file, beside BM25 and plain llama-index.

    \b
    Examples:
      assistant eval ../shared/eval/dev_qa.jsonl --markdown eval.md
      assistant eval dev_qa.jsonl field_qa.jsonl --details eval-details.jsonl --check
    """
    from assistant import evaluate as ev
    from assistant.answer.extractive import Engine

    engine = Engine(_settings(ctx))
    engine.index.require_ready()
    reports = ev.run_all(qa_files, engine, baselines=not no_baselines, log=lambda message: click.echo(message, err=True))
    tables = "\n\n".join(report.markdown() for report in reports)
    click.echo(tables)
    if markdown_out:
        markdown_out.write_text(tables + "\n", encoding="utf-8")
    if details_out:
        rows = [detail for report in reports for detail in report.details]
        details_out.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in rows), encoding="utf-8")
    problems = [f"{report.name}: {problem}" for report in reports for problem in report.failures()]
    for problem in problems:
        click.echo(f"below target: {problem}", err=True)
    if check and problems:
        sys.exit(1)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; any but loopback needs login.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--users",
    "users_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="ASSISTANT_USERS_FILE",
    help="Users file: who may log in, as readers or editors (env ASSISTANT_USERS_FILE); "
    "`assistant user add NAME` writes it. ASSISTANT_USERS may hold the same lines.",
)
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64), help="Questions answered at once.")
@click.pass_context
@_fail_cleanly
def serve(ctx: click.Context, host: str, port: int, users_file: Path | None, concurrency: int) -> None:
    """Start the web app: chat with cited answers, filters, library, report reader.

    Ingests the corpus folder first if the index is empty.

    \b
    Examples:
      assistant serve
      ASSISTANT_USERS_FILE=users.txt assistant serve --host 0.0.0.0 --port 8080
    """
    # The CLI reaches into ui/ only here and in `user`: serving the app and its logins are the UI's job.
    from ui.app import launch
    from ui.auth import Users

    launch(_settings(ctx), host=host, port=port, users=Users.load(users_file), concurrency=concurrency)


@cli.group()
def user() -> None:
    """Who may log in to the web app: readers ask; editors also add and remove reports.

    \b
    Examples:
      assistant user add alice --role editor --users-file users.txt
      printf '%s\\n' "$PASSWORD" | assistant user add bob --users-file users.txt
      assistant user remove bob --users-file users.txt
    """


_USERS_FILE = click.option(
    "--users-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="ASSISTANT_USERS_FILE",
    default=Path("users.txt"),
    show_default=True,
    help="The users file `assistant serve --users` reads (env ASSISTANT_USERS_FILE).",
)


@user.command("add")
@click.argument("name")
@_USERS_FILE
@click.option("--role", type=click.Choice(["reader", "editor"]), default="reader", show_default=True, help="What the user may do.")
@_fail_cleanly
def user_add(name: str, users_file: Path, role: str) -> None:
    """Add user NAME, or set a new password and role; the password is read from stdin when it is not a terminal.

    \b
    Example:
      assistant user add alice --role editor --users-file users.txt
    """
    from ui.auth import add_user, check_name

    check_name(name)
    if sys.stdin.isatty():
        password = click.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True, err=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    new = add_user(users_file, name, password, role)  # type: ignore[arg-type]
    click.echo(f"{'added' if new else 'updated'} {name} ({role}) in {users_file}; serve with `assistant serve --users {users_file}`")


@user.command("remove")
@click.argument("name")
@_USERS_FILE
@_fail_cleanly
def user_remove(name: str, users_file: Path) -> None:
    """Remove user NAME; a running server keeps its sessions until restarted.

    \b
    Example:
      assistant user remove bob --users-file users.txt
    """
    from ui.auth import remove_user

    remove_user(users_file, name)
    click.echo(f"removed {name} from {users_file}")


def _register_format(fmt: str, as_json: bool) -> str:
    return "json" if as_json else fmt


@cli.command()
@click.option("--council", "councils", multiple=True, help="Only this council (repeatable).")
@click.option("--from", "date_from", default="", help="Due on or after (2021, 2021-03, 2021-03-19).")
@click.option("--to", "date_to", default="", help="Due on or before.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(["done", "in progress", "not mentioned again", "overdue", "open"]), help="Only this status (repeatable).")
@click.option("--as-of", "as_of", default="", help="Judge due dates at this date (default: each council's latest report).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "md"]), default="table", show_default=True, help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
@_fail_cleanly
def commitments(ctx: click.Context, councils: tuple[str, ...], date_from: str, date_to: str, statuses: tuple[str, ...], as_of: str, fmt: str, as_json: bool) -> None:
    """List what the reports promised and when, with follow-through in later reports.

    A commitment is listed when its dates overlap --from/--to. Status: done or in progress
    (a later report says so), not mentioned again, overdue (due date passed without a report),
    open (no later report yet).

    \b
    Examples:
      assistant commitments --council "West Sussex" --from 2021 --to 2021
      assistant commitments --status overdue --as-of 2022-01-01 --format csv
    """
    from assistant.index.index import Index
    from assistant.register.store import commitment_row, load_register, query_commitments, render

    index = Index(_settings(ctx))
    index.require_ready()
    rows = query_commitments(
        load_register(index), councils=councils, date_from=date_from, date_to=date_to, statuses=statuses, as_of=as_of
    )
    click.echo(render([commitment_row(c) for c in rows], _register_format(fmt, as_json), "commitments"))


@cli.command()
@click.option("--council", "councils", multiple=True, help="Only this council (repeatable).")
@click.option("--from", "date_from", default="", help="On or after (2019, 2019-05).")
@click.option("--to", "date_to", default="", help="On or before.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "md"]), default="table", show_default=True, help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
@_fail_cleanly
def inspections(ctx: click.Context, councils: tuple[str, ...], date_from: str, date_to: str, fmt: str, as_json: bool) -> None:
    """Inspection history: each Ofsted inspection with its dates, lead inspector and grades, and the visits and reviews reports mention.

    Every fact is cited to the report paragraph or table row that states it. JSON rows hold council, kind,
    framework, inspection_start, inspection_end, published, lead_inspector, judgements and citations.

    \b
    Examples:
      assistant inspections --council Worcestershire
      assistant inspections --format json
    """
    from assistant.index.index import Index
    from assistant.register.store import load_register, query_records, render

    index = Index(_settings(ctx))
    index.require_ready()
    rows = query_records(load_register(index), councils=councils, date_from=date_from, date_to=date_to)
    click.echo(render(rows, _register_format(fmt, as_json), "inspections"))


@cli.command()
@click.argument("metric", required=False, default="")
@click.option("--council", "councils", multiple=True, help="Only this council (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True, help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
@_fail_cleanly
def facts(ctx: click.Context, metric: str, councils: tuple[str, ...], fmt: str, as_json: bool) -> None:
    """Figures the reports state over time: without METRIC the metrics present, with it (any synonym) its series.

    Each value carries the date it describes and the sentence, report and paragraph that state it.
    JSON rows hold metric, council, date, value, unit and citation {source, title, council, date, paragraph, quote}.

    \b
    Examples:
      assistant facts
      assistant facts "vacancy rate" --council "West Sussex" --format json
    """
    from assistant.index.index import Index
    from assistant.register.series import query_facts, render_facts
    from assistant.register.store import load_register

    index = Index(_settings(ctx))
    index.require_ready()
    register = load_register(index)
    known = [r.council for r in register.reports.values()]
    click.echo(render_facts(query_facts(register.facts, metric, councils, known), metric, _register_format(fmt, as_json)))


@cli.command()
@click.argument("topic")
@click.option("--council", "councils", multiple=True, help="Only this council (repeatable).")
@click.option("--from", "date_from", default="", help="Reports dated on or after (2020, 2020-03).")
@click.option("--to", "date_to", default="", help="Reports dated on or before.")
@click.option("--format", "fmt", type=click.Choice(["docx", "md", "html"]), default=None, help="Output format (default: from --out, else md).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file (docx defaults to briefing-TOPIC.docx).")
@click.pass_context
@_fail_cleanly
def brief(ctx: click.Context, topic: str, councils: tuple[str, ...], date_from: str, date_to: str, fmt: str | None, out: Path | None) -> None:
    """Draft a cited briefing note on TOPIC: summary, Ofsted findings, commitments, progress, questions.

    Every point quotes the report and paragraph it comes from. Markdown and HTML go to stdout
    unless --out is given; a Word file is written and its path printed.

    \b
    Examples:
      assistant brief "workforce" --council "West Sussex"
      assistant brief "care leavers" --from 2019 --out care-leavers.docx
    """
    from assistant.answer.extractive import Engine
    from assistant.briefing.draft import build_briefing
    from assistant.briefing.render import choose_format, file_name, render, write

    fmt = choose_format(fmt, out)
    engine = Engine(_settings(ctx))
    note = build_briefing(engine, topic, councils=councils, date_from=date_from, date_to=date_to)
    if out is None and fmt != "docx":
        click.echo(render(note, fmt).decode("utf-8"), nl=False)
        return
    path = write(note, fmt, out or Path(file_name(note, fmt)))
    click.echo(str(path))


@cli.command("settings")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def show_settings(ctx: click.Context, as_json: bool) -> None:
    """Show the settings in force (environment ASSISTANT_*, assistant.toml, defaults).

    \b
    Example:
      assistant settings --json
    """
    settings = _settings(ctx)
    data = json.loads(settings.model_dump_json())
    if data.get("llm_api_key"):
        data["llm_api_key"] = "***"
    if as_json:
        _emit_json(data)
        return
    for name, field in Settings.model_fields.items():
        click.echo(f"{name} = {data[name]!r}    # {field.description}")


def main() -> None:
    cli(obj={})
