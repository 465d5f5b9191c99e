"""Benchmark: real-time factor and peak memory of the transcription stage (a script, not a test).

Long audio is built by concatenating the Japanese sample hearings (decoded, 16 kHz mono) to 1,
10 and 60 minutes and written as 16 kHz WAV to a temporary folder; it is transcribed as Japanese,
like a Japanese hearing in the product. (Earlier runs also concatenated the English hearing and
forced Japanese on it: Whisper then re-decoded those windows at every fallback temperature,
which inflated the RTF to 0.32.) Each length runs in a fresh process (so peak RSS is that run's
own) with the configured Whisper model (default: packaged base, int8, 2 threads, batched
decoding), through ``transcribe_file`` with the product's defaults (decode, Whisper with the
glossary prompt behind the gate, quality gate, speakers, the reading-aware correction scored by
the embedded LLM, which the correction starts on first use:
its start-up (``llm_start_s``) and memory (``llm_server_peak_mb``) are reported apart; in the
product the server is usually up already for extraction). Whisper's model load time is reported
apart (``load_s``); neither start-up is counted in the RTF.

Run under the shared CPU lock (one length per lock hold keeps each hold short):
    flock /tmp/shikumi-cpu.lock .venv/bin/python -m eval.bench_asr 1 10 60 [--batch 0]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SAMPLES = ("ja_expense", "ja_order_to_revenue", "ja_smoke")  # fixed: the same audio every run


def build_audio(minutes: float, out: Path) -> Path:
    from pipeline.audio import SAMPLE_RATE, decode

    parts = [decode(REPO / "data" / "samples" / name / "audio.ogg") for name in SAMPLES]
    need = int(minutes * 60 * SAMPLE_RATE)
    pieces, n = [], 0
    while n < need:
        for p in parts:
            pieces.append(p[: need - n])
            n += len(pieces[-1])
            if n >= need:
                break
    audio = np.concatenate(pieces)
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(out), "wb") as w:  # plain 16-bit PCM: exact length, any decoder
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return out


def one(path: Path, batch: int | None) -> dict[str, float]:
    from pipeline.adapters.lm_scorer import LazyScorer
    from pipeline.adapters.whisper import speech_to_text
    from pipeline.settings import load_settings
    from pipeline.transcribe import transcribe_file, vocabulary_options

    overrides = {} if batch is None else {"whisper_batch_size": batch}
    settings = load_settings(Path(tempfile.mkdtemp()), **overrides)
    t0 = time.monotonic()
    stt = speech_to_text(settings)
    load_s = time.monotonic() - t0
    scorer = LazyScorer(settings) if settings.glossary_correction else None
    t0 = time.monotonic()
    report: dict[str, Any] = {}
    tr = transcribe_file(
        path,
        "bench",
        stt,
        language="ja",
        scorer=scorer,
        report=report,
        **vocabulary_options(settings),
    )
    llm_start_s = getattr(scorer, "start_s", 0.0)
    run_s = time.monotonic() - t0 - llm_start_s
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    corr = report.get("correction", {})
    return {
        "llm_start_s": llm_start_s,
        "correction_replaced": corr.get("replaced", 0),
        "correction_scored": corr.get("scored_spans", 0),
        "llm_server_peak_mb": _server_peak_mb(),
        "audio_min": tr.duration / 60,
        "seconds": run_s,
        "rtf": run_s / tr.duration,
        "load_s": load_s,
        "peak_mb": peak_mb,
        "segments": len(tr.segments),
        "batch": settings.whisper_batch_size,
    }


def _server_peak_mb() -> float:
    """Peak RSS of the embedded LLM server (a child process) if the correction started it; the
    transcription process's own peak is ``peak_mb``."""
    from pipeline.adapters import llm

    server = llm._SERVER
    proc = getattr(server, "_proc", None) if server is not None else None
    if proc is None:
        return 0.0
    try:
        status = Path(f"/proc/{proc.pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(minutes: list[float], batch: int | None = None) -> list[dict[str, float]]:
    """One fresh process per length (so peak RSS is that run's own); one result per length."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in minutes:
            path = build_audio(m, Path(tmp) / f"bench_{m:g}min.wav")
            extra = [] if batch is None else ["--batch", str(batch)]
            out = subprocess.run(
                [sys.executable, "-m", "eval.bench_asr", "--one", str(path), *extra],
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            if out.returncode:
                raise RuntimeError(f"bench_asr failed on {m:g} min:\n{out.stderr[-2000:]}")
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def run(ctx: Any) -> Any:
    """The harness task (``make bench``): quick 1 and 10 minutes, full also 60."""
    from eval.common import Metric, Section

    minutes = [1.0] if ctx.smoke else [1.0, 10.0] if ctx.quick else [1.0, 10.0, 60.0]
    rows = measure(minutes)
    metrics = []
    for r in rows:
        m = f"{r['audio_min']:g} min"
        metrics.append(Metric(f"transcription RTF, {m}", round(r["rtf"], 3), target="<= 0.15"))
        metrics.append(Metric(f"transcription peak MB, {m}", round(r["peak_mb"]), target="< 1500"))
    return Section(
        task="bench/transcription",
        metrics=metrics,
        config={"batch": rows[0]["batch"] if rows else None, "audio": list(SAMPLES)},
        notes=[
            "Japanese sample hearings concatenated to each length, product defaults, fresh "
            "process per length; model load reported apart (details) and not in the RTF."
        ],
        details={"runs": rows},
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("minutes", nargs="*", type=float, default=[1, 10, 60])
    ap.add_argument(
        "--batch", type=int, default=None, help="batch size (default: settings; 0: sequential)"
    )
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(Path(args.one), args.batch)))
        return
    for m in args.minutes:  # one at a time, printed as each finishes
        print(json.dumps(measure([m], args.batch)[0]), flush=True)


if __name__ == "__main__":
    main()
