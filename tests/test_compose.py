"""Answers rendered from the approved structure: the model chooses, the fields speak.

FakeChat writes the label a real model would write (no log-probabilities), so the real
choice parsing, condition evaluation and rendering run.
"""

from __future__ import annotations

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


def test_a_text_rule_is_decided_by_the_answers_and_asks_for_what_is_missing() -> None:
    from pipeline.compose import Candidate, Composer
    from pipeline.retrieve import Retrieved

    snippet = (
        "## Apprentices\n\nYou can get the grant if you meet all of these:\n\n* are under 19\n"
        "* are in the first year of an apprenticeship"
    )
    cand = Candidate(Retrieved("S0001", snippet, {}, 0.0, 0.9), None)
    # a fact told in passing is not read against the rule: the first item is asked about
    # (the only model call: choose S0001)
    llm = FakeChat(["A"])
    comp = Composer(lambda: llm).compose("I'm 17. Can I get the grant?", [cand])
    assert comp.decision == "inquire"
    assert comp.lines[0].text == "Is this true for you: are under 19?"
    # one answer yes: the other item is still needed (the list needs all)
    llm = FakeChat(["A"])
    msg = "Are you under 19? Yes. Can I get the grant?"
    comp = Composer(lambda: llm).compose(msg, [cand])
    assert comp.decision == "inquire"
    assert comp.lines[0].text == "Is this true for you: are in the first year of an apprenticeship?"
    # both answered, in any order: the list decides, and the model is never asked about a fact
    llm = FakeChat(["A"])
    msg = "Are you in the first year of your apprenticeship? Yes. Under 19? Yes. Can I get it?"
    comp = Composer(lambda: llm).compose(msg, [cand])
    assert comp.decision == "yes" and comp.lines[0].text == "Yes."
    assert not llm.responses


def test_a_text_rule_compares_a_stated_date_or_amount_not_the_one_asked_about() -> None:
    from pipeline.compose import Candidate, Composer
    from pipeline.retrieve import Retrieved

    snippet = "## Winter payment\n\nYou can get the payment if you were born before 6 April 1953."
    cand = Candidate(Retrieved("S0001", snippet, {}, 0.0, 0.9), None)
    ask = Composer(lambda: FakeChat(["A"])).compose
    assert ask("I was born in January 1979. Can I get the payment?", [cand]).decision == "no"
    assert ask("I was born in 1950. Can I get the payment?", [cand]).decision == "yes"
    assert ask("Can I get the payment?", [cand]).decision == "inquire"
    vat = "You must register for VAT if your taxable turnover is more than £85,000."
    cand = Candidate(Retrieved("S0002", vat, {}, 0.0, 0.9), None)
    assert ask("Our turnover is about £145,000. Must I register?", [cand]).decision == "yes"
    assert ask("Must I register if my turnover is £90,000?", [cand]).decision == "yes"
    # an amount the question asks about is no fact of the case
    assert ask("Must I register to get back up to £85,001?", [cand]).decision == "inquire"


def test_one_answer_no_decides_a_rule_that_needs_every_item() -> None:
    from pipeline.compose import Candidate, Composer
    from pipeline.retrieve import Retrieved

    snippet = "To get the grant you must:\n* be under 19\n* be in your first year"
    cand = Candidate(Retrieved("S0001", snippet, {}, 0.0, 0.9), None)
    msg = "I'm a student. Are you in your first year? No. Can I get it?"
    llm = FakeChat(["A"])  # choose S0001, the only model call
    comp = Composer(lambda: llm).compose(msg, [cand])
    assert comp.decision == "no"
    # the same answer to a list where one item is enough leaves the other to ask about
    anyone = "You can get the grant if you:\n* are under 19\n* are in your first year"
    cand = Candidate(Retrieved("S0001", anyone, {}, 0.0, 0.9), None)
    llm = FakeChat(["A"])
    comp = Composer(lambda: llm).compose(msg, [cand])
    assert comp.decision == "inquire" and "under 19" in comp.lines[0].text


def test_a_rule_in_prose_is_decided_by_the_questions_answered_so_far() -> None:
    from pipeline.compose import Candidate, Composer
    from pipeline.retrieve import Retrieved

    snippet = (
        "The Divorced Spouse Benefit is run by the Social Security Administration. "
        "It is paid to divorced spouses of workers who receive Social Security benefits."
    )
    cand = Candidate(Retrieved("S0002", snippet, {}, 0.0, 0.9), None)
    # sentences that are not conditions (who runs it) do not keep the answer open
    for answer, decision in (("Yes", "yes"), ("No", "no")):
        llm = FakeChat(["A"])
        msg = f"Are you divorced? {answer}. Can I get the benefit?"
        comp = Composer(lambda: llm).compose(msg, [cand])  # noqa: B023
        assert comp.decision == decision
    llm = FakeChat(["A"])
    comp = Composer(lambda: llm).compose("Can I get the benefit?", [cand])
    assert comp.decision == "inquire"


