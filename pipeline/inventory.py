"""Many hearings -> one work inventory (業務一覧): elements that describe the same step become
one item with a stable 業務ID, every quote kept as provenance.

Consolidation is a pure function of the elements, the engagement and the reviewer's decisions:

1. Candidates: tasks, judgments and exceptions (not findings), not rejected or retired.
2. Every pair of the same kind from *different* hearings gets a similarity score: character
   bigrams of the step's core text (action / decision / trigger, else the summary) with numbers
   masked (so 10万円 and 30万円 still look alike: that is a difference, not another step), plus
   the interviewer's question before it when known, plus an embedding cosine when an embedder
   is given.
3. Pairs at or above ``MERGE`` merge; pairs in the grey band ``[ASK, MERGE)`` are put to the
   model as one yes/no question when a chat model is given (otherwise they stay apart and are
   listed as candidates for the reviewer).
4. Greedy, best pair first; two elements of one hearing never end up in one item (a hearing
   tells a step once), and the reviewer's ``split`` pairs never merge; ``merge`` groups always do.

The 業務ID is ``W-`` plus the item's anchor element id (the lowest element id among its members,
or a reviewer's pinned id), so editing text, approving or re-exporting keeps every ID.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from .models import (
    AnyElement,
    BusinessArea,
    Engagement,
    Exception_,
    Interview,
    Judgment,
    ReviewStatus,
    Task,
    Transcript,
)

if TYPE_CHECKING:
    from .adapters.llm import ChatModel

ItemKind = Literal["task", "judgment", "exception"]
KIND_JA: dict[str, str] = {"task": "作業", "judgment": "判断", "exception": "例外"}
MERGE = 0.30  # merge without asking (tf-idf bigram cosine)
ASK = 0.18  # ask the model (or list as a candidate) from here
UNSORTED = "未分類"


class Provenance(BaseModel):
    """One quote behind an inventory item: which hearing, who, when in the audio."""

    element_id: str
    interview_id: str
    hearing: str = ""
    person: str = ""  # the interviewee (name), else the speaker label
    quote: str = ""
    audio_start: float | None = None
    audio_end: float | None = None
    status: ReviewStatus = ReviewStatus.DRAFT


class InventoryItem(BaseModel):
    id: str  # 業務ID, stable
    kind: ItemKind
    name: str  # short label (小分類)
    area: list[str] = Field(default_factory=list)  # [大分類, 中分類]
    members: list[str] = Field(default_factory=list)  # element ids, anchor first
    sources: list[Provenance] = Field(default_factory=list)
    order: float = 0.0  # position in the engagement's flow (0..1)
    confirmed: bool = False  # the reviewer confirmed the grouping

    @property
    def people(self) -> list[str]:
        return sorted({s.person for s in self.sources if s.person})

    @property
    def single_source(self) -> bool:
        """Told by only one person: nobody has confirmed it."""
        return len(self.people) <= 1

    @property
    def approved(self) -> bool:
        return any(s.status == ReviewStatus.APPROVED for s in self.sources)


class Decisions(BaseModel):
    """The reviewer's corrections, stored per engagement and re-applied on every build."""

    merge: list[list[str]] = Field(default_factory=list)  # element-id groups that are one item
    split: list[list[str]] = Field(default_factory=list)  # element-id pairs that never merge
    area: dict[str, list[str]] = Field(default_factory=dict)  # 業務ID -> [大, 中]
    name: dict[str, str] = Field(default_factory=dict)  # 業務ID -> 小分類 label
    confirmed: list[str] = Field(default_factory=list)  # 業務IDs
    workload: dict[str, dict[str, float]] = Field(default_factory=dict)  # 業務ID -> fields


class Candidate(BaseModel):
    a: str
    b: str
    score: float
    decided_by: Literal["similarity", "model", "reviewer", "open"] = "similarity"


class Inventory(BaseModel):
    engagement_id: str
    items: list[InventoryItem]
    candidates: list[Candidate] = Field(default_factory=list)  # grey-band pairs left apart
    model_calls: int = 0

    def by_id(self) -> dict[str, InventoryItem]:
        return {i.id: i for i in self.items}

    def item_of(self) -> dict[str, str]:
        return {m: i.id for i in self.items for m in i.members}


# --------------------------------------------------------------------------- text


