"""The layout keeps its promises: stages import only from below, no cycles, no module past 450 lines."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("assistant", "ui")
MAX_LINES = 450

# Lowest first. A module may import from its own layer and the layers below it, never above.
LAYERS = (
    ("assistant", "assistant.settings", "assistant.errors", "assistant.types", "assistant.text", "assistant.dates", "assistant.timeexpr", "assistant.files"),
    ("assistant.councils",),
    ("assistant.documents",),
    ("assistant.index",),
    ("assistant.retrieval",),
    ("assistant.register",),
    ("assistant.library",),
    ("assistant.answer",),
    ("assistant.briefing",),
    ("assistant.evaluate", "ui"),
    ("assistant.cli", "assistant.__main__"),
)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every project module `name` imports: at the top, inside functions and under TYPE_CHECKING alike."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    wanted: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from package import module` imports the module; `from module import name`, the module.
                wanted.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
        elif isinstance(node, ast.Import):
            wanted.update(alias.name for alias in node.names)
    return {m for m in wanted if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> int:
    for rank, prefixes in enumerate(LAYERS):
        if any(name == p or (p != "assistant" and name.startswith(p + ".")) for p in prefixes):
            return rank
    raise AssertionError(f"{name} belongs to no layer: add its package to LAYERS in {Path(__file__).name}")


def test_no_import_cycles() -> None:
    try:
        tuple(graphlib.TopologicalSorter(GRAPH).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_stages_import_only_from_below() -> None:
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if _layer(target) > _layer(name)
    )
    assert upward == []


def test_no_module_is_too_long() -> None:
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_checks_see_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    """The graph reader finds relative, lazy and TYPE_CHECKING imports, so the checks above can fail."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import store\n"
        "if TYPE_CHECKING:\n    from assistant import answer\n"
        "def f():\n    import assistant.cli.main\n",
        encoding="utf-8",
    )
    found = _imports("assistant.index.probe", probe)
    assert found == {"assistant.index.store", "assistant.answer", "assistant.cli.main"}
    assert any(_layer(m) > _layer("assistant.index.probe") for m in found)
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter({"a": {"b"}, "b": {"a"}}).static_order())
