"""chromadb behind one narrow interface: upsert, delete, query, reset.

Embedded (persistent folder) by default; a Chroma server when ``SHIKUMI_CHROMA_HOST`` is set.
Vectors are computed by our own Embedder and passed in, so any process can open the
collection without a model download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

COLLECTION = "approved_elements"


@dataclass
class Hit:
    id: str
    document: str
    metadata: dict[str, Any]
    distance: float


class ChromaVectorStore:
    def __init__(self, path: Path | None = None, host: str = "", port: int = 8000,
                 collection: str = COLLECTION):  # fmt: skip
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if host:
            self._client = chromadb.HttpClient(host=host, port=port, settings=settings)
        else:
            assert path is not None
            path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(path), settings=settings)
        self._name = collection
        self._col = self._open()

    def _open(self) -> Any:
        return self._client.get_or_create_collection(
            self._name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def upsert(self, ids: list[str], embeddings: list[list[float]], documents: list[str],
               metadatas: list[dict[str, Any]]) -> None:  # fmt: skip
        if ids:
            self._col.upsert(ids=ids, embeddings=embeddings, documents=documents,
                             metadatas=metadatas)  # fmt: skip

    def delete(self, ids: list[str]) -> None:
        if ids:
            self._col.delete(ids=ids)

    def query(self, embedding: list[float], k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        n = self.count()
        if n == 0:
            return []
        res = self._col.query(query_embeddings=[embedding], n_results=min(k, n), where=where or None)
        return [
            Hit(id=i, document=d or "", metadata=dict(m or {}), distance=float(dist))
            for i, d, m, dist in zip(
                res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0],
                strict=True,
            )
        ]

    def all_ids(self) -> list[str]:
        return list(self._col.get(include=[])["ids"])

    def get(self, ids: list[str]) -> list[Hit]:
        if not ids:
            return []
        res = self._col.get(ids=ids, include=["documents", "metadatas"])
        return [Hit(id=i, document=d or "", metadata=dict(m or {}), distance=0.0)
                for i, d, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)]  # fmt: skip

    def count(self) -> int:
        return int(self._col.count())

    def reset(self) -> None:
        try:
            self._client.delete_collection(self._name)
        except Exception:  # noqa: BLE001,S110 - absent collection is fine
            pass
        self._col = self._open()
