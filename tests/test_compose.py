"""Answers rendered from the approved structure: the model chooses, the fields speak.

FakeChat writes the label a real model would write (no log-probabilities), so the real
choice parsing, condition evaluation and rendering run.
"""

from __future__ import annotations

import math
from typing import Any

from pipeline.assistant import decision_of
from pipeline.compose import question_shape
from pipeline.models import Exception_, Interview, Judgment, RuleRow, Task
from pipeline.workspace import Workspace
from tests.conftest import FakeChat


def _ws(make_workspace: Any, *responses: str, second_hearing: bool = False) -> Workspace:
    ws = make_workspace(llm=FakeChat(list(responses)))
    iv = ws.store.add_interview(Interview(title="経費ヒアリング", business_area="経費精算"))
    els = [
        Judgment(
            interview_id=iv.id,
            summary="経費の承認者は金額で決まる",
            decision="経費申請を誰が承認するか",
            rules=[
                RuleRow(condition="1件5万円以下", outcome="所属長の承認のみ"),
                RuleRow(condition="1件5万円を超える", outcome="所属長に加えて部長の承認が必要"),
            ],
            decider="部長",
        ),
        Exception_(
            interview_id=iv.id,
            summary="領収書紛失時は出金伝票",
            trigger="領収書をなくした",
            handling="出金伝票を書いてもらい、所属長のサインをもらう",
            owner="経理担当",
        ),
        Task(
            interview_id=iv.id,
            summary="楽楽精算で申請する",
            action="楽楽精算で経費を申請する",
            actor="申請者",
            systems=["楽楽精算"],
        ),
    ]
    if second_hearing:
        iv2 = ws.store.add_interview(Interview(title="部長ヒアリング", business_area="経費精算"))
        els.append(
            Judgment(
                interview_id=iv2.id,
                summary="10万円以上は部長承認",
                decision="経費申請を誰が承認するか",
                rules=[RuleRow(condition="10万円以上", outcome="部長の承認")],
                decider="部長",
            )
        )
    for el in ws.store.add_elements(els):
        ws.reviewer.approve(el.id, "sato")
    ws.assistant.retriever.threshold = 0.0
    ws.assistant.k = 4
    return ws


def _letter(ws: Workspace, question: str, element_id: str) -> str:
    ids = [r.id for r in ws.assistant.retrieve(question)][:5]
    return "ABCDE"[ids.index(element_id)]


def test_question_shapes() -> None:
    assert question_shape("経費の申請は誰が承認するんですか？") == "who"
    assert question_shape("8万円の経費、部長の承認は必要ですか？") == "yesno"
    assert question_shape("領収書をなくしました。どうすればいいですか？") == "how"
    assert question_shape("Do I need to accrue a $7,800 delivery?") == "yesno"
    assert question_shape("What do I do when the macro fails?") == "how"
    assert question_shape("Who approves journal entries?") == "who"


def test_the_shape_is_read_off_the_sentence_that_asks() -> None:
    # "who" in a statement before the question is a relative pronoun, not the question word
    msg = "I am a clerk who pays invoices. Is the supplier new? No. Do I need a second approval?"
    assert question_shape(msg) == "yesno"
    # a statement that runs into the question without a full stop
    assert question_shape("The invoice has no PO number Can I still pay it?") == "yesno"
    assert question_shape("5万円を超える経費は誰が承認しますか？金額は8万円です。") == "who"
    assert question_shape("Is the 1.5% fee charged on refunds?") == "yesno"


def test_amount_in_the_question_picks_the_row_and_yes_comes_first(make_workspace: Any) -> None:
    q = "十二万円のモニター代、部長の承認は必要ですか？"
    ws = _ws(make_workspace)
    ws.llm().responses = [_letter(ws, q, "J0001")]  # type: ignore[attr-defined]
    ans = ws.assistant.ask(q)
    assert ans.covered and decision_of(ans) == "yes"
    assert len(ws.llm().calls) == 1  # type: ignore[attr-defined]  # the amount decided, not the model
    first, second = ans.text.split("\n")[:2]
    assert first == "はい。 [J0001]"
    assert "1件5万円を超える → 所属長に加えて部長の承認が必要" in second and "十二万円" in second
    assert "所属長の承認のみ" not in ans.text  # the row that does not apply is not shown
    assert [c.element_id for c in ans.citations] == ["J0001"]


