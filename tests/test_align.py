"""Grounding: quotes are located exactly, then Japanese-aware fuzzy; misses are kept, flagged."""

from __future__ import annotations

from pipeline.align import find_span, ground, reanchor, span_text, verify, with_spans
from pipeline.models import Alignment, Evidence, Language, Segment, SegmentFlag, Transcript, Word
from pipeline.segment_edit import TextDiff, rewrite_segment
from tests.conftest import transcript_of

LINES = [
    "申請が来たら、まず領収書の金額と申請金額を照合します。",
    "5万円を超える場合は部長の承認が必要です。",
    "領収書をなくした場合は、出金伝票を書いてもらっています。",
    "申請が来たら、まず領収書の金額と申請金額を照合します。",
]


def test_exact_quote_gets_span_segment_and_audio_time() -> None:
    tr = transcript_of(LINES)
    ev = ground("部長の承認が必要です", tr)
    assert ev.alignment == Alignment.EXACT and ev.grounded
    assert tr.text[ev.char_start : ev.char_end] == "部長の承認が必要です"
    assert ev.segment_ids == ["s0002"]
    assert ev.audio_start is not None and 5.0 <= ev.audio_start <= ev.audio_end <= 9.5
    assert verify(ev, tr)


def test_repeated_quote_prefers_the_occurrence_near_the_hint() -> None:
    tr = transcript_of(LINES)
    far = tr.text.rfind("領収書の金額")
    ev = ground("領収書の金額と申請金額を照合します", tr, near=far)
    assert ev.segment_ids == ["s0004"]
    assert ground("領収書の金額と申請金額を照合します", tr).segment_ids == ["s0001"]


def test_japanese_quote_without_punctuation_and_full_width_digits_aligns() -> None:
    tr = transcript_of(LINES)
    ev = ground("５万円を超える場合は　部長の承認が必要です", tr)
    assert ev.alignment == Alignment.FUZZY and ev.grounded
    assert "部長の承認" in tr.text[ev.char_start : ev.char_end]
    assert verify(ev, tr)


def test_quote_with_fillers_dropped_or_asr_homophone_still_aligns() -> None:
    tr = transcript_of(["えーと、領収書をなくした場合は、あの、出金伝票を書いてもらっています。"])
    assert ground("領収書をなくした場合は、出金伝票を書いてもらっています", tr).grounded
    noisy = transcript_of(["5万円を超える場合は部長の商人が必要です。"])  # 承認 -> 商人 (Whisper)
    ev = ground("5万円を超える場合は部長の承認が必要です", noisy)
    assert ev.alignment == Alignment.FUZZY and verify(ev, noisy)


def test_english_fillers_do_not_eat_words() -> None:
    tr = transcript_of(["Um, the number of invoices is checked by the summary report."], lang="en")
    ev = ground("the number of invoices is checked by the summary report", tr)
    assert ev.grounded and verify(ev, tr)


def test_invented_quote_is_kept_unaligned_never_grounded() -> None:
    tr = transcript_of(LINES)
    ev = ground("請求書は毎週金曜日に社長がまとめて承認します", tr)
    assert ev.alignment == Alignment.UNALIGNED
    assert not ev.grounded and ev.char_start is None and ev.quote
    assert not verify(ev, tr)
    assert find_span("", tr.text) is None


def test_tampered_span_fails_verification() -> None:
    tr = transcript_of(LINES)
    ev = ground("部長の承認が必要です", tr)
    moved = ev.model_copy(update={"char_start": 0, "char_end": 10})
    assert not verify(moved, tr)


def test_evidence_in_a_flagged_segment_is_low_confidence() -> None:
    tr = transcript_of(LINES)
    tr.segments[1].flags = [SegmentFlag.LOW_CONFIDENCE]
    assert ground("部長の承認が必要です", tr).low_confidence
    assert not ground("出金伝票を書いてもらっています", tr).low_confidence


# --------------------------------------------------------------------------- per-segment spans


