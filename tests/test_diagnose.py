"""Findings from lexical cues, each quoting the transcript, linked to the elements they concern;
follow-up questions from the gaps."""

from __future__ import annotations

import pytest

from pipeline.diagnose import diagnose, link_concerns
from pipeline.extract import split_units
from pipeline.followups import follow_ups
from pipeline.models import (
    CriterionStatus,
    Evidence,
    Exception_,
    Finding,
    FindingKind,
    Judgment,
    RuleRow,
    Task,
)
from tests.conftest import transcript_of

K = FindingKind


def findings_for(lines: list[str], lang: str = "ja", elements: list | None = None) -> list[Finding]:
    tr = transcript_of(lines, lang=lang)
    units = split_units(tr)
    return diagnose(units, units, elements or [], tr)


@pytest.mark.parametrize(
    ("sentence", "kind", "lang"),
    [
        (
            "いくらまで認めるかは決まっていなくて、その都度判断しています。",
            K.JUDGMENT_WITHOUT_RULE,
            "ja",
        ),
        ("優先順位はケースバイケースですね。", K.JUDGMENT_WITHOUT_RULE, "ja"),
        ("Honestly, I kind of eyeball it.", K.JUDGMENT_WITHOUT_RULE, "en"),
        ("It depends on the customer, really.", K.JUDGMENT_WITHOUT_RULE, "en"),
        ("為替の計算は佐藤さんしか分からないんです。", K.PERSON_DEPENDENCY, "ja"),
        ("Only Maria knows how the macro works.", K.PERSON_DEPENDENCY, "en"),
        ("勘定科目は前回と同じにしています。", K.PRECEDENT_FOLLOWING, "ja"),
        ("We just do it like last time.", K.PRECEDENT_FOLLOWING, "en"),
        ("上限は前の課長が口頭で決めたものです。", K.ORAL_ONLY_CRITERION, "ja"),
        ("That limit was never written down anywhere.", K.ORAL_ONLY_CRITERION, "en"),
        ("人によって承認の順番が違います。", K.APPROVAL_ROUTE_VARIES, "ja"),
        (
            "It depends on who reviews it, some reviewers skip the CFO.",
            K.APPROVAL_ROUTE_VARIES,
            "en",
        ),
        ("その一覧表は、たぶん誰も見ていないです。", K.UNNECESSARY_TASK, "ja"),
        ("Nobody looks at the printed copy.", K.UNNECESSARY_TASK, "en"),
        ("部長が不在だと、誰も決められないんです。", K.PERSON_DEPENDENCY, "ja"),
        (
            "この金額は部長が会議で言っただけで、どこにも書いてないんです。",
            K.ORAL_ONLY_CRITERION,
            "ja",
        ),
        ("Our CFO said it in a meeting once.", K.ORAL_ONLY_CRITERION, "en"),
        ("That rule is not in our travel policy.", K.ORAL_ONLY_CRITERION, "en"),
        ("二つのシステムに同じ内容を入れています。", K.UNNECESSARY_TASK, "ja"),
        ("Nobody has opened that binder in years.", K.UNNECESSARY_TASK, "en"),
        ("The approval route basically changes with the manager.", K.APPROVAL_ROUTE_VARIES, "en"),
        ("We do it because that's how it was done last year.", K.PRECEDENT_FOLLOWING, "en"),
        ("There's no set number.", K.JUDGMENT_WITHOUT_RULE, "en"),
    ],
)
def test_cue_gives_finding_with_its_quote(sentence: str, kind: FindingKind, lang: str) -> None:
    found = findings_for(["前置きです。", sentence], lang)
    hits = [f for f in found if f.finding == kind]
    assert hits, [f.finding for f in found]
    ev = hits[0].evidence[0]
    assert ev.grounded and ev.quote == sentence and ev.segment_ids == ["s0002"]
    assert hits[0].recommendation


def test_routine_handling_is_not_a_judgment_without_rule() -> None:
    found = findings_for(["承認フローをその都度、手で設定し直しています。"])
    assert K.JUDGMENT_WITHOUT_RULE not in {f.finding for f in found}


