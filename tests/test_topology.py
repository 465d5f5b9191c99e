"""The scaled set-up of deploy/compose.yaml, as local processes on loopback: a PostgreSQL
server, ``chroma run``, two queue workers and the app (``streamlit run``). Three hearings go
through it: queued by a consultant, processed by whichever worker is free, approved, indexed
in the Chroma server and answered from it. Workers run the product's queue and job code on
fake models (``tests/fake_worker.py``); the OpenAI-compatible LLM endpoint of the compose file
is the same code path as tests/test_llm_adapter.py covers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pipeline import jobs
from pipeline.models import JobStatus, ReviewStatus
from pipeline.settings import load_settings
from pipeline.workspace import Workspace
from tests import test_chroma_server
from tests.conftest import FakeChat, FakeEmbedder
from tests.test_jobs import tone_wav
from tests.test_queue import FAKE_WORKER, REPO, TERMINAL

chroma_server = test_chroma_server.chroma_server  # module fixture: `chroma run` on loopback


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, deadline_s: float = 90) -> str:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read().decode()
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"{url} process exited: {log.read_text()[-3000:]}")
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer: {log.read_text()[-3000:]}")


def test_three_hearings_through_postgres_chroma_two_workers_and_the_app(
    postgres_server: Any, chroma_server: tuple[str, int], tmp_path: Path
) -> None:
    host, chroma_port = chroma_server
    url = postgres_server.new_database()
    workspace = tmp_path / "ws"  # uploads: a shared volume in the compose file
    env = {
        **os.environ,
        "SHIKUMI_WORKSPACE": str(workspace),
        "SHIKUMI_DATABASE_URL": url,
        "SHIKUMI_CHROMA_HOST": host,
        "SHIKUMI_CHROMA_PORT": str(chroma_port),
        "SHIKUMI_LOCAL_WORKER": "false",  # the worker machines serve the queue
    }
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, cmd: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc, log

    settings = load_settings(workspace, database_url=url, chroma_host=host, chroma_port=chroma_port)
    chat = FakeChat(default='{"label": "judgment"}')
    ws = Workspace(settings, llm=chat, embed=FakeEmbedder())
    try:
        app_port = _free_port()
        app, app_log = start(
            "app",
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
             f"--server.port={app_port}", "--server.address=127.0.0.1",
             "--browser.gatherUsageStats=false"],
        )  # fmt: skip
        go = tmp_path / "go"
        for i in range(2):
            start(
                f"worker{i}",
                [sys.executable, str(FAKE_WORKER), "--workspace", str(workspace),
                 "--database-url", url, "--log", str(tmp_path / "finished.log"),
                 "--go", str(go), "--delay", "0.1", "--idle-exit", "5"],
            )  # fmt: skip
        audio = tone_wav(tmp_path / "a.wav")
        queued = [
            jobs.enqueue(ws.store, ws.import_audio(audio, f"hearing {n}", "経費精算").id)
            for n in range(3)
        ]
        go.touch()
        assert _wait_http(f"http://127.0.0.1:{app_port}/_stcore/health", app, app_log) == "ok"

        end = time.monotonic() + 120
        while not all(ws.store.get_job(j.id).status in TERMINAL for j in queued):
            assert time.monotonic() < end, [ws.store.get_job(j.id) for j in queued]
            time.sleep(0.1)
        done = [ws.store.get_job(j.id) for j in queued]
        assert [j.status for j in done] == [JobStatus.DONE] * 3
        finished = (tmp_path / "finished.log").read_text().split()[::2]
        assert Counter(finished) == Counter(j.id for j in queued)  # each exactly once

        approved = ws.approve_all(who="sato")
        assert len(approved) == 3 and all(e.status == ReviewStatus.APPROVED for e in approved)
        assert ws.vectors.count() == 3  # in the Chroma server, not in the workspace
        hits = ws.assistant.retrieve("5万円を超える場合の承認")
        assert {h.metadata["interview_id"] for h in hits} == {j.interview_id for j in queued}
        assert app.poll() is None  # the app replica served throughout
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        ws.close()


def test_compose_file_uses_real_settings_and_commands() -> None:
    """deploy/compose.yaml stays in step with the code: every SHIKUMI_* variable it sets is a
    setting, and the worker runs the CLI's worker command."""
    import yaml

    from pipeline.cli import build_parser
    from pipeline.settings import Settings

    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "chroma", "llm", "app", "worker"} <= set(services)
    fields = set(Settings.model_fields)
    for name in ("app", "worker"):
        env = services[name]["environment"]
        unknown = [k for k in env if k.removeprefix("SHIKUMI_").lower() not in fields]
        assert unknown == [], (name, unknown)
    command = services["worker"]["command"]
    assert command[0] == "shikumi"
    args = build_parser().parse_args(command[1:])
    assert args.func.__name__ == "cmd_worker" and args.forever
