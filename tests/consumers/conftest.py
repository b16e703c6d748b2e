"""Drive the consumers with `WebsocketCommunicator`, signed in through the session path.

The `connect` fixture opens clients on the test's event loop and, at teardown, disconnects them
and shuts down that loop's `Runtime` (running generations are cancelled and recorded) before
the database is flushed. The Firebase and Gemini fakes' fixtures are bound here for every
consumer test module.
"""

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db.backends import utils as db_utils

from ai_chat.agent.gemini import GeminiAgent
from ai_chat.kinds import KINDS, socket_kind_names
from config.asgi import application
from sockets.runtime import shutdown_runtime
from tests.fakes.firebase import firebase, firebase_server  # noqa: F401
from tests.fakes.gemini_server import gemini_server  # noqa: F401

# Every registered kind, so that a new kind is driven by the parametrised tests unasked.
PATHS = {name: KINDS[name].path for name in socket_kind_names()}
GENERATION_KINDS = [name for name in socket_kind_names() if KINDS[name].structured]
SAVEABLE_KINDS = [name for name in socket_kind_names() if KINDS[name].saveable]
# A page served by this server: its Origin names the host (and port) the handshake goes to.
ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
FINAL_TYPES = ("complete", "cancelled", "error")


@pytest.fixture(autouse=True)
def fast_offline(settings):
    settings.AI_PROVIDER = "offline"
    settings.OFFLINE_CHUNK_DELAY_MS = 0
    settings.OFFLINE_CHUNK_SIZE = 200


@pytest.fixture
def gemini(settings, gemini_server, monkeypatch):  # noqa: F811
    """The Gemini provider against the fake server, with short timeouts and retry delays."""
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = "test-key"
    settings.GEMINI_BASE_URL = gemini_server.url
    settings.GEMINI_API_VERSION = "v1beta"
    settings.GEMINI_MODEL = "gemini-test"
    # Generous, so that a loaded machine is not mistaken for a stalled provider.
    settings.GEMINI_TIMEOUT_SECONDS = 10.0
    settings.GEMINI_STALL_SECONDS = 5.0
    settings.GEMINI_MAX_RETRIES = 2
    settings.AI_MAX_VALIDATION_RETRIES = 1
    from_settings = GeminiAgent.from_settings.__func__

    def fast_retries(cls):
        agent = from_settings(cls)
        agent.retry_initial_delay, agent.retry_max_delay = 0.01, 0.05
        return agent

    monkeypatch.setattr(GeminiAgent, "from_settings", classmethod(fast_retries))
    return gemini_server


@pytest.fixture
def slow_offline(settings):
    """A paced offline stream: about 40 chunks, 25 ms apart (a second in all)."""
    settings.OFFLINE_CHUNK_DELAY_MS = 25
    settings.OFFLINE_CHUNK_SIZE = 60


