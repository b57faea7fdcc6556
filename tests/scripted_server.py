"""A scripted OpenAI-compatible server on 127.0.0.1 for fault cases a real server won't produce.

Each chat request takes the next step of the script (or the default step when the script
is used up). Steps: ``("answer", text, finish_reason)``, ``("status", code, headers,
body)``, ``("hang", seconds)``, ``("no_choices",)``. The server records every request body
and the most requests it had in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Step = tuple[Any, ...]


def answer(text: str, finish_reason: str = "stop") -> Step:
    return ("answer", text, finish_reason)


class ScriptedServer:
    """Serves /v1/models and /v1/chat/completions from a script."""

    def __init__(
        self,
        script: list[Step] | None = None,
        *,
        default: Step | Callable[[dict[str, Any]], Step] = ("status", 500, {}, "no script left"),
        owned_by: str = "scripted",
        delay: float = 0.0,
    ) -> None:
        self.script = list(script or [])
        self.default = default
        self.owned_by = owned_by
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_step(self, body: dict[str, Any]) -> Step:
        with self._lock:
            self.requests.append(body)
            if self.script:
                return self.script.pop(0)
        return self.default(body) if callable(self.default) else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:  # keep test output clean
                pass

            def _send(
                self, code: int, payload: object, headers: dict[str, str] | None = None
            ) -> None:
                data = (
                    json.dumps(payload).encode()
                    if not isinstance(payload, str)
                    else payload.encode()
                )
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                models = [
                    {"id": "scripted", "object": "model", "created": 0, "owned_by": server.owned_by}
                ]
                self._send(200, {"object": "list", "data": models})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay)
                    self._respond(server._next_step(body))
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _respond(self, step: Step) -> None:
                kind = step[0]
                if kind == "hang":
                    time.sleep(step[1])
                    return
                if kind == "status":
                    _, code, headers, message = step
                    self._send(code, {"error": {"message": message, "type": "scripted"}}, headers)
                    return
                choices = []
                if kind == "answer":
                    choices = [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": step[1]},
                            "finish_reason": step[2],
                        }
                    ]
                self._send(
                    200,
                    {
                        "id": "scripted",
                        "object": "chat.completion",
                        "created": 0,
                        "model": "scripted",
                        "choices": choices,
                        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
                    },
                )

        return Handler
