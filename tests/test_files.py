"""Files replaced in one step: the new file whole with its mode, or the old one whole and no stray temporary."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest

from assistant.files import atomic_save_array, atomic_save_bytes, atomic_write


def test_atomic_write_replaces_the_file_and_sets_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "users.txt"
    atomic_write(path, "old\n")
    atomic_write(path, "new – text\n", mode=0o600)
    assert path.read_text(encoding="utf-8") == "new – text\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["users.txt"]


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    atomic_write(path, "the old contents")
    with pytest.raises(TypeError):
        atomic_save_bytes(path, "not bytes")  # type: ignore[arg-type]  # fails mid-write, after the temporary exists
    with pytest.raises(OverflowError):
        atomic_write(path, "new", mode=2**64)  # fails at chmod, before the rename
    assert path.read_text(encoding="utf-8") == "the old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_an_array_is_saved_whole_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "vectors.npy"
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    atomic_save_array(path, array)
    atomic_save_array(path, array * 2)
    assert np.array_equal(np.load(path), array * 2)
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.npy"]
