"""Speakers: two voices are told apart; a segment holding a turn change is split; labels can
be renamed in the database of record."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import ShikumiError
from pipeline.models import Segment, Word
from pipeline.speakers import INTERVIEWEE, INTERVIEWER, label_speakers, rename_speaker
from tests.conftest import transcript_of

SR = 16_000


def voice(seconds: float, f0: float, seed: int) -> np.ndarray:
    """A buzzy vowel-like sound: harmonics of f0 with a little vibrato and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f = f0 * (1 + 0.03 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(f) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (0.1 * x + 0.005 * rng.standard_normal(len(t))).astype(np.float32)


def hearing() -> tuple[np.ndarray, list[Segment], list[str]]:
    """8 turns (interviewer low voice asks, interviewee high voice answers), 0.5 s pauses.
    Whisper-like segments: one per turn, except turns 3+4 share one segment."""
    parts, segs, truth, t = [], [], [], 0.0
    texts = [
        "手順を教えてください。",
        "まず申請します",
        "承認は誰ですか？",
        "課長です",
        "期限はありますか？",
        "月末です",
        "例外はありますか？",
        "たまにあります",
    ]
    spans = []
    for i, text in enumerate(texts):
        asker = i % 2 == 0
        dur = 2.0 if asker else 3.0
        parts += [voice(dur, 110 if asker else 230, i), np.zeros(SR // 2, np.float32)]
        spans.append((t, t + dur, text))
        truth.append(INTERVIEWER if asker else INTERVIEWEE)
        t += dur + 0.5
    audio = np.concatenate(parts)

    def words(s: float, e: float, text: str) -> list[Word]:
        step = (e - s) / len(text)
        return [
            Word(start=s + k * step, end=s + (k + 1) * step, word=c, probability=0.9)
            for k, c in enumerate(text)
        ]

    for i, (s, e, text) in enumerate(spans):
        if i == 3:
            continue
        if i == 2:  # one segment across the turn change
            s4, e4, t4 = spans[3]
            segs.append(
                Segment(
                    id="x",
                    start=s,
                    end=e4,
                    text=text + t4,
                    words=words(s, e, text) + words(s4, e4, t4),
                )
            )
        else:
            segs.append(Segment(id="x", start=s, end=e, text=text, words=words(s, e, text)))
    return audio, segs, truth


def test_two_voices_are_told_apart_and_mixed_segments_split() -> None:
    audio, segs, truth = hearing()
    out = label_speakers(segs, audio)
    assert [s.text for s in out] == [
        "手順を教えてください。",
        "まず申請します",
        "承認は誰ですか？",
        "課長です",
        "期限はありますか？",
        "月末です",
        "例外はありますか？",
        "たまにあります",
    ]
    assert [s.speaker for s in out] == truth
    assert out[3].start == pytest.approx(8.5, abs=0.01)  # the answer starts where the voice does


def test_without_audio_the_turn_heuristic_labels_questions() -> None:
    segs = [
        Segment(id="a", start=0, end=1, text="承認は誰がしますか？"),
        Segment(id="b", start=1, end=2, text="課長です。"),
    ]
    assert [s.speaker for s in label_speakers(segs)] == [INTERVIEWER, INTERVIEWEE]


def test_one_voice_falls_back_to_the_turn_heuristic() -> None:
    audio = np.concatenate([voice(2.0, 150, i) for i in range(6)])
    segs = [
        Segment(
            id=str(i),
            start=2.0 * i,
            end=2.0 * i + 1.9,
            text="どうですか？" if i % 3 == 0 else "はい、そうです。",
            words=[Word(start=2.0 * i, end=2.0 * i + 1.9, word="x", probability=0.9)],
        )
        for i in range(6)
    ]
    out = label_speakers(segs, audio)
    assert [s.speaker for s in out] == [
        INTERVIEWER if i % 3 == 0 else INTERVIEWEE for i in range(6)
    ]


def test_rename_speaker_in_the_store(make_workspace) -> None:
    ws = make_workspace()
    tr = transcript_of(["質問です？", "回答です。", "回答の続きです。"], interview_id="int_sp")
    tr.segments[0].speaker = INTERVIEWER
    from pipeline.models import Interview

    ws.store.add_interview(Interview(id="int_sp", title="t"))
    ws.store.save_transcript(tr)
    assert rename_speaker(ws.store, "int_sp", INTERVIEWEE, "経理 田中") == 2
    stored = ws.store.get_transcript("int_sp")
    assert [s.speaker for s in stored.segments] == [INTERVIEWER, "経理 田中", "経理 田中"]
    with pytest.raises(ShikumiError) as err:
        rename_speaker(ws.store, "int_sp", "nobody", "x")
    assert "経理 田中" in err.value.hint


def test_turn_change_is_found_in_the_audio_when_words_leave_no_gap() -> None:
    """Batched Whisper stretches a word over the pause: the cut comes from the audio."""
    audio, segs, truth = hearing()
    mixed = segs[2]
    last_q = len("承認は誰ですか？") - 1
    mixed.words[last_q].end = mixed.words[last_q + 1].start  # no gap between the two turns
    out = label_speakers(segs, audio)
    assert [s.speaker for s in out] == truth
    assert out[2].text == "承認は誰ですか？" and out[3].text == "課長です"


def test_clustering_of_a_long_hearing_keeps_memory_small() -> None:
    """A 60-minute hearing has ~3,000 pieces: the farthest pair that seeds the clustering is
    found block by block, and it is the same pair as the full distance matrix gives."""
    import tracemalloc

    from pipeline.speakers import _farthest_pair

    rng = np.random.default_rng(0)
    small = rng.normal(0, 1, (300, 13))
    full = np.linalg.norm(small[:, None] - small[None], axis=2)
    assert _farthest_pair(small) == np.unravel_index(np.argmax(full), full.shape)
    big = rng.normal(0, 1, (3000, 13))
    tracemalloc.start()  # numpy reports its buffers to tracemalloc
    try:
        _farthest_pair(big)
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert peak_mb < 100  # the full matrix would take ~1,900 MB


def test_a_pause_before_the_first_word_does_not_split_off_that_word() -> None:
    """Whisper's first word often starts a few ms before the pause found in the audio ends
    (pause 85.98-86.52 s, 「う」 from 86.50 s): the segment is not cut after 「う」."""
    from pipeline.speakers import _pieces

    seg = Segment(
        id="s1",
        start=86.5,
        end=88.1,
        text="うちは検収基準なので",
        words=[
            Word(start=86.50, end=86.58, word="う", probability=0.9),
            Word(start=86.58, end=86.84, word="ちは", probability=0.9),
            Word(start=86.84, end=87.68, word="検収基準", probability=0.9),
            Word(start=87.68, end=88.06, word="なので", probability=0.9),
        ],
    )
    assert len(_pieces(seg, [(85.98, 86.52)])) == 1
    assert len(_pieces(seg, [(86.60, 86.82)])) == 2  # a pause inside the speech still cuts


def test_voices_that_do_not_follow_the_turns_fall_back_to_the_turn_heuristic() -> None:
    """Two clearly different sounds, but each one both asks and answers (similar voices split
    by something else than the speaker): the clusters disagree with the questions, so the turn
    heuristic labels the hearing instead of one cluster taking every answer."""
    texts = ["承認は誰ですか？", "課長です。", "期限はありますか？", "月末です。"] * 2
    pitches = [110, 110, 230, 230, 110, 110, 230, 230]  # each sound: a question and its answer
    parts, segs, t = [], [], 0.0
    for i, (text, f0) in enumerate(zip(texts, pitches, strict=True)):
        parts += [voice(2.0, f0, i), np.zeros(SR // 2, np.float32)]
        segs.append(
            Segment(
                id=str(i),
                start=t,
                end=t + 2.0,
                text=text,
                words=[Word(start=t, end=t + 2.0, word=text, probability=0.9)],
            )
        )
        t += 2.5
    out = label_speakers(segs, np.concatenate(parts))
    assert [s.speaker for s in out] == [
        INTERVIEWER if text.endswith("？") else INTERVIEWEE for text in texts
    ]


def test_interviewer_remarks_that_are_not_questions_keep_the_voice_labels() -> None:
    """The interviewer also says 「なるほど。」: the voices still decide (the turn heuristic would
    give those remarks to the interviewee)."""
    script = [
        ("なるほど。", 110),
        ("承認は誰ですか？", 110),
        ("課長です。", 230),
        ("なるほど。", 110),
        ("期限はありますか？", 110),
        ("月末です。", 230),
    ] * 2
    parts, segs, t = [], [], 0.0
    for i, (text, f0) in enumerate(script):
        dur = 1.5 if text == "なるほど。" else 2.5
        parts += [voice(dur, f0, i), np.zeros(SR // 2, np.float32)]
        segs.append(
            Segment(
                id=str(i),
                start=t,
                end=t + dur,
                text=text,
                words=[Word(start=t, end=t + dur, word=text, probability=0.9)],
            )
        )
        t += dur + 0.5
    out = label_speakers(segs, np.concatenate(parts))
    assert [s.speaker for s in out] == [
        INTERVIEWER if f0 == 110 else INTERVIEWEE for _, f0 in script
    ]


@pytest.mark.parametrize(
    ("answer", "question", "split"),
    [
        # a finished sentence, a pause, a question: the answer's end and the next question
        ("伝票を起票します", "期限はありますか？", True),
        ("I file the claim.", "Who signs it?", True),
        # a question's own lead-in ends no sentence: the whole segment is the question
        ("戻ってきた伝票は、", "どう処理されますか？", False),
    ],
)
def test_the_turn_heuristic_cuts_a_segment_that_ends_an_answer_and_asks_the_next_question(
    answer: str, question: str, split: bool
) -> None:
    audio = np.concatenate([voice(3.0, 150, 1), np.zeros(SR // 2, np.float32), voice(2.0, 150, 2)])
    words = [
        Word(start=0.0, end=3.0, word=answer, probability=0.9),
        Word(start=3.5, end=5.5, word=question, probability=0.9),
    ]
    seg = Segment(id="x", start=0.0, end=5.5, text=answer + question, words=words)
    out = label_speakers([seg], audio)
    if split:
        assert [(s.speaker, s.text) for s in out] == [
            (INTERVIEWEE, answer),
            (INTERVIEWER, question),
        ]
    else:
        assert [(s.speaker, s.text) for s in out] == [(INTERVIEWER, answer + question)]


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("承認は誰がしますか？", True),
        ("期限はいつですか?", True),
        ("Who signs it?", True),
        # an assertion Whisper wrote with a question mark for its rising tone
        ("部署によって順番がバラバラなんですよ?", False),
        ("それは毎月やってますよ？", False),
    ],
)
def test_a_question_asks_and_an_assertion_with_a_question_mark_does_not(
    text: str, asks: bool
) -> None:
    from pipeline.speakers import is_question

    assert is_question(text) is asks


def test_a_word_stretched_back_over_a_pause_is_cut_off_with_the_speech_after_it() -> None:
    """Whisper gives the first word after a pause a start at the end of the word before it
    (「します」 to 49.13 s, 「部」 from 49.13 s to 50.05 s over the pause 49.12-50.36 s): the
    cut goes before that word, not after it."""
    from pipeline.speakers import _pieces

    words = [
        Word(start=48.69, end=49.13, word="します", probability=0.9),
        Word(start=49.13, end=50.05, word="部", probability=0.9),
        Word(start=50.30, end=50.60, word="長", probability=0.9),
        Word(start=50.60, end=50.80, word="は", probability=0.9),
    ]
    seg = Segment(id="s1", start=48.69, end=50.8, text="します部長は", words=words)
    assert [[w.word for w in p] for p in _pieces(seg, [(49.12, 50.36)])] == [
        ["します"],
        ["部", "長", "は"],
    ]
