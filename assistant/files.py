"""Files replaced in one step: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


def atomic_save_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write to a temporary file beside `path`, then rename it over `path` (atomic on one file system)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, text: str, *, mode: int | None = None) -> None:
    atomic_save_bytes(path, text.encode("utf-8"), mode=mode)


def atomic_save_array(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npy")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, array)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_path(new: Path, path: Path) -> None:
    """Put the file or folder `new` where `path` is, on the same file system.

    A file is replaced in one rename. A folder takes two (the old one aside, the new one in): a reader
    between them finds none, never a mix, and the caller's stamps say whether it is the one wanted.
    """
    if not new.is_dir():
        os.replace(new, path)
        return
    if not path.exists():
        new.rename(path)
        return
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    path.rename(old)
    new.rename(path)
    shutil.rmtree(old, ignore_errors=True)
