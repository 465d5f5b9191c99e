"""The sample hearings are consistent, and the held-out ones stay out of the demo load."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli
from pipeline.samples import HELD_OUT, list_samples

from .conftest import SAMPLES, FakeEmbedder


def _check_gold() -> Any:
    spec = importlib.util.spec_from_file_location("check_gold", SAMPLES / "check_gold.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("folder", sorted(p.parent.name for p in SAMPLES.glob("*/gold.json")))
def test_every_sample_passes_the_gold_checks(folder: str) -> None:
    assert _check_gold().check_folder(SAMPLES / folder) == []


def test_held_out_hearings_exist_and_are_listed_only_on_request() -> None:
    for slug in HELD_OUT:
        assert (SAMPLES / slug / "audio.ogg").is_file(), slug
    default = {s.slug for s in list_samples()}
    assert default and not default & HELD_OUT
    assert {s.slug for s in list_samples(include_held_out=True)} >= HELD_OUT


def test_samples_load_queues_the_demo_hearings_but_not_the_held_out_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pipeline.workspace as w

    monkeypatch.setattr(w, "embedder", lambda settings: FakeEmbedder())
    ws = str(tmp_path / "ws")
    assert cli.main(["samples", "load", "--no-worker", "--workspace", ws, "--json"]) == 0
    queued = {iv["title"] for iv in json.loads(capsys.readouterr().out)}
    held_out_titles = {
        json.loads((SAMPLES / slug / "script.json").read_text(encoding="utf-8"))["title"]
        for slug in HELD_OUT
    }
    assert queued == {s.title for s in list_samples()}
    assert not queued & held_out_titles
