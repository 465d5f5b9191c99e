"""Elements (tasks, judgments, exceptions, findings), their review writes and extraction chunks.

A reviewer's save names the version it edited; a newer version in the database refuses it
(compare-and-set in one UPDATE, so two reviewers racing on PostgreSQL or SQLite cannot both win).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, false, func, select, text, update
from sqlalchemy.orm import Session

from ..errors import NotFoundError, ReviewError
from ..models import (
    ELEMENT_ADAPTER,
    ID_PREFIX,
    AnyElement,
    ChunkRecord,
    ChunkStatus,
    ReviewStatus,
    utcnow,
)
from .base import StoreBase
from .schema import ChunkRow, ElementRow, _dump

_ELEMENT_ID_LOCK = 0x53484945  # PostgreSQL advisory lock id: element id allocation


class ElementStore(StoreBase):
    # ------------------------------------------------------------------ elements

    def _next_element_id(self, s: Session, kind: str) -> str:
        prefix = ID_PREFIX[kind]
        count = s.scalar(
            select(func.count()).select_from(ElementRow).where(ElementRow.kind == kind)
        )
        n = (count or 0) + 1
        while s.get(ElementRow, f"{prefix}{n:04d}") is not None:
            n += 1
        return f"{prefix}{n:04d}"

    def _lock_element_ids(self, s: Session) -> None:
        """One writer at a time allocates ids: workers extracting at once would pick the same."""
        if self.dialect == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ELEMENT_ID_LOCK})
        else:  # a no-op write as the first statement takes SQLite's write lock before reading
            s.execute(
                update(ElementRow)
                .where(false())
                .values(kind=ElementRow.kind)
                .execution_options(synchronize_session=False)
            )

    def add_elements(self, elements: Sequence[AnyElement]) -> list[AnyElement]:
        """Insert new elements, giving them short stable ids (T0001, J0001, X0001, F0001)."""
        saved: list[AnyElement] = []
        with self.tx() as s:
            self._lock_element_ids(s)
            for el in elements:
                el = el.model_copy(deep=True)
                if not el.id or s.get(ElementRow, el.id) is not None:
                    el.id = self._next_element_id(s, el.kind)
                s.add(self._element_row(el))
                s.flush()
                saved.append(el)
        return saved

    def replace_elements(self, interview_id: str, elements: Sequence[AnyElement]) -> None:
        """Replace all *draft* elements of an interview; reviewed ones are never touched."""
        with self.tx() as s:
            s.execute(
                delete(ElementRow).where(
                    ElementRow.interview_id == interview_id,
                    ElementRow.status == ReviewStatus.DRAFT.value,
                )
            )
            for el in elements:
                s.merge(self._element_row(el))

    @staticmethod
    def _element_row(el: AnyElement) -> ElementRow:
        return ElementRow(
            id=el.id,
            interview_id=el.interview_id,
            kind=el.kind,
            status=el.status.value,
            version=el.version,
            data=_dump(el),
            updated_at=utcnow(),
        )

    def save_element(self, el: AnyElement, expected_version: int | None = None) -> AnyElement:
        """Write one element. With ``expected_version``, refuse to overwrite a newer edit."""
        fresh = self._element_row(el)
        values = {
            "status": fresh.status,
            "version": fresh.version,
            "data": fresh.data,
            "kind": fresh.kind,
            "updated_at": fresh.updated_at,
        }
        with self.tx() as s:
            q = update(ElementRow).where(ElementRow.id == el.id)
            if expected_version is not None:
                q = q.where(ElementRow.version == expected_version)
            if s.execute(q.values(**values)).rowcount == 1:  # type: ignore[attr-defined]
                return el
            row = s.get(ElementRow, el.id)
            if row is None:
                raise NotFoundError(f"Element {el.id} not found.", "Reload the review page.")
            raise ReviewError(
                f"Element {el.id} was changed by someone else (now version {row.version}).",
                "Reload it; your edit was not applied and is shown so you can redo it.",
            )

    def get_element(self, element_id: str) -> AnyElement:
        with self.tx() as s:
            row = s.get(ElementRow, element_id)
            if row is None:
                raise NotFoundError(
                    f"Element {element_id} not found.",
                    "List elements with `shikumi elements` and use one of their ids.",
                )
            return ELEMENT_ADAPTER.validate_python(row.data)

    def list_elements(
        self,
        interview_id: str | None = None,
        kind: str | None = None,
        status: ReviewStatus | str | None = None,
    ) -> list[AnyElement]:
        q = select(ElementRow)
        if interview_id:
            q = q.where(ElementRow.interview_id == interview_id)
        if kind:
            q = q.where(ElementRow.kind == kind)
        if status:
            q = q.where(ElementRow.status == str(status))
        with self.tx() as s:
            rows = s.scalars(q.order_by(ElementRow.interview_id, ElementRow.id)).all()
            return [ELEMENT_ADAPTER.validate_python(r.data) for r in rows]

    def count_elements(self, status: ReviewStatus | None = None) -> int:
        q = select(func.count()).select_from(ElementRow)
        if status:
            q = q.where(ElementRow.status == status.value)
        with self.tx() as s:
            return int(s.scalar(q) or 0)

    # ------------------------------------------------------------------ extraction chunks

    def save_chunk(self, chunk: ChunkRecord) -> None:
        with self.tx() as s:
            s.merge(ChunkRow(interview_id=chunk.interview_id, idx=chunk.index, data=_dump(chunk)))

    def list_chunks(
        self, interview_id: str, status: ChunkStatus | None = None
    ) -> list[ChunkRecord]:
        with self.tx() as s:
            rows = s.scalars(
                select(ChunkRow).where(ChunkRow.interview_id == interview_id).order_by(ChunkRow.idx)
            ).all()
            chunks = [ChunkRecord.model_validate(r.data) for r in rows]
        return [c for c in chunks if status is None or c.status == status]

    def clear_chunks(self, interview_id: str) -> None:
        with self.tx() as s:
            s.execute(delete(ChunkRow).where(ChunkRow.interview_id == interview_id))
