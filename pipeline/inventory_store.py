"""The reviewer's inventory decisions (merge, split, move, rename, confirm, workload edits),
one JSON row per engagement, in the same database as everything else (``store.Base``).

The table is created by migration 0004 (and on first use, for a database opened without
migrations).
"""

from __future__ import annotations

from .inventory import Decisions
from .models import utcnow
from .store import Store
from .store.schema import InventoryDecisionsRow


def _ensure(store: Store) -> None:
    InventoryDecisionsRow.__table__.create(store.engine, checkfirst=True)  # type: ignore[attr-defined]


def get_decisions(store: Store, engagement_id: str) -> Decisions:
    _ensure(store)
    with store.tx() as s:
        row = s.get(InventoryDecisionsRow, engagement_id)
        return Decisions.model_validate(row.data) if row else Decisions()


def save_decisions(store: Store, engagement_id: str, decisions: Decisions) -> Decisions:
    _ensure(store)
    with store.tx() as s:
        row = s.get(InventoryDecisionsRow, engagement_id)
        data = decisions.model_dump(mode="json")
        if row is None:
            s.add(
                InventoryDecisionsRow(engagement_id=engagement_id, data=data, updated_at=utcnow())
            )
        else:
            row.data, row.updated_at = data, utcnow()
    return decisions
