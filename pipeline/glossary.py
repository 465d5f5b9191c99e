"""Domain vocabulary: hints for Whisper (the glossary prompt) and the session-2 rule-based
correction of glossary terms.

The product's correction is now ``pipeline/correction.py`` (candidates from readings of the
back-office lexicon, scored in context by the LLM, recorded and revertable); ``transcribe_file``
no longer calls ``Glossary.correct_all``, which stays as the simple rule it documents below.

Whisper base hears business words as homophones (承認 -> 商人, 照合 -> 証合, 課長 -> 家庁).
Two levers, both measured in ``eval/asr.py`` (figures in docs/benchmarks.md):

1. ``hotwords``: the glossary is given to faster-whisper as a hint for every 30 s window.
2. ``correct``: after transcription, a span of Japanese text is replaced by a glossary term when
   it *sounds* the same (its characters' dictionary readings spell the term's reading) and is
   not itself a word (``証合``, ``家庁``, ``感情課目`` are not words; ``商人`` and ``生産`` are).
   Real words are only replaced through explicit confusion pairs (``商人=承認``), and only in a
   transcript that already contains glossary terms (a business hearing), or when the word is an
   exact homophone (same dictionary reading, all kanji) of a glossary term that the same
   transcript also spells correctly elsewhere (形状 -> 計上 once 計上 was heard right: the
   hearing is about that term). Correct text is not touched: a glossary term already spelled
   right, any other dictionary word, or a span that would cut a compound word in two is left
   alone.

Readings come from the Sudachi core dictionary (already used for keyword search).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from .models import Segment
from .readings import is_word, reading, spell
from .segment_edit import replace_in_segment

# A general back-office vocabulary (経理・購買・販売). Client system names and project words
# come from settings (``glossary``) or the project.
DEFAULT_TERMS_JA: tuple[str, ...] = (
    "経費精算",
    "申請",
    "承認",
    "決裁",
    "稟議",
    "仕訳",
    "照合",
    "立替",
    "領収書",
    "請求書",
    "検収",
    "売上計上",
    "締め日",
    "出金伝票",
    "勘定科目",
    "経理",
    "課長",
    "部長",
    "所属長",
    "交際費",
    "振込",
    "受注",
    "発注",
    "納期",
    "在庫",
    "見積書",
    "注文書",
    "買掛金",
    "売掛金",
    "入金",
    "消込",
    "月次決算",
    "規程",
)
DEFAULT_TERMS_EN: tuple[str, ...] = ()

# Known Whisper homophone errors for real words (heard -> meant), applied only in business
# context. Extend per project with "heard=meant" entries in the glossary.
DEFAULT_CONFUSIONS_JA: dict[str, str] = {"商人": "承認", "決策": "決裁"}

_KANJI = re.compile(r"[\u3400-\u9fff\u3005]")
_KATA = re.compile(r"[\u30a1-\u30fa\u30fc]")
_KANJI_ONLY = re.compile(r"[\u3400-\u9fff\u3005]+")
_MAX_HOTWORD_CHARS = 200  # faster-whisper keeps at most ~223 prompt tokens of hotwords


@dataclass
class Glossary:
    """Terms for one language, plus explicit confusion pairs (heard -> meant)."""

    language: str = "ja"
    terms: list[str] = field(default_factory=list)
    confusions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls, language: str | None, user_terms: list[str] | None = None, defaults: bool = True
    ) -> Glossary:
        """Default terms for the language, then the user's (``term`` or ``heard=term``)."""
        lang = language if language in ("ja", "en") else "ja"
        terms: list[str] = []
        confusions: dict[str, str] = {}
        if defaults:
            terms += DEFAULT_TERMS_JA if lang == "ja" else DEFAULT_TERMS_EN
            confusions.update(DEFAULT_CONFUSIONS_JA if lang == "ja" else {})
        for raw in user_terms or []:
            entry = unicodedata.normalize("NFC", raw.strip())
            if "=" in entry:
                heard, _, meant = (x.strip() for x in entry.partition("="))
                if heard and meant:
                    confusions[heard] = meant
                    terms.append(meant)
            elif entry:
                terms.append(entry)
        # user terms last in the list but first in the hotwords (they matter most)
        seen: dict[str, None] = {}
        for t in terms:
            seen.setdefault(t, None)
        return cls(lang, list(seen), confusions)

    def hotwords(self) -> str | None:
        """A short term list for faster-whisper's ``hotwords`` (project terms first)."""
        if not self.terms:
            return None
        sep = "、" if self.language == "ja" else ", "
        ordered = list(reversed(self.terms))  # user terms were appended last
        out: list[str] = []
        for t in ordered:
            if len(sep.join([*out, t])) > _MAX_HOTWORD_CHARS:
                break
            out.append(t)
        return sep.join(out)

    def prompt(self) -> str | None:
        """The glossary as Whisper's initial prompt: the same term list as ``hotwords``. Whisper
        takes it as text already said, so the terms' spellings become likelier."""
        return self.hotwords()

    def correct(
        self,
        text: str,
        business_context: bool = True,
        confirmed: frozenset[str] = frozenset(),
    ) -> tuple[str, list[Correction]]:
        """Replace mis-heard glossary terms in ``text``; returns the text and what changed.
        ``confirmed``: terms the transcript spells correctly elsewhere (see ``correct_all``)."""
        if self.language != "ja" or not text:
            return text, []
        confusions = self.confusions if business_context else {}
        return correct_ja(text, self.terms, confusions, confirmed)

    def correct_all(self, texts: list[str]) -> list[str]:
        """The correction pass over a whole transcript (its segments' texts, in order)."""
        business = self.in_context(texts)
        joined = "".join(texts)
        confirmed = frozenset(t for t in self.terms if t in joined) if business else frozenset()
        return [self.correct(t, business, confirmed)[0] for t in texts]

    def correct_segments(self, segments: list[Segment]) -> list[Segment]:
        """``correct_all`` applied to segments: each replacement rewrites the segment's words
        with its text (``segment_edit.replace_in_segment``), so word timings stay attached."""
        texts = [s.text for s in segments]
        business = self.in_context(texts)
        joined = "".join(texts)
        confirmed = frozenset(t for t in self.terms if t in joined) if business else frozenset()
        out = []
        for seg in segments:
            for c in reversed(self.correct(seg.text, business, confirmed)[1]):
                seg = replace_in_segment(seg, c.start, c.end, c.term)
            out.append(seg)
        return out

    def in_context(self, texts: list[str]) -> bool:
        """True when the texts already contain glossary terms (a hearing in this domain)."""
        joined = "".join(texts)
        return sum(joined.count(t) for t in self.terms) >= 2


