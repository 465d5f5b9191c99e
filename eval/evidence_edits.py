"""Evidence after transcript edits (issue 13.4): do grounded quotes stay on their words?

Run: ``python -m eval --only evidence`` (harness) or ``python -m eval.evidence_edits [--rounds N]``.

For each sample hearing (``data/samples/*``; the blind held-out folders are never opened) the
reference transcript is built as the extraction eval builds it (one segment per turn), with
Whisper-like words (English words with a leading space, Japanese words as script runs) timed
evenly over each turn. Every gold quote (elements and findings) is grounded and stored as an
element in a real Store. Then every segment gets one random correction, submitted as the
transcript page submits it (the whole corrected text, through ``Reviewer.correct_segment``),
one segment after another:

- ``replace``: a word outside the quotes is replaced by another word;
- ``insert``: text is inserted right before a quote in the segment (or at a word boundary);
- ``delete``: a word outside the quotes is deleted.

Where each quote must end up is computed independently, from the edit's position and length.
The figure: the share of grounded quotes whose evidence still points at exactly the same
words (same segment, offsets where the words moved, same text) after all the corrections, and
whose replay time is unchanged. Baseline, same edits: the old addressing (offsets into the
whole transcript text, unchanged by a correction).

A second figure edits a word inside each quote (a reviewer fixing a mis-heard word the quote
contains), one quote at a time: the share found again on the corrected words, the share marked
unaligned for the reviewer, and the share pointing at other words (must be 0).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.common import EvalContext, Metric, Section
from eval.extraction import SAMPLES, gold_transcript

JA_WORDS = ("確認", "承認", "書類", "金額", "担当")
EN_WORDS = ("checked", "invoice", "report", "team", "amount")
INSERT = {"ja": "えーと、", "en": "well, "}


def _words(lang: str) -> tuple[str, ...]:
    return JA_WORDS if lang == "ja" else EN_WORDS


_JA_RUN = re.compile(
    r"[\u3400-\u9fff\u3005]+|[\u3041-\u309f]+|[\u30a0-\u30ff]+|[A-Za-z0-9０-９Ａ-Ｚａ-ｚ.,%$]+|."
)


def samples() -> list[Path]:
    return sorted(
        p for p in SAMPLES.iterdir() if (p / "gold.json").exists() and "blind" not in p.name
    )


def with_words(transcript: Any) -> Any:
    """The transcript with Whisper-like words on every segment (text = words joined)."""
    from pipeline.models import Word

    for seg in transcript.segments:
        if transcript.language.value == "en":
            pieces = re.findall(r"\s*\S+", seg.text)
            pieces = [" " + p.lstrip() if i == 0 else p for i, p in enumerate(pieces)]
        else:
            pieces = _JA_RUN.findall(seg.text)
        total = sum(len(p.strip()) for p in pieces) or 1
        t, per = seg.start, (seg.end - seg.start) / total
        seg.words = []
        for p in pieces:
            length = per * len(p.strip())
            seg.words.append(
                Word(start=round(t, 3), end=round(t + length, 3), word=p, probability=1)
            )
            t += length
    return transcript


@dataclass
class Expected:
    """Where a quote must be: (segment id, start, end) and the words there."""

    element_id: str
    spans: list[tuple[str, int, int]]
    text: str
    char_range: tuple[int, int]  # the old addressing, frozen at grounding
    audio: tuple[float | None, float | None]


@dataclass
class Tally:
    grounded: int = 0
    same_words: int = 0
    same_time: int = 0
    old_same_words: int = 0
    edits: dict[str, int] = field(default_factory=dict)
    kept: int = 0
    refound: int = 0
    lost: int = 0
    elsewhere_moves: int = 0  # evidence in other segments whose stored spans changed (must be 0)

    def add(self, other: Tally) -> None:
        for k, v in other.__dict__.items():
            if isinstance(v, dict):
                for kk, vv in v.items():
                    self.edits[kk] = self.edits.get(kk, 0) + vv
            else:
                setattr(self, k, getattr(self, k) + v)


def _choose_edit(
    rng: random.Random, seg: Any, quotes: list[tuple[int, int]], lang: str
) -> tuple[str, int, int, str] | None:
    """(kind, start, end, replacement) for one correction of ``seg`` outside ``quotes``."""
    from pipeline.segment_edit import word_ranges

    ranges = word_ranges(seg) or []
    free = [(a, b) for a, b in ranges if a < b and all(b <= qs or a >= qe for qs, qe in quotes)]
    kinds = ["replace", "insert", "delete"]
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == "insert":
            # right before a quote, or between words, never inside a quote
            spots = [qs for qs, _ in quotes] or [a for a, _ in ranges] or [0]
            spots = [p for p in spots if all(not qs < p < qe for qs, qe in quotes)]
            if not spots:
                continue
            at = rng.choice(spots)
            return kind, at, at, INSERT[lang]
        if not free:
            continue
        a, b = rng.choice(free)
        if kind == "replace":
            word = rng.choice([w for w in _words(lang) if w != seg.text[a:b]])
            return kind, a, b, word
        if len(free) < 2:
            continue  # keep at least one word of the segment besides the quotes
        if lang == "en":  # a word and the space before it (or after it, at the start)
            a, b = (
                (a - 1, b) if a > 0 and seg.text[a - 1] == " " else (a, min(b + 1, len(seg.text)))
            )
        return kind, a, b, ""
    return None


def transcript_of(folder: Path, whisper: Path | None) -> Any:
    """The reference transcript with Whisper-like words, or (``whisper``: the eval work folder)
    the product's Whisper transcript of the sample audio, cached as the extraction eval does."""
    if whisper is None:
        return with_words(gold_transcript(folder))
    from eval.extraction import whisper_transcript

    return whisper_transcript(folder, whisper)


