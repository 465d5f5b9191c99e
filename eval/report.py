"""Rendering of an evaluation run: the JSON report, the Markdown report, the console table.

A run is a plain dict (``build_report``) so that the JSON file is the single record; the
Markdown and the console table are renderings of it, and the figures in docs/benchmarks.md
are copied from it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from eval.common import Metric, Section


def fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 10):
        return f"{int(value)}"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def section_dict(section: Section, seconds: float) -> dict[str, Any]:
    d = asdict(section)
    d["seconds"] = round(seconds, 1)
    d["status"] = "ok"
    return d


def metric_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    for sec in report["sections"]:
        if sec.get("status") != "ok":
            continue
        for m in sec["metrics"]:
            rows.append(
                (
                    sec["task"],
                    m["name"],
                    fmt(m["value"]),
                    fmt(m["baseline"]) if m.get("baseline") is not None else "",
                    m.get("baseline_name", ""),
                    "" if m.get("n") is None else str(m["n"]),
                )
            )
    return rows


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict[str, Any]) -> str:
    env = report["environment"]
    m = env["machine"]
    lines = [
        f"# Evaluation report: {report['mode']} run, {report['date']}",
        "",
        *(
            ["**Incomplete: the run stopped before its last task.**", ""]
            if not report.get("complete", True)
            else []
        ),
        f"- Command: `{report['command']}`",
        f"- Commit: {env.get('git', '?')}",
        f"- Machine: {m['cpu_model']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, "
        f"{m['os']}, Python {m['python']}",
        f"- Models: {', '.join(f'{k}={v}' for k, v in env['models'].items())}",
        f"- Prompts: {', '.join(env['prompts'])}",
        f"- Data: `{report['data_dir']}`",
        f"- Total time: {report['seconds']:.0f} s",
        "",
        "## Figures",
        "",
        "| task | metric | value | baseline / anchor | baseline is | n |",
        "|---|---|---:|---:|---|---:|",
    ]
    for row in metric_rows(report):
        lines.append("| " + " | ".join(_md_escape(c) for c in row) + " |")
    skipped = [s for s in report["sections"] if s.get("status") != "ok"]
    if skipped:
        lines += ["", "## Tasks not run", ""]
        for s in skipped:
            lines.append(f"- **{s['task']}** ({s['status']}): {_md_escape(s.get('error', ''))}")
    lines += ["", "## Notes per task", ""]
    for s in report["sections"]:
        if s.get("status") != "ok":
            continue
        lines.append(f"### {s['task']} ({s['seconds']:.0f} s)")
        lines.append("")
        for note in s.get("notes", []):
            lines.append(f"- {note}")
        if s.get("config"):
            cfg = json.dumps(s["config"], ensure_ascii=False, default=str)
            lines.append(f"- Configuration: `{cfg[:600]}`")
        lines.append("")
    lines += ["## Datasets and licences", ""]
    for d in report["datasets"]:
        lines.append(f"- {d}")
    lines += ["", "## Package versions", ""]
    lines.append(", ".join(f"{k} {v}" for k, v in env["packages"].items()))
    lines += ["", "Per-case results are in the JSON report beside this file.", ""]
    return "\n".join(lines)


def console_table(report: dict[str, Any]) -> str:
    rows = [("task", "metric", "value", "baseline", "baseline is", "n"), *metric_rows(report)]
    widths = [min(max(len(r[i]) for r in rows), cap) for i, cap in enumerate((22, 58, 8, 8, 40, 5))]
    out = []
    for n, r in enumerate(rows):
        cells = [c[: widths[i]].ljust(widths[i]) for i, c in enumerate(r)]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    for s in report["sections"]:
        if s.get("status") != "ok":
            out.append(f"[{s['status']}] {s['task']}: {s.get('error', '')[:160]}")
    return "\n".join(out)


def write(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"eval-{report['date']}-{report['mode']}"
    if report.get("only"):
        stem += "-only-" + "-".join(report["only"])
    jpath, mpath = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    jpath.write_text(
        json.dumps(report, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
    mpath.write_text(to_markdown(report), encoding="utf-8")
    return jpath, mpath


def headline(report: dict[str, Any], task: str, metric: str) -> Metric | None:
    """Look a figure up in a finished report (used for docs/benchmarks.md)."""
    for s in report["sections"]:
        if s["task"] == task and s.get("status") == "ok":
            for m in s["metrics"]:
                if m["name"] == metric:
                    return Metric(**m)
    return None


def summary_markdown(report: dict[str, Any], report_path: str = "") -> str:
    """The `## Summary` table of docs/benchmarks.md: each figure that has a baseline or anchor."""
    lines = [
        "## Summary",
        "",
        f"Headline figures of `{report['command']}` on {report['date']} "
        f"({report['environment']['models'].get('llm', '?')}; total {report['seconds']:.0f} s"
        f"{'; report: ' + report_path if report_path else ''}). Each figure sits beside its "
        "baseline (same run) or published anchor; the report has every figure and its notes.",
        "",
        "| task | figure | ours | baseline / anchor | baseline is | n |",
        "|---|---|---:|---:|---|---:|",
    ]
    for sec in report["sections"]:
        if sec.get("status") != "ok":
            continue
        shown = (
            [
                m
                for m in sec["metrics"]
                if (m.get("baseline") is not None or m.get("baseline_name"))
                and not m["name"].startswith(" ")  # indented = a detail row of the one above
            ]
            or sec["metrics"][:1]
        )
        for m in shown:
            cells = (
                sec["task"],
                m["name"].strip(),
                fmt(m["value"]),
                fmt(m["baseline"]) if m.get("baseline") is not None else "",
                m.get("baseline_name", ""),
                "" if m.get("n") is None else str(m["n"]),
            )
            lines.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
    missing = [s["task"] for s in report["sections"] if s.get("status") != "ok"]
    if missing:
        lines += ["", f"Not in this run: {', '.join(missing)} (see the report)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m eval.report eval/reports/eval-<date>-<mode>.json")
    path = sys.argv[1]
    print(summary_markdown(json.loads(Path(path).read_text(encoding="utf-8")), path))
