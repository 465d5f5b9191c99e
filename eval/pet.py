"""PET: our extractor on 45 English process descriptions, scored per element type.

Data: ``<data>/pet/all.new.jsonl`` (tokens, typed mentions, mention-level relations) and
``folds.json`` (the 5 train/test folds of Neuberger et al., ER 2024, the repository that
published this copy). We report on the **held-out documents of fold 0** and use only its
**training** documents for anything we tune (here: the list of gateway cue words below, learned
from training-fold gold), so no figure is computed on a document that shaped the method.

What we run: ``pipeline.extract.extract`` on a Transcript built from each document (one segment
per PET sentence), with the configured chat model: the same code path as a hearing.

How our elements map to PET types
- Activity              <- each Task; and the action a Judgment rule's outcome or an
                           Exception's handling leads to (steps on that branch; each of its
                           verbs, when the action's words are found in the element's evidence)
- Actor                 <- Task.actor, Judgment.decider, Exception_.owner (role strings)
- XOR Gateway           <- each Judgment, and each Exception (its trigger opens a branch: PET
                           annotates "If the mail is not compliant, ..." as an XOR gateway)
- Condition Specification <- each Judgment rule's condition and each Exception's trigger
- flow (activity level) <- consecutive Tasks in flow order (Task.order, else position)

Span-matching rule (the PET literature)
  The PET papers and the scorer of the repository above (``eval/metrics.py``,
  ``_f1_stats``) count a predicted mention as correct only when its type AND its exact token
  span equal a gold mention's (set intersection of (type, token indices)); a relation is
  correct when its type, head mention and tail mention all match exactly. Counts are summed
  over documents (micro P/R/F1 per type). We apply that rule ("strict") after projecting our
  elements to token mentions:
    * Activity: the verb of the task inside its grounded evidence span (the first non-auxiliary
      verb token, preferring one that shares a 4-letter stem with the task's action, with the
      particle after it where the training gold joins them: "takes down", "sends back");
    * Actor / Condition Specification: the role or condition string located as a token
      sequence (case-insensitive), first inside the element's evidence sentences, else anywhere;
      an actor opened with the word before it when the training gold opens actor mentions
      with such words (an article: "the Cashier");
    * XOR Gateway: the first gateway cue (learned from training-fold gold) inside the
      judgment's or exception's evidence span;
    * flow: gold flow relations reduced to activity -> activity pairs (paths through gateways
      collapsed), predicted as (task i, task i+1).
  Our extractor returns clause-level evidence, not token tags, so the strict rule also measures
  the projection. We therefore report a second, **lenient** figure beside it: a gold mention is
  found when its tokens overlap the predicted region (the element's evidence span for
  activities, gateways and flow ends; the located string for actors and conditions), each
  prediction matching at most one gold mention. Only the strict figure is comparable to the
  published anchor.
Elements whose evidence could not be grounded count as false positives.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.common import EvalContext, Metric, Section, product_embedder

DATASET = (
    "PET (Bellan, van der Aa, Dragoni, Ghidini, Ponzetto 2022), copy and 5 folds from "
    "github.com/JulianNeuberger/llm-process-generation@ab00984 (Neuberger et al., ER 2024); "
    "licence MIT (PET dataset card)"
)
# Published anchor, from the repository's raw answer files for GPT-4o, 3-shot, mention
# detection (pet/SOURCE.txt; matches that repository's results.xlsx). F1 per type, micro.
PUBLISHED_F1 = {
    "Activity": 0.822,
    "Actor": 0.772,
    "XOR Gateway": 0.743,
    "Condition Specification": 0.581,
}
PUBLISHED_NAME = "GPT-4o 3-shot, Neuberger et al. ER 2024 (strict)"
PUBLISHED_ML_BASELINE_F1 = 0.69  # earlier machine-learning baseline, all mention types
TYPES = ("Activity", "Actor", "XOR Gateway", "Condition Specification", "flow")
QUICK_DOCS = ("doc-3.3", "doc-10.8")  # two short held-out documents of fold 0, with gateways
SMOKE_DOCS = ("doc-6.2",)
FOLD = 0
AUX = {
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "am",
    "has",
    "have",
    "had",
    "do",
    "does",
    "did",
    "will",
    "would",
    "can",
    "could",
    "must",
    "shall",
    "should",
    "may",
    "might",
    "gets",
    "get",
    "got",
}


# --------------------------------------------------------------------------- data


@dataclass
class PetDoc:
    id: str
    tokens: list[str]
    pos: list[str]
    sentence: list[int]
    mentions: list[tuple[str, tuple[int, ...]]]  # (type, document token indices)
    relations: list[tuple[str, int, int]]  # (type, head mention index, tail mention index)
    spans: list[tuple[int, int]] = field(default_factory=list)  # token char spans in transcript

    def gold(self, kind: str) -> set[tuple[int, ...]]:
        return {toks for t, toks in self.mentions if t == kind}

    def text_of(self, toks: tuple[int, ...]) -> str:
        return " ".join(self.tokens[i] for i in toks)


def load_pet(data_dir: Path) -> dict[str, PetDoc]:
    path = data_dir / "pet" / "all.new.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found (set --data or SHIKUMI_EVAL_DATA)")
    docs: dict[str, PetDoc] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        docs[d["id"]] = PetDoc(
            id=d["id"],
            tokens=[t["text"] for t in d["tokens"]],
            pos=[t["posTag"] for t in d["tokens"]],
            sentence=[t["sentenceIndex"] for t in d["tokens"]],
            mentions=[(m["type"], tuple(m["tokenDocumentIndices"])) for m in d["mentions"]],
            relations=[
                (r["type"], r["headMentionIndex"], r["tailMentionIndex"]) for r in d["relations"]
            ],
        )
    return docs


def load_folds(data_dir: Path) -> list[dict[str, list[str]]]:
    return json.loads((data_dir / "pet" / "folds.json").read_text(encoding="utf-8"))


def to_transcript(doc: PetDoc) -> Any:
    """One segment per PET sentence; records each token's character span in transcript.text."""
    from pipeline.models import Language, Segment, Transcript

    sentences: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(doc.sentence):
        sentences[s].append(i)
    segs, spans, pos = [], [(0, 0)] * len(doc.tokens), 0
    for n, (_sid, idx) in enumerate(sorted(sentences.items())):
        parts: list[str] = []
        for i in idx:
            start = pos + sum(len(p) + 1 for p in parts)
            spans[i] = (start, start + len(doc.tokens[i]))
            parts.append(doc.tokens[i])
        text = " ".join(parts)
        segs.append(
            Segment(
                id=f"s{n + 1:04d}", start=n * 5.0, end=n * 5.0 + 4.5, text=text, speaker="author"
            )
        )
        pos += len(text) + 1  # SEGMENT_SEPARATOR
    doc.spans = spans
    return Transcript(
        interview_id=doc.id, language=Language.EN, segments=segs, duration=len(segs) * 5.0
    )


