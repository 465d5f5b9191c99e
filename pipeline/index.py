"""Stage 4: the knowledge index, derived from the database: approved elements only.

Two halves kept in step: the vector store (chromadb) and the keyword index (keyword.py).
``sync`` puts an approved element in (or replaces it with its new version) and takes anything
else out, so that drafts, rejected and retired elements never answer. ``rebuild`` recreates
both halves from the database of record. Each indexed element carries its version, effective
date, interview, business area and the audio time of its first evidence.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

from .adapters.vectorstore import ChromaVectorStore
from .keyword import KeywordIndex
from .models import AnyElement, Interview, ReviewStatus, element_text
from .store import Store

SAVE_AFTER_WRITE_MAX = 5000  # documents


def element_metadata(el: AnyElement, interview: Interview | None) -> dict[str, Any]:
    ev = el.evidence[0] if el.evidence else None
    return {
        "kind": el.kind,
        "interview_id": el.interview_id,
        "interview_title": interview.title if interview else "",
        "business_area": interview.business_area if interview else "",
        "version": el.version,
        "effective_date": el.effective_date.isoformat() if el.effective_date else "",
        "summary": el.summary,
        "audio_start": ev.audio_start if ev and ev.audio_start is not None else -1.0,
        "contact": contact_of(el),
    }


def contact_of(el: AnyElement) -> str:
    """Who knows about this element: the decider, owner or actor, if the hearing said."""
    for attr in ("decider", "owner", "actor"):
        value = getattr(el, attr, "")
        if value:
            return str(value)
    return ""


class KnowledgeIndex:
    """The vector store and the keyword index over the same approved documents.

    ``store`` is the database of record (needed by ``sync``/``add``/``rebuild``); evaluation
    code may leave it out and index plain documents with :meth:`put`.
    ``keyword_path`` keeps a copy of the keyword index on disk between runs.
    """

    def __init__(
        self,
        vectors: ChromaVectorStore,
        store: Store | None = None,
        keyword_path: Path | None = None,
    ):
        self.vectors = vectors
        self.store = store
        self.keyword_path = keyword_path
        self._keyword: KeywordIndex | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ keyword half

    def keyword(self) -> KeywordIndex:
        """The keyword index, reloaded or rebuilt if the vector store changed under it."""
        with self._lock:
            current = self.vectors.current_generation()
            kw = self._keyword
            if kw is not None and kw.generation == current:
                return kw
            kw = KeywordIndex()
            loaded = self.keyword_path is not None and kw.load(self.keyword_path)
            if not loaded or kw.generation != current:
                kw.rebuild(
                    ((h.id, h.document, h.metadata) for h in self.vectors.iter_all()), current
                )
                self._save(kw)
            self._keyword = kw
            return kw

    def _save(self, kw: KeywordIndex, after_write: bool = False) -> None:
        # after a single write, a large index is not re-pickled: a stale copy on disk is
        # detected by its generation and rebuilt from the vector store by the next process
        if after_write and len(kw) > SAVE_AFTER_WRITE_MAX:
            return
        if self.keyword_path is not None:
            with contextlib.suppress(OSError):  # derived data: the next process rebuilds it
                kw.save(self.keyword_path)

    # ------------------------------------------------------------------ documents

    def put(
        self,
        ids: list[str],
        documents: list[str],
        metadatas: list[dict[str, Any]],
        embeddings: list[list[float]] | None = None,
    ) -> None:
        """Add or replace documents in both halves (vectors computed here unless given)."""
        if not ids:
            return
        with self._lock:
            kw = self.keyword()
            self.vectors.upsert(ids, documents, metadatas, embeddings)
            for i, d, m in zip(ids, documents, metadatas, strict=True):
                kw.add(i, d, m)
            kw.generation = self.vectors.generation
            self._save(kw, after_write=True)

    def remove(self, ids: list[str]) -> None:
        if not ids:
            return
        with self._lock:
            kw = self.keyword()
            self.vectors.delete(ids)
            for i in ids:
                kw.remove(i)
            kw.generation = self.vectors.generation
            self._save(kw, after_write=True)

    # ------------------------------------------------------------------ elements

    def _interviews(self) -> dict[str, Interview]:
        return {i.id: i for i in self.store.list_interviews()} if self.store else {}

    def sync(self, el: AnyElement) -> None:
        """Review hook: approved -> indexed (new version replaces the old); otherwise removed."""
        if el.status == ReviewStatus.APPROVED:
            self.add([el])
        else:
            self.remove([el.id])

    def add(self, elements: list[AnyElement]) -> None:
        approved = [e for e in elements if e.status == ReviewStatus.APPROVED]
        interviews = self._interviews()
        self.put(
            [e.id for e in approved],
            [element_text(e) for e in approved],
            [element_metadata(e, interviews.get(e.interview_id)) for e in approved],
        )

    def rebuild(self, batch: int = 256) -> int:
        """Recreate the index from the database of record: every approved element, nothing else."""
        if self.store is None:
            raise RuntimeError("rebuild needs the database of record")
        with self._lock:
            self.vectors.reset()
            self._keyword = KeywordIndex()
            self._keyword.generation = self.vectors.generation
            approved = self.store.list_elements(status=ReviewStatus.APPROVED)
            for i in range(0, len(approved), batch):
                self.add(approved[i : i + batch])
            self._save(self._keyword)
            return len(approved)

    def ensure_built(self) -> int:
        """Build the index if it is empty while the database holds approved elements.

        Covers a new workspace, a changed embedder (each embedder has its own collection) and
        a deleted index folder. Returns the number of elements indexed now (0: nothing to do).
        """
        if self.store is None or self.vectors.count() > 0:
            return 0
        if self.store.count_elements(ReviewStatus.APPROVED) == 0:
            return 0
        return self.rebuild()

    def count(self) -> int:
        return self.vectors.count()
