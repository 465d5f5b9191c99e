"""The diagnosis: findings about how the work is designed, each with its quote.

Sources, on the interviewee's sentences:

- the sentence's meaning (``remarks``): which kind of fault it is closest to, by sentence
  embeddings against example remarks per kind; catches remarks said indirectly
  (「誰のOKで通すか、月によってまちまち」, "nobody could give me a name");
- the lexicon's phrasings per language (``pipeline/lexicon``, entries named as the finding
  kinds); where a phrasing fires it decides the kind;
- only where remarks are not read by meaning (no embedder with a measured margin): the model's
  own answers, a judgment whose criterion the fields call found ABSENT, an exception it found
  routine.

The kinds, with phrasings of the lexicon:

- judgment_without_rule: 「その都度判断」「ケースバイケース」「なんとなく」「決まっていない」,
  "it depends", "case by case", "I eyeball it".
- person_dependency: 「〜さんしか分からない」「〜さんだけ」「休みだと止まる」, "only Anna knows".
- precedent_following: 「前回と同じ」「前例」「前任の方が作った」, "like last time".
- oral_only_criterion: 「口頭で」「規程には書いていない」, "verbally", "not written down".
- approval_route_varies: 「人によって」「部署によって違う」, "depends on who reviews".
- unnecessary_task: 「誰も見ていない」「念のため」「二重入力」, "nobody looks at it".
- routine_exception: 「毎月」「いつも」, "every month" said about an exception (same turn).
"""

from __future__ import annotations

import re

from .align import ground
from .lexicon import both
from .models import (
    FINDING_LABELS_JA,
    AnyElement,
    CriterionStatus,
    Exception_,
    Finding,
    FindingKind,
    Judgment,
    Transcript,
)
from .remarks import SentenceEmbedder, remark_kinds
from .sentences import Unit, summarise

K = FindingKind
KINDS: tuple[FindingKind, ...] = tuple(FindingKind)


def cue(kind: FindingKind, language: str) -> re.Pattern[str]:
    """The lexicon's phrasings for a finding kind (entry named as the kind), in the hearing's
    language and the other (hearings mix them)."""
    return both().re(kind.value)


RECOMMENDATION: dict[FindingKind, tuple[str, str]] = {  # (ja, en)
    K.UNNECESSARY_TASK: (
        "作業の目的と利用者を確認し、不要なら廃止する。",
        "Confirm who uses the output; drop the task if nobody does.",
    ),
    K.ROUTINE_EXCEPTION: (
        "例外ではなく通常フローとして手順化する。",
        "Make it part of the normal flow with a written procedure.",
    ),
    K.JUDGMENT_WITHOUT_RULE: (
        "判断基準（条件と結果）を決めて文書化する。",
        "Define and document the decision criteria.",
    ),
    K.PERSON_DEPENDENCY: (
        "手順を文書化し、代替担当者を決める。",
        "Document the procedure and name a backup.",
    ),
    K.APPROVAL_ROUTE_VARIES: (
        "承認ルートを一本化し、規程に明記する。",
        "Standardise the approval route and write it down.",
    ),
    K.ORAL_ONLY_CRITERION: (
        "口頭の基準を規程・マニュアルに明記する。",
        "Write the oral rule into the policy or manual.",
    ),
    K.PRECEDENT_FOLLOWING: (
        "前例ではなく明文の基準を定める。",
        "Replace 'same as last time' with a stated rule.",
    ),
}

_EXCEPTION_NEIGHBOURHOOD = 2  # sentences either side, same speaker, for routine_exception
_SAME_REMARK = 2  # sentences: cues of one kind this close together are one finding


def _label(kind: FindingKind, ja: bool) -> str:
    return FINDING_LABELS_JA[kind] if ja else kind.value.replace("_", " ")


def _finding(
    kind: FindingKind,
    first: Unit,
    transcript: Transcript,
    ja: bool,
    chunk: int,
    last: Unit | None = None,
) -> Finding:
    """A finding quoting ``first`` (through ``last`` when one remark spans several sentences)."""
    return finding_at(kind, first.start, (last or first).end, transcript, chunk)


def finding_at(
    kind: FindingKind, start: int, end: int, transcript: Transcript, chunk: int
) -> Finding:
    """A finding quoting ``transcript.text[start:end]``, with its recommendation."""
    ja = transcript.language.value != "en"
    first_start = start
    quote = transcript.text[start:end]
    return Finding(
        interview_id=transcript.interview_id,
        summary=f"{_label(kind, ja)}: {summarise(quote, transcript.language.value)}",
        finding=kind,
        evidence=[ground(quote, transcript, near=first_start)],
        recommendation=RECOMMENDATION[kind][0 if ja else 1],
        source_chunk=chunk,
    )


def _same_remark(a: Unit, b: Unit, units: list[Unit]) -> bool:
    """``b`` continues the remark ``a`` made: same speaker, at most two sentences later, with
    nobody else speaking in between."""
    if not 0 < b.index - a.index <= _SAME_REMARK:
        return False
    between = [u for u in units if a.index <= u.index <= b.index]
    return all(u.segment.speaker == a.segment.speaker for u in between)