def gateway_cues(docs: list[PetDoc]) -> list[tuple[str, ...]]:
    """Gateway cue phrases seen at least twice in gold XOR Gateways of the given (training) docs."""
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    for d in docs:
        for toks in d.gold("XOR Gateway"):
            counts[tuple(d.tokens[i].lower() for i in toks)] += 1
    cues = [c for c, n in counts.items() if n >= 2]
    return sorted(cues, key=lambda c: (-len(c), c))  # longest first


def _keys(doc: PetDoc, i: int) -> tuple[str, str]:
    """What a learned convention may name a token by: its part-of-speech tag or its word."""
    return f"pos:{doc.pos[i]}", f"word:{doc.tokens[i].lower()}"


def _learned(inside: dict[str, int], seen: dict[str, int]) -> frozenset[str]:
    """The keys seen at least three times, inside the gold mention at least 0.6 of those."""
    return frozenset(k for k, n in inside.items() if n >= 3 and n >= 0.6 * seen[k])


def verb_particles(docs: list[PetDoc]) -> frozenset[str]:
    """What follows a verb inside one gold Activity mention (a phrasal verb: "takes down",
    "sends back"), learned from the given (training) docs: a part-of-speech tag (``pos:RP``) or a
    word (``word:back``) seen after a verb at least three times, inside the mention at least
    0.6 of those times."""
    inside: dict[str, int] = defaultdict(int)
    seen: dict[str, int] = defaultdict(int)
    for d in docs:
        gold = d.gold("Activity")
        for i in range(len(d.tokens) - 1):
            if not d.pos[i].startswith("VB"):
                continue
            for key in _keys(d, i + 1):
                seen[key] += 1
                inside[key] += (i, i + 1) in gold
    return _learned(inside, seen)


