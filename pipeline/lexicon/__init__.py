"""Cue phrasings per language, as data (``ja.toml``, ``en.toml``): one place, no regex elsewhere.

The model decides labels, fields and findings. The phrasings here are fallback data: fields when
the model's answer failed (marked ``filled_by="cues"`` on the element), cheap checks where no
model is asked (a count alone is not a step; the interviewer asked "what if ...?"), and a second
opinion for findings. Names of systems come from the engagement's glossary, not from here; the
lexicon only lists generic kinds (メール, CSV, spreadsheet).

Leaf module: imports nothing from the pipeline.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from re import Match, Pattern

_DIR = Path(__file__).resolve().parent
_NEVER = re.compile(r"(?!x)x")


@dataclass
class Lexicon:
    """Entries of alternatives; a case-sensitive entry's alternatives are stored wrapped in
    ``(?-i:...)``, so every entry compiles with ``re.I`` and entries of two languages merge."""

    language: str
    entries: dict[str, list[str]]
    _compiled: dict[str, Pattern[str]] = field(default_factory=dict, repr=False)

    def re(self, name: str) -> Pattern[str]:
        """The entry's alternatives as one pattern (a never-matching one if the entry is absent)."""
        if name not in self._compiled:
            alts = self.entries.get(name)
            self._compiled[name] = (
                re.compile("|".join(f"(?:{a})" for a in alts), re.I) if alts else _NEVER
            )
        return self._compiled[name]

    def pattern(self, name: str) -> str:
        """The raw alternatives joined, to embed in a larger pattern."""
        return "|".join(self.entries.get(name) or [])

    def search(self, name: str, text: str) -> Match[str] | None:
        return self.re(name).search(text)

    def words(self, name: str) -> list[str]:
        return list(self.entries.get(name) or [])


def _load(language: str) -> Lexicon:
    data = tomllib.loads((_DIR / f"{language}.toml").read_text(encoding="utf-8"))
    entries: dict[str, list[str]] = {}
    for name, value in data.items():
        if isinstance(value, dict):
            cs = bool(value.get("case_sensitive"))
            entries[name] = [f"(?-i:{a})" if cs else a for a in value["patterns"]]
        else:
            entries[name] = list(value)
    return Lexicon(language, entries)


@cache
def lexicon(language: str) -> Lexicon:
    """The lexicon of ``language`` ("ja" or "en"; anything else reads as Japanese)."""
    return _load("en" if str(language) == "en" else "ja")


@cache
def both() -> Lexicon:
    """Japanese and English together, for checks that must not depend on the hearing's language
    (text addressed to the model; an English sentence in a Japanese hearing)."""
    ja, en = lexicon("ja"), lexicon("en")
    merged = {k: ja.words(k) + en.words(k) for k in set(ja.entries) | set(en.entries)}
    return Lexicon("any", merged)


def language_of(text: str, default: str = "ja") -> str:
    """ "en" when the text is mostly Latin letters, else ``default``."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return default
    latin = sum(c.isascii() for c in letters) / len(letters)
    return "en" if latin >= 0.7 else ("ja" if latin <= 0.3 else default)


LANGUAGES = ("ja", "en")