def test_the_message_is_read_as_facts_and_answered_questions() -> None:
    from pipeline.text_rules import answered, answers_to, facts_of

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
    # each answer decides the condition it shares words with, whatever the order
    conditions = ["you are in your first year", "you are under 19", "you live in England"]
    msg = "I'm a student. Are you under 19? Yes. Are you in your first year? No. Ok?"
    assert answers_to(conditions, msg) == [False, True, None]
    assert answers_to(["出張先が海外", "5日以上"], "\n".join(ja)) == [True, None]


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


def test_an_answer_decides_the_condition_our_question_quoted_and_nothing_else() -> None:
    from pipeline.text_rules import answers_to, text_rule

    # our own question's wording ("Is this true for you", 「…に当てはまりますか」) does not pull
    # the answer towards a condition that shares those words
    two = ["aged 65 or over", "you live in this country for your work"]
    assert answers_to(two, "Is this true for you: aged 65 or over? Yes.") == [True, None]
    ja = ["申請書を提出します", "海外"]
    assert answers_to(ja, "「海外」に当てはまりますか？ はい。") == [None, True]
    # an answered question that shares nothing with any condition decides nothing
    assert answers_to(["are under 19"], "Do you like cats? Yes.") == [None]
    # the reply follows the last question mark, whichever its width
    assert answers_to(["are under 19"], "Why? Are you under 19？ No.") == [False]
    # every item of a long list counts; a "cannot" in prose does not turn the rule over
    items = "You can get it if you:\n" + "\n".join(f"* own item {n}" for n in range(8))
    assert len(text_rule(items).conditions) == 8
    prose = text_rule("You can get the grant if you are a farmer. You cannot apply twice.")
    assert not prose.excludes
    assert prose.decide_from_answers(answers_to(prose.conditions, "A farmer? Yes.")) is True


def test_a_condition_the_operator_restates_is_decided_by_its_polarity() -> None:
    from pipeline.text_rules import told_in_passing

    conditions = ["your shop is registered for the sales tax", "you have a delivery van"]
    # the statement restates the first condition, negated: false; the van is not mentioned
    said = "Our shop is not registered for the sales tax yet. Can I add it to the bill?"
    assert told_in_passing(conditions, said) == [False, None]
    assert told_in_passing(conditions, "Our shop is registered for the sales tax.") == [True, None]
    # both sides negated: the condition holds
    neg = ["the invoice has no purchase order"]
    assert told_in_passing(neg, "This invoice has no purchase order at all.") == [True]
    # a question that restates the condition states nothing; nor does a sentence about else
    assert told_in_passing(conditions, "Is our shop registered for the sales tax?") == [None, None]
    assert told_in_passing(conditions, "We sell tea in the market.") == [None, None]
    ja = ["取引先が新規の会社", "出張先が海外"]
    assert told_in_passing(ja, "取引先は新規の会社ではありません。") == [False, None]
    assert told_in_passing(ja, "今回の出張先は海外です。日当は出ますか？") == [None, True]
    # an obligation said with two negations is not a negation
    must = ["部長の承認を取る"]
    assert told_in_passing(must, "今回は部長の承認を取らないといけません。") == [True]
    assert told_in_passing(must, "今回は部長の承認を取りません。") == [False]


def test_answers_are_combined_by_the_grammar_of_the_condition_and_its_rule() -> None:
    from pipeline.text_rules import answers_to, text_rule

    # a condition met by either part: one "yes" is enough, whatever the other answer
    either = ["you retire or you move abroad"]
    msg = "Do you retire? No. Do you move abroad? Yes."
    assert answers_to(either, msg) == [True]
    both = ["you retire and you move abroad"]
    assert answers_to(both, msg) == [False]
    # a sentence that excludes: a "yes" to its condition means no
    prose = text_rule("You cannot claim the grant if you own a second home.")
    verdicts = answers_to(prose.conditions, "Do you own a second home? Yes.")
    assert prose.decide_from_answers(verdicts) is False
    verdicts = answers_to(prose.conditions, "Do you own a second home? No.")
    assert prose.decide_from_answers(verdicts) is True
    # "aren't entitled" excludes like "not entitled"
    assert text_rule("These people aren't entitled to it:\n* guests\n* interns").excludes
    # a lead that says every item is needed is a known "all"; "one of" still means any
    must = text_rule("To get the pass you must:\n* be over 18\n* live in the city")
    assert not must.any_of
    one = text_rule("You must meet one of the following:\n* be over 18\n* live in the city")
    assert one.any_of
    # a modal that governs the consequence, not the items: the items are cases
    assert text_rule("You must tell us if:\n* you move house\n* you marry").any_of
    assert text_rule("次の場合は部長の承認が必要です：\n・土曜日\n・日曜日").any_of


