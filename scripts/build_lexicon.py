"""Build the bundled back-office lexicon ``pipeline/data/lexicon_ja.tsv`` (reproducible).

Sources, both public or our own:
1. ``pipeline/data/backoffice_ja.txt``: back-office vocabulary written by the team;
2. nouns of the public Japanese employee rulebooks in ``../shared/eval-data/ja_employee_handbooks``
   (就業規則, 賃金規程, 出張旅費規程, …): Sudachi mode-C noun compounds that occur at least
   ``--min-count`` times, 2-10 characters, with a kanji or katakana and no digit. Only the terms
   and their readings are kept; no sentence of the rulebooks is copied.

Each line: ``term<TAB>reading<TAB>source`` (``team`` or ``rulebooks``), sorted by term.

    .venv/bin/python scripts/build_lexicon.py [--handbooks DIR] [--min-count 2]
"""

from __future__ import annotations

import argparse
import os
import re
import unicodedata
from collections import Counter
from pathlib import Path

from pipeline.readings import KATA_ONLY, reading, tokens

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "pipeline" / "data"
EVAL_DATA = Path(os.environ.get("SHIKUMI_EVAL_DATA", REPO.parent / "shared" / "eval-data"))
HANDBOOKS = EVAL_DATA / "ja_employee_handbooks"
_CONTENT = re.compile(r"[\u3400-\u9fff\u30a1-\u30fa]")
_GENERIC_WORDS = (
    "場合 時 前 後 方 中 上 下 外 内 者 等 他 ほか 以上 以下 以外 次 各号 同項 前項 本条 第"
)
_GENERIC = set(_GENERIC_WORDS.split())


def team_terms() -> list[str]:
    out: list[str] = []
    for line in (DATA / "backoffice_ja.txt").read_text("utf-8").splitlines():
        if line.startswith("#"):
            continue
        out += [unicodedata.normalize("NFKC", t).replace("_", " ") for t in line.split()]
    return out


def rulebook_terms(folder: Path, min_count: int) -> list[str]:
    counts: Counter[str] = Counter()
    for path in sorted(folder.glob("*/*.md")):
        if path.name in ("README.md", "UPDATE_WORKFLOW.md"):
            continue
        for line in path.read_text("utf-8").splitlines():
            run: list[str] = []
            for tok in [*tokens(unicodedata.normalize("NFKC", line)), None]:
                if tok is not None and tok.noun and not tok.oov:
                    run.append(tok.surface)
                    continue
                term = "".join(run)
                run = []
                if 2 <= len(term) <= 10 and _CONTENT.search(term) and not re.search(r"\d", term):
                    counts[term] += 1
    return [t for t, n in counts.items() if n >= min_count and t not in _GENERIC]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--handbooks", type=Path, default=HANDBOOKS)
    ap.add_argument("--min-count", type=int, default=2)
    args = ap.parse_args()
    rows: dict[str, tuple[str, str]] = {}
    for source, terms in (
        ("team", team_terms()),
        ("rulebooks", rulebook_terms(args.handbooks, args.min_count)),
    ):
        for term in terms:
            if term in rows:
                continue
            r = reading(term)
            if not r or not KATA_ONLY.fullmatch(r):
                r = ""  # a Latin name (freee, kintone): kept for the prompt and the gate
            rows[term] = (r, source)
    out = DATA / "lexicon_ja.tsv"
    with out.open("w", encoding="utf-8") as f:
        f.write("# term\treading\tsource (built by scripts/build_lexicon.py)\n")
        for term in sorted(rows):
            f.write(f"{term}\t{rows[term][0]}\t{rows[term][1]}\n")
    by_source = Counter(s for _, s in rows.values())
    print(f"{len(rows)} terms -> {out} ({dict(by_source)})")


if __name__ == "__main__":
    main()
