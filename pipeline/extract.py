"""Stage 2: Transcript -> tasks, judgments, exceptions and findings, each grounded.

Per chunk of segments: render the prompt, call the model with the output schema, validate with
pydantic, send validation errors back and ask again (bounded). A chunk that still fails is
recorded as FAILED with its error and can be retried alone; what other chunks produced is kept.
Results are cached by (model, prompt version, chunk text), so a re-run costs nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from .adapters.llm import ChatModel, Message
from .align import ground
from .errors import LLMError
from .models import (
    AnyElement,
    ChunkRecord,
    ChunkStatus,
    CriterionStatus,
    Exception_,
    Finding,
    FindingKind,
    Judgment,
    RuleRow,
    Segment,
    Task,
    Transcript,
)
from .prompts import load_prompt
from .store import Store

MAX_CHUNK_CHARS = 900
OVERLAP_SEGMENTS = 1
MAX_ATTEMPTS = 3

ProgressFn = Callable[[int, int], None]  # (chunks done, total)


# --------------------------------------------------------------------------- model output


class RawItem(BaseModel):
    type: Literal["task", "judgment", "exception"]
    summary: str = Field(min_length=1)
    quote: str = Field(min_length=1)
    actor: str = ""
    condition: str = ""
    outcome: str = ""
    decider: str = ""
    trigger: str = ""
    handling: str = ""
    frequency: str = ""


class RawFinding(BaseModel):
    type: FindingKind
    quote: str = Field(min_length=1)
    summary: str = ""


class RawExtraction(BaseModel):
    items: list[RawItem] = Field(default_factory=list)
    findings: list[RawFinding] = Field(default_factory=list)


OUTPUT_SCHEMA = RawExtraction.model_json_schema()


# --------------------------------------------------------------------------- chunking


def chunk_segments(segments: list[Segment], max_chars: int = MAX_CHUNK_CHARS) -> list[list[Segment]]:
    """Consecutive segment groups of at most ``max_chars``, overlapping by one segment."""
    chunks: list[list[Segment]] = []
    i = 0
    while i < len(segments):
        group, size = [], 0
        j = i
        while j < len(segments) and (not group or size + len(segments[j].text) <= max_chars):
            group.append(segments[j])
            size += len(segments[j].text)
            j += 1
        chunks.append(group)
        if j >= len(segments):
            break
        i = max(j - OVERLAP_SEGMENTS, i + 1)
    return chunks


def render_chunk(group: list[Segment]) -> str:
    return "\n".join(f"{s.speaker or '話者'}: {s.text}" for s in group)


# --------------------------------------------------------------------------- one chunk


@dataclass
class ChunkResult:
    raw: RawExtraction | None
    record: ChunkRecord
    attempts: list[str] = field(default_factory=list)


def _cache_key(model: str, prompt_id: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{prompt_id}\x00{text}".encode()).hexdigest()


def parse_output(text: str) -> RawExtraction:
    """Parse model text as JSON (tolerating code fences and prose around it) and validate."""
    s = text.strip()
    if "```" in s:
        s = s.split("```")[1].removeprefix("json").strip() if s.count("```") >= 2 else s
    start, end = s.find("{"), s.rfind("}")
    if start < 0 or end < start:
        raise ValueError("the answer contains no JSON object")
    return RawExtraction.model_validate(json.loads(s[start : end + 1]))


def extract_chunk(
    llm: ChatModel,
    store: Store | None,
    record: ChunkRecord,
    group: list[Segment],
    business_area: str,
) -> ChunkResult:
    prompt = load_prompt("extract")
    text = render_chunk(group)
    key = _cache_key(llm.name, prompt.id, business_area + "\n" + text)
    if store is not None and (hit := store.cache_get(key)) is not None:
        record.status, record.error = ChunkStatus.DONE, None
        return ChunkResult(RawExtraction.model_validate_json(hit), record)
    messages: list[Message] = prompt.render(transcript=text, business_area=business_area or "-")
    attempts: list[str] = []
    for _ in range(MAX_ATTEMPTS):
        record.attempts += 1
        record.calls += 1
        out = llm.complete(messages, schema=OUTPUT_SCHEMA)
        record.prompt_tokens += out.prompt_tokens
        record.completion_tokens += out.completion_tokens
        attempts.append(out.text)
        try:
            raw = parse_output(out.text)
        except (ValueError, ValidationError) as exc:
            messages = [
                *messages,
                {"role": "assistant", "content": out.text[:4000]},
                {
                    "role": "user",
                    "content": f"Your answer was invalid: {str(exc)[:800]}\n"
                    'Answer again with one JSON object {"items": [...], "findings": [...]} '
                    "that follows the schema.",
                },
            ]
            continue
        if store is not None:
            store.cache_put(key, raw.model_dump_json())
        record.status, record.error = ChunkStatus.DONE, None
        return ChunkResult(raw, record, attempts)
    record.status = ChunkStatus.FAILED
    record.error = f"invalid output after {MAX_ATTEMPTS} attempts: {attempts[-1][:300]}"
    return ChunkResult(None, record, attempts)


# --------------------------------------------------------------------------- elements


def to_elements(raw: RawExtraction, transcript: Transcript, chunk: int) -> list[AnyElement]:
    iid = transcript.interview_id
    out: list[AnyElement] = []
    for item in raw.items:
        ev = [ground(item.quote, transcript)]
        common = {"interview_id": iid, "summary": item.summary, "evidence": ev, "source_chunk": chunk}
        if item.type == "task":
            out.append(Task(action=item.summary, actor=item.actor, frequency=item.frequency, **common))
        elif item.type == "judgment":
            rules = [RuleRow(condition=item.condition, outcome=item.outcome)] if item.condition else []
            criterion = CriterionStatus.STATED if item.condition else CriterionStatus.ABSENT
            out.append(
                Judgment(
                    decision=item.summary,
                    rules=rules,
                    decider=item.decider,
                    criterion=criterion,
                    **common,
                )
            )
        else:
            out.append(
                Exception_(
                    trigger=item.trigger or item.summary,
                    handling=item.handling,
                    owner=item.actor,
                    frequency=item.frequency,
                    **common,
                )
            )
    for f in raw.findings:
        out.append(
            Finding(
                interview_id=iid,
                summary=f.summary or f.type.value,
                finding=f.type,
                evidence=[ground(f.quote, transcript)],
                source_chunk=chunk,
            )
        )
    return out


def _overlaps(a: AnyElement, b: AnyElement) -> bool:
    for ea in a.evidence:
        for eb in b.evidence:
            if None in (ea.char_start, ea.char_end, eb.char_start, eb.char_end):
                continue
            assert ea.char_start is not None and ea.char_end is not None
            assert eb.char_start is not None and eb.char_end is not None
            inter = min(ea.char_end, eb.char_end) - max(ea.char_start, eb.char_start)
            if inter > 0.5 * min(ea.char_end - ea.char_start, eb.char_end - eb.char_start):
                return True
    return False


def merge_duplicates(elements: list[AnyElement]) -> list[AnyElement]:
    """Drop repeats of the same kind whose evidence overlaps (chunk overlap, several passes)."""
    kept: list[AnyElement] = []
    for el in elements:
        same = [k for k in kept if k.kind == el.kind and (
            _overlaps(k, el) or k.summary.strip() == el.summary.strip()
        )]  # fmt: skip
        if isinstance(el, Finding):
            same = [k for k in same if isinstance(k, Finding) and k.finding == el.finding]
        if not same:
            kept.append(el)
    return kept


def link_findings(elements: list[AnyElement]) -> None:
    """A finding concerns the non-finding elements whose evidence overlaps its own."""
    for f in elements:
        if isinstance(f, Finding) and not f.concerns:
            f.concerns = [e.id for e in elements if not isinstance(e, Finding) and _overlaps(e, f)]


def order_tasks(elements: list[AnyElement]) -> None:
    tasks = [e for e in elements if isinstance(e, Task)]
    tasks.sort(key=lambda t: t.evidence[0].char_start if t.evidence[0].char_start is not None else 1 << 30)
    for n, (t, nxt) in enumerate(zip(tasks, [*tasks[1:], None], strict=False), start=1):
        t.order = n
        t.next_ids = [nxt.id] if nxt else []


# --------------------------------------------------------------------------- whole transcript


@dataclass
class ExtractionRun:
    elements: list[AnyElement]
    chunks: list[ChunkRecord]

    @property
    def failed(self) -> list[ChunkRecord]:
        return [c for c in self.chunks if c.status == ChunkStatus.FAILED]


def extract(
    transcript: Transcript,
    llm: ChatModel,
    store: Store | None = None,
    business_area: str = "",
    only_chunks: set[int] | None = None,
    progress: ProgressFn | None = None,
) -> ExtractionRun:
    groups = chunk_segments(transcript.segments)
    records: list[ChunkRecord] = []
    elements: list[AnyElement] = []
    for n, group in enumerate(groups):
        record = ChunkRecord(
            interview_id=transcript.interview_id, index=n, segment_ids=[s.id for s in group]
        )
        if only_chunks is not None and n not in only_chunks:
            continue
        try:
            result = extract_chunk(llm, store, record, group, business_area)
        except LLMError as exc:
            record.status, record.error = ChunkStatus.FAILED, str(exc)
            result = ChunkResult(None, record)
        records.append(result.record)
        if store is not None:
            store.save_chunk(result.record)
        if result.raw is not None:
            elements += to_elements(result.raw, transcript, n)
        if progress:
            progress(n + 1, len(groups))
    return ExtractionRun(merge_duplicates(elements), records)


def finalize(elements: list[AnyElement], store: Store) -> list[AnyElement]:
    """Assign ids, then link findings and the task flow, and save."""
    saved = store.add_elements(elements)
    link_findings(saved)
    order_tasks(saved)
    for el in saved:
        store.save_element(el)
    return saved
