"""Transcription accuracy: CER (Japanese) / WER (English), with and without the vocabulary.

Cases: the sample hearings (``data/samples/*/audio.ogg`` + ``reference.txt``; the project
glossary is the ``"glossary"`` list of ``script.json`` when there is one), the speech clips in
the external eval data (``<data_dir>/speech``: FLEURS ja/en, earnings calls) and real human
Japanese speech (``speech/ja_real``: broadcast, dialogue, read speech; the clips its
``refs.jsonl`` scores), all read in place, never copied. Configurations, all with the packaged
Whisper base model (int8, 2 threads) and the product's decoding (batched, beam 5, VAD, word
timestamps):

- ``raw``: no vocabulary features (the baseline);
- ``default``: the product defaults: the glossary prompt and the reading-aware correction
  (scored by the embedded LLM), both gated by the hearing's own words, with the hearing's
  glossary;
- ``default-no-glossary``: the same for a new user who typed no glossary;
- ``correct-only`` / ``ungated`` (full mode): raw + the correction; the prompt and the
  correction without the gate (what the gate protects against).

Besides CER/WER, every case gets the key-term accuracy (``eval/keyterms.py``).
Whisper transcripts are cached per audio and Whisper settings in ``<work_dir>/asr-cache`` and
the language model's sentence scores in ``<work_dir>/lm-scores-v2.json``, so a change to the
correction re-runs in minutes.

Normalisation before scoring: NFKC (full-width -> half-width), lower case, punctuation and
spaces removed, kanji numerals -> digits (二十 -> 20), so that only the words count.
Also reported: real-time factor and speaker-labelling accuracy (time-weighted, turns.json).
"""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

from eval.common import REPO, EvalContext, Metric, Section

SAMPLES = REPO / "data" / "samples"

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_KNUM = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KUNIT = {"十": 10, "百": 100, "千": 1000}
_KNUM_RUN = re.compile(r"[〇一二三四五六七八九十百千]+")


def _kanji_number(run: str) -> str:
    if all(c in _KNUM for c in run):
        return "".join(str(_KNUM[c]) for c in run)
    total, digit = 0, 0
    for c in run:
        if c in _KNUM:
            digit = _KNUM[c]
        else:
            total += (digit or 1) * _KUNIT[c]
            digit = 0
    return str(total + digit)


