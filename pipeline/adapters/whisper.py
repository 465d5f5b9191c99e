"""faster-whisper behind one narrow interface: ``SpeechToText.transcribe``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..audio import frame_rms, speech_level
from ..compute import heavy, locked_iter
from ..errors import TranscriptionError
from ..local_models import whisper_base_dir
from ..settings import EMBEDDED, Settings


@dataclass
class RawWord:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class RawSegment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    words: list[RawWord] = field(default_factory=list)


@dataclass
class RawInfo:
    language: str
    language_probability: float
    duration: float
    model: str


Progress = Callable[[float, float], None]  # (seconds done, total seconds)


class SpeechToText(Protocol):
    name: str

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None,
        hotwords: str | None = None,
        initial_prompt: str | None = None,
    ) -> tuple[Iterator[RawSegment], RawInfo]: ...


class FasterWhisper:
    """Real faster-whisper; the model is loaded once per instance.

    ``batch_size`` > 1 (the default, 4) decodes with faster-whisper's
    ``BatchedInferencePipeline``; ``initial_prompt`` then applies to every chunk. With
    ``batch_size`` <= 1 decoding is sequential and the prompt only reaches the first 30 s
    window (``condition_on_previous_text`` is off, against repetition loops).

    With a prompt or hotwords, speech that a decoded chunk leaves uncovered (2 s or more
    between its last word and the next chunk; a chunk decoded to nothing counts as uncovered)
    is decoded again without them: Whisper base sometimes stops a prompted chunk after the
    question and drops the answer.
    """

    def __init__(
        self, model: str, compute_type: str = "int8", threads: int = 2, batch_size: int = 4
    ):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.name = model
        self.batch_size = batch_size
        try:
            self._model = WhisperModel(
                model, device="cpu", compute_type=compute_type, cpu_threads=threads
            )
        except Exception as exc:
            raise TranscriptionError(
                f"Whisper model '{model}' could not be loaded: {exc}",
                "Set SHIKUMI_WHISPER_MODEL to 'embedded', a local CTranslate2 model folder, or a "
                "model name your machine can download (e.g. large-v3).",
                cause=exc,
            ) from exc
        self._batched = BatchedInferencePipeline(self._model) if batch_size > 1 else None

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """Language of the first 30 s of speech, with its probability."""
        language, probability, _ = self._model.detect_language(audio, vad_filter=True)
        return str(language), float(probability)

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None,
        hotwords: str | None = None,
        initial_prompt: str | None = None,
    ) -> tuple[Iterator[RawSegment], RawInfo]:
        options = {
            "language": language,
            "beam_size": 5,  # beam 1-2: 10-30 % faster but CER/WER worse (docs/benchmarks.md)
            "vad_filter": True,
            "vad_parameters": {"min_silence_duration_ms": 500},
            "word_timestamps": True,
            "condition_on_previous_text": False,
            "hotwords": hotwords,
            "initial_prompt": initial_prompt,
        }
        cuts = window_cuts(audio)

        first, info = self._start(audio[cuts[0] : cuts[1]], options)
        hinted = bool(hotwords or initial_prompt)
        level = speech_level(frame_rms(audio, SAMPLE_RATE // 10)) if hinted else None

        def window(k: int, segments: Iterable[Any]) -> Iterator[RawSegment]:
            offset = cuts[k] / SAMPLE_RATE
            raws = (_raw(s, offset) for s in locked_iter(iter(segments)))
            if not hinted:
                yield from raws
                return
            # a glossary prompt / hotwords can make Whisper stop a chunk early and drop the rest
            # of what was said; speech left uncovered is decoded again without the hint
            end = cuts[k + 1] / SAMPLE_RATE
            for seg, nxt in _pairs(raws):
                yield seg
                # a chunk decoded to nothing spans the whole chunk but has no words
                said = max(w.end for w in seg.words) if seg.words else seg.start
                gap_end = nxt.start if nxt else end
                if uncovered_speech(audio, said, gap_end, level) >= DROPPED_SPEECH_S:
                    a, b = int(said * SAMPLE_RATE), int(gap_end * SAMPLE_RATE)
                    plain = options | _NO_HINT | {"language": info.language}
                    again, _ = self._start(audio[a:b], plain)
                    yield from (_raw(s, a / SAMPLE_RATE) for s in locked_iter(iter(again)))

        def gen() -> Iterator[RawSegment]:
            # lazy: decoding happens while we iterate; take turns with the local LLM per segment
            for k in range(len(cuts) - 1):
                segments = (
                    first if k == 0 else self._start(audio[cuts[k] : cuts[k + 1]], options)[0]
                )
                for seg in window(k, segments):
                    # batched: one segment per VAD chunk (up to 30 s, often a question and
                    # its answer): cut at sentence ends so review and speakers see sentences
                    yield from split_sentences(seg) if self._batched is not None else [seg]

        return gen(), RawInfo(
            language=info.language,
            language_probability=float(info.language_probability),
            duration=len(audio) / SAMPLE_RATE,
            model=self.name,
        )

    def _start(self, audio: np.ndarray, options: dict[str, Any]) -> tuple[Iterable[Any], Any]:
        """Start decoding ``audio``: lazy segments (decoded while iterated) and the info."""
        try:
            with heavy():  # VAD and feature extraction run here, before the first segment
                if self._batched is not None:
                    # VAD chunks (<= 30 s) decoded in batches, each on its own: the prompt
                    # (glossary) conditions every chunk, a mis-decoded chunk cannot derail the
                    # next, and no timestamp tokens are decoded (with them, Whisper base skipped
                    # whole passages); word timestamps come from the alignment pass
                    return self._batched.transcribe(
                        audio, batch_size=self.batch_size, without_timestamps=True, **options
                    )
                return self._model.transcribe(audio, **options)
        except Exception as exc:
            raise TranscriptionError(
                f"Whisper failed before transcribing: {exc}",
                "Retry; if it fails again, try another model (SHIKUMI_WHISPER_MODEL).",
                cause=exc,
            ) from exc


def _raw(s: Any, offset: float) -> RawSegment:
    """A faster-whisper segment as a RawSegment, its times shifted by ``offset`` seconds."""
    return RawSegment(
        start=float(s.start) + offset,
        end=float(s.end) + offset,
        text=s.text.strip(),
        avg_logprob=float(s.avg_logprob),
        no_speech_prob=float(s.no_speech_prob),
        compression_ratio=float(s.compression_ratio),
        words=[
            RawWord(float(w.start) + offset, float(w.end) + offset, w.word, float(w.probability))
            for w in (s.words or [])
        ],
    )


def _pairs(items: Iterator[RawSegment]) -> Iterator[tuple[RawSegment, RawSegment | None]]:
    """Each item with the one after it (None for the last), one item of lookahead."""
    prev = next(items, None)
    for item in items:
        assert prev is not None
        yield prev, item
        prev = item
    if prev is not None:
        yield prev, None


_NO_HINT: dict[str, Any] = {"hotwords": None, "initial_prompt": None}
DROPPED_SPEECH_S = 2.0  # uncovered speech after a hinted chunk that is decoded again


def uncovered_speech(audio: np.ndarray, start: float, end: float, level: float | None) -> float:
    """Seconds of speech (100 ms frames at most 20 dB below ``level``, the recording's speech
    level) between ``start`` and ``end``, where no transcribed text lies."""
    a, b = int(start * 10), int(end * 10)
    if not level or b - a < DROPPED_SPEECH_S * 10:
        return 0.0
    rms = frame_rms(audio[a * SAMPLE_RATE // 10 : b * SAMPLE_RATE // 10], SAMPLE_RATE // 10)
    return float((rms >= 0.1 * level).sum()) / 10


SAMPLE_RATE = 16_000
_SENTENCE_END = ("。", "？", "！", "?", "!", ".")
_PAUSE_S = 1.0


def split_sentences(seg: RawSegment) -> list[RawSegment]:
    """Cut a segment after words that end a sentence (。？.?!) or before a pause of 1 s or more;
    each piece keeps its words (text = the words joined) and the segment's scores."""
    pieces: list[list[RawWord]] = [[]]
    for i, w in enumerate(seg.words):
        pieces[-1].append(w)
        nxt = seg.words[i + 1] if i + 1 < len(seg.words) else None
        if nxt and (w.word.strip().endswith(_SENTENCE_END) or nxt.start - w.end >= _PAUSE_S):
            pieces.append([])
    if len(pieces) < 2:
        return [seg]
    return [
        RawSegment(
            start=p[0].start,
            end=p[-1].end,
            text="".join(w.word for w in p).strip(),
            avg_logprob=seg.avg_logprob,
            no_speech_prob=seg.no_speech_prob,
            compression_ratio=seg.compression_ratio,
            words=p,
        )
        for p in pieces
    ]


