"""Reading-aware correction: business terms that Whisper heard as another word, fixed in context.

1. **Gate.** Only a hearing whose own words match the back-office lexicon (``in_domain``) gets
   lexicon terms; in other speech (news, stories) only a unit after a number can change, and
   only where the language model prefers it clearly (1階の打ち上げ費用 -> 1回).
2. **Candidates** come from readings, not from a table of observed errors: each span of one to
   three words whose reading is the same as, or near, the reading of a lexicon term
   (``Lexicon.similar``: the bundled back-office lexicon, the glossary, the uploaded documents,
   the engagement's other hearings, the reviewers' corrections), and each unit after a number
   whose reading is near another unit's (50万年 -> 50万円).
3. **Scoring.** The words with each candidate and the words as heard are scored by a
   language model (the embedded LLM's log-probabilities of the span and the few characters
   after it, given the sentence up to it and the end of the sentence before). A candidate
   replaces the heard words only when it raises that log-probability by a clear margin
   (``MARGIN`` nats; less for a heard span that is not a word at all, or a term a reviewer
   already confirmed).
4. **Record.** Every replacement is a ``Correction`` on its segment (original, replacement,
   source, score, the Whisper words it took over); the words are merged so that the text stays
   the words joined and the timings stay right; ``revert`` undoes one exactly.

Without a language model (none configured, or an endpoint without log-probabilities) only
spans that are not dictionary words and read exactly like a term are replaced (証合 -> 照合).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .errors import ShikumiError
from .models import Correction, Segment, Word
from .numbers_ja import number_units
from .readings import KANJI, KATA, KATA_ONLY, Token, is_word, reading, tokens
from .vocabulary import Lexicon

MARGIN = 3.0  # nats the sentence must gain with the candidate (tuned on dev hearings only)
NON_WORD_BONUS = 1.5  # the heard span is not a dictionary word: an ASR invention
TRUSTED_BONUS = 1.5  # a reviewer's correction or a glossary term of this engagement
MAX_CANDIDATES = 8  # per segment (each costs one scoring of a few words)
PER_SPAN = 2
LOW_PROB = 0.5  # Whisper's word probability under which a near reading is worth a look
UNIT_PROB = 0.9  # the same for a unit after a number
GATE_MIN_TERMS = 3  # distinct back-office terms the hearing must use...
GATE_DENSITY = 1.0  # ...and at least this many term occurrences per 100 characters
CONTEXT_CHARS = 30  # of the segment before, as context
LOOKAHEAD = 8  # characters after a span that are scored with it
# spans scored by the language model per audio minute (each costs ~3 short scorings): bounds
# the correction's share of the transcription time (docs/benchmarks.md)
LM_SPANS_PER_MINUTE = 12
# and at most this much scoring time (settings.correction_lm_seconds; 1 s: RTF about +0.03)
LM_SECONDS_PER_MINUTE = 1.0
_NUMERAL = re.compile(r"[0-9０-９〇一二三四五六七八九十百千万億兆]")
_KANJI_RUN = re.compile(r"[\u3400-\u9fff\u3005]{2,}")
HEADER = {"ja": "業務ヒアリングの書き起こし:\n", "en": "Transcript of a back-office hearing:\n"}


class SentenceScorer(Protocol):
    name: str

    def logprobs(self, context: str, texts: Sequence[str]) -> list[float]:
        """Log-probability of each text following ``context``, up to an amount that is the
        same for every text of one call (only differences between them are used)."""
        ...


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    original: str
    replacement: str
    source: str
    distance: int
    # the span covers part of a term spelled right (営業備): not an invented spelling as a
    # whole, so it gets no allowance for non-words
    partial: bool = False

    def apply(self, text: str) -> str:
        return text[: self.start] + self.replacement + text[self.end :]


# --------------------------------------------------------------------------- gate


def gate_stats(texts: Iterable[str], lex: Lexicon) -> tuple[int, float]:
    """(distinct back-office terms, term occurrences per 100 characters) in the texts."""
    joined = "".join(texts)
    terms = lex.gate_terms(joined)
    # count occurrences without counting a term inside a longer one twice
    hits = 0
    taken = [False] * len(joined)
    for t in sorted(terms, key=lambda t: (-len(t), t)):  # longest first, in a fixed order
        i = joined.find(t)
        while i >= 0:
            if not any(taken[i : i + len(t)]):
                hits += 1
                taken[i : i + len(t)] = [True] * len(t)
            i = joined.find(t, i + len(t))
    return len(terms), 100.0 * hits / max(len(joined), 1)


def in_domain(texts: Iterable[str], lex: Lexicon) -> bool:
    """True when the hearing's own words are back-office words often enough."""
    distinct, density = gate_stats(texts, lex)
    return distinct >= GATE_MIN_TERMS and density >= GATE_DENSITY


