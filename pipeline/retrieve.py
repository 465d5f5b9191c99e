"""Stage 5: find the approved elements that answer a question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .adapters.embeddings import Embedder
from .adapters.vectorstore import ChromaVectorStore

MIN_SIMILARITY = 0.80  # cosine similarity under which a hit does not count as covering


@dataclass
class Retrieved:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # 0..1, higher is better


class Retriever:
    def __init__(self, vectors: ChromaVectorStore, embed: Embedder):
        self.vectors = vectors
        self.embed = embed

    def search(self, question: str, k: int = 5, where: dict[str, Any] | None = None) -> list[Retrieved]:
        hits = self.vectors.query(self.embed.embed_query(question), k, where)
        return [Retrieved(h.id, h.document, h.metadata, 1.0 - h.distance) for h in hits]

    @staticmethod
    def covered(results: list[Retrieved], threshold: float = MIN_SIMILARITY) -> bool:
        return bool(results) and results[0].score >= threshold
