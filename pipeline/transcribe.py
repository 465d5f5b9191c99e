"""Stage 1: audio -> Transcript (timestamps, speakers, quality flags), stored in the database.

Nothing is dropped: segments that look unreliable are flagged so that review shows them and
extraction treats them with care.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from .adapters.whisper import RawSegment, SpeechToText
from .audio import SAMPLE_RATE, decode, probe
from .models import Language, Segment, SegmentFlag, Transcript, Word

LOW_LOGPROB = -1.0
NO_SPEECH = 0.6
REPETITION_RATIO = 2.4
INTERVIEWER, INTERVIEWEE = "interviewer", "interviewee"

ProgressFn = Callable[[float, float], None]  # (audio seconds done, total)

_QUESTION_END = re.compile(r"(\?|？|か[。．]?|ですか|ますか|でしょうか|ください[。]?)$")


def quality_flags(seg: RawSegment) -> list[SegmentFlag]:
    flags: list[SegmentFlag] = []
    if seg.avg_logprob < LOW_LOGPROB:
        flags.append(SegmentFlag.LOW_CONFIDENCE)
    if seg.no_speech_prob > NO_SPEECH and seg.avg_logprob < -0.5:
        flags.append(SegmentFlag.NO_SPEECH)
    if seg.compression_ratio > REPETITION_RATIO or _has_loop(seg.text):
        flags.append(SegmentFlag.REPETITION)
    return flags


def _has_loop(text: str) -> bool:
    """A phrase of 2+ characters repeated 4+ times in a row, e.g. 'はい、はい、はい、はい'."""
    return re.search(r"(.{2,}?)\1{3,}", text) is not None


def label_speakers(segments: list[Segment]) -> None:
    """Turn heuristic: a question (?, ～か, ～ですか) is the interviewer; the rest the interviewee."""
    for seg in segments:
        seg.speaker = INTERVIEWER if _QUESTION_END.search(seg.text.strip()) else INTERVIEWEE


def transcribe_file(
    path: Path,
    interview_id: str,
    stt: SpeechToText,
    language: str | None = None,
    glossary: list[str] | None = None,
    progress: ProgressFn | None = None,
) -> Transcript:
    probe(path)
    audio = decode(path)
    total = len(audio) / SAMPLE_RATE
    hotwords = " ".join(glossary) if glossary else None
    raw_segments, info = stt.transcribe(
        audio, language if language in ("ja", "en") else None, hotwords=hotwords
    )
    segments: list[Segment] = []
    for raw in raw_segments:
        if not raw.text:
            continue
        segments.append(
            Segment(
                id=f"s{len(segments) + 1:04d}",
                start=round(raw.start, 2),
                end=round(raw.end, 2),
                text=raw.text,
                avg_logprob=raw.avg_logprob,
                no_speech_prob=raw.no_speech_prob,
                compression_ratio=raw.compression_ratio,
                words=[Word(**w.__dict__) for w in raw.words],
                flags=quality_flags(raw),
            )
        )
        if progress:
            progress(min(raw.end, total), total)
    if progress:
        progress(total, total)
    label_speakers(segments)
    lang = info.language if info.language in ("ja", "en") else "ja"
    return Transcript(
        interview_id=interview_id,
        language=Language(lang),
        model=Path(info.model).name if "/" in info.model else info.model,
        duration=round(total, 2),
        segments=segments,
    )
