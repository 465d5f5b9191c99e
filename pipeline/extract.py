"""Stage 2: Transcript -> tasks, judgments, exceptions and findings, each grounded.

The default design ("classify") is built to carry a weak local model:

1. The transcript is cut into numbered *units* (sentences inside segments) whose character spans
   are known exactly.
2. The model labels one unit at a time (task / judgment / exception / none) with the
   interviewer's question and the previous sentence as context. Its output is a few tokens; the
   shared prompt prefix is reused by the server's prompt cache. Where the backend returns token
   log-probabilities (llama.cpp, OpenAI), the label's probability is read at the label token: a
   sentence becomes an element only when its best element label reaches
   ``MIN_LABEL_PROBABILITY``, and the element carries that probability as ``confidence``
   (shown in review). Without log-probabilities the model's label is taken as it is.
3. Everything else is computed: the quote *is* the unit (so every element is grounded by
   construction), fields come from deterministic cues, findings from ``diagnose``, the flow
   from ``flow``.

The older design ("single": one prompt per ~900-character chunk returning every element as JSON)
is kept for comparison (see docs/benchmarks.md, "Extraction").

Per chunk of units: each call validates with pydantic; a validation error is sent back and the
model asked again (bounded). A chunk that still fails is recorded as FAILED with its error and
can be retried alone; what other chunks produced is kept. Results are cached by (model, prompt
version, content), so a re-run costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from .adapters.llm import ChatModel, Completion, Message
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

MAX_CHUNK_CHARS = 900  # "single" design
OVERLAP_SEGMENTS = 1
UNITS_PER_CHUNK = 8  # "classify" design: bookkeeping, retry and progress granularity
MAX_ATTEMPTS = 3
MAX_UNIT_CHARS = 160  # longer unpunctuated ASR text is cut at commas / spaces
MIN_UNIT_CHARS = 6  # shorter units ("はい。", "Right.") are never elements
INTERVIEWER = "interviewer"

Design = Literal["classify", "single"]
ProgressFn = Callable[[int, int], None]  # (chunks done, total)
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema made acceptable to OpenAI's strict mode.

    Strict mode wants ``additionalProperties: false`` and every property listed in ``required``
    on every object; defaults are dropped (the model must answer every field). llama.cpp's grammar
    accepts the same schema.
    """
    schema = model.model_json_schema()

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            node.pop("default", None)
            node.pop("minLength", None)
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)

    fix(schema)
    return schema


# --------------------------------------------------------------------------- model output


class Label(BaseModel):
    label: Literal["task", "judgment", "exception", "none"]


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


LABEL_SCHEMA = strict_schema(Label)
OUTPUT_SCHEMA = strict_schema(RawExtraction)


# --------------------------------------------------------------------------- units


@dataclass
class Unit:
    """One sentence of the transcript, with its exact span in ``Transcript.text``."""

    index: int
    segment: Segment
    start: int
    end: int
    text: str
    question: str = ""  # the interviewer's last question before it
    before: str = ""  # the previous sentence of the same speaker's turn
    label: str = "none"
    confidence: float | None = None  # the model's probability for ``label`` (None: unknown)

    @property
    def classifiable(self) -> bool:
        return (
            self.segment.speaker != INTERVIEWER
            and len(_core(self.text)) >= MIN_UNIT_CHARS
            and not INSTRUCTION.search(self.text)
        )


# text addressed to the model rather than describing the work: never labelled, never an element
INSTRUCTION = re.compile(
    r"(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier)\s+"
    r"(instructions|prompts?|rules)|system prompt|"
    r"(これまで|以前|前|上記)の(指示|命令|プロンプト)を(無視|忘れ)",
    re.I,
)


def _core(text: str) -> str:
    return re.sub(r"[\W_]", "", unicodedata.normalize("NFKC", text))


