"""The domain model: interviews, transcripts, elements with evidence, review state.

Everything downstream (extraction, review, index, assistant, UI) speaks these types.
Elements are a tagged union on ``kind``: Task, Judgment, Exception_ and Finding.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

SEGMENT_SEPARATOR = "\n"


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Language(StrEnum):
    JA = "ja"
    EN = "en"


# --------------------------------------------------------------------------- interviews


class InterviewStatus(StrEnum):
    UPLOADED = "uploaded"
    TRANSCRIBING = "transcribing"
    TRANSCRIBED = "transcribed"
    EXTRACTING = "extracting"
    EXTRACTED = "extracted"
    FAILED = "failed"


DEFAULT_ENGAGEMENT = "default"


class BusinessArea(BaseModel):
    """One node of an engagement's 大分類 / 中分類 / 小分類 tree."""

    name: str
    children: list[BusinessArea] = Field(default_factory=list)


class Engagement(BaseModel):
    """One client project: its hearings, glossary, business-area tree and members.

    Every interview belongs to one (``Interview.engagement_id``); the ``default`` engagement
    keeps single-hearing use as simple as before.
    """

    id: str = Field(default_factory=lambda: new_id("eng"))
    name: str
    client: str = ""
    glossary: list[str] = Field(default_factory=list)
    areas: list[BusinessArea] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)  # user names
    created_at: datetime = Field(default_factory=utcnow)


class Interview(BaseModel):
    id: str = Field(default_factory=lambda: new_id("int"))
    title: str
    engagement_id: str = DEFAULT_ENGAGEMENT
    interviewee: str = ""  # who was heard (name), for the knowledge-holder view
    business_area: str = ""
    interviewee_roles: list[str] = Field(default_factory=list)
    interview_date: date | None = None
    language: Language | None = None
    audio_path: str | None = None  # stored original upload, relative to the workspace
    audio_sha256: str | None = None
    status: InterviewStatus = InterviewStatus.UPLOADED
    error: str | None = None  # last failure, shown to the user with what to do
    created_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- transcripts


class SegmentFlag(StrEnum):
    LOW_CONFIDENCE = "low_confidence"
    NO_SPEECH = "no_speech"  # high no-speech probability: maybe text invented over silence
    REPETITION = "repetition"  # repetition loop
    EDITED = "edited"  # corrected by a reviewer


class Word(BaseModel):
    start: float
    end: float
    word: str
    probability: float


class Correction(BaseModel):
    """A word of the transcript replaced after Whisper (a mis-heard business term), kept so
    that review shows it and can revert it. ``start``/``end``: the replacement's characters in
    ``Segment.text``; ``words``: the Whisper words it took over (restored on revert), merged
    into the one word at ``word_index`` (timing from the first word's start to the last one's
    end)."""

    original: str
    replacement: str
    start: int
    end: int
    source: str  # lexicon | glossary | documents | engagement | review | number
    score: float | None = None  # log-prob gain (nats) of the sentence with the replacement
    word_index: int | None = None
    words: list[Word] = Field(default_factory=list)
    status: str = "applied"  # applied | proposed (learned from a review elsewhere)


class Segment(BaseModel):
    id: str  # stable within a transcript: "s0001"
    start: float
    end: float
    speaker: str = ""
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    words: list[Word] = Field(default_factory=list)
    flags: list[SegmentFlag] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)


class Transcript(BaseModel):
    interview_id: str
    language: Language
    model: str = ""
    duration: float = 0.0
    segments: list[Segment] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """The canonical transcript text: segment texts joined by newlines.

        Evidence character spans index into this string.
        """
        return SEGMENT_SEPARATOR.join(s.text for s in self.segments)

    def segment_spans(self) -> list[tuple[int, int]]:
        """(start, end) character offsets of each segment within :attr:`text`."""
        spans, pos = [], 0
        for seg in self.segments:
            spans.append((pos, pos + len(seg.text)))
            pos += len(seg.text) + len(SEGMENT_SEPARATOR)
        return spans


# --------------------------------------------------------------------------- evidence


class Alignment(StrEnum):
    EXACT = "exact"
    FUZZY = "fuzzy"
    UNALIGNED = "unaligned"


class SegmentSpan(BaseModel):
    """Where (part of) a quote lies in one segment: character offsets into that segment's text.

    Addressed per segment, a span survives edits of other segments untouched, and an edit of
    its own segment can re-anchor it (see ``align.reanchor``)."""

    segment_id: str
    start: int
    end: int


