"""Stage 2: Transcript -> tasks, judgments, exceptions and findings, each grounded.

The orchestrator of the stage; the work is in leaf modules:

1. ``sentences``: the transcript cut into numbered *units* (sentences inside segments) whose
   character spans are known exactly.
2. Here: the model labels one unit at a time (task / judgment / exception / none) with the
   interviewer's question and the previous sentence as context. Where the backend returns token
   log-probabilities (llama.cpp, OpenAI), the label's probability is read at the label token and
   weighed with the sentence's nearness to example steps, rules and irregular cases
   (``labels``, where an embedder is given): a sentence becomes an element only when its best
   element label reaches ``MIN_LABEL_PROBABILITY``, and the element carries that probability as
   ``confidence``.
3. ``structure``: labelled sentences grouped into elements (a rule told over two sentences is
   one judgment).
4. ``fields``: one schema-constrained call per element fills its fields (few-shot, ja/en);
   every value is checked against the quote and its neighbours; a sentence that tells several
   steps becomes one task per step. When that call fails, the cue-derived fields of
   ``structure.cue_element`` are used and the element says so (``filled_by="cues"``).
5. ``diagnose``: findings from the model's answers (criterion absent, routine exception) and
   the lexicon's phrasings; ``flow``: tasks in order.

Per chunk of units: each call validates with pydantic; a validation error is sent back and the
model asked again (bounded). A chunk that still fails is recorded as FAILED with its error and
can be retried alone; what other chunks produced is kept. Results are cached by (model, prompt
version, content), so a re-run costs nothing. This module writes nothing to the database: the
workspace saves the chunk records and the elements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Literal, TypeVar

from pydantic import BaseModel, Field

from .adapters.llm import ChatModel, Completion
from .align import ground
from .calls import Cache, ChunkFailure, ask_validated, cache_key, strict_schema
from .choose import value_scores
from .diagnose import diagnose, link_concerns
from .errors import LLMError
from .fields import complete_rules, fill
from .flow import link_flow
from .labels import label_priors, prior_weight, weigh
from .lexicon import language_of, lexicon
from .meaning import RememberedEmbedder, SentenceEmbedder
from .models import (
    AnyElement,
    ChunkRecord,
    ChunkStatus,
    Exception_,
    Finding,
    FindingKind,
    Transcript,
)
from .prompts import Prompt, load_prompt
from .sentences import Unit, chunk_units, core, split_units
from .structure import Group, cue_element, grammar_rows, group_units

__all__ = ["ExtractionRun", "Unit", "extract", "link", "split_units"]

UNITS_PER_CHUNK = 8  # bookkeeping, retry and progress granularity
ProgressFn = Callable[[int, int], None]  # (chunks done, total)
R = TypeVar("R")


# --------------------------------------------------------------------------- labelling


class Label(BaseModel):
    label: Literal["task", "judgment", "exception", "none"]


LABEL_SCHEMA = strict_schema(Label)


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
# this probability (read from the token log-probabilities, weighed with the label prior where
# one is read; kept at 0.35 when the prior was measured, see docs/benchmarks.md session 9);
# below it, the sentence is "none".
# Chosen on the dev hearings by the mean element F1 over gold text and Whisper text (0.3-0.6
# swept with eval/extraction.py --min-probability). Higher: fewer, surer elements; lower: more
# recall.
MIN_LABEL_PROBABILITY = 0.35
# Contextual calibration of the label probabilities (divided by those of content-free
# sentences, "N/A" / "…" / "[MASK]") was tried: dev gold-text F1 0.700 -> 0.584, exceptions
# 0.600 -> 0.222 (the lean towards "none" is what keeps the labels precise). Not used.
# Label a sentence that has a "Before" sentence twice, with and without it, and average the two
# distributions. Measured: dev F1 0.771 -> 0.796 but held-out F1 0.646 -> 0.598, for twice
# the calls; so one look is the default.
VIEWS = 1
# Asking the labelling call for a remark too ({"label": ..., "remark": ...}, the remark a
# finding on that sentence at p >= 0.5) was tried on 2026-12-01: dev finding recall 0.674 ->
# 0.698 (seven hearings) and 0.048 -> 0.095 (dev set 3), but element recall 0.822 -> 0.604
# and 0.796 -> 0.611 (the longer prompt pulls labels to "none"). Not used.


class LabelAnswer(Label):
    """What is cached per sentence: the model's label and its probability per label."""

    scores: dict[str, float] = Field(default_factory=dict)


