"""The embedded LLM: llama-cpp-python's OpenAI-compatible server, started and stopped by us.

It listens on loopback only, on a free port, and is stopped when the process that started it
exits. Every other part of the product talks to it exactly as it would talk to OpenAI.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import LLMError

MODEL_ALIAS = "qwen2.5-coder-1.5b-instruct"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalLLMServer:
    def __init__(
        self, gguf: Path, threads: int = 2, n_ctx: int = 8192, log_dir: Path | None = None
    ):
        self.gguf = gguf
        self.threads = threads
        self.n_ctx = n_ctx
        self.log_dir = log_dir
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 180.0) -> str:
        if self.running():
            return self.base_url
        self.port = _free_port()
        cmd = [
            sys.executable,
            str(Path(__file__).with_name("llama_entry.py")),  # llama_cpp.server, cheaper logprobs
            "--model",
            str(self.gguf),
            "--model_alias",
            MODEL_ALIAS,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
        ]
        log_path = None
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / "llm-server.log"
            with log_path.open("ab") as log:  # the child keeps its own copy of the handle
                self._proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env)
        else:
            self._proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
            )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LLMError(
                    f"The embedded LLM server exited at start (code {self._proc.returncode}).",
                    f"See {log_path or 'its log'}; run `make setup` to reinstall "
                    "llama-cpp-python, or configure SHIKUMI_LLM_BASE_URL / OPENAI_API_KEY.",
                    provider="embedded",
                )
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as r:
                    if r.status == 200:
                        return self.base_url
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        self.stop()
        raise LLMError(
            f"The embedded LLM server did not become ready in {timeout:.0f} s.",
            "The machine may be overloaded; retry, or configure an external endpoint.",
            provider="embedded",
        )

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=5)
        self._proc = None