def test_the_grammar_of_a_rule_written_in_sentences() -> None:
    from pipeline.text_rules import answers_to, facts_of, text_rule

    # a first sentence that lists its cases inline is read as that list (any of them)
    land = text_rule("Eligible land includes cropland, rangeland, grassland and forest land.")
    assert land.listed and land.any_of
    assert land.conditions[1:] == ["rangeland", "grassland", "forest land"]
    assert land.conditions[0] == "Eligible land includes cropland"
    assert land.decide_from_answers(answers_to(land.conditions, "Is it cropland? No.")) is None
    # a lead ending in "must:" before an inline list needs every item
    sba = text_rule("A business must: be for-profit, meet size standards, and repay.")
    assert (sba.lead, sba.any_of) == ("A business must:", False)
    # a sentence with two items only, or long clauses between commas, is no list
    assert not text_rule("If you are ill, or pregnant, you can claim.").listed
    # list items that are each a requirement are all needed
    assert not text_rule("To qualify:\n* you must live here\n* you must be 60").any_of
    # "shouldn't" excludes like "can't"
    assert text_rule("They shouldn't be:\n* a child you pay for\n* the other parent").excludes
    # a sentence whose consequence is negative: its case met means no
    rule = text_rule("You're not an appointee if you just help someone complete their form.")
    said = answers_to(rule.conditions, "Did you just help someone complete their form? Yes.")
    assert rule.decide_from_answers(said) is False
    rule = text_rule("You can only charge VAT if your business is registered for VAT.")
    said = answers_to(rule.conditions, "Is your business registered for VAT? Yes.")
    assert rule.decide_from_answers(said) is True
    # a "cannot" inside the case clause is the case's, not the consequence's
    rule = text_rule("If you owe taxes that you cannot pay, bankruptcy may be an option.")
    said = answers_to(rule.conditions, "Do you owe taxes that you cannot pay? Yes.")
    assert rule.decide_from_answers(said) is True
    # a "cannot" after a relative "when" is the consequence's
    from pipeline.text_rules import _says_no

    assert _says_no("A claim made when the employee was on leave cannot be paid.")
    # a list of banned things excludes ("The banned goods are: ...")
    assert text_rule("The banned luxury goods are:\n* caviar\n* truffles").excludes
    # a prohibition word excludes
    rule = text_rule("Drivers are banned from texting while behind the wheel.")
    said = answers_to(rule.conditions, "Are you behind the wheel? Yes.")
    assert rule.decide_from_answers(said) is False
    # in a rule written in prose, only the sentence the question is about is compared with
    # the operator's case: the other sentences bound other things
    from pipeline.conditions import text_verdicts

    rule = text_rule(
        "Patients under the age of 18 must have a provider. "
        "Patients under the age of 21 cannot join a cooperative garden."
    )
    said = text_verdicts(rule, "I am 16 years old. Do I have to have a provider?")
    assert said == [True, None] and rule.decide_from_answers(said) is True
    # a numbered line ending in a colon is the lead of the items under it, not an item
    rule = text_rule("3. A licensee may not:\n* display signs against local laws\n* sell to minors")
    assert rule.conditions == ["display signs against local laws", "sell to minors"]
    assert rule.excludes and rule.lead.endswith("may not:")
    # a statement restates a sentence's case ("if ..."), or one alternative of it
    from pipeline.text_rules import told_in_passing

    vat = ["You can only charge VAT if your business is registered for VAT."]
    assert told_in_passing(vat, "Our business is not registered for VAT.") == [False]
    volunteers = ["volunteers or voluntary workers"]
    assert told_in_passing(volunteers, "I am a volunteer at the shelter.") == [True]
    # an alternative too short to stand alone ("4 weeks" of "4 weeks or less") is not restated
    assert told_in_passing(["4 weeks or less of unpaid leave"], "It lasted weeks.") == [None]
    # a statement that runs into the next question is still a statement, and the question
    # still takes its answer
    facts = facts_of("I live in Sweden Do you live in the UK? No. Can I claim?")
    assert facts == ["I live in Sweden", "Do you live in the UK? No.", "Can I claim?"]


