from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import load_settings, save_settings_file


def test_defaults_are_embedded(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    assert s.resolved_llm_provider == "embedded"
    assert s.whisper_model == "embedded"
    assert s.db_url.endswith("shikumi.db")


def test_env_beats_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"language": "en", "llm_model": "x"}))
    monkeypatch.setenv("SHIKUMI_LANGUAGE", "ja")
    s = load_settings(tmp_path)
    assert s.language == "ja" and s.llm_model == "x"


def test_openai_compatible_needs_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIKUMI_LLM_PROVIDER", "openai_compatible")
    with pytest.raises(ConfigError, match="no endpoint") as exc:
        load_settings(tmp_path)
    assert "SHIKUMI_LLM_BASE_URL" in exc.value.hint


def test_base_url_selects_compatible_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIKUMI_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    assert load_settings(tmp_path).resolved_llm_provider == "openai_compatible"


def test_bad_file_and_bad_value_explain(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{broken")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(tmp_path)
    (tmp_path / "settings.json").write_text(json.dumps({"language": "fr"}))
    with pytest.raises(ConfigError, match="language"):
        load_settings(tmp_path)


def test_save_settings_file_round_trip(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    save_settings_file(s, {"glossary": ["稟議", "決裁"], "whisper_model": "small"})
    s2 = load_settings(tmp_path)
    assert s2.glossary == ["稟議", "決裁"] and s2.whisper_model == "small"
