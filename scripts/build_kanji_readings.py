"""Build ``pipeline/data/kanji_readings_ja.tsv``: the readings each kanji takes inside compounds.

Whisper writes a sound it heard with kanji that can be read that way: 購買 (コウバイ) came out
as 後売 (後 コウ + 売 バイ), 検収 as 検習. The correction pass reads such a non-word character by
character (``readings.char_readings``) to find the term it sounds like. The dictionary's own
single-character entries miss many compound readings (売 has ウリ but not バイ; 習 has none), so
this script learns them from the dictionary's two-kanji words:

for every two-kanji word with reading R, and every split of R into a left and a right part, a
part is credited to one kanji when the other part is a reading the other kanji already has
(販売 ハンバイ, 販 ハン -> 売 バイ). A reading credited by at least ``--min-words`` distinct
words is kept. Only the Sudachi core dictionary (Apache-2.0) is read; no text of ours or of the
evaluation data.

Each line: ``kanji<TAB>reading reading ...`` (katakana: the one-character entries' readings and
the learned ones), sorted.

    .venv/bin/python scripts/build_kanji_readings.py [--min-words 3]
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from importlib.metadata import version
from pathlib import Path

from pipeline.readings import KANJI, KATA_ONLY, dictionary, kata

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "pipeline" / "data" / "kanji_readings_ja.tsv"
MAX_LEN = 4  # kana: a longer part is a whole word's reading, not one character's


def dictionary_words() -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """In one pass over the dictionary: the readings its one-character entries give each kanji
    (names aside: 人 ウド, 上 カムラ), and its two-kanji common nouns with their readings."""
    seed: dict[str, set[str]] = defaultdict(set)
    pairs: list[tuple[str, str]] = []
    for m in dictionary().entries():
        s = m.surface()
        if not 1 <= len(s) <= 2 or "々" in s or not all(KANJI.fullmatch(c) for c in s):
            continue  # 々 repeats the kanji before it: it has no reading of its own
        r = kata(m.reading_form())
        if not KATA_ONLY.fullmatch(r):
            continue
        pos = m.part_of_speech()
        if len(s) == 1 and pos[1] != "固有名詞":
            seed[s].add(r)
        elif len(s) == 2 and pos[:2] == ("名詞", "普通名詞"):
            pairs.append((s, r))  # names (人 ウド, 美 トミ) teach no reading a business word uses
    return seed, pairs


def learned(
    seed: dict[str, set[str]], pairs: list[tuple[str, str]], min_words: int
) -> dict[str, set[str]]:
    credit: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s, r in pairs:
        for i in range(1, len(r)):
            left, right = r[:i], r[i:]
            if left in seed.get(s[0], ()) and _plausible(right):
                credit[(s[1], right)].add(s)
            if right in seed.get(s[1], ()) and _plausible(left):
                credit[(s[0], left)].add(s)
    counts = Counter({k: len(v) for k, v in credit.items()})
    out: dict[str, set[str]] = defaultdict(set)
    for ch, readings in seed.items():  # the dictionary's lookup misses some (習 シュウ)
        out[ch] |= readings
    for (ch, r), n in counts.items():
        if n >= min_words:
            out[ch].add(r)
    return out


def _plausible(part: str) -> bool:
    """A character's reading: at most ``MAX_LEN`` kana, not starting with a small kana, ン or ー."""
    return len(part) <= MAX_LEN and part[0] not in "ァィゥェォャュョッヮンー"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--min-words", type=int, default=3)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    table = learned(*dictionary_words(), args.min_words)
    with args.out.open("w", encoding="utf-8") as f:
        f.write(
            f"# kanji<TAB>readings (one-character entries + learned): {Path(__file__).name}, "
            f"sudachidict-core {version('sudachidict-core')}\n"
        )
        for ch in sorted(table):
            f.write(f"{ch}\t{' '.join(sorted(table[ch]))}\n")
    print(f"{sum(len(v) for v in table.values())} readings of {len(table)} kanji -> {args.out}")


if __name__ == "__main__":
    main()
