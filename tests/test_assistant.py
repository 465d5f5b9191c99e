"""The assistant answers from approved rules only, cites them, and refuses to invent.

These tests cover ``mode="generate"`` (the model writes the answer); tests/test_compose.py
covers the default structured mode.

FakeChat returns raw model text, so the real prompt, streaming and citation checks run.
"""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.assistant import check_answer, decision_of, split_statements
from pipeline.models import Answer, Evidence, Exception_, Interview, Judgment, RuleRow, Task
from pipeline.workspace import Workspace
from tests.conftest import FakeChat

Q_JA = "5万円を超える経費の承認は誰がしますか？"


def _ws(make_workspace: Any, *responses: str, threshold: float = 0.05) -> Workspace:
    ws = make_workspace(llm=FakeChat(list(responses)))
    iv = ws.store.add_interview(
        Interview(title="経費ヒアリング", business_area="経費精算", interviewee_roles=["経理"])
    )
    ev = Evidence(
        quote="5万円を超える場合は部長の承認が必要です",
        segment_ids=["s0003"],
        char_start=10,
        char_end=30,
        audio_start=42.5,
        audio_end=47.0,
        alignment="exact",
        speaker="経理担当",
    )
    els = ws.store.add_elements(
        [
            Task(interview_id=iv.id, summary="楽楽精算で経費を申請する", actor="申請者"),
            Judgment(
                interview_id=iv.id,
                summary="5万円を超える経費は部長承認",
                rules=[RuleRow(condition="5万円超", outcome="部長承認")],
                decider="部長",
                evidence=[ev],
            ),
            Exception_(
                interview_id=iv.id,
                summary="領収書紛失時は出金伝票",
                trigger="領収書を紛失した",
                handling="出金伝票で代用する",
                owner="田中さん",
            ),
        ]
    )
    for el in els:
        ws.reviewer.approve(el.id, "sato")
    ws.assistant.retriever.threshold = threshold
    ws.assistant.mode = "generate"  # these tests cover free generation and its checks
    return ws


def test_answer_cites_rules_that_resolve_to_interview_and_audio(make_workspace: Any) -> None:
    ws = _ws(
        make_workspace,
        "5万円を超える経費は部長が承認します。[J0001]\n1. 楽楽精算で申請します。[T0001]",
    )
    ans = ws.assistant.ask(Q_JA)
    assert ans.covered and not ans.warnings
    assert ans.text.startswith("5万円を超える経費は部長が承認します。[J0001]")
    cite = ans.citations[0]
    assert cite.element_id == "J0001" and cite.interview_title == "経費ヒアリング"
    assert cite.quote == "5万円を超える場合は部長の承認が必要です"
    assert (cite.audio_start, cite.audio_end, cite.speaker) == (42.5, 47.0, "経理担当")
    assert cite.version == 2 and cite.effective_date is not None
    assert [c.element_id for c in ans.citations] == ["J0001", "T0001"]
    prompt = ws.llm().calls[0]  # type: ignore[attr-defined]
    assert "Japanese" in prompt[0]["content"] and "[J0001]" in prompt[1]["content"]


def test_uncited_statement_is_removed_before_it_is_shown(make_workspace: Any) -> None:
    ws = _ws(make_workspace, "部長が承認します。[J0001] なお、10万円以上は社長決裁です。")
    ans = ws.assistant.ask(Q_JA)
    assert "社長決裁" not in ans.text and "部長が承認します。[J0001]" in ans.text
    assert any("no valid citation" in w and "社長決裁" in w for w in ans.warnings)


def test_citation_to_a_rule_that_was_not_retrieved_is_removed(make_workspace: Any) -> None:
    ws = _ws(make_workspace, "部長が承認します。[J0001][J0999]\n社長も承認します。[X0042]")
    ans = ws.assistant.ask(Q_JA)
    assert "J0999" not in ans.text and "社長" not in ans.text
    assert [c.element_id for c in ans.citations] == ["J0001"]
    assert any("J0999" in w for w in ans.warnings) and any("X0042" in w for w in ans.warnings)


def test_answer_without_any_valid_citation_is_refused_not_shown(make_workspace: Any) -> None:
    ws = _ws(make_workspace, "社長が決めます。必ず社長です。")
    ans = ws.assistant.ask(Q_JA)
    assert not ans.covered and "社長" not in ans.text and not ans.citations
    assert "ありません" in ans.text
    assert any("no statement supported" in w for w in ans.warnings)
    assert ws.store.list_open_questions()[0].question == Q_JA


def test_no_rule_from_the_model_means_not_covered_and_an_open_question(
    make_workspace: Any,
) -> None:
    ws = _ws(make_workspace, "NO_RULE", "NO_RULE")
    q = "有給休暇の申請方法は？"
    ans = ws.assistant.ask(q)
    assert not ans.covered and ans.citations == []
    assert ans.text.startswith("承認済みのルールには、この質問に答えるものがありません。")
    ws.assistant.ask(q + " ")  # asked again (same question, other spacing)
    (oq,) = ws.store.list_open_questions()
    assert oq.question == q and oq.count == 2


def test_below_the_threshold_the_model_is_not_even_asked(make_workspace: Any) -> None:
    ws = _ws(make_workspace, threshold=0.999)  # FakeChat has no answer: a call would fail
    ans = ws.assistant.ask("What is the Wi-Fi password?")
    assert not ans.covered
    assert ans.text == (
        "No approved rule covers this question. "
        "Please ask your consultant (recorded as an open question)."
    )
    assert ws.store.list_open_questions()[0].question == "What is the Wi-Fi password?"


