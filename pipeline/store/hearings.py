"""Engagements, hearings (interviews) and their transcripts."""

from __future__ import annotations

from sqlalchemy import delete, select

from ..errors import NotFoundError
from ..models import (
    DEFAULT_ENGAGEMENT,
    Engagement,
    Interview,
    InterviewStatus,
    Language,
    Segment,
    Transcript,
)
from .base import StoreBase
from .schema import (
    ChunkRow,
    ElementRow,
    EngagementRow,
    InterviewRow,
    SegmentRow,
    TranscriptRow,
    _dump,
)


class HearingStore(StoreBase):
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