def normalize(text: str, language: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    if language == "ja":
        text = _KNUM_RUN.sub(lambda m: _kanji_number(m.group()), text)
        return _PUNCT.sub("", text)
    text = text.replace("-", " ")
    return " ".join(_PUNCT.sub(" ", text).split())


def edit_distance(a: list[str] | str, b: list[str] | str) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def error_rate(hyp: str, ref: str, language: str) -> tuple[int, int]:
    """(edits, reference length): characters for ja, words for en."""
    h, r = normalize(hyp, language), normalize(ref, language)
    if language == "ja":
        return edit_distance(h, r), len(r)
    return edit_distance(h.split(), r.split()), len(r.split())


# --------------------------------------------------------------------------- cases


SMOKE = ["ja_smoke"]
QUICK = ["ja_smoke", "ja_expense", "ja_order_to_revenue", "ja_payroll", "en_month_end_close"]


def cases(
    data_dir: Path, quick: bool = False, smoke: bool = False, held_out: bool = False
) -> list[dict[str, Any]]:
    """The sample hearings and public speech clips to transcribe. ``held_out``: the blind
    hearings only (data/samples/BLIND.md), which are otherwise left out: reported apart."""
    out: list[dict[str, Any]] = []
    every = sorted(p.parent.name for p in SAMPLES.glob("*/script.json"))
    every = [n for n in every if ("blind" in n) == held_out]  # blind hearings: scored apart
    names = SMOKE if smoke else QUICK if quick else every
    for name in names:
        folder = SAMPLES / name
        if not (folder / "audio.ogg").exists() or not (folder / "reference.txt").exists():
            continue
        script = json.loads((folder / "script.json").read_text("utf-8"))
        out.append(
            {
                "name": f"samples/{name}",
                "group": "samples",
                "audio": folder / "audio.ogg",
                "reference": (folder / "reference.txt").read_text("utf-8"),
                "language": script["language"],
                "glossary": list(script.get("glossary", [])),
                "turns": json.loads((folder / "turns.json").read_text("utf-8")),
                "sample": True,
            }
        )
    speech = data_dir / "speech"
    clips = speech / "mixed_benchmark_clips"
    if (clips / "fleurs_ja_1837_clip4.wav").exists():
        out.append(_clip("fleurs/ja_1837", clips / "fleurs_ja_1837_clip4.wav", "ja"))
    out += ja_real(speech / "ja_real")
    if smoke:
        return out
    fleurs_en = sorted((speech / "en_fleurs").glob("fleurs-en-*.ogg"))
    for p in fleurs_en[:3] if quick else fleurs_en:
        out.append(_clip(f"fleurs/{p.stem}", p, "en"))
    if not quick:
        for p in sorted(clips.glob("earnings22_*.wav")):
            if p.with_suffix(".txt").exists():
                out.append(_clip(f"earnings22/{p.stem}", p, "en"))
    return out


def ja_real(folder: Path) -> list[dict[str, Any]]:
    """Real human Japanese speech, the clips ``refs.jsonl`` scores, with their kind."""
    refs = folder / "refs.jsonl"
    if not refs.exists():
        return []
    out = []
    for line in refs.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        if d.get("score") is False or not (folder / d["file"]).exists():
            continue
        case = _clip(f"ja_real/{Path(d['file']).stem}", folder / d["file"], "ja", d["ref"])
        case["group"] = "ja_real"
        case["kind"] = d.get("kind", "")
        out.append(case)
    return out


def _clip(name: str, audio: Path, language: str, reference: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "group": "speech",
        "audio": audio,
        "reference": reference
        if reference is not None
        else audio.with_suffix(".txt").read_text("utf-8"),
        "language": language,
        "glossary": [],
        "turns": None,
        "sample": False,
    }


# --------------------------------------------------------------------------- running


def speaker_accuracy(segments: list[Any], turns: list[dict[str, Any]]) -> float:
    """Share of transcribed speech time whose speaker label matches the true turn."""
    right = total = 0.0
    for seg in segments:
        for t in turns:
            overlap = min(seg.end, t["end"]) - max(seg.start, t["start"])
            if overlap > 0:
                total += overlap
                right += overlap if seg.speaker == t["speaker"] else 0.0
    return right / total if total else 0.0


def _transcribe(
    stt: Any,
    case: dict[str, Any],
    prompt: bool,
    glossary: list[str],
    gate: bool,
    cache_dir: Path,
) -> dict[str, Any]:
    """Whisper (no correction), cached per audio, model and vocabulary settings."""
    import hashlib

    from pipeline.glossary import Glossary
    from pipeline.models import Transcript
    from pipeline.transcribe import transcribe_file

    vocab = Glossary.build(case["language"], glossary)
    audio = Path(case["audio"])
    key = json.dumps(
        [
            str(audio),
            audio.stat().st_size,
            getattr(stt, "name", ""),
            getattr(stt, "batch_size", 0),
            case["language"],
            vocab.prompt() if prompt else None,
            gate and prompt,  # the gate only decides whether the prompt is used
        ],
        ensure_ascii=False,
    )
    path = cache_dir / (hashlib.sha256(key.encode()).hexdigest()[:20] + ".json")
    if path.exists():
        d = json.loads(path.read_text("utf-8"))
        return {"transcript": Transcript.model_validate(d["transcript"]), **d["meta"]}
    t0 = time.monotonic()
    report: dict[str, Any] = {}
    tr = transcribe_file(
        audio,
        case["name"],
        stt,
        language=case["language"],
        vocabulary=vocab,
        prompt=prompt,
        correct=False,
        gate=gate,
        report=report,
    )
    meta = {"seconds": time.monotonic() - t0, "prompt_gate": report.get("prompt_gate")}
    cache_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"transcript": tr.model_dump(mode="json"), "meta": meta}, ensure_ascii=False),
        "utf-8",
    )
    return {"transcript": tr, **meta}


