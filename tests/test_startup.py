"""Robust start-up: the embedded LLM server never depends on one port being free, is reused
while healthy, and a job whose worker died is picked up again."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import jobs
from pipeline.adapters import llama_server, llm
from pipeline.models import InterviewStatus, JobStatus
from pipeline.settings import Settings
from pipeline.workspace import Workspace

from .conftest import FakeEmbedder, FakeSTT
from .test_jobs import tone_wav

FAKE_SERVER = Path(__file__).with_name("fake_llm_server.py")
OLD_DEFAULT_PORT = 8765  # the fixed port the embedded server used to take


def _hold(port: int) -> socket.socket | None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        return None  # already held by something else: just as busy
    s.listen(1)
    return s


@pytest.fixture
def fake_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The embedded provider, with the fake server program in place of llama.cpp's."""
    monkeypatch.setattr(llama_server, "ENTRY", FAKE_SERVER)
    monkeypatch.setattr(llm, "qwen_gguf_path", lambda _cache: tmp_path / "model.gguf")
    monkeypatch.setenv("FAKE_LLM_REPLY", json.dumps({"label": "judgment"}))
    monkeypatch.setattr(llm, "_SERVER", None)
    yield
    if llm._SERVER is not None:
        llm._SERVER.stop()


def test_hearing_is_processed_while_the_default_port_is_busy(
    fake_embedded: None, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = [_hold(OLD_DEFAULT_PORT)]
    # the first free port we pick is taken by someone else before the server binds it
    raced = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raced.bind(("127.0.0.1", 0))
    raced.listen(1)
    picks = iter([raced.getsockname()[1]])
    real_free_port = llama_server._free_port
    monkeypatch.setattr(llama_server, "_free_port", lambda: next(picks, None) or real_free_port())
    settings.llm_port = OLD_DEFAULT_PORT  # asked for explicitly, and busy
    stt = FakeSTT([(0.0, 1.8, "5万円を超える場合は部長の承認が必要です。")])
    ws = Workspace(settings, stt=stt, embed=FakeEmbedder())
    try:
        iv = ws.import_audio(tone_wav(tmp_path / "a.wav"), "busy port")
        jobs.enqueue(ws.store, iv.id)
        done = jobs.run_job(ws, ws.store.claim_next_job())
        assert done.status == JobStatus.DONE, done.error
        assert ws.store.get_interview(iv.id).status == InterviewStatus.EXTRACTED
        (el,) = ws.store.list_elements(iv.id)
        assert el.kind == "judgment"
        port = llm._SERVER.port if llm._SERVER else 0
        assert port not in (OLD_DEFAULT_PORT, raced.getsockname()[1])
    finally:
        ws.close()
        raced.close()
        for s in held:
            if s is not None:
                s.close()


def test_healthy_server_is_reused_and_a_dead_one_replaced(
    fake_embedded: None, settings: Settings
) -> None:
    first = llm.embedded_server(settings)
    assert llm.embedded_server(settings) is first  # healthy: no second server
    url = first.base_url
    assert first._proc is not None
    first._proc.kill()
    first._proc.wait()
    second = llm.embedded_server(settings)
    assert second.healthy() and llama_server.serves_alias(second.base_url)
    assert second.base_url != url or second is not first


def test_stranger_on_the_port_is_not_taken_for_our_server(tmp_path: Path) -> None:
    """Something answering HTTP on the port but without our model is not 'ready'."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Other(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_GET(self) -> None:
            data = b'{"data": [{"id": "someone-else"}]}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    other = ThreadingHTTPServer(("127.0.0.1", 0), Other)
    Thread(target=other.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{other.server_address[1]}/v1"
        assert not llama_server.serves_alias(url)
    finally:
        other.shutdown()
        other.server_close()


def test_a_worker_outlives_its_llm_server(
    fake_embedded: None, settings: Settings, tmp_path: Path
) -> None:
    """The server dies between two hearings (OOM, crash): the next hearing starts a new one
    instead of failing every later job of the same worker."""
    stt = FakeSTT([(0.0, 1.8, "5万円を超える場合は部長の承認が必要です。")])
    ws = Workspace(settings, stt=stt, embed=FakeEmbedder())
    try:
        outcomes = []
        for n in range(2):
            iv = ws.import_audio(tone_wav(tmp_path / f"{n}.wav"), f"hearing {n}")
            jobs.enqueue(ws.store, iv.id)
            outcomes.append(jobs.run_job(ws, ws.store.claim_next_job()).status)
            assert llm._SERVER is not None and llm._SERVER._proc is not None
            llm._SERVER._proc.kill()  # gone before the next hearing
            llm._SERVER._proc.wait()
        assert outcomes == [JobStatus.DONE, JobStatus.DONE]
        assert len(ws.store.list_elements()) == 2
    finally:
        ws.close()