class Client:
    """A WebSocket client of one endpoint, with helpers that read frames until a condition."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.ws = communicator
        self._pings = 0
        self.welcome: dict[str, Any] | None = None

    async def send(self, **frame: Any) -> None:
        await self.ws.send_json_to(frame)

    async def send_text(self, text: str) -> None:
        """Any text frame, the empty one included."""
        await self.ws.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.ws.send_input({"type": "websocket.receive", "bytes": data})

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        return await self.ws.receive_json_from(timeout=timeout)

    async def request(self, timeout: float = 5, **frame: Any) -> dict[str, Any]:
        """Send a frame and return the next frame received."""
        await self.send(**frame)
        return await self.recv(timeout)

    async def until(self, *types: str, timeout: float = 10) -> list[dict[str, Any]]:
        """Frames received up to and including the first one of `types`."""
        frames = []
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                frames.append(frame)
                if frame["type"] in types:
                    return frames

    async def generate(
        self, content: str = "Intro to Java", timeout: float = 10, **fields: Any
    ) -> list[dict[str, Any]]:
        """Send a `message` and return its frames up to the final one."""
        await self.send(type="message", content=content, **fields)
        return await self.until(*FINAL_TYPES, timeout=timeout)

    async def error(self, timeout: float = 5, **frame: Any) -> dict[str, Any]:
        """Send a frame that must be refused; return the `error` frame."""
        answer = await self.request(timeout, **frame)
        assert answer["type"] == "error", answer
        return answer

    async def assert_open(self) -> None:
        """The connection is open and answering: a `ping` gets its `pong`."""
        self._pings += 1
        rid = f"ping-{self._pings}"
        await self.send(type="ping", request_id=rid)
        frames = await self.until("pong")
        assert frames[-1] == {"type": "pong", "request_id": rid}
        # Only frames of a generation this socket follows may come before it.
        assert all(f["type"] in ("streaming", *FINAL_TYPES) for f in frames[:-1]), frames

    async def closed_with(self, timeout: float = 5) -> tuple[list[dict[str, Any]], int]:
        """Frames received before the server closed the socket, and the close code."""
        frames = []
        async with asyncio.timeout(timeout):
            while True:
                output = await self.ws.receive_output(timeout)
                if output["type"] == "websocket.close":
                    return frames, output.get("code", 1000)
                frames.append(json.loads(output["text"]))

    async def nothing(self, timeout: float = 0.1) -> bool:
        return await self.ws.receive_nothing(timeout)

    async def close(self) -> None:
        await self.ws.disconnect()


async def open_client(
    kind: str, user: Any = None, *, headers: Any = None, expect_auth: bool = True
) -> Client:
    communicator = WebsocketCommunicator(application, PATHS[kind], headers=headers or ORIGIN)
    if user is not None:
        # The session path: SessionUserMiddleware would put this user in the scope.
        communicator.scope["user"] = user
    # Generous: the first connection of a loop builds its runtime (and provider) first.
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    client = Client(communicator)
    if user is not None and expect_auth:
        frame = await client.recv()
        assert frame["type"] == "auth_success", frame
        if kind == "chat" and django_settings.TUTOR_WELCOME:  # the tutor greets first
            client.welcome = await client.recv()
            assert client.welcome["type"] == "welcome", client.welcome
    return client


def example_contexts(user: Any) -> dict[str, Any]:
    """Each kind's example context (the playground's), on rows `user` has."""
    contexts = {name: KINDS[name].example(user=user).context for name in socket_kind_names()}
    missing = [name for name, context in contexts.items() if context is None]
    assert not missing, f"no rows for the example contexts of {missing}: add a fixture"
    return contexts


@pytest.fixture
def contexts(user, course, lesson, assignment):
    """A valid context per kind, on rows owned by `user`: each kind's example."""
    return example_contexts(user)


@pytest.fixture
async def connect():
    """`await connect(kind, user)`: a client, closed (with the runtime) after the test."""
    clients: list[Client] = []

    async def make(kind: str = "course", user: Any = None, **kwargs: Any) -> Client:
        client = await open_client(kind, user, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        with contextlib.suppress(Exception):
            await client.close()
    await shutdown_runtime()


def streaming(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == "streaming"]


class QueryCounter:
    """Counts SQL statements executed on any thread (the ORM runs in worker threads)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._lock = threading.Lock()

    def record(self, sql: str) -> None:
        with self._lock:
            self.statements.append(sql)

    def __len__(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        with self._lock:
            self.statements = []


@pytest.fixture
def count_queries(monkeypatch: pytest.MonkeyPatch) -> Callable[[], QueryCounter]:
    """Install a cross-thread SQL counter (every `execute` and `executemany` of any cursor)."""

    def install() -> QueryCounter:
        counter = QueryCounter()
        original = db_utils.CursorWrapper._execute_with_wrappers

        def counted(self: Any, sql: str, params: Any, many: bool, executor: Any) -> Any:
            counter.record(sql)
            return original(self, sql, params, many, executor)

        monkeypatch.setattr(db_utils.CursorWrapper, "_execute_with_wrappers", counted)
        return counter

    return install
