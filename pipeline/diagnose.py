"""The diagnosis: findings about how the work is designed, each with its quote.

Deterministic lexical detectors (Japanese and English) run over the interviewee's sentences:
they are cheap, explainable and do not depend on a weak model noticing a hedge. The cue lists
were written from the hearing method's vocabulary, not copied from the sample annotations.

- judgment_without_rule: 「その都度判断」「ケースバイケース」「なんとなく」「決まっていない」,
  "it depends", "case by case", "I eyeball it"; and every judgment whose criterion is ABSENT.
- person_dependency: 「〜さんしか分からない」「〜さんだけ」「休みだと止まる」, "only Anna knows".
- precedent_following: 「前回と同じ」「前例」「前任の方が作った」, "like last time".
- oral_only_criterion: 「口頭で」「規程には書いていない」, "verbally", "not written down".
- approval_route_varies: 「人によって」「部署によって違う」, "depends on who reviews".
- unnecessary_task: 「誰も見ていない」「念のため」「二重入力」, "nobody looks at it".
- routine_exception: 「毎月」「いつも」, "every month" said about an exception (same turn).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .align import ground
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

if TYPE_CHECKING:
    from .extract import Unit

K = FindingKind
CUES: dict[FindingKind, re.Pattern[str]] = {
    K.JUDGMENT_WITHOUT_RULE: re.compile(
        r"その都度[^。]{0,8}(判断|決め)|ケースバイケース|なんとなく(?!続)|決まって(い)?(ない|なく|ません)|"
        r"基準(は|が)(ない|なく|ありません)|感覚で|勘で|気分で|case[- ]by[- ]case|"
        r"it depends(?! on (?:who|which))|"
        r"eyeball|gut feel|no (?:fixed|clear|written|set) (?:rule|threshold|criteria|number|limit)|"
        r"judg(?:e)?ment call",
        re.I,
    ),
    K.PERSON_DEPENDENCY: re.compile(
        r"しか(分から|わから|知ら|でき|やれ)|[一-龥ァ-ヶー]{1,6}さん(だけ|のみ)が|"
        r"(休み|不在|いない)(だ|の)?(と|とき)[^。]{0,10}(止ま|回らな|でき|分からな|決められ|進ま)|属人|"
        r"only [A-Z][a-z]+ (?:knows|understands|can)|nobody else (?:knows|can)|"
        r"wait(?:ed)? for (?:him|her|them) to (?:come back|return)|"
        r"(?:when|if) (?:he|she|they) (?:is|are|'s) (?:off|away|on holiday|on vacation|out)",
        re.I,
    ),
    K.PRECEDENT_FOLLOWING: re.compile(
        r"前回と同じ|前回通り|前例|去年と同じ|先月と同じ|前任(者|の方)が(作|や|決め)|昔から|"
        r"like last (?:time|month|year)|same as last (?:time|month|year)|"
        r"how it was done (?:last|before)|"
        r"(?:we've|we have|it's|it has) always (?:done|been done)|that's how it'?s always|"
        r"my predecessor|precedent",
        re.I,
    ),
    K.ORAL_ONLY_CRITERION: re.compile(
        r"口頭で|口頭の|規程に(は)?(書いて|載って)(い)?(ない|ません)|明文化(されて)?(い)?(ない|ません)|"
        r"文書(化|に)(されて|なって)(い)?(ない|ません)|"
        r"(どこにも|どこかに|文書に|マニュアルに)(も)?(書いて|載って|残って)(い)?(ない|ません)|"
        r"(会議|口頭|朝礼)で言っ(た|ていた)だけ|verbally|told (?:us|me) (?:once|years ago)|"
        r"said (?:it|so|that) in a meeting|"
        r"(?:never|isn't|is not|not) written (?:down|anywhere)|unwritten|word of mouth|"
        r"not in (?:the|any|our) (?:\w+ )?(?:policy|manual|handbook)",
        re.I,
    ),
    K.APPROVAL_ROUTE_VARIES: re.compile(
        r"人によって|部署によって[^。]{0,6}(違|異な)|担当者によって|(ルート|承認者|経路)が(違|異な|バラバラ)|"
        r"depends on (?:who|which (?:reviewer|approver|manager))|"
        r"(?:some|other) (?:reviewers|approvers|managers) (?:want|ask|skip|send)|"
        r"different (?:approvers|approval routes|routes)|"
        r"(?:route|approver|approval) (?:\w+ ){0,3}(?:changes|varies|differs) (?:with|by) "
        r"(?:the )?(?:person|reviewer|approver|manager)",
        re.I,
    ),
    K.UNNECESSARY_TASK: re.compile(
        r"誰も(見て|使って|読んで)(い)?(ない|ません)|使われて(い)?(ない|ません)|"
        r"意味(が)?(ない|ありません)|念のため|二重(入力|チェック|管理)|"
        r"(二つ|2つ|両方|別々)の[^。]{0,8}に同じ|同じ(内容|データ)を[^。]{0,8}(二回|2回|両方)|"
        r"(nobody|no one|no-one) (?:ever )?(?:has )?(?:looks? at|looked at|reads?|uses?|used|"
        r"checks?|checked|opens?|opened)|"
        r"never (?:looked at|used|read)|just in case|duplicate (?:entry|data entry)|"
        r"(?:don't|do not) know why we",
        re.I,
    ),
    K.ROUTINE_EXCEPTION: re.compile(
        r"毎月|毎週|毎回|毎日|いつも|しょっちゅう|日常的|every (?:month|week|time|day)|each month|"
        r"every single (?:month|week|time|day)|all the time|happens (?:every|each)|always happens",
        re.I,
    ),
}

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
    from .structure import summarise

    end = (last or first).end
    quote = transcript.text[first.start : end]
    return Finding(
        interview_id=transcript.interview_id,
        summary=f"{_label(kind, ja)}: {summarise(quote)}",
        finding=kind,
        evidence=[ground(quote, transcript, near=first.start)],
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
) -> list[Finding]:
    """Findings from lexical cues on the processed sentences, plus ABSENT-criterion judgments."""
    ja = transcript.language.value == "ja"
    found: list[Finding] = []
    seen: set[tuple[FindingKind, int]] = set()
    open_remark: dict[FindingKind, tuple[int, Unit]] = {}  # kind -> (index in found, first unit)
    last_unit: dict[FindingKind, Unit] = {}
    for unit in done:
        if not unit.classifiable:
            continue
        for kind, cue in CUES.items():
            if not cue.search(unit.text):
                continue
            if kind == K.ROUTINE_EXCEPTION and not _near_exception(unit, units, elements):
                continue
            seen.add((kind, unit.index))
            prev = last_unit.get(kind)
            last_unit[kind] = unit
            if prev is not None and _same_remark(prev, unit, units):
                n, first = open_remark[kind]
                found[n] = _finding(kind, first, transcript, ja, first.index // chunk_size, unit)
                continue
            open_remark[kind] = (len(found), unit)
            found.append(_finding(kind, unit, transcript, ja, unit.index // chunk_size))
    # a judgment the structuring step marked ABSENT is itself a finding, unless a cue in its
    # sentences already said so
    covered = [_span(f) for f in found if f.finding == K.JUDGMENT_WITHOUT_RULE]
    by_start = {u.start: u for u in units}
    for el in elements:
        if isinstance(el, Judgment) and el.criterion == CriterionStatus.ABSENT and el.evidence:
            span = _span(el)
            if span is not None and any(
                c is not None and c[0] < span[1] and span[0] < c[1] for c in covered
            ):
                continue
            start = el.evidence[0].char_start
            hit = by_start.get(start) if start is not None else None
            if hit is not None and (K.JUDGMENT_WITHOUT_RULE, hit.index) not in seen:
                seen.add((K.JUDGMENT_WITHOUT_RULE, hit.index))
                found.append(
                    _finding(K.JUDGMENT_WITHOUT_RULE, hit, transcript, ja, hit.index // chunk_size)
                )
    return found


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
