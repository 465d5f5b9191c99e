"""The whole flow in a real browser: Debian's Chromium driven by Playwright, the real app,
the real background worker, Whisper and the local LLM.

Upload the smoke hearing, wait for its job, approve an element, ask a question, see the cited
answer. A screenshot of every page goes to tests/artifacts/ (kept out of git).
Run alone: ``flock /tmp/shikumi-cpu.lock .venv/bin/pytest -m browser``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
SMOKE = ROOT / "data" / "samples" / "ja_smoke" / "audio.ogg"
QUESTION = "5万円を超える経費の承認は誰ですか？"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The real app (`streamlit run app.py`) on a free port and a tmp workspace."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: run `bash scripts/ensure-system-deps.sh`.")
    workspace = tmp_path / "ws"
    port = _free_port()
    env = {**os.environ, "SHIKUMI_WORKSPACE": str(workspace)}
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _healthy(url):
            if time.monotonic() > deadline:
                pytest.fail("the app did not start:\n" + Path(log.name).read_text())
            time.sleep(0.5)
        yield url, workspace
    finally:
        _kill_group(proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        pid_file = workspace / "run" / "worker.pid"
        if pid_file.exists():  # the detached worker the app started for our upload
            with contextlib.suppress(ValueError):
                _kill_group(int(pid_file.read_text().strip()))
        log.close()


def test_upload_review_ask_in_a_real_browser(app_url: tuple[str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, workspace = app_url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
        page.set_default_timeout(60_000)
        # expect() has its own 5 s default; the first page of a fresh clone imports the whole
        # stack (chromadb, langchain, the store) on a contended 2-core machine and can take longer.
        expect.set_options(timeout=60_000)

        def shot(name: str) -> None:
            page.wait_for_timeout(800)  # let the last rerun paint
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

        # 1. hearings: upload the smoke hearing
        page.goto(url)
        expect(page.get_by_role("heading", name="ヒアリング").first).to_be_visible()
        page.locator("input[type=file]").set_input_files(str(SMOKE))
        expect(page.get_by_text("audio.ogg").first).to_be_visible()
        page.get_by_label("タイトル").fill("経費精算スモーク")
        page.get_by_label("業務領域").fill("経費精算")
        page.get_by_role("button", name="アップロードして処理を開始").click()
        expect(page.get_by_text("件のヒアリングを処理待ちに追加しました").first).to_be_visible()
        shot("1_hearings_processing")

        # 2. wait for the background job (real Whisper + local LLM), updated live on the page
        expect(page.get_by_text(re.compile(r"要素 \d+ 件")).first).to_be_visible(timeout=900_000)
        shot("2_hearings_done")
        errors = page.locator("[data-testid=stAlertContentError]")
        assert errors.count() == 0, errors.first.inner_text()

        # 3. transcript
        page.goto(f"{url}/transcript")
        expect(page.get_by_role("heading", name="文字起こし").first).to_be_visible()
        expect(page.locator("audio").first).to_be_attached()
        shot("3_transcript")

        # 4. review: approve the opened element, then the remaining drafts
        page.goto(f"{url}/review")
        expect(page.get_by_role("heading", name="レビュー").first).to_be_visible()
        expect(page.get_by_text("根拠(発言)").first).to_be_visible()
        approve = page.locator(".st-key-act_approve button")  # the opened element's own button
        expect(approve).to_be_enabled()
        approve.click()
        expect(page.get_by_text("を承認しました").first).to_be_visible()
        shot("4_review")
        drafts = page.get_by_role("button", name="表示中の下書き")
        if drafts.is_enabled():
            drafts.click()
            expect(page.get_by_text("件を承認しました").first).to_be_visible(timeout=120_000)

        # 5. flow
        page.goto(f"{url}/flow")
        swimlanes = page.frame_locator("iframe").first.locator("[data-testid=shikumi-swimlane] svg")
        expect(swimlanes.first).to_be_visible()
        shot("5_flow")

        # 6. assistant: ask, see the answer with its sources
        page.goto(f"{url}/assistant")
        expect(page.get_by_text("承認済みのルール").first).to_be_visible()
        box = page.locator("[data-testid=stChatInputTextArea]")
        box.fill(QUESTION)
        box.press("Enter")
        expect(page.get_by_text("根拠", exact=True).first).to_be_visible(timeout=600_000)
        answer = page.locator("[data-testid=stChatMessage]").last.inner_text()
        shot("6_assistant")
        assert "[J" in answer or "[T" in answer or "[X" in answer, answer

        # 7. settings
        page.goto(f"{url}/settings")
        expect(page.get_by_text("内蔵モデル Qwen2.5-Coder-1.5B").first).to_be_visible()
        shot("7_settings")
        browser.close()
    assert (workspace / "shikumi.db").exists()