def test_not_covered_names_who_to_ask_when_the_area_is_known(make_workspace: Any) -> None:
    ws = _ws(make_workspace, threshold=0.999)
    ans = ws.assistant.ask("外貨の領収書はどう処理しますか？", area="経費精算")
    assert not ans.covered and ans.contact in {"部長", "田中さん", "申請者"}
    assert f"{ans.contact}に確認してください" in ans.text


def test_filters_limit_what_the_model_sees(make_workspace: Any) -> None:
    ws = _ws(make_workspace, "出金伝票で代用します。[X0001]")
    ans = ws.assistant.ask("領収書をなくしました", kinds=["exception"])
    assert ans.retrieved_ids == ["X0001"]
    assert [c.element_id for c in ans.citations] == ["X0001"]


def test_stream_yields_only_checked_statements_then_the_answer(make_workspace: Any) -> None:
    raw = "部長が承認します。[J0001] 社長も承認します。\n楽楽精算で申請します。[T0001]"
    ws = _ws(make_workspace, raw)
    out = list(ws.assistant.ask_stream(Q_JA))
    pieces, final = out[:-1], out[-1]
    assert isinstance(final, Answer) and final.covered
    assert all(isinstance(p, str) for p in pieces)
    shown = "".join(str(p) for p in pieces)
    assert "社長" not in shown
    assert shown.strip() == final.text
    assert len(pieces) == 2  # one piece per checked statement, as each completes


def test_stream_of_no_rule_shows_nothing_and_records_the_question(make_workspace: Any) -> None:
    ws = _ws(make_workspace, "NO_RULE")
    out = list(ws.assistant.ask_stream("交通費の上限は？"))
    assert len(out) == 1 and isinstance(out[0], Answer) and not out[0].covered
    assert ws.store.list_open_questions()[0].count == 1


@pytest.mark.parametrize(
    ("text", "statements"),
    [
        ("A です。[J0001] Bです。[T0002]", ["A です。[J0001] ", "Bです。[T0002]"]),
        ("1. Do this. [T0001]\n2. Then that.", ["1. Do this. [T0001]\n", "2. Then that."]),
        ("Over 1.5 million. [J0001]", ["Over 1.5 million. [J0001]"]),
    ],
)
def test_statements_keep_the_citations_that_follow_them(text: str, statements: list[str]) -> None:
    assert split_statements(text) == statements


def test_check_answer_handles_lists_of_ids_and_headings() -> None:
    checked = check_answer(
        "手順:\n- 申請する。[T0001, J0001]\n- 承認する [j0001]", {"T0001", "J0001"}
    )
    assert checked.cited == ["T0001", "J0001"] and checked.claims == 2
    assert "手順:" in checked.text and not checked.warnings


def test_decision_labels_for_evaluation() -> None:
    def ans(text: str, covered: bool = True) -> Answer:
        return Answer(question="q", text=text, covered=covered)

    assert decision_of(ans("Yes. You can. [J0001]")) == "yes"
    assert decision_of(ans("いいえ。できません。[J0001]")) == "no"
    assert decision_of(ans("Are you over 19? [J0001]")) == "follow_up"
    assert decision_of(ans("...", covered=False)) == "not_covered"


def test_cli_ask_streams_and_lists_open_questions(
    make_workspace: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline import cli

    ws = _ws(make_workspace, "部長が承認します。[J0001]")
    monkeypatch.setattr(cli, "_workspace", lambda args: ws)
    assert cli.main(["ask", Q_JA, "--kind", "judgment"]) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("部長が承認します。[J0001]") and "J0001] 5万円を超える経費は部長承認" in out
    )
    assert "@42.5s" in out and "covered: yes" in out
    ws.assistant.retriever.threshold = 0.999
    assert cli.main(["ask", "社内Wi-Fiのパスワードは？"]) == 0
    assert "covered: no" in capsys.readouterr().out
    assert cli.main(["open-questions"]) == 0
    assert "×1   " in capsys.readouterr().out


def test_a_reply_to_our_follow_up_is_asked_with_that_question() -> None:
    from pipeline.assistant import with_reply
    from pipeline.models import Answer
    from pipeline.text_rules import answers_to

    asked = "Can I get the grant?"
    follow = Answer(
        question=asked, text="Is this true for you: are under 19? [S0001]", covered=True
    )
    msg = with_reply(asked, follow, "Yes")
    assert msg == "Is this true for you: are under 19? Yes.\nCan I get the grant?"
    assert answers_to(["are under 19", "are in your first year"], msg) == [True, None]
    # a second round keeps the first answer
    again = Answer(question=msg, text="Is this true for you: are in your first year?", covered=True)
    msg = with_reply(msg, again, "No")
    assert answers_to(["are under 19", "are in your first year"], msg) == [True, False]
    assert msg.endswith("Can I get the grant?")
    # a long Japanese reply is still an answer
    ours = "「出張先が海外」に当てはまりますか？ [S0002]"
    ja = Answer(question="日当は出ますか？", text=ours, covered=True)
    msg = with_reply("日当は出ますか？", ja, "いいえ、国内の出張です")
    assert answers_to(["出張先が海外", "5日以上"], msg) == [False, None]
    assert msg.endswith("日当は出ますか？")
    # after an answer that asked nothing, the next message is a new question
    done = Answer(question=asked, text="Yes. [S0001]", covered=True)
    assert with_reply(asked, done, "What about housing?") == "What about housing?"
