"""The CLI is scriptable: --workspace and --json on every subcommand; errors say what to do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli
from pipeline.models import Interview, Judgment, RuleRow, Task
from pipeline.store import Store

from .conftest import FakeEmbedder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    try:
        data = json.loads(out.out)
    except json.JSONDecodeError:
        data = None
    return code, data, out.err


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import pipeline.workspace as w

    monkeypatch.setattr(w, "embedder", lambda settings: FakeEmbedder())
    path = tmp_path / "ws"
    store = Store(f"sqlite:///{path / 'shikumi.db'}")
    iv = store.add_interview(Interview(title="経費精算", business_area="経費精算"))
    store.add_elements(
        [
            Task(interview_id=iv.id, summary="領収書を照合する"),
            Judgment(
                interview_id=iv.id,
                summary="5万円超は部長承認",
                rules=[RuleRow(condition="5万円超", outcome="部長承認")],
            ),
        ]
    )
    store.close()
    return path


def test_list_and_approve_all_as_json(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(capsys, "elements", "--workspace", str(ws), "--json")
    assert code == 0 and {e["status"] for e in data} == {"draft"}
    code, data, _ = run(capsys, "--workspace", str(ws), "--json", "approve", "--all")
    assert code == 0 and [e["status"] for e in data] == ["approved", "approved"]
    code, data, _ = run(capsys, "index", "rebuild", "--workspace", str(ws), "--json")
    assert data == {"indexed": 2}


def test_approve_by_id_then_state_errors(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(capsys, "approve", "J0001", "--workspace", str(ws), "--json")
    assert code == 0 and data[0]["id"] == "J0001"
    code, _, err = run(capsys, "retire", "T0001", "--workspace", str(ws))
    assert code == 2 and "Cannot retire T0001" in err and "→" in err


def test_missing_audio_is_a_clear_error(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(capsys, "process", "/nope/x.wav", "--workspace", str(ws), "--json")
    assert code == 2 and "not found" in data["error"] and data["hint"]


def test_ask_without_approved_rules_is_not_covered(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data, _ = run(capsys, "ask", "海外出張の日当は？", "--workspace", str(ws), "--json")
    assert code == 0 and data["covered"] is False and data["citations"] == []
    code, data, _ = run(capsys, "interviews", "--workspace", str(ws), "--json")
    assert data[0]["title"] == "経費精算"