# --------------------------------------------------------------------------- candidates


def _content(tok: Token) -> bool:
    return bool(KANJI.search(tok.surface) or KATA.search(tok.surface))


def _joinable(tok: Token) -> bool:
    """A token that can be part of a mis-heard term: a noun, an unknown word, or kanji."""
    if tok.pos[0] in ("助詞", "助動詞", "補助記号", "空白", "記号"):
        return False
    return tok.noun or tok.oov or (tok.number is False and bool(KANJI.search(tok.surface)))


def _guess_reading(toks: Sequence[Token]) -> str:
    out = ""
    for t in toks:
        r = t.reading
        if not KATA_ONLY.fullmatch(r or ""):  # an unknown word: read it character by character
            r = "".join(reading(ch) for ch in t.surface)
        if not KATA_ONLY.fullmatch(r or ""):
            return ""
        out += r
    return out


def _protected(text: str, lex: Lexicon) -> list[bool]:
    """Characters inside a term already spelled as in the lexicon (longest first)."""
    taken = [False] * len(text)
    n = len(text)
    for i in range(n):
        if taken[i]:
            continue
        for j in range(min(n, i + 12), i + 1, -1):
            if text[i:j] in lex.entries:
                taken[i:j] = [True] * (j - i)
                break
    return taken


def _keeps(text: str, a: int, b: int, term: str, guarded: Sequence[bool]) -> bool:
    """Whether replacing text[a:b] by ``term`` keeps every character of a term already spelled
    right in place (営業備 -> 営業日 keeps 営業). Such a term that runs on past the span's end
    must keep its place at the end (計議割増賃金: 議割 -> 日割り would break 割増賃金), one
    that began before the span at the start."""
    marks = guarded[a:b]
    if not any(marks):
        return True
    if all(marks):
        return False
    n = b - a
    front = all(not m or (i < len(term) and text[a + i] == term[i]) for i, m in enumerate(marks))
    back = all(
        not m or (n - i <= len(term) and text[a + i] == term[len(term) - (n - i)])
        for i, m in enumerate(marks)
    )
    runs_in = marks[0] and a > 0 and guarded[a - 1]
    runs_on = marks[-1] and b < len(guarded) and guarded[b]
    if runs_in and runs_on:
        return front and back
    if runs_in:
        return front
    if runs_on:
        return back
    return front or back


