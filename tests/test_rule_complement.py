"""The other side of a threshold rule: condition turned over by the structure, outcome chosen."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pipeline.models import ChunkRecord, RuleRow
from pipeline.rule_complement import clauses, complement, other_side
from tests.conftest import FakeChat


@pytest.mark.parametrize(
    ("condition", "lang", "expected"),
    [
        ("1回20万円を超える場合は", "ja", "1回20万円以下"),
        ("8%以上になるなら", "ja", "8%未満"),
        ("三十万円未満", "ja", "三十万円以上"),
        ("2営業日以内", "ja", "2営業日を超える"),
        ("the order is over $8,000", "en", "the order is up to $8,000"),
        ("refunds under $300", "en", "refunds at least $300"),
        ("after completing a minimum of 3 years", "en", "after completing under 3 years"),
        ("Tier A over $5,000", "en", "Tier A up to $5,000"),  # a name, not an article
        ("the vendor is new", "en", ""),
        ("請求書が届かなければ", "ja", ""),
        ("5万円", "ja", ""),  # a quantity without a comparison is not a threshold
    ],
)
def test_complement(condition: str, lang: str, expected: str) -> None:
    assert complement(condition, lang) == expected


def test_clauses_are_sentences_and_their_parts() -> None:
    text = "えーと、通常は係長が見ます。\n20万円を超える場合は、課長の確認も要ります。"
    assert clauses(text, "ja", []) == [
        "通常は係長が見ます",
        "20万円を超える場合は、課長の確認も要ります",
    ]
    told = [RuleRow(condition="20万円を超える", outcome="課長の確認も要ります")]
    assert clauses(text, "ja", told) == ["通常は係長が見ます"]


def _record() -> ChunkRecord:
    return ChunkRecord(interview_id="i1", index=0, segment_ids=[])


def _rows(*pairs: tuple[str, str]) -> list[RuleRow]:
    return [RuleRow(condition=c, outcome=o) for c, o in pairs]


TEXT = "通常は係長が見ます。\n20万円を超える場合は、課長の確認も要ります。\n控えは棚に置きます。"


def test_the_chosen_clause_becomes_the_inferred_row() -> None:
    llm = FakeChat(["A", "N"])  # the pick, then the content-free lean
    rows = other_side(
        llm, None, _record(), _rows(("20万円を超える場合は", "課長の確認も要ります")),
        "確認者", TEXT, "ja",
    )  # fmt: skip
    assert [(r.condition, r.outcome, r.inferred) for r in rows] == [
        ("20万円を超える場合は", "課長の確認も要ります", False),
        ("20万円以下", "通常は係長が見ます", True),
    ]
    shown = llm.calls[0][-1]["content"]
    assert "Other case: 20万円以下" in shown
    # the stated outcome is no option
    assert "課長の確認も要ります" not in shown.split("Other case")[1]


def test_none_of_them_adds_nothing() -> None:
    rows = _rows(("20万円を超える場合は", "課長の確認も要ります"))
    assert other_side(FakeChat(["N", "A"]), None, _record(), rows, "", TEXT, "ja") == rows


def test_an_otherwise_row_gets_its_condition_written_out_without_a_call() -> None:
    llm = FakeChat([])
    rows = other_side(
        llm, None, _record(),
        _rows(("the refund is over 2,000 dollars", "the manager signs"), ("otherwise", "the lead")),
        "", "", "en",
    )  # fmt: skip
    assert rows[1] == RuleRow(
        condition="the refund is up to 2,000 dollars", outcome="the lead", inferred=True
    )
    assert llm.calls == []


@pytest.mark.parametrize(
    "rows",
    [
        _rows(("20万円を超える", "課長"), ("20万円以下", "係長")),  # both sides already said
        _rows(("取引先が新規の場合", "前払い")),  # no threshold
        [],
    ],
)
def test_rules_without_a_missing_side_are_left_alone(rows: list[RuleRow]) -> None:
    llm = FakeChat([])
    assert other_side(llm, None, _record(), rows, "", TEXT, "ja") == rows
    assert llm.calls == []


def test_of_several_thresholds_from_below_the_lowest_is_turned_over() -> None:
    llm = FakeChat(["A", "N"])  # the pick, then the content-free lean
    text = "普段は係長の確認だけです。\n3万円以上は課長、10万円を超えると部長の決裁です。"
    rows = other_side(
        llm, None, _record(), _rows(("3万円以上", "課長"), ("10万円を超える", "部長の決裁")),
        "", text, "ja",
    )  # fmt: skip
    assert rows[-1] == RuleRow(
        condition="3万円未満", outcome="普段は係長の確認だけです", inferred=True
    )


def test_anything_above_the_highest_ceiling_is_written_out() -> None:
    rows = other_side(
        FakeChat([]), None, _record(),
        _rows(("under $500", "the lead"), ("up to $9,000", "the manager"),
              ("anything above that", "the CFO")),
        "", "", "en",
    )  # fmt: skip
    assert rows[-1] == RuleRow(condition="over $9,000", outcome="the CFO", inferred=True)


def test_the_clauses_that_tell_a_stated_row_are_no_options() -> None:
    told = _rows(("$4,000", "the controller signs"))
    text = "Anything over $4,000 the controller signs. Below $4,000, the analyst can approve it."
    got = clauses(text, "en", told)
    assert "the analyst can approve it" in got  # the other clause of a sentence that tells a row
    assert not any("controller" in c for c in got)
    assert "000" not in got  # the comma inside an amount does not cut a clause


class LeaningChat(FakeChat):
    """Gives option A most probability whatever the case (a small model's lean)."""

    def complete(self, messages: Any, schema: Any = None, max_tokens: int = 2048,
                 top_logprobs: int = 0) -> Any:  # fmt: skip
        from pipeline.adapters.llm import Completion

        self.calls.append(messages)
        content_free = "Other case: N/A" in messages[-1]["content"]
        probs = {"A": 0.9, "B": 0.05, "N": 0.05} if content_free else {"A": 0.6, "B": 0.3, "N": 0.1}
        return Completion(text="A", top_logprobs=[{k: math.log(v) for k, v in probs.items()}])


def test_the_pick_is_weighed_against_the_models_lean() -> None:
    text = "規程は共有フォルダにあります。\n" + TEXT
    rows = other_side(
        LeaningChat(), None, _record(), _rows(("20万円を超える場合は", "課長の確認も要ります")),
        "", text, "ja",
    )  # fmt: skip
    assert rows[-1].outcome == "通常は係長が見ます"  # B, though A had the larger raw share
