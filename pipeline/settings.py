"""Configuration from environment variables and a settings file, validated once.

Precedence: environment (``SHIKUMI_*``, plus ``OPENAI_API_KEY``) > ``<workspace>/settings.json``
> defaults. With nothing configured, every stage runs on the embedded offline models.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

SETTINGS_FILE = "settings.json"
EMBEDDED = "embedded"


def default_workspace() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "shikumi"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "shikumi"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHIKUMI_", extra="ignore")

    workspace: Path = Field(default_factory=default_workspace)
    cache_dir: Path = Field(default_factory=default_cache_dir)  # assembled embedded models
    database_url: str = ""  # default: sqlite file in the workspace

    # LLM: "embedded" (local Qwen via llama.cpp server), "openai", or "openai_compatible"
    llm_provider: Literal["auto", "embedded", "openai", "openai_compatible"] = "auto"
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = ""
    llm_temperature: float = 0.0
    llm_timeout_s: float = 600.0
    llm_context: int = 8192  # context window of the embedded server
    llm_threads: int = 2
    llm_port: int = 0  # embedded server's loopback port; 0 = any free one (a taken one is skipped)
    # chunks labelled at the same time; 0 = automatic (1 for the embedded model, 4 for an API)
    llm_concurrency: int = 0

    # Speech-to-text
    whisper_model: str = EMBEDDED  # "embedded" (packaged base), a model name or a CTranslate2 dir
    whisper_compute_type: str = "int8"
    whisper_threads: int = 2
    # >1: batched inference in ~5-minute windows (RTF about half of sequential, same accuracy;
    # docs/benchmarks.md); 0 or 1: sequential decoding
    whisper_batch_size: int = 4
    # glossary as Whisper's initial prompt (every batched chunk); speech a prompted chunk leaves
    # out is decoded again without it. Japanese CER -35 % with the correction pass.
    whisper_prompt: bool = True
    whisper_hotwords: bool = False  # glossary as hotwords (measured: no better than the prompt)
    glossary_correction: bool = True  # fix mis-heard business terms after Whisper (in context)
    # seconds per audio minute the correction may spend scoring candidates with the language
    # model; 0: the rule without a model only (no model is started). The embedded model on 2
    # cores: 1 s -> RTF about +0.03 and dev key terms within 0.01 of 3 s (docs/benchmarks.md)
    correction_lm_seconds: float = Field(default=1.0, ge=0.0)
    # prompt and correction only for hearings whose own words match the back-office lexicon
    vocabulary_gate: bool = True
    # an OpenAI-compatible /v1/audio/transcriptions endpoint instead of local faster-whisper
    # (OpenAI: "https://api.openai.com/v1" with OPENAI_API_KEY; or a self-hosted server)
    stt_base_url: str = ""
    stt_api_key: str = ""
    stt_model: str = "whisper-1"
    language: Literal["auto", "ja", "en"] = "auto"
    glossary: list[str] = Field(default_factory=list)

    # Knowledge base
    embedding: str = EMBEDDED  # "embedded" or "openai:<model>"
    chroma_host: str = ""  # empty: embedded persistent chromadb in the workspace
    chroma_port: int = 8000

    # Assistant: "structured" renders answers from the approved fields (the model only chooses);
    # "generate" lets the chat model write them (for strong models; still citation-checked)
    answer_mode: Literal["structured", "generate"] = "structured"
    # Jobs: a running job whose worker sent no heartbeat for this long is taken over by another
    job_lease_s: float = 60.0
    # the app starts a background worker on this machine (off when worker machines run
    # `shikumi worker --forever` against a shared PostgreSQL)
    local_worker: bool = True

    ui_language: Literal["ja", "en"] = "ja"
    reviewer: str = Field(default_factory=lambda: os.environ.get("USER", "reviewer") or "reviewer")

    @field_validator("glossary", mode="before")
    @classmethod
    def _split_glossary(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [t.strip() for t in v.replace("、", ",").split(",") if t.strip()]
        return v

    # ------------------------------------------------------------------ derived values

    @property
    def resolved_llm_provider(self) -> str:
        if self.llm_provider != "auto":
            return self.llm_provider
        if self.llm_base_url:
            return "openai_compatible"
        if self.llm_api_key or os.environ.get("OPENAI_API_KEY"):
            return "openai"
        return EMBEDDED

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.workspace / 'shikumi.db'}"

    @property
    def uploads_dir(self) -> Path:
        return self.workspace / "uploads"

    @property
    def index_dir(self) -> Path:
        return self.workspace / "index"

    def check(self) -> Settings:
        provider = self.resolved_llm_provider
        if provider == "openai_compatible" and not self.llm_base_url:
            raise ConfigError(
                "SHIKUMI_LLM_PROVIDER=openai_compatible but no endpoint is set.",
                "Set SHIKUMI_LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1), or unset "
                "SHIKUMI_LLM_PROVIDER to use the embedded local model.",
            )
        if provider == "openai" and not (self.llm_api_key or os.environ.get("OPENAI_API_KEY")):
            raise ConfigError(
                "SHIKUMI_LLM_PROVIDER=openai but no API key is set.",
                "Set OPENAI_API_KEY (or SHIKUMI_LLM_API_KEY), or unset SHIKUMI_LLM_PROVIDER "
                "to use the embedded local model.",
            )
        return self


def _file_values(workspace: Path) -> dict[str, Any]:
    path = workspace / SETTINGS_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"The settings file {path} cannot be read: {exc}",
            "Fix the JSON in that file or delete it to return to the defaults.",
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object.", "Fix or delete the file.")
    return data


def load_settings(workspace: Path | str | None = None, **overrides: Any) -> Settings:
    """Build validated settings. ``workspace`` and ``overrides`` win over everything else."""
    try:
        env_only = Settings()
        ws = Path(workspace) if workspace else env_only.workspace
        values = _file_values(ws)
        # environment wins over the file: only take file values not set in the environment
        env_keys = {k[len("SHIKUMI_") :].lower() for k in os.environ if k.startswith("SHIKUMI_")}
        merged = {k: v for k, v in values.items() if k not in env_keys}
        merged.update(overrides)
        merged["workspace"] = ws
        settings = Settings(**merged)
    except ValidationError as exc:
        raise ConfigError(
            f"Invalid setting: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}",
            "Check the SHIKUMI_* environment variables and <workspace>/settings.json.",
        ) from exc
    return settings.check()


def save_settings_file(settings: Settings, fields: dict[str, Any]) -> Path:
    """Persist user-chosen settings (from the app's settings page) to the workspace file."""
    path = settings.workspace / SETTINGS_FILE
    current = _file_values(settings.workspace)
    current.update(fields)
    Settings(**{**current, "workspace": settings.workspace})  # validate before writing
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, ensure_ascii=False, indent=2, default=str), "utf-8")
    tmp.replace(path)
    return path
