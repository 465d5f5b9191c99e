"""Workload and outsourcing readiness per inventory item.

Workload: frequency × volume × minutes per item -> monthly hours. The figures come from what
was said (the element's frequency / volume fields, its quote and the next few sentences of
the same speaker: 「月に40件くらい」「1件15分」), and the reviewer can overwrite each of them
(``Decisions.workload``). Missing figures stay empty: the 月間工数 cell is then empty, not 0.

Readiness: a plain assessment with its reasons, from the facts the hearings gave: is the
judgment's criterion written, oral-only or absent; are there routine exceptions; does the work
rest on one person; is there a manual; which systems are used.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from .inventory import Inventory, InventoryItem
from .models import AnyElement, CriterionStatus, Exception_, Judgment, Task, Transcript

Readiness = Literal["可", "条件付き可", "不可"]
CriterionSource = Literal["規程", "マニュアル", "口頭のみ", "なし", ""]

# occurrences per month of a frequency word
_PER_MONTH: list[tuple[re.Pattern[str], float]] = [
    (re.compile(r"毎日|日次|毎朝|毎晩|daily|every (?:day|morning)", re.I), 20.0),
    (re.compile(r"毎週|週次|weekly|every week", re.I), 4.3),
    (re.compile(r"週に?([0-9]+)回"), 4.3),
    (re.compile(r"毎月|月次|月末|月初|monthly|every month|each month", re.I), 1.0),
    (re.compile(r"四半期|quarterly", re.I), 1 / 3),
    (re.compile(r"毎年|年次|yearly|annual", re.I), 1 / 12),
    (re.compile(r"年に?(?:数|[0-9]+)回"), 0.25),
]
_COUNT_MONTH = re.compile(
    r"(?:月に?|月間|毎月)\s*(?:約|およそ)?\s*([0-9]+)\s*件|([0-9]+)\s*件\s*/\s*月"
)
_COUNT_DAY = re.compile(r"(?:1日に?|一日に?|日に)\s*(?:約|およそ)?\s*([0-9]+)\s*件")
_COUNT = re.compile(r"(?<![0-9])([0-9]+)\s*件(?!\s*(?:あたり|につき|作る|で))")
_MINUTES = re.compile(
    r"1件(?:あたり|作るのに|につき)?[^0-9。]{0,8}([0-9]+)\s*分|([0-9]+)\s*分\s*/\s*件"
)
_HOURS = re.compile(r"1件(?:あたり|につき)?[^0-9。]{0,8}([0-9]+(?:\.[0-9]+)?)\s*時間")
_MANUAL = re.compile(r"マニュアル|手順書|manual|playbook", re.I)
_RULEBOOK = re.compile(r"規程|規定|規則|policy", re.I)
_NO_MANUAL = re.compile(
    r"(?:マニュアル|手順書|資料)(?:は|が)?(?:ない|ありません|無い)|引き継ぎ(?:の)?資料はない"
)


class Workload(BaseModel):
    per_month: float | None = None  # occurrences (runs) per month
    items_per_run: float | None = None  # 件 per run (per_month × items_per_run = 件/月)
    minutes_per_item: float | None = None
    source: str = ""  # what the figures were read from

    @property
    def items_per_month(self) -> float | None:
        if self.per_month is None and self.items_per_run is None:
            return None
        return (self.per_month or 1.0) * (self.items_per_run or 1.0)

    @property
    def monthly_hours(self) -> float | None:
        if self.items_per_month is None or self.minutes_per_item is None:
            return None
        return round(self.items_per_month * self.minutes_per_item / 60, 2)


class Assessment(BaseModel):
    readiness: Readiness
    reasons: list[str] = Field(default_factory=list)
    criterion: CriterionSource = ""
    routine_exceptions: int = 0
    person_dependent: bool = False
    manual: bool = False
    systems: list[str] = Field(default_factory=list)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def context_after(el: AnyElement, transcript: Transcript | None, turns: int = 2) -> str:
    """The quote's segment and the next few segments (interviewer questions skipped)."""
    if transcript is None or not el.evidence or not el.evidence[0].segment_ids:
        return ""
    ids = el.evidence[0].segment_ids
    segs = transcript.segments
    idx = next((i for i, s in enumerate(segs) if s.id == ids[-1]), None)
    if idx is None:
        return ""
    speaker = segs[idx].speaker
    out = [segs[idx].text]
    for s in segs[idx + 1 : idx + 1 + 2 * turns]:
        if s.speaker == speaker:
            out.append(s.text)
    return " ".join(out)