WINDOW_S = 300  # faster-whisper computes the features of all it is given up front


def window_cuts(audio: np.ndarray, window_s: float = WINDOW_S) -> list[int]:
    """Sample indexes that split long audio into windows of about ``window_s`` seconds, each
    cut at the quietest 100 ms within 10 s of the target (a pause, not mid-word), so that peak
    memory stays flat however long the recording is. Short audio: one window."""
    n, size, hop = len(audio), int(window_s * SAMPLE_RATE), SAMPLE_RATE // 10
    cuts = [0]
    while n - cuts[-1] > 1.5 * size:
        lo = cuts[-1] + size - 10 * SAMPLE_RATE
        rms = frame_rms(audio[lo : lo + 20 * SAMPLE_RATE], hop)
        cuts.append(lo + int(np.argmin(rms)) * hop + hop // 2)
    return [*cuts, n]


_CACHE: dict[tuple[str, str, int, int], FasterWhisper] = {}


def speech_to_text(settings: Settings) -> SpeechToText:
    """The configured speech-to-text: an OpenAI-compatible transcription endpoint when
    ``stt_base_url`` is set, else local faster-whisper with the configured model (the packaged
    base model by default), cached per process."""
    if settings.stt_base_url:
        import os

        from .openai_stt import OpenAITranscriber

        api_key = settings.stt_api_key or os.environ.get("OPENAI_API_KEY", "")
        return OpenAITranscriber(settings.stt_base_url, settings.stt_model, api_key)
    model = settings.whisper_model
    if model == EMBEDDED:
        model = str(whisper_base_dir(settings.cache_dir))
    elif Path(model).expanduser().is_dir():
        model = str(Path(model).expanduser())
    batch = settings.whisper_batch_size
    key = (model, settings.whisper_compute_type, settings.whisper_threads, batch)
    if key not in _CACHE:
        _CACHE[key] = FasterWhisper(
            model, settings.whisper_compute_type, settings.whisper_threads, batch
        )
    return _CACHE[key]
