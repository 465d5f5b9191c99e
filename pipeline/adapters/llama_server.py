"""The embedded LLM: llama-cpp-python's OpenAI-compatible server, started and stopped by us.

It listens on loopback only, on a free port, and is stopped when the process that started it
exits. Every other part of the product talks to it exactly as it would talk to OpenAI.

Start-up never depends on one port being free: a preferred port (``SHIKUMI_LLM_PORT``) that is
taken is skipped, and a port another process grabs between our pick and the server's bind
(uvicorn exits with code 3) is replaced by a fresh one. The server is ready only when *our*
process answers with *our* model alias, so a stranger on the port is never mistaken for it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
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
# the server program (``llama_cpp.server`` with our shims); tests swap in a small fake speaking
# the same arguments and protocol
ENTRY = Path(__file__).with_name("llama_entry.py")
START_ATTEMPTS = 4
_STARTUP_FAILURE = 3  # uvicorn's exit code when it cannot bind its port


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def serves_alias(base_url: str, alias: str = MODEL_ALIAS, timeout: float = 2.0) -> bool:
    """True when an OpenAI-compatible server at ``base_url`` answers and lists ``alias``."""
    try:
        with urllib.request.urlopen(base_url + "/models", timeout=timeout) as r:
            if r.status != 200:
                return False
            body = json.loads(r.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError, OSError):
        return False
    return any(m.get("id") == alias for m in body.get("data") or [] if isinstance(m, dict))


class LocalLLMServer:
    def __init__(
        self,
        gguf: Path,
        threads: int = 2,
        n_ctx: int = 8192,
        log_dir: Path | None = None,
        port: int = 0,
    ):
        self.gguf = gguf
        self.threads = threads
        self.n_ctx = n_ctx
        self.log_dir = log_dir
        self.preferred_port = port  # 0: any free loopback port
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._stop_registered = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def healthy(self) -> bool:
        """Our process is alive and answers as the embedded model on its port."""
        return self.running() and serves_alias(self.base_url)

    def _ports(self) -> list[int]:
        first = self.preferred_port
        ports = [first] if first and port_is_free(first) else []
        return ports + [_free_port() for _ in range(START_ATTEMPTS - len(ports))]

    def start(self, timeout: float = 180.0) -> str:
        """Start the server (or keep the healthy one); return its base URL."""
        if self.healthy():
            return self.base_url
        self.stop()
        deadline = time.monotonic() + timeout
        for port in self._ports():
            if self._start_on(port, deadline):
                if not self._stop_registered:
                    atexit.register(self.stop)
                    self._stop_registered = True
                return self.base_url
        raise LLMError(
            f"The embedded LLM server could not bind a loopback port ({START_ATTEMPTS} tried).",
            "Another program keeps taking the ports; retry, or set SHIKUMI_LLM_PORT to a free one.",
            provider="embedded",
        )

    def _start_on(self, port: int, deadline: float) -> bool:
        """Run the server on ``port``: True when ready, False when the port was taken."""
        self.port = port
        cmd = [
            sys.executable,
            str(ENTRY),  # llama_cpp.server, cheaper logprobs
            "--model",
            str(self.gguf),
            "--model_alias",
            MODEL_ALIAS,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
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
        proc = self._proc
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                self._proc = None
                if code == _STARTUP_FAILURE or not port_is_free(port):
                    return False  # someone else holds the port: try another
                raise LLMError(
                    f"The embedded LLM server exited at start (code {code}).",
                    f"See {log_path or 'its log'}; run `make setup` to reinstall "
                    "llama-cpp-python, or configure SHIKUMI_LLM_BASE_URL / OPENAI_API_KEY.",
                    provider="embedded",
                )
            if serves_alias(self.base_url):
                return True
            time.sleep(0.3)
        self.stop()
        raise LLMError(
            "The embedded LLM server did not become ready in time.",
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
