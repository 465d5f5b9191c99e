"""Grounding: find each quote in the transcript, Japanese-aware, and attach span, segments, time.

Order of attempts: exact substring; then the same after normalisation (NFKC, case, spaces and
punctuation removed — no word splitting, so it works for Japanese); then fuzzy partial matching
on the normalised text. A quote that matches nothing is kept as UNALIGNED, never dropped.

Where a quote lies is recorded per segment (``Evidence.spans``: segment id + offsets inside
that segment's text), so correcting one segment moves no other evidence; :func:`reanchor`
follows an edit of the segment itself. Everything else on an Evidence (offsets into the full
text, audio time from the words inside the span, speaker, low confidence) is derived from the
spans by :func:`derive`.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from typing import Literal

from rapidfuzz import fuzz

from .models import (
    SEGMENT_SEPARATOR,
    Alignment,
    Evidence,
    Segment,
    SegmentFlag,
    SegmentSpan,
    Transcript,
)
from .segment_edit import TextDiff, word_ranges

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


# --------------------------------------------------------------------------- spans and time

_FLAGGED = {SegmentFlag.LOW_CONFIDENCE, SegmentFlag.NO_SPEECH, SegmentFlag.REPETITION}


def _layout(transcript: Transcript) -> dict[str, tuple[int, Segment]]:
    """Segment id -> (offset of the segment in ``transcript.text``, segment)."""
    return {
        seg.id: (s0, seg)
        for seg, (s0, _s1) in zip(transcript.segments, transcript.segment_spans(), strict=True)
    }


def spans_from_offsets(transcript: Transcript, start: int, end: int) -> list[SegmentSpan]:
    """The per-segment spans of ``transcript.text[start:end]``."""
    out = []
    for seg, (s0, s1) in zip(transcript.segments, transcript.segment_spans(), strict=True):
        if s1 <= start or s0 >= end:
            continue
        a, b = max(start - s0, 0), min(end - s0, len(seg.text))
        if a < b:
            out.append(SegmentSpan(segment_id=seg.id, start=a, end=b))
    return out


def audio_range(seg: Segment, start: int, end: int) -> tuple[float, float]:
    """Audio time of ``seg.text[start:end]``: from the first to the last word it touches.

    Words are located in the text with their spacing (Whisper's English words carry a leading
    space, the text is the words joined), so offsets in spaced text land on the right word.
    Without usable words, the time is interpolated over the segment by character position.
    """
    ranges = word_ranges(seg)
    if ranges:
        hit = [i for i, (a, b) in enumerate(ranges) if a < b and a < end and b > start]
        if hit:
            return seg.words[hit[0]].start, seg.words[hit[-1]].end
    n = len(seg.text)
    if not n:
        return seg.start, seg.end
    length = seg.end - seg.start
    return (
        seg.start + length * min(max(start / n, 0.0), 1.0),
        seg.start + length * min(max(end / n, 0.0), 1.0),
    )


def derive(ev: Evidence, transcript: Transcript) -> Evidence:
    """``ev`` with every derived field recomputed from its spans against ``transcript``.

    Evidence without spans (never found, or lost after an edit) keeps the segments it names and
    gets their time, with no offsets. Evidence stored before spans existed is returned as it is:
    convert it first with :func:`with_spans`, against the transcript it was grounded on."""
    if not ev.spans and ev.grounded:
        return ev
    layout = _layout(transcript)
    spans = [s for s in ev.spans if s.segment_id in layout]
    if not spans:
        segs = [layout[i][1] for i in ev.segment_ids if i in layout]
        return ev.model_copy(
            update={
                "spans": [],
                "char_start": None,
                "char_end": None,
                "alignment": Alignment.UNALIGNED,
                "score": 0.0,
                "audio_start": segs[0].start if segs else None,
                "audio_end": segs[-1].end if segs else None,
                "low_confidence": any(_FLAGGED & set(s.flags) for s in segs),
                "speaker": segs[0].speaker if segs else ev.speaker,
            }
        )
    (off0, first), (off1, last) = layout[spans[0].segment_id], layout[spans[-1].segment_id]
    audio_start = audio_range(first, spans[0].start, spans[0].end)[0]
    audio_end = audio_range(last, spans[-1].start, spans[-1].end)[1]
    segs = [layout[s.segment_id][1] for s in spans]
    return ev.model_copy(
        update={
            "spans": spans,
            "segment_ids": [s.segment_id for s in spans],
            "char_start": off0 + spans[0].start,
            "char_end": off1 + spans[-1].end,
            "audio_start": round(audio_start, 2),
            "audio_end": round(max(audio_end, audio_start), 2),
            "low_confidence": any(_FLAGGED & set(s.flags) for s in segs),
            "speaker": first.speaker,
        }
    )


def ground(quote: str, transcript: Transcript, near: int | None = None) -> Evidence:
    """Evidence for ``quote``: span, segments, audio time; UNALIGNED (kept) when not found."""
    found = find_span(quote, transcript.text, near)
    if found is None:
        return Evidence(quote=quote, alignment=Alignment.UNALIGNED)
    start, end, status, score = found
    spans = spans_from_offsets(transcript, start, end)
    if not spans:
        return Evidence(quote=quote, alignment=Alignment.UNALIGNED)
    return derive(Evidence(quote=quote, spans=spans, alignment=status, score=score), transcript)


def spans_of(ev: Evidence, transcript: Transcript) -> list[SegmentSpan]:
    """The evidence's per-segment spans; evidence stored before spans existed (offsets into the
    full text only) is converted against ``transcript``, the one it was grounded on."""
    if ev.spans or not ev.grounded or ev.char_start is None or ev.char_end is None:
        return list(ev.spans)
    return spans_from_offsets(transcript, ev.char_start, ev.char_end)


def with_spans(ev: Evidence, transcript: Transcript) -> Evidence:
    """``ev`` addressed per segment (see :func:`spans_of`). A stored offset that no longer
    points at its quote is searched again near where it was, else the quote is unaligned."""
    if ev.spans or not ev.grounded:
        return ev
    converted = derive(ev.model_copy(update={"spans": spans_of(ev, transcript)}), transcript)
    if verify(converted, transcript):
        return converted
    again = ground(ev.quote, transcript, near=ev.char_start)
    if again.grounded:
        return again
    lost = {"spans": [], "alignment": Alignment.UNALIGNED}
    return derive(ev.model_copy(update=lost), transcript)


def span_text(ev: Evidence, transcript: Transcript) -> str | None:
    """The transcript text the evidence points at (segments joined by the separator)."""
    spans = spans_of(ev, transcript)
    if not spans:
        return None
    texts = {s.id: s.text for s in transcript.segments}
    if any(s.segment_id not in texts for s in spans):
        return None
    return SEGMENT_SEPARATOR.join(texts[s.segment_id][s.start : s.end] for s in spans)


def verify(evidence: Evidence, transcript: Transcript) -> bool:
    """Independent check that a grounded evidence really points at its quote (and that its
    derived offsets into the full text point at the same words)."""
    if not evidence.grounded:
        return False
    span = span_text(evidence, transcript)
    if span is None:
        return False
    start, end = evidence.char_start, evidence.char_end
    if start is not None and end is not None and transcript.text[start:end] != span:
        return False
    if evidence.alignment == Alignment.EXACT:
        return span == evidence.quote.strip().strip("「」\"'")
    a, b = normalise(_strip_fillers(span)), normalise(_strip_fillers(evidence.quote))
    return bool(a) and fuzz.partial_ratio(b, a) >= FUZZY_MIN


# --------------------------------------------------------------------------- after an edit


def _same_words(diff: TextDiff, start: int, end: int) -> tuple[int, int] | None:
    """The words ``diff.old[start:end]``, verbatim in the new text next to where they were
    (difflib can split an unchanged span where an edit beside it repeats a character)."""
    words = diff.old[start:end]
    hits = _all(diff.new, words) if words else []
    if not hits:
        return None
    pos = _nearest(hits, diff.map_pos(start))
    if abs(pos - diff.map_pos(start)) > diff.changed + 2:
        return None
    return pos, pos + len(words)


def _in_edited(
    quote: str, diff: TextDiff, start: int, end: int
) -> tuple[int, int, Alignment, float] | None:
    """The quote in a segment whose quoted words were corrected: exactly, near where it was;
    else the old span's edges (when the correction left them in place) with the words the
    reviewer wrote between them, if the quote still matches them fuzzily."""
    q = quote.strip().strip("「」\"'")
    hits = _all(diff.new, q) if q else []
    if hits:
        pos = _nearest(hits, diff.map_pos(start))
        return pos, pos + len(q), Alignment.EXACT, 1.0
    a, b = diff.map_start(start), diff.map_end(end)
    if a is None or b is None or a >= b:
        return None
    nq, span = normalise(_strip_fillers(quote)), normalise(_strip_fillers(diff.new[a:b]))
    score = fuzz.ratio(nq, span) if nq and span else 0.0
    if score < FUZZY_MIN:
        return None
    return a, b, Alignment.FUZZY, round(score / 100.0, 3)


Outcome = Literal["elsewhere", "kept", "refound", "lost"]


def reanchor(
    ev: Evidence, segment_id: str, diff: TextDiff, after: Transcript
) -> tuple[Evidence, Outcome]:
    """``ev`` (with spans, see :func:`with_spans`) after segment ``segment_id``'s text changed as
    ``diff`` says; ``after`` is the transcript with the new text.

    - evidence in other segments: spans unchanged, derived offsets refreshed ("elsewhere");
    - the edit left the quoted words alone: the span moves with them ("kept");
    - the edit changed quoted words: the quote is searched again in the segments it covered,
      exactly, then fuzzily ("refound");
    - not found: UNALIGNED, naming the segment, for the reviewer to check ("lost"). It never
      keeps pointing at whatever words now sit at the old offsets.
    """
    hit = next((i for i, s in enumerate(ev.spans) if s.segment_id == segment_id), None)
    if hit is None or not ev.grounded:
        return derive(ev, after), "elsewhere"
    old = ev.spans[hit]
    moved = diff.map_span(old.start, old.end) or _same_words(diff, old.start, old.end)
    if moved is not None:
        spans = list(ev.spans)
        spans[hit] = SegmentSpan(segment_id=segment_id, start=moved[0], end=moved[1])
        return derive(ev.model_copy(update={"spans": spans}), after), "kept"
    if len(ev.spans) == 1:
        inside = _in_edited(ev.quote, diff, old.start, old.end)
        if inside is not None:
            a, b, status, score = inside
            update = {
                "spans": [SegmentSpan(segment_id=segment_id, start=a, end=b)],
                "alignment": status,
                "score": score,
            }
            return derive(ev.model_copy(update=update), after), "refound"
    ids = [s.segment_id for s in ev.spans]
    covered = [s for s in after.segments if s.id in ids]
    sub = after.model_copy(update={"segments": covered})
    first = ev.spans[0]
    near = diff.map_pos(first.start) if hit == 0 else first.start
    found = ground(ev.quote, sub, near=near)
    if found.grounded:
        update = {"spans": found.spans, "alignment": found.alignment, "score": found.score}
        return derive(ev.model_copy(update=update), after), "refound"
    lost = ev.model_copy(update={"spans": [], "segment_ids": ids, "alignment": Alignment.UNALIGNED})
    return derive(lost, after), "lost"
