"""Review actions: edit, approve, reject, retire, reopen. Each one is versioned and recorded.

Approving, editing an approved element, rejecting or retiring keeps the knowledge index in
step through the ``on_change`` hook (see index.py); the database stays the record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from .errors import ReviewError
from .models import ELEMENT_ADAPTER, AnyElement, HistoryEntry, ReviewStatus
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
