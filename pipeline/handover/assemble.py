"""Everything the hand-over package is built from, assembled once: the inventory with its
workload, readiness, findings and differences, for the items to export.

Only items with an approved member are exported unless drafts are asked for; then draft-only
items are included and marked (確認状態 = 下書き).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..differences import Difference, Holder, find_differences, knowledge_holders
from ..inventory import Decisions, Inventory, InventoryItem, consolidate
from ..models import (
    AnyElement,
    Engagement,
    Exception_,
    Finding,
    Interview,
    Judgment,
    Task,
    Transcript,
)
from ..workload import Assessment, Workload, assess, workloads

if TYPE_CHECKING:
    from ..store import Store


@dataclass
class Handover:
    engagement: Engagement
    inventory: Inventory
    elements: dict[str, AnyElement]
    interviews: dict[str, Interview]
    differences: list[Difference]
    holders: list[Holder]
    workloads: dict[str, Workload]
    assessments: dict[str, Assessment]
    findings: dict[str, list[Finding]]  # 業務ID -> findings about its members
    include_drafts: bool = False
    items: list[InventoryItem] = field(default_factory=list)  # the exported ones

    def members(self, item: InventoryItem) -> list[AnyElement]:
        return [self.elements[m] for m in item.members if m in self.elements]

    def status_label(self, item: InventoryItem) -> str:
        if item.approved:
            return "承認済み" + ("・統合確認済み" if item.confirmed else "")
        return "下書き（未承認）"

    def differences_of(self, item: InventoryItem) -> list[Difference]:
        return [d for d in self.differences if d.item_id == item.id]


def role_of(text: str) -> str:
    """A lane name from an actor / owner / decider: 「購買担当（木村）」 -> 購買担当."""
    text = re.sub(r"[（(].*?[）)]", "", text or "").strip()
    return re.split(r"[／/、,・]", text)[0].strip() if text else ""


def assemble(
    engagement: Engagement,
    interviews: dict[str, Interview],
    elements: list[AnyElement],
    decisions: Decisions | None = None,
    transcripts: dict[str, Transcript] | None = None,
    include_drafts: bool = False,
    inventory: Inventory | None = None,
) -> Handover:
    decisions = decisions or Decisions()
    inv = inventory or consolidate(
        elements, interviews, engagement, decisions=decisions, transcripts=transcripts
    )
    by_id = {e.id: e for e in elements}
    findings: dict[str, list[Finding]] = {}
    item_of = inv.item_of()
    for f in (e for e in elements if isinstance(e, Finding)):
        for c in f.concerns:
            if c in item_of:
                findings.setdefault(item_of[c], []).append(f)
    related: dict[str, list[AnyElement]] = {}
    # exceptions and judgments that belong to a task's stage count for its readiness
    for item in inv.items:
        for m in item.members:
            el = by_id.get(m)
            if isinstance(el, Exception_) and el.interrupts and el.interrupts in item_of:
                related.setdefault(item_of[el.interrupts], []).append(el)
    loads = workloads(inv, elements, transcripts, decisions.workload)
    assessments = {
        i.id: assess(
            i,
            [by_id[m] for m in i.members if m in by_id],
            related.get(i.id, []),
            [f.finding.value for f in findings.get(i.id, [])],
        )
        for i in inv.items
    }
    diffs = find_differences(inv, elements)
    items = [i for i in inv.items if include_drafts or i.approved]
    return Handover(
        engagement=engagement,
        inventory=inv,
        elements=by_id,
        interviews=interviews,
        differences=diffs,
        holders=knowledge_holders(inv),
        workloads=loads,
        assessments=assessments,
        findings=findings,
        include_drafts=include_drafts,
        items=items,
    )


def from_store(store: Store, engagement_id: str, include_drafts: bool = False) -> Handover:
    from ..errors import ShikumiError
    from ..inventory_store import get_decisions

    engagement = store.get_engagement(engagement_id)
    interviews = {i.id: i for i in store.list_engagement_interviews(engagement_id)}
    elements = [e for iid in interviews for e in store.list_elements(interview_id=iid)]
    if not elements:
        raise ShikumiError(
            f"Engagement {engagement_id} has no extracted elements yet.",
            "Process its hearings first (`shikumi process … --engagement ID`), or load the "
            "sample with `shikumi engagement sample`.",
        )
    transcripts = {iid: t for iid in interviews if (t := store.get_transcript(iid)) is not None}
    h = assemble(
        engagement,
        interviews,
        elements,
        get_decisions(store, engagement_id),
        transcripts,
        include_drafts,
    )
    if not h.items:
        raise ShikumiError(
            f"Engagement {engagement_id} has no approved items to hand over.",
            "Approve elements on the review page (or `shikumi approve --all`), or export the "
            "drafts with --include-drafts (they are marked as drafts).",
        )
    return h


def sorted_flow(h: Handover) -> list[InventoryItem]:
    """Tasks and judgments in flow order (exceptions hang off them)."""
    return sorted(
        (i for i in h.items if i.kind in ("task", "judgment")), key=lambda i: (i.order, i.id)
    )


def lane_of(h: Handover, item: InventoryItem) -> str:
    for el in h.members(item):
        if isinstance(el, Task) and role_of(el.actor):
            return role_of(el.actor)
        if isinstance(el, Exception_) and role_of(el.owner):
            return role_of(el.owner)
    return ""


def judgment_of(h: Handover, item: InventoryItem) -> Judgment | None:
    return next((e for e in h.members(item) if isinstance(e, Judgment)), None)
