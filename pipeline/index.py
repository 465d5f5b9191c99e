"""Stage 4: the knowledge index, derived from the database: approved elements only.

``sync`` puts an approved element in (or updates it) and takes anything else out, so that
rejected and retired elements never answer. ``rebuild`` recreates the index from the database.
"""

from __future__ import annotations

from typing import Any

from .adapters.embeddings import Embedder
from .adapters.vectorstore import ChromaVectorStore
from .models import AnyElement, Interview, ReviewStatus, element_text
from .store import Store


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
        "contact": _contact(el),
    }


def _contact(el: AnyElement) -> str:
    """Who knows about this element: the decider, owner or actor, if the hearing said."""
    for attr in ("decider", "owner", "actor"):
        value = getattr(el, attr, "")
        if value:
            return str(value)
    return ""


class KnowledgeIndex:
    def __init__(self, store: Store, vectors: ChromaVectorStore, embed: Embedder):
        self.store = store
        self.vectors = vectors
        self.embed = embed

    def sync(self, el: AnyElement) -> None:
        if el.status == ReviewStatus.APPROVED:
            self.add([el])
        else:
            self.vectors.delete([el.id])

    def add(self, elements: list[AnyElement]) -> None:
        approved = [e for e in elements if e.status == ReviewStatus.APPROVED]
        if not approved:
            return
        interviews = {i.id: i for i in self.store.list_interviews()}
        docs = [element_text(e) for e in approved]
        self.vectors.upsert(
            ids=[e.id for e in approved],
            embeddings=self.embed.embed_documents(docs),
            documents=docs,
            metadatas=[element_metadata(e, interviews.get(e.interview_id)) for e in approved],
        )

    def rebuild(self, batch: int = 256) -> int:
        self.vectors.reset()
        approved = self.store.list_elements(status=ReviewStatus.APPROVED)
        for i in range(0, len(approved), batch):
            self.add(approved[i : i + batch])
        return len(approved)

    def count(self) -> int:
        return self.vectors.count()
