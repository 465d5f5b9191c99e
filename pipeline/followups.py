"""Follow-up questions for the next hearing, generated from the gaps in what was extracted.

Deterministic templates (Japanese or English, in the interview's language): a judgment with no
stated criterion or no decider, an exception with no owner or no handling, a task with no input
or no actor, a person dependency (who takes over?), and evidence that could not be grounded or
lies in low-confidence transcript segments (please confirm).
"""

from __future__ import annotations

from pydantic import BaseModel

from .models import (
    AnyElement,
    CriterionStatus,
    Exception_,
    Finding,
    FindingKind,
    Judgment,
    Task,
)


class FollowUp(BaseModel):
    question: str
    gap: str  # no_criterion, no_decider, no_owner, no_handling, no_input, no_actor, ...
    element_id: str
    quote: str = ""


_T = {
    "no_criterion": (
        "「{x}」は、どのような条件で判断していますか？基準が文書になっていれば教えてください。",
        'For "{x}": which conditions lead to which outcome? Is the rule written down?',
    ),
    "no_decider": ("「{x}」は、誰が判断（承認）しますか？", 'Who makes the decision "{x}"?'),
    "no_owner": (
        "「{x}」のとき、誰が対応しますか？不在のときは誰が代わりますか？",
        'When "{x}" happens, who handles it, and who covers when they are away?',
    ),
    "no_handling": (
        "「{x}」のとき、具体的にどう対応していますか？",
        'When "{x}" happens, what exactly do you do?',
    ),
    "no_input": (
        "「{x}」は、何（書類・データ・システム）を受け取って始めますか？",
        'What does "{x}" start from (which document, data or system)?',
    ),
    "no_actor": ("「{x}」は、誰が行いますか？", 'Who does "{x}"?'),
    "person_dependency": (
        "「{x}」について、担当の方が不在のときは誰が対応できますか？手順書はありますか？",
        'About "{x}": who can do it when that person is away? Is it documented?',
    ),
    "unconfirmed": (
        "「{x}」という発言が文字起こしで確認できませんでした。内容を確認させてください。",
        'We could not confirm "{x}" in the transcript; could you confirm it?',
    ),
}


def _short(text: str, n: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def follow_ups(elements: list[AnyElement], language: str = "ja") -> list[FollowUp]:
    ja = language != "en"
    out: list[FollowUp] = []
    seen: set[tuple[str, str]] = set()

    def add(gap: str, el: AnyElement, subject: str) -> None:
        if (gap, el.id) in seen:
            return
        seen.add((gap, el.id))
        quote = el.evidence[0].quote if el.evidence else ""
        template = _T[gap][0 if ja else 1]
        out.append(
            FollowUp(
                question=template.format(x=_short(subject)), gap=gap, element_id=el.id, quote=quote
            )
        )

    for el in elements:
        if el.evidence and not el.grounded:
            add("unconfirmed", el, el.evidence[0].quote or el.summary)
        elif el.low_confidence:
            add("unconfirmed", el, el.evidence[0].quote)
        if isinstance(el, Judgment):
            if el.criterion != CriterionStatus.STATED or not el.rules:
                add("no_criterion", el, el.decision or el.summary)
            if not el.decider:
                add("no_decider", el, el.decision or el.summary)
        elif isinstance(el, Exception_):
            if not el.owner:
                add("no_owner", el, el.trigger or el.summary)
            if not el.handling:
                add("no_handling", el, el.trigger or el.summary)
        elif isinstance(el, Task):
            if not el.inputs:
                add("no_input", el, el.action or el.summary)
            if not el.actor:
                add("no_actor", el, el.action or el.summary)
        elif isinstance(el, Finding) and el.finding == FindingKind.PERSON_DEPENDENCY:
            add("person_dependency", el, el.evidence[0].quote if el.evidence else el.summary)
    return out
