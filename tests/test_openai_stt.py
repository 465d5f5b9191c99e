"""The OpenAI-compatible transcription provider: same segments, words and times as local
faster-whisper, through the same ``transcribe_file``.

The fast test runs a real HTTP server on loopback that answers like OpenAI's verbose_json; the
slow one starts the PyPI package faster-whisper-server with the packaged Whisper base model and
transcribes a sample hearing through it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pipeline.adapters.openai_stt import OpenAITranscriber, segments_from_response
from pipeline.settings import load_settings
from pipeline.transcribe import transcribe_file
from tests.test_audio import tone, write_audio

REPO = Path(__file__).resolve().parent.parent

VERBOSE = {
    "task": "transcribe",
    "language": "japanese",
    "duration": 4.0,
    "text": "経費精算の申請です。部長が承認します。",
    "segments": [
        {"id": 0, "start": 0.0, "end": 1.8, "text": "経費精算の申請です。", "avg_logprob": -0.2,
         "no_speech_prob": 0.01, "compression_ratio": 1.1},
        {"id": 1, "start": 2.0, "end": 3.9, "text": "部長が承認します。", "avg_logprob": -0.3,
         "no_speech_prob": 0.02, "compression_ratio": 1.1},
    ],
    "words": [
        {"word": "経費精算", "start": 0.0, "end": 0.8},
        {"word": "の", "start": 0.8, "end": 0.9},
        {"word": "申請です。", "start": 0.9, "end": 1.8},
        {"word": "部長が", "start": 2.0, "end": 2.6},
        {"word": "承認します。", "start": 2.6, "end": 3.9},
    ],
}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        msg = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
        )
        fields: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields.setdefault(name, []).append(
                payload if name == "file" else payload.decode("utf-8")
            )
        self.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **fields})
        data = json.dumps(VERBOSE, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_verbose_json_becomes_segments_with_words(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        stt = OpenAITranscriber(url, "whisper-1", api_key="sk-test")
        src = write_audio(tmp_path / "rec.wav", tone(4.0, 16_000), 16_000)
        tr = transcribe_file(src, "iv", stt, None, ["楽楽精算"], prompt=True, speakers=False,
                             gate=False, correct=False)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        stt.close()
    (req,) = _Handler.seen
    assert req["path"] == "/v1/audio/transcriptions" and req["auth"] == "Bearer sk-test"
    assert req["model"] == ["whisper-1"] and req["response_format"] == ["verbose_json"]
    assert req["timestamp_granularities[]"] == ["segment", "word"]
    assert req["prompt"][0].startswith("楽楽精算") and req["file"][0][:4] == b"RIFF"
    assert tr.language.value == "ja"  # "japanese" from the server
    assert [s.text for s in tr.segments] == ["経費精算の申請です。", "部長が承認します。"]
    for seg in tr.segments:
        assert "".join(w.word for w in seg.words) == seg.text
        starts = [w.start for w in seg.words]
        assert starts == sorted(starts) and seg.start <= starts[0]


def test_a_server_without_segments_or_words_still_gives_a_segment() -> None:
    segs = segments_from_response({"text": "経費精算です"}, 600.0, 16_000 * 10)
    assert [(s.start, s.end, s.text, s.words) for s in segs] == [(600.0, 610.0, "経費精算です", [])]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_real_faster_whisper_server_on_loopback(tmp_path: Path) -> None:
    """faster-whisper-server (PyPI) serving the packaged Whisper base, offline."""
    pytest.importorskip("faster_whisper_server")
    from pipeline.audio import SAMPLE_RATE, decode
    from pipeline.local_models import whisper_base_dir

    model = whisper_base_dir(load_settings(tmp_path / "ws").cache_dir)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "faster_whisper_server", str(model), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        audio = decode(REPO / "data" / "samples" / "ja_smoke" / "audio.ogg")[: 20 * SAMPLE_RATE]
        src = write_audio(tmp_path / "clip.wav", audio, SAMPLE_RATE)
        stt = OpenAITranscriber(f"http://127.0.0.1:{port}/v1", "whisper-1")
        tr = transcribe_file(src, "iv", stt, "ja", speakers=False, correct=False, gate=False)
    finally:
        stt.close()
        proc.terminate()
        proc.wait(timeout=30)
    assert tr.segments and tr.language.value == "ja"
    assert "流れ" in tr.text and "申請" in tr.text  # 「経費精算の流れを…」「…で申請して」
    starts = [s.start for s in tr.segments]
    assert starts == sorted(starts) and tr.segments[-1].end <= 20.5
