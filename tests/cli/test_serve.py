"""`assistant user add/remove` (the accounts `assistant serve` logs in against), run as a member would."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ui.auth import Users


def _assistant(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_user_add_and_remove_through_the_command_line(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    added = _assistant("user", "add", "edna", "--role", "editor", "--users-file", str(users), stdin="edna-password\n")
    assert added.returncode == 0, added.stderr
    assert "added edna (editor)" in added.stdout
    assert _assistant("user", "add", "rita", "--users-file", str(users), stdin="rita-password\n").returncode == 0
    assert stat.S_IMODE(users.stat().st_mode) == 0o600  # password hashes are the owner's alone
    text = users.read_text(encoding="utf-8")
    assert "edna-password" not in text and text.count("scrypt$") == 2
    loaded = Users.load(users)
    assert loaded.role("edna") == "editor" and loaded.role("rita") == "reader"
    assert loaded.check("edna", "edna-password") and not loaded.check("edna", "rita-password")

    changed = _assistant("user", "add", "rita", "--role", "editor", "--users-file", str(users), stdin="new-rita-pass\n")
    assert changed.returncode == 0 and "updated rita (editor)" in changed.stdout
    loaded = Users.load(users)
    assert loaded.role("rita") == "editor" and loaded.check("rita", "new-rita-pass") and len(loaded) == 2

    removed = _assistant("user", "remove", "rita", "--users-file", str(users))
    assert removed.returncode == 0, removed.stderr
    assert Users.load(users).role("rita") is None and len(Users.load(users)) == 1


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (["user", "add", "bad:name"], "long-enough-pass\n", 1, "cannot be used"),
        (["user", "add", "shorty"], "short\n", 1, "at least 8 characters"),
        (["user", "add", "rolling", "--role", "admin"], "long-enough-pass\n", 2, "admin"),
        (["user", "remove", "nobody"], "", 1, "no user 'nobody'"),
    ],
)
def test_user_command_mistakes_are_named(tmp_path: Path, args: list[str], stdin: str, code: int, message: str) -> None:
    users = tmp_path / "users.txt"
    users.write_text("", encoding="utf-8")
    result = _assistant(*args, "--users-file", str(users), stdin=stdin)
    assert result.returncode == code and message in result.stderr and "Traceback" not in result.stderr