@dataclass(frozen=True)
class Correction:
    start: int
    end: int
    heard: str
    term: str


# --------------------------------------------------------------------------- readings

_spell = spell


@lru_cache(maxsize=1024)
def _term_reading(term: str) -> str:
    return reading(term)


def _splits_compound(text: str, start: int, end: int) -> bool:
    """True when the span would cut a kanji compound word in two at either edge."""
    if start > 0 and _KANJI.match(text[start - 1]) and _KANJI.match(text[start]):
        for k in (2, 3):
            if start - k + 1 >= 0 and is_word(text[start - k + 1 : start + 1]):
                return True
    if end < len(text) and _KANJI.match(text[end - 1]) and _KANJI.match(text[end]):
        for k in (2, 3):
            if end + k - 1 <= len(text) and is_word(text[end - 1 : end + k - 1]):
                return True
    return False


def _homophone(span: str, term: str, confirmed: frozenset[str]) -> bool:
    """A whole kanji word read exactly like a term the transcript confirms (形状 ~ 計上)."""
    return (
        term in confirmed
        and _KANJI_ONLY.fullmatch(span) is not None
        and reading(span) == _term_reading(term)
    )


def correct_ja(
    text: str,
    terms: list[str],
    confusions: dict[str, str],
    confirmed: frozenset[str] = frozenset(),
) -> tuple[str, list[Correction]]:
    found: list[Correction] = []
    taken = [False] * len(text)

    def free(a: int, b: int) -> bool:
        return not any(taken[a:b])

    def take(a: int, b: int, term: str) -> None:
        found.append(Correction(a, b, text[a:b], term))
        for k in range(a, b):
            taken[k] = True

    # correct spellings are protected first, so nothing overwrites them
    for term in sorted(set(terms), key=len, reverse=True):
        for m in re.finditer(re.escape(term), text):
            if free(m.start(), m.end()):
                for k in range(m.start(), m.end()):
                    taken[k] = True
    for heard, meant in sorted(confusions.items(), key=lambda kv: len(kv[0]), reverse=True):
        for m in re.finditer(re.escape(heard), text):
            if free(m.start(), m.end()):
                take(m.start(), m.end(), meant)
    # sound-alike spans that are not words
    for term in sorted(set(terms), key=len, reverse=True):
        target = _term_reading(term)
        if len(term) < 2 or len(target) < 3 or not all(_KATA.fullmatch(c) for c in target):
            continue
        for i in range(len(text)):
            if taken[i] or not (_KANJI.match(text[i]) or _KATA.match(text[i])):
                continue
            for j in sorted(set(_spell(text, i, target, 0)), reverse=True):
                span = text[i:j]
                if j - i < 2 or span == term or not free(i, j):
                    continue
                if _splits_compound(text, i, j):
                    continue  # part of a longer word: leave it
                if is_word(span) and not _homophone(span, term, confirmed):
                    continue  # a real word that sounds the same: leave it
                if not _KANJI.search(span) and not _KATA.fullmatch(span):
                    continue  # plain hiragana is usually grammar, not a mis-heard term
                take(i, j, term)
                break
    if not found:
        return text, []
    found.sort(key=lambda c: c.start)
    out, pos = [], 0
    for c in found:
        out += [text[pos : c.start], c.term]
        pos = c.end
    out.append(text[pos:])
    return "".join(out), found