def run_hearing(
    folder: Path, rounds: int, seed: int, whisper: Path | None = None
) -> tuple[Tally, list[dict[str, Any]]]:
    from pipeline.align import ground, span_text
    from pipeline.models import Interview, Task
    from pipeline.review import Reviewer
    from pipeline.store import Store

    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    tally, failures = Tally(), []
    for r in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/eval.db")
            try:
                iv = store.add_interview(Interview(title=folder.name))
                tr = transcript_of(folder, whisper).model_copy(update={"interview_id": iv.id})
                lang = tr.language.value
                store.save_transcript(tr)
                quotes = [g["quote"] for g in [*gold["elements"], *gold["findings"]]]
                els = store.add_elements(
                    [Task(interview_id=iv.id, summary=q, evidence=[ground(q, tr)]) for q in quotes]
                )
                expected: list[Expected] = []
                for el in els:
                    ev = el.evidence[0]
                    if ev.grounded and ev.char_start is not None and ev.char_end is not None:
                        expected.append(
                            Expected(
                                el.id,
                                [(s.segment_id, s.start, s.end) for s in ev.spans],
                                span_text(ev, tr) or "",
                                (ev.char_start, ev.char_end),
                                (ev.audio_start, ev.audio_end),
                            )
                        )
                tally.grounded += len(expected)
                reviewer = Reviewer(store)
                rng = random.Random(f"{seed}-{folder.name}-{r}")
                for seg in list(tr.segments):
                    current = store.get_transcript(iv.id)
                    assert current is not None
                    seg = next(s for s in current.segments if s.id == seg.id)
                    here = [(s, e) for x in expected for sid, s, e in x.spans if sid == seg.id]
                    edit = _choose_edit(rng, seg, here, lang)
                    if edit is None:
                        continue
                    kind, a, b, rep = edit
                    new_text = seg.text[:a] + rep + seg.text[b:]
                    if new_text != new_text.strip() or new_text == seg.text:
                        continue
                    before = {e.id: e.evidence for e in store.list_elements(iv.id)}
                    result = reviewer.correct_segment(iv.id, seg.id, new_text, "eval")
                    tally.edits[kind] = tally.edits.get(kind, 0) + 1
                    tally.kept += len(result.kept)
                    tally.refound += len(result.refound)
                    tally.lost += len(result.lost)
                    for x in expected:  # where the quote must be now: shifted past the edit
                        assert all(sid != seg.id or e <= a or s >= b for sid, s, e in x.spans)
                        x.spans = [
                            (sid, s + len(rep) - (b - a), e + len(rep) - (b - a))
                            if sid == seg.id and s >= b
                            else (sid, s, e)
                            for sid, s, e in x.spans
                        ]
                    for el in store.list_elements(iv.id):
                        old = before[el.id][0]
                        new = el.evidence[0]
                        if seg.id not in old.segment_ids and old.spans and new.spans != old.spans:
                            tally.elsewhere_moves += 1
                final = store.get_transcript(iv.id)
                assert final is not None
                offsets = dict(
                    zip([s.id for s in final.segments], final.segment_spans(), strict=True)
                )
                for x in expected:
                    ev = store.get_element(x.element_id).evidence[0]
                    got = [(s.segment_id, s.start, s.end) for s in ev.spans]
                    same = ev.grounded and got == x.spans and span_text(ev, final) == x.text
                    tally.same_words += same
                    timed = same and (ev.audio_start, ev.audio_end) == x.audio
                    tally.same_time += timed
                    if same and not timed:
                        failures.append({"hearing": folder.name, "quote": x.text,
                                         "time": (ev.audio_start, ev.audio_end),
                                         "expected_time": x.audio})  # fmt: skip
                    sid, s, _e = x.spans[0]
                    full = (offsets[sid][0] + s, offsets[x.spans[-1][0]][0] + x.spans[-1][2])
                    tally.old_same_words += x.char_range == full
                    if not same:
                        failures.append({"hearing": folder.name, "quote": x.text, "got": got,
                                         "expected": x.spans})  # fmt: skip
            finally:
                store.close()
    return tally, failures


