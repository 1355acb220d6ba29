"""The one-shot process around a command: a lighter chromadb import, and a quick exit after commands that only read.

A cold `assistant ask` spends ~0.25 s importing chromadb's signature checks and ~0.2 s tearing the
interpreter down (Chroma's client, onnxruntime's session, every module's objects); neither changes an answer.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

# Commands that only read the index (a read may repair what a crash left, but each repair finishes,
# its files renamed into place and Chroma's rows committed to SQLite, before the command returns).
# Not here: ingest, remove and eval write; brief writes a file; serve and user run servers or edit users.
READ_ONLY = frozenset({"ask", "search", "chat", "docs", "commitments", "inspections", "facts", "settings"})


def skip_override_checks() -> None:
    """Make chromadb's @override decorators only mark the method, not compare its signature with the base class's.

    chromadb decorates ~460 methods with `overrides.override`, which disassembles the class body and
    checks each signature against the base class's as the module is imported: a check of chromadb's own
    code, ~0.25 s of a cold `assistant ask`. Call before chromadb is imported; the methods are the same.
    """
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