def label_scores(out: Completion) -> dict[str, float]:
    """Each label's probability at the token where the model writes the label; {} when the
    backend returned no log-probabilities."""
    return value_scores(out.top_logprobs, LABELS)


def decide(
    answer: LabelAnswer, threshold: float = MIN_LABEL_PROBABILITY
) -> tuple[str, float | None]:
    """The label a sentence gets, and the confidence in it (the model's probability, weighed
    with the label prior where one was read)."""
    if not answer.scores:
        return answer.label, None
    best = max(LABELS[:3], key=lambda k: answer.scores.get(k, 0.0))
    p = answer.scores.get(best, 0.0)
    if p >= threshold:
        return best, p
    return "none", answer.scores.get("none", 0.0)


def classify_chunk(
    llm: ChatModel,
    cache: Cache | None,
    record: ChunkRecord,
    units: list[Unit],
    threshold: float = MIN_LABEL_PROBABILITY,
    views: int = VIEWS,
    priors: dict[int, dict[str, float]] | None = None,
    weight: float = 0.0,
) -> list[Unit]:
    """Label each unit: the model's label probabilities, weighed with the unit's label prior
    read by meaning (``labels``; unit index -> prior) to the power ``weight`` where given."""
    prompt = load_prompt("extract_classify")
    prior_of = priors or {}
    for unit in units:
        if not unit.classifiable:
            unit.label = "none"
            continue
        answer = _label(llm, cache, record, prompt, unit_context(unit), unit.text)
        if views > 1 and answer.scores and unit.before:
            # a second look with the question only; the two distributions are averaged
            other = _label(llm, cache, record, prompt, unit_context(unit, before=False), unit.text)
            if other.scores:
                answer = LabelAnswer(
                    label=answer.label,
                    scores={k: (answer.scores[k] + other.scores[k]) / 2 for k in LABELS},
                )
        if answer.scores and unit.index in prior_of:
            answer = LabelAnswer(
                label=answer.label, scores=weigh(answer.scores, prior_of[unit.index], weight)
            )
        unit.label, unit.confidence = decide(answer, threshold)
    return units


def _label(
    llm: ChatModel,
    cache: Cache | None,
    record: ChunkRecord,
    prompt: Prompt,
    context: str,
    text: str,
) -> LabelAnswer:
    messages = prompt.render(context=context, sentence=text)
    key = cache_key(llm.name, prompt.id + "+scores", context + text)
    if cache is not None and (hit := cache.cache_get(key)) is not None:
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
    if cache is not None:
        cache.cache_put(key, answer.model_dump_json())
    return answer


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
    """Drop repeats of the same kind whose evidence overlaps."""
    kept: list[AnyElement] = []
    for el in elements:
        same = [k for k in kept if k.kind == el.kind and _overlaps(k, el)]
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
    units: list[Unit] = field(default_factory=list)
    fields_record: ChunkRecord | None = None  # the calls that filled the fields

    @property
    def failed(self) -> list[ChunkRecord]:
        return [c for c in self.chunks if c.status == ChunkStatus.FAILED]

    @property
    def _records(self) -> list[ChunkRecord]:
        return [*self.chunks, *([self.fields_record] if self.fields_record else [])]

    @property
    def calls(self) -> int:
        return sum(c.calls for c in self._records)

    @property
    def tokens(self) -> tuple[int, int]:
        return (
            sum(c.prompt_tokens for c in self._records),
            sum(c.completion_tokens for c in self._records),
        )

    @property
    def cue_filled(self) -> int:
        """Elements whose fields come from the lexicon because the model's answer failed
        (findings found by a lexicon phrasing are not counted: they have no fields to fill)."""
        return sum(1 for e in self.elements if e.filled_by == "cues" and e.kind != "finding")


