"""What the fake model servers share: a threaded HTTP server on 127.0.0.1 that answers each
request with the next scripted reply, and a handler that writes JSON bodies and server-sent
events over a chunked HTTP/1.1 body, noticing when the client goes away.

`gemini_server` and `openai_server` build on it; each speaks its own protocol.
"""

import json
import queue
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


def recorded_events(path: str) -> list[str]:
    """The events of a recorded stream file (`data: ...` blocks, CRLF-separated), as sent.

    Comment blocks (`: ...`, what the stream shows) are for the reader of the file only: the
    real servers send none, and google-genai's reader would take one for a broken JSON body.
    """
    with open(path, encoding="utf-8", newline="") as handle:
        blocks = handle.read().split("\r\n\r\n")
    return [block + "\r\n\r\n" for block in blocks if block.startswith("data:")]


class Disconnected(Exception):
    """The client closed the connection (or the server is stopping)."""


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: dict[str, Any]
    peer: tuple[str, int]

    @property
    def model(self) -> str:
        """The model asked for: in the body (OpenAI) or the path (Gemini)."""
        return self.body.get("model") or self.path.rsplit("/", 1)[-1].split(":", 1)[0]


class FakeServer[ReplyT]:
    """A threaded HTTP server answering each request with the next queued reply."""

    def __init__(
        self,
        handler: type["EventHandler"],
        default: Callable[[dict[str, Any]], ReplyT],
        *,
        port: int = 0,
    ) -> None:
        self.default = default
        self.requests: list[Received] = []
        self.disconnects = 0
        self._replies: queue.SimpleQueue[ReplyT] = queue.SimpleQueue()
        self._disconnected = threading.Condition()
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeServer[ReplyT]":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def push(self, *replies: ReplyT) -> None:
        for reply in replies:
            self._replies.put(reply)

    def next_reply(self, body: dict[str, Any]) -> ReplyT:
        try:
            return self._replies.get_nowait()
        except queue.Empty:
            return self.default(body)

    def wait_for_disconnect(self, timeout: float) -> bool:
        """Whether a client dropped a stream in progress within `timeout` seconds."""
        with self._disconnected:
            return self._disconnected.wait_for(lambda: self.disconnects > 0, timeout)

    def record_disconnect(self) -> None:
        with self._disconnected:
            self.disconnects += 1
            self._disconnected.notify_all()


class EventHandler(BaseHTTPRequestHandler):
    """JSON bodies and server-sent events, for the protocol handlers to build on."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Each event is its own small write: without this, Nagle's algorithm holds the next one
        # until the client's delayed ACK (about 40 ms) on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def fake(self) -> FakeServer[Any]:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def receive_json(self) -> Received | None:
        """Read and record the request; None (after answering 400) when it is not JSON."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            self.send_json(400, self.bad_json_body())
            return None
        parts = urlsplit(self.path)
        received = Received(
            "POST", parts.path, parts.query, dict(self.headers.items()), body, self.client_address
        )
        self.fake.requests.append(received)
        return received

    def bad_json_body(self) -> dict[str, Any]:
        return {"error": {"message": "request body is not JSON"}}

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def start_events(self, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def write_event(self, payload: str) -> None:
        self.write_chunk(f"data: {payload}\r\n\r\n".encode())

    def write_blocks(self, blocks: list[str | bytes], pause: float) -> None:
        """A recorded stream's events (or any pieces of it) as they are, `pause` apart."""
        for index, block in enumerate(blocks):
            if index and pause:
                self.wait(pause)
            self.write_chunk(block if isinstance(block, bytes) else block.encode())

    def write_chunk(self, data: bytes) -> None:
        """One chunk of the chunked body."""
        self.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_events(self) -> None:
        self.write(b"0\r\n\r\n")

    def drop(self) -> None:
        """Cut the connection in the middle of the body."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError as exc:
            raise Disconnected from exc

    def wait(self, seconds: float) -> None:
        """Sleep, but notice (and raise on) the client closing the connection meanwhile."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self.fake.stopping.is_set():
                raise Disconnected
            readable, _, _ = select.select([self.connection], [], [], min(remaining, 0.02))
            if readable:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        raise Disconnected
                except OSError as exc:
                    raise Disconnected from exc
