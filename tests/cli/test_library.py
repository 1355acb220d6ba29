"""`assistant ingest` and `docs` run as a real process: what is refused, where library warnings go, unwritable folders."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path


def _assistant(*args: str, index: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")} | {"ASSISTANT_INDEX_DIR": str(index)}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_ingest_refuses_a_link_out_and_keeps_library_warnings_in_the_log(tmp_path: Path) -> None:
    from report_files import EMOJI_TILDE, REPORT_LINES, _pdf, text_pdf

    folder, index = tmp_path / "corpus", tmp_path / "index"
    folder.mkdir()
    (folder / "progress.txt").write_bytes(
        ("Progress Report – March 2021\n\n1. " + " ".join(REPORT_LINES[1:]) + "\n").encode("cp1252")
    )
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    # "invalid pdf header", still read. Its table (cells side by side) holds a character outside the Basic
    # Multilingual Plane, where pdfium gives no geometry: the page goes to pypdf's layout mode, which warns.
    rows = [(b"Judgement", b"Grade"), (b"Care ~", b"Good"), (b"Leadership", b"Good")]
    texts = [(x, 800 - 16 * n, cell) for n, row in enumerate(rows) for x, cell in zip((50, 300), row)]
    texts += [(50, 700 - 16 * n, line.encode("latin-1")) for n, line in enumerate(REPORT_LINES)]
    (folder / "prefixed.pdf").write_bytes(b"garbage\n" + _pdf(b"\n".join(b"BT /F1 11 Tf %d %d Td (%s) Tj ET" % t for t in texts), to_unicode=EMOJI_TILDE))
    (folder / "truncated.pdf").write_bytes(text_pdf(REPORT_LINES).replace(b"%%EOF", b"")[:-40])  # "EOF marker not found"
    result = _assistant("ingest", str(folder), index=index)
    assert result.returncode == 1, result.stderr
    assert re.search(r"^failed\s+passwd\.txt\s+passwd\.txt: a link to /etc/passwd, outside the folder", result.stdout, re.M)
    assert re.search(r"^failed\s+truncated\.pdf", result.stdout, re.M)
    assert re.search(r"^added\s+prefixed\.pdf", result.stdout, re.M) and re.search(r"^added\s+progress\.txt", result.stdout, re.M)
    assert "pdf header" not in result.stderr and "EOF marker" not in result.stderr and "WARNING" not in result.stderr
    log = (index / "assistant.log").read_text(encoding="utf-8")
    assert "invalid pdf header" in log
    found = _assistant("search", "--json", "root daemon nologin bin bash", "-k", "10", index=index)
    assert found.returncode == 0, found.stderr
    assert all(hit["source"] != "passwd.txt" and "root:" not in hit["text"] for hit in json.loads(found.stdout))
    docs = {row["source"]: row for row in json.loads(_assistant("docs", "--json", index=index).stdout)}
    assert docs["progress.txt"]["title"] == "Progress Report – March 2021"  # Windows-1252, not cp1257's "û"


def test_an_index_folder_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder's parent should be", encoding="utf-8")
    result = _assistant("ingest", str(tmp_path), index=blocker / "index")
    assert result.returncode == 1
    assert f"the index folder {blocker / 'index'} cannot be written" in result.stderr and "Traceback" not in result.stderr