_FILLER = re.compile(r"えーと|えっと|えー|あのー|あの|まあ|はい、|ええ、|正直、|くらい|ぐらい|ほど")
_DIGITS = re.compile(r"[0-9０-９,，.]+|[一二三四五六七八九十百千]+(?=[万円件日回分時])")


def core_text(el: AnyElement) -> str:
    """What the step *is*, in a few words: the field the extraction filled, else the summary."""
    if isinstance(el, Task):
        main = el.action or el.summary
    elif isinstance(el, Judgment):
        main = " ".join([el.decision or el.summary, *(r.condition for r in el.rules)])
    elif isinstance(el, Exception_):
        main = " ".join([el.trigger or el.summary, el.handling])
    else:
        main = el.summary
    return main if main.strip() else el.summary


def normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower()
    t = _FILLER.sub("", t)
    t = _DIGITS.sub("#", t)
    return re.sub(r"[\s、。,.・「」『』（）()：:/／!！?？]+", " ", t).strip()


def _bigrams(text: str) -> Counter[str]:
    out: Counter[str] = Counter()
    for word in normalise(text).split():
        if word.isascii():
            out[word] += 2  # whole words for latin script
            continue
        if len(word) == 1:
            out[word] += 1
        for i in range(len(word) - 1):
            gram = word[i : i + 2]
            if gram != "##":
                out[gram] += 1
    return out