class CachedScorer:
    """The sentence scorer with a persistent cache (context, text) -> log-probability."""

    def __init__(self, inner: Any, path: Path):
        self.inner, self.path = inner, path
        self.name = getattr(inner, "name", "lm")
        self.cache: dict[str, float] = json.loads(path.read_text("utf-8")) if path.exists() else {}
        self.seconds = 0.0
        self.misses = 0

    def logprobs(self, context: str, texts: Any) -> list[float]:
        keys = [f"{context}\x00{t}" for t in texts]
        # a score holds the context's log-probability too, which cancels only between texts
        # scored in one call (the server reuses the context's rows): all of them, or none
        todo = list(texts) if any(k not in self.cache for k in keys) else []
        if todo:
            if self.inner is None:
                raise RuntimeError("no language model to score with")
            t0 = time.monotonic()
            for t, v in zip(todo, self.inner.logprobs(context, todo), strict=True):
                self.cache[f"{context}\x00{t}"] = v
            self.seconds += time.monotonic() - t0
            self.misses += len(todo)
        return [self.cache[k] for k in keys]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.cache, ensure_ascii=False), "utf-8")


# name -> (prompt, per-hearing glossary, gate, correction)
CONFIGS: dict[str, tuple[bool, bool, bool, bool]] = {
    "raw": (False, False, False, False),
    "default": (True, True, True, True),
    "default-no-glossary": (True, False, True, True),
    "correct-only": (False, False, True, True),
    "ungated": (True, False, False, True),
}
DEFAULT = "default"
SHORT = ["raw", "default", "default-no-glossary"]


