"""Settings: defaults, an `assistant.toml` (or the file ASSISTANT_CONFIG names), ASSISTANT_* variables, and which wins.

The autouse fixture in conftest.py clears every ASSISTANT_* variable, sets the index and corpus folders
and runs each test in its own working folder, so an `assistant.toml` written there is the one read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli.main import cli
from assistant.errors import SettingsError
from assistant.settings import CONFIG_ENV, Settings, load_settings


@pytest.fixture()
def no_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo the fixture's index and corpus variables, so the file and the defaults show through."""
    monkeypatch.delenv("ASSISTANT_INDEX_DIR")
    monkeypatch.delenv("ASSISTANT_CORPUS_DIR")


def config(text: str, path: Path = Path("assistant.toml")) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def settings_cli(*args: str):
    return CliRunner().invoke(cli, list(args), obj={})


def test_every_setting_works_unset_and_says_what_it_is(no_folders: None) -> None:
    settings = load_settings()
    assert settings.index_dir == Path("index") and settings.corpus_dir == Path("corpus")
    assert (settings.top_k, settings.fusion, settings.llm_url, settings.chroma_url) == (5, "convex", None, None)
    assert settings.chroma_dir == Path("index") / "chroma"
    assert all(field.description for field in Settings.model_fields.values())


def test_the_config_file_in_the_working_folder_is_read(no_folders: None) -> None:
    config('index_dir = "library/index"\ntop_k = 7\nfusion = "rrf"\nllm_url = "http://127.0.0.1:11434/v1"\n')
    settings = load_settings()
    assert settings.index_dir == Path("library/index") and settings.chroma_dir == Path("library/index/chroma")
    assert (settings.top_k, settings.fusion, settings.llm_url) == (7, "rrf", "http://127.0.0.1:11434/v1")


def test_assistant_config_names_another_file_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config("top_k = 7\n")
    other = config("top_k = 11\n", tmp_path / "elsewhere.toml")
    monkeypatch.setenv(CONFIG_ENV, str(other))
    assert load_settings().top_k == 11


def test_assistant_config_naming_no_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, "missing.toml")
    with pytest.raises(SettingsError, match="ASSISTANT_CONFIG=missing.toml: no such file"):
        load_settings()


def test_environment_variables_need_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    monkeypatch.setenv("ASSISTANT_REFUSAL_THRESHOLD", "0.5")
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "secret")
    monkeypatch.setenv("CANDIDATES", "99")  # no prefix: not ours
    settings = load_settings()
    assert (settings.top_k, settings.refusal_threshold, settings.llm_api_key) == (9, 0.5, "secret")
    assert settings.candidates == 40
    assert settings.index_dir == Path.cwd() / "state" / "index"  # the fixture's ASSISTANT_INDEX_DIR


@pytest.mark.parametrize(
    ("in_file", "in_env", "override", "wins"),
    [
        (None, None, None, 5),  # the default
        (7, None, None, 7),  # the file over the default
        (7, 9, None, 9),  # the environment over the file
        (7, 9, 3, 3),  # an override (a command-line option) over everything
        (None, 9, 3, 3),
    ],
)
def test_precedence(monkeypatch: pytest.MonkeyPatch, in_file: int | None, in_env: int | None, override: int | None, wins: int) -> None:
    if in_file is not None:
        config(f"top_k = {in_file}\n")
    if in_env is not None:
        monkeypatch.setenv("ASSISTANT_TOP_K", str(in_env))
    assert load_settings(top_k=override).top_k == wins  # None is no override


@pytest.mark.parametrize(
    ("env", "toml", "field"),
    [
        ({"ASSISTANT_TOP_K": "abc"}, "", "top_k"),
        ({"ASSISTANT_TOP_K": "0"}, "", "top_k"),
        ({"ASSISTANT_FUSION": "sum"}, "", "fusion"),
        ({"ASSISTANT_MAX_FILE_MB": "-1"}, "", "max_file_mb"),
        ({}, "max_passage_tokens = 512\n", "max_passage_tokens"),
        ({}, "llm_timeout = 0\n", "llm_timeout"),
        ({}, 'candidates = "many"\n', "candidates"),
        ({}, "top_kk = 3\n", "top_kk"),  # a misspelt key is refused, not ignored
    ],
)
def test_a_bad_value_is_an_error_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], toml: str, field: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if toml:
        config(toml)
    with pytest.raises(SettingsError, match=rf"^invalid setting: {field}: "):
        load_settings()


def test_a_config_file_that_is_not_toml_is_named() -> None:
    config("top_k = \n")
    with pytest.raises(SettingsError, match=r"^assistant\.toml is not valid TOML \(.*line 1"):
        load_settings()


# ---------------------------------------------------------------- `assistant settings`


def test_settings_json_prints_every_setting_in_force(monkeypatch: pytest.MonkeyPatch) -> None:
    config("top_k = 7\ncandidates = 60\n")
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "secret")
    result = settings_cli("settings", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == list(Settings.model_fields)
    assert (data["top_k"], data["candidates"], data["fusion"]) == (9, 60, "convex")
    assert data["index_dir"] == str(Path.cwd() / "state" / "index") and data["chroma_url"] is None
    assert data["llm_api_key"] == "***" and "secret" not in result.output


def test_settings_json_leaves_an_unset_key_unset() -> None:
    data = json.loads(settings_cli("settings", "--json").stdout)
    assert data["llm_api_key"] is None


def test_index_dir_option_wins_over_the_environment(tmp_path: Path) -> None:
    result = settings_cli("--index-dir", str(tmp_path / "chosen"), "settings", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["index_dir"] == str(tmp_path / "chosen")


def test_settings_lists_each_with_its_description(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "secret")
    result = settings_cli("settings")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(Settings.model_fields)
    assert "top_k = 5    # Passages returned by search and used to answer." in lines
    assert "llm_api_key = '***'    # API key for the LLM endpoint, if it needs one." in lines


@pytest.mark.parametrize(
    ("env", "toml", "says"),
    [
        ({"ASSISTANT_TOP_K": "0"}, "", "error: invalid setting: top_k: "),
        ({}, "fusion = 'sum'\n", "error: invalid setting: fusion: "),
        ({}, "top_k = \n", "error: assistant.toml is not valid TOML"),
        ({CONFIG_ENV: "missing.toml"}, "", "error: ASSISTANT_CONFIG=missing.toml: no such file"),
    ],
)
def test_a_bad_setting_stops_every_command_with_exit_code_1(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], toml: str, says: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if toml:
        config(toml)
    for command in (["settings"], ["docs"]):
        result = settings_cli(*command)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(says) and "Traceback" not in result.output
        assert result.stdout == ""