def _run_chunk(record: ChunkRecord, work: Callable[[], R], records: list[ChunkRecord]) -> R | None:
    """Run one chunk's calls; on failure record the error on the chunk and return None."""
    result: R | None = None
    try:
        result = work()
        record.status, record.error = ChunkStatus.DONE, None
    except (ChunkFailure, LLMError) as exc:
        record.status, record.error = ChunkStatus.FAILED, str(exc)
    records.append(record)
    return result


def _in_parallel(
    work: Callable[[int], R],
    items: list[int],
    concurrency: int,
    progress: ProgressFn | None,
    total: int,
    start: int = 0,
) -> list[R]:
    """``work`` on each item, ``concurrency`` at a time; results in the items' order. Progress
    is reported as (``start`` + items done, ``total``)."""
    if concurrency <= 1 or len(items) <= 1:
        out = []
        for done, item in enumerate(items, start=1):
            out.append(work(item))
            if progress:
                progress(start + done, total)
        return out
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = {pool.submit(work, item): item for item in items}
        for done, future in enumerate(as_completed(futures), start=1):
            future.result()
            if progress:
                progress(start + done, total)
        return [f.result() for f in futures]


def _speaker_actor(group: Group, default_actor: str) -> str:
    speaker = group.units[0].segment.speaker
    return default_actor or (speaker if speaker not in ("", "interviewee", "author") else "")


