"""Differences across hearings: where people describe the same step differently.

For every inventory item told by two or more people, each member's text (fields + quote) is
read for the facts a hand-over depends on: **approver** (課長, 部長, CFO …), **threshold**
(amounts: 10万円, $5,000), **deadline** (25日まで, 翌月3営業日, 月末) and, for exceptions,
**who handles it**. When two people state a different value for the same fact, that is a
difference: ``approval_route_varies`` for approver or threshold of an approval, ``contradiction``
otherwise. Each comes with both quotes (replayable: hearing, person, audio time) and a
follow-up question for the next hearing. Pure functions; no model call.

The knowledge-holder view lists who described which item, and the items that rest on one
person (属人化 risk: nobody else confirmed them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from .inventory import Inventory, InventoryItem, Provenance
from .models import AnyElement, Exception_, Judgment, Task, rows_text

DifferenceKind = Literal["approval_route_varies", "contradiction"]
Aspect = Literal["approver", "threshold", "deadline", "handler"]
ASPECT_JA: dict[str, str] = {
    "approver": "承認者",
    "threshold": "金額基準",
    "deadline": "締切",
    "handler": "対応者",
}

_ROLES = (
    "代表取締役",
    "社長",
    "副社長",
    "専務",
    "常務",
    "取締役",
    "本部長",
    "事業部長",
    "部長",
    "次長",
    "所属長",
    "課長",
    "係長",
    "主任",
    "マネージャー",
    "リーダー",
    "CFO",
    "CEO",
    "controller",
    "manager",
    "director",
)
_APPROVAL = re.compile(r"承認|決裁|稟議|approv|sign[- ]?off", re.I)
_AMOUNT = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(億|万|千)?\s*円|\$\s*([0-9][0-9,]*)")
_DEADLINE = re.compile(
    r"((?:毎月|翌月|当月|翌週|毎週)?\s*(?:[0-9]+\s*営業日|[0-9]+\s*日|月末|月初|末日|週明け))"
    r"\s*(?:まで|締め|〆|までに|中に)|"
    r"((?:毎月|翌月|当月)\s*[0-9]+\s*日)|"
    r"\b(?:by|before)\s+(?:the\s+)?([0-9]+(?:st|nd|rd|th)|month[- ]end|end of (?:the )?month)",
    re.I,
)


class Side(BaseModel):
    source: Provenance
    value: str  # what this person said, e.g. "10万円以上 → 部長"


class Difference(BaseModel):
    id: str  # stable: D-<業務ID>-<aspect>
    item_id: str
    item_name: str
    kind: DifferenceKind
    aspect: Aspect
    sides: list[Side]
    summary: str
    question: str  # the follow-up for the next hearing


def _text(el: AnyElement) -> str:
    parts = [el.summary, *(e.quote for e in el.evidence)]
    if isinstance(el, Judgment):
        parts += [el.decision, el.decider, *(f"{r.condition} {r.outcome}" for r in el.rules)]
    elif isinstance(el, Task):
        parts += [el.action, el.frequency]
    elif isinstance(el, Exception_):
        parts += [el.trigger, el.handling]
    return unicodedata.normalize("NFKC", " ".join(p for p in parts if p))


def _yen(m: re.Match[str]) -> int:
    if m.group(3):
        return int(m.group(3).replace(",", ""))
    unit = {"億": 100_000_000, "万": 10_000, "千": 1_000}.get(m.group(2) or "", 1)
    return int(float(m.group(1)) * unit)


def facts(el: AnyElement) -> dict[str, str]:
    """The comparable facts one element states: aspect -> a normalised value."""
    text = _text(el)
    out: dict[str, str] = {}
    amounts = sorted({_yen(m) for m in _AMOUNT.finditer(text)})
    approval = bool(_APPROVAL.search(text)) or (isinstance(el, Judgment) and bool(el.decider))
    if amounts and (approval or isinstance(el, Judgment)):
        out["threshold"] = ", ".join(f"{a:,}" for a in amounts)
    if approval:
        roles = sorted({r for r in _ROLES if r.lower() in text.lower()}, key=_ROLES.index)
        # 部長 inside 本部長 is not 部長
        if "本部長" in roles and text.count("部長") == text.count("本部長"):
            roles.remove("部長")
        if roles:
            out["approver"] = "・".join(roles)
    deadlines: list[str] = []
    for m in _DEADLINE.finditer(text):
        value = next(g for g in m.groups() if g)
        value = re.sub(r"\s+", "", value)
        if not any(value in d for d in deadlines):
            deadlines = [d for d in deadlines if d not in value] + [value]
    if deadlines:
        out["deadline"] = "・".join(deadlines)
    if isinstance(el, Exception_) and el.owner:
        out["handler"] = re.sub(r"[（(].*?[）)]", "", el.owner).strip()
    return out


def _stated(el: AnyElement, aspect: str, value: str) -> str:
    if aspect == "threshold" and isinstance(el, Judgment) and el.rules:
        return rows_text(el.rules)
    return value


def find_differences(inventory: Inventory, elements: Iterable[AnyElement]) -> list[Difference]:
    by_id = {e.id: e for e in elements}
    out: list[Difference] = []
    for item in inventory.items:
        if len(item.people) < 2:
            continue
        out += _item_differences(item, by_id)
    return out


def _item_differences(item: InventoryItem, by_id: dict[str, AnyElement]) -> list[Difference]:
    per_person: dict[str, tuple[AnyElement, Provenance, dict[str, str]]] = {}
    for src in item.sources:
        el = by_id.get(src.element_id)
        if el is None or src.person in per_person:
            continue
        per_person[src.person] = (el, src, facts(el))
    out: list[Difference] = []
    # who handles an exception is not compared: two people often describe two parts of one
    # irregular case (購買 orders by phone, 経理 files the late request), not a contradiction
    for aspect in ("approver", "threshold", "deadline"):
        stated = [(p, el, src, f[aspect]) for p, (el, src, f) in per_person.items() if aspect in f]
        if len(stated) < 2 or len({v for *_, v in stated}) < 2:
            continue
        if aspect == "handler" and not _disjoint([v for *_, v in stated]):
            continue
        approval = aspect in ("approver", "threshold") and any(
            _APPROVAL.search(_text(el)) for _, el, _, _ in stated
        )
        kind: DifferenceKind = "approval_route_varies" if approval else "contradiction"
        sides = [Side(source=src, value=_stated(el, aspect, v)) for _, el, src, v in stated]
        said = "、".join(f"{s.source.person}さんは「{s.value}」" for s in sides)
        label = ASPECT_JA[aspect]
        out.append(
            Difference(
                id=f"D-{item.id}-{aspect}",
                item_id=item.id,
                item_name=item.name,
                kind=kind,
                aspect=aspect,
                sides=sides,
                summary=f"{item.name}の{label}が人によって異なる：{said}",
                question=(
                    f"「{item.name}」の{label}について、{said}と説明しています。"
                    f"現在の正しい{label}はどれですか。規程・マニュアルに書かれていれば、その箇所を"
                    "見せてください。書かれていなければ、誰が決めますか。"
                ),
            )
        )
    return out


def _disjoint(values: list[str]) -> bool:
    """Handlers differ only when no name contains another (購買 vs 購買担当 is the same)."""
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            if a in b or b in a:
                return False
    return True


# --------------------------------------------------------------------------- knowledge holders


class Holder(BaseModel):
    person: str
    items: list[str] = Field(default_factory=list)  # 業務IDs this person described
    sole: list[str] = Field(default_factory=list)  # ... that nobody else described


def knowledge_holders(inventory: Inventory) -> list[Holder]:
    holders: dict[str, Holder] = {}
    for item in inventory.items:
        people = item.people
        for p in people:
            h = holders.setdefault(p, Holder(person=p))
            h.items.append(item.id)
            if len(people) == 1:
                h.sole.append(item.id)
    return sorted(holders.values(), key=lambda h: (-len(h.sole), h.person))
