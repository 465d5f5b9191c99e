"""Review actions: versions, history, allowed transitions, no lost edits."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.align import ground, verify
from pipeline.errors import ReviewError
from pipeline.models import Alignment, Exception_, Interview, Judgment, ReviewStatus, Task, Word
from tests.conftest import transcript_of
from ui.actions import save_corrections
from ui.format import evidence_context


def _ws_with_task(make_workspace: Any) -> Any:
    ws = make_workspace()
    iv = ws.store.add_interview(Interview(title="t"))
    ws.store.add_elements([Task(interview_id=iv.id, summary="照合する", actor="経理")])
    return ws


def test_edit_bumps_version_and_records_history(make_workspace: Any) -> None:
    ws = _ws_with_task(make_workspace)
    el = ws.reviewer.edit("T0001", {"actor": "経理担当", "summary": "領収書を照合する"}, "sato")
    assert el.version == 2 and el.actor == "経理担当"
    entry = el.history[-1]
    assert entry.who == "sato" and entry.changes["actor"] == {"from": "経理", "to": "経理担当"}
    assert ws.store.get_element("T0001").summary == "領収書を照合する"


def test_stale_edit_is_refused_not_overwritten(make_workspace: Any) -> None:
    ws = _ws_with_task(make_workspace)
    ws.reviewer.edit("T0001", {"actor": "A"}, "one", expected_version=1)
    with pytest.raises(ReviewError, match="changed since"):
        ws.reviewer.edit("T0001", {"actor": "B"}, "two", expected_version=1)
    assert ws.store.get_element("T0001").actor == "A"


def test_invalid_edit_writes_nothing(make_workspace: Any) -> None:
    ws = _ws_with_task(make_workspace)
    with pytest.raises(ReviewError):
        ws.reviewer.edit("T0001", {"no_such_field": 1}, "x")
    with pytest.raises(ReviewError):
        ws.reviewer.edit("T0001", {"status": "approved"}, "x")
    assert ws.store.get_element("T0001").version == 1


def test_lifecycle_and_index_sync(make_workspace: Any) -> None:
    ws = _ws_with_task(make_workspace)
    el = ws.reviewer.approve("T0001", "sato")
    assert el.status == ReviewStatus.APPROVED and el.effective_date is not None
    assert ws.index.count() == 1
    ws.reviewer.retire("T0001", "sato")
    assert ws.index.count() == 0
    with pytest.raises(ReviewError, match="Cannot retire"):
        ws.reviewer.retire("T0001", "sato")
    actions = [h.action for h in ws.store.get_element("T0001").history]
    assert actions == ["approved", "retired"]


# --------------------------------------------------------------------------- transcript corrections

HEARING = [
    "申請が来たら、まず領収書の金額と申請金額を照合します。",
    "5万円を超える場合は部長の承認が必要です。",
    "領収書をなくした場合は、出金伝票を書いてもらっています。",
]


def _ws_with_hearing(make_workspace: Any, lines: list[str] = HEARING) -> tuple[Any, str]:
    ws = make_workspace()
    iv = ws.store.add_interview(Interview(title="経費精算"))
    tr = transcript_of(lines, interview_id=iv.id)
    ws.store.save_transcript(tr)
    quotes = {
        "T": "領収書の金額と申請金額を照合します",
        "J": "部長の承認が必要です",
        "X": "出金伝票を書いてもらっています",
    }
    ws.store.add_elements(
        [
            Task(interview_id=iv.id, summary="照合", evidence=[ground(quotes["T"], tr)]),
            Judgment(interview_id=iv.id, summary="承認", evidence=[ground(quotes["J"], tr)]),
            Exception_(interview_id=iv.id, summary="紛失", evidence=[ground(quotes["X"], tr)]),
        ]
    )
    return ws, iv.id


def _highlight(ws: Any, iid: str, element_id: str) -> str:
    """What the review page marks as the element's quote in the transcript."""
    tr = ws.store.get_transcript(iid)
    ev = ws.store.get_element(element_id).evidence[0]
    return "".join(line.highlight for line in evidence_context(tr, ev))


def _correct(ws: Any, iid: str, segment_id: str, text: str, lost: list[str] | None = None) -> int:
    tr = ws.store.get_transcript(iid)
    seg = next(s for s in tr.segments if s.id == segment_id)
    rows = [{"id": segment_id, "speaker": seg.speaker, "text": text}]
    return save_corrections(ws, tr, rows) if lost is None else save_corrections(ws, tr, rows, lost)