def test_every_month_is_a_routine_exception_only_next_to_an_exception() -> None:
    lines = ["締め日後の申請は、振込データに手で追加しています。", "それはもう毎月ありますね。"]
    tr = transcript_of(lines)
    units = split_units(tr)
    exc = Exception_(
        summary="締め日後の申請",
        evidence=[
            Evidence(
                quote=lines[0],
                char_start=0,
                char_end=len(lines[0]),
                alignment="exact",
                segment_ids=["s0001"],
            )
        ],
    )
    assert K.ROUTINE_EXCEPTION in {f.finding for f in diagnose(units, units, [exc], tr)}
    assert K.ROUTINE_EXCEPTION not in {f.finding for f in diagnose(units, units, [], tr)}


def test_findings_concern_the_elements_of_the_same_turn() -> None:
    tr = transcript_of(
        ["海外出張は特殊で、田中さんしか分からないので、全部田中さんに回しています。"]
    )
    units = split_units(tr)
    exc = Exception_(
        id="X0001",
        summary="海外出張は田中さんへ",
        evidence=[
            Evidence(
                quote="全部田中さんに回しています",
                char_start=26,
                char_end=39,
                alignment="exact",
                segment_ids=["s0001"],
            )
        ],
    )
    found = diagnose(units, units, [exc], tr)
    link_concerns([exc, *found], tr)
    dep = next(f for f in found if f.finding == K.PERSON_DEPENDENCY)
    assert dep.concerns == ["X0001"]


def test_follow_up_questions_come_from_the_gaps() -> None:
    j = Judgment(
        id="J0001",
        summary="与信枠の決め方",
        decision="与信枠の決め方",
        criterion=CriterionStatus.ABSENT,
    )
    j_ok = Judgment(
        id="J0002",
        summary="5万円超",
        decision="5万円超は部長承認",
        decider="部長",
        rules=[RuleRow(condition="5万円超", outcome="部長承認")],
    )
    x = Exception_(
        id="X0001", summary="検収書の遅延", trigger="検収書が届かない", handling="催促する"
    )
    t = Task(id="T0001", summary="請求書を登録", action="請求書を登録", actor="経理")
    qs = follow_ups([j, j_ok, x, t], "ja")
    gaps = {(q.element_id, q.gap) for q in qs}
    assert ("J0001", "no_criterion") in gaps and ("J0001", "no_decider") in gaps
    assert not any(q.element_id == "J0002" for q in qs)
    assert ("X0001", "no_owner") in gaps and ("T0001", "no_input") in gaps
    assert any("検収書が届かない" in q.question and "誰が" in q.question for q in qs)
    en = follow_ups([x], "en")
    assert en[0].question.startswith('When "検収書が届かない" happens, who handles it')


def test_unaligned_evidence_becomes_a_question_to_confirm() -> None:
    t = Task(
        id="T0009",
        summary="x",
        action="x",
        actor="a",
        inputs=["i"],
        evidence=[Evidence(quote="社長が毎週承認します")],
    )
    qs = follow_ups([t], "ja")
    assert [q.gap for q in qs] == ["unconfirmed"] and "社長が毎週承認します" in qs[0].question


def test_it_depends_on_who_reviews_is_a_varying_route_not_a_missing_rule() -> None:
    found = findings_for(["Intro.", "It really depends on who is approving."], "en")
    assert [f.finding for f in found] == [K.APPROVAL_ROUTE_VARIES]


def test_one_remark_over_two_sentences_is_one_finding_quoting_both() -> None:
    found = findings_for(["Intro.", "Hmm, that's a judgment call. I kind of eyeball it."], "en")
    (finding,) = [f for f in found if f.finding == K.JUDGMENT_WITHOUT_RULE]
    assert finding.evidence[0].quote == "Hmm, that's a judgment call. I kind of eyeball it."
    assert finding.evidence[0].grounded
    # the same cue after someone else spoke is another finding
    tr = transcript_of(["その都度判断です。", "優先順位は？", "ケースバイケースです。"])
    tr.segments[1].speaker = "interviewer"
    units = split_units(tr)
    found = diagnose(units, units, [], tr)
    assert len([f for f in found if f.finding == K.JUDGMENT_WITHOUT_RULE]) == 2
