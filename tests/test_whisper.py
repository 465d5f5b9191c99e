"""Long recordings are decoded in windows cut at pauses, so memory does not grow with length."""

from __future__ import annotations

import numpy as np

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
