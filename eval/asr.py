"""Transcription accuracy: CER (Japanese) / WER (English), with and without the vocabulary.

Cases: the sample hearings (``data/samples/*/audio.ogg`` + ``reference.txt``) and the speech
clips in the external eval data (``<data_dir>/speech``: FLEURS ja/en, earnings calls; read in
place, never copied). Configurations, all with the packaged Whisper base model (int8, 2 threads):

- ``raw``: Whisper base, no vocabulary features;
- ``correct``: raw + the glossary correction pass (what the product runs by default);
- ``hotwords``: the glossary as faster-whisper ``hotwords`` (off by default: it made Whisper
  skip whole passages on a sample hearing);
- ``hotwords+correct``: both.

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


def cases(data_dir: Path, quick: bool = False, smoke: bool = False) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    names = ["ja_smoke"] if smoke else ["ja_smoke", "ja_expense", "ja_order_to_revenue"]
    names += [] if smoke else ["en_month_end_close"]
    for name in names:
        folder = SAMPLES / name
        script = json.loads((folder / "script.json").read_text("utf-8"))
        out.append(
            {
                "name": f"samples/{name}",
                "audio": folder / "audio.ogg",
                "reference": (folder / "reference.txt").read_text("utf-8"),
                "language": script["language"],
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


def _transcribe(stt: Any, case: dict[str, Any], hotwords: bool, correct: bool) -> dict[str, Any]:
    from pipeline.glossary import Glossary
    from pipeline.transcribe import transcribe_file

    glossary = Glossary.build(case["language"]) if (hotwords or correct) else None
    t0 = time.monotonic()
    tr = transcribe_file(
        Path(case["audio"]),
        case["name"],
        stt,
        language=case["language"],
        vocabulary=glossary,
        hotwords=hotwords,
        correct=correct,
    )
    seconds = time.monotonic() - t0
    return {"transcript": tr, "seconds": seconds}


CONFIGS = {
    "raw": (False, False),
    "correct": (False, True),
    "hotwords": (True, False),
    "hotwords+correct": (True, True),
}


def run(ctx: EvalContext) -> Section:
    from pipeline.adapters.whisper import speech_to_text
    from pipeline.settings import load_settings

    settings = load_settings(ctx.work_dir / "ws")
    stt = speech_to_text(settings)
    # quick/smoke: only what the product runs by default (hotword variants re-run Whisper)
    configs = ["raw", "correct"] if (ctx.smoke or ctx.quick) else list(CONFIGS)
    results: dict[str, dict[str, Any]] = {c: {} for c in configs}
    details: dict[str, Any] = {}
    audio_s = {"raw": 0.0}
    compute_s = {"raw": 0.0}
    speaker: dict[str, float] = {}
    for case in cases(ctx.data_dir, ctx.quick, ctx.smoke):
        lang = case["language"]
        for cfg in configs:
            if cfg == "correct":  # correction only: reuse the raw transcript
                from pipeline.glossary import Glossary

                raw_tr = results["raw"][case["name"]]["transcript"]
                g = Glossary.build(lang)
                ctx_ok = g.in_context([s.text for s in raw_tr.segments])
                text = "\n".join(g.correct(s.text, ctx_ok)[0] for s in raw_tr.segments)
                res: dict[str, Any] = {"text": text}
            else:
                out = _transcribe(stt, case, *CONFIGS[cfg])
                tr = out["transcript"]
                res = {"text": tr.text, "transcript": tr, "seconds": out["seconds"]}
                if cfg == "raw":
                    audio_s["raw"] += tr.duration
                    compute_s["raw"] += out["seconds"]
                if cfg == "raw" and case["turns"]:
                    speaker[case["name"]] = speaker_accuracy(tr.segments, case["turns"])
            res["edits"], res["n"] = error_rate(res["text"], case["reference"], lang)
            results[cfg][case["name"]] = res
            details.setdefault(case["name"], {})[cfg] = {
                "rate": round(res["edits"] / max(res["n"], 1), 4),
                "text": res["text"],
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
                if cfg == "correct" and lang == "ja" and sample:
                    target = f"<= {0.7 * base:.3f} (30% below raw)"
                elif cfg == "correct" and lang == "en":
                    target = f"<= {base:.3f} (not worse)"
                metrics.append(
                    Metric(
                        f"{unit} {lang} {where} ({cfg})", val, base, "raw Whisper base", target, k
                    )
                )
    if compute_s["raw"]:
        metrics.append(
            Metric("RTF (raw, short clips)", compute_s["raw"] / audio_s["raw"], target="<= 0.15")
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
        },
        notes=[
            "CER/WER pooled over cases (total edits / total reference length).",
            "Normalised: NFKC, lower case, punctuation/spaces removed, kanji numerals -> digits.",
        ],
        details=details,
    )
