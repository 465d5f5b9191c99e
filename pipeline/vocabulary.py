"""Business vocabulary indexed by reading: where candidate words for a mis-heard one come from.

Sources, in order of trust (a term from an earlier source wins):

- ``review``: heard -> meant pairs a reviewer made in this engagement (``Engagement.glossary``
  entries ``heard=meant``);
- ``glossary``: the engagement's and the settings' glossary terms;
- ``engagement``: terms confirmed in other hearings of the same engagement;
- ``documents``: nouns of the documents uploaded beside the audio (規程, マニュアル, 帳票);
- ``team`` / ``rulebooks``: the bundled back-office lexicon (``pipeline/data/lexicon_ja.tsv``,
  built by ``scripts/build_lexicon.py``).

A term is found for a heard word by its reading: the same reading, a reading one kana away
(after folding small kana and long vowels), or, for words of the same length that share a
character at the same place, a reading two kana away (決断 ケツダン ~ 決裁 ケッサイ).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .readings import KANJI, KATA_ONLY, distance, fold, reading

DATA = Path(__file__).with_name("data")
TRUST = ("review", "glossary", "engagement", "documents", "team", "rulebooks")
# sources a hearing's own words are checked against to decide it is a back-office hearing:
# the bundled rulebook nouns include everyday words (会社, 期間), so they do not count
GATE_SOURCES = frozenset({"review", "glossary", "engagement", "documents", "team"})


@dataclass(frozen=True)
class Entry:
    term: str
    reading: str  # katakana; "" for Latin names (freee, kintone)
    source: str

    @property
    def folded(self) -> str:
        return fold(self.reading)


def _deletions(r: str) -> set[str]:
    return {r[:i] + r[i + 1 :] for i in range(len(r))}


class Lexicon:
    """Terms by surface, by folded reading, and by one-kana deletions of it (near readings)."""

    def __init__(self, entries: Iterable[Entry] = ()):
        self.entries: dict[str, Entry] = {}
        self._by_reading: dict[str, list[Entry]] = {}
        self._by_deletion: dict[str, list[Entry]] = {}
        self._by_char: dict[tuple[int, int, str], list[Entry]] = {}
        self.add(entries)

    def add(self, entries: Iterable[Entry]) -> Lexicon:
        for e in entries:
            old = self.entries.get(e.term)
            if old is not None and TRUST.index(old.source) <= TRUST.index(e.source):
                continue
            if old is not None:  # a more trusted source: the old entry leaves every index
                self._unindex(old)
            self.entries[e.term] = e
            for index, key in self._index_keys(e):
                index.setdefault(key, []).append(e)
        return self

    def _index_keys(self, e: Entry) -> Iterator[tuple[dict[Any, list[Entry]], Any]]:
        """Each index ``e`` belongs in, with its key there (none without a reading)."""
        if not e.reading:
            return
        f = e.folded
        yield self._by_reading, f
        if len(f) >= 3:
            for d in _deletions(f):
                yield self._by_deletion, d
        for i, ch in enumerate(e.term):
            if KANJI.match(ch):
                yield self._by_char, (len(e.term), i, ch)

    def _unindex(self, e: Entry) -> None:
        """Take ``e`` out of the indexes ``add`` put it in."""
        for index, key in self._index_keys(e):
            if key in index:
                index[key] = [x for x in index[key] if x is not e]

    def add_terms(self, terms: Iterable[str], source: str) -> Lexicon:
        """Add plain terms (readings from the dictionary); ``heard=meant`` entries add ``meant``."""
        out: list[Entry] = []
        for raw in terms:
            term = unicodedata.normalize("NFKC", raw).strip()
            if "=" in term:
                term = term.partition("=")[2].strip()
            if not term:
                continue
            r = reading(term)
            out.append(Entry(term, r if KATA_ONLY.fullmatch(r or "") else "", source))
        return self.add(out)

    def copy(self) -> Lexicon:
        new = Lexicon()
        new.entries = dict(self.entries)
        new._by_reading = {k: list(v) for k, v in self._by_reading.items()}
        new._by_deletion = {k: list(v) for k, v in self._by_deletion.items()}
        new._by_char = {k: list(v) for k, v in self._by_char.items()}
        return new

    def __contains__(self, term: str) -> bool:
        return term in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def similar(self, surface: str, heard_reading: str) -> list[tuple[Entry, int]]:
        """Terms whose reading is the heard reading or near it, with the reading distance;
        the heard surface itself is never among them."""
        f = fold(heard_reading)
        if len(f) < 2:
            return []
        found: dict[str, tuple[Entry, int]] = {}

        def consider(e: Entry, limit: int) -> None:
            if e.term == surface or e.term in found or not e.reading:
                return
            d = distance(e.reading, heard_reading)
            if d <= limit:
                found[e.term] = (e, d)

        for e in self._by_reading.get(f, []):
            consider(e, 0)
        if len(f) >= 3:  # one kana more, less or different
            keys = [f, *sorted(_deletions(f))]  # in a fixed order: ties keep the first found
            for k in keys:
                for e in self._by_reading.get(k, []):
                    consider(e, 1)
                for e in self._by_deletion.get(k, []):
                    consider(e, 1)
        if len(f) >= 4:  # same length, a kanji in common at the same place: two kana away
            for i, ch in enumerate(surface):
                if KANJI.match(ch):
                    for e in self._by_char.get((len(surface), i, ch), []):
                        consider(e, 2)
        # the same order in every run (a set's order changes with the interpreter's hash seed,
        # and the caller keeps the first few: the transcript changed from run to run)
        return sorted(found.values(), key=lambda x: (x[1], TRUST.index(x[0].source), x[0].term))

    def spelled(self, surface: str, limit: int = 2000) -> list[Entry]:
        """Terms that ``surface`` can be read as character by character (家庁 -> 課長: 家 is
        also read カ), for spans that are not words."""
        from itertools import product

        from .readings import char_readings

        options = [sorted(char_readings(ch)) for ch in surface]
        if not options or any(not o for o in options):
            return []
        n = 1
        for o in options:
            n *= len(o)
        if n > limit:
            return []
        found: dict[str, Entry] = {}
        for combo in product(*options):
            for e in self._by_reading.get(fold("".join(combo)), []):
                if e.term != surface:
                    found.setdefault(e.term, e)
        return sorted(found.values(), key=lambda e: TRUST.index(e.source))

    def gate_terms(self, text: str) -> set[str]:
        """Distinct terms of the trusted sources (not the everyday rulebook nouns) in ``text``."""
        return {
            t
            for t, e in self.entries.items()
            if e.source in GATE_SOURCES and len(t) >= 2 and t in text
        }


def _read_tsv(path: Path) -> list[Entry]:
    out: list[Entry] = []
    for line in path.read_text("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        term, r, source = [*line.split("\t"), "", ""][:3]
        out.append(Entry(term, r, source or "team"))
    return out


@lru_cache(maxsize=2)
def bundled(language: str) -> Lexicon:
    """The bundled back-office lexicon of a language (Japanese: thousands of terms)."""
    if language == "ja":
        return Lexicon(_read_tsv(DATA / "lexicon_ja.tsv"))
    terms = (DATA / "backoffice_en.txt").read_text("utf-8").splitlines()
    words = [t for line in terms if not line.startswith("#") for t in line.split("|")]
    return Lexicon(Entry(t.strip(), "", "team") for t in words if t.strip())


def for_hearing(language: str, **sources: Iterable[str]) -> Lexicon:
    """The bundled lexicon plus the hearing's own sources (keyword = source name: glossary,
    engagement, documents, review)."""
    lex = bundled(language)
    if not any(sources.values()):
        return lex
    lex = lex.copy()
    for source in TRUST:
        if sources.get(source):
            if language == "ja":
                lex.add_terms(sources[source], source)
            else:
                lex.add(Entry(t, "", source) for t in sources[source])
    return lex