def test_only_this_approver_is_answered_no_when_the_amount_needs_more(make_workspace: Any) -> None:
    q = "十二万円のモニター代、所属長のOKだけで処理していいですか？"
    ws = _ws(make_workspace)
    ws.llm().responses = [_letter(ws, q, "J0001")]  # type: ignore[attr-defined]
    ans = ws.assistant.ask(q)
    assert decision_of(ans) == "no" and "部長の承認が必要" in ans.text


def test_an_amount_in_a_yes_no_question_goes_to_the_rule_that_bounds_it(
    make_workspace: Any,
) -> None:
    q = "十二万円のモニター代、所属長のOKだけで処理していいですか？"
    ws = _ws(make_workspace)
    # the model picks the task; the amount can only be evaluated against the judgment's rows
    ws.llm().responses = [_letter(ws, q, "T0001")]  # type: ignore[attr-defined]
    ans = ws.assistant.ask(q)
    assert decision_of(ans) == "no" and ans.text.startswith("いいえ。 [J0001]")
    # a how-question with an amount keeps the model's pick
    how = "十二万円のモニター代はどうやって申請しますか？"
    ws.llm().responses = [_letter(ws, how, "T0001")]  # type: ignore[attr-defined]
    assert "楽楽精算" in ws.assistant.ask(how).text.split("\n")[0]


def test_missing_amount_gives_one_follow_up_question(make_workspace: Any) -> None:
    q = "この経費、部長の承認まで必要ですか？"
    ws = _ws(make_workspace)
    ws.llm().responses = [_letter(ws, q, "J0001")]  # type: ignore[attr-defined]
    ans = ws.assistant.ask(q)
    assert decision_of(ans) == "follow_up"
    assert ans.text.startswith("金額はいくらですか？ [J0001]")
    assert "1件5万円を超える" in ans.text  # the rows say why the amount matters
    assert len(ws.llm().calls) == 1  # type: ignore[attr-defined]  # no yes/no guess


def test_who_question_gets_the_approver_with_the_condition(make_workspace: Any) -> None:
    q = "3万円の経費は誰が承認しますか？"
    ws = _ws(make_workspace)
    ws.llm().responses = [_letter(ws, q, "J0001")]  # type: ignore[attr-defined]
    ans = ws.assistant.ask(q)
    assert "1件5万円以下 → 所属長の承認のみ" in ans.text and "部長の承認が必要" not in ans.text


def test_how_question_gets_the_handling_never_a_bare_yes(make_workspace: Any) -> None:
    q = "領収書をなくしてしまいました。どうすればいいですか？"
    ws = _ws(make_workspace)
    ws.llm().responses = [_letter(ws, q, "X0001")]  # type: ignore[attr-defined]
    ans = ws.assistant.ask(q)
    handling = "出金伝票を書いてもらい、所属長のサインをもらう"
    assert ans.text == f"領収書をなくした → {handling}（担当: 経理担当） [X0001]"
    assert decision_of(ans) == "answer"


def test_none_chosen_is_not_covered_and_recorded(make_workspace: Any) -> None:
    ws = _ws(make_workspace, "N")
    ans = ws.assistant.ask("社員食堂のメニューは？")
    assert not ans.covered and ans.citations == []
    assert ws.store.list_open_questions()[0].question == "社員食堂のメニューは？"


def test_rules_that_disagree_across_hearings_are_shown_and_recorded(make_workspace: Any) -> None:
    q = "経費の申請は誰が承認しますか？"
    ws = _ws(make_workspace, second_hearing=True)
    ids = [r.id for r in ws.assistant.retrieve(q)]
    assert {"J0001", "J0002"} <= set(ids)
    ws.llm().responses = [_letter(ws, q, "J0001"), "Y"]  # type: ignore[attr-defined]
    ans = ws.assistant.ask(q)
    same_prompt = ws.llm().calls[1][-1]["content"]  # type: ignore[attr-defined]
    assert "10万円以上 → 部長の承認" in same_prompt  # the model checks it is the same decision
    assert "ヒアリングによってルールが異なります" in ans.text
    assert {"J0001", "J0002"} <= {c.element_id for c in ans.citations}
    assert "10万円以上 → 部長の承認" in ans.text
    open_q = [o.question for o in ws.store.list_open_questions()]
    assert any("J0001" in o and "J0002" in o for o in open_q)
    assert "disagree" in " ".join(ans.warnings)


