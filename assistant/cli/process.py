"""The one-shot process around a command: a lighter chromadb import, and a quick exit after commands that only read.

A cold `assistant ask` spent ~0.4 s importing what chromadb never uses here and ~0.2 s tearing the
interpreter down (Chroma's client, onnxruntime's session, every module's objects); neither changes an answer.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from types import ModuleType

# Commands that only read the index (a read may repair what a crash left, but each repair finishes,
# its files renamed into place and Chroma's rows committed to SQLite, before the command returns).
# Not here: ingest, remove and eval write; brief writes a file; serve and user run servers or edit users.
READ_ONLY = frozenset({"ask", "search", "chat", "docs", "commitments", "inspections", "facts", "settings"})


# chromadb imports it at once to offer tracing; it is built only when CHROMA_OTEL_GRANULARITY asks for spans.
OTLP_EXPORTER = "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"


def lighten_imports() -> None:
    """Leave out what chromadb's import loads that a one-shot read never uses. Call before chromadb is imported.

    Only in a process that runs one read-only command (not `serve`, and not a test run), as these change
    modules other libraries could share:
    - httpx (which chromadb imports) loads its own command-line client, and with it rich and pygments,
      whenever they are installed: ~0.05 s. Marked missing, httpx falls back to a stub `httpx.main`.
    - chromadb decorates ~460 methods with `overrides.override`, which disassembles the class body and
      checks each signature against the base class's as the module is imported: a check of chromadb's
      own code, ~0.25 s. Here the decorator only marks the method, as EnforceOverrides requires.
    - chromadb's OpenTelemetry client imports the OTLP span exporter (grpc, protobuf, metrics): ~0.1 s.
      It stands in until the exporter is used, then the real one is imported (`_load_on_use`).
    """
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "not importable"
    if OTLP_EXPORTER not in sys.modules:
        sys.modules[OTLP_EXPORTER] = _load_on_use(OTLP_EXPORTER, "OTLPSpanExporter")
    try:
        import overrides
    except ImportError:  # chromadb without it: nothing to skip
        return

    def override(method: Callable[..., object] | None = None, **_options: bool) -> object:
        if method is None:  # @override(check_signature=False)
            return override
        method.__override__ = True  # type: ignore[attr-defined]  # what EnforceOverrides looks for
        return method

    overrides.override = overrides.overrides = override  # type: ignore[assignment]


def _load_on_use(name: str, factory: str) -> ModuleType:
    """A stand-in for module `name`: `factory(...)`, or any other attribute, imports the real module and uses it."""
    stand_in = ModuleType(name)

    def real() -> ModuleType:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return importlib.import_module(name)

    def make(*args: object, **kwargs: object) -> object:
        return getattr(real(), factory)(*args, **kwargs)

    def attribute(attr: str) -> object:
        if attr.startswith("__"):  # the import system's probes (__path__, ...): a plain module has none
            raise AttributeError(attr)
        return getattr(real(), attr)

    setattr(stand_in, factory, make)
    stand_in.__getattr__ = attribute  # type: ignore[method-assign]
    return stand_in


def exit_now_if_done(command: object, code: object) -> None:
    """End the process at once after a read-only command: flush what it printed and logged, skip the teardown.

    Returns (and the caller exits the usual way) for any other command, an exit status that is not a
    number, output that cannot be flushed, or a thread Python would wait for: its work must not be cut short.
    (Daemon threads, like tqdm's monitor, are stopped mid-step by a normal exit too.)
    """
    if command not in READ_ONLY or not (code is None or isinstance(code, int)):
        return
    if any(not thread.daemon and thread is not threading.main_thread() for thread in threading.enumerate()):
        return
    try:
        sys.stdout.flush()
        logging.shutdown()  # flushes the handlers (index/assistant.log is written per record and closed)
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let Python report it as it would
        return
    os._exit(code or 0)
