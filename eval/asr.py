"""Transcription accuracy: CER (Japanese) / WER (English), with and without the vocabulary.

Cases: the sample hearings (``data/samples/*/audio.ogg`` + ``reference.txt``; the project
glossary is the ``"glossary"`` list of ``script.json`` when there is one) and the speech clips
in the external eval data (``<data_dir>/speech``: FLEURS ja/en, earnings calls; read in place,
never copied). Configurations, all with the packaged Whisper base model (int8, 2 threads) and
the product's decoding (batched, beam 5, VAD, word timestamps):

- ``raw``: no vocabulary features (the baseline);
- ``correct``: raw + the glossary correction pass;
- ``prompt``: the glossary (defaults + project terms) as Whisper's initial prompt for every
  chunk (``whisper_prompt``); speech a prompted chunk leaves out is decoded again without it;
- ``prompt+correct``: both: what the product runs by default;
- ``hotwords+correct`` (full mode only): the glossary as hotwords instead of the prompt;
- ``sequential`` (full mode only): raw with sequential decoding (batch off).

Normalisation before scoring: NFKC (full-width -> half-width), lower case, punctuation and
spaces removed, kanji numerals -> digits (二十 -> 20), so that only the words count.
Also reported: real-time factor and speaker-labelling accuracy (time-weighted, turns.json).
"""

from __future__ import annotations

import json
import re
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
QUICK = ["ja_smoke", "ja_expense", "ja_order_to_revenue", "en_month_end_close"]


def cases(data_dir: Path, quick: bool = False, smoke: bool = False) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    every = sorted(p.parent.name for p in SAMPLES.glob("*/script.json"))
    names = SMOKE if smoke else QUICK if quick else every
    for name in names:
        folder = SAMPLES / name
        if not (folder / "audio.ogg").exists() or not (folder / "reference.txt").exists():
            continue
        script = json.loads((folder / "script.json").read_text("utf-8"))
        out.append(
            {
                "name": f"samples/{name}",
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


def _clip(name: str, audio: Path, language: str) -> dict[str, Any]:
    return {
        "name": name,
        "audio": audio,
        "reference": audio.with_suffix(".txt").read_text("utf-8"),
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
    stt: Any, case: dict[str, Any], prompt: bool, hotwords: bool = False
) -> dict[str, Any]:
    from pipeline.glossary import Glossary
    from pipeline.transcribe import transcribe_file

    t0 = time.monotonic()
    tr = transcribe_file(
        Path(case["audio"]),
        case["name"],
        stt,
        language=case["language"],
        vocabulary=Glossary.build(case["language"], case["glossary"]),
        prompt=prompt,
        hotwords=hotwords,
        correct=False,
    )
    return {"transcript": tr, "seconds": time.monotonic() - t0}


def _corrected(tr: Any, case: dict[str, Any]) -> str:
    """The correction pass over a finished transcript (as ``transcribe_file`` runs it)."""
    from pipeline.glossary import Glossary

    g = Glossary.build(case["language"], case["glossary"])
    return "\n".join(g.correct_all([s.text for s in tr.segments]))


# name -> (Whisper run it needs, correction pass on top)
CONFIGS = {
    "raw": ("raw", False),
    "correct": ("raw", True),
    "prompt": ("prompt", False),
    "prompt+correct": ("prompt", True),
    "hotwords+correct": ("hotwords", True),
    "sequential": ("sequential", False),
}
DEFAULT = "prompt+correct"  # the product default (whisper_prompt and glossary_correction on)


def run(ctx: EvalContext) -> Section:
    from pipeline.adapters.whisper import speech_to_text
    from pipeline.settings import load_settings

    settings = load_settings(ctx.work_dir / "ws")
    stt = speech_to_text(settings)
    short = list(dict.fromkeys(["raw", "correct", DEFAULT]))  # quick/smoke: baseline + default
    configs = short if (ctx.smoke or ctx.quick) else list(CONFIGS)
    results: dict[str, dict[str, Any]] = {c: {} for c in configs}
    details: dict[str, Any] = {}
    audio_s = compute_s = 0.0
    speaker: dict[str, float] = {}
    for case in cases(ctx.data_dir, ctx.quick, ctx.smoke):
        lang = case["language"]
        runs: dict[str, Any] = {}
        for cfg in configs:
            which, correct = CONFIGS[cfg]
            if which not in runs:
                if which == "sequential":
                    seq = load_settings(ctx.work_dir / "ws", whisper_batch_size=0)
                    runs[which] = _transcribe(speech_to_text(seq), case, prompt=False)
                else:
                    runs[which] = _transcribe(
                        stt, case, prompt=which == "prompt", hotwords=which == "hotwords"
                    )
            tr = runs[which]["transcript"]
            if cfg == DEFAULT:
                audio_s += tr.duration
                compute_s += runs[which]["seconds"]
                if case["turns"]:
                    speaker[case["name"]] = speaker_accuracy(tr.segments, case["turns"])
            text = _corrected(tr, case) if correct else tr.text
            res: dict[str, Any] = {"text": text}
            res["edits"], res["n"] = error_rate(text, case["reference"], lang)
            results[cfg][case["name"]] = res
            details.setdefault(case["name"], {})[cfg] = {
                "rate": round(res["edits"] / max(res["n"], 1), 4),
                "text": text,
            }

    def pooled(cfg: str, lang: str, sample: bool | None) -> tuple[float | None, int]:
        e = n = k = 0
        for case in cases(ctx.data_dir, ctx.quick, ctx.smoke):
            if case["language"] != lang or (sample is not None and case["sample"] != sample):
                continue
            r = results[cfg].get(case["name"])
            if r:
                e, n, k = e + r["edits"], n + r["n"], k + 1
        return (e / n if n else None), k

    metrics: list[Metric] = []
    for lang, unit in (("ja", "CER"), ("en", "WER")):
        for sample, where in ((True, "samples"), (False, "eval-data")):
            base, k = pooled("raw", lang, sample)
            if base is None:
                continue
            for cfg in configs:
                if cfg == "raw":
                    continue
                val, _ = pooled(cfg, lang, sample)
                target = ""
                if cfg == DEFAULT and lang == "ja" and sample:
                    target = f"<= {0.7 * base:.3f} (30% below raw)"
                elif cfg == DEFAULT and lang == "en":
                    target = f"<= {base:.3f} (not worse)"
                metrics.append(
                    Metric(
                        f"{unit} {lang} {where} ({cfg})", val, base, "raw Whisper base", target, k
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
        ],
        config={
            "model": settings.whisper_model,
            "compute_type": settings.whisper_compute_type,
            "threads": settings.whisper_threads,
            "batch_size": settings.whisper_batch_size,
            "default": DEFAULT,
        },
        notes=[
            "CER/WER pooled over cases (total edits / total reference length).",
            "Normalised: NFKC, lower case, punctuation/spaces removed, kanji numerals -> digits.",
        ],
        details=details,
    )
