"""Units after numbers: the counter Whisper heard and the ones it may have meant.

50万円 (ゴジュウマンエン) is heard as 50万年 (マンネン): the number is right, the unit is a near
reading of another unit. For a number followed by a unit, every unit of ``UNITS`` whose reading
is the heard unit's or one kana away is a candidate; the language model decides in context
(money is meant -> 円, a duration -> 年), never a fixed table of heard -> meant.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise

from .readings import KANJI, Token, distance, reading

# counters and units of back-office talk (amounts, periods, counts)
UNITS: tuple[str, ...] = (
    "円",
    "年",
    "件",
    "日",
    "人",
    "名",
    "社",
    "枚",
    "台",
    "個",
    "回",
    "割",
    "分",
    "秒",
    "時",
    "時間",
    "週",
    "週間",
    "か月",
    "ヶ月",
    "月",
    "歳",
    "倍",
    "点",
    "部",
    "本",
    "箇所",
    "営業日",
    "期",
    "%",
    "パーセント",
    "ドル",
    "行",
    "号",
    "条",
    "冊",
)


@lru_cache(maxsize=1)
def _unit_readings() -> dict[str, str]:
    return {u: reading(u) for u in UNITS if u != "%"}


def unit_candidates(unit: str) -> list[str]:
    """Units whose reading is one kana away from the heard unit's, with the same last kana
    (マンネン ~ マンエン), two kana or longer (not the unit itself)."""
    heard = reading(unit)
    if not heard:
        return []
    return [
        u
        for u, r in _unit_readings().items()
        if u != unit and len(r) >= 2 and r[-1] == heard[-1] and distance(r, heard) <= 1
    ]


def number_units(toks: list[Token]) -> list[tuple[int, int, str, list[str]]]:
    """(start, end, heard unit, candidate units) for each unit right after a number."""
    out: list[tuple[int, int, str, list[str]]] = []
    for prev, tok in pairwise(toks):
        if not prev.number or tok.number:
            continue
        if tok.surface in UNITS and tok.surface not in ("%", "ドル"):
            cands = unit_candidates(tok.surface)
        elif KANJI.fullmatch(tok.surface):  # a kanji read like a unit (1権 -> 1件, 1階 -> 1回)
            cands = [u for u, r in _unit_readings().items() if r == tok.reading]
        else:
            cands = []
        if cands:
            out.append((tok.start, tok.end, tok.surface, cands))
    return out
