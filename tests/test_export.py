"""Exports of a transcript, and the `shikumi export` command."""

from __future__ import annotations

import json

import pytest

from pipeline.cli import main
from pipeline.errors import ShikumiError
from pipeline.export import export
from pipeline.models import Interview, SegmentFlag, Word
from tests.conftest import transcript_of


def sample():
    tr = transcript_of(["経費精算の流れを教えてください。", "まず楽楽精算で申請します。"], "int_x")
    tr.segments[0].speaker, tr.segments[1].speaker = "interviewer", "interviewee"
    tr.segments[1].start, tr.segments[1].end = 3725.5, 3731.04
    tr.segments[1].flags = [SegmentFlag.LOW_CONFIDENCE]
    tr.segments[1].words = [Word(start=3725.5, end=3726.0, word="まず", probability=0.9)]
    return tr


def test_txt_has_times_speakers_and_flags() -> None:
    lines = export(sample(), "txt").splitlines()
    assert lines[0] == "[00:00] interviewer: 経費精算の流れを教えてください。"
    assert lines[1] == "[62:05] interviewee: まず楽楽精算で申請します。  [low_confidence]"


def test_srt_and_vtt_timestamps() -> None:
    srt = export(sample(), "srt")
    assert "2\n01:02:05,500 --> 01:02:11,040\n[interviewee] まず楽楽精算で申請します。\n" in srt
    vtt = export(sample(), "vtt")
    assert vtt.startswith("WEBVTT\n")
    assert "s0002\n01:02:05.500 --> 01:02:11.040\n<v interviewee>まず楽楽精算で申請します。" in vtt


def test_json_keeps_segments_and_words() -> None:
    data = json.loads(export(sample(), "json"))
    assert data["segments"][1]["words"][0]["word"] == "まず"
    assert data["segments"][1]["flags"] == ["low_confidence"]


def test_unknown_format() -> None:
    with pytest.raises(ShikumiError, match="Unknown export format"):
        export(sample(), "docx")


def test_cli_export(make_workspace, settings, tmp_path, capsys) -> None:
    ws = make_workspace()
    ws.store.add_interview(Interview(id="int_x", title="t"))
    ws.store.save_transcript(sample())
    out = tmp_path / "t.srt"
    ws_arg = ["--workspace", str(settings.workspace)]
    assert main(["export", "int_x", "--format", "srt", "-o", str(out), *ws_arg]) == 0
    assert "01:02:05,500" in out.read_text("utf-8")
    assert main(["export", "int_x", "--format", "txt", *ws_arg]) == 0
    assert "interviewer: 経費精算" in capsys.readouterr().out
    ws.store.add_interview(Interview(id="int_empty", title="t"))
    assert main(["export", "int_empty", *ws_arg]) == 2
    assert "shikumi transcribe int_empty" in capsys.readouterr().err