def actor_openers(docs: list[PetDoc]) -> frozenset[str]:
    """The word that opens a gold Actor mention before the role our elements name: an article
    ("the Cashier", "a supervisor") or the first word of a compound role ("Customer Service
    Representative"). Learned from the given (training) docs: a part-of-speech tag (``pos:DT``,
    ``pos:NN``) or a word that opens a gold Actor mention of two or more tokens at least three
    times, and opens the mention (rather than standing just before it) at least 0.6 of those
    times. On fold 0 that is the articles, NN/NNP and three nouns of compound roles."""
    inside: dict[str, int] = defaultdict(int)
    seen: dict[str, int] = defaultdict(int)
    for d in docs:
        for m in d.gold("Actor"):
            for at, opens in ((m[0], len(m) > 1), (m[0] - 1, False)):
                if at < 0 or (at == m[0] and not opens):
                    continue
                for key in _keys(d, at):
                    seen[key] += 1
                    inside[key] += opens
    return _learned(inside, seen)


def _opened(doc: PetDoc, m: tuple[int, ...], openers: frozenset[str]) -> tuple[int, ...]:
    """A located role with the word before it, when the training gold opens mentions with it."""
    i = m[0] - 1
    if i >= 0 and doc.sentence[i] == doc.sentence[m[0]] and openers.intersection(_keys(doc, i)):
        return (i, *m)
    return m


def _verbs(doc: PetDoc, toks: Iterable[int]) -> list[int]:
    """The non-auxiliary verb tokens among ``toks``, in order."""
    return [i for i in toks if doc.pos[i].startswith("VB") and doc.tokens[i].lower() not in AUX]


def _mention_at(doc: PetDoc, i: int, particles: frozenset[str]) -> tuple[int, ...]:
    """The verb at ``i``, with the particle after it when the training gold joins them."""
    j = i + 1
    if j < len(doc.tokens) and particles.intersection(_keys(doc, j)):
        return (i, j)
    return (i,)