class Evidence(BaseModel):
    quote: str
    # the source of truth for where the quote lies: one span per segment it covers, in order
    spans: list[SegmentSpan] = Field(default_factory=list)
    # derived from ``spans`` (``align.derive``); an unaligned quote keeps the segment it was
    # last found in, so the reviewer sees where to look
    segment_ids: list[str] = Field(default_factory=list)
    # derived: offsets into ``Transcript.text`` as of the last (re)anchoring. Elements stored
    # before ``spans`` existed have only these; ``align.spans_of`` converts them on read
    char_start: int | None = None
    char_end: int | None = None
    audio_start: float | None = None
    audio_end: float | None = None
    alignment: Alignment = Alignment.UNALIGNED
    score: float = 0.0  # similarity of the quote to the transcript span, 0..1
    low_confidence: bool = False  # the span lies in a flagged segment
    speaker: str = ""

    @property
    def grounded(self) -> bool:
        located = bool(self.spans) or self.char_start is not None
        return self.alignment != Alignment.UNALIGNED and located


# --------------------------------------------------------------------------- review state


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETIRED = "retired"


class HistoryEntry(BaseModel):
    at: datetime = Field(default_factory=utcnow)
    who: str = "system"
    action: str  # created / edited / approved / rejected / retired / reopened
    version: int
    changes: dict[str, Any] = Field(default_factory=dict)  # field -> {"from": ..., "to": ...}
    note: str = ""


# --------------------------------------------------------------------------- elements


class ElementBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = ""
    interview_id: str = ""
    summary: str  # one line, in the interview's language
    evidence: list[Evidence] = Field(default_factory=list)
    status: ReviewStatus = ReviewStatus.DRAFT
    version: int = 1
    effective_date: date | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    source_chunk: int | None = None
    # the extraction model's probability for this element's kind (None: not known, e.g. the
    # backend returns no log-probabilities, or the element was written by a reviewer)
    confidence: float | None = None
    # who filled the fields: "model" (each value checked against the quote and its neighbours),
    # "cues" (the model's answer failed; values from the lexicon's phrasings), "" (a reviewer,
    # or an element from before issue 13). A finding: "cues" (a lexicon phrasing), "meaning"
    # (the sentence read as a remark by its embedding, ``remarks``) or "model" (the LLM's answer)
    filled_by: str = ""

    @property
    def grounded(self) -> bool:
        return bool(self.evidence) and all(e.grounded for e in self.evidence)

    @property
    def low_confidence(self) -> bool:
        return any(e.low_confidence for e in self.evidence)


class Task(ElementBase):
    kind: Literal["task"] = "task"
    action: str = ""
    actor: str = ""
    inputs: list[str] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    systems: list[str] = Field(default_factory=list)
    frequency: str = ""  # e.g. 毎月, daily, per request
    volume: str = ""  # e.g. 約200件/月
    order: int | None = None  # position in the flow
    next_ids: list[str] = Field(default_factory=list)


class RuleRow(BaseModel):
    condition: str
    outcome: str
    # the other side of a stated threshold: the condition turned over, the outcome chosen from
    # the passage (``rule_complement``); the reviewer confirms it
    inferred: bool = False

    @property
    def text(self) -> str:
        """The row as read everywhere: "condition → outcome"."""
        return f"{self.condition} → {self.outcome}"


def rows_text(rules: list[RuleRow]) -> str:
    """A judgment's rule rows on one line: "condition → outcome / ..."."""
    return " / ".join(r.text for r in rules)


class CriterionStatus(StrEnum):
    STATED = "stated"  # a rule is said explicitly
    UNSTATED = "unstated"  # a rule seems to exist but was not said
    ABSENT = "absent"  # "case by case", "なんとなく": no rule


class Judgment(ElementBase):
    kind: Literal["judgment"] = "judgment"
    decision: str = ""
    rules: list[RuleRow] = Field(default_factory=list)
    decider: str = ""
    criterion: CriterionStatus = CriterionStatus.STATED
    branch_to: dict[str, str] = Field(default_factory=dict)  # outcome -> task id


class Exception_(ElementBase):
    kind: Literal["exception"] = "exception"
    trigger: str = ""
    handling: str = ""
    owner: str = ""
    frequency: str = ""
    is_routine: bool = False  # happens so often it has become part of the normal flow
    interrupts: str | None = None  # task id


class FindingKind(StrEnum):
    UNNECESSARY_TASK = "unnecessary_task"
    ROUTINE_EXCEPTION = "routine_exception"
    JUDGMENT_WITHOUT_RULE = "judgment_without_rule"
    PERSON_DEPENDENCY = "person_dependency"  # 属人化
    APPROVAL_ROUTE_VARIES = "approval_route_varies"
    ORAL_ONLY_CRITERION = "oral_only_criterion"
    PRECEDENT_FOLLOWING = "precedent_following"  # 前回踏襲