def run(ctx: EvalContext) -> Section:
    from eval.keyterms import key_terms
    from pipeline.adapters.whisper import speech_to_text
    from pipeline.settings import load_settings
    from pipeline.transcribe import correction_pass, hearing_lexicon

    settings = load_settings(ctx.work_dir / "ws")
    stt = speech_to_text(settings)
    configs = SHORT if (ctx.smoke or ctx.quick) else list(CONFIGS)
    configs = ctx.options.get("asr_configs", configs)
    cache_dir = ctx.work_dir / "asr-cache"
    # v2: a score is the whole prompt's log-probability (lm_scorer.prompt_logprob)
    scorer = CachedScorer(None, ctx.work_dir / "lm-scores-v2.json")
    if ctx.options.get("asr_lm", True):
        from pipeline.adapters.lm_scorer import sentence_scorer

        scorer.inner = sentence_scorer(settings)
    all_cases = cases(ctx.data_dir, ctx.quick, ctx.smoke, bool(ctx.options.get("asr_held_out")))
    only = ctx.options.get("asr_cases")
    if only:
        all_cases = [c for c in all_cases if any(o in c["name"] for o in only)]
    results: dict[str, dict[str, Any]] = {c: {} for c in configs}
    details: dict[str, Any] = {}
    audio_s = compute_s = 0.0
    speaker: dict[str, float] = {}
    for case in all_cases:
        lang = case["language"]
        for cfg in configs:
            prompt, with_glossary, gate, correct = CONFIGS[cfg]
            glossary = case["glossary"] if with_glossary else []
            run_ = _transcribe(stt, case, prompt, glossary, gate, cache_dir)
            tr = run_["transcript"]
            segments = tr.segments
            info: dict[str, Any] = {"prompt_gate": run_.get("prompt_gate")}
            t0 = time.monotonic()
            if correct:
                lex, pairs = hearing_lexicon(lang, glossary)
                segments = correction_pass(
                    segments,
                    lang,
                    lex,
                    scorer if scorer.inner or scorer.cache else None,
                    pairs,
                    gate,
                    info,
                    # scores from a cache take no time: the count budget only, unless the
                    # product's time budget is asked for (fresh scores: --lm-time-budget)
                    time_budget=bool(ctx.options.get("asr_time_budget")),
                )
            correction_s = time.monotonic() - t0
            text = "\n".join(s.text for s in segments)
            if cfg == DEFAULT:
                audio_s += tr.duration
                compute_s += run_["seconds"] + correction_s
                if case["turns"]:
                    speaker[case["name"]] = speaker_accuracy(tr.segments, case["turns"])
            res: dict[str, Any] = {"text": text}
            res["edits"], res["n"] = error_rate(text, case["reference"], lang)
            kt = key_terms(text, case["reference"], lang)
            res["kt_right"], res["kt_total"] = kt.right, kt.total
            kw = key_terms(text, case["reference"], lang, same_word=True)
            res["kw_right"], res["kw_total"] = kw.right, kw.total
            results[cfg][case["name"]] = res
            details.setdefault(case["name"], {"kind": case.get("kind", case["group"])})[cfg] = {
                "rate": round(res["edits"] / max(res["n"], 1), 4),
                "key_terms": None if kt.accuracy is None else round(kt.accuracy, 4),
                "key_terms_n": kt.total,
                "counts": [res["edits"], res["n"], kt.right, kt.total, kw.right, kw.total],
                "key_terms_same_word": None if kw.accuracy is None else round(kw.accuracy, 4),
                "missed": kt.missed,
                "text": text,
                "corrections": [
                    c.model_dump(include={"original", "replacement", "source", "score"})
                    for s in segments
                    for c in s.corrections
                ],
                **{k: v for k, v in info.items() if v is not None},
            }
        scorer.save()
        print(f"asr: {case['name']} done, LM {scorer.seconds:.0f} s", file=sys.stderr, flush=True)
        if ctx.options.get("asr_out"):  # partial results, case by case
            Path(ctx.options["asr_out"]).write_text(
                json.dumps(details, ensure_ascii=False, indent=1), "utf-8"
            )

    def pooled(cfg: str, pick: Any, kt: str = "kt") -> tuple[float | None, float | None, int]:
        e = n = r = t = k = 0
        for case in all_cases:
            if not pick(case):
                continue
            res = results[cfg].get(case["name"])
            if res:
                e, n, k = e + res["edits"], n + res["n"], k + 1
                r, t = r + res[f"{kt}_right"], t + res[f"{kt}_total"]
        return (e / n if n else None), (r / t if t else None), k

    groups: list[tuple[str, str, Any]] = []
    for lang, unit in (("ja", "CER"), ("en", "WER")):
        for group in ("samples", "speech", "ja_real"):
            groups.append(
                (
                    f"{unit} {lang} {group}",
                    lang,
                    lambda c, g=group, lg=lang: c["group"] == g and c["language"] == lg,
                )
            )
    for kind in ("broadcast", "dialogue", "read"):
        groups.append((f"CER ja ja_real/{kind}", "ja", lambda c, kd=kind: c.get("kind") == kd))
    metrics: list[Metric] = []
    for label, _lang, pick in groups:
        base, base_kt, k = pooled("raw", pick)
        if base is None:
            continue
        for cfg in configs:
            if cfg == "raw":
                continue
            val, kt, _ = pooled(cfg, pick)
            target = ""
            if cfg.startswith("default") and ("ja_real" in label or "en" in label):
                target = f"<= {base:.3f} (not worse than raw)"
            metrics.append(Metric(f"{label} ({cfg})", val, base, "raw Whisper base", target, k))
            unit_kt = "key terms" if _lang == "ja" else "content words"
            kt_target = ">= 0.9" if cfg == "default-no-glossary" and "samples" in label else ""
            metrics.append(
                Metric(
                    f"{unit_kt} right, {label.split(' ', 1)[1]} ({cfg})",
                    kt,
                    base_kt,
                    "raw Whisper base",
                    kt_target,
                    k,
                )
            )
            if _lang == "ja":
                _, base_kw, _ = pooled("raw", pick, "kw")
                _, kw, _ = pooled(cfg, pick, "kw")
                metrics.append(
                    Metric(
                        f"key terms right (same word), {label.split(' ', 1)[1]} ({cfg})",
                        kw,
                        base_kw,
                        "raw Whisper base",
                        "",
                        k,
                    )
                )
    if compute_s:
        metrics.append(
            Metric(f"RTF ({DEFAULT}, short clips)", compute_s / audio_s, target="<= 0.15")
        )
    for name, acc in speaker.items():
        metrics.append(Metric(f"speaker accuracy {name}", acc, n=1))
    return Section(
        task="asr",
        metrics=metrics,
        datasets=[
            "Shikumi sample hearings (Apache-2.0, synthetic speech)",
            "FLEURS (Google, CC BY 4.0)",
            "Earnings-22 (CC BY-SA 4.0)",
            "ja_real: ReazonSpeech samples (Apache-2.0 / CDLA-Sharing-1.0, evaluation only), "
            "Common Voice ja (CC0)",
        ],
        config={
            "model": settings.whisper_model,
            "compute_type": settings.whisper_compute_type,
            "threads": settings.whisper_threads,
            "batch_size": settings.whisper_batch_size,
            "default": DEFAULT,
            "scorer": scorer.name,
            "lm_seconds": round(scorer.seconds, 1),
            "lm_scored": scorer.misses,
        },
        notes=[
            "CER/WER pooled over cases (total edits / total reference length).",
            "Normalised: NFKC, lower case, punctuation/spaces removed, kanji numerals -> digits.",
            "Key terms: the reference's nouns and numbers with units that the transcript has "
            "exactly at the aligned place (eval/keyterms.py); English: content words. "
            "'Same word': spelling variants of a word count as right (振込 = 振り込み).",
        ],
        details=details,
    )


