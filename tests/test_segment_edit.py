"""A segment's text and words are rewritten together, so word timings survive corrections."""

from __future__ import annotations

from pipeline.align import ground
from pipeline.models import Language, Segment, Transcript, Word
from pipeline.segment_edit import TextDiff, replace_in_segment, rewrite_segment, word_ranges


def whisper_segment(pieces: list[str], start: float = 10.0, step: float = 0.5) -> Segment:
    """A segment as faster-whisper gives it: the text is the words joined, stripped."""
    words = [
        Word(start=start + i * step, end=start + i * step + 0.4, word=w, probability=0.9)
        for i, w in enumerate(pieces)
    ]
    text = "".join(pieces).strip()
    return Segment(id="s0001", start=start, end=words[-1].end, text=text, words=words)


def spelled(seg: Segment) -> bool:
    return "".join(w.word for w in seg.words).strip() == seg.text


EN = [" So", " the", " invoice", " is", " checked", " against", " the", " PO."]
JA = ["部長", "の", "商", "人", "が", "必要", "です", "。"]


def test_replacing_an_english_word_keeps_the_other_words_and_their_times() -> None:
    seg = whisper_segment(EN)
    start = seg.text.index("checked")
    out = replace_in_segment(seg, start, start + len("checked"), "matched")
    assert out.text == "So the invoice is matched against the PO."
    assert spelled(out)
    times = {w.word.strip(): (w.start, w.end) for w in out.words}
    assert times["matched"] == (12.0, 12.4)  # the replaced word's own time
    assert times["invoice"] == (11.0, 11.4) and times["PO."] == (13.5, 13.9)
    assert seg.text == "So the invoice is checked against the PO."  # the input is not changed


def test_japanese_replacement_merges_the_words_it_covers() -> None:
    seg = whisper_segment(JA)
    out = replace_in_segment(seg, 3, 5, "承認")  # 商人 -> 承認
    assert out.text == "部長の承認が必要です。" and spelled(out)
    word = next(w for w in out.words if w.word == "承認")
    assert (word.start, word.end) == (11.0, 11.9)  # from 商 to 人
    assert [w.word for w in out.words] == ["部長", "の", "承認", "が", "必要", "です", "。"]


def test_insertions_and_deletions_keep_the_text_spelled_by_the_words() -> None:
    seg = whisper_segment(EN)
    first = replace_in_segment(seg, 0, 0, "Well, ")
    assert first.text == "Well, So the invoice is checked against the PO." and spelled(first)
    end = replace_in_segment(seg, len(seg.text), len(seg.text), " Done.")
    assert end.text.endswith("the PO. Done.") and spelled(end)
    start = seg.text.index("the invoice")
    gone = replace_in_segment(seg, start, start + len("the "), "")
    assert gone.text == "So invoice is checked against the PO." and spelled(gone)
    word = seg.text.index("is")
    removed = replace_in_segment(seg, word, word + len("is"), "")
    assert removed.text == "So the invoice  checked against the PO." and spelled(removed)


def test_rewrite_maps_untouched_spans_and_reports_touched_ones() -> None:
    seg = whisper_segment(EN)
    new, diff = rewrite_segment(seg, "So, um, the invoice is matched against the PO.")
    assert new.text == "So, um, the invoice is matched against the PO." and spelled(new)
    invoice = seg.text.index("the invoice")
    moved = diff.map_span(invoice, invoice + len("the invoice"))
    assert moved is not None and new.text[moved[0] : moved[1]] == "the invoice"
    checked = seg.text.index("checked")
    assert diff.map_span(checked, checked + 7) is None  # the edit changed these words
    assert TextDiff.of("abc", "abc").map_pos(3) == 3


def test_words_that_do_not_spell_the_text_are_left_alone() -> None:
    seg = whisper_segment(EN).model_copy(update={"text": "Something else entirely."})
    assert word_ranges(seg) is None
    out = replace_in_segment(seg, 0, 9, "Nothing")
    assert out.text == "Nothing else entirely." and out.words == seg.words


def test_english_segment_times_come_from_its_spaced_words() -> None:
    seg = whisper_segment(EN)
    tr = Transcript(interview_id="iv", language=Language.EN, segments=[seg])
    ev = ground("checked against the PO", tr)
    assert (ev.audio_start, ev.audio_end) == (12.0, 13.9)
