"""The register: every report's commitments, inspection history and figures, stored beside the index.

Built whenever the index changes (`Index` calls `write_register`), so the register is always in
step with the documents and queries over it (`query.py`) are instant. Status is worked out at
query time, because it depends on the date it is judged at.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from assistant.errors import AssistantError, IndexNotReady
from assistant.files import atomic_write
from assistant.register import REGISTER_FILE
from assistant.register.commitments import REGISTER_VERSION, Commitment, TimeInfo, extract_commitments
from assistant.register.facts import FACTS_VERSION, Fact, extract_facts, merge_facts
from assistant.register.inspections import InspectionEvent, extract_inspections, merge_events
from assistant.register.ofsted import RECORDS_VERSION, InspectionRecord, read_inspection
from assistant.register.records import as_event, merge_records
from assistant.register.status import link_follow_through
from assistant.types import Citation, Passage

if TYPE_CHECKING:
    from assistant.index.index import Index

class ReportEntry(BaseModel):
    council: str = ""
    date: str = ""
    title: str = ""


class Register(BaseModel):
    """Commitments and inspection events of every indexed report."""

    version: int = REGISTER_VERSION
    built_at: str = ""
    reports: dict[str, ReportEntry] = Field(default_factory=dict, description="Source file → council, date, title.")
    commitments: list[Commitment] = Field(default_factory=list)
    inspections: list[InspectionEvent] = Field(default_factory=list)
    records_version: int = 0
    records: list[InspectionRecord] = Field(default_factory=list, description="Ofsted inspections, one record each, every fact cited.")
    facts_version: int = 0
    facts: list[Fact] = Field(default_factory=list, description="Figures the reports state, by council, metric and date.")
    # Worked out once from the commitments when first queried (query.py); never stored.
    _statuses: dict[tuple[date | None, date], list[tuple[str, str]]] = PrivateAttr(default_factory=dict)

    _council_rows: dict[str, list[int]] = PrivateAttr(default_factory=dict)

    @property
    def statuses(self) -> dict[tuple[date | None, date], list[tuple[str, str]]]:
        return self._statuses

    @property
    def council_rows(self) -> dict[str, list[int]]:
        """Filled by query.select_commitments: each council's commitments (lower-case name -> places)."""
        return self._council_rows


class _Extracted(BaseModel):
    """One report's commitments, inspection events and own inspection before they are joined across reports."""

    commitments: list[Commitment]
    inspections: list[InspectionEvent]
    record: InspectionRecord | None
    facts: list[Fact] = Field(default_factory=list)


def _extract(report: list[Passage], cache: Path | None, used: set[str]) -> _Extracted:
    """A report's extraction, from the cache when its text and metadata are unchanged.

    Every ingest rebuilds the register; without the cache one new file re-reads every report.
    """
    first = report[0]
    key = hashlib.sha256(
        f"{REGISTER_VERSION}.{RECORDS_VERSION}.{FACTS_VERSION}|{first.source}|{first.id.rpartition('@')[2]}|{first.council}|{first.date}|{first.title}".encode()
    ).hexdigest()[:24]
    used.add(key)
    path = cache / f"{key}.json" if cache else None
    if path is not None and path.is_file():
        try:
            return _Extracted.model_validate_json(path.read_bytes())
        except (ValidationError, ValueError):
            pass  # damaged: extract again
    extracted = _Extracted(
        commitments=extract_commitments(report), inspections=extract_inspections(report), record=read_inspection(report),
        facts=extract_facts(report),
    )
    if path is not None:
        atomic_write(path, extracted.model_dump_json())
    return extracted


CACHE_FOLDER = "register-cache"


def build_register(passages: Iterable[Passage], cache: Path | None = None) -> Register:
    """Extract the register from passages (all reports at once, so later reports can vouch for earlier ones).

    `cache` is a folder of per-report extractions, reused while a report is unchanged.
    """
    by_source: dict[str, list[Passage]] = defaultdict(list)
    for passage in passages:
        by_source[passage.source].append(passage)
    register = Register(built_at=time.strftime("%Y-%m-%dT%H:%M:%S"), records_version=RECORDS_VERSION, facts_version=FACTS_VERSION)
    events: list[InspectionEvent] = []
    reports: list[InspectionRecord] = []
    everything: list[Passage] = []
    used: set[str] = set()
    for source in sorted(by_source):
        report = sorted(by_source[source], key=lambda p: p.ordinal)
        everything.extend(report)
        first = report[0]
        register.reports[source] = ReportEntry(council=first.council, date=first.date, title=first.title)
        extracted = _extract(report, cache, used)
        register.commitments.extend(extracted.commitments)
        events.extend(extracted.inspections)
        register.facts.extend(extracted.facts)
        if extracted.record is not None:
            reports.append(extracted.record)
    if cache is not None and cache.is_dir():
        for stale in cache.glob("*.json"):
            if stale.stem not in used:
                stale.unlink(missing_ok=True)
    link_follow_through(register.commitments, everything)
    register.facts = merge_facts(register.facts)
    register.records, others = merge_records(reports, events)
    # An inspection report's own inspection enters the event list as its first page states it.
    register.inspections = merge_events([*(e for r in reports if (e := as_event(r)) is not None), *others])
    register.commitments.sort(key=lambda c: (c.council, c.time.start, c.source, c.citation.start))
    return register


def write_register(folder: Path, passages: Iterable[Passage], into: Path | None = None) -> Register:
    """Build the register and replace `commitments.json` in one step (never half-written): in `folder`, or in
    `into` when it is built ahead to be moved there (the extraction cache is `folder`'s either way)."""
    register = build_register(passages, cache=folder / CACHE_FOLDER)
    atomic_write((into or folder) / REGISTER_FILE, register.model_dump_json())
    return register


