"""Grounding: find each quote in the transcript, Japanese-aware, and attach span, segments, time.

Order of attempts: exact substring; then the same after normalisation (NFKC, case, spaces and
punctuation removed — no word splitting, so it works for Japanese); then fuzzy partial matching
on the normalised text. A quote that matches nothing is kept as UNALIGNED, never dropped.
"""

from __future__ import annotations

import bisect
import re
import unicodedata

from rapidfuzz import fuzz

from .models import Alignment, Evidence, Segment, SegmentFlag, Transcript

FUZZY_MIN = 80.0  # rapidfuzz partial_ratio (0..100) needed for a fuzzy alignment
_DROP = re.compile(r"[\s\u3000、。，．,.!！?？・「」『』（）()\[\]【】〜~ー―\-…:：;；\"'“”‘’]")
_FILLERS = re.compile(r"えーと|えっと|あのー|あの、|えー、|まあ、|\b(?:uh|um|erm)\b,?", re.I)


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Normalised text and, for each of its characters, the offset in the original text."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if not _DROP.match(c):
                out.append(c)
                index.append(i)
    return "".join(out), index


def normalise(text: str) -> str:
    return normalise_with_map(text)[0]


def _strip_fillers(text: str) -> str:
    return _FILLERS.sub("", text)


def _nearest(positions: list[int], near: int | None) -> int:
    if near is None:
        return positions[0]
    return min(positions, key=lambda p: abs(p - near))


def _all(haystack: str, needle: str) -> list[int]:
    out, pos = [], haystack.find(needle)
    while pos >= 0:
        out.append(pos)
        pos = haystack.find(needle, pos + 1)
    return out


def find_span(
    quote: str, text: str, near: int | None = None
) -> tuple[int, int, Alignment, float] | None:
    """Locate ``quote`` in ``text``: exact, then normalised, then fuzzy.

    ``near`` (a character offset, e.g. where the chunk starts) picks between repeated
    occurrences and is searched first for the fuzzy match.
    """
    quote = quote.strip().strip("「」\"'")
    if not quote:
        return None
    hits = _all(text, quote)
    if hits:
        pos = _nearest(hits, near)
        return pos, pos + len(quote), Alignment.EXACT, 1.0
    norm_text, index = normalise_with_map(text)
    for candidate in (quote, _strip_fillers(quote)):
        nq = normalise(candidate)
        if not nq:
            continue
        hits = _all(norm_text, nq)
        if hits:
            norm_near = None if near is None else bisect.bisect_left(index, near)
            pos = _nearest(hits, norm_near)
            return index[pos], index[pos + len(nq) - 1] + 1, Alignment.FUZZY, 0.99
    nq = normalise(_strip_fillers(quote))
    if len(nq) < 4 or not norm_text:
        return None
    windows = [(0, len(norm_text))]
    if near is not None:
        centre = bisect.bisect_left(index, near)
        w = max(4 * len(nq), 400)
        windows.insert(0, (max(centre - w // 4, 0), min(centre + w, len(norm_text))))
    for lo, hi in windows:
        res = fuzz.partial_ratio_alignment(nq, norm_text[lo:hi], score_cutoff=FUZZY_MIN)
        if res is None or res.dest_end <= res.dest_start:
            continue
        start, end = index[lo + res.dest_start], index[lo + res.dest_end - 1] + 1
        return start, end, Alignment.FUZZY, round(res.score / 100.0, 3)
    return None


def _time_at(seg: Segment, offset: int) -> float:
    """Audio time of a character offset inside a segment, from word timings when present."""
    if seg.words:
        pos = 0
        for w in seg.words:
            pos += len(w.word.strip())
            if pos > offset:
                return w.start
        return seg.words[-1].end
    if not seg.text:
        return seg.start
    frac = min(max(offset / len(seg.text), 0.0), 1.0)
    return seg.start + frac * (seg.end - seg.start)


def ground(quote: str, transcript: Transcript, near: int | None = None) -> Evidence:
    """Evidence for ``quote``: span, segments, audio time; UNALIGNED (kept) when not found."""
    text = transcript.text
    found = find_span(quote, text, near)
    if found is None:
        return Evidence(quote=quote, alignment=Alignment.UNALIGNED)
    start, end, status, score = found
    seg_ids: list[str] = []
    audio_start = audio_end = None
    low = False
    speakers: list[str] = []
    for seg, (s0, s1) in zip(transcript.segments, transcript.segment_spans(), strict=True):
        if s1 <= start or s0 >= end:
            continue
        seg_ids.append(seg.id)
        speakers.append(seg.speaker)
        if audio_start is None:
            audio_start = _time_at(seg, max(start - s0, 0))
        audio_end = seg.end if end >= s1 else max(_time_at(seg, end - s0), seg.start)
        if {SegmentFlag.LOW_CONFIDENCE, SegmentFlag.NO_SPEECH, SegmentFlag.REPETITION} & set(
            seg.flags
        ):
            low = True
    return Evidence(
        quote=quote,
        segment_ids=seg_ids,
        char_start=start,
        char_end=end,
        audio_start=round(audio_start, 2) if audio_start is not None else None,
        audio_end=round(audio_end, 2) if audio_end is not None else None,
        alignment=status,
        score=score,
        low_confidence=low,
        speaker=speakers[0] if speakers else "",
    )


def verify(evidence: Evidence, transcript: Transcript) -> bool:
    """Independent check that a grounded evidence really points at its quote."""
    if not evidence.grounded or evidence.char_start is None or evidence.char_end is None:
        return False
    span = transcript.text[evidence.char_start : evidence.char_end]
    if evidence.alignment == Alignment.EXACT:
        return span == evidence.quote.strip().strip("「」\"'")
    a, b = normalise(_strip_fillers(span)), normalise(_strip_fillers(evidence.quote))
    return bool(a) and fuzz.partial_ratio(b, a) >= FUZZY_MIN