@dataclass
class InsideTally:
    quotes: int = 0
    refound: int = 0  # found again on the corrected words (edges within 2 characters)
    loose: int = 0  # found again over most of them, an edge further off
    lost: int = 0  # marked unaligned: shown to the reviewer
    wrong: int = 0  # grounded on other words (must be 0)


def run_inside(folder: Path, seed: int, whisper: Path | None = None) -> InsideTally:
    """One word inside each quote replaced (alone); the quote re-anchored."""
    from pipeline.align import ground, reanchor
    from pipeline.segment_edit import rewrite_segment, word_ranges

    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    tr = transcript_of(folder, whisper)
    lang = tr.language.value
    out = InsideTally()
    rng = random.Random(f"{seed}-{folder.name}-inside")
    for g in [*gold["elements"], *gold["findings"]]:
        ev = ground(g["quote"], tr)
        if not ev.grounded or len(ev.spans) != 1:
            continue
        span = ev.spans[0]
        seg = next(s for s in tr.segments if s.id == span.segment_id)
        inner = [(a, b) for a, b in word_ranges(seg) or [] if span.start < a and b < span.end]
        if not inner:
            continue
        a, b = rng.choice(inner)
        rep = rng.choice([w for w in _words(lang) if w != seg.text[a:b]])
        new, diff = rewrite_segment(seg, seg.text[:a] + rep + seg.text[b:])
        after = tr.model_copy(
            update={"segments": [new if s.id == seg.id else s for s in tr.segments]}
        )
        moved, _outcome = reanchor(ev, seg.id, diff, after)
        out.quotes += 1
        if not moved.grounded:
            out.lost += 1
            continue
        lo, hi = span.start, span.end + len(rep) - (b - a)  # the corrected quote's words
        got = moved.spans[0] if len(moved.spans) == 1 else None
        if got is None or got.segment_id != seg.id:
            out.wrong += 1
        elif abs(got.start - lo) <= 2 and abs(got.end - hi) <= 2:
            out.refound += 1
        elif min(got.end, hi) - max(got.start, lo) >= 0.5 * (hi - lo):
            out.loose += 1
        else:
            out.wrong += 1
    return out