def candidates(
    text: str,
    lex: Lexicon,
    confusions: dict[str, str] | None = None,
    char_prob: Sequence[float] | None = None,
) -> list[Candidate]:
    """Every replacement worth scoring in one sentence, best first.

    A span read exactly like a term is always a candidate; a span whose reading is only near
    a term's is one when the span is not a dictionary word, or Whisper was unsure of it (its
    words' probability under ``LOW_PROB``; ``char_prob``: per character of ``text``)."""
    toks = tokens(text)
    guarded = _protected(text, lex)
    out: dict[tuple[int, int, str], Candidate] = {}
    for heard, meant in (confusions or {}).items():  # a reviewer's heard -> meant, anywhere
        i = text.find(heard)
        while i >= 0:
            out[(i, i + len(heard), meant)] = Candidate(
                i, i + len(heard), heard, meant, "review", 0
            )
            i = text.find(heard, i + len(heard))
    for i in range(len(toks)):
        if not _content(toks[i]) or not _joinable(toks[i]):
            continue
        for n in (1, 2, 3):
            span = toks[i : i + n]
            if len(span) < n or not all(_joinable(t) for t in span) or not _content(span[-1]):
                break
            a, b = span[0].start, span[-1].end
            surface = text[a:b]
            if len(surface) < 2 or all(guarded[a:b]) or _NUMERAL.search(surface):
                continue  # numbers are left to the unit check
            word = is_word(surface)
            unsure = char_prob is not None and min(char_prob[a:b], default=1.0) < LOW_PROB
            found: list[tuple[str, str, int]] = []
            r = _guess_reading(span)
            if r:
                for entry, dist in lex.similar(surface, r):
                    if dist == 0 or not word or unsure:
                        found.append((entry.term, entry.source, dist))
            if (not word or unsure) and len(surface) <= 4:
                found += [(e.term, e.source, 0) for e in lex.spelled(surface)]
            kept = 0
            for term, source, dist in sorted(found, key=lambda f: f[2]):
                if term in text[max(0, a - 2) : b + 2] or not _keeps(text, a, b, term, guarded):
                    continue  # the term is already right there (経費精算 inside 経費精算書)
                key = (a, b, term)
                if key not in out:
                    out[key] = Candidate(a, b, surface, term, source, dist, any(guarded[a:b]))
                    kept += 1
                if kept >= PER_SPAN:
                    break
    for m in _KANJI_RUN.finditer(text):  # invented spellings inside a kanji run (証合し)
        for a in range(m.start(), m.end() - 1):
            for b in range(a + 2, min(m.end(), a + 4) + 1):
                surface = text[a:b]
                if all(guarded[a:b]) or is_word(surface) or _NUMERAL.search(surface):
                    continue
                fits = [e for e in lex.spelled(surface) if _keeps(text, a, b, e.term, guarded)]
                for e in fits[:PER_SPAN]:
                    if e.term not in text[max(0, a - 2) : b + 2]:
                        out.setdefault(
                            (a, b, e.term),
                            Candidate(a, b, surface, e.term, e.source, 0, any(guarded[a:b])),
                        )
    for a, b, unit, units in number_units(toks):
        if char_prob is not None and min(char_prob[a:b], default=1.0) >= UNIT_PROB:
            continue  # Whisper was sure of the unit
        for u in units:
            out.setdefault((a, b, u), Candidate(a, b, unit, u, "number", 1))
    ranked = sorted(out.values(), key=lambda c: (c.source != "review", c.distance, c.start))
    return ranked[:MAX_CANDIDATES]


def char_probabilities(seg: Segment) -> list[float] | None:
    """Whisper's probability of the word each character of the text belongs to."""
    layout = _word_layout(seg)
    if layout is None:
        return None
    lead, spans = layout
    probs = [1.0] * len(seg.text)
    for w, (s, e) in zip(seg.words, spans, strict=True):
        for k in range(max(0, s - lead), min(len(seg.text), e - lead)):
            probs[k] = w.probability
    return probs


def _margin(c: Candidate) -> float:
    m = MARGIN
    if c.source in ("review", "glossary"):
        m -= TRUSTED_BONUS
    if c.source != "number" and not c.partial and not is_word(c.original):
        m -= NON_WORD_BONUS
    return m


# --------------------------------------------------------------------------- applying


def _word_layout(seg: Segment) -> tuple[int, list[tuple[int, int]]] | None:
    """(offset of the text in the joined words, (start, end) of each word in that string),
    or None when the text is not the words joined (edited by hand)."""
    joined = "".join(w.word for w in seg.words)
    if not seg.words or joined.strip() != seg.text:
        return None
    lead = len(joined) - len(joined.lstrip())
    spans, pos = [], 0
    for w in seg.words:
        spans.append((pos, pos + len(w.word)))
        pos += len(w.word)
    return lead, spans


def apply(seg: Segment, chosen: Sequence[Candidate], scores: Sequence[float | None]) -> Segment:
    """The segment with the chosen (non-overlapping) replacements applied and recorded."""
    seg = seg.model_copy(deep=True)
    order = sorted(zip(chosen, scores, strict=True), key=lambda x: x[0].start, reverse=True)
    for cand, score in order:
        layout = _word_layout(seg)
        word_index: int | None = None
        taken: list[Word] = []
        if layout is not None:
            lead, spans = layout
            a, b = cand.start + lead, cand.end + lead
            idx = [k for k, (s, e) in enumerate(spans) if s < b and e > a]
            if idx:
                i, j = idx[0], idx[-1]
                joined = "".join(w.word for w in seg.words)
                new_word = joined[spans[i][0] : a] + cand.replacement + joined[b : spans[j][1]]
                taken = [w.model_copy() for w in seg.words[i : j + 1]]
                merged = Word(
                    start=taken[0].start,
                    end=taken[-1].end,
                    word=new_word,
                    probability=min(w.probability for w in taken),
                )
                seg.words[i : j + 1] = [merged]
                word_index = i
                for c in seg.corrections:  # recorded to the right: one word index per merge
                    if c.word_index is not None and c.word_index > i:
                        c.word_index -= j - i
        delta = len(cand.replacement) - len(cand.original)
        for c in seg.corrections:
            if c.start >= cand.end:
                c.start += delta
                c.end += delta
        seg.text = cand.apply(seg.text)
        seg.corrections.append(
            Correction(
                original=cand.original,
                replacement=cand.replacement,
                start=cand.start,
                end=cand.start + len(cand.replacement),
                source=cand.source,
                score=None if score is None else round(score, 2),
                word_index=word_index,
                words=taken,
            )
        )
    seg.corrections.sort(key=lambda c: c.start)
    return seg