def estimate(el: AnyElement, context: str = "") -> Workload:
    fields = ""
    if isinstance(el, Task):
        fields = f"{el.frequency} {el.volume}"
    elif isinstance(el, Exception_):
        fields = el.frequency
    text = _norm(" ".join([fields, el.summary, *(e.quote for e in el.evidence), context]))
    w = Workload(source=text[:200])
    m = _COUNT_MONTH.search(text)
    if m:
        w.per_month = 1.0
        w.items_per_run = float(m.group(1) or m.group(2))
    else:
        d = _COUNT_DAY.search(text)
        if d:
            w.per_month, w.items_per_run = 20.0, float(d.group(1))
        else:
            for pattern, per in _PER_MONTH:
                if pattern.search(text):
                    w.per_month = per
                    break
            n = _COUNT.search(text)
            if n and w.per_month is not None:
                w.items_per_run = float(n.group(1))
    mm = _MINUTES.search(text)
    if mm:
        w.minutes_per_item = float(mm.group(1) or mm.group(2))
    else:
        hh = _HOURS.search(text)
        if hh:
            w.minutes_per_item = float(hh.group(1)) * 60
    return w


def item_workload(
    item: InventoryItem,
    by_id: dict[str, AnyElement],
    transcripts: dict[str, Transcript] | None = None,
    override: dict[str, float] | None = None,
) -> Workload:
    """The first member that states figures wins; reviewer overrides win over everything."""
    transcripts = transcripts or {}
    best = Workload()
    for eid in item.members:
        el = by_id.get(eid)
        if el is None:
            continue
        w = estimate(el, context_after(el, transcripts.get(el.interview_id)))
        best.per_month = best.per_month if best.per_month is not None else w.per_month
        if best.items_per_run is None:
            best.items_per_run = w.items_per_run
        if best.minutes_per_item is None:
            best.minutes_per_item = w.minutes_per_item
        best.source = best.source or w.source
    for key, value in (override or {}).items():
        if key in ("per_month", "items_per_run", "minutes_per_item"):
            setattr(best, key, float(value))
    return best


def assess(
    item: InventoryItem,
    members: Iterable[AnyElement],
    related: Iterable[AnyElement] = (),
    finding_kinds: Iterable[str] = (),
) -> Assessment:
    """Outsourcing readiness of one item with its reasons (Japanese, for the hand-over)."""
    els = list(members)
    rel = list(related)
    kinds = set(finding_kinds)
    text = _norm(" ".join(e.summary + " " + " ".join(v.quote for v in e.evidence) for e in els))
    reasons: list[str] = []
    criterion: CriterionSource = ""
    judgments = [e for e in [*els, *rel] if isinstance(e, Judgment)]
    if judgments:
        if any(j.criterion == CriterionStatus.ABSENT for j in judgments):
            criterion = "なし"
        elif "oral_only_criterion" in kinds or any(
            j.criterion == CriterionStatus.UNSTATED for j in judgments
        ):
            criterion = "口頭のみ"
        elif _RULEBOOK.search(text):
            criterion = "規程"
        elif _MANUAL.search(text):
            criterion = "マニュアル"
        else:
            criterion = "口頭のみ"
    routine = sum(1 for e in [*els, *rel] if isinstance(e, Exception_) and e.is_routine)
    person = item.single_source or "person_dependency" in kinds
    manual = bool(_MANUAL.search(text)) and not _NO_MANUAL.search(text)
    systems = sorted({s for e in els if isinstance(e, Task) for s in e.systems})
    score = 0
    if criterion == "なし":
        reasons.append("判断基準がない（その都度判断）: 先に基準を決める必要がある")
        score += 2
    elif criterion == "口頭のみ":
        reasons.append("判断基準が口頭のみ: 判断基準表に書き起こして承認を得る")
        score += 1
    elif criterion:
        reasons.append(f"判断基準は{criterion}にある")
    if routine:
        reasons.append(f"日常化した例外が{routine}件: 例外一覧に手順を定める")
        score += 1
    if "person_dependency" in kinds:
        reasons.append("属人化の指摘あり: 担当者以外が説明できるようにする")
        score += 1
    elif item.single_source:
        reasons.append("一人からしか聞けていない: 別の担当者に確認する")
    if manual:
        reasons.append("手順書・マニュアルがある")
    else:
        reasons.append("手順書がない: 手順書を作成して渡す")
    if systems:
        reasons.append("使用システム: " + "、".join(systems) + "（アカウント・権限の手配が必要）")
    if item.kind == "judgment" and criterion in ("なし", "口頭のみ"):
        score += 1
    readiness: Readiness = "可" if score == 0 else ("条件付き可" if score <= 2 else "不可")
    return Assessment(
        readiness=readiness,
        reasons=reasons,
        criterion=criterion,
        routine_exceptions=routine,
        person_dependent=person,
        manual=manual,
        systems=systems,
    )


def workloads(
    inventory: Inventory,
    elements: Iterable[AnyElement],
    transcripts: dict[str, Transcript] | None = None,
    overrides: dict[str, dict[str, float]] | None = None,
) -> dict[str, Workload]:
    by_id = {e.id: e for e in elements}
    overrides = overrides or {}
    return {
        i.id: item_workload(i, by_id, transcripts, overrides.get(i.id)) for i in inventory.items
    }