def test_correcting_a_segment_does_not_move_highlights_in_other_segments(
    make_workspace: Any,
) -> None:
    """Defect: evidence pointed into the whole transcript text, so lengthening one segment
    shifted the highlight of every later element onto other words."""
    ws, iid = _ws_with_hearing(make_workspace)
    assert (
        _correct(ws, iid, "s0001", "えーと、申請が来たら、まず領収書の金額と申請金額を照合します。")
        == 1
    )
    assert _highlight(ws, iid, "J0001") == "部長の承認が必要です"
    assert _highlight(ws, iid, "X0001") == "出金伝票を書いてもらっています"
    assert _highlight(ws, iid, "T0001") == "領収書の金額と申請金額を照合します"
    tr = ws.store.get_transcript(iid)
    for el in ws.store.list_elements(iid):
        assert el.grounded and all(verify(ev, tr) for ev in el.evidence)


def test_a_corrected_quote_is_found_again_and_a_vanished_one_needs_attention(
    make_workspace: Any,
) -> None:
    ws, iid = _ws_with_hearing(make_workspace)
    ws.reviewer.approve("J0001", "sato")
    _correct(ws, iid, "s0002", "5万円を超える場合は部長の決裁が必要です。")
    judgment = ws.store.get_element("J0001")
    ev = judgment.evidence[0]
    assert ev.grounded and ev.alignment == Alignment.FUZZY  # 承認 -> 決裁, the rest still said
    assert _highlight(ws, iid, "J0001") == "部長の決裁が必要です"
    assert judgment.history[-1].action == "reanchored" and judgment.version == 2
    lost: list[str] = []
    _correct(ws, iid, "s0003", "紛失時は上長に相談します。", lost)
    assert lost == ["X0001"]
    exception = ws.store.get_element("X0001")
    assert not exception.grounded and exception.evidence[0].segment_ids == ["s0003"]
    assert _highlight(ws, iid, "X0001") == ""  # shown in its segment, no words marked
    tr = ws.store.get_transcript(iid)
    lines = evidence_context(tr, exception.evidence[0])
    assert "紛失時は上長に相談します。" in [line.before for line in lines]
    assert ws.store.get_element("T0001").grounded  # the other segments' elements are untouched


def test_elements_stored_before_spans_are_converted_when_a_segment_is_corrected(
    make_workspace: Any,
) -> None:
    ws, iid = _ws_with_hearing(make_workspace)
    old = ws.store.get_element("X0001")
    legacy = old.evidence[0].model_copy(update={"spans": []})  # as earlier versions stored it
    ws.store.save_element(old.model_copy(update={"evidence": [legacy]}))
    assert ws.store.get_element("X0001").evidence[0].spans == []
    _correct(ws, iid, "s0002", "それで、5万円を超える場合は部長の承認が必要です。")
    ev = ws.store.get_element("X0001").evidence[0]
    assert ev.spans and ev.grounded
    assert _highlight(ws, iid, "X0001") == "出金伝票を書いてもらっています"


def test_correction_rewrites_the_words_so_replay_times_stay_right(make_workspace: Any) -> None:
    ws, iid = _ws_with_hearing(make_workspace)
    tr = ws.store.get_transcript(iid)
    seg = tr.segments[1]
    pieces = [
        *("5", "万", "円", "を", "超える", "場合", "は"),
        *("部長", "の", "承認", "が", "必要", "です", "。"),
    ]
    seg.words = [
        Word(start=5.0 + 0.3 * i, end=5.25 + 0.3 * i, word=w, probability=0.9)
        for i, w in enumerate(pieces)
    ]
    ws.store.update_segment(iid, seg)
    result = ws.reviewer.correct_segment(
        iid, "s0002", "五万円を超える場合は部長の承認が必要です。", "sato"
    )
    assert "".join(w.word for w in result.segment.words) == result.segment.text
    assert result.kept == ["J0001"] and not result.lost
    ev = ws.store.get_element("J0001").evidence[0]
    assert (ev.audio_start, ev.audio_end) == (7.1, 8.85)  # 部長 .. です
    with pytest.raises(ReviewError, match="cannot be emptied"):
        ws.reviewer.correct_segment(iid, "s0002", "  ", "sato")