def test_stream_shows_the_first_line_before_the_answer(make_workspace: Any) -> None:
    q = "領収書をなくしました。どうすればいいですか？"
    ws = _ws(make_workspace)
    ws.llm().responses = [_letter(ws, q, "X0001")]  # type: ignore[attr-defined]
    out = list(ws.assistant.ask_stream(q))
    assert isinstance(out[0], str) and out[0].endswith("[X0001]\n")
    assert out[-1].text == "".join(out[:-1]).strip()  # type: ignore[arg-type,union-attr]


def test_rules_the_model_says_are_about_other_decisions_are_no_conflict(
    make_workspace: Any,
) -> None:
    q = "経費の申請は誰が承認しますか？"
    ws = _ws(make_workspace, second_hearing=True)
    ws.llm().responses = [_letter(ws, q, "J0001"), "N"]  # type: ignore[attr-defined]
    ans = ws.assistant.ask(q)
    assert "異なります" not in ans.text and not ws.store.list_open_questions()


def test_a_text_rule_is_decided_condition_by_condition() -> None:
    from pipeline.compose import Candidate, Composer
    from pipeline.retrieve import Retrieved

    snippet = (
        "## Apprentices\n\nYou can get the grant if you:\n\n* are under 19\n"
        "* are in the first year of an apprenticeship"
    )
    cand = Candidate(Retrieved("S0001", snippet, {}, 0.0, 0.9), None)
    # choose S0001, the list's logic (A = all needed), the fact about each condition (A: the
    # first sentence, N: none), its pick for a content-free condition (N), then condition 1
    # read off its fact (T)
    llm = FakeChat(["A", "A", "A", "N", "N", "T"])
    comp = Composer(lambda: llm).compose("I'm 17. Can I get the grant?", [cand])
    assert comp.decision == "inquire"
    assert comp.lines[0].text == "Is this true for you: are in the first year of an apprenticeship?"
    llm.responses = ["A", "A", "A", "A", "N", "T", "F"]
    comp = Composer(lambda: llm).compose("I'm 17 and in my second year. Can I get it?", [cand])
    assert comp.decision == "no" and comp.lines[0].text == "No."
    assert not llm.responses


class LogprobChat(FakeChat):
    """A chat model that answers with given label probabilities (as first-token logprobs)."""

    def __init__(self, answers: list[dict[str, float]]):
        super().__init__()
        self.answers = list(answers)

    def complete(self, messages: Any, schema: Any = None, max_tokens: int = 2048,
                 top_logprobs: int = 0) -> Any:  # fmt: skip
        from pipeline.adapters.llm import Completion

        self.calls.append(messages)
        probs = self.answers.pop(0)
        return Completion(
            text=max(probs, key=lambda k: probs[k]),
            top_logprobs=[{k: math.log(v) for k, v in probs.items() if v > 0}],
        )


def test_the_models_lean_towards_a_letter_is_discounted() -> None:
    from pipeline.compose import Composer

    msg = "I moved here last year. Are you under 19? Yes. Can I get the grant?"
    lean = {"A": 0.1, "B": 0.2, "C": 0.6, "N": 0.1}  # what it picks for a condition "N/A"
    llm = LogprobChat(
        [
            {"A": 0.1, "B": 0.35, "C": 0.45, "N": 0.1},  # under 19: raw argmax is C (the question)
            dict(lean),  # lived here 3 years: the same as for "N/A"
            lean,
        ]
    )
    got = Composer(lambda: llm).conditions_stated(
        msg, ["you are under 19", "you have lived here for 3 years"]
    )
    # B (answered yes) stands out from the lean; nothing stands out for the second condition
    # beyond the lean, and "none" does: not said
    assert got == [True, None]
    assert not llm.answers


def test_the_message_is_read_as_facts_and_answered_questions() -> None:
    from pipeline.text_rules import answered, facts_of

    facts = facts_of("I'm a student. Are you under 19? Yes. Are you in your first year? No. Ok?")
    assert facts == [
        "I'm a student.",
        "Are you under 19? Yes.",
        "Are you in your first year? No.",
        "Ok?",
    ]
    assert [answered(f) for f in facts] == [None, True, False, None]
    ja = facts_of("来週出張します。出張先は海外ですか？ はい。日当は出ますか？")
    assert ja == ["来週出張します。", "出張先は海外ですか？ はい。", "日当は出ますか？"]
    assert answered(ja[1]) is True


