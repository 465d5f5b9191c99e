"""Is a value said in a text? The check every model-written value passes before it is shown.

A value is supported when it is a substring of the text after normalisation, or when most of its
words (Latin script; a shared 4-letter stem counts) or of its character pairs (Japanese) occur
in it. Used by ``fields`` (every field value) and ``rule_complement`` (which clauses tell a row).
"""

from __future__ import annotations

import re

from .align import normalise

SUPPORT_MIN = 0.6  # share of a value's character pairs (ja) / words (en) found in the text


def _pairs(s: str) -> list[str]:
    return [s[i : i + 2] for i in range(len(s) - 1)] or [s]


def _words(s: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", s.lower()) if len(w) >= 3]


def supported(value: str, text: str) -> bool:
    """``value`` is said in ``text``: it is a substring after normalisation, or at least
    SUPPORT_MIN of its words (Latin script; a shared 4-letter stem counts) or of its character
    pairs (Japanese) occur in it."""
    v, t = normalise(value), normalise(text)
    if not v:
        return False
    if v in t:
        return True
    words = _words(value)
    if words and re.fullmatch(r"[\x00-\x7f]+", value):
        stems = {w[:4] for w in _words(text)}
        return sum(w[:4] in stems for w in words) / len(words) >= SUPPORT_MIN
    pairs = _pairs(v)
    return sum(p in t for p in pairs) / len(pairs) >= SUPPORT_MIN
