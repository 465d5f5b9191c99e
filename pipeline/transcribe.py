"""Stage 1: audio -> Transcript (timestamps, speakers, quality flags), stored in the database.

Nothing is dropped: segments that look unreliable are flagged so that review shows them and
extraction treats them with care. A long run writes each segment to a checkpoint file as it
goes; an interrupted run resumes from the last segment's end (same audio, model and options)
or restarts cleanly when anything differs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .adapters.whisper import RawSegment, SpeechToText
from .audio import SAMPLE_RATE, decode, frame_rms, probe, sha256_of, speech_level
from .correction import (
    LM_SECONDS_PER_MINUTE,
    SentenceScorer,
    Stats,
    correct_segments,
    in_domain,
)
from .glossary import DEFAULT_CONFUSIONS_JA, DEFAULT_TERMS_EN, DEFAULT_TERMS_JA, Glossary
from .models import Language, Segment, SegmentFlag, Transcript, Word
from .speakers import INTERVIEWEE, INTERVIEWER, label_speakers
from .vocabulary import Lexicon, for_hearing

if TYPE_CHECKING:
    from .settings import Settings

__all__ = [
    "INTERVIEWEE",
    "INTERVIEWER",
    "ProgressFn",
    "quality_flags",
    "transcribe_file",
    "vocabulary_options",
]

LOW_LOGPROB = -1.0
LOW_WORD_PROB = 0.35  # median word probability below this: low confidence
NO_SPEECH = 0.6
REPETITION_RATIO = 2.4
QUIET = 0.1  # a segment whose loudest moment is 20 dB below the speech level is "silence"

ProgressFn = Callable[[float, float], None]  # (audio seconds done, total)

# Whisper's well-known inventions on silence or music (subtitle credits, video outros)
_HALLUCINATIONS = re.compile(
    r"ご視聴ありがとうございました|チャンネル登録|字幕|thank you for watching|"
    r"subtitles by|please subscribe",
    re.IGNORECASE,
)


def _has_loop(text: str) -> bool:
    """A phrase of 2+ characters repeated 4+ times in a row ('はい、はい、はい、はい'), or one
    character 8+ times ('ああああああああ')."""
    compact = re.sub(r"[\s、。,.]", "", text)
    return (
        re.search(r"(.{2,}?)\1{3,}", compact) is not None
        or re.search(r"(.)\1{7,}", compact) is not None
    )


def quality_flags(seg: RawSegment, loudness: float | None = None) -> list[SegmentFlag]:
    """Flags for one segment. ``loudness``: its loudest moment relative to the speech level
    of the whole recording (1.0 = typical speech), when the audio is at hand."""
    flags: list[SegmentFlag] = []
    probs = [w.probability for w in seg.words]
    if seg.avg_logprob < LOW_LOGPROB or (len(probs) >= 3 and np.median(probs) < LOW_WORD_PROB):
        flags.append(SegmentFlag.LOW_CONFIDENCE)
    silent = loudness is not None and loudness < QUIET
    if (
        (seg.no_speech_prob > NO_SPEECH and seg.avg_logprob < -0.5)
        or silent
        or (_HALLUCINATIONS.search(seg.text) and seg.no_speech_prob > 0.2)
    ):
        flags.append(SegmentFlag.NO_SPEECH)
    if seg.compression_ratio > REPETITION_RATIO or _has_loop(seg.text):
        flags.append(SegmentFlag.REPETITION)
    return flags


def flag_repeated_segments(segments: list[Segment], times: int = 3) -> None:
    """The same text in ``times`` or more consecutive segments is a loop: flag them all."""
    run = 1
    for i in range(1, len(segments) + 1):
        same = i < len(segments) and _key(segments[i].text) == _key(segments[i - 1].text)
        if same:
            run += 1
            continue
        if run >= times:
            for seg in segments[i - run : i]:
                if SegmentFlag.REPETITION not in seg.flags:
                    seg.flags.append(SegmentFlag.REPETITION)
        run = 1


def _key(text: str) -> str:
    return re.sub(r"[\s、。,.!?！？]", "", text).lower()


# --------------------------------------------------------------------------- loudness


class _Loudness:
    """Loudest 100 ms of a span, relative to the recording's typical speech level."""

    def __init__(self, audio: np.ndarray):
        self.rms = frame_rms(audio, SAMPLE_RATE // 10)
        self.level = speech_level(self.rms) or 1.0

    def __call__(self, start: float, end: float) -> float:
        a, b = int(start * 10), max(int(start * 10) + 1, int(end * 10))
        window = self.rms[a:b]
        return float(window.max()) / self.level if len(window) else 0.0


# --------------------------------------------------------------------------- checkpoint


class Checkpoint:
    """Segments written as JSON lines while Whisper runs; a header names what they belong to."""

    def __init__(self, path: Path, header: dict[str, Any]):
        self.path = path
        self.header = header

    def load(self) -> list[RawSegment]:
        """Segments of an earlier, interrupted run of the same job; [] if none or different."""
        if not self.path.exists():
            return []
        lines = self.path.read_text("utf-8").splitlines()
        try:
            if not lines or json.loads(lines[0]) != self.header:
                return []
        except json.JSONDecodeError:
            return []
        out: list[RawSegment] = []
        for line in lines[1:]:
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                break  # a half-written last line: resume before it
            out.append(_raw_from_dict(d))
        return out

    def start(self, keep: list[RawSegment]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            f.write(json.dumps(self.header, ensure_ascii=False) + "\n")
            for seg in keep:
                f.write(json.dumps(_raw_to_dict(seg), ensure_ascii=False) + "\n")
        tmp.replace(self.path)
        self._f = self.path.open("a", encoding="utf-8")

    def add(self, seg: RawSegment) -> None:
        self._f.write(json.dumps(_raw_to_dict(seg), ensure_ascii=False) + "\n")
        self._f.flush()

    def close(self) -> None:
        if getattr(self, "_f", None):
            self._f.close()

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def _raw_to_dict(seg: RawSegment) -> dict[str, Any]:
    d = dict(seg.__dict__)
    d["words"] = [w.__dict__ for w in seg.words]
    return d


def _raw_from_dict(d: dict[str, Any]) -> RawSegment:
    from .adapters.whisper import RawWord

    words = [RawWord(**w) for w in d.pop("words", [])]
    return RawSegment(**d, words=words)


def _shift(seg: RawSegment, offset: float) -> RawSegment:
    if offset:
        seg.start += offset
        seg.end += offset
        for w in seg.words:
            w.start += offset
            w.end += offset
    return seg


# --------------------------------------------------------------------------- the stage


def vocabulary_options(settings: Settings, project_terms: Iterable[str] = ()) -> dict[str, Any]:
    """The keyword arguments of ``transcribe_file`` that the settings decide: the glossary
    (settings' terms plus ``project_terms``) and how it is used (hotwords, prompt, correction)."""
    return {
        "glossary": [*settings.glossary, *project_terms],
        "hotwords": settings.whisper_hotwords,
        "prompt": settings.whisper_prompt,
        "correct": settings.glossary_correction,
        "gate": settings.vocabulary_gate,
        "lm_seconds": settings.correction_lm_seconds,
    }


PROBE_S = 60.0  # speech decoded without the prompt to decide whether the hearing is in domain


def _user_vocabulary(vocab: Glossary) -> tuple[list[str], dict[str, str]]:
    """The glossary's own terms (not the built-in defaults) and its heard=meant pairs."""
    defaults = set(DEFAULT_TERMS_JA) | set(DEFAULT_TERMS_EN)
    user = [t for t in vocab.terms if t not in defaults]
    pairs = {h: m for h, m in vocab.confusions.items() if DEFAULT_CONFUSIONS_JA.get(h) != m}
    return user, pairs


def transcribe_file(
    path: Path,
    interview_id: str,
    stt: SpeechToText,
    language: str | None = None,
    glossary: list[str] | None = None,
    progress: ProgressFn | None = None,
    *,
    vocabulary: Glossary | None = None,
    hotwords: bool = False,
    prompt: bool = False,
    correct: bool = True,
    checkpoint: Path | None = None,
    speakers: bool = True,
    gate: bool = True,
    scorer: SentenceScorer | None = None,
    sources: dict[str, list[str]] | None = None,
    report: dict[str, Any] | None = None,
    lm_seconds: float = LM_SECONDS_PER_MINUTE,
) -> Transcript:
    """Transcribe one audio file.

    ``glossary``: the user's terms (added to the default business glossary of the language);
    ``vocabulary`` overrides it with a ready Glossary. ``hotwords`` / ``prompt`` pass the
    glossary to Whisper as hotwords / initial prompt; ``correct`` runs the correction pass.
    ``checkpoint``: a file to resume from.

    ``gate``: the prompt and the correction apply only to a hearing whose own words match the
    back-office lexicon (Japanese: the first ``PROBE_S`` seconds are decoded without the
    prompt to decide). ``scorer``: the language model that scores correction candidates (None:
    only non-words that read exactly like a term are replaced). ``sources``: more terms for
    the correction by source (``documents``, ``engagement``). ``report``: filled with what the
    gate and the correction did.
    """
    probe(path)
    audio = decode(path)
    total = len(audio) / SAMPLE_RATE
    if language not in ("ja", "en") and hasattr(stt, "detect_language"):
        language = stt.detect_language(audio)[0]
    lang = language if language in ("ja", "en") else None
    vocab = vocabulary or Glossary.build(lang, glossary)
    hint = vocab.hotwords() if hotwords else None
    initial_prompt = vocab.prompt() if prompt else None
    user_terms, pairs = _user_vocabulary(vocab)
    lex = for_hearing(lang or "ja", glossary=user_terms, **(sources or {}))
    probed: list[RawSegment] | None = None
    report = report if report is not None else {}
    if (hint or initial_prompt) and gate and lang == "ja":
        probed, in_dom = _probe(stt, audio, lang, lex)
        report["prompt_gate"] = in_dom
        if not in_dom:
            hint = initial_prompt = None
        if in_dom or len(audio) > PROBE_S * SAMPLE_RATE:
            probed = None  # decoded again: with the prompt, or to its end

    header = {
        "audio": sha256_of(path),
        "model": getattr(stt, "name", ""),
        "language": lang,
        "hotwords": hashlib.sha256((hint or "").encode()).hexdigest()[:16],
        "prompt": hashlib.sha256((initial_prompt or "").encode()).hexdigest()[:16],
    }
    ckpt = Checkpoint(checkpoint, header) if checkpoint else None
    done = ckpt.load() if ckpt else []
    offset = round(done[-1].end, 2) if done else 0.0
    if ckpt:
        ckpt.start(done)
    raws: list[RawSegment] = list(done)
    detected = lang
    try:
        if probed is not None and not done:  # the probe was the whole recording
            model_name = getattr(stt, "name", "")
            for raw in probed:
                raws.append(raw)
                if ckpt:
                    ckpt.add(raw)
        elif offset < total - 0.5:
            segs, info = stt.transcribe(
                audio[int(offset * SAMPLE_RATE) :],
                lang,
                hotwords=hint,
                initial_prompt=initial_prompt,
            )
            detected = detected or info.language
            model_name = info.model
            for raw in segs:
                raw = _shift(raw, offset)
                raws.append(raw)
                if ckpt:
                    ckpt.add(raw)
                if progress:
                    progress(min(raw.end, total), total)
        else:
            model_name = getattr(stt, "name", "")
    finally:
        if ckpt:
            ckpt.close()
    if progress:
        progress(total, total)

    loudness = _Loudness(audio)
    segments: list[Segment] = []
    for raw in raws:
        if not raw.text:
            continue
        segments.append(
            Segment(
                id="",
                start=round(raw.start, 2),
                end=round(raw.end, 2),
                text=raw.text,
                avg_logprob=raw.avg_logprob,
                no_speech_prob=raw.no_speech_prob,
                compression_ratio=raw.compression_ratio,
                words=[Word(**w.__dict__) for w in raw.words],
                flags=quality_flags(raw, loudness(raw.start, raw.end)),
            )
        )
    flag_repeated_segments(segments)
    if speakers:
        segments = label_speakers(segments, audio)
    final_lang = detected if detected in ("ja", "en") else "ja"
    if correct:
        if final_lang != (lang or "ja"):
            lex = for_hearing(final_lang, glossary=user_terms, **(sources or {}))
        segments = correction_pass(
            segments, final_lang, lex, scorer, pairs, gate, report, lm_seconds=lm_seconds
        )
    for i, seg in enumerate(segments):
        seg.id = f"s{i + 1:04d}"
    return Transcript(
        interview_id=interview_id,
        language=Language(final_lang),
        model=Path(model_name).name if "/" in model_name else model_name,
        duration=round(total, 2),
        segments=segments,
    )


def _probe(
    stt: SpeechToText, audio: np.ndarray, lang: str, lex: Lexicon
) -> tuple[list[RawSegment], bool]:
    """Decode the first ``PROBE_S`` seconds without any hint; is the hearing in domain?"""
    segs, _ = stt.transcribe(audio[: int(PROBE_S * SAMPLE_RATE)], lang)
    raws = list(segs)
    return raws, in_domain([r.text for r in raws], lex)


def correction_pass(
    segments: list[Segment],
    language: str,
    lex: Lexicon,
    scorer: SentenceScorer | None = None,
    pairs: dict[str, str] | None = None,
    gate: bool = True,
    report: dict[str, Any] | None = None,
    time_budget: bool = True,
    lm_seconds: float = LM_SECONDS_PER_MINUTE,
) -> list[Segment]:
    """The reading-aware correction of a finished transcript (``pipeline.correction``).
    ``lm_seconds``: the model's scoring time per audio minute; ``time_budget``: False for
    evaluations whose model scores come from a cache."""
    stats = Stats()
    out = correct_segments(
        segments,
        lex,
        language,
        scorer,
        confusions=pairs,
        gate=gate,
        stats=stats,
        lm_seconds_per_minute=lm_seconds if time_budget else None,
    )
    if report is not None:
        report["correction"] = dict(stats.__dict__)
    return out


def hearing_lexicon(
    language: str, glossary: Iterable[str] = (), sources: dict[str, list[str]] | None = None
) -> tuple[Lexicon, dict[str, str]]:
    """The lexicon of one hearing (bundled + glossary + sources) and the glossary's
    heard=meant pairs, as ``transcribe_file`` builds them."""
    user, pairs = _user_vocabulary(Glossary.build(language, list(glossary)))
    return for_hearing(language, glossary=user, **(sources or {})), pairs
