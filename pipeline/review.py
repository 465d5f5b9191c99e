"""Review actions: edit, approve, reject, retire, reopen. Each one is versioned and recorded.

Approving, editing an approved element, rejecting or retiring keeps the knowledge index in
step through the ``on_change`` hook (see index.py); the database stays the record.

A transcript correction (:meth:`Reviewer.correct_segment`) rewrites one segment's text and
words together and re-anchors the evidence of every element quoting that segment; evidence
in other segments does not move.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from .align import reanchor, with_spans
from .errors import NotFoundError, ReviewError
from .models import (
    ELEMENT_ADAPTER,
    AnyElement,
    HistoryEntry,
    ReviewStatus,
    Segment,
    SegmentFlag,
)
from .segment_edit import rewrite_segment
from .store import Store

IndexHook = Callable[[AnyElement], None]

_PROTECTED = {"id", "interview_id", "kind", "status", "version", "history"}

ALLOWED: dict[str, set[ReviewStatus]] = {
    "approve": {ReviewStatus.DRAFT, ReviewStatus.REJECTED},
    "reject": {ReviewStatus.DRAFT, ReviewStatus.APPROVED},
    "retire": {ReviewStatus.APPROVED},
    "reopen": {ReviewStatus.REJECTED, ReviewStatus.RETIRED, ReviewStatus.APPROVED},
}
TARGET = {
    "approve": ReviewStatus.APPROVED,
    "reject": ReviewStatus.REJECTED,
    "retire": ReviewStatus.RETIRED,
    "reopen": ReviewStatus.DRAFT,
}


@dataclasses.dataclass
class SegmentCorrection:
    """What a transcript correction did to the evidence quoting the corrected segment."""

    segment: Segment
    kept: list[str] = dataclasses.field(default_factory=list)  # element ids: quoted words untouched
    refound: list[str] = dataclasses.field(
        default_factory=list
    )  # quoted words changed, quote found again
    lost: list[str] = dataclasses.field(
        default_factory=list
    )  # quote no longer found: needs the reviewer


class Reviewer:
    def __init__(self, store: Store, on_change: IndexHook | None = None):
        self.store = store
        self.on_change = on_change

    def _commit(self, before: AnyElement, after: AnyElement, entry: HistoryEntry) -> AnyElement:
        after.history = [*before.history, entry]
        saved = self.store.save_element(after, expected_version=before.version)
        if self.on_change:
            self.on_change(saved)
        return saved

    def edit(
        self,
        element_id: str,
        changes: dict[str, Any],
        who: str,
        expected_version: int | None = None,
        note: str = "",
    ) -> AnyElement:
        """Apply field edits; the result is validated before anything is written."""
        before = self.store.get_element(element_id)
        if expected_version is not None and expected_version != before.version:
            raise ReviewError(
                f"Element {element_id} changed since you opened it (now version {before.version}).",
                "Reload it and apply your edit again; nothing was overwritten.",
            )
        bad = set(changes) & _PROTECTED
        if bad:
            raise ReviewError(
                f"Fields {sorted(bad)} cannot be edited directly.", "Use the actions."
            )
        data = before.model_dump(mode="json")
        diff = {}
        for field, value in changes.items():
            if field not in data:
                raise ReviewError(f"{before.kind} has no field '{field}'.", "Check the field name.")
            if data[field] != value:
                diff[field] = {"from": data[field], "to": value}
                data[field] = value
        if not diff:
            return before
        data["version"] = before.version + 1
        after = ELEMENT_ADAPTER.validate_python(data)
        entry = HistoryEntry(
            who=who, action="edited", version=after.version, changes=diff, note=note
        )
        return self._commit(before, after, entry)

    def transition(
        self, element_id: str, action: str, who: str, note: str = "", effective: date | None = None
    ) -> AnyElement:
        before = self.store.get_element(element_id)
        if before.status not in ALLOWED[action]:
            raise ReviewError(
                f"Cannot {action} {element_id}: it is {before.status.value}.",
                f"Allowed from: {', '.join(s.value for s in ALLOWED[action])}.",
            )
        after = before.model_copy(deep=True)
        after.status = TARGET[action]
        after.version = before.version + 1
        if action == "approve":
            after.effective_date = effective or after.effective_date or date.today()
        entry = HistoryEntry(
            who=who,
            action={"approve": "approved", "reject": "rejected", "retire": "retired"}.get(
                action, "reopened"
            ),
            version=after.version,
            changes={"status": {"from": before.status.value, "to": after.status.value}},
            note=note,
        )
        return self._commit(before, after, entry)

    def approve(self, element_id: str, who: str, note: str = "") -> AnyElement:
        return self.transition(element_id, "approve", who, note)

    def reject(self, element_id: str, who: str, note: str = "") -> AnyElement:
        return self.transition(element_id, "reject", who, note)

    def retire(self, element_id: str, who: str, note: str = "") -> AnyElement:
        return self.transition(element_id, "retire", who, note)

    def bulk(self, element_ids: Iterable[str], action: str, who: str) -> list[AnyElement]:
        return [self.transition(eid, action, who) for eid in element_ids]

    def correct_segment(
        self,
        interview_id: str,
        segment_id: str,
        text: str,
        who: str,
        speaker: str | None = None,
    ) -> SegmentCorrection:
        """Correct one segment's text (and speaker); re-anchor the evidence quoting it.

        The segment's words are rewritten with its text, so their times stay attached.
        Elements whose quote the correction changed get a history entry; an element whose
        quote cannot be found again is marked unaligned, never left pointing at other words.
        """
        transcript = self.store.get_transcript(interview_id)
        segments = transcript.segments if transcript else []
        seg = next((s for s in segments if s.id == segment_id), None)
        if transcript is None or seg is None:
            raise NotFoundError(
                f"Segment {segment_id} not found in interview {interview_id}.",
                "Reload the transcript page.",
            )
        text = text.strip()
        if not text:
            raise ReviewError(
                f"Segment {segment_id} cannot be emptied.",
                "Correct its words instead; mark speech that is not there with e.g. (無音).",
            )
        new, diff = rewrite_segment(seg, text)
        if speaker is not None:
            new.speaker = speaker
        if new.text == seg.text and new.speaker == seg.speaker:
            return SegmentCorrection(new)
        if SegmentFlag.EDITED not in new.flags:
            new.flags = [*new.flags, SegmentFlag.EDITED]
        after = transcript.model_copy(
            update={"segments": [new if s.id == segment_id else s for s in transcript.segments]}
        )
        result = SegmentCorrection(new)
        self.store.update_segment(interview_id, new)
        for el in self.store.list_elements(interview_id):
            evidence, outcomes = [], []
            for ev in el.evidence:
                moved, outcome = reanchor(with_spans(ev, transcript), segment_id, diff, after)
                evidence.append(moved)
                outcomes.append(outcome)
            for outcome in ("kept", "refound", "lost"):
                if outcome in outcomes:
                    getattr(result, outcome).append(el.id)
            if evidence == el.evidence:
                continue
            updated = el.model_copy(update={"evidence": evidence})
            touched = [n for n, o in enumerate(outcomes) if o in ("refound", "lost")]
            if touched:  # the quoted words changed: recorded, without a new version
                change = {
                    "from": ", ".join(el.evidence[n].alignment.value for n in touched),
                    "to": ", ".join(evidence[n].alignment.value for n in touched),
                }
                updated.history = [
                    *el.history,
                    HistoryEntry(
                        who=who,
                        action="reanchored",
                        version=el.version,
                        changes={"evidence": change},
                        note=f"transcript correction of {segment_id}",
                    ),
                ]
            saved = self.store.save_element(updated, expected_version=el.version)
            timing = [(e.audio_start, e.audio_end, e.alignment) for e in el.evidence]
            moved_time = timing != [(e.audio_start, e.audio_end, e.alignment) for e in evidence]
            if self.on_change and moved_time:  # the index keeps the replay time
                self.on_change(saved)
        return result