def measure(
    rounds: int = 3,
    seed: int = 13,
    whisper: Path | None = None,
    names: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    total, inside, per, failures = Tally(), InsideTally(), {}, []
    for folder in samples():
        if names is not None and folder.name not in names:
            continue
        t, f = run_hearing(folder, rounds, seed, whisper)
        total.add(t)
        failures += f
        i = run_inside(folder, seed, whisper)
        for k in inside.__dict__:
            setattr(inside, k, getattr(inside, k) + getattr(i, k))
        per[folder.name] = {"grounded": t.grounded, "same_words": t.same_words,
                            "old_same_words": t.old_same_words}  # fmt: skip
    return {"total": total, "inside": inside, "per_hearing": per, "failures": failures[:20]}


def _share(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def run(ctx: EvalContext) -> list[Section]:
    """Reference transcripts always; Whisper transcripts in the full run (transcribing the
    seven hearings takes minutes)."""
    rounds = 1 if ctx.smoke or ctx.quick else 3
    names = ("ja_smoke",) if ctx.smoke else None
    sections = [_section(measure(rounds, names=names), "reference transcripts", rounds)]
    if not ctx.quick and not ctx.smoke:
        res = measure(rounds, whisper=ctx.work_dir)
        sections.append(_section(res, "Whisper transcripts", rounds))
    return sections


def _section(res: dict[str, Any], source: str, rounds: int) -> Section:
    t, i = res["total"], res["inside"]
    return Section(
        task=f"evidence/transcript-edits ({source})",
        metrics=[
            Metric(
                "grounded quotes on the same words after a correction of every segment",
                _share(t.same_words, t.grounded),
                baseline=_share(t.old_same_words, t.grounded),
                baseline_name="offsets into the whole transcript text (before 13.4)",
                target="1.0",
                n=t.grounded,
            ),
            Metric("... with the same replay time", _share(t.same_time, t.grounded), n=t.grounded),
            Metric(
                "word inside the quote corrected: found again on the corrected words",
                _share(i.refound, i.quotes),
                n=i.quotes,
            ),
            Metric(
                "... found again over most of them, an edge more than 2 characters off",
                _share(i.loose, i.quotes),
                n=i.quotes,
            ),
            Metric("... marked unaligned for the reviewer", _share(i.lost, i.quotes), n=i.quotes),
            Metric(
                "... pointing at other words", _share(i.wrong, i.quotes), target="0", n=i.quotes
            ),
        ],
        datasets=[f"data/samples (project's own sample hearings, {source})"],
        config={"rounds": rounds, "edits": t.edits},
        details={"per_hearing": res["per_hearing"], "failures": res["failures"]},
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="corrections of every segment, each")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--whisper",
        type=Path,
        metavar="WORK_DIR",
        help="use Whisper transcripts of the sample audio (cached in WORK_DIR/extraction-asr)",
    )
    args = ap.parse_args()
    res = measure(args.rounds, args.seed, args.whisper)
    t, i = res["total"], res["inside"]
    print(f"edits: {t.edits}; re-anchored: kept {t.kept}, refound {t.refound}, lost {t.lost}")
    print(f"grounded quotes: {t.grounded}")
    print(f"same words after the corrections: {t.same_words}/{t.grounded} (new addressing)")
    print(f"same replay time: {t.same_time}/{t.grounded}")
    print(f"same words, old addressing (offsets into the text): {t.old_same_words}/{t.grounded}")
    print(f"evidence in other segments whose spans changed: {t.elsewhere_moves}")
    print(f"word inside the quote corrected ({i.quotes} quotes): refound {i.refound}, "
          f"edge off {i.loose}, unaligned {i.lost}, other words {i.wrong}")  # fmt: skip
    for name, row in res["per_hearing"].items():
        print(f"  {name}: {row}")
    for f in res["failures"]:
        print("  FAIL", f)


if __name__ == "__main__":
    main()
