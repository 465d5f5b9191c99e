"""Transcription stage: quality flags, progress, checkpoint/resume, nothing dropped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipeline.adapters.whisper import RawInfo, RawSegment, RawWord
from pipeline.models import SegmentFlag
from pipeline.transcribe import Checkpoint, flag_repeated_segments, quality_flags, transcribe_file
from tests.conftest import FakeScorer, FakeSTT
from tests.test_audio import tone, write_audio


def raw(text: str, logprob: float = -0.3, no_speech: float = 0.05, ratio: float = 1.3, **kw):
    return RawSegment(0.0, 2.0, text, logprob, no_speech, ratio, **kw)


def test_clean_segment_has_no_flags() -> None:
    assert quality_flags(raw("承認は課長がします。"), loudness=1.0) == []


@pytest.mark.parametrize(
    ("segment", "loudness", "flag"),
    [
        (raw("承認は課長がします", logprob=-1.4), 1.0, SegmentFlag.LOW_CONFIDENCE),
        (
            raw("承認は課長", words=[RawWord(0, 0.3, w, 0.2) for w in "承認は課長"]),
            1.0,
            SegmentFlag.LOW_CONFIDENCE,
        ),
        (raw("はい、はい、はい、はい、はい", ratio=1.5), 1.0, SegmentFlag.REPETITION),
        (raw("ああああああああああ"), 1.0, SegmentFlag.REPETITION),
        (raw("the the the the the the", ratio=2.6), 1.0, SegmentFlag.REPETITION),
        (raw("よろしくお願いします", logprob=-0.8, no_speech=0.9), 1.0, SegmentFlag.NO_SPEECH),
        (raw("ありがとうございました"), 0.02, SegmentFlag.NO_SPEECH),  # text over silence
        (raw("ご視聴ありがとうございました", no_speech=0.4), 1.0, SegmentFlag.NO_SPEECH),
    ],
)
def test_unreliable_segments_are_flagged(segment: RawSegment, loudness: float, flag) -> None:
    assert flag in quality_flags(segment, loudness=loudness)


def test_consecutive_identical_segments_are_a_loop(tmp_path: Path) -> None:
    src = write_audio(tmp_path / "rec.wav", tone(10.0, 16_000), 16_000)
    stt = FakeSTT([(0, 2, "次へ"), (2, 4, "以上です。"), (4, 6, "以上です。"), (6, 8, "以上です")])
    tr = transcribe_file(src, "iv", stt, language="ja", speakers=False)
    assert [SegmentFlag.REPETITION in s.flags for s in tr.segments] == [False, True, True, True]
    assert len(tr.segments) == 4  # flagged, never dropped
    flag_repeated_segments([])  # empty input is fine


def test_text_over_silence_is_flagged_using_the_audio(tmp_path: Path) -> None:
    signal = np.concatenate([tone(4.0, 16_000), np.zeros(4 * 16_000, np.float32)])
    src = write_audio(tmp_path / "rec.wav", signal, 16_000)
    stt = FakeSTT([(0.0, 3.5, "申請を照合します。"), (4.5, 7.5, "ありがとうございました。")])
    tr = transcribe_file(src, "iv", stt, language="ja", speakers=False)
    assert SegmentFlag.NO_SPEECH not in tr.segments[0].flags
    assert SegmentFlag.NO_SPEECH in tr.segments[1].flags
    assert tr.segments[1].text == "ありがとうございました。"


def test_progress_reports_audio_seconds_and_reaches_the_end(tmp_path: Path) -> None:
    src = write_audio(tmp_path / "rec.wav", tone(9.0, 16_000), 16_000)
    seen: list[tuple[float, float]] = []
    stt = FakeSTT([(0, 3, "一つ目"), (3, 6, "二つ目"), (6, 9, "三つ目")])
    transcribe_file(src, "iv", stt, "ja", progress=lambda d, t: seen.append((d, t)))
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[0] == 3 and done[-1] == pytest.approx(9.0, abs=0.05)
    assert all(t == pytest.approx(9.0, abs=0.05) for _, t in seen)


def test_correction_pass_applies_to_stored_text(tmp_path: Path) -> None:
    src = write_audio(tmp_path / "rec.wav", tone(6.0, 16_000), 16_000)
    segs = [
        (0, 2, "経費精算は部長の商人が必要です"),
        (2, 4, "領収書を証合します"),
        (4, 6, "経理が申請と請求書を確認します"),
    ]
    stt = FakeSTT(segs)
    scorer = FakeScorer(preferred=("承認", "照合"))
    report: dict = {}
    tr = transcribe_file(src, "iv", stt, "ja", speakers=False, scorer=scorer, report=report)
    assert [s.text for s in tr.segments][:2] == [
        "経費精算は部長の承認が必要です",
        "領収書を照合します",
    ]
    assert report["correction"]["in_domain"] and report["correction"]["replaced"] == 2
    assert {c.original for s in tr.segments for c in s.corrections} == {"商人", "証合"}
    off = transcribe_file(src, "iv", stt, "ja", speakers=False, correct=False)
    assert off.segments[1].text == "領収書を証合します"
    # no time for the model (SHIKUMI_CORRECTION_LM_SECONDS=0): the model is never asked, and
    # only the non-word that reads exactly like a term is replaced
    idle = FakeScorer(preferred=("承認", "照合"))
    rule = transcribe_file(src, "iv", stt, "ja", speakers=False, scorer=idle, lm_seconds=0.0)
    assert [s.text for s in rule.segments][:2] == [
        "経費精算は部長の商人が必要です",
        "領収書を照合します",
    ]
    assert idle.calls == []


class PromptRecorder(FakeSTT):
    """Records the prompt Whisper was given."""

    prompts: list[str | None]

    def transcribe(self, audio, language, hotwords=None, initial_prompt=None):
        self.prompts = [*getattr(self, "prompts", []), initial_prompt]
        return super().transcribe(audio, language, hotwords, initial_prompt)


def test_project_glossary_reaches_whisper_as_the_prompt(tmp_path: Path) -> None:
    src = write_audio(tmp_path / "rec.wav", tone(4.0, 16_000), 16_000)
    stt = PromptRecorder([(0, 2, "楽楽精算で申請します")])
    transcribe_file(
        src, "iv", stt, "ja", ["楽楽精算", "freee"], prompt=True, speakers=False, gate=False
    )
    transcribe_file(src, "iv", stt, "ja", ["楽楽精算"], prompt=False, speakers=False, gate=False)
    first, off = stt.prompts
    assert first is not None and first.startswith("freee、楽楽精算、")  # project terms first
    assert "経費精算" in first  # then the default business vocabulary
    assert off is None


def test_the_prompt_is_kept_for_back_office_speech_only(tmp_path: Path) -> None:
    """The first minute is decoded without the prompt; only a hearing whose own words match
    the back-office lexicon is decoded (again) with it."""
    src = write_audio(tmp_path / "rec.wav", tone(4.0, 16_000), 16_000)
    office = PromptRecorder([(0, 2, "経費精算の申請は部長が承認し、経理が領収書を照合します")])
    report: dict = {}
    tr = transcribe_file(src, "iv", office, "ja", prompt=True, speakers=False, report=report)
    assert office.prompts[0] is None and office.prompts[1] is not None
    assert report["prompt_gate"] is True and len(tr.segments) == 1
    news = PromptRecorder([(0, 2, "気象庁は雪崩や屋根からの落雪に注意するよう呼びかけています")])
    tr = transcribe_file(src, "iv", news, "ja", prompt=True, speakers=False, report=report)
    assert news.prompts == [None]  # decoded once, without the prompt
    assert report["prompt_gate"] is False and len(tr.segments) == 1


class Interrupted(Exception):
    pass


class StopAfter(FakeSTT):
    """Yields ``stop`` segments, then dies (a crash or Ctrl-C mid-way); records offsets seen."""

    def __init__(self, segments, stop: int | None = None):
        super().__init__(segments)
        self.stop = stop
        self.audio_seconds: list[float] = []

    def transcribe(self, audio, language, hotwords=None, initial_prompt=None):
        self.audio_seconds.append(len(audio) / 16_000)
        start = round(12.0 - len(audio) / 16_000, 2)  # the caller sends the rest

        def gen() -> Iterator[RawSegment]:
            for i, (s, e, t) in enumerate(self.segments):
                if s < start:
                    continue
                if self.stop is not None and i >= self.stop:
                    raise Interrupted()
                yield RawSegment(s - start, e - start, t, -0.3, 0.01, 1.2)

        return gen(), RawInfo("ja", 0.99, len(audio) / 16_000, "fake")


SEGS = [
    (0.0, 3.0, "一つ目です"),
    (3.0, 6.0, "二つ目です"),
    (6.0, 9.0, "三つ目です"),
    (9.0, 12.0, "四つ目です"),
]


def test_interrupted_run_resumes_from_the_checkpoint(tmp_path: Path) -> None:
    src = write_audio(tmp_path / "rec.wav", tone(12.0, 16_000), 16_000)
    ckpt = tmp_path / "partial.jsonl"
    with pytest.raises(Interrupted):
        transcribe_file(src, "iv", StopAfter(SEGS, stop=2), "ja", checkpoint=ckpt, speakers=False)
    assert ckpt.exists() and len(ckpt.read_text().splitlines()) == 3  # header + 2 segments
    with ckpt.open("a") as f:
        f.write('{"start": 6.0, "end": 9')  # half-written line from the crash
    resumed = StopAfter(SEGS)
    tr = transcribe_file(src, "iv", resumed, "ja", checkpoint=ckpt, speakers=False)
    assert resumed.audio_seconds == [pytest.approx(6.0, abs=0.01)]  # only the rest ran
    assert [s.text for s in tr.segments] == [t for _, _, t in SEGS]
    assert [s.start for s in tr.segments] == [0.0, 3.0, 6.0, 9.0]
    assert [s.id for s in tr.segments] == ["s0001", "s0002", "s0003", "s0004"]


def test_checkpoint_of_other_audio_is_ignored(tmp_path: Path) -> None:
    src = write_audio(tmp_path / "rec.wav", tone(12.0, 16_000), 16_000)
    ckpt = tmp_path / "partial.jsonl"
    old = Checkpoint(ckpt, {"audio": "something else"})
    old.start([RawSegment(0, 3, "古い", -0.1, 0, 1)])
    old.close()
    tr = transcribe_file(src, "iv", StopAfter(SEGS), "ja", checkpoint=ckpt, speakers=False)
    assert "古い" not in tr.text and len(tr.segments) == 4


def test_workspace_resumes_and_cleans_up(tmp_path: Path, make_workspace) -> None:
    src = write_audio(tmp_path / "rec.wav", tone(12.0, 16_000), 16_000)
    ws = make_workspace(stt=StopAfter(SEGS, stop=2))
    iv = ws.import_audio(src)
    with pytest.raises(Interrupted):
        ws.transcribe(iv.id)
    ckpt = ws.settings.uploads_dir / iv.id / "transcript.partial.jsonl"
    assert ckpt.exists() and ws.store.get_transcript(iv.id) is None
    ws._stt = StopAfter(SEGS)
    tr = ws.transcribe(iv.id)
    assert len(tr.segments) == 4 and not ckpt.exists()
    assert ws.store.get_transcript(iv.id).text == tr.text
    # restart=True ignores any checkpoint and runs from the start
    ws._stt = StopAfter(SEGS)
    assert len(ws.transcribe(iv.id, restart=True).segments) == 4


def test_vocabulary_options_follow_the_settings(tmp_path) -> None:
    """The product, the extraction eval and the benchmark transcribe with the same options."""
    from pipeline.settings import load_settings
    from pipeline.transcribe import vocabulary_options

    settings = load_settings(
        tmp_path, glossary=["稟議"], whisper_prompt=False, correction_lm_seconds=0.5
    )
    assert vocabulary_options(settings, ["楽楽精算"]) == {
        "glossary": ["稟議", "楽楽精算"],
        "hotwords": False,
        "prompt": False,
        "correct": True,
        "gate": True,
        "lm_seconds": 0.5,
    }