FINDING_LABELS_JA: dict[FindingKind, str] = {
    FindingKind.UNNECESSARY_TASK: "不要な作業",
    FindingKind.ROUTINE_EXCEPTION: "日常化した例外",
    FindingKind.JUDGMENT_WITHOUT_RULE: "基準のない判断",
    FindingKind.PERSON_DEPENDENCY: "属人化",
    FindingKind.APPROVAL_ROUTE_VARIES: "人によって異なる承認ルート",
    FindingKind.ORAL_ONLY_CRITERION: "口頭のみの基準",
    FindingKind.PRECEDENT_FOLLOWING: "前回踏襲",
}


class Finding(ElementBase):
    kind: Literal["finding"] = "finding"
    finding: FindingKind
    concerns: list[str] = Field(default_factory=list)  # element ids
    recommendation: str = ""


Element = Annotated[Task | Judgment | Exception_ | Finding, Field(discriminator="kind")]
ELEMENT_ADAPTER: TypeAdapter[Task | Judgment | Exception_ | Finding] = TypeAdapter(Element)
ElementKind = Literal["task", "judgment", "exception", "finding"]
ELEMENT_KINDS: tuple[ElementKind, ...] = ("task", "judgment", "exception", "finding")
ID_PREFIX: dict[str, str] = {"task": "T", "judgment": "J", "exception": "X", "finding": "F"}

AnyElement = Task | Judgment | Exception_ | Finding


def element_text(el: AnyElement) -> str:
    """A compact, human-readable rendering used for indexing and for the assistant prompt."""
    parts = [el.summary]
    if isinstance(el, Task):
        parts += [f"作業/Task: {el.action}", f"担当/Actor: {el.actor}"]
        if el.inputs:
            parts.append("入力/Inputs: " + ", ".join(el.inputs))
        if el.outputs:
            parts.append("出力/Outputs: " + ", ".join(el.outputs))
        if el.systems:
            parts.append("システム/Systems: " + ", ".join(el.systems))
        if el.frequency:
            parts.append(f"頻度/Frequency: {el.frequency}")
    elif isinstance(el, Judgment):
        parts.append(f"判断/Decision: {el.decision}")
        parts += [f"条件/If: {r.text}" for r in el.rules]
        if el.decider:
            parts.append(f"判断者/Decides: {el.decider}")
        parts.append(f"基準/Criterion: {el.criterion.value}")
    elif isinstance(el, Exception_):
        parts += [f"例外/Trigger: {el.trigger}", f"対応/Handling: {el.handling}"]
        if el.owner:
            parts.append(f"担当/Owner: {el.owner}")
        if el.frequency:
            parts.append(f"頻度/Frequency: {el.frequency}")
    elif isinstance(el, Finding):
        parts.append(f"指摘/Finding: {el.finding.value}")
        if el.recommendation:
            parts.append(el.recommendation)
    quotes = [e.quote for e in el.evidence if e.quote]
    if quotes:
        parts.append("発言/Quote: 「" + "」「".join(quotes) + "」")
    return "\n".join(p for p in parts if p and not p.endswith(": "))


# --------------------------------------------------------------------------- jobs, chunks


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(BaseModel):
    id: str = Field(default_factory=lambda: new_id("job"))
    interview_id: str
    kind: Literal["process", "transcribe", "extract"] = "process"
    status: JobStatus = JobStatus.QUEUED
    progress: float = 0.0  # 0..1
    message: str = ""
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str = ""  # the worker holding it (host:pid), set when claimed
    attempts: int = 0  # claims so far; more than one: a worker died during an earlier run


class ChunkStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class ChunkRecord(BaseModel):
    interview_id: str
    index: int
    segment_ids: list[str]
    status: ChunkStatus = ChunkStatus.PENDING
    error: str | None = None
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0


# --------------------------------------------------------------------------- assistant


class Citation(BaseModel):
    element_id: str
    interview_id: str
    interview_title: str = ""
    summary: str = ""
    quote: str = ""
    audio_start: float | None = None
    audio_end: float | None = None
    kind: str = ""
    version: int | None = None  # the approved version the answer was built from
    effective_date: date | None = None
    speaker: str = ""  # who said it in the hearing


class Answer(BaseModel):
    question: str
    text: str
    covered: bool  # False: no approved rule covers the question
    citations: list[Citation] = Field(default_factory=list)
    retrieved_ids: list[str] = Field(default_factory=list)
    contact: str = ""  # who to ask when not covered, if the knowledge base knows
    warnings: list[str] = Field(default_factory=list)


class OpenQuestion(BaseModel):
    id: int | None = None
    question: str
    count: int = 1
    first_asked: datetime = Field(default_factory=utcnow)
    last_asked: datetime = Field(default_factory=utcnow)
    resolved: bool = False