def revert(seg: Segment, index: int) -> Segment:
    """The segment with correction ``index`` undone: its original text and words back."""
    seg = seg.model_copy(deep=True)
    c = seg.corrections.pop(index)
    if c.status != "applied":
        return seg  # a proposal: nothing was changed, dismissing it is enough
    start = c.start
    if seg.text[c.start : c.end] != c.replacement:  # the text was edited since: find it again
        start = seg.text.find(c.replacement)
        if start < 0:
            return seg
    end = start + len(c.replacement)
    seg.text = seg.text[:start] + c.original + seg.text[end:]
    if c.word_index is not None and c.words and c.word_index < len(seg.words):
        seg.words[c.word_index : c.word_index + 1] = [w.model_copy() for w in c.words]
        for o in seg.corrections:
            if o.word_index is not None and o.word_index > c.word_index:
                o.word_index += len(c.words) - 1
    delta = len(c.original) - len(c.replacement)
    for o in seg.corrections:
        if o.start >= end:
            o.start += delta
            o.end += delta
    return seg


def accept(seg: Segment, index: int) -> Segment:
    """Apply a proposed correction (learned from a review elsewhere in the engagement)."""
    c = seg.corrections[index]
    if c.status != "proposed" or seg.text[c.start : c.start + len(c.original)] != c.original:
        return seg
    rest = seg.model_copy(deep=True)
    rest.corrections.pop(index)
    cand = Candidate(c.start, c.start + len(c.original), c.original, c.replacement, c.source, 0)
    return apply(rest, [cand], [c.score])


# --------------------------------------------------------------------------- the pass


@dataclass
class Stats:
    in_domain: bool = False
    distinct_terms: int = 0
    density: float = 0.0
    candidates: int = 0
    replaced: int = 0
    scored_spans: int = 0
    lm_error: str = ""
    lm_seconds: float = 0.0


