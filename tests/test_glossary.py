"""The glossary correction pass fixes mis-heard business terms and leaves correct text alone."""

from __future__ import annotations

import pytest

from pipeline.glossary import Glossary, reading

JA = Glossary.build("ja")


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("申請金額と証合します", "申請金額と照合します"),  # 証合: not a word, sounds like 照合
        ("両修書をなくした場合は", "領収書をなくした場合は"),
        ("基本は家庁が確認します", "基本は課長が確認します"),
        ("感情課目が正しいかも見ています", "勘定科目が正しいかも見ています"),
        ("経費生産の流れを教えてください", "経費精算の流れを教えてください"),
        ("部長の商人が必要です", "部長の承認が必要です"),  # explicit confusion pair
        ("部長決策です", "部長決裁です"),
    ],
)
def test_misheard_terms_are_corrected(heard: str, meant: str) -> None:
    assert JA.correct(heard)[0] == meant


@pytest.mark.parametrize(
    "correct_text",
    [
        "承認待ちの一覧を開いて、領収書の金額を照合します。",
        "保証合計を確認します。",  # 証合 inside 保証+合計 must not become 照合
        "社員が立て替えた経費を申請します。",  # 立て替え is a word, not 立替
        "工場の生産計画を立てます。",  # 生産 is a real word
        "江戸時代の商人の暮らし。",  # no business context: 商人 stays
        "復興努力に対するリベラル派からの批判",
    ],
)
def test_correct_text_is_not_changed(correct_text: str) -> None:
    business = JA.in_context([correct_text])
    assert JA.correct(correct_text, business)[0] == correct_text


def test_confusion_pairs_need_business_context() -> None:
    assert not JA.in_context(["江戸時代の商人の暮らし。"])
    assert JA.in_context(["経費精算の申請を承認します"])


def test_user_terms_and_pairs_extend_the_defaults() -> None:
    g = Glossary.build("ja", ["楽楽精算", "金頭=kintone"])
    assert "楽楽精算" in g.terms and "経費精算" in g.terms
    assert g.correct("社員が楽楽生産で申請します")[0] == "社員が楽楽精算で申請します"
    assert g.correct("金頭の受注一覧")[0] == "kintoneの受注一覧"
    hot = g.hotwords()
    assert hot is not None and hot.startswith("kintone、楽楽精算")  # project terms first
    assert len(hot) <= 200


def test_english_text_is_left_alone_and_readings_work() -> None:
    en = Glossary.build("en", ["NetSuite"])
    assert en.correct("We post accruals in NetSuite.") == ("We post accruals in NetSuite.", [])
    assert reading("経費精算") == "ケイヒセイサン"


def test_real_word_homophones_change_only_when_the_transcript_confirms_the_term() -> None:
    texts = ["検収書が届いたら売上を計上します。", "月末に形状します。"]
    g = Glossary.build("ja", ["計上"])
    assert g.correct_all(texts) == ["検収書が届いたら売上を計上します。", "月末に計上します。"]
    # the term never spelled right in this transcript: a real word stays as heard
    assert g.correct_all(["部品の形状を確認します。", "経費精算を申請して承認します。"])[0] == (
        "部品の形状を確認します。"
    )
    # a homophone that is itself a glossary term is never replaced
    both = Glossary.build("ja", ["生産"])
    texts = ["工場の生産計画と経費精算の申請", "月末に生産します。"]
    assert both.correct_all(texts) == texts
