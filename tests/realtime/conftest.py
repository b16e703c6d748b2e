"""Drive `/ws/events/` with `WebsocketCommunicator`, signed in through the session path.

People around the shared course (tests/conftest.py): `ana` owns it, `lea` is enrolled as a
learner, `bob` is a stranger, `sam` is staff. The `events` fixture opens clients on the test's
event loop and, at teardown, closes them and stops that loop's realtime runtime.
"""

import asyncio
import contextlib
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from ai_chat.server_frames import SERVER_FRAMES
from config.asgi import application
from learning.models import Enrollment
from realtime.registry import event_kind_get
from realtime.rooms import parse_room
from realtime.server_frames import events_server_frames
from sockets.runtime import shutdown_runtime
from tests.consumers.conftest import ORIGIN, Client
from tests.fakes.firebase import firebase, firebase_server  # noqa: F401

PATH = "/ws/events/"
REDIS_TEST_URL = "redis://127.0.0.1:6379/13"


class EventsClient(Client):
    """A client of `/ws/events/` with helpers for rooms and events.

    Every frame received is checked against the server frame models (and an event's payload
    against its event's model), so the tests hold the code to the documented wire format.
    """

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        frame = await super().recv(timeout)
        check_frame(frame)
        return frame

    async def subscribe(self, room: str, **extra: Any) -> dict[str, Any]:
        """Subscribe; the `subscribed` answer (events arriving before it are skipped)."""
        await self.send(type="subscribe", room=room, **extra)
        answer = await self.answer("subscribed", "error")
        assert answer["type"] == "subscribed", answer
        return answer

    async def drain(self, quiet: float = 0.2) -> list[dict[str, Any]]:
        """Every frame received until none arrives for `quiet` seconds."""
        frames = []
        while not await self.nothing(quiet):
            frames.append(await self.recv())
        return frames

    async def event(self, timeout: float = 5) -> dict[str, Any]:
        frame = await self.recv(timeout)
        assert frame["type"] == "event", frame
        return frame

    async def events_until(self, event: str, action: str, timeout: float = 5) -> list[dict]:
        """Events received up to and including the first `event`/`action` one."""
        frames = []
        async with asyncio.timeout(timeout):
            while True:
                frames.append(await self.event(timeout))
                if (frames[-1]["event"], frames[-1]["action"]) == (event, action):
                    return frames

    async def answer(self, *types: str, timeout: float = 5) -> dict[str, Any]:
        """The next frame of one of `types`, skipping events."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                if frame["type"] in types:
                    return frame
                assert frame["type"] == "event", frame


def check_frame(frame: dict[str, Any]) -> None:
    model = events_server_frames().get(frame["type"]) or SERVER_FRAMES[frame["type"]]
    model.model_validate(frame)
    if frame["type"] != "event":
        return
    room_kind = parse_room(frame["room"]).kind
    declared = event_kind_get(event=frame["event"], action=frame["action"], room_kind=room_kind)
    if declared is not None:
        declared.payload.model_validate(frame["payload"])


async def open_events(user: Any = None, *, expect_auth: bool = True) -> EventsClient:
    communicator = WebsocketCommunicator(application, PATH, headers=ORIGIN)
    if user is not None:
        communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    client = EventsClient(communicator)
    if user is not None and expect_auth:
        frame = await client.recv()
        assert frame["type"] == "auth_success", frame
    return client


@pytest.fixture
async def events():
    """`await events(user)`: an events client, closed (with the runtime) after the test."""
    clients: list[EventsClient] = []

    async def make(user: Any = None, **kwargs: Any) -> EventsClient:
        client = await open_events(user, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        with contextlib.suppress(Exception):
            await client.close()
    await shutdown_runtime()


@pytest.fixture
def learner(make_user, course):
    learner = make_user("lea", first_name="Lea")
    Enrollment.objects.create(learner=learner, course=course)
    return learner


@pytest.fixture
def redis_realtime(settings):
    """Presence and sequence numbers in Redis (db 13), whatever the channel layer is."""
    import redis

    url = settings.REDIS_URL or REDIS_TEST_URL
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
    except Exception:
        pytest.skip(f"needs Redis at {url}")
    for key in client.scan_iter("lectern:*", count=1000):
        client.delete(key)
    client.close()
    settings.REDIS_URL = url
    return url