def _cosine(a: Counter[str] | dict[str, float], b: Counter[str] | dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


_LABEL_HEAD = re.compile(
    r"^.{0,40}?(?:場合は|場合、|ときは|時は|なら、|たら、|れば、|ので、)|^[^、。]{1,14}?(?:が|は)、"
)


_ACTOR_HEAD = re.compile(r"^[^、。がは]{1,10}?(?:が|は)(?!い|な|あ)")


def short_label(el: AnyElement, limit: int = 22) -> str:
    """A short action label for tables and flow boxes (not a whole sentence)."""
    if isinstance(el, Judgment) and el.decision and len(el.decision) <= limit:
        text = el.decision
    elif isinstance(el, Exception_) and el.trigger and len(el.trigger) <= limit:
        text = el.trigger
    elif isinstance(el, Task) and el.action and len(el.action) <= limit:
        text = el.action
    else:
        text = el.summary
    return shorten(text, limit)


_PLAIN = [
    ("ようにしています", "ようにする"),
    ("しています", "している"),
    ("ています", "ている"),
    ("てもらいます", "てもらう"),
    ("ってもらいます", "ってもらう"),
    ("します", "する"),
    ("きます", "く"),
    ("ぎます", "ぐ"),
    ("ちます", "つ"),
    ("にます", "ぬ"),
    ("びます", "ぶ"),
    ("みます", "む"),
    ("ります", "る"),
    ("います", "う"),
    ("ます", "る"),
    ("です", ""),
]
_INSTRUMENT = re.compile(r"^[^、。]{1,14}?で(?=[^、。]{4,})")


def plain_form(text: str) -> str:
    """「送ります」 -> 「送る」: the dictionary form reads better in a label."""
    for polite, plain in _PLAIN:
        if text.endswith(polite):
            return text[: -len(polite)] + plain
    return text


def shorten(text: str, limit: int = 22) -> str:
    text = unicodedata.normalize("NFKC", text).strip().rstrip("。.")
    text = re.sub(r"[（(][^）)]*[）)]", "", text).strip()
    if len(text) <= limit:
        return text
    text = plain_form(text.split("。")[0].rstrip("、 "))

    def strip(text: str) -> str:
        for pattern in (_LABEL_HEAD, _ACTOR_HEAD, _INSTRUMENT):
            if len(text) <= limit or text.isascii():
                break
            stripped = pattern.sub("", text, count=1)
            if len(stripped) >= 6:
                text = stripped
        return text

    text = strip(text)
    if len(text) > limit and "、" in text:
        tail = text.rsplit("、", 1)[1]
        if len(tail) >= 8:
            text = strip(tail)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


# --------------------------------------------------------------------------- provenance


def _person(interview: Interview | None, speaker: str) -> str:
    if interview and interview.interviewee:
        return interview.interviewee
    if interview and interview.interviewee_roles:
        return "・".join(interview.interviewee_roles)
    return speaker or (interview.title if interview else "")


def provenance(el: AnyElement, interview: Interview | None) -> Provenance:
    ev = el.evidence[0] if el.evidence else None
    return Provenance(
        element_id=el.id,
        interview_id=el.interview_id,
        hearing=interview.title if interview else el.interview_id,
        person=_person(interview, ev.speaker if ev else ""),
        quote=ev.quote if ev else "",
        audio_start=ev.audio_start if ev else None,
        audio_end=ev.audio_end if ev else None,
        status=el.status,
    )


def question_before(el: AnyElement, transcript: Transcript | None) -> str:
    """The interviewer's turn just before the element's evidence (what was asked), if known."""
    if transcript is None or not el.evidence or not el.evidence[0].segment_ids:
        return ""
    first = el.evidence[0].segment_ids[0]
    segs = transcript.segments
    idx = next((i for i, s in enumerate(segs) if s.id == first), None)
    if idx is None:
        return ""
    speaker = segs[idx].speaker
    for j in range(idx - 1, max(-1, idx - 6), -1):
        if segs[j].speaker and segs[j].speaker != speaker:
            return segs[j].text
    return ""


# --------------------------------------------------------------------------- consolidation


def _element_key(element_id: str) -> tuple[str, int, str]:
    m = re.match(r"^([A-Za-z]+)(\d+)$", element_id)
    return (m.group(1), int(m.group(2)), "") if m else ("~", 0, element_id)


def candidates_of(elements: Iterable[AnyElement]) -> list[AnyElement]:
    skip = {ReviewStatus.REJECTED, ReviewStatus.RETIRED}
    return [e for e in elements if e.kind != "finding" and e.status not in skip]


class _Groups:
    def __init__(self, ids: Sequence[str], hearing: dict[str, str]):
        self.parent = {i: i for i in ids}
        self.hearings = {i: {hearing[i]} for i in ids}
        self.members = {i: {i} for i in ids}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str, forbidden: set[frozenset[str]], force: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if not force:
            if self.hearings[ra] & self.hearings[rb]:
                return False
            if any(
                frozenset((x, y)) in forbidden for x in self.members[ra] for y in self.members[rb]
            ):
                return False
        self.parent[rb] = ra
        self.hearings[ra] |= self.hearings.pop(rb)
        self.members[ra] |= self.members.pop(rb)
        return True


SameStep = Callable[[AnyElement, AnyElement], bool]


def model_check(chat: ChatModel) -> SameStep:
    """One short yes/no question to the chat model per grey-band pair (``prompts/``)."""
    from .prompts import load_prompt

    prompt = load_prompt("inventory_same_step")

    def same(a: AnyElement, b: AnyElement) -> bool:
        def said(e: AnyElement) -> str:
            quote = e.evidence[0].quote if e.evidence else ""
            return f"{core_text(e)}（「{quote}」）" if quote else core_text(e)

        messages = prompt.render(a=said(a), b=said(b))
        answer = chat.complete(messages, max_tokens=3).text
        return answer.strip().lower().lstrip("「\"' ").startswith(("yes", "はい"))

    return same


_ACTIONS = re.compile(
    r"確認|作成|作る|作り|登録|照合|突合|突き合わせ|送付|送信|送る|送り|保管|保存|集計|修正|入力|承認|"
    r"申請|発行|提出|回付|回す|回し|支払|支払う|振込|催促|連絡|転記|印刷|郵送|ファイリング|検収|発注|見積|"
    r"精算|計上|出力|取込|取り込|チェック|起票|交渉|依頼|"
    r"\b(?:check|create|prepare|enter|post|send|file|approve|reconcile|match|pay|chase|record)\w*",
    re.I,
)


def actions(text: str) -> set[str]:
    """The business verbs a step names (確認, 作成, 送付 …), normalised to their stems."""
    found = {m.group(0).lower() for m in _ACTIONS.finditer(unicodedata.normalize("NFKC", text))}
    return {f[:2] if not f.isascii() else f[:5] for f in found}


def pair_scores(
    els: Sequence[AnyElement],
    contexts: dict[str, str] | None = None,
    vectors: dict[str, list[float]] | None = None,
    floor: float = ASK,
) -> list[tuple[float, str, str]]:
    """Scores of cross-hearing pairs of one kind at or above ``floor``, best first."""
    contexts = contexts or {}
    raw = {e.id: _bigrams(core_text(e)) for e in els}
    raw_summ = {e.id: _bigrams(e.summary) for e in els}
    # bigrams every step shares (「する」「書を」) say little: weight by inverse document frequency
    df: Counter[str] = Counter()
    for e in els:
        df.update(set(raw[e.id]) | set(raw_summ[e.id]))
    n_docs = max(1, len(els))

    def weigh(c: Counter[str]) -> Counter[str]:
        return Counter({g: v * math.log(1 + n_docs / df.get(g, 1)) for g, v in c.items()})

    grams = {k: weigh(v) for k, v in raw.items()}
    summ = {k: weigh(v) for k, v in raw_summ.items()}
    ctx = {e.id: weigh(_bigrams(contexts.get(e.id, ""))) for e in els}
    verbs = {e.id: actions(core_text(e) + " " + e.summary) for e in els}
    # an inverted index on bigrams keeps this near-linear for hundreds of items
    postings: dict[str, set[int]] = {}
    for n, e in enumerate(els):
        for g in grams[e.id] | summ[e.id]:
            postings.setdefault(g, set()).add(n)
    out: list[tuple[float, str, str]] = []
    for n, a in enumerate(els):
        near: set[int] = set()
        for g in grams[a.id] | summ[a.id]:
            near |= {m for m in postings[g] if m > n}
        for m in near:
            b = els[m]
            if a.kind != b.kind or a.interview_id == b.interview_id:
                continue
            lexical = max(_cosine(grams[a.id], grams[b.id]), _cosine(summ[a.id], summ[b.id]))
            if verbs[a.id] and verbs[b.id] and not verbs[a.id] & verbs[b.id]:
                lexical *= 0.5  # 請求書を確認する vs 請求書を作成する: other steps on one document
            asked = _cosine(ctx[a.id], ctx[b.id]) if ctx[a.id] and ctx[b.id] else 0.0
            score = lexical + 0.25 * max(0.0, asked - lexical)
            if vectors and a.id in vectors and b.id in vectors:
                va, vb = vectors[a.id], vectors[b.id]
                emb = sum(x * y for x, y in zip(va, vb, strict=False))
                score = 0.7 * score + 0.3 * max(0.0, (emb - 0.75) / 0.25)
            if score >= floor:
                out.append((round(score, 4), a.id, b.id))
    out.sort(key=lambda x: (-x[0], x[1], x[2]))
    return out


def _area_for(text: str, engagement: Engagement | None, interview: Interview | None) -> list[str]:
    top = ""
    if engagement and engagement.areas:
        best: tuple[float, list[str]] = (0.0, [])
        grams = _bigrams(text)
        for big in engagement.areas:
            for mid in big.children or [BusinessArea(name=UNSORTED)]:
                names = " ".join([mid.name, *(c.name for c in mid.children)])
                score = _cosine(grams, _bigrams(names))
                if score > best[0]:
                    best = (score, [big.name, mid.name])
        if best[1]:
            return best[1]
        top = engagement.areas[0].name
    top = top or (interview.business_area if interview else "") or UNSORTED
    return [top, UNSORTED]


def consolidate(
    elements: Iterable[AnyElement],
    interviews: dict[str, Interview],
    engagement: Engagement | None = None,
    decisions: Decisions | None = None,
    transcripts: dict[str, Transcript] | None = None,
    embed: Callable[[list[str]], list[list[float]]] | None = None,
    same_step: SameStep | None = None,
) -> Inventory:
    """Group the elements of an engagement's hearings into inventory items (module docstring)."""
    decisions = decisions or Decisions()
    els = sorted(candidates_of(elements), key=lambda e: _element_key(e.id))
    by_id = {e.id: e for e in els}
    transcripts = transcripts or {}
    contexts = {e.id: question_before(e, transcripts.get(e.interview_id)) for e in els}
    vectors: dict[str, list[float]] | None = None
    if embed is not None and els:
        vecs = embed([core_text(e) for e in els])
        vectors = {e.id: v for e, v in zip(els, vecs, strict=True)}
    groups = _Groups([e.id for e in els], {e.id: e.interview_id for e in els})
    forbidden = {frozenset(p) for p in decisions.split if len(p) == 2}
    for group in decisions.merge:
        present = [i for i in group if i in by_id]
        for other in present[1:]:
            groups.union(present[0], other, forbidden, force=True)
    candidates: list[Candidate] = []
    calls = 0
    for kind in ("task", "judgment", "exception"):
        of_kind = [e for e in els if e.kind == kind]
        for score, a, b in pair_scores(of_kind, contexts, vectors):
            if groups.find(a) == groups.find(b):
                continue
            if score >= MERGE:
                groups.union(a, b, forbidden)
                continue
            if same_step is None:
                candidates.append(Candidate(a=a, b=b, score=score, decided_by="open"))
                continue
            calls += 1
            if same_step(by_id[a], by_id[b]):
                groups.union(a, b, forbidden)
    clusters: dict[str, list[AnyElement]] = {}
    for e in els:
        clusters.setdefault(groups.find(e.id), []).append(e)
    positions = _positions(els)
    items: list[InventoryItem] = []
    for members in clusters.values():
        members.sort(key=lambda e: _element_key(e.id))
        anchor = members[0]
        item_id = f"W-{anchor.id}"
        text = " ".join(core_text(m) for m in members)
        items.append(
            InventoryItem(
                id=item_id,
                kind=anchor.kind,  # type: ignore[arg-type]
                name=decisions.name.get(item_id) or short_label(anchor),
                area=decisions.area.get(item_id)
                or _area_for(text, engagement, interviews.get(anchor.interview_id)),
                members=[m.id for m in members],
                sources=[provenance(m, interviews.get(m.interview_id)) for m in members],
                order=sum(positions[m.id] for m in members) / len(members),
                confirmed=item_id in decisions.confirmed,
            )
        )
    flow_order(items, els)
    items.sort(key=lambda i: (i.area, i.order, i.id))
    eng_id = engagement.id if engagement else ""
    return Inventory(engagement_id=eng_id, items=items, candidates=candidates, model_calls=calls)


def start_of(e: AnyElement) -> tuple[int, tuple[str, int, str]]:
    pos = [ev.char_start for ev in e.evidence if ev.char_start is not None]
    return (min(pos) if pos else 1 << 30, _element_key(e.id))


def _positions(els: Sequence[AnyElement]) -> dict[str, float]:
    """Each element's relative position (0..1) in its hearing."""
    out: dict[str, float] = {}
    per: dict[str, list[AnyElement]] = {}
    for e in els:
        per.setdefault(e.interview_id, []).append(e)
    for items in per.values():
        ranked = sorted(items, key=start_of)
        for n, e in enumerate(ranked):
            out[e.id] = n / max(1, len(ranked) - 1)
    return out


def flow_order(items: list[InventoryItem], els: Sequence[AnyElement]) -> None:
    """Order items across hearings: each hearing tells its steps in order, so consecutive steps
    of one hearing are ordered pairs; the pairs of all hearings are merged by a topological sort
    (ties and cycles broken by the mean relative position). Sets ``order`` to 0..1."""
    item_of = {m: i.id for i in items for m in i.members}
    mean = {i.id: i.order for i in items}
    succ: dict[str, set[str]] = {i.id: set() for i in items}
    indeg: dict[str, int] = {i.id: 0 for i in items}
    per: dict[str, list[AnyElement]] = {}
    for e in els:
        per.setdefault(e.interview_id, []).append(e)
    for hearing in per.values():
        seq: list[str] = []
        for e in sorted(hearing, key=start_of):
            iid = item_of.get(e.id)
            if iid is not None and e.kind != "exception" and (not seq or seq[-1] != iid):
                seq.append(iid)
        for a, b in itertools.pairwise(seq):
            if a != b and b not in succ[a]:
                succ[a].add(b)
                indeg[b] += 1
    import heapq

    heap = [(mean[k], k) for k, d in indeg.items() if d == 0]
    heapq.heapify(heap)
    done: list[str] = []
    left = set(indeg)
    while left:
        if not heap:  # a cycle (two hearings disagree on the order): take the earliest
            k = min(left, key=lambda x: (mean[x], x))
            indeg[k] = 0
            heap = [(mean[k], k)]
        _, k = heapq.heappop(heap)
        if k not in left:
            continue
        left.discard(k)
        done.append(k)
        for nxt in succ[k]:
            if nxt in left:
                indeg[nxt] -= 1
                if indeg[nxt] <= 0:
                    heapq.heappush(heap, (mean[nxt], nxt))
    rank = {k: n / max(1, len(done) - 1) for n, k in enumerate(done)}
    for i in items:
        i.order = rank[i.id]
