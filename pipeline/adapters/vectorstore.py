"""chromadb behind one narrow interface: upsert, delete, query, get, reset.

Embedded (persistent folder) by default; a Chroma server (``chromadb.HttpClient``) when
``SHIKUMI_CHROMA_HOST`` is set: the same code runs against both. Vectors come from our
registered embedding function (:class:`ShikumiEmbeddingFunction`), and each embedder gets its
own collection, so switching embedders never mixes vector spaces (rebuild the index after a
switch: ``shikumi index rebuild``).

Every write stamps the collection with a new ``generation``, so that another process (the app,
the CLI) can tell that its in-memory keyword index is out of date.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .embeddings import Embedder, ShikumiEmbeddingFunction

COLLECTION = "approved"


@dataclass
class Hit:
    id: str
    document: str
    metadata: dict[str, Any]
    distance: float  # cosine distance: 1 - cosine similarity


def collection_name(base: str, embedder_name: str) -> str:
    slug = re.sub(r"[^a-zA-Z0-9_-]+", "-", embedder_name).strip("-_")[:80] or "default"
    return f"{base}-{slug}"


class ChromaVectorStore:
    def __init__(
        self,
        path: Path | None = None,
        host: str = "",
        port: int = 8000,
        collection: str = COLLECTION,
        embed: Embedder | None = None,
    ):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.ef = ShikumiEmbeddingFunction(embed)
        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        try:
            if host:
                self._client = chromadb.HttpClient(host=host, port=port, settings=settings)
                self.location = f"http://{host}:{port}"
            else:
                if path is None:
                    raise ConfigError("No index folder given.", "Pass a path or a Chroma host.")
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=settings)
                self.location = str(path)
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"Cannot open the Chroma index at {host or path}:{port if host else ''} ({exc}).",
                "Start the Chroma server (`chroma run --path DIR --host HOST --port PORT`) or "
                "unset SHIKUMI_CHROMA_HOST to use the embedded index in the workspace.",
                cause=exc,
            ) from exc
        self.name = collection_name(collection, self.ef.embedder.name)
        self._col = self._open()
        self.generation = self._read_generation()

    def _open(self) -> Any:
        return self._client.get_or_create_collection(
            self.name,
            embedding_function=self.ef,  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"generation": uuid.uuid4().hex},
        )

    # ------------------------------------------------------------------ generation stamp

    def _read_generation(self) -> str:
        return str((self._col.metadata or {}).get("generation", ""))

    def current_generation(self) -> str:
        """The generation in the store now (another process may have written since)."""
        col = self._client.get_collection(self.name, embedding_function=self.ef)  # type: ignore[arg-type]
        return str((col.metadata or {}).get("generation", ""))

    def _bump(self) -> None:
        self.generation = uuid.uuid4().hex
        self._col.modify(metadata={"generation": self.generation})

    # ------------------------------------------------------------------ writes

    def upsert(
        self,
        ids: list[str],
        documents: list[str],
        metadatas: list[dict[str, Any]],
        embeddings: list[list[float]] | None = None,
    ) -> None:
        if not ids:
            return
        vectors = embeddings if embeddings is not None else self.ef(documents)
        self._col.upsert(ids=ids, embeddings=vectors, documents=documents, metadatas=metadatas)
        self._bump()

    def delete(self, ids: list[str]) -> None:
        if ids:
            self._col.delete(ids=ids)
            self._bump()

    def reset(self) -> None:
        with contextlib.suppress(Exception):  # an absent collection is fine
            self._client.delete_collection(self.name)
        self._col = self._open()
        self._bump()

    # ------------------------------------------------------------------ reads

    def embed_query(self, text: str) -> list[float]:
        return list(self.ef.embed_query([text])[0])

    def query(
        self, embedding: list[float], k: int, where: dict[str, Any] | None = None
    ) -> list[Hit]:
        n = self.count()
        if n == 0 or k <= 0:
            return []
        res = self._col.query(
            query_embeddings=[embedding],
            n_results=min(k, n),
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(id=i, document=d or "", metadata=dict(m or {}), distance=float(dist))
            for i, d, m, dist in zip(
                res["ids"][0],
                res["documents"][0],
                res["metadatas"][0],
                res["distances"][0],
                strict=True,
            )
        ]

    def get(self, ids: list[str], embeddings: bool = False) -> list[tuple[Hit, list[float] | None]]:
        """Documents (and optionally vectors) of the given ids that are in the store."""
        if not ids:
            return []
        include = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])
        res = self._col.get(ids=ids, include=include)
        vecs = res.get("embeddings")
        out = []
        for n, (i, d, m) in enumerate(
            zip(res["ids"], res["documents"], res["metadatas"], strict=True)
        ):
            vec = [float(x) for x in vecs[n]] if embeddings and vecs is not None else None
            out.append((Hit(id=i, document=d or "", metadata=dict(m or {}), distance=0.0), vec))
        return out

    def iter_all(self, batch: int = 1000) -> list[Hit]:
        """Every document with its metadata (used to rebuild the keyword index)."""
        out: list[Hit] = []
        offset = 0
        while True:
            res = self._col.get(include=["documents", "metadatas"], limit=batch, offset=offset)
            ids = res["ids"]
            for i, d, m in zip(ids, res["documents"], res["metadatas"], strict=True):
                out.append(Hit(id=i, document=d or "", metadata=dict(m or {}), distance=0.0))
            if len(ids) < batch:
                return out
            offset += batch

    def all_ids(self) -> list[str]:
        return list(self._col.get(include=[])["ids"])

    def count(self) -> int:
        return int(self._col.count())

    def close(self) -> None:
        """Release the client (connections, file handles); the data stays."""
        from chromadb.api.shared_system_client import SharedSystemClient

        admin = getattr(self._client, "_admin_client", None)
        servers = [getattr(c, "_server", None) for c in (self._client, admin)]
        ident = getattr(self._client, "_identifier", None)
        with contextlib.suppress(Exception):
            self._client.close()  # type: ignore[attr-defined]
        # chromadb stops the shared system when its last client closes, but leaves the HTTP
        # sessions of a server connection open; close them once nobody else can use them
        if ident in SharedSystemClient._identifier_to_system:
            return
        for server in servers:
            session = getattr(server, "_session", None)
            if session is not None:
                with contextlib.suppress(Exception):
                    session.close()
