"""Errors the assistant raises on purpose, each with a message that says what to do.

    AssistantError
     ├── ReportError            one input file cannot be read (names the file)
     │    ├── UnsupportedFormat
     │    ├── EmptyReport
     │    ├── UnreadableReport   corrupt, encrypted, scanned, binary
     │    └── ReportTooLarge
     ├── IndexNotReady          nothing ingested yet
     ├── IndexMismatch          the index was built with another model or splitter
     ├── SettingsError          a setting or config file is wrong
     └── LLMError               the configured LLM endpoint failed (answers fall back)

The CLI turns any of these into a one-line message on stderr and exit code 1.
"""

from __future__ import annotations

from pathlib import Path


class AssistantError(Exception):
    """Base of every error meant for the user."""


class ReportError(AssistantError):
    """A report file that cannot be ingested; the message names the file."""

    reason = "cannot be read"

    def __init__(self, path: Path | str, detail: str = "", fix: str = "") -> None:
        self.path = Path(path)
        self.detail = detail
        self.fix = fix
        message = f"{self.path.name}: {detail or self.reason}"
        if fix:
            message += f" ({fix})"
        super().__init__(message)


class UnsupportedFormat(ReportError):
    reason = "unsupported file type"


class EmptyReport(ReportError):
    reason = "the file holds no text"


class UnreadableReport(ReportError):
    reason = "the file cannot be read"


class ReportTooLarge(ReportError):
    reason = "the file is too large"


class IndexNotReady(AssistantError):
    """Nothing has been ingested into the index folder yet."""


class IndexMismatch(AssistantError):
    """The index was built with settings that cannot be mixed with the current ones."""


class SettingsError(AssistantError):
    """A setting, environment variable or config file is wrong."""


class LLMError(AssistantError):
    """The configured LLM endpoint failed or answered without valid citations."""