def warm_register(folder: Path, passages: Iterable[Passage]) -> None:
    """Extract these passages' reports into `folder`'s cache, for the build that follows their commit."""
    by_source: dict[str, list[Passage]] = defaultdict(list)
    for passage in passages:
        by_source[passage.source].append(passage)
    for report in by_source.values():
        _extract(sorted(report, key=lambda p: p.ordinal), folder / CACHE_FOLDER, set())


_CACHE: dict[Path, tuple[int, Register]] = {}
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


class _Shared:
    """One object for each repeated string and citation of a register being read, and one set of field names.

    A passage cited by a commitment, its restatements, the evidence of later ones and every mention
    of an inspection is the same text: read as it is stored, each citation holds its own copy (at
    100,000 passages, 60,000 citations of a few hundred passages, most of the register's memory).
    Each model also keeps the set of fields it was given; all are given, so one set serves them all
    (setting a field adds its name, which is already there). Loaded models are only read, never
    changed in place, so sharing them is safe.
    """

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.keys: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.models: dict[tuple[type[BaseModel], tuple[str, ...], tuple[object, ...]], BaseModel] = {}
        self.fields: dict[type[BaseModel], set[str]] = {}

    def value(self, raw: object) -> object:
        if isinstance(raw, str):
            return self.strings.setdefault(raw, raw)
        if isinstance(raw, dict):
            return {key: self.value(item) for key, item in raw.items()}
        if isinstance(raw, list):
            return [self.value(item) for item in raw]
        return raw

    def settle(self, model: BaseModel) -> BaseModel:
        """`model` holding the one shared set of its class's field names, when it was given every field."""
        full = self.fields.setdefault(type(model), set(type(model).model_fields))
        if model.__pydantic_fields_set__ == full:
            object.__setattr__(model, "__pydantic_fields_set__", full)
        return model

    def model(self, kind: type[BaseModel], raw: dict[str, object]) -> BaseModel:
        """`raw` (its strings already shared) as a `kind`, the one instance of its content."""
        names = tuple(raw)
        key = (kind, self.keys.setdefault(names, names), tuple(raw.values()))
        found = self.models.get(key)
        if found is None:
            found = self.models[key] = self.settle(kind.model_validate(raw))
        return found

    def cited(self, kind: type[Commitment] | type[InspectionEvent], raw: dict[str, object]) -> BaseModel:
        """A commitment or inspection event with its strings, time and citations shared."""
        item: dict[str, Any] = self.value(raw)  # type: ignore[assignment]
        item["time"] = self.model(TimeInfo, item["time"])
        item["citation"] = self.model(Citation, item["citation"])
        item["also"] = [self.model(Citation, c) for c in item.get("also", ())]
        for evidence in item.get("evidence", ()):
            evidence["citation"] = self.model(Citation, evidence["citation"])
        model = kind.model_validate(item)
        for evidence in getattr(model, "evidence", ()):
            self.settle(evidence)
        return self.settle(model)


def _items(text: str, at: int, read: Callable[[Any], object]) -> tuple[list[object], int]:
    """The JSON list starting at `at`, each item read by `read` as it is decoded (never the whole list at once)."""
    out: list[object] = []
    at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    if text[at] == "]":
        return out, at + 1
    while True:
        raw, at = _DECODER.raw_decode(text, at)
        out.append(read(raw))
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if text[at] == "]":
            return out, at + 1
        if text[at] != ",":
            raise ValueError(f"expected ',' or ']' at character {at}")
        at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]


def read_register(data: bytes) -> Register:
    """A stored register, read item by item with repeated strings and citations held once (see `_Shared`)."""
    shared = _Shared()
    readers: dict[str, Callable[[Any], object]] = {
        "commitments": lambda raw: shared.cited(Commitment, raw),
        "inspections": lambda raw: shared.cited(InspectionEvent, raw),
        "records": lambda raw: InspectionRecord.model_validate(shared.value(raw)),
        "facts": lambda raw: Fact.model_validate(shared.value(raw)),
    }
    text = data.decode("utf-8")
    fields: dict[str, object] = {}
    at = _SPACE.match(text).end()  # type: ignore[union-attr]
    if text[at : at + 1] != "{":
        raise ValueError("expected a JSON object")
    at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    while text[at] != "}":
        key, at = _DECODER.raw_decode(text, at)
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if text[at] != ":":
            raise ValueError(f"expected ':' at character {at}")
        at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
        if key in readers and text[at] == "[":
            fields[key], at = _items(text, at, readers[key])
        else:
            fields[key], at = _DECODER.raw_decode(text, at)
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if text[at] == ",":
            at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
        elif text[at] != "}":
            raise ValueError(f"expected ',' or '}}' at character {at}")
    return Register.model_validate(fields)


def load_register(index: Index) -> Register:
    """The stored register of an index (built now if an older index lacks one)."""
    path = Path(index.root) / REGISTER_FILE
    if not path.is_file():
        if not index.reports:
            raise IndexNotReady(f"the index in {index.root} is empty: run `assistant ingest corpus/` first")
        return write_register(Path(index.root), index.all_passages())
    stamp = path.stat().st_mtime_ns
    cached = _CACHE.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        register = read_register(path.read_bytes())
    except (ValidationError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise AssistantError(f"{path} is damaged ({str(exc).splitlines()[0]}); run `assistant ingest` to rebuild it") from None
    if (register.version, register.records_version, register.facts_version) != (REGISTER_VERSION, RECORDS_VERSION, FACTS_VERSION):
        register = write_register(Path(index.root), index.all_passages())
    _CACHE[path] = (stamp, register)
    return register
