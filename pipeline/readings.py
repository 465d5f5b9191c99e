"""Japanese readings (katakana) from the Sudachi core dictionary, and how far two readings are.

Whisper base hears the sound right and picks the wrong word: 決裁 (ケッサイ) -> 決済 / 決策,
万円 (マンエン) -> 万年 (マンネン). Everything that proposes a business term for a heard word
compares *readings*: the same reading, or a near one (one kana more, less or different, after
small kana and long vowels are folded: ショーニン ~ ショウニン).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

KANJI = re.compile(r"[\u3400-\u9fff\u3005]")
HIRA = re.compile(r"[\u3041-\u3096]")
KATA = re.compile(r"[\u30a1-\u30fa\u30fc]")
KATA_ONLY = re.compile(r"[\u30a1-\u30fa\u30fc]+")


@lru_cache(maxsize=1)
def dictionary() -> Any:
    from sudachipy import Dictionary

    return Dictionary(dict="core")


@lru_cache(maxsize=1)
def tokenizer() -> Any:
    """Sudachi split mode C: business compounds stay whole (経費精算, 承認ルート)."""
    from sudachipy import SplitMode

    return dictionary().tokenizer(mode=SplitMode.C)


@lru_cache(maxsize=1)
def tokenizer_a() -> Any:
    """Split mode A: the shortest units (経費 / 精算)."""
    from sudachipy import SplitMode

    return dictionary().tokenizer(mode=SplitMode.A)


def kata(text: str) -> str:
    """Hiragana -> katakana; everything else unchanged."""
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


def reading(text: str) -> str:
    """Katakana reading of a text, e.g. 経費精算 -> ケイヒセイサン."""
    return "".join(kata(m.reading_form()) for m in tokenizer().tokenize(text))


@lru_cache(maxsize=8192)
def is_word(surface: str) -> bool:
    """True when the dictionary knows ``surface`` as a word."""
    return len(dictionary().lookup(surface)) > 0


@dataclass(frozen=True)
class Token:
    surface: str
    reading: str
    pos: tuple[str, ...]
    start: int  # character offsets in the text
    end: int
    oov: bool  # not in the dictionary (an invented spelling such as 証合)

    @property
    def noun(self) -> bool:
        return self.pos[0] == "名詞" and self.pos[1] in ("普通名詞", "固有名詞")

    @property
    def number(self) -> bool:
        return self.pos[1] == "数詞"


def tokens(text: str, fine: bool = False) -> list[Token]:
    """Sudachi tokens of ``text`` with readings and character offsets."""
    tok = tokenizer_a() if fine else tokenizer()
    return [
        Token(
            m.surface(),
            kata(m.reading_form()),
            tuple(m.part_of_speech()),
            m.begin(),
            m.end(),
            bool(m.is_oov()),
        )
        for m in tok.tokenize(text)
    ]


_SMALL = str.maketrans("ヮヵヶヂヅヲ", "ワカケジズオ")
_VOICED = str.maketrans(
    "カキクケコサシスセソタチツテトハヒフヘホ", "ガギグゲゴザジズゼゾダヂヅデドバビブベボ"
)
_HALF = str.maketrans("ハヒフヘホ", "パピプペポ")
_LONG = re.compile(r"(?<=[オコソトノホモヨロゴゾドボポョ])ウ|(?<=[エケセテネヘメレゲゼデベペ])イ")


def fold(r: str) -> str:
    """A reading with the differences Whisper's ear cannot hear folded away:
    long vowels (ー, オウ/エイ spelled as long vowels), ヂ/ヅ/ヲ."""
    return _LONG.sub("", r.translate(_SMALL)).replace("ー", "")


def distance(a: str, b: str) -> int:
    """Edit distance between two folded readings (kana by kana)."""
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(fold(a), fold(b)))


@lru_cache(maxsize=1)
def compound_readings() -> dict[str, tuple[str, ...]]:
    """The readings each kanji takes in compounds (売 バイ, 習 シュウ), which the dictionary's
    lookup of the single character misses: ``data/kanji_readings_ja.tsv``, learned from the
    dictionary's two-kanji words by ``scripts/build_kanji_readings.py``."""
    path = Path(__file__).with_name("data") / "kanji_readings_ja.tsv"
    table: dict[str, tuple[str, ...]] = {}
    for line in path.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            ch, _, readings = line.partition("\t")
            table[ch] = tuple(readings.split())
    return table


@lru_cache(maxsize=8192)
def char_readings(ch: str) -> frozenset[str]:
    """Every reading a character takes: the dictionary's and the compound readings, with sound
    changes in compounds (連濁 voicing, 促音: ケツ -> ケッ)."""
    if HIRA.fullmatch(ch) or KATA.fullmatch(ch):
        return frozenset({kata(ch)})
    if not KANJI.fullmatch(ch):
        return frozenset()
    out: set[str] = set()
    own = [kata(m.reading_form()) for m in dictionary().lookup(ch)]
    for r in [*own, *compound_readings().get(ch, ())]:
        if not r or not all(KATA.fullmatch(c) for c in r):
            continue
        out.add(r)
        out.add(r[0].translate(_VOICED) + r[1:])
        out.add(r[0].translate(_HALF) + r[1:])
        if len(r) >= 2 and r[-1] in "ツチクキ":
            out.add(r[:-1] + "ッ")
    return frozenset(out)


def spell(text: str, i: int, target: str, pos: int = 0, depth: int = 0) -> list[int]:
    """End indexes j such that text[i:j] can be read as target[pos:], character by character."""
    if pos == len(target):
        return [i]
    if i >= len(text) or depth > 8:
        return []
    ends: list[int] = []
    for r in char_readings(text[i]):
        if target.startswith(r, pos):
            ends += spell(text, i + 1, target, pos + len(r), depth + 1)
    return ends
