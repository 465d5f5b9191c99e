"""What the assistant remembers: questions no rule answered, and the LLM answer cache."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..errors import NotFoundError
from ..models import OpenQuestion, utcnow
from .base import StoreBase
from .schema import CacheRow, OpenQuestionRow, _dump, _question_key


class AssistantStore(StoreBase):
    # ------------------------------------------------------------------ open questions

    def record_open_question(self, question: str) -> OpenQuestion:
        key = _question_key(question)
        with self.tx() as s:
            row = s.scalars(select(OpenQuestionRow).where(OpenQuestionRow.key == key)).first()
            if row is None:
                oq = OpenQuestion(question=question)
                row = OpenQuestionRow(key=key, data=_dump(oq))
                s.add(row)
                s.flush()
            else:
                oq = OpenQuestion.model_validate(row.data)
                oq.count += 1
                oq.last_asked = utcnow()
                row.data = _dump(oq)
            oq.id = row.id
            return oq

    def list_open_questions(self, include_resolved: bool = False) -> list[OpenQuestion]:
        with self.tx() as s:
            rows = s.scalars(select(OpenQuestionRow)).all()
            out = []
            for r in rows:
                oq = OpenQuestion.model_validate(r.data)
                oq.id = r.id
                if include_resolved or not oq.resolved:
                    out.append(oq)
        return sorted(out, key=lambda q: (-q.count, q.last_asked), reverse=False)

    def resolve_open_question(self, question_id: int) -> None:
        with self.tx() as s:
            row = s.get(OpenQuestionRow, question_id)
            if row is None:
                raise NotFoundError(f"Open question {question_id} not found.", "Reload.")
            oq = OpenQuestion.model_validate(row.data)
            oq.resolved = True
            row.data = _dump(oq)

    # ------------------------------------------------------------------ LLM cache

    def cache_get(self, key: str) -> str | None:
        with self.tx() as s:
            row = s.get(CacheRow, key)
            return row.value if row else None

    def cache_put(self, key: str, value: str) -> None:
        """Insert or replace in one statement: workers caching the same answer at once."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        row = {"key": key, "value": value, "created_at": utcnow()}
        with self.tx() as s:
            s.execute(
                insert(CacheRow)
                .values(**row)
                .on_conflict_do_update(index_elements=["key"], set_={"value": value})
            )
