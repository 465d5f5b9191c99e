"""Key-term accuracy: the share of the reference's business terms the transcript gets right.

CER counts a wrong filler like a wrong amount. This measure looks only at what poisons the
later stages: the reference's **nouns** (compound nouns as Sudachi mode C joins them: 経費精算,
部長決裁, 請求書) and **numbers with their unit** (50万円, 3営業日, 10日). A term is right when
the transcript has exactly its characters at the aligned place (character alignment of the
normalised texts, the same normalisation as CER: NFKC, lower case, punctuation removed, kanji
numerals -> digits). So 決裁 -> 決断 or 50万円 -> 50万年 counts as a miss, a missing 「えー」
does not count at all.

Which nouns count: common and proper nouns and numbers with a unit; pronouns, formal nouns
(こと, ため), nouns written in hiragana only and a short list of generic nouns (場合, 今, 方,
感じ…; ``GENERIC_JA``, written before any measurement) are not business terms. English: words
that are not function words or generic verbs (a stop list), and numbers with the word after
them; reported as "content words" (no part-of-speech tagger offline).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from eval.asr import _KNUM_RUN, _kanji_number
from pipeline.readings import tokenizer as _tokenizer

GENERIC_JA_WORDS = (
    "場合 時 時間 今 今日 前 後 方 感じ 形 話 中 上 下 外 内 件 点 所 方法 "
    "全部 一部 全体 自分 皆 みんな 人 方々 最初 最後 次 他 ほか 以上 以下 以外 "
    "程度 部分 理由 結果 関係 意味 感 気 的 ため 為 様 よう 通り 毎回 基本 "
    "普通 大体 大丈夫 本当 実際 確か 一応 一番 何 誰 どこ いつ これ それ あれ "
    "ここ そこ 今回 前回 次回 そう ああ うん はい ええ えー あの その この 例 "
    "例えば 順番 流れ 仕事 作業 対応 確認 "
)
GENERIC_JA = frozenset(GENERIC_JA_WORDS.split())
_STOP_WORDS_EN = (
    "a an the and or but if then so of to in on at by for with from as is are was were be been "
    "being am do does did done have has had having i you he she it we they me him her us them "
    "my your his its our their this that these those there here what which who whom whose when "
    "where why how not no yes all any some each every more most other such only own same than "
    "too very can could will would shall should may might must just also about into over after "
    "before again once up down out off okay ok right well yeah uh um oh get got go goes going "
    "gone make makes made take takes took say says said see know think want need like thing "
    "things way lot really actually basically usually sometimes always never because while "
    "until through between both either neither one ones something anything everything nothing "
    "let lets let's it's that's there's we're they're i'm you're don't doesn't didn't isn't "
    "aren't won't can't "
)
_STOP_EN = frozenset(_STOP_WORDS_EN.split())
_UNIT_EN = re.compile(
    r"^(%|percent|dollars?|yen|euros?|days?|weeks?|months?|years?|hours?|"
    r"minutes?|million|thousand|billion|k|m|times|invoices?|items?)$"
)


@dataclass
class Term:
    text: str  # normalised surface
    start: int  # in the normalised reference (characters for ja, words for en)
    end: int
    kind: str  # "noun" | "number"


@dataclass
class KeyTermResult:
    right: int = 0
    total: int = 0
    missed: list[dict[str, str]] = field(default_factory=list)  # {"ref": ..., "heard": ...}

    @property
    def accuracy(self) -> float | None:
        return self.right / self.total if self.total else None


# --------------------------------------------------------------------------- normalisation


def _norm_piece(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _KNUM_RUN.sub(lambda m: _kanji_number(m.group()), text)
    return re.sub(r"[\s\W_]+", "", text)


def _is_noun(pos: tuple[str, ...]) -> bool:
    return pos[0] == "名詞" and pos[1] in ("普通名詞", "固有名詞", "数詞")


def _is_unit(pos: tuple[str, ...]) -> bool:
    return (pos[0] == "接尾辞" and pos[1] == "名詞的") or (
        pos[0] == "名詞" and len(pos) > 2 and pos[2] == "助数詞可能"
    )


def same_word_ja(text: str) -> str:
    """The text with every word in Sudachi's normalised spelling (振り込み = 振込, つど = 都度,
    エクセル stays エクセル): for the "same word" variant of the measure."""
    return "\n".join(
        "".join(m.normalized_form() for m in _tokenizer().tokenize(line))
        for line in unicodedata.normalize("NFKC", text).splitlines()
    )


def terms_ja(reference: str) -> tuple[str, list[Term]]:
    """The normalised reference and its key terms (spans in it)."""
    # kanji numerals become digits first (like CER), so Sudachi sees 50万円 as number + unit
    text = unicodedata.normalize("NFKC", reference).lower()
    text = _KNUM_RUN.sub(lambda m: _kanji_number(m.group()), text)
    norm_parts: list[str] = []
    terms: list[Term] = []
    pos_ = 0
    for line in text.splitlines():
        toks = [(m.surface(), tuple(m.part_of_speech())) for m in _tokenizer().tokenize(line)]
        run: list[tuple[str, tuple[str, ...], int, int]] = []

        def close(run: list[tuple[str, tuple[str, ...], int, int]]) -> None:
            if not run:
                return
            surface = "".join(_norm_piece(s) for s, *_ in run)
            a, b = run[0][2], run[-1][3]
            has_num = any(p[1] == "数詞" for _, p, *_ in run)
            has_unit = any(_is_unit(p) for _, p, *_ in run)
            if has_num:
                if has_unit or len(run) > 1:
                    terms.append(Term(surface, a, b, "number"))
                return
            if len(surface) < 2 or surface in GENERIC_JA:
                return
            if re.fullmatch(r"[\u3041-\u309f]+", surface):
                return  # hiragana-only nouns: こと, もの, ところ
            terms.append(Term(surface, a, b, "noun"))

        for surface, p in toks:
            piece = _norm_piece(surface)
            a = pos_
            pos_ += len(piece)
            norm_parts.append(piece)
            if not piece:
                close(run)
                run = []
                continue
            if (p[0] == "名詞" and p[1] in ("代名詞",)) or (p[0] == "名詞" and p[2] == "形式名詞"):
                close(run)
                run = []
                continue
            if _is_noun(p) or (run and _is_unit(p)) or (p[0] == "接頭辞" and not run):
                run.append((surface, p, a, pos_))
            else:
                close(run)
                run = []
        close(run)
    return "".join(norm_parts), terms


def terms_en(reference: str) -> tuple[list[str], list[Term]]:
    from eval.asr import normalize

    words = normalize(reference, "en").split()
    terms: list[Term] = []
    for i, w in enumerate(words):
        if re.fullmatch(r"\d[\d.,]*", w):
            end = i + 2 if i + 1 < len(words) and _UNIT_EN.match(words[i + 1]) else i + 1
            terms.append(Term(" ".join(words[i:end]), i, end, "number"))
        elif len(w) >= 3 and w.isalpha() and w not in _STOP_EN:
            terms.append(Term(w, i, i + 1, "noun"))
    return words, terms


# --------------------------------------------------------------------------- scoring


def key_terms(
    hypothesis: str, reference: str, language: str, same_word: bool = False
) -> KeyTermResult:
    """How many of the reference's key terms the hypothesis has right, at the aligned place.
    ``same_word``: spelling variants of one word count as right (Japanese: both texts in
    Sudachi's normalised spelling first)."""
    if same_word and language == "ja":
        hypothesis, reference = same_word_ja(hypothesis), same_word_ja(reference)
    from rapidfuzz.distance import Levenshtein

    from eval.asr import normalize

    ref: Any
    hyp: Any
    if language == "ja":
        ref, terms = terms_ja(reference)
        hyp = normalize(hypothesis, "ja")
    else:
        ref, terms = terms_en(reference)
        hyp = normalize(hypothesis, "en").split()
    ops = Levenshtein.opcodes(ref, hyp)
    equal = [(o.src_start, o.src_end, o.dest_start) for o in ops if o.tag == "equal"]
    out = KeyTermResult(total=len(terms))
    for t in terms:
        if any(a <= t.start and t.end <= b for a, b, _ in equal):
            out.right += 1
            continue
        lo = hi = None  # what was heard there: the hypothesis span aligned to the term
        for o in ops:
            a, b, c, d = o.src_start, o.src_end, o.dest_start, o.dest_end
            if a == b:
                if not t.start < a < t.end:
                    continue
            elif b <= t.start or a >= t.end:
                continue
            if o.tag == "equal":
                c, d = c + max(a, t.start) - a, c + min(b, t.end) - a
            lo = c if lo is None else min(lo, c)
            hi = d if hi is None else max(hi, d)
        sep = "" if language == "ja" else " "
        heard = sep.join(hyp[lo:hi]) if lo is not None and hi is not None else ""
        out.missed.append({"ref": t.text, "heard": heard})
    return out


def pooled(results: list[KeyTermResult]) -> float | None:
    total = sum(r.total for r in results)
    return sum(r.right for r in results) / total if total else None