def test_an_answered_question_decides_its_condition_without_the_model() -> None:
    from pipeline.compose import Candidate, Composer
    from pipeline.retrieve import Retrieved

    snippet = "You can get the grant if you:\n* are under 19\n* are in your first year"
    cand = Candidate(Retrieved("S0001", snippet, {}, 0.0, 0.9), None)
    msg = "I'm a student. Are you under 19? Yes. Are you in your first year? No. Can I get it?"
    llm = LogprobChat(
        [
            {"A": 0.9, "N": 0.1},  # the rule answers the question
            {"A": 0.8, "B": 0.2},  # all conditions are needed
            {"A": 0.1, "B": 0.7, "C": 0.1, "D": 0.05, "N": 0.05},  # under 19: fact B
            {"A": 0.1, "B": 0.1, "C": 0.7, "D": 0.05, "N": 0.05},  # first year: fact C
            {"A": 0.2, "B": 0.2, "C": 0.2, "D": 0.2, "N": 0.2},  # content-free: no lean
        ]
    )
    comp = Composer(lambda: llm).compose(msg, [cand])
    assert comp.decision == "no"
    assert not llm.answers  # no reading of facts that are answered yes / no


def test_a_condition_no_fact_is_about_is_asked_about() -> None:
    from pipeline.compose import Candidate, Composer
    from pipeline.retrieve import Retrieved

    snippet = "You can get the grant if you:\n* are under 19\n* are in your first year"
    cand = Candidate(Retrieved("S0001", snippet, {}, 0.0, 0.9), None)
    msg = "Are you under 19? Yes. Can I get the grant?"
    llm = LogprobChat(
        [
            {"A": 0.9, "N": 0.1},
            {"A": 0.8, "B": 0.2},
            {"A": 0.8, "B": 0.1, "N": 0.1},  # under 19: fact A
            {"A": 0.2, "B": 0.2, "N": 0.6},  # first year: no fact is about it
            {"A": 0.3, "B": 0.3, "N": 0.4},  # content-free
        ]
    )
    comp = Composer(lambda: llm).compose(msg, [cand])
    assert comp.decision == "inquire"
    assert comp.lines[0].text == "Is this true for you: are in your first year?"


def test_the_case_asked_about_is_read_off_the_sentence_that_asks() -> None:
    from pipeline.compose import asked_case
    from pipeline.conditions import Verdict

    over = Verdict(RuleRow(condition="over $8,000", outcome="capitalise it as an asset"), False)
    paid = RuleRow(condition="up to $8,000", outcome="expense it when the invoice is paid")
    under = Verdict(paid, True)
    # the statement before the question shares words with the other outcome (invoice, paid)
    q = "The invoice for a $900 chair was paid today. Do I capitalise it?"
    assert asked_case(q, [over, under]) is over
    # a question sentence that names no outcome: the whole message decides
    assert asked_case("A $900 chair; to be capitalised as an asset. Right?", [over, under]) is over


def test_an_inferred_row_is_shown_as_inferred() -> None:
    from pipeline.compose import _row_text

    assert _row_text(RuleRow(condition="5万円以下", outcome="課長", inferred=True)) == (
        "5万円以下 → 課長（推定）"
    )
    assert _row_text(RuleRow(condition="over $900", outcome="the CFO", inferred=True)).endswith(
        " (inferred)"
    )


def test_each_cited_element_is_read_from_the_store_once(
    make_workspace: Any, monkeypatch: Any
) -> None:
    q = "3万円の経費は誰が承認しますか？"
    ws = _ws(make_workspace)
    ws.llm().responses = [_letter(ws, q, "J0001")]  # type: ignore[attr-defined]
    reads: list[str] = []
    real = ws.store.get_element

    def counted(el_id: str) -> Any:
        reads.append(el_id)
        return real(el_id)

    monkeypatch.setattr(ws.store, "get_element", counted)
    ans = ws.assistant.ask(q)
    assert [c.element_id for c in ans.citations] == ["J0001"]
    assert reads.count("J0001") == 1
