"""End to end on the real embedded models: audio -> transcript -> elements -> approve -> answer.

Runs the real CLI as a user would (`shikumi process`, `approve --all`, `ask`), with real
faster-whisper on real audio, the real local LLM (llama.cpp server) and real chromadb.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import SAMPLES

pytestmark = pytest.mark.slow


def shikumi(ws: Path, *args: str, timeout: float = 900) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SHIKUMI_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args, "--workspace", str(ws), "--json"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    return json.loads(proc.stdout)


def test_hearing_to_cited_answer(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    audio = SAMPLES / "ja_smoke" / "audio.ogg"
    out = shikumi(ws, "process", str(audio), "--title", "経費精算", "--area", "経費精算")
    assert out["interview"]["status"] == "extracted", out["interview"]
    elements = out["elements"]
    kinds = {e["kind"] for e in elements}
    assert "judgment" in kinds and ("task" in kinds or "exception" in kinds), elements
    grounded = [
        e for e in elements if e["evidence"] and e["evidence"][0]["alignment"] != "unaligned"
    ]
    assert grounded, "at least one element must be grounded in the transcript"
    for e in grounded:
        ev = e["evidence"][0]
        assert ev["segment_ids"] and ev["audio_start"] is not None and ev["char_start"] is not None
    assert out["usage"]["llm_calls"] >= 1 and out["usage"]["completion_tokens"] > 0

    approved = shikumi(ws, "approve", "--all")
    assert {e["status"] for e in approved} == {"approved"}
    approved_ids = {e["id"] for e in approved}

    answer = shikumi(ws, "ask", "5万円を超える経費の承認は誰がしますか？")
    assert answer["covered"] is True, answer
    assert answer["citations"], answer
    for c in answer["citations"]:
        assert c["element_id"] in approved_ids
        assert c["audio_start"] is not None

    off_topic = shikumi(ws, "ask", "社員食堂の営業時間は何時までですか？")
    assert off_topic["covered"] is False and not off_topic["citations"]
