"""Long recordings are decoded in windows cut at pauses, so memory does not grow with length."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.adapters.whisper import SAMPLE_RATE, RawSegment, RawWord, split_sentences, window_cuts


def speech_like(seconds: float) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 0.1, int(seconds * SAMPLE_RATE)).astype(np.float32)


def test_short_recording_is_one_window() -> None:
    audio = speech_like(400)
    assert window_cuts(audio) == [0, len(audio)]


def test_long_recording_is_cut_at_pauses_and_covers_everything() -> None:
    audio = speech_like(3600)
    pause = 304 * SAMPLE_RATE
    audio[pause : pause + SAMPLE_RATE // 5] = 0.0  # a 200 ms pause near the first target
    cuts = window_cuts(audio)
    assert cuts[0] == 0 and cuts[-1] == len(audio)
    assert pause <= cuts[1] <= pause + SAMPLE_RATE // 5  # cut inside the pause, not mid-word
    sizes = np.diff(cuts) / SAMPLE_RATE
    assert all(200 <= s <= 460 for s in sizes)  # bounded windows, whatever the length


def test_a_long_batched_segment_is_cut_into_sentences() -> None:
    words = [
        RawWord(0.0, 0.5, "承認は", 0.9),
        RawWord(0.5, 1.2, "誰ですか？", 0.9),
        RawWord(1.6, 2.0, "部長", 0.9),
        RawWord(2.0, 2.4, "です", 0.9),
        RawWord(3.6, 4.0, "以上", 0.9),
    ]
    seg = RawSegment(0.0, 4.0, "承認は誰ですか？部長です以上", -0.2, 0.01, 1.1, words)
    parts = split_sentences(seg)
    # cut after ？ and before the 1.2 s pause
    assert [p.text for p in parts] == ["承認は誰ですか？", "部長です", "以上"]
    assert [(p.start, p.end) for p in parts] == [(0.0, 1.2), (1.6, 2.4), (3.6, 4.0)]
    assert sum(len(p.words) for p in parts) == len(words)  # nothing dropped


class _Seg:
    """What faster-whisper yields: a chunk's text with word timings."""

    def __init__(self, start: float, end: float, text: str):
        self.start, self.end, self.text = start, end, text
        self.avg_logprob, self.no_speech_prob, self.compression_ratio = -0.2, 0.01, 1.5
        self.words = [type("W", (), {"start": start, "end": end, "word": text, "probability": 0.9})]


class _Pipeline:
    """A batched pipeline that, like Whisper base with a glossary prompt, stops the first
    chunk after the question and drops the answer (10-16 s) unless decoded without the prompt."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str | None]] = []
        self.first = [_Seg(0.0, 4.0, "承認の基準は何ですか"), _Seg(20.0, 24.0, "次に進みます")]

    def transcribe(self, audio, batch_size, without_timestamps, **options):  # type: ignore[no-untyped-def]
        prompt = options.get("initial_prompt")
        self.calls.append((len(audio) / SAMPLE_RATE, prompt))
        # the second call re-decodes the uncovered stretch: times relative to its start
        again = [_Seg(0.5, 6.5, "部長の承認が必要です")]
        segs = self.first if len(self.calls) == 1 else again
        info = type("I", (), {"language": "ja", "language_probability": 1.0})
        return iter(segs), info


def _voice(seconds: float, loud: list[tuple[float, float]]) -> np.ndarray:
    audio = np.zeros(int(seconds * SAMPLE_RATE), np.float32)
    t = np.arange(len(audio)) / SAMPLE_RATE
    for a, b in loud:
        part = (t >= a) & (t < b)
        audio[part] = 0.3 * np.sin(2 * np.pi * 180 * t[part])
    return audio


@pytest.fixture(autouse=True)
def _own_compute_lock(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Not the machine-wide lock: a benchmark holding it must not stall these tests."""
    monkeypatch.setenv("SHIKUMI_COMPUTE_LOCK", str(tmp_path / "compute.lock"))


def _whisper_with(pipeline: _Pipeline):  # type: ignore[no-untyped-def]
    from pipeline.adapters.whisper import FasterWhisper

    stt = FasterWhisper.__new__(FasterWhisper)
    stt.name, stt.batch_size, stt._batched = "fake", 4, pipeline  # type: ignore[assignment]
    return stt


def test_speech_dropped_after_a_prompted_chunk_is_decoded_again_without_the_prompt() -> None:
    audio = _voice(26, [(0, 4), (4.5, 10.5), (20, 24)])  # question, answer, next remark
    pipeline = _Pipeline()
    segs, _ = _whisper_with(pipeline).transcribe(audio, "ja", initial_prompt="承認、決裁")
    texts = [(round(s.start, 1), s.text) for s in segs]
    assert texts == [
        (0.0, "承認の基準は何ですか"),
        (4.5, "部長の承認が必要です"),
        (20.0, "次に進みます"),
    ]
    assert pipeline.calls[1][1] is None  # the answer was decoded without the prompt
    assert pipeline.calls[1][0] == pytest.approx(16.0)  # from the question's end to the next


def test_a_prompted_chunk_decoded_to_nothing_is_decoded_again() -> None:
    """Whisper yields an empty, wordless segment spanning the chunk: its speech is uncovered."""
    audio = _voice(26, [(0, 4), (4.5, 10.5), (20, 24)])
    pipeline = _Pipeline()
    pipeline.first = [_Seg(0.0, 10.5, ""), _Seg(20.0, 24.0, "次に進みます")]
    pipeline.first[0].words = []
    segs, _ = _whisper_with(pipeline).transcribe(audio, "ja", initial_prompt="承認、決裁")
    assert [s.text for s in segs][1:] == ["部長の承認が必要です", "次に進みます"]
    assert pipeline.calls[1] == (pytest.approx(20.0), None)


def test_pauses_after_a_prompted_chunk_are_not_decoded_again() -> None:
    from pipeline.adapters.whisper import uncovered_speech

    audio = _voice(26, [(0, 4), (20, 24)])  # silence between the two remarks
    pipeline = _Pipeline()
    segs, _ = _whisper_with(pipeline).transcribe(audio, "ja", initial_prompt="承認、決裁")
    assert [s.text for s in segs] == ["承認の基準は何ですか", "次に進みます"]
    assert len(pipeline.calls) == 1
    assert uncovered_speech(audio, 4.0, 20.0, 0.2) == 0.0
    assert uncovered_speech(audio, 0.0, 20.0, 0.2) == 4.0
