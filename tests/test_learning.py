"""Learning from review: a reviewer's correction becomes an engagement glossary pair and a
proposal wherever the same heard form occurs in the engagement."""

from __future__ import annotations

from pipeline.learning import engagement_terms, learned_pairs
from pipeline.models import Engagement, Interview
from tests.conftest import transcript_of
from ui.actions import accept_correction, save_corrections


def test_word_level_pairs_are_read_from_an_edit() -> None:
    assert learned_pairs("部長の決断が必要です", "部長の決裁が必要です") == [("決断", "決裁")]
    assert learned_pairs("金頭の受注一覧", "kintoneの受注一覧") == [("金頭", "kintone")]
    assert learned_pairs("はい、そうです", "はい、そうです。") == []  # punctuation only
    long_old, long_new = "これは全く別の文章です", "それは昨日の会議で決まりました"
    assert learned_pairs(long_old, long_new) == []  # a rewrite, not a mis-heard word


def test_a_review_correction_is_proposed_across_the_engagement(make_workspace) -> None:
    ws = make_workspace()
    store = ws.store
    eng = store.save_engagement(Engagement(name="A社 経理"))
    other_eng = store.save_engagement(Engagement(name="B社"))
    for iid, eid in (("int_a", eng.id), ("int_b", eng.id), ("int_c", other_eng.id)):
        store.add_interview(Interview(id=iid, title=iid, engagement_id=eid))
    store.save_transcript(transcript_of(["部長の決断が必要です", "決断の前に確認"], "int_a"))
    store.save_transcript(transcript_of(["十万円以上は部長の決断です"], "int_b"))
    store.save_transcript(transcript_of(["社長の決断で決まった"], "int_c"))

    tr = store.get_transcript("int_a")
    save_corrections(ws, tr, [{"id": "s0001", "speaker": "", "text": "部長の決裁が必要です"}])

    assert "決断=決裁" in store.get_engagement(eng.id).glossary
    assert "決断=決裁" not in store.get_engagement(other_eng.id).glossary
    b = store.get_transcript("int_b").segments[0]
    assert b.text == "十万円以上は部長の決断です"  # proposed, not applied
    assert [(c.original, c.replacement, c.status) for c in b.corrections] == [
        ("決断", "決裁", "proposed")
    ]
    assert store.get_transcript("int_a").segments[1].corrections[0].status == "proposed"
    assert not store.get_transcript("int_c").segments[0].corrections  # other engagement

    accept_correction(ws, "int_b", b, 0)
    assert store.get_transcript("int_b").segments[0].text == "十万円以上は部長の決裁です"
    assert "決裁" in engagement_terms(store, eng.id, exclude="int_a")
