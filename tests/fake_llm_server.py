"""A stand-in for the embedded LLM server, run as a program by ``LocalLLMServer`` in tests.

It takes ``llama_cpp.server``'s arguments, answers ``/v1/models`` with its alias and every chat
completion with ``$FAKE_LLM_REPLY`` (OpenAI's wire format), and exits with uvicorn's code 3
when its port is taken, exactly what made the first hearing fail before.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--model_alias", default="fake")
    args, _rest = parser.parse_known_args()
    reply = os.environ.get("FAKE_LLM_REPLY", '{"label": "none"}')

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def _json(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._json({"object": "list", "data": [{"id": args.model_alias, "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self._json(
                {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", args.model_alias),
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": reply},
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
            )

    try:
        server = ThreadingHTTPServer((args.host, args.port), Handler)
    except OSError as exc:
        print(f"[Errno] {exc}: address already in use", file=sys.stderr)
        sys.exit(3)
    server.serve_forever()


if __name__ == "__main__":
    main()
