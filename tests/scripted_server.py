"""A scripted OpenAI-compatible server on 127.0.0.1, for the faults a real server rarely shows.

Each chat request takes the next step of the script, or the default step when the script
is used up (the default may be a function of the request body). Steps:

- ``answer(text, finish_reason, headers=)``: a chat completion with that text;
- ``tool_call(text)``: a chat completion calling the ``write_tune`` custom tool;
- ``status(code, message, headers, code_name=, param=)``: an OpenAI-style error;
- ``("hang", seconds)``: no answer for that long, then the connection is dropped;
- ``("garbage", text_or_bytes)``: HTTP 200 with a body that is not JSON;
- ``("no_choices",)``: a completion with an empty choice list;
- ``completion(message=, usage=, ...)``: a completion whose fields are given as they are
  (content as a number or a list, usage that is not a number...);
- ``drip(text, every)``: a completion whose body is sent one byte every ``every`` seconds.

It speaks HTTP/1.1 with keep-alive, as real servers do, records every chat request body,
and counts the most requests it had in flight at once. ``models_delay`` slows the model
listing (``GET /v1/models``) that grammar auto-detection asks for.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

Closable = TypeVar("Closable")

Step = tuple[Any, ...]
USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


def answer(text: str, finish_reason: str = "stop", headers: dict[str, str] | None = None) -> Step:
    return ("answer", text, finish_reason, headers or {})


def completion(**fields: Any) -> Step:
    """A completion body with ``fields`` replacing the usual ones (``message`` replaces the
    first choice's message)."""
    message = fields.pop("message", {"role": "assistant", "content": ""})
    body = _completion_body({"index": 0, "message": message, "finish_reason": "stop"})
    return ("raw", json.dumps(body | fields).encode())


def drip(text: str, every: float) -> Step:
    return ("drip", text, every)


def _completion_body(choice: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": "scripted",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [] if choice is None else [choice],
        "usage": USAGE,
    }


def tool_call(text: str) -> Step:
    return ("tool_call", text)


def status(
    code: int,
    message: str = "scripted failure",
    headers: dict[str, str] | None = None,
    *,
    code_name: str | None = None,
    param: str | None = None,
) -> Step:
    error = {"message": message, "type": "scripted", "code": code_name, "param": param}
    return ("status", code, headers or {}, error)


NO_SCRIPT_LEFT = status(500, "no script left")


class ScriptedServer:
    """Serves ``/v1/models``, ``/version`` and ``/v1/chat/completions`` from a script."""

    def __init__(
        self,
        script: list[Step] | None = None,
        *,
        default: Step | Callable[[dict[str, Any]], Step] = NO_SCRIPT_LEFT,
        owned_by: str = "scripted",
        version: str | None = None,
        delay: float | Callable[[dict[str, Any]], float] = 0.0,
        models_delay: float = 0.0,
    ) -> None:
        self.script = list(script or [])
        self.default = default
        self.owned_by = owned_by
        self.version = version
        self.delay = delay
        self.models_delay = models_delay
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.in_flight = 0
        self.connections = 0
        """Connections open now (a client's keep-alive connection stays open until it closes)."""
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._clients: list[Any] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def closing(self, client: Closable) -> Closable:
        """``client`` (a backend), closed with its keep-alive connections when the server stops."""
        self._clients.append(client)
        return client

    def __exit__(self, *_: object) -> None:
        for client in self._clients:
            client.close()
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
            protocol_version = "HTTP/1.1"  # keep-alive, like uvicorn, vLLM and llama.cpp

            def log_message(self, *_: object) -> None:  # keep test output clean
                pass

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections += 1

            def finish(self) -> None:
                with server._lock:
                    server.connections -= 1
                super().finish()

            def _send(
                self,
                code: int,
                data: bytes,
                headers: dict[str, str] | None = None,
                every: float = 0.0,
            ) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if not every:
                    self.wfile.write(data)
                    return
                for index in range(len(data)):  # a byte at a time, flushed
                    try:
                        self.wfile.write(data[index : index + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up
                        return
                    time.sleep(every)

            def do_GET(self) -> None:
                server.paths.append(self.path)
                if self.path == "/version" and server.version is not None:
                    self._send(200, json.dumps({"version": server.version}).encode())
                elif self.path == "/v1/models":
                    time.sleep(server.models_delay)
                    model = {"id": "scripted", "object": "model", "created": 0}
                    listing = {"object": "list", "data": [{**model, "owned_by": server.owned_by}]}
                    self._send(200, json.dumps(listing).encode())
                else:
                    self._send(404, b'{"detail": "Not Found"}')

            def do_POST(self) -> None:
                server.paths.append(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    delay = server.delay(body) if callable(server.delay) else server.delay
                    time.sleep(delay)
                    self._respond(server._next_step(body))
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _respond(self, step: Step) -> None:
                kind = step[0]
                if kind == "hang":
                    time.sleep(step[1])
                    self.close_connection = True
                    return
                if kind == "status":
                    _, code, headers, error = step
                    self._send(code, json.dumps({"error": error}).encode(), headers)
                    return
                if kind == "garbage":
                    body = step[1] if isinstance(step[1], bytes) else step[1].encode()
                    self._send(200, body)
                    return
                if kind == "raw":
                    self._send(200, step[1])
                    return
                message: dict[str, Any] = {"role": "assistant", "content": None}
                finish_reason, headers, every = "tool_calls", {}, 0.0
                if kind == "answer":
                    message["content"], finish_reason, headers = step[1], step[2], step[3]
                elif kind == "drip":
                    message["content"], finish_reason, every = step[1], "stop", step[2]
                elif kind == "tool_call":
                    call = {"name": "write_tune", "input": step[1]}
                    message["tool_calls"] = [{"id": "call_1", "type": "custom", "custom": call}]
                choice = {"index": 0, "message": message, "finish_reason": finish_reason}
                body = _completion_body(None if kind == "no_choices" else choice)
                self._send(200, json.dumps(body).encode(), headers, every)

        return Handler