_SENTENCE_END = re.compile(r"[。！？!?]+|\.(?=\s|$)")
_SOFT_BREAK = re.compile(r"[、,]\s*|\s+")


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > MAX_UNIT_CHARS:  # long unpunctuated ASR text: cut at a comma or space
            cut = None
            for m in _SOFT_BREAK.finditer(text, s + MAX_UNIT_CHARS // 2, s + MAX_UNIT_CHARS):
                cut = m.end()
            cut = cut or s + MAX_UNIT_CHARS
            out.append((s, cut))
            s = cut
        out.append((s, e))
    # trim whitespace; drop empty pieces
    trimmed = []
    for s, e in out:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed


def split_units(transcript: Transcript) -> list[Unit]:
    units: list[Unit] = []
    question = ""
    last_speaker = None
    for seg, (s0, _s1) in zip(transcript.segments, transcript.segment_spans(), strict=True):
        if seg.speaker == INTERVIEWER:
            question = seg.text.strip()[-120:]
        same_turn = seg.speaker == last_speaker
        last_speaker = seg.speaker
        for n, (a, b) in enumerate(_sentences(seg.text)):
            prev = units[-1].text if units and (n > 0 or same_turn) else ""
            units.append(
                Unit(
                    index=len(units),
                    segment=seg,
                    start=s0 + a,
                    end=s0 + b,
                    text=seg.text[a:b],
                    question=question if seg.speaker != INTERVIEWER else "",
                    before=prev[-120:],
                )
            )
    return units


def chunk_units(units: list[Unit], size: int = UNITS_PER_CHUNK) -> list[list[Unit]]:
    return [units[i : i + size] for i in range(0, len(units), size)]


# --------------------------------------------------------------------------- one LLM call


class ChunkFailure(Exception):
    def __init__(self, message: str, attempts: list[str]):
        super().__init__(message)
        self.attempts = attempts


def _cache_key(model: str, prompt_id: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{prompt_id}\x00{text}".encode()).hexdigest()


def _json_object(text: str) -> Any:
    """The JSON object in a model answer, tolerating code fences and prose around it."""
    s = text.strip()
    if "```" in s and s.count("```") >= 2:
        s = s.split("```")[1].removeprefix("json").strip()
    start, end = s.find("{"), s.rfind("}")
    if start < 0 or end < start:
        raise ValueError("the answer contains no JSON object")
    return json.loads(s[start : end + 1])


def parse_output(text: str) -> RawExtraction:
    return RawExtraction.model_validate(_json_object(text))


def ask(
    llm: ChatModel,
    messages: list[Message],
    model: type[M],
    schema: dict[str, Any],
    record: ChunkRecord,
    store: Store | None,
    key: str,
    max_tokens: int,
    reask_hint: str,
) -> M:
    """One schema-constrained answer, validated and cached (see ``ask_validated``)."""
    if store is not None and (hit := store.cache_get(key)) is not None:
        return model.model_validate_json(hit)
    value, _ = ask_validated(llm, messages, model, schema, record, max_tokens, reask_hint)
    if store is not None:
        store.cache_put(key, value.model_dump_json())
    return value


def ask_validated(
    llm: ChatModel,
    messages: list[Message],
    model: type[M],
    schema: dict[str, Any],
    record: ChunkRecord,
    max_tokens: int,
    reask_hint: str,
    top_logprobs: int = 0,
) -> tuple[M, Completion]:
    """A validated answer and the completion it came from; errors are sent back to the model,
    at most MAX_ATTEMPTS times, then ChunkFailure."""
    attempts: list[str] = []
    for _ in range(MAX_ATTEMPTS):
        record.attempts += 1
        record.calls += 1
        out = llm.complete(
            messages, schema=schema, max_tokens=max_tokens, top_logprobs=top_logprobs
        )
        record.prompt_tokens += out.prompt_tokens
        record.completion_tokens += out.completion_tokens
        attempts.append(out.text)
        try:
            value = model.model_validate(_json_object(out.text))
        except (ValueError, ValidationError) as exc:
            messages = [
                *messages,
                {"role": "assistant", "content": out.text[:4000]},
                {
                    "role": "user",
                    "content": f"Your answer was invalid: {str(exc)[:800]}\n{reask_hint}",
                },
            ]
            continue
        return value, out
    raise ChunkFailure(
        f"invalid output after {MAX_ATTEMPTS} attempts: {attempts[-1][:300]}", attempts
    )


# --------------------------------------------------------------------------- design: classify


def unit_context(unit: Unit, before: bool = True) -> str:
    ctx = ""
    if unit.question:
        ctx += f"Question: {unit.question}\n"
    if unit.before and before:
        ctx += f"Before: {unit.before}\n"
    return ctx


LABELS = ("task", "judgment", "exception", "none")
TOP_LOGPROBS = 5
# A sentence becomes an element only when the model gives its best element label at least
# this probability (read from the token log-probabilities); below it, the sentence is "none".
# Chosen on the dev hearings by the mean element F1 over gold text and Whisper text (0.3-0.6
# swept with eval/extraction.py --min-probability; 0.45 was best on gold text alone, but
# Whisper's noisier text gets lower label probabilities). The same for every label. Higher:
# fewer, surer elements; lower: more recall.
MIN_LABEL_PROBABILITY = 0.35
# Label a sentence that has a "Before" sentence twice, with and without it, and average the two
# distributions. Measured: dev F1 0.771 -> 0.796 but held-out F1 0.646 -> 0.598, for twice
# the calls; so one look is the default.
VIEWS = 1


class LabelAnswer(Label):
    """What is cached per sentence: the model's label and its probability per label."""

    scores: dict[str, float] = Field(default_factory=dict)


def label_scores(out: Completion) -> dict[str, float]:
    """Each label's probability at the token where the model writes the label; {} when the
    backend returned no log-probabilities."""
    for alts in out.top_logprobs:
        probs = dict.fromkeys(LABELS, 0.0)
        for token, logprob in alts.items():
            t = token.strip().strip('"').lower()
            lab = next((x for x in LABELS if len(t) >= 2 and x.startswith(t)), None)
            if lab is not None:
                probs[lab] += math.exp(logprob)
        total = sum(probs.values())
        if total >= 0.5:  # this is the label position, not the key or the braces
            return {k: round(v / total, 4) for k, v in probs.items()}
    return {}


def decide(
    answer: LabelAnswer, threshold: float = MIN_LABEL_PROBABILITY
) -> tuple[str, float | None]:
    """The label a sentence gets, and the model's confidence in it."""
    if not answer.scores:
        return answer.label, None
    best = max(LABELS[:3], key=lambda k: answer.scores.get(k, 0.0))
    p = answer.scores.get(best, 0.0)
    if p >= threshold:
        return best, p
    return "none", answer.scores.get("none", 0.0)


def classify_chunk(
    llm: ChatModel,
    store: Store | None,
    record: ChunkRecord,
    units: list[Unit],
    threshold: float = MIN_LABEL_PROBABILITY,
    views: int = VIEWS,
) -> list[Unit]:
    prompt = load_prompt("extract_classify")
    for unit in units:
        if not unit.classifiable:
            unit.label = "none"
            continue
        answer = _label(llm, store, record, prompt, unit_context(unit), unit.text)
        if views > 1 and answer.scores and unit.before:
            # a second look with the question only; the two distributions are averaged
            other = _label(llm, store, record, prompt, unit_context(unit, before=False), unit.text)
            if other.scores:
                answer = LabelAnswer(
                    label=answer.label,
                    scores={k: (answer.scores[k] + other.scores[k]) / 2 for k in LABELS},
                )
        unit.label, unit.confidence = decide(answer, threshold)
    return units


def _label(
    llm: ChatModel, store: Store | None, record: ChunkRecord, prompt: Any, context: str, text: str
) -> LabelAnswer:
    messages = prompt.render(context=context, sentence=text)
    key = _cache_key(llm.name, prompt.id + "+scores", context + text)
    if store is not None and (hit := store.cache_get(key)) is not None:
        return LabelAnswer.model_validate_json(hit)
    value, out = ask_validated(
        llm,
        messages,
        Label,
        LABEL_SCHEMA,
        record,
        16,
        'Answer again with one JSON object {"label": "task"|"judgment"|"exception"|"none"}.',
        top_logprobs=TOP_LOGPROBS,
    )
    answer = LabelAnswer(label=value.label, scores=label_scores(out))
    if store is not None:
        store.cache_put(key, answer.model_dump_json())
    return answer


# --------------------------------------------------------------------------- design: single


def chunk_segments(
    segments: list[Segment], max_chars: int = MAX_CHUNK_CHARS
) -> list[list[Segment]]:
    """Consecutive segment groups of at most ``max_chars``, overlapping by one segment."""
    chunks: list[list[Segment]] = []
    i = 0
    while i < len(segments):
        group: list[Segment] = []
        size, j = 0, i
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


def single_chunk(
    llm: ChatModel,
    store: Store | None,
    record: ChunkRecord,
    group: list[Segment],
    business_area: str,
) -> RawExtraction:
    prompt = load_prompt("extract")
    text = render_chunk(group)
    key = _cache_key(llm.name, prompt.id, business_area + "\n" + text)
    messages = prompt.render(transcript=text, business_area=business_area or "-")
    return ask(
        llm,
        messages,
        RawExtraction,
        OUTPUT_SCHEMA,
        record,
        store,
        key,
        2048,
        'Answer again with one JSON object {"items": [...], "findings": [...]} '
        "that follows the schema.",
    )


def raw_to_elements(raw: RawExtraction, transcript: Transcript, chunk: int) -> list[AnyElement]:
    iid = transcript.interview_id
    out: list[AnyElement] = []
    for item in raw.items:
        ev = [ground(item.quote, transcript)]
        common: dict[str, Any] = {
            "interview_id": iid,
            "summary": item.summary,
            "evidence": ev,
            "source_chunk": chunk,
        }
        if item.type == "task":
            out.append(
                Task(action=item.summary, actor=item.actor, frequency=item.frequency, **common)
            )
        elif item.type == "judgment":
            rules = (
                [RuleRow(condition=item.condition, outcome=item.outcome)] if item.condition else []
            )
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


# --------------------------------------------------------------------------- merging


def _overlaps(a: AnyElement, b: AnyElement) -> bool:
    for ea in a.evidence:
        for eb in b.evidence:
            if ea.char_start is None or ea.char_end is None:
                continue
            if eb.char_start is None or eb.char_end is None:
                continue
            inter = min(ea.char_end, eb.char_end) - max(ea.char_start, eb.char_start)
            if inter > 0.5 * min(ea.char_end - ea.char_start, eb.char_end - eb.char_start):
                return True
    return False


def merge_duplicates(elements: list[AnyElement]) -> list[AnyElement]:
    """Drop repeats of the same kind whose evidence overlaps (chunk overlap, several passes)."""
    kept: list[AnyElement] = []
    for el in elements:
        same = [
            k
            for k in kept
            if k.kind == el.kind and (_overlaps(k, el) or k.summary.strip() == el.summary.strip())
        ]
        if isinstance(el, Finding):
            same = [k for k in same if isinstance(k, Finding) and k.finding == el.finding]
        if not same:
            kept.append(el)
    return kept


# --------------------------------------------------------------------------- whole transcript


@dataclass
class ExtractionRun:
    elements: list[AnyElement]
    chunks: list[ChunkRecord]
    design: str = "classify"
    units: list[Unit] = field(default_factory=list)

    @property
    def failed(self) -> list[ChunkRecord]:
        return [c for c in self.chunks if c.status == ChunkStatus.FAILED]

    @property
    def calls(self) -> int:
        return sum(c.calls for c in self.chunks)

    @property
    def tokens(self) -> tuple[int, int]:
        return (
            sum(c.prompt_tokens for c in self.chunks),
            sum(c.completion_tokens for c in self.chunks),
        )


def _run_chunk(
    record: ChunkRecord,
    store: Store | None,
    work: Callable[[], R],
    records: list[ChunkRecord],
) -> R | None:
    """Run one chunk's calls; on failure record the error on the chunk and return None."""
    result: R | None = None
    try:
        result = work()
        record.status, record.error = ChunkStatus.DONE, None
    except (ChunkFailure, LLMError) as exc:
        record.status, record.error = ChunkStatus.FAILED, str(exc)
    records.append(record)
    if store is not None:
        store.save_chunk(record)
    return result


def _in_parallel(
    work: Callable[[int], R],
    items: list[int],
    concurrency: int,
    progress: ProgressFn | None,
    total: int,
) -> list[R]:
    """``work`` on each item, ``concurrency`` at a time; results in the items' order."""
    if concurrency <= 1 or len(items) <= 1:
        out = []
        for item in items:
            out.append(work(item))
            if progress:
                progress(item + 1, total)
        return out
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = {pool.submit(work, item): item for item in items}
        for done, future in enumerate(as_completed(futures), start=1):
            future.result()
            if progress:
                progress(total - len(items) + done, total)
        return [f.result() for f in futures]


def extract(
    transcript: Transcript,
    llm: ChatModel,
    store: Store | None = None,
    business_area: str = "",
    only_chunks: set[int] | None = None,
    progress: ProgressFn | None = None,
    design: Design = "classify",
    default_actor: str = "",
    min_label_probability: float = MIN_LABEL_PROBABILITY,
    concurrency: int = 1,
    views: int = VIEWS,
) -> ExtractionRun:
    """Extract elements and findings; failed chunks are recorded, the rest is kept.

    ``concurrency``: chunks labelled at the same time (a remote API gains from several; the
    embedded server on a laptop has one slot, so 1)."""
    from .diagnose import diagnose
    from .structure import build_elements

    iid = transcript.interview_id
    records: list[ChunkRecord] = []
    if design == "single":
        elements: list[AnyElement] = []
        groups = chunk_segments(transcript.segments)
        for n, group in enumerate(groups):
            if only_chunks is not None and n not in only_chunks:
                continue
            record = ChunkRecord(interview_id=iid, index=n, segment_ids=[s.id for s in group])
            raw = _run_chunk(
                record,
                store,
                partial(single_chunk, llm, store, record, group, business_area),
                records,
            )
            if raw is not None:
                elements += raw_to_elements(raw, transcript, n)
            if progress:
                progress(n + 1, len(groups))
        return ExtractionRun(merge_duplicates(elements), records, design)

    units = split_units(transcript)
    chunks = chunk_units(units)

    def label_chunk(n: int) -> list[Unit] | None:
        seg_ids = list(dict.fromkeys(u.segment.id for u in chunks[n]))
        record = ChunkRecord(interview_id=iid, index=n, segment_ids=seg_ids)
        return _run_chunk(
            record,
            store,
            partial(classify_chunk, llm, store, record, chunks[n], min_label_probability, views),
            records,
        )

    todo = [n for n in range(len(chunks)) if only_chunks is None or n in only_chunks]
    done_units: list[Unit] = []
    for labelled in _in_parallel(label_chunk, todo, concurrency, progress, len(chunks)):
        if labelled is not None:
            done_units += labelled
    records.sort(key=lambda r: r.index)
    elements = build_elements(units, done_units, transcript, default_actor, UNITS_PER_CHUNK)
    elements += diagnose(units, done_units, elements, transcript)
    return ExtractionRun(merge_duplicates(elements), records, design, units)


def finalize(
    elements: list[AnyElement], store: Store, transcript: Transcript | None = None
) -> list[AnyElement]:
    """Assign ids, then link findings to elements and tasks into a flow, and save."""
    from .diagnose import link_concerns
    from .flow import link_flow

    saved = store.add_elements(elements)
    link_concerns(saved, transcript)
    link_flow(saved)
    for el in saved:
        store.save_element(el)
    return saved