def test_evidence_is_addressed_per_segment() -> None:
    tr = transcript_of(LINES)
    ev = ground("部長の承認が必要です", tr)
    assert [(s.segment_id, s.start, s.end) for s in ev.spans] == [("s0002", 10, 20)]
    assert span_text(ev, tr) == "部長の承認が必要です"
    across = ground("照合します。\n5万円を超える", tr)
    assert [s.segment_id for s in across.spans] == ["s0001", "s0002"]
    assert span_text(across, tr) == "照合します。\n5万円を超える" and verify(across, tr)


def test_evidence_stored_before_spans_still_loads_and_is_converted() -> None:
    tr = transcript_of(LINES)
    start = tr.text.index("部長の承認")
    stored = {  # an element's evidence as written by earlier versions: offsets only
        "quote": "部長の承認が必要です",
        "segment_ids": ["s0002"],
        "char_start": start,
        "char_end": start + 10,
        "alignment": "exact",
        "score": 1.0,
    }
    legacy = Evidence.model_validate(stored)
    assert legacy.grounded and legacy.spans == [] and verify(legacy, tr)
    converted = with_spans(legacy, tr)
    assert [(s.segment_id, s.start, s.end) for s in converted.spans] == [("s0002", 10, 20)]
    assert converted.char_start == start and verify(converted, tr)


def test_japanese_quote_time_comes_from_its_words() -> None:
    pieces = [
        *("5", "万", "円", "を", "超える", "場合", "は"),
        *("部長", "の", "承認", "が", "必要", "です", "。"),
    ]
    seg = Segment(
        id="s0001",
        start=3.0,
        end=10.0,
        text="".join(pieces),
        words=[
            Word(start=3.0 + 0.5 * i, end=3.4 + 0.5 * i, word=w, probability=0.9)
            for i, w in enumerate(pieces)
        ],
    )
    tr = Transcript(interview_id="iv", language=Language.JA, segments=[seg])
    ev = ground("部長の承認が必要です", tr)
    assert (ev.audio_start, ev.audio_end) == (6.5, 9.4)


def _edit(tr: Transcript, segment_id: str, text: str) -> tuple[Transcript, TextDiff]:
    seg = next(s for s in tr.segments if s.id == segment_id)
    new, diff = rewrite_segment(seg, text)
    segments = [new if s.id == segment_id else s for s in tr.segments]
    return tr.model_copy(update={"segments": segments}), diff


def test_reanchor_follows_an_edit_of_the_quoted_segment() -> None:
    tr = transcript_of(LINES)
    ev = ground("部長の承認が必要です", tr)
    after, diff = _edit(tr, "s0002", "えー、5万円を超える場合は、部長の承認が必要です。")
    moved, outcome = reanchor(ev, "s0002", diff, after)
    assert outcome == "kept" and span_text(moved, after) == "部長の承認が必要です"
    assert verify(moved, after) and moved.alignment == Alignment.EXACT
    other = ground("出金伝票を書いてもらっています", tr)
    still, outcome = reanchor(other, "s0002", diff, after)
    assert outcome == "elsewhere" and still.spans == other.spans and verify(still, after)
    assert still.char_start == other.char_start + 4  # derived offsets follow the longer text


def test_reanchor_finds_a_corrected_quote_again_or_marks_it_unaligned() -> None:
    tr = transcript_of(["5万円を超える場合は部長の商人が必要です。", *LINES[2:]])
    ev = ground("部長の承認が必要です", tr)  # heard 商人: a fuzzy alignment
    assert ev.alignment == Alignment.FUZZY
    after, diff = _edit(tr, "s0001", "5万円を超える場合は部長の承認が必要です。")
    fixed, outcome = reanchor(ev, "s0001", diff, after)
    assert outcome == "refound" and fixed.alignment == Alignment.EXACT
    assert span_text(fixed, after) == "部長の承認が必要です"
    gone, diff = _edit(tr, "s0001", "金額に関係なく課長が決めます。")
    lost, outcome = reanchor(ev, "s0001", diff, gone)
    assert outcome == "lost" and not lost.grounded and lost.char_start is None
    assert lost.segment_ids == ["s0001"] and span_text(lost, gone) is None
    assert not verify(lost, gone)
