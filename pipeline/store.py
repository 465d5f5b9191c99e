"""The database of record (SQLAlchemy; SQLite by default, PostgreSQL by connection string).

Interviews, transcripts, elements, their review history, extraction chunks, jobs and open
questions live here. Every public write runs in one transaction: a crash mid-way leaves the
previous state intact. The vector index is derived from this database and can be rebuilt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from .errors import NotFoundError
from .models import (
    DEFAULT_ENGAGEMENT,
    ELEMENT_ADAPTER,
    ID_PREFIX,
    AnyElement,
    ChunkRecord,
    ChunkStatus,
    Engagement,
    Interview,
    InterviewStatus,
    Job,
    JobStatus,
    Language,
    OpenQuestion,
    ReviewStatus,
    Segment,
    Transcript,
    utcnow,
)


class Base(DeclarativeBase):
    pass


class EngagementRow(Base):
    __tablename__ = "engagements"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InterviewRow(Base):
    __tablename__ = "interviews"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TranscriptRow(Base):
    __tablename__ = "transcripts"
    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8))
    model: Mapped[str] = mapped_column(String(200))
    duration: Mapped[float] = mapped_column(Float)


class SegmentRow(Base):
    __tablename__ = "segments"
    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class ElementRow(Base):
    __tablename__ = "elements"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChunkRow(Base):
    __tablename__ = "chunks"
    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class JobRow(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    interview_id: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OpenQuestionRow(Base):
    __tablename__ = "open_questions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class CacheRow(Base):
    __tablename__ = "llm_cache"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _dump(model: Any) -> dict[str, Any]:
    return json.loads(model.model_dump_json())


def _question_key(question: str) -> str:
    return re.sub(r"[\s、。,.?？!！「」]+", "", question.lower())[:500]


class Store:
    """All reads and writes of the database of record."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._session.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ engagements

    def save_engagement(self, engagement: Engagement) -> Engagement:
        """Insert or replace an engagement."""
        with self.tx() as s:
            row = s.get(EngagementRow, engagement.id)
            if row is None:
                s.add(
                    EngagementRow(
                        id=engagement.id,
                        data=_dump(engagement),
                        created_at=engagement.created_at,
                    )
                )
            else:
                row.data = _dump(engagement)
        return engagement

    def get_engagement(self, engagement_id: str) -> Engagement:
        with self.tx() as s:
            row = s.get(EngagementRow, engagement_id)
            if row is not None:
                return Engagement.model_validate(row.data)
        if engagement_id == DEFAULT_ENGAGEMENT:
            return Engagement(id=DEFAULT_ENGAGEMENT, name="既定 / Default")
        raise NotFoundError(
            f"Engagement {engagement_id} not found.",
            "List engagements with `shikumi engagements` and use one of their ids.",
        )

    def list_engagements(self) -> list[Engagement]:
        with self.tx() as s:
            rows = s.scalars(select(EngagementRow).order_by(EngagementRow.created_at)).all()
            found = [Engagement.model_validate(r.data) for r in rows]
        if not any(e.id == DEFAULT_ENGAGEMENT for e in found):
            found.insert(0, Engagement(id=DEFAULT_ENGAGEMENT, name="既定 / Default"))
        return found

    def list_engagement_interviews(self, engagement_id: str) -> list[Interview]:
        return [i for i in self.list_interviews() if i.engagement_id == engagement_id]

    # ------------------------------------------------------------------ interviews

    def add_interview(self, interview: Interview) -> Interview:
        with self.tx() as s:
            s.add(
                InterviewRow(
                    id=interview.id,
                    data=_dump(interview),
                    status=interview.status.value,
                    created_at=interview.created_at,
                )
            )
        return interview

    def save_interview(self, interview: Interview) -> Interview:
        with self.tx() as s:
            row = s.get(InterviewRow, interview.id)
            if row is None:
                raise NotFoundError(f"Interview {interview.id} not found.", "Check the id.")
            row.data = _dump(interview)
            row.status = interview.status.value
        return interview

    def set_interview_status(
        self, interview_id: str, status: InterviewStatus, error: str | None = None
    ) -> Interview:
        interview = self.get_interview(interview_id)
        interview.status = status
        interview.error = error
        return self.save_interview(interview)

    def get_interview(self, interview_id: str) -> Interview:
        with self.tx() as s:
            row = s.get(InterviewRow, interview_id)
            if row is None:
                raise NotFoundError(
                    f"Interview {interview_id} not found.",
                    "List interviews with `shikumi interviews` and use one of their ids.",
                )
            return Interview.model_validate(row.data)

    def list_interviews(self) -> list[Interview]:
        with self.tx() as s:
            rows = s.scalars(select(InterviewRow).order_by(InterviewRow.created_at)).all()
            return [Interview.model_validate(r.data) for r in rows]

    def delete_interview(self, interview_id: str) -> None:
        with self.tx() as s:
            for table in (ElementRow, SegmentRow, ChunkRow, TranscriptRow):
                s.execute(delete(table).where(table.interview_id == interview_id))
            s.execute(delete(InterviewRow).where(InterviewRow.id == interview_id))

    # ------------------------------------------------------------------ transcripts

    def save_transcript(self, transcript: Transcript) -> None:
        """Replace the transcript of an interview (segments included) atomically."""
        with self.tx() as s:
            iid = transcript.interview_id
            s.execute(delete(SegmentRow).where(SegmentRow.interview_id == iid))
            s.execute(delete(TranscriptRow).where(TranscriptRow.interview_id == iid))
            s.add(
                TranscriptRow(
                    interview_id=iid,
                    language=transcript.language.value,
                    model=transcript.model,
                    duration=transcript.duration,
                )
            )
            for i, seg in enumerate(transcript.segments):
                s.add(SegmentRow(interview_id=iid, idx=i, data=_dump(seg)))

    def get_transcript(self, interview_id: str) -> Transcript | None:
        with self.tx() as s:
            row = s.get(TranscriptRow, interview_id)
            if row is None:
                return None
            segs = s.scalars(
                select(SegmentRow)
                .where(SegmentRow.interview_id == interview_id)
                .order_by(SegmentRow.idx)
            ).all()
            return Transcript(
                interview_id=interview_id,
                language=Language(row.language),
                model=row.model,
                duration=row.duration,
                segments=[Segment.model_validate(r.data) for r in segs],
            )

    def update_segment(self, interview_id: str, segment: Segment) -> None:
        with self.tx() as s:
            rows = s.scalars(select(SegmentRow).where(SegmentRow.interview_id == interview_id))
            for row in rows:
                if row.data.get("id") == segment.id:
                    row.data = _dump(segment)
                    return
        raise NotFoundError(f"Segment {segment.id} not found in {interview_id}.", "Reload.")

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

    def add_elements(self, elements: Sequence[AnyElement]) -> list[AnyElement]:
        """Insert new elements, giving them short stable ids (T0001, J0001, X0001, F0001)."""
        saved: list[AnyElement] = []
        with self.tx() as s:
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
        with self.tx() as s:
            row = s.get(ElementRow, el.id)
            if row is None:
                raise NotFoundError(f"Element {el.id} not found.", "Reload the review page.")
            if expected_version is not None and row.version != expected_version:
                from .errors import ReviewError

                raise ReviewError(
                    f"Element {el.id} was changed by someone else (now version {row.version}).",
                    "Reload it; your edit was not applied and is shown so you can redo it.",
                )
            fresh = self._element_row(el)
            row.status, row.version, row.data = fresh.status, fresh.version, fresh.data
            row.kind, row.updated_at = fresh.kind, fresh.updated_at
        return el

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

    # ------------------------------------------------------------------ jobs

    def add_job(self, job: Job) -> Job:
        with self.tx() as s:
            s.add(
                JobRow(
                    id=job.id,
                    interview_id=job.interview_id,
                    status=job.status.value,
                    data=_dump(job),
                    created_at=job.created_at,
                )
            )
        return job

    def save_job(self, job: Job) -> Job:
        with self.tx() as s:
            row = s.get(JobRow, job.id)
            if row is None:
                raise NotFoundError(f"Job {job.id} not found.", "Reload the hearings page.")
            row.status, row.data = job.status.value, _dump(job)
        return job

    def get_job(self, job_id: str) -> Job:
        with self.tx() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise NotFoundError(f"Job {job_id} not found.", "Reload the hearings page.")
            return Job.model_validate(row.data)

    def list_jobs(self, status: JobStatus | None = None) -> list[Job]:
        q = select(JobRow).order_by(JobRow.created_at)
        if status:
            q = q.where(JobRow.status == status.value)
        with self.tx() as s:
            return [Job.model_validate(r.data) for r in s.scalars(q).all()]

    def claim_next_job(self) -> Job | None:
        """Atomically move the oldest queued job to running."""
        with self.tx() as s:
            row = s.scalars(
                select(JobRow)
                .where(JobRow.status == JobStatus.QUEUED.value)
                .order_by(JobRow.created_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return None
            job = Job.model_validate(row.data)
            job.status, job.started_at = JobStatus.RUNNING, utcnow()
            row.status, row.data = job.status.value, _dump(job)
            return job

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
        with self.tx() as s:
            s.merge(CacheRow(key=key, value=value, created_at=utcnow()))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()
