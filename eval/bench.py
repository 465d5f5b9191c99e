"""The speed benchmark: ``python -m eval.bench [--quick|--full]`` (``make bench``).

One entry point for every speed figure, each with peak memory:
- transcription real-time factor (``eval/bench_asr.py``, when present);
- index build time and query p50/p95 at 1k/10k/100k elements (``eval/bench_retrieval.py``,
  when present);
- extraction seconds per audio minute: ``pipeline.extract.extract`` on the reference
  transcripts of ``data/samples`` (quick: the 35-second ``ja_smoke``; full: every sample);
- time to first answer token: the assistant's answer prompt (``prompts/answer.md``) with five
  rules (other rules for each question, as retrieval gives), streamed from the configured chat
  model (retrieval time is measured separately).
Peak memory: ``resource.getrusage`` for this process and the high-water mark (``VmHWM`` in
``/proc/<pid>/status``) of the embedded llama.cpp server process.

Also a task of the harness (``python -m eval --only bench``, included in ``--full``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from eval.common import REPO, EvalContext, Metric, Section, product_embedder

SAMPLES = REPO / "data" / "samples"
QUICK_SAMPLES = ("ja_smoke",)
TTFT_QUESTIONS = (
    "経費が6万円のとき、誰の承認が必要ですか？",
    "領収書をなくした場合はどうすればいいですか？",
    "Who approves an expense claim of 30,000 yen?",
)


# --------------------------------------------------------------------------- memory


def rss_peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def proc_hwm_mib(pid: int) -> float | None:
    """Peak resident memory of another live process, from /proc (None if unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def llm_server_pid() -> int | None:
    try:
        from pipeline.adapters import llm as llm_mod

        server = getattr(llm_mod, "_SERVER", None)
        proc = getattr(server, "_proc", None)
        return int(proc.pid) if proc is not None else None
    except Exception:
        return None


# --------------------------------------------------------------------------- pieces


def _llm(ctx: EvalContext) -> Any:
    if "llm" in ctx.options:
        return ctx.options["llm"]
    from pipeline.adapters.llm import chat_model
    from pipeline.settings import load_settings

    ctx.options["llm"] = chat_model(load_settings(ctx.work_dir / "workspace"))
    return ctx.options["llm"]


def extraction_speed(ctx: EvalContext, llm: Any) -> tuple[list[Metric], dict[str, Any]]:
    from eval.extraction import gold_transcript
    from pipeline.extract import extract

    names = (
        QUICK_SAMPLES
        if ctx.quick or ctx.smoke
        else tuple(p.parent.name for p in sorted(SAMPLES.glob("*/reference.txt")))
    )
    total_s, total_min, details = 0.0, 0.0, {}
    for name in names:
        folder = SAMPLES / name
        tr = gold_transcript(folder)
        script = json.loads((folder / "script.json").read_text(encoding="utf-8"))
        t0 = time.perf_counter()
        run = extract(
            tr,
            llm,
            store=None,
            business_area=script.get("business_area", ""),
            embedder=product_embedder(),  # the product's path, and its cost
        )
        secs = time.perf_counter() - t0
        minutes = tr.duration / 60 or 1e-9
        total_s, total_min = total_s + secs, total_min + minutes
        details[name] = {
            "seconds": round(secs, 1),
            "audio_minutes": round(minutes, 2),
            "elements": len(run.elements),
            "chunks": len(getattr(run, "chunks", []) or []),
        }
    per_min = total_s / total_min if total_min else None
    return [
        Metric(
            "extraction seconds per audio minute",
            round(per_min, 1) if per_min else None,
            target="<= 60 (faster than the hearing itself)",
            n=len(names),
        )
    ], details


def first_token(ctx: EvalContext, llm: Any) -> tuple[list[Metric], dict[str, Any]]:
    from pipeline.prompts import load_prompt

    elements = [
        e
        for name in ("ja_smoke", "ja_expense")
        for e in json.loads((SAMPLES / name / "gold.json").read_text(encoding="utf-8"))["elements"]
    ]
    questions = TTFT_QUESTIONS[:1] if ctx.smoke else TTFT_QUESTIONS
    ttft, total = [], []
    for i, q in enumerate(questions):
        # other rules for every question, as retrieval gives: only the static system prompt
        # can come from the server's prompt cache
        rules = "\n".join(
            f"[{e['id'].upper()}] {e['summary']} 「{e.get('quote', '')}」"
            for e in elements[5 * i : 5 * i + 5]
        )
        prompt = load_prompt("answer")
        lang = "Japanese" if any("\u3040" <= c <= "\u9fff" for c in q) else "English"
        values = {"rules": rules, "question": q, "language": lang}
        messages = prompt.render(**{k: v for k, v in values.items() if k in prompt.variables})
        t0 = time.perf_counter()
        first = None
        for piece in llm.stream(messages, max_tokens=120):
            if first is None and piece.strip():
                first = time.perf_counter() - t0
        total.append(time.perf_counter() - t0)
        ttft.append(first if first is not None else total[-1])
    return [
        Metric(
            "assistant time to first answer token, median s",
            round(statistics.median(ttft), 2),
            target="<= 3 s",
            n=len(ttft),
        ),
        Metric(
            "assistant answer time (<=120 tokens), median s",
            round(statistics.median(total), 2),
            n=len(total),
        ),
    ], {"ttft_s": [round(x, 2) for x in ttft], "total_s": [round(x, 2) for x in total]}


# --------------------------------------------------------------------------- run


def run(ctx: EvalContext) -> list[Section]:
    sections: list[Section] = []
    for mod_name in ("eval.bench_asr", "eval.bench_retrieval"):
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name != mod_name:
                raise
            sections.append(
                Section(
                    task=mod_name.split(".")[-1],
                    metrics=[],
                    notes=[f"{mod_name} not present yet: skipped"],
                )
            )
            continue
        got = mod.run(ctx)
        sections += got if isinstance(got, list) else [got]
    llm = _llm(ctx)
    metrics: list[Metric] = []
    details: dict[str, Any] = {}
    m, d = extraction_speed(ctx, llm)
    metrics += m
    details["extraction"] = d
    m, d = first_token(ctx, llm)
    metrics += m
    details["first_token"] = d
    metrics.append(Metric("peak RSS of the eval process, MiB", rss_peak_mib()))
    pid = llm_server_pid()
    if pid is not None and (hwm := proc_hwm_mib(pid)) is not None:
        metrics.append(Metric("peak RSS of the embedded LLM server, MiB", hwm))
    sections.append(
        Section(
            task="bench/extraction+assistant",
            metrics=metrics,
            config={"llm": getattr(llm, "name", "?"), "samples": list(details["extraction"])},
            notes=[
                "Extraction runs on the reference transcripts (no ASR), so it measures the LLM "
                "stage alone; seconds per minute of the hearing's audio.",
                "Time to first token covers prompt processing and the first decoded token of "
                "the answer prompt with five rules; retrieval is measured in bench_retrieval.",
            ],
            details=details,
        )
    )
    return sections


def main(argv: list[str] | None = None) -> int:
    from eval.__main__ import main as harness_main

    ap = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="all samples and sizes")
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args(argv)
    harness = ["--only", "bench", "--full" if args.full else "--quick"]
    if args.data:
        harness += ["--data", str(args.data)]
    return harness_main(harness)


if __name__ == "__main__":
    sys.exit(main())