def _near_exception(unit: Unit, units: list[Unit], elements: list[AnyElement]) -> bool:
    lo, hi = unit.index - _EXCEPTION_NEIGHBOURHOOD, unit.index + _EXCEPTION_NEIGHBOURHOOD
    spans = [
        (u.start, u.end)
        for u in units
        if lo <= u.index <= hi and u.segment.speaker == unit.segment.speaker
    ]
    for el in elements:
        if not isinstance(el, Exception_):
            continue
        for ev in el.evidence:
            if ev.char_start is None or ev.char_end is None:
                continue
            if any(ev.char_start < e and s < ev.char_end for s, e in spans):
                return True
    return False


def diagnose(
    units: list[Unit],
    done: list[Unit],
    elements: list[AnyElement],
    transcript: Transcript,
    chunk_size: int = 8,
    cues: bool = True,
    embedder: SentenceEmbedder | None = None,
    noted: list[Finding] | None = None,
) -> list[Finding]:
    """Findings on the processed sentences: the lexicon's cues and, where no cue fires, the
    sentence's meaning (``remarks``, given an ``embedder`` whose margin was measured); unless
    ``cues`` is False. Without remarks by meaning, also the model's own answers: judgments whose
    criterion it found ABSENT and exceptions it found routine (on the dev hearings these added
    false findings and no true one once remarks were read by meaning, see docs/benchmarks.md),
    and the findings the fields answers ``noted``, last."""
    lang = transcript.language.value
    ja = lang == "ja"
    found: list[Finding] = []
    seen: set[tuple[FindingKind, int]] = set()
    open_remark: dict[FindingKind, tuple[int, Unit]] = {}  # kind -> (index in found, first unit)
    last_unit: dict[FindingKind, Unit] = {}
    said = [u for u in done if u.classifiable] if cues else []
    read = remark_kinds([u.text for u in said], embedder) if cues else None
    by_meaning: list[str | None] = read if read is not None else [None] * len(said)
    for unit, meant in zip(said, by_meaning, strict=True):
        hits = [k for k in KINDS if cue(k, lang).search(unit.text)]
        source = "cues"
        if not hits and meant is not None:
            hits, source = [FindingKind(meant)], "meaning"
        for kind in hits:
            if kind == K.ROUTINE_EXCEPTION and not _near_exception(unit, units, elements):
                continue
            seen.add((kind, unit.index))
            prev = last_unit.get(kind)
            last_unit[kind] = unit
            if prev is not None and _same_remark(prev, unit, units):
                n, first = open_remark[kind]
                by = found[n].filled_by
                found[n] = _finding(kind, first, transcript, ja, first.index // chunk_size, unit)
                # a remark partly read by meaning is flagged for review as such
                found[n].filled_by = "meaning" if "meaning" in (by, source) else "cues"
                continue
            open_remark[kind] = (len(found), unit)
            found.append(_finding(kind, unit, transcript, ja, unit.index // chunk_size))
            found[-1].filled_by = source
    # the model's answers: a judgment whose criterion is ABSENT, an exception it found routine;
    # each is a finding unless a cue in its sentences already said so
    by_start = {u.start: u for u in units}
    for el in [] if read is not None else elements:
        if isinstance(el, Judgment) and el.criterion == CriterionStatus.ABSENT:
            kind = K.JUDGMENT_WITHOUT_RULE
        elif isinstance(el, Exception_) and el.is_routine:
            kind = K.ROUTINE_EXCEPTION
        else:
            continue
        span = _span(el)
        covered = [_span(f) for f in found if f.finding == kind]
        if span is None or any(
            c is not None and c[0] < span[1] and span[0] < c[1] for c in covered
        ):
            continue
        hit = by_start.get(span[0])
        if hit is not None and (kind, hit.index) not in seen:
            seen.add((kind, hit.index))
            found.append(_finding(kind, hit, transcript, ja, hit.index // chunk_size))
            found[-1].filled_by = "model"
    return found if read is not None else [*found, *(noted or [])]


def _span(el: AnyElement) -> tuple[int, int] | None:
    ev = [e for e in el.evidence if e.char_start is not None and e.char_end is not None]
    if not ev:
        return None
    return min(e.char_start for e in ev if e.char_start is not None), max(
        e.char_end for e in ev if e.char_end is not None
    )


def link_concerns(elements: list[AnyElement], transcript: Transcript | None = None) -> None:
    """A finding concerns the elements stated in the same segment (turn), else the nearest
    element before it within the two preceding segments."""
    seg_order = {s.id: n for n, s in enumerate(transcript.segments)} if transcript else {}
    others = [e for e in elements if not isinstance(e, Finding)]
    for f in elements:
        if not isinstance(f, Finding) or f.concerns:
            continue
        fspan = _span(f)
        fsegs = {s for e in f.evidence for s in e.segment_ids}
        if fspan is None:
            continue
        pool = others
        if f.finding == K.ROUTINE_EXCEPTION:
            pool = [e for e in others if isinstance(e, Exception_)] or others
        same = [e for e in pool if fsegs & {s for ev in e.evidence for s in ev.segment_ids}]
        if same:
            f.concerns = [e.id for e in same]
            continue
        fpos = min((seg_order.get(s, 1 << 30) for s in fsegs), default=1 << 30)
        best, best_gap = None, 3
        for e in pool:
            epos = min(
                (seg_order.get(s, 1 << 30) for ev in e.evidence for s in ev.segment_ids),
                default=1 << 30,
            )
            gap = fpos - epos
            if 0 <= gap < best_gap:
                best, best_gap = e, gap
        if best is not None:
            f.concerns = [best.id]