def test_a_list_whose_lead_says_neither_all_nor_any_is_read_as_alternatives() -> None:
    from pipeline.text_rules import answers_to, text_rule

    rule = text_rule("You may also claim it in:\n* Barbados\n* Israel")
    assert rule.any_of
    assert rule.decide_from_answers(answers_to(rule.conditions, "Israel? Yes.")) is True
    # the lead or the items say "all": every item is needed
    both = text_rule("You can claim it if you are:\n* over 18 and\n* resident in Israel")
    assert not both.any_of
    assert not text_rule("It is paid to staff who:\n* joined; AND\n* stayed a year").any_of
    assert both.decide_from_answers(answers_to(both.conditions, "Over 18? Yes.")) is None


class _Leaning(FakeChat):
    """Answers with given first-token probabilities (log-probabilities), one dict per call."""

    def __init__(self, *answers: dict[str, float]):
        super().__init__()
        self.answers = list(answers)

    def complete(self, messages: Any, schema: Any = None, max_tokens: int = 2048,
                 top_logprobs: int = 0) -> Any:  # fmt: skip
        import math

        from pipeline.adapters.llm import Completion

        probs = self.answers.pop(0)
        lp = [{k: math.log(v) for k, v in probs.items() if v > 0}]
        return Completion(text=max(probs, key=lambda k: probs[k]), top_logprobs=lp)


def _cand(el: Any) -> Any:
    from pipeline.compose import Candidate
    from pipeline.retrieve import Retrieved

    return Candidate(Retrieved(el.id, el.summary, {}, 0.0, 0.9), el)


def test_an_exception_whose_trigger_the_question_does_not_state_weighs_less() -> None:
    from pipeline.compose import weigh_triggers

    lost = Exception_(
        id="X0001", interview_id="i", summary="紛失時", trigger="領収書をなくした",
        handling="出金伝票を書く",
    )  # fmt: skip
    task = Task(id="T0001", interview_id="i", summary="申請する", action="楽楽精算で申請する")
    probs = {"X0001": 0.6, "T0001": 0.4, "N": 0.0}
    cands = [_cand(lost), _cand(task)]
    other = weigh_triggers("経費の申請は誰が承認しますか？", cands, probs)
    assert other["T0001"] > other["X0001"]
    assert abs(other["T0001"] + other["X0001"] - 1.0) < 1e-9
    said = weigh_triggers("領収書をなくしてしまいました。どうすれば？", cands, probs)
    assert said == probs


def test_a_how_question_between_two_close_rules_gets_both() -> None:
    from pipeline.compose import Composer

    apply = Task(id="T0001", interview_id="i", summary="申請", action="楽楽精算で経費を申請する")
    check = Task(id="T0002", interview_id="i", summary="照合", action="領収書と申請金額を照合する")
    cands = [_cand(apply), _cand(check)]
    q = "経費の精算はどうすればいいですか？"
    # the model leans to the second; with retrieval's order the two end up close: both shown
    comp = Composer(lambda: _Leaning({"A": 0.3, "B": 0.7, "N": 0.0})).compose(q, cands)
    assert comp.ids == ["T0001", "T0002"]
    assert comp.lines[-1].text.startswith("関連: ") and "照合" in comp.lines[-1].text
    # one clear choice: only that rule
    comp = Composer(lambda: _Leaning({"A": 0.9, "B": 0.1, "N": 0.0})).compose(q, cands)
    assert comp.ids == ["T0001"]
    # a yes/no question is answered from one rule only
    yn = "楽楽精算で申請しますか？"
    comp = Composer(lambda: _Leaning({"A": 0.3, "B": 0.7, "N": 0.0}, {"Y": 0.9, "N": 0.1})).compose(
        yn, cands
    )
    assert len(comp.ids) == 1


def test_rules_that_bound_the_same_amount_but_decide_other_things_are_no_conflict() -> None:
    from pipeline.compose import disagree, same_outcomes
    from pipeline.models import Judgment, RuleRow

    def judgment(rows: list[tuple[str, str]], decider: str) -> Judgment:
        return Judgment(
            id="J", interview_id="i", summary="", decider=decider,
            rules=[RuleRow(condition=c, outcome=o) for c, o in rows],
        )  # fmt: skip

    quotes = judgment([("5万円以上", "二社から相見積もりを取る")], "購買担当")
    approver = judgment([("30万円まで", "課長の承認"), ("30万円超", "部長の承認")], "課長／部長")
    rows = [("10万円未満", "課長の承認で発注"), ("10万円以上", "部長の承認")]
    other = judgment(rows, "課長／部長")
    assert disagree(quotes, approver) and not same_outcomes(quotes, approver)
    assert disagree(approver, other) and same_outcomes(approver, other)
