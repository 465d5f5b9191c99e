"""Keyword search (BM25) that understands Japanese: the other half of hybrid retrieval.

chromadb has no keyword search in local mode, so this module keeps its own inverted index.
Japanese text is split by Sudachi in mode C, which keeps business compounds whole
(経費精算, 承認ルート); each compound also contributes its mode-A parts (経費, 精算), so a
question that says 経費 still meets a rule that says 経費精算. Particles, auxiliaries and
punctuation are dropped and words are normalised (申し込み -> 申込). A word in Latin script
inside Japanese text is kept as written as well as in Sudachi's normal form (its katakana).
English (and any text without Japanese characters) is lower-cased, split on letters and
digits, stop words dropped and plurals folded.

The index lives in memory. It is derived data: :meth:`KeywordIndex.rebuild` recreates it from
the documents in the vector store; :meth:`save`/:meth:`load` keep a copy on disk between runs.
"""

from __future__ import annotations

import math
import pickle
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .quantities import canonical, parse_quantities

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_WORD = re.compile(r"[a-z0-9]+")
_SKIP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
_STOP = """a an and are as at be but by can could did do does for from had has have how i if in
into is it its me my of on or our should so than that the their them then there these they
this to was we were what when where which who whom why will with would you your am been
being any all also may must not no yes"""
STOPWORDS = frozenset(_STOP.split())
FILTER_FIELDS = ("kind", "interview_id", "business_area")
# the saved index holds tokens: a copy saved by another tokenizer version is rebuilt
# (2: Latin-script words in Japanese text kept as written)
TOKENS_VERSION = 3  # 3: ages (43age) and number words with a unit

_local = threading.local()


def _sudachi() -> Any:
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        from sudachipy import Dictionary

        tok = Dictionary(dict="core").tokenizer()
        _local.tokenizer = tok
    return tok