def extract(
    transcript: Transcript,
    llm: ChatModel,
    store: Cache | None = None,
    business_area: str = "",
    only_chunks: set[int] | None = None,
    progress: ProgressFn | None = None,
    default_actor: str = "",
    min_label_probability: float = MIN_LABEL_PROBABILITY,
    concurrency: int = 1,
    views: int = VIEWS,
    glossary: list[str] | None = None,
    model_fields: bool = True,
    cue_findings: bool = True,
    embedder: SentenceEmbedder | None = None,
    labels_by_meaning: bool = True,
) -> ExtractionRun:
    """Extract elements and findings; failed chunks are recorded, the rest is kept.

    ``store``: the answer cache (anything with ``cache_get`` / ``cache_put``; nothing else of
    it is used). ``concurrency``: chunks labelled at the same time (a remote API gains from
    several; the embedded server on a laptop has one slot, so 1). ``glossary``: the engagement's
    vocabulary; its terms are the system names looked for in a quote. ``model_fields=False``
    keeps the cue-derived fields (the comparison of issue 13; never the product's default);
    ``cue_findings=False`` leaves out the lexicon's findings (to measure the model's own).
    ``embedder``: the knowledge base's sentence embedder, which reads remarks by meaning
    (``remarks``); where it does, the findings come from it and the lexicon, and the remark a
    fields answer notes is not used (measured worse, see ``diagnose``). It also reads each
    sentence's nearness to example steps, rules and irregular cases (``labels``), weighed into
    the model's label probabilities; ``labels_by_meaning=False`` leaves the model's alone (the
    same-run comparison of the evaluation)."""
    cache = store
    # labels and remarks read the same sentences: each is embedded once per hearing
    embedder = RememberedEmbedder(embedder) if embedder is not None else None
    language = transcript.language.value
    iid = transcript.interview_id
    records: list[ChunkRecord] = []
    units = split_units(transcript)
    chunks = chunk_units(units, UNITS_PER_CHUNK)

    def label_chunk(n: int) -> list[Unit] | None:
        seg_ids = list(dict.fromkeys(u.segment.id for u in chunks[n]))
        record = ChunkRecord(interview_id=iid, index=n, segment_ids=seg_ids)
        return _run_chunk(
            record,
            partial(
                classify_chunk,
                llm,
                cache,
                record,
                chunks[n],
                min_label_probability,
                views,
                priors,
                weight,
            ),
            records,
        )

    todo = [n for n in range(len(chunks)) if only_chunks is None or n in only_chunks]
    # the label priors of every sentence to label, read once (the embedder is not called from
    # the labelling threads)
    meaning = embedder if labels_by_meaning else None
    to_label = [u for n in todo for u in chunks[n] if u.classifiable]
    read = label_priors([u.text for u in to_label], meaning)
    priors = dict(zip((u.index for u in to_label), read, strict=True)) if read else {}
    weight = prior_weight(meaning) if priors else 0.0
    done_units: list[Unit] = []
    # progress in steps: one per chunk labelled, then one per chunk's worth of fields filled
    steps = 2 * len(chunks) if model_fields else len(chunks)
    already = len(chunks) - len(todo)  # on a retry, the chunks done before count as done
    for labelled in _in_parallel(label_chunk, todo, concurrency, progress, steps, already):
        if labelled is not None:
            done_units += labelled
    records.sort(key=lambda r: r.index)

    system_names = [*(glossary or []), *lexicon(language).words("systems")]
    groups = group_units(units, done_units, language)
    fields_record = ChunkRecord(interview_id=iid, index=-1, segment_ids=[])
    by_index = {r.index: r for r in records}
    elements: list[AnyElement] = []
    # grouped by kind, so that consecutive calls share their prompt's prefix in the server cache
    filled: dict[int, list[AnyElement] | None] = {}
    order = [n for kind in LABELS[:3] for n, g in enumerate(groups) if g.label == kind]
    for k, n in enumerate(order if model_fields else [], start=1):
        group = groups[n]
        chunk = group.units[0].index // UNITS_PER_CHUNK
        filled[n] = fill(
            llm,
            cache,
            by_index.get(chunk, fields_record),  # the calls count on the element's chunk
            group,
            units,
            transcript,
            group.units[0].index // UNITS_PER_CHUNK,
            _speaker_actor(group, default_actor),
            system_names,
        )
        if progress:  # the last step waits for the rules' other sides below
            progress(min(len(chunks) + round(k * len(chunks) / len(order)), steps - 1), steps)
    for n in order if model_fields else []:
        made = filled[n]
        if made is not None:
            group = groups[n]
            record = by_index.get(group.units[0].index // UNITS_PER_CHUNK, fields_record)
            complete_rules(llm, cache, record, group, units, transcript, made)
    if progress and model_fields:
        progress(steps, steps)
    for n, group in enumerate(groups):
        made = filled.get(n)
        if made is None:
            quote = transcript.text[group.start : group.end]
            turn = " ".join(u.text for u in units if u.segment.id == group.units[0].segment.id)
            el = cue_element(
                group.label,
                quote,
                ground(quote, transcript, near=group.start),
                iid,
                group.units[0].index // UNITS_PER_CHUNK,
                _speaker_actor(group, default_actor),
                turn,
                language,
                system_names,
            )
            el.confidence = group.confidence
            if not model_fields:
                el.filled_by = "cues"
            made = [el]
        elements += made
    # the model's findings go after the lexicon's, so that where both saw the same remark the
    # lexicon's (one sentence) is kept by merge_duplicates
    noted = [e for e in elements if isinstance(e, Finding)]
    elements = [e for e in elements if not isinstance(e, Finding)]
    found = diagnose(
        units, done_units, elements, transcript, UNITS_PER_CHUNK, cue_findings, embedder, noted
    )
    elements = [e for e in elements if not _only_a_remark(e, found)]
    elements += found
    return ExtractionRun(merge_duplicates(elements), records, units, fields_record)


def _only_a_remark(element: AnyElement, findings: list[Finding]) -> bool:
    """An "exception" whose whole quote is a remark that a step is not needed ("nobody has
    opened that binder in years") and tells no case: an evaluation of a task, not an irregular
    event. One that tells a case and its handling stays, beside its remark."""
    if not isinstance(element, Exception_):
        return False
    said = " ".join(ev.quote for ev in element.evidence)
    quote = core(said)
    return (
        bool(quote)
        and not grammar_rows(said, language_of(said, "ja"))
        and any(
            isinstance(f, Finding)
            and f.finding == FindingKind.UNNECESSARY_TASK
            and quote in core(" ".join(ev.quote for ev in f.evidence))
            for f in findings
        )
    )


def link(saved: list[AnyElement], transcript: Transcript | None = None) -> None:
    """Once the elements have ids: findings to the elements they concern, tasks into a flow."""
    link_concerns(saved, transcript)
    link_flow(saved)
