"""`assistant search`, `ask` and `chat`: ranked passages and cited answers, one at a time or as JSON lines."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Unpack

import click

from assistant.cli.common import FilterOptions, emit_json, fail_cleanly, filter_options, settings_of, to_filters
from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.answer.followups import Conversation
    from assistant.types import Answer, Filters, SearchHit

NO_MATCH = "No reports match these filters"


@click.command()
@click.argument("query", required=False)
@click.option("-k", "k", type=click.IntRange(1, 100), default=None, help="How many passages, 1-100 (default: top_k setting).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--jsonl",
    is_flag=True,
    help="Read JSON lines {question, council?, date_from?, date_to?, report?} from stdin; print {question, hits} a line.",
)
@filter_options
@click.pass_context
@fail_cleanly
def search(
    ctx: click.Context, query: str | None, k: int | None, as_json: bool, jsonl: bool, **filters: Unpack[FilterOptions]
) -> None:
    """Rank passages for QUERY (hybrid dense + BM25).

    \b
    Examples:
      assistant search "agency social workers" -k 3
      assistant search --json "monitoring visit" --council Worcestershire
      echo '{"question": "monitoring visit", "council": "Darlington"}' | assistant search --jsonl -k 5
    """
    from assistant.library import open_index
    from assistant.retrieval.search import Retriever

    settings = settings_of(ctx)
    retriever = Retriever(open_index(settings))
    chosen = to_filters(**filters)
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
            emit_json([])
        click.echo(message, err=as_json)
        return
    hits = retriever.search(query, k=k, filters=chosen)
    if as_json:
        emit_json([hit_json(hit) for hit in hits])
        return
    for hit in hits:
        p = hit.passage
        click.echo(f"{hit.rank}. [{hit.score:.4f}] {p.council} · {p.date} · para {p.paragraph} · {p.source}")
        click.echo(f"   {p.text[:300]}")


def _search_line(line: str, number: int, defaults: Filters) -> tuple[str, Filters]:
    """One `search --jsonl` line: its question, and the filters (keys on the line replace the options)."""
    from pydantic import ValidationError

    try:
        row = json.loads(line)
        question = row["question"]
        if not isinstance(question, str) or not question.strip():
            raise TypeError("question must be non-empty text")
        update: dict[str, object] = {key: row[key] for key in ("date_from", "date_to") if key in row}
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


def hit_json(hit: SearchHit) -> dict[str, object]:
    """One search hit as `search --json` prints it: the scores, then the passage's fields."""
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


def render_answer(answer: Answer) -> str:
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


@click.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON answer object.")
@click.option("--jsonl", is_flag=True, help="Read JSON lines {question, conversation} from stdin; print one answer per line.")
@filter_options
@click.pass_context
@fail_cleanly
def ask(ctx: click.Context, question: str | None, as_json: bool, jsonl: bool, **filters: Unpack[FilterOptions]) -> None:
    """Answer QUESTION from the reports, citing each sentence.

    \b
    Examples:
      assistant ask "When is the next Ofsted monitoring visit in Worcestershire?"
      echo '{"question": "Who is the Chief Executive?", "conversation": "c1"}' | assistant ask --jsonl
    """
    from assistant.answer.engine import Engine

    engine = Engine(settings_of(ctx))
    engine.index.require_ready()
    chosen = to_filters(**filters)
    if jsonl:
        chats: dict[str, Conversation] = {}
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
        emit_json(answer.model_dump(mode="json"))
    else:
        click.echo(render_answer(answer))


@click.command()
@filter_options
@click.pass_context
@fail_cleanly
def chat(ctx: click.Context, **filters: Unpack[FilterOptions]) -> None:
    """Chat in the terminal; follow-up questions use the conversation so far.

    Type a question; `/new` starts over, `/quit` (or Ctrl-D) leaves.

    \b
    Example:
      assistant chat --council "West Sussex"
    """
    from assistant.answer.engine import Engine

    engine = Engine(settings_of(ctx))
    engine.index.require_ready()
    conversation = engine.conversation(to_filters(**filters))
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
