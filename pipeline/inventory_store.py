"""The reviewer's inventory decisions (merge, split, move, rename, confirm, workload edits),
one JSON row per engagement, in the same database as everything else (``store.Base``).

Kept apart from ``store.py`` so the store can change without touching the inventory; the table
is created on first use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from .inventory import Decisions
from .models import utcnow
from .store import Base, Store


class InventoryDecisionsRow(Base):
    __tablename__ = "inventory_decisions"
    engagement_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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
