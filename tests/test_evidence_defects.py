"""The three defects of issue #13 item 4, reproduced with functions that existed before the fix
(each of these tests fails on the code before per-segment evidence; see also test_review.py,
``test_correcting_a_segment_does_not_move_highlights_in_other_segments``), and the measurement
of the fix on two sample hearings."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval import evidence_edits
from pipeline.adapters.whisper import RawInfo, RawSegment, RawWord
from pipeline.align import ground
from pipeline.models import Language, Segment, Transcript, Word
from pipeline.transcribe import transcribe_file
from tests.conftest import SAMPLES
from tests.test_audio import tone, write_audio

JA = ["部長", "の", "商", "人", "が", "必要", "です", "。"]


class WordsSTT:
    """Whisper as faster-whisper returns it: segments with their words and timings."""

    name = "fake-whisper-words"

    def __init__(self, pieces: list[list[str]]):
        self.pieces = pieces

    def transcribe(self, audio, language, hotwords=None, initial_prompt=None):  # type: ignore[no-untyped-def]
        segs = []
        t = 0.0
        for pieces in self.pieces:
            words = []
            for w in pieces:
                words.append(RawWord(round(t, 2), round(t + 0.3, 2), w, 0.9))
                t += 0.4
            text = "".join(pieces).strip()
            segs.append(RawSegment(words[0].start, words[-1].end, text, -0.2, 0.01, 1.2, words))
        return iter(segs), RawInfo(language or "ja", 0.99, len(audio) / 16000, self.name)


def test_glossary_correction_rewrites_the_words_with_the_text(tmp_path: Path) -> None:
    """Defect: the correction pass changed 商人 -> 承認 in the text only; the words still said
    商人, so the text no longer matched its words and timings were derived from stale words."""
    src = write_audio(tmp_path / "rec.wav", tone(8.0, 16_000), 16_000)
    stt = WordsSTT([["経費", "精算", "は", *JA], ["領収", "書", "を", "証", "合", "します"]])
    tr = transcribe_file(src, "iv", stt, "ja", speakers=False)  # type: ignore[arg-type]
    # 証合 is no word: it is corrected without a language model; 商人 is a word, which only
    # the language model may replace (none here)
    assert [s.text for s in tr.segments][1] == "領収書を照合します"
    for seg in tr.segments:
        assert "".join(w.word for w in seg.words) == seg.text
    heard = [w for w in tr.segments[1].words if w.word in ("照", "合", "照合")]
    ev = ground("照合します", tr)
    assert heard and ev.audio_start == heard[0].start  # the time 証 was heard at
    assert ev.audio_end == tr.segments[1].words[-1].end


def test_english_quote_starts_at_its_first_word_not_a_second_later() -> None:
    """Defect: offsets in the spaced text were compared with the lengths of space-stripped
    Whisper words, so an English quote started 1.0 s late (two words late)."""
    pieces = " So most invoices come in by email to our AP mailbox, around six hundred a month."
    words = [f" {w}" for w in pieces.split()]
    seg = Segment(
        id="s0001",
        start=10.0,
        end=17.9,
        text="".join(words).strip(),
        speaker="Kevin",
        words=[
            Word(start=10.0 + 0.5 * i, end=10.4 + 0.5 * i, word=w, probability=0.9)
            for i, w in enumerate(words)
        ],
    )
    tr = Transcript(interview_id="iv", language=Language.EN, segments=[seg])
    ev = ground("around six hundred a month", tr)
    assert ev.audio_start == 15.5  # the word "around"
    assert ev.audio_end == 17.9  # the end of "month."
    assert ev.speaker == "Kevin"


@pytest.mark.parametrize("hearing", ["ja_smoke", "en_month_end_close"])
def test_every_grounded_quote_keeps_its_words_through_corrections_of_every_segment(
    hearing: str,
) -> None:
    """The issue 13.4 measurement (eval/evidence_edits.py) on two sample hearings: a random
    correction of every segment, through Reviewer.correct_segment; the old full-text offsets
    lose nearly every quote on the same edits, so the check can fail."""
    tally, failures = evidence_edits.run_hearing(SAMPLES / hearing, rounds=1, seed=13)
    assert tally.grounded > 0 and sum(tally.edits.values()) > 0
    assert not failures
    assert tally.same_words == tally.same_time == tally.grounded
    assert tally.old_same_words < tally.grounded / 2
    assert tally.elsewhere_moves == 0