def main() -> None:
    """``python -m eval.asr [--full] [--configs raw,default] [--cases ja_real,ja_smoke]``:
    the ASR task alone, figures printed per hearing."""
    import argparse

    from eval.common import eval_data_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--configs", default="")
    ap.add_argument("--cases", default="")
    ap.add_argument("--no-lm", action="store_true", help="score only from the cache")
    ap.add_argument("--out", default="")
    ap.add_argument(
        "--held-out", action="store_true", help="the blind hearings only (reported apart)"
    )
    ap.add_argument("--work", default="/tmp/shikumi-eval-asr")
    ap.add_argument(
        "--lm-time-budget",
        action="store_true",
        help="the product's LM time budget per audio minute (use a fresh LM-score cache)",
    )
    args = ap.parse_args()
    opts: dict[str, Any] = {
        "asr_lm": not args.no_lm,
        "asr_time_budget": args.lm_time_budget,
        "asr_held_out": args.held_out,
    }
    if args.configs:
        opts["asr_configs"] = args.configs.split(",")
    if args.cases:
        opts["asr_cases"] = args.cases.split(",")
    if args.out:
        opts["asr_out"] = args.out
    ctx = EvalContext(eval_data_dir(), quick=not args.full, work_dir=Path(args.work), options=opts)
    section = run(ctx)
    for m in section.metrics:
        if m.value is not None:
            base = "-" if m.baseline is None else f"{m.baseline:.3f}"
            print(f"{m.name:70s} {m.value:.3f}  (raw {base}, n={m.n})")
    cfgs = [c for c in CONFIGS if any(c in d for d in section.details.values())]
    for name, d in section.details.items():
        row = "  ".join(
            f"{c}: {d[c]['rate']:.3f}/{d[c]['key_terms'] if d[c]['key_terms'] is not None else '-'}"
            for c in cfgs
            if c in d
        )
        print(f"{name:38s} {d['kind']:9s} {row}")
    if args.out:
        Path(args.out).write_text(
            json.dumps(section.details, ensure_ascii=False, indent=1), "utf-8"
        )


if __name__ == "__main__":
    main()
