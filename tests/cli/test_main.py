"""The command group: every command is there, `python -m assistant` runs it, and light commands stay light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli.main import cli

COMMANDS = {
    "ingest", "docs", "remove", "search", "ask", "chat", "eval", "serve", "user",
    "commitments", "inspections", "facts", "brief", "settings",
}  # fmt: skip
HEAVY = ("torch", "sentence_transformers", "chromadb", "llama_index", "gradio", "onnxruntime")

# Runs a command in a fresh interpreter and prints which heavy packages it imported (also when a
# read-only command ends the process at once: assistant/cli/process.py).
PROBE = """
import json, os, sys
from assistant.cli.main import main
def report():
    heavy = sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))
    print("\\nHEAVY=" + json.dumps(heavy), flush=True)
exit_now = os._exit
os._exit = lambda code: (report(), exit_now(code))
sys.argv = ["assistant", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
report()
"""


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"], obj={})
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == COMMANDS == set(cli.commands)


def test_python_dash_m_assistant_is_the_same_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")} | {"ASSISTANT_INDEX_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "assistant", "--version"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0 and result.stdout.startswith("python -m assistant, version ")


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["settings", "--json"],
        ["docs"],
        ["commitments"],
        ["inspections"],
        ["facts"],
    ],
)
def test_light_commands_import_no_model_store_or_ui(tmp_path: Path, args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")} | {"ASSISTANT_INDEX_DIR": str(tmp_path / "index")}
    probe = PROBE.replace("set(HEAVY)", repr(set(HEAVY)))
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    assert json.loads(result.stdout.rsplit("HEAVY=", 1)[1]) == []
