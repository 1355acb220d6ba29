"""The library: an index wired with the data derived from it above the index layer (the register).

The one place an Index for real use is opened: the index rebuilds its own keyword index, and is
given the register's builder here, so it never imports what sits above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.index.chroma import Collection
from assistant.index.derived import Derived
from assistant.index.embedding import Embedder
from assistant.index.index import Index
from assistant.index.lock import DEFAULT_TIMEOUT
from assistant.register import REGISTER_FILE
from assistant.settings import Settings
from assistant.types import Passage


def build_register(root: Path, passages: Sequence[Passage]) -> None:
    """The commitments and inspections register, rebuilt from every passage with the keyword index."""
    from assistant.register.store import write_register  # only writers pay for the register's code

    write_register(root, passages)


def stage_register(root: Path, passages: Sequence[Passage], folder: Path) -> None:
    """The register of `passages` written into `folder`, to be moved into `root`."""
    from assistant.register.store import write_register

    write_register(root, passages, into=folder)


def warm_register(root: Path, passages: Sequence[Passage]) -> None:
    """Each report's own extraction cached ahead of the register's build."""
    from assistant.register.store import warm_register as warm

    warm(root, passages)


REGISTER = Derived(
    "register", REGISTER_FILE, build_register, stage=stage_register, staged=REGISTER_FILE, warm=warm_register
)


def open_index(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    collection: Collection | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> Index:
    """The index of the library in `settings` (loaded when not given), keeping the register in step."""
    return Index(settings, embedder=embedder, collection=collection, derived=(REGISTER,), lock_timeout=lock_timeout)
