"""Grounding: quotes are located exactly, then Japanese-aware fuzzy; misses are kept, flagged."""

from __future__ import annotations

from pipeline.align import find_span, ground, verify
from pipeline.models import Alignment, SegmentFlag
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
