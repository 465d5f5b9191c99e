"""Reading by meaning: a sentence's closeness to written examples of each kind.

One example bank is a TOML file of kinds, each with example sentences per language (written for
the concept, never taken from a hearing). A sentence's score for a kind is the mean of its
``TOP`` best cosine similarities to that kind's examples, with the vectors of the embedder it is
given. Used for remarks (``remarks``) and for the labels of sentences (``labels``).

Leaf module: calls the embedder it is given; knows nothing of units, models or settings.
"""

from __future__ import annotations

import logging
import threading
import tomllib
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

log = logging.getLogger(__name__)
T = TypeVar("T")

TOP = 3  # a kind's score: the mean of the sentence's best similarities to its examples


class SentenceEmbedder(Protocol):
    """What reading by meaning needs of an embedder: its name (measured settings are looked up
    by it) and vectors."""

    name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...


class RememberedEmbedder:
    """An embedder that embeds each distinct text once: one hearing's labels and remarks read
    the same sentences (wrap it per hearing; the memory lives as long as the wrapper)."""

    def __init__(self, inner: SentenceEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self._seen: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        todo = list(dict.fromkeys(t for t in texts if t not in self._seen))
        if todo:
            vectors = self.inner.embed_documents(todo)
            if len(vectors) != len(todo):  # nothing is remembered from a miscounting answer
                raise ValueError(f"{len(vectors)} vectors for {len(todo)} texts")
            self._seen.update(zip(todo, vectors, strict=True))
        return [self._seen[t] for t in texts]


def unit_rows(rows: list[list[float]]) -> np.ndarray:
    """The vectors as a matrix of unit rows (ValueError for an empty or ragged answer)."""
    m = np.asarray(rows, dtype=np.float32)
    if m.ndim != 2 or not m.size:
        raise ValueError(f"the embedder returned vectors of shape {m.shape}")
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


class ExampleBank:
    """The examples of one TOML file and their vectors per embedder. ``what`` names what is
    read with them ("Labels", "Findings"), for the log."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._vectors: dict[str, tuple[list[str], np.ndarray]] = {}  # embedder name -> vectors
        self._lock = threading.Lock()
        self._unmeasured: set[str] = set()  # embedders already logged as never measured

    def setting(
        self, embedder: SentenceEmbedder, measured: Mapping[str, T], instead: str
    ) -> T | None:
        """``embedder``'s setting measured for this bank, or None (logged once per embedder,
        saying what stands ``instead``) when it was never measured."""
        if embedder.name in measured:
            return measured[embedder.name]
        if embedder.name not in self._unmeasured:
            self._unmeasured.add(embedder.name)
            log.info(
                "%s are not read by meaning with the embedder %s (never measured); %s",
                self.what,
                embedder.name,
                instead,
            )
        return None

    def read(self, texts: list[str], embedder: SentenceEmbedder) -> list[dict[str, float]] | None:
        """Per text, each kind's score; None when the embedder fails or miscounts (logged: an
        embedder is a provider, and its failure loses no work)."""
        try:
            said = unit_rows(embedder.embed_documents(texts))
            if len(said) != len(texts):
                raise ValueError(f"{len(said)} vectors for {len(texts)} sentences")
            return self.scores(said, embedder)
        except Exception as exc:
            log.warning(
                "%s were not read by meaning: the embedder %s failed: %s",
                self.what,
                embedder.name,
                exc,
            )
            return None

    @cached_property
    def examples(self) -> dict[str, list[str]]:
        """Kind -> examples (both languages: hearings mix them)."""
        data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        return {kind: [*v.get("ja", []), *v.get("en", [])] for kind, v in data.items()}

    @property
    def kinds(self) -> list[str]:
        return list(self.examples)

    def vectors(self, embedder: SentenceEmbedder, dim: int) -> tuple[list[str], np.ndarray]:
        """The examples' kinds and unit vectors for ``embedder`` (computed once per name; again
        when another embedder of the same name gives vectors of another size)."""
        with self._lock:
            held = self._vectors.get(embedder.name)
            if held is None or held[1].shape[1] != dim:
                kinds, texts = [], []
                for kind, items in self.examples.items():
                    kinds += [kind] * len(items)
                    texts += items
                held = (kinds, unit_rows(embedder.embed_documents(texts)))
                self._vectors[embedder.name] = held
            return held

    def scores(self, said: np.ndarray, embedder: SentenceEmbedder) -> list[dict[str, float]]:
        """Per row of ``said`` (unit vectors of the embedder), each kind's score."""
        kinds, vectors = self.vectors(embedder, said.shape[1])
        sims = said @ vectors.T
        columns = {
            k: np.array([c for c, kk in enumerate(kinds) if kk == k]) for k in dict.fromkeys(kinds)
        }
        return [
            {k: float(np.sort(row[cols])[-TOP:].mean()) for k, cols in columns.items()}
            for row in sims
        ]