def correct_segments(
    segments: list[Segment],
    lex: Lexicon,
    language: str,
    scorer: SentenceScorer | None = None,
    confusions: dict[str, str] | None = None,
    gate: bool = True,
    stats: Stats | None = None,
    lm_seconds_per_minute: float | None = LM_SECONDS_PER_MINUTE,
) -> list[Segment]:
    """The correction pass over a transcript's segments (Japanese); returns new segments.
    ``lm_seconds_per_minute``: the language model's time budget (None: only the count budget,
    for evaluations whose scores come from a cache; 0: no model at all)."""
    stats = stats if stats is not None else Stats()
    if language != "ja" or not segments:
        return segments
    if lm_seconds_per_minute is not None and lm_seconds_per_minute <= 0:
        scorer = None  # no time for the model: the rule only, and no model is started
    stats.distinct_terms, stats.density = gate_stats((s.text for s in segments), lex)
    stats.in_domain = in_domain((s.text for s in segments), lex)
    if gate and not stats.in_domain and scorer is None and not confusions:
        return segments  # outside the domain only model-checked units (and reviewers' pairs)
    per_segment: list[list[Candidate]] = []
    suspicion: list[tuple[float, int, tuple[int, int]]] = []
    for k, seg in enumerate(segments):
        probs = char_probabilities(seg)
        cands = candidates(seg.text, lex, confusions, probs)
        if not stats.in_domain and gate:  # a unit after a number is not a back-office word
            cands = [c for c in cands if c.source in ("review", "number")]
        per_segment.append(cands)
        for a, b in {(c.start, c.end) for c in cands}:
            prob = min(probs[a:b], default=1.0) if probs else 1.0
            # a dictionary word is suspect like a non-word when a term reads exactly like it
            # (特則 / 督促): Whisper can be sure of the sound and still pick the wrong word
            word = is_word(seg.text[a:b]) and not any(
                c.distance == 0 and c.source != "number" and (c.start, c.end) == (a, b)
                for c in cands
            )
            # a span the rule without a model already settles (a non-word read exactly like a
            # term, a reviewer's pair) needs the model least: it is scored last
            ruled = any((c.start, c.end) == (a, b) and _ruled(c) for c in cands)
            suspicion.append((prob + (1.0 if word else 0.0) + (2.0 if ruled else 0.0), k, (a, b)))
    stats.candidates = sum(len(c) for c in per_segment)
    # the language model scores the most suspicious spans (not words and words read exactly
    # like a term, then Whisper's least sure words) up to a budget per audio minute; the others
    # get the rule without a model
    minutes = max((segments[-1].end - segments[0].start) / 60.0, 1.0)
    budget = int(LM_SPANS_PER_MINUTE * minutes)
    scored = {(k, span) for _, k, span in sorted(suspicion)[:budget]}
    out: list[Segment] = []
    prev = ""
    for k, (seg, cands) in enumerate(zip(segments, per_segment, strict=True)):
        lm = [c for c in cands if (k, (c.start, c.end)) in scored]
        rest = [c for c in cands if (k, (c.start, c.end)) not in scored]
        context = HEADER[language] + prev
        if lm_seconds_per_minute is not None and stats.lm_seconds > lm_seconds_per_minute * minutes:
            rest, lm = [*lm, *rest], []  # out of time: the rest get the rule without a model
        t0, started = time.monotonic(), getattr(scorer, "start_s", 0.0)
        chosen, scores = _choose(seg.text, lm, scorer, context, stats)
        # the budget is for scoring: the model's start on first use (LazyScorer) is not counted
        stats.lm_seconds += time.monotonic() - t0 - (getattr(scorer, "start_s", 0.0) - started)
        if stats.lm_error:
            scorer = None
        more, more_scores = _choose(seg.text, rest, None, context, stats)
        for c, g in zip(more, more_scores, strict=True):
            if all(c.end <= o.start or c.start >= o.end for o in chosen):
                chosen.append(c)
                scores.append(g)
        out.append(apply(seg, chosen, scores) if chosen else seg)
        prev = out[-1].text[-CONTEXT_CHARS:] + "\n"
        stats.replaced += len(chosen)
    return out


def _ruled(c: Candidate) -> bool:
    """Whether the rule without a model takes ``c``: a reviewer's pair, or a span that is not a
    word and reads exactly like the term."""
    return c.source == "review" or (c.distance == 0 and not is_word(c.original))


def _choose(
    text: str,
    cands: list[Candidate],
    scorer: SentenceScorer | None,
    context: str,
    stats: Stats,
) -> tuple[list[Candidate], list[float | None]]:
    if not cands:
        return [], []
    gains: list[float | None]
    if scorer is None:  # no language model: only non-words that read exactly like a term
        keep = [c for c in cands if _ruled(c)]
        gains = [None] * len(keep)
        pairs = list(zip(keep, gains, strict=True))
    else:
        # each heard span and its candidates are scored from the span to LOOKAHEAD characters
        # after it, given everything before it: the variants share that prefix (the server's
        # prompt cache evaluates it once) and differ only where they differ
        spans: dict[tuple[int, int], list[Candidate]] = {}
        for c in cands:
            spans.setdefault((c.start, c.end), []).append(c)
        pairs = []
        try:
            for (a, b), group in spans.items():
                tail = text[b : b + LOOKAHEAD]
                scores = scorer.logprobs(
                    context + text[:a], [text[a:b] + tail, *(c.replacement + tail for c in group)]
                )
                stats.scored_spans += 1
                pairs += [
                    (c, s - scores[0])
                    for c, s in zip(group, scores[1:], strict=True)
                    if s - scores[0] >= _margin(c)
                ]
        except ShikumiError as exc:  # the model went away: go on without it
            stats.lm_error = str(exc)
            return _choose(text, cands, None, context, stats)
        pairs.sort(key=lambda p: -(p[1] or 0.0))
    chosen: list[Candidate] = []
    chosen_gains: list[float | None] = []
    for c, g in pairs:
        if all(c.end <= o.start or c.start >= o.end for o in chosen):
            chosen.append(c)
            chosen_gains.append(g)
    return chosen, chosen_gains
