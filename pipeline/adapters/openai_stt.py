"""Any OpenAI-compatible transcription endpoint (``/v1/audio/transcriptions``) as SpeechToText.

OpenAI itself (``whisper-1``), or a self-hosted server (faster-whisper-server, speaches, vLLM)
with any model the user has. Same interface and result types as local faster-whisper: segments
with times, words with times where the server gives them (``timestamp_granularities``), the
detected language. The audio is sent as 16 kHz WAV in pieces of about ten minutes cut at pauses
(OpenAI accepts at most 25 MB per request); the glossary prompt goes as ``prompt``. Servers that
return no segments give one segment per piece; servers without word times give words-less
segments (review still shows and plays them).
"""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import TranscriptionError
from .whisper import SAMPLE_RATE, RawInfo, RawSegment, RawWord, split_sentences, window_cuts

PIECE_S = 600  # 10 min of 16 kHz 16-bit WAV = 19 MB, under OpenAI's 25 MB limit
_LANGUAGES = {"japanese": "ja", "english": "en"}


def wav_bytes(audio: np.ndarray) -> bytes:
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


class OpenAITranscriber:
    """``/v1/audio/transcriptions`` with ``response_format=verbose_json``."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 600.0):
        import httpx

        self.name = model
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(timeout=timeout, headers=headers)

    def close(self) -> None:
        self._http.close()

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None,
        hotwords: str | None = None,
        initial_prompt: str | None = None,
    ) -> tuple[Iterator[RawSegment], RawInfo]:
        cuts = window_cuts(audio, PIECE_S)
        prompt = initial_prompt or hotwords
        first = self._request(audio[cuts[0] : cuts[1]], language, prompt)
        lang = language or _LANGUAGES.get(str(first.get("language", "")).lower(), "")
        lang = lang or str(first.get("language", ""))

        def gen() -> Iterator[RawSegment]:
            for k in range(len(cuts) - 1):
                piece = audio[cuts[k] : cuts[k + 1]]
                data = first if k == 0 else self._request(piece, lang or None, prompt)
                for seg in segments_from_response(data, cuts[k] / SAMPLE_RATE, len(piece)):
                    yield from split_sentences(seg) if seg.words else [seg]

        return gen(), RawInfo(
            language=lang,
            language_probability=1.0,
            duration=len(audio) / SAMPLE_RATE,
            model=self.name,
        )

    def _request(
        self, audio: np.ndarray, language: str | None, prompt: str | None
    ) -> dict[str, Any]:
        form: dict[str, Any] = {
            "model": self.name,
            "response_format": "verbose_json",
            "timestamp_granularities[]": ["segment", "word"],
            "temperature": "0",
        }
        if language:
            form["language"] = language
        if prompt:
            form["prompt"] = prompt
        url = f"{self.base_url}/audio/transcriptions"
        try:
            resp = self._http.post(
                url, data=form, files={"file": ("audio.wav", wav_bytes(audio), "audio/wav")}
            )
            resp.raise_for_status()
            data = resp.json()
        except Exception as exc:
            raise TranscriptionError(
                f"The transcription endpoint {url} failed: {type(exc).__name__}: {exc}",
                "Check SHIKUMI_STT_BASE_URL, SHIKUMI_STT_MODEL and the API key; or unset "
                "SHIKUMI_STT_BASE_URL to transcribe locally with faster-whisper.",
                cause=exc,
            ) from exc
        if not isinstance(data, dict):
            raise TranscriptionError(f"{url} returned {type(data).__name__}, not JSON.", "Check.")
        return data


def segments_from_response(data: dict[str, Any], offset: float, samples: int) -> list[RawSegment]:
    """verbose_json -> RawSegments (times shifted by ``offset``), words given to the segment
    they fall in."""
    words = [
        RawWord(
            float(w.get("start", 0.0)) + offset,
            float(w.get("end", 0.0)) + offset,
            str(w.get("word", "")),
            float(w.get("probability", math.nan)),
        )
        for w in data.get("words") or []
    ]
    raw = data.get("segments") or []
    if not raw:
        text = str(data.get("text", "")).strip()
        if not text:
            return []
        raw = [{"start": 0.0, "end": samples / SAMPLE_RATE, "text": text}]
    out: list[RawSegment] = []
    for s in raw:
        avg = float(s.get("avg_logprob", 0.0) or 0.0)
        seg = RawSegment(
            start=float(s.get("start", 0.0)) + offset,
            end=float(s.get("end", 0.0)) + offset,
            text=str(s.get("text", "")).strip(),
            avg_logprob=avg,
            no_speech_prob=float(s.get("no_speech_prob", 0.0) or 0.0),
            compression_ratio=float(s.get("compression_ratio", 1.0) or 1.0),
        )
        inside = [w for w in words if seg.start - 0.01 <= w.start < seg.end]
        for w in inside:
            if math.isnan(w.probability):
                w.probability = math.exp(avg)  # the server gave none: the segment's
        if inside and "".join(w.word for w in inside).strip() == seg.text:
            seg.words = inside  # only when they spell the text (keeps text == words joined)
        out.append(seg)
    return out
