"""faster-whisper behind one narrow interface: ``SpeechToText.transcribe``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

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
    """Real faster-whisper; the model is loaded once per instance."""

    def __init__(
        self, model: str, compute_type: str = "int8", threads: int = 2, batch_size: int = 0
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
            "beam_size": 5,
            "vad_filter": True,
            "vad_parameters": {"min_silence_duration_ms": 500},
            "word_timestamps": True,
            "condition_on_previous_text": False,
            "hotwords": hotwords,
            "initial_prompt": initial_prompt,
        }
        try:
            with heavy():  # VAD and language detection run here, before the first segment
                if self._batched is not None:  # long audio: VAD chunks decoded in batches
                    segments, info = self._batched.transcribe(
                        audio, batch_size=self.batch_size, **options
                    )
                else:
                    segments, info = self._model.transcribe(audio, **options)
        except Exception as exc:
            raise TranscriptionError(
                f"Whisper failed before transcribing: {exc}",
                "Retry; if it fails again, try another model (SHIKUMI_WHISPER_MODEL).",
                cause=exc,
            ) from exc

        def gen() -> Iterator[RawSegment]:
            # lazy: decoding happens while we iterate; take turns with the local LLM per segment
            for s in locked_iter(iter(segments)):
                yield RawSegment(
                    start=float(s.start),
                    end=float(s.end),
                    text=s.text.strip(),
                    avg_logprob=float(s.avg_logprob),
                    no_speech_prob=float(s.no_speech_prob),
                    compression_ratio=float(s.compression_ratio),
                    words=[
                        RawWord(float(w.start), float(w.end), w.word, float(w.probability))
                        for w in (s.words or [])
                    ],
                )

        return gen(), RawInfo(
            language=info.language,
            language_probability=float(info.language_probability),
            duration=float(info.duration),
            model=self.name,
        )


_CACHE: dict[tuple[str, str, int, int], FasterWhisper] = {}


def speech_to_text(settings: Settings) -> FasterWhisper:
    """The configured Whisper model (the packaged base model by default), cached per process."""
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