def _fold(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _english(text: str) -> list[str]:
    return [_fold(w) for w in _WORD.findall(text) if w not in STOPWORDS]


def _japanese(text: str) -> list[str]:
    from sudachipy import SplitMode

    out: list[str] = []
    for m in _sudachi().tokenize(text, SplitMode.C):
        if m.part_of_speech()[0] in _SKIP_POS:
            continue
        surface = m.normalized_form().lower()
        written = m.surface().lower()
        if _WORD.fullmatch(written):
            # a word in Latin script is kept as written (Sudachi's normal form of "journal" is
            # ジャーナル, which an English question never says), plus that normal form, which a
            # Japanese question may say (Excel / エクセル)
            if written not in STOPWORDS:
                out.append(_fold(written))
                if surface != written and not _WORD.fullmatch(surface):
                    out.append(surface)
            continue
        if _WORD.fullmatch(surface):
            if surface not in STOPWORDS:
                out.append(_fold(surface))
            continue
        out.append(surface)
        parts = m.split(SplitMode.A)
        if len(parts) > 1:
            out += [
                p.normalized_form().lower() for p in parts if p.part_of_speech()[0] not in _SKIP_POS
            ]
    return out


def tokenize(text: str) -> list[str]:
    """Search terms of a text: Sudachi mode C (+ mode-A parts) for Japanese, words for English."""
    text = unicodedata.normalize("NFKC", text).lower()
    if not text.strip():
        return []
    words = _japanese(text) if JAPANESE.search(text) else _english(text)
    # amounts, days, hours in one spelling on both sides (五十万円 = 500,000円 = 50万円)
    return words + [canonical(q).lower() for q in parse_quantities(text) if q.unit]


@dataclass
class KeywordHit:
    id: str
    score: float


class KeywordIndex:
    """Okapi BM25 over an inverted index that can add and remove documents one at a time."""

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.generation = ""  # the vector-store generation this index reflects
        self._lock = threading.RLock()
        self._slot: dict[str, int] = {}  # id -> slot
        self._ids: list[str | None] = []  # slot -> id (None: free)
        self._len: list[int] = []  # slot -> number of terms
        self._terms: list[Counter[str]] = []  # slot -> term counts
        self._meta: list[dict[str, str]] = []  # slot -> filterable fields
        self._free: list[int] = []
        self._postings: dict[str, dict[int, int]] = {}  # term -> {slot: tf}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # compiled postings
        self._total_len = 0

    def __len__(self) -> int:
        return len(self._slot)

    # ------------------------------------------------------------------ writes

    def add(self, doc_id: str, text: str, metadata: dict[str, Any] | None = None) -> None:
        self.add_tokens(doc_id, tokenize(text), metadata)

    def add_tokens(
        self, doc_id: str, tokens: list[str], metadata: dict[str, Any] | None = None
    ) -> None:
        with self._lock:
            self.remove(doc_id)
            counts = Counter(tokens)
            meta = {f: str((metadata or {}).get(f, "")) for f in FILTER_FIELDS}
            if self._free:
                slot = self._free.pop()
                self._ids[slot], self._len[slot] = doc_id, len(tokens)
                self._terms[slot], self._meta[slot] = counts, meta
            else:
                slot = len(self._ids)
                self._ids.append(doc_id)
                self._len.append(len(tokens))
                self._terms.append(counts)
                self._meta.append(meta)
            self._slot[doc_id] = slot
            self._total_len += len(tokens)
            for term, tf in counts.items():
                self._postings.setdefault(term, {})[slot] = tf
                self._arrays.pop(term, None)

    def remove(self, doc_id: str) -> None:
        with self._lock:
            slot = self._slot.pop(doc_id, None)
            if slot is None:
                return
            for term in self._terms[slot]:
                posting = self._postings.get(term)
                if posting is not None:
                    posting.pop(slot, None)
                    if not posting:
                        del self._postings[term]
                self._arrays.pop(term, None)
            self._total_len -= self._len[slot]
            self._ids[slot], self._len[slot] = None, 0
            self._terms[slot], self._meta[slot] = Counter(), {}
            self._free.append(slot)

    def clear(self) -> None:
        with self._lock:
            self.__init__(self.k1, self.b)  # type: ignore[misc]

    def rebuild(
        self, docs: Iterable[tuple[str, str, dict[str, Any]]], generation: str = ""
    ) -> None:
        """Recreate the index from (id, text, metadata) triples."""
        with self._lock:
            self.clear()
            for doc_id, text, meta in docs:
                self.add(doc_id, text, meta)
            self.generation = generation

    # ------------------------------------------------------------------ search

    def _compiled(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        arr = self._arrays.get(term)
        if arr is None:
            posting = self._postings.get(term)
            if not posting:
                return None
            slots = np.fromiter(posting.keys(), dtype=np.int64, count=len(posting))
            tfs = np.fromiter(posting.values(), dtype=np.float32, count=len(posting))
            arr = self._arrays[term] = (slots, tfs)
        return arr

    def _allowed(self, filters: dict[str, list[str]] | None) -> np.ndarray | None:
        if not filters:
            return None
        mask = np.fromiter(
            (
                i is not None and all(meta.get(f, "") in vals for f, vals in filters.items())
                for i, meta in zip(self._ids, self._meta, strict=True)
            ),
            dtype=bool,
            count=len(self._ids),
        )
        return mask

    def search(
        self, query: str, k: int = 20, filters: dict[str, list[str]] | None = None
    ) -> list[KeywordHit]:
        """The k best documents for ``query``; ``filters`` maps a field to its allowed values."""
        terms = set(tokenize(query))
        with self._lock:
            n = len(self._slot)
            if not terms or n == 0:
                return []
            lengths = np.asarray(self._len, dtype=np.float32)
            avgdl = max(self._total_len / n, 1e-9)
            norm = self.k1 * (1 - self.b + self.b * lengths / avgdl)
            scores = np.zeros(len(self._ids), dtype=np.float32)
            for term in terms:
                arr = self._compiled(term)
                if arr is None:
                    continue
                slots, tfs = arr
                idf = math.log(1 + (n - len(slots) + 0.5) / (len(slots) + 0.5))
                scores[slots] += idf * tfs * (self.k1 + 1) / (tfs + norm[slots])
            allowed = self._allowed(filters)
            if allowed is not None:
                scores[~allowed] = 0.0
            hits = np.flatnonzero(scores > 0)
            if hits.size == 0:
                return []
            top = hits[np.argsort(-scores[hits], kind="stable")[:k]]
            return [KeywordHit(str(self._ids[s]), float(scores[s])) for s in top]

    def coverage(self, query: str, doc_id: str) -> float:
        """Share of the query's distinct terms that occur in the document (0..1)."""
        terms = set(tokenize(query))
        with self._lock:
            slot = self._slot.get(doc_id)
            if not terms or slot is None:
                return 0.0
            return sum(1 for t in terms if t in self._terms[slot]) / len(terms)

    # ------------------------------------------------------------------ persistence

    def save(self, path: Path) -> None:
        with self._lock:
            docs = {i: (self._terms[s], self._meta[s]) for i, s in self._slot.items()}
            payload = {"version": TOKENS_VERSION, "generation": self.generation, "docs": docs}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    def load(self, path: Path) -> bool:
        """Load a saved copy; False (and an empty index) if there is none or it is unreadable."""
        try:
            with path.open("rb") as f:
                payload = pickle.load(f)  # our own file in the workspace
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            return False
        if not isinstance(payload, dict) or payload.get("version") != TOKENS_VERSION:
            return False
        with self._lock:
            self.clear()
            for doc_id, (terms, meta) in payload["docs"].items():
                self.add_tokens(doc_id, list(terms.elements()), meta)
            self.generation = str(payload.get("generation", ""))
        return True
