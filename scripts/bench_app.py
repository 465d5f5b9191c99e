"""How long each page of the app takes to render with 500 elements in the database.

Usage: .venv/bin/python scripts/bench_app.py [--elements 500] [--runs 5] [--browser]

Builds a tmp workspace (10 hearings x 100 transcript segments, 500 elements with evidence),
then times every page:
- server: the page's script run through streamlit.testing.v1.AppTest (median of --runs);
- browser (with --browser): the real app in Debian's Chromium, from navigation until the
  page has stopped running (median of --runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.models import (  # noqa: E402
    Alignment,
    Evidence,
    Exception_,
    Finding,
    FindingKind,
    Interview,
    InterviewStatus,
    Judgment,
    Language,
    RuleRow,
    Segment,
    Task,
    Transcript,
)
from pipeline.store import Store  # noqa: E402

PAGES = ["hearings", "transcript", "review", "flow", "flow?interview=all", "assistant", "settings"]


def populate(workspace: Path, n_elements: int, n_interviews: int = 10) -> None:
    store = Store(f"sqlite:///{workspace / 'shikumi.db'}")
    per = n_elements // n_interviews
    for i in range(n_interviews):
        iv = store.add_interview(
            Interview(title=f"ヒアリング {i + 1}", business_area="経費精算",
                      interviewee_roles=["経理担当"], status=InterviewStatus.EXTRACTED)
        )  # fmt: skip
        segs = [
            Segment(id=f"s{k + 1:04d}", start=k * 6.0, end=k * 6.0 + 5.5,
                    speaker="interviewee" if k % 2 else "interviewer",
                    text=f"{k}番目の発言です。5万円を超える場合は部長の承認が必要です。")
            for k in range(100)
        ]  # fmt: skip
        tr = Transcript(interview_id=iv.id, language=Language.JA, segments=segs, duration=600)
        store.save_transcript(tr)
        spans = tr.segment_spans()
        elements = []
        for n in range(per):
            k = (n * 2) % 100
            ev = Evidence(
                quote=segs[k].text[:20], segment_ids=[segs[k].id], char_start=spans[k][0],
                char_end=spans[k][0] + 20, audio_start=segs[k].start, audio_end=segs[k].end,
                alignment=Alignment.EXACT, score=1.0, speaker=segs[k].speaker,
            )  # fmt: skip
            common = {"interview_id": iv.id, "summary": f"要素 {i}-{n} の概要", "evidence": [ev]}
            kind = n % 10
            if kind < 5:
                elements.append(Task(**common, action="照合する", actor="経理", order=n))
            elif kind < 7:
                rules = [RuleRow(condition="5万円超", outcome="部長")]
                elements.append(Judgment(**common, decision="承認者", decider="部長", rules=rules))
            elif kind < 9:
                elements.append(Exception_(**common, trigger="領収書紛失", handling="出金伝票"))
            else:
                elements.append(Finding(**common, finding=FindingKind.PERSON_DEPENDENCY))
        store.add_elements(elements)
    store.close()


def bench_server(runs: int) -> dict[str, list[float]]:
    from streamlit.testing.v1 import AppTest

    out: dict[str, list[float]] = {}
    for name in PAGES:
        times = []
        for _ in range(runs):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            at.run()
            if name != "hearings":
                at.switch_page(f"ui/pages/{name.split('?')[0]}.py")
            if "?" in name:
                at.query_params["interview"] = name.split("=")[1]
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
            assert not at.exception, at.exception
        out[name] = times
    return out


def bench_browser(runs: int, workspace: Path) -> dict[str, list[float]]:
    import socket

    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "SHIKUMI_WORKSPACE": str(workspace)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    out: dict[str, list[float]] = {}
    try:
        time.sleep(4)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--no-first-run"],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("h1", timeout=60_000)
            for name in PAGES:
                times = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/{name}")
                    page.wait_for_selector("h1", timeout=60_000)
                    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached",
                                           timeout=60_000)  # fmt: skip
                    if name.startswith("flow"):
                        page.wait_for_selector("[data-testid=stGraphVizChart] svg", timeout=60_000)
                    times.append(time.perf_counter() - t0)
                out[name] = times
            browser.close()
    finally:
        os.killpg(proc.pid, 15)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--elements", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--browser", action="store_true")
    args = ap.parse_args()
    workspace = Path(tempfile.mkdtemp(prefix="shikumi-bench-")) / "ws"
    workspace.mkdir(parents=True)
    os.environ["SHIKUMI_WORKSPACE"] = str(workspace)
    t0 = time.perf_counter()
    populate(workspace, args.elements)
    print(f"populated {args.elements} elements in {time.perf_counter() - t0:.1f} s ({workspace})")
    results = {"server (AppTest script run)": bench_server(args.runs)}
    if args.browser:
        results["browser (Chromium, navigation to idle)"] = bench_browser(args.runs, workspace)
    for label, res in results.items():
        print(f"\n{label}: median / max of {args.runs} runs, seconds")
        print("| page | median | max |\n|---|---|---|")
        for name, times in res.items():
            print(f"| {name} | {statistics.median(times):.2f} | {max(times):.2f} |")


if __name__ == "__main__":
    main()