def gold_activity_flow(doc: PetDoc) -> set[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Flow relations reduced to activity -> activity (paths through gateways collapsed)."""
    kinds = [t for t, _ in doc.mentions]
    succ: dict[int, list[int]] = defaultdict(list)
    for t, h, tail in doc.relations:
        if t == "flow":
            succ[h].append(tail)
    pairs = set()
    for a, k in enumerate(kinds):
        if k != "Activity":
            continue
        stack, seen = list(succ[a]), set()
        while stack:
            m = stack.pop()
            if m in seen:
                continue
            seen.add(m)
            if kinds[m] == "Activity":
                pairs.add((doc.mentions[a][1], doc.mentions[m][1]))
            else:
                stack.extend(succ[m])
    return pairs


# --------------------------------------------------------------------------- projection


_WORD = re.compile(r"[A-Za-z0-9]+|[^\sA-Za-z0-9]")


def _span_tokens(doc: PetDoc, start: int | None, end: int | None) -> list[int]:
    if start is None or end is None:
        return []
    return [i for i, (s, e) in enumerate(doc.spans) if s < end and e > start]


def _evidence_tokens(doc: PetDoc, el: Any) -> list[int]:
    out: list[int] = []
    for ev in el.evidence:
        if ev.grounded:
            out += _span_tokens(doc, ev.char_start, ev.char_end)
    return sorted(set(out))


def locate(doc: PetDoc, phrase: str, near: list[int]) -> tuple[int, ...] | None:
    """Token indices of ``phrase`` (case-insensitive), preferring the sentences of ``near``."""
    words = [w.lower() for w in _WORD.findall(phrase)]
    if not words:
        return None
    low = [t.lower() for t in doc.tokens]
    hits = [
        tuple(range(i, i + len(words)))
        for i in range(len(low) - len(words) + 1)
        if low[i : i + len(words)] == words
    ]
    if not hits:
        return None
    sents = {doc.sentence[i] for i in near}
    inside = [h for h in hits if set(h) <= set(near)]
    same_sentence = [h for h in hits if doc.sentence[h[0]] in sents]
    return (inside or same_sentence or hits)[0]


def _stem(w: str) -> str:
    return w.lower()[:4]


def activity_mention(
    doc: PetDoc, task: Any, toks: list[int], particles: frozenset[str] = frozenset()
) -> tuple[int, ...] | None:
    verbs = _verbs(doc, toks)
    if not verbs:
        return None
    stems = {_stem(w) for w in _WORD.findall(f"{task.action} {task.summary}") if len(w) >= 3}
    preferred = [i for i in verbs if _stem(doc.tokens[i]) in stems]
    return _mention_at(doc, (preferred or verbs)[0], particles)


def gateway_mention(
    doc: PetDoc, toks: list[int], cues: list[tuple[str, ...]]
) -> tuple[int, ...] | None:
    low = [doc.tokens[i].lower() for i in toks]
    for j in range(len(toks)):
        for cue in cues:
            if tuple(low[j : j + len(cue)]) == cue:
                return tuple(toks[j : j + len(cue)])
    return None


def _branch_activity(
    doc: PetDoc, pred: Any, action: str, toks: list[int], particles: frozenset[str]
) -> None:
    """The action a judgment's rule or an exception's handling leads to is activities on that
    branch: each of its verbs ("compile a list and send it back": two), where the action is
    found in the element's evidence."""
    near = _located_words(doc, action, toks)
    for n, verb in enumerate(_verbs(doc, near)):
        mention = _mention_at(doc, verb, particles)
        # the lenient region: the located action for the first verb, each further verb's own
        # mention (one action cannot claim several gold mentions anywhere in its words)
        pred.items["Activity"].append((mention, set(near) if n == 0 else set(mention)))


def _located_words(doc: PetDoc, phrase: str, toks: list[int]) -> list[int]:
    """Tokens of the evidence whose words occur in ``phrase`` (in order, at least half of it)."""
    words = {w.lower() for w in _WORD.findall(phrase) if w.isalnum()}
    if not words:
        return []
    hit = [i for i in toks if doc.tokens[i].lower() in words]
    return hit if len({doc.tokens[i].lower() for i in hit}) >= 0.5 * len(words) else []


@dataclass
class Predicted:
    """Predicted mentions per PET type: (strict token mention or None, lenient region)."""

    items: dict[str, list[tuple[Any, Any]]] = field(default_factory=lambda: defaultdict(list))


def project(
    doc: PetDoc,
    elements: list[Any],
    cues: list[tuple[str, ...]],
    particles: frozenset[str] = frozenset(),
    openers: frozenset[str] = frozenset(),
) -> Predicted:
    from pipeline.models import Exception_, Judgment, Task

    pred = Predicted()
    tasks: list[tuple[Any, tuple[int, ...] | None, list[int]]] = []
    for el in elements:
        toks = _evidence_tokens(doc, el)
        role = ""
        if isinstance(el, Task):
            mention = activity_mention(doc, el, toks, particles)
            pred.items["Activity"].append((mention, set(toks)))
            tasks.append((el, mention, toks))
            role = el.actor
        elif isinstance(el, Judgment | Exception_):
            # a gateway with its branches: (condition, the action it leads to)
            if isinstance(el, Judgment):
                branches, role = [(r.condition, r.outcome) for r in el.rules], el.decider
            else:
                branches, role = [(el.trigger, el.handling)], el.owner
            pred.items["XOR Gateway"].append((gateway_mention(doc, toks, cues), set(toks)))
            for condition, action in branches:
                if condition.strip():
                    loc = locate(doc, condition, toks)
                    pred.items["Condition Specification"].append((loc, set(loc or ())))
                _branch_activity(doc, pred, action, toks, particles)
        if role.strip():
            loc = locate(doc, role, toks)
            loc = _opened(doc, loc, openers) if loc else None
            pred.items["Actor"].append((loc, set(loc or ())))
    # flow: consecutive tasks in flow order
    tasks.sort(
        key=lambda t: (
            t[0].order if t[0].order is not None else 1 << 30,
            t[2][0] if t[2] else 1 << 30,
        )
    )
    for (_, ma, ta), (_, mb, tb) in itertools.pairwise(tasks):
        strict = (ma, mb) if ma and mb else None
        pred.items["flow"].append((strict, (set(ta), set(tb))))
    return pred


# --------------------------------------------------------------------------- scoring


@dataclass
class Counts:
    pred: int = 0
    gold: int = 0
    ok: int = 0

    def add(self, other: Counts) -> None:
        self.pred, self.gold, self.ok = (
            self.pred + other.pred,
            self.gold + other.gold,
            self.ok + other.ok,
        )

    @property
    def precision(self) -> float:
        return self.ok / self.pred if self.pred else (1.0 if not self.gold else 0.0)

    @property
    def recall(self) -> float:
        return self.ok / self.gold if self.gold else (1.0 if not self.pred else 0.0)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def strict_counts(pred: list[Any], gold: set[Any]) -> Counts:
    """The PET rule: set intersection of exact mentions (unprojectable predictions are wrong)."""
    p = {m for m in pred if m is not None}
    missing = sum(1 for m in pred if m is None)
    return Counts(pred=len(p) + missing, gold=len(gold), ok=len(p & gold))


def lenient_counts(regions: list[Any], gold: set[Any], flow: bool = False) -> Counts:
    """Overlap variant: each prediction may claim one overlapping gold mention (greedy)."""
    left = sorted(gold)
    ok = 0
    for region in regions:
        for g in left:
            hit = (set(g[0]) & region[0] and set(g[1]) & region[1]) if flow else set(g) & region
            if hit:
                left.remove(g)
                ok += 1
                break
    return Counts(pred=len(regions), gold=len(gold), ok=ok)


def score_doc(doc: PetDoc, pred: Predicted) -> dict[str, dict[str, Counts]]:
    out: dict[str, dict[str, Counts]] = {}
    for kind in TYPES:
        gold = gold_activity_flow(doc) if kind == "flow" else doc.gold(kind)
        items = pred.items.get(kind, [])
        out[kind] = {
            "strict": strict_counts([m for m, _ in items], gold),
            "lenient": lenient_counts([r for _, r in items], gold, flow=kind == "flow"),
        }
    return out


def verb_baseline(doc: PetDoc, particles: frozenset[str] = frozenset()) -> Predicted:
    """Same-run baseline without a model: every non-auxiliary verb is an activity, in text order
    (projected like ours: with its particle when the training gold joins them)."""
    pred = Predicted()
    ms = [_mention_at(doc, i, particles) for i in _verbs(doc, range(len(doc.tokens)))]
    pred.items["Activity"] = [(m, set(m)) for m in ms]
    pred.items["flow"] = [((a, b), (set(a), set(b))) for a, b in itertools.pairwise(ms)]
    return pred


# --------------------------------------------------------------------------- run


def _llm(ctx: EvalContext) -> Any:
    if "llm" in ctx.options:
        return ctx.options["llm"]
    from pipeline.adapters.llm import chat_model
    from pipeline.settings import load_settings

    ctx.options["llm"] = chat_model(load_settings(ctx.work_dir / "workspace"))
    return ctx.options["llm"]


def ensure_interview(store: Any, interview_id: str, title: str) -> None:
    """The store keeps chunk records per interview: register the document once (--cache)."""
    if store is None:
        return
    from pipeline.errors import NotFoundError
    from pipeline.models import Interview

    try:
        store.get_interview(interview_id)
    except NotFoundError:
        store.add_interview(Interview(id=interview_id, title=title))


def select_docs(ctx: EvalContext, folds: list[dict[str, list[str]]]) -> list[str]:
    if ctx.options.get("pet_split") == "train":  # development: the training documents
        train = list(folds[FOLD]["train"])
        return train[: int(ctx.options.get("pet_limit") or len(train))]
    held_out = list(folds[FOLD]["test"])
    if ctx.smoke:
        return [d for d in SMOKE_DOCS if d in held_out] or held_out[:1]
    if ctx.quick:
        return [d for d in QUICK_DOCS if d in held_out] or held_out[:2]
    return held_out


def run(ctx: EvalContext) -> Section:
    from pipeline.extract import extract

    docs = load_pet(ctx.data_dir)
    folds = load_folds(ctx.data_dir)
    train = [docs[i] for i in folds[FOLD]["train"] if i in docs]
    cues = gateway_cues(train)
    particles = frozenset() if ctx.options.get("pet_no_particles") else verb_particles(train)
    openers = frozenset() if ctx.options.get("pet_no_openers") else actor_openers(train)
    chosen = ctx.options.get("pet_docs") or select_docs(ctx, folds)
    overlap = set(chosen) & set(folds[FOLD]["train"])
    if overlap and ctx.options.get("pet_split") != "train":
        raise ValueError(f"PET documents {sorted(overlap)} are in the training fold")
    llm = _llm(ctx)
    # the product's path: the knowledge base's embedder reads labels and remarks by meaning
    embedder = None if ctx.options.get("pet_no_meaning") else product_embedder()
    totals = {k: {"strict": Counts(), "lenient": Counts()} for k in TYPES}
    design = "?"
    base = {k: Counts() for k in ("Activity", "flow")}
    details: dict[str, Any] = {}
    for doc_id in chosen:
        doc = docs[doc_id]
        transcript = to_transcript(doc)
        t0 = time.perf_counter()
        ensure_interview(ctx.options.get("store"), doc.id, f"PET {doc.id}")
        result = extract(
            transcript,
            llm,
            store=ctx.options.get("store"),
            business_area="process",
            model_fields=not ctx.options.get("pet_cue_fields"),
            embedder=embedder,
        )
        elements = list(result.elements)
        design = "cue fields" if ctx.options.get("pet_cue_fields") else "model fields"
        seconds = time.perf_counter() - t0
        per = score_doc(doc, project(doc, elements, cues, particles, openers))
        for kind, c in score_doc(doc, verb_baseline(doc, particles)).items():
            if kind in base:
                base[kind].add(c["strict"])
        for kind, c in per.items():
            totals[kind]["strict"].add(c["strict"])
            totals[kind]["lenient"].add(c["lenient"])
        failed = [c for c in getattr(result, "chunks", []) if getattr(c, "error", None)]
        details[doc_id] = {
            "seconds": round(seconds, 1),
            "elements": {
                k: sum(1 for e in elements if e.kind == k)
                for k in ("task", "judgment", "exception", "finding")
            },
            "failed_chunks": len(failed),
            "scores": {k: {m: vars(c) for m, c in v.items()} for k, v in per.items()},
        }
    metrics: list[Metric] = []
    for kind in TYPES:
        s, lenient = totals[kind]["strict"], totals[kind]["lenient"]
        label = {
            "Activity": "activity->task",
            "Actor": "actor->role",
            "XOR Gateway": "XOR gateway->judgment",
            "Condition Specification": "condition spec->judgment rule",
            "flow": "flow->task order",
        }[kind]
        pub: float | None = PUBLISHED_F1.get(kind)
        pub_name = PUBLISHED_NAME if pub is not None else ""
        if kind == "flow":
            pub, pub_name = round(base[kind].f1, 3), "every verb in text order (same run)"

        def val(x: float, c: Counts) -> float | None:
            return round(x, 3) if c.gold or c.pred else None  # nothing to find, nothing found

        metrics += [
            Metric(f"{label} F1 (strict)", val(s.f1, s), pub, pub_name, n=s.gold),
            Metric(f"{label} precision (strict)", val(s.precision, s), n=s.pred),
            Metric(f"{label} recall (strict)", val(s.recall, s), n=s.gold),
            Metric(f"{label} F1 (lenient overlap)", val(lenient.f1, lenient), n=lenient.gold),
        ]
        if kind == "Activity":
            metrics.append(
                Metric(
                    "activity->task F1 (strict), baseline: every non-auxiliary verb",
                    round(base[kind].f1, 3),
                    baseline_name="no model (same run)",
                    n=base[kind].gold,
                )
            )
    return Section(
        task="extraction/pet",
        metrics=metrics,
        datasets=[DATASET],
        config={
            "fold": FOLD,
            "documents": list(chosen),
            "gateway_cues_from_training_fold": [" ".join(c) for c in cues],
            "llm": getattr(llm, "name", "?"),
            "extraction_design": design,
            "read by meaning with": embedder.name if embedder is not None else "nobody",
            "published_anchor": {
                "name": PUBLISHED_NAME,
                "f1": PUBLISHED_F1,
                "ml_baseline_mention_f1_all_types": PUBLISHED_ML_BASELINE_F1,
            },
        },
        notes=[
            (
                f"TRAINING documents of fold {FOLD} ({len(chosen)}): development figures, not "
                "comparable to the anchor."
                if ctx.options.get("pet_split") == "train"
                else f"Held-out documents of fold {FOLD} ({len(chosen)} of "
                f"{len(folds[FOLD]['test'])}); gateway cue words learned from its training "
                "documents only."
            ),
            "Strict = the PET rule (exact type + token span; relations: exact head and tail), "
            "applied after projecting our clause-level elements to token mentions. Lenient = "
            "overlap of the gold mention with the element's evidence span or located string. "
            "Only strict is comparable to the published anchor.",
            "No published figure was found for activity-level flow under this reduction; the "
            "flow row is compared with a same-run baseline (every verb, in text order). A purely "
            "linear order cannot reach F1 1.0: gold flows branch at gateways.",
        ],
        details=details,
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    from pipeline.store import Store

    ap = argparse.ArgumentParser(description="PET figures on fold 0 (train: development)")
    ap.add_argument("--split", choices=["train", "test"], default="train")
    ap.add_argument("--limit", type=int, help="first N documents of the split")
    ap.add_argument("--cue-fields", action="store_true", help="baseline: fields from cues")
    ap.add_argument(
        "--no-meaning",
        action="store_true",
        help="no labels or remarks read by meaning (the model and the lexicon alone)",
    )
    ap.add_argument(
        "--no-particles",
        action="store_true",
        help="activity mentions as the verb alone (no phrasal-verb particle learned from training)",
    )
    ap.add_argument(
        "--no-openers",
        action="store_true",
        help="actor mentions as the role alone (no opening word learned from training)",
    )
    ap.add_argument("--data", type=Path, default=Path("../shared/eval-data"))
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/shikumi-eval-pet"))
    args = ap.parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "pet_split": args.split,
        "pet_cue_fields": args.cue_fields,
        "pet_no_meaning": args.no_meaning,
        "pet_no_particles": args.no_particles,
        "pet_no_openers": args.no_openers,
        "store": Store(f"sqlite:///{args.work_dir / 'cache.db'}"),
    }
    folds = load_folds(args.data)
    if args.limit:
        pick = "train" if args.split == "train" else "test"
        options["pet_docs"] = list(folds[FOLD][pick])[: args.limit]
    ctx = EvalContext(data_dir=args.data, quick=False, work_dir=args.work_dir, options=options)
    section = run(ctx)
    for m in section.metrics:
        print(f"{m.name:60s} {m.value}  (n={m.n}) {m.baseline or ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
