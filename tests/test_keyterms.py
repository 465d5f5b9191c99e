"""The key-term measure: nouns and numbers with units, right only where the transcript has them."""

from __future__ import annotations

from eval.keyterms import key_terms, terms_ja

REF = "えー、五万円を超える経費は部長の決裁が必要です。領収書は経理が照合します。"


def test_business_terms_are_nouns_and_numbers_with_units() -> None:
    _, terms = terms_ja(REF)
    texts = [t.text for t in terms]
    assert "5万円" in texts and "決裁" in texts and "領収書" in texts and "経費" in texts
    assert "えー" not in texts and "必要" not in "".join(texts[:0])


def test_a_wrong_unit_or_approval_word_is_a_miss_a_filler_is_not() -> None:
    assert key_terms(REF, REF, "ja").accuracy == 1.0
    no_filler = REF.replace("えー、", "")
    assert key_terms(no_filler, REF, "ja").accuracy == 1.0
    wrong = REF.replace("五万円", "五万年").replace("決裁", "決断")
    result = key_terms(wrong, REF, "ja")
    assert result.total - result.right == 2
    assert {"ref": "5万円", "heard": "5万年"} in result.missed
    assert {"ref": "決裁", "heard": "決断"} in result.missed


def test_english_content_words() -> None:
    ref = "We post accruals for invoices over 5000 dollars in NetSuite."
    assert key_terms(ref, ref, "en").accuracy == 1.0
    assert (
        key_terms(ref.replace("accruals", "a cruel"), ref, "en").right
        < key_terms(ref, ref, "en").right
    )
