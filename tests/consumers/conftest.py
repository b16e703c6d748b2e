"""Drive the consumers with `WebsocketCommunicator`, signed in through the session path."""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application

PATHS = {
    "course": "/ws/ai/course-generation/",
    "lesson": "/ws/ai/lesson-content/",
    "quiz": "/ws/ai/quiz-questions/",
    "assignment": "/ws/ai/assignment-questions/",
}


@pytest.fixture(autouse=True)
def fast_offline(settings):
    settings.AI_PROVIDER = "offline"
    settings.OFFLINE_CHUNK_DELAY_MS = 0
    settings.OFFLINE_CHUNK_SIZE = 200


class Client:
    """A WebSocket client of one endpoint, with helpers that read frames until a condition."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.ws = communicator

    async def send(self, **frame):
        await self.ws.send_json_to(frame)

    async def recv(self, timeout: float = 5):
        return await self.ws.receive_json_from(timeout=timeout)

    async def until(self, *types: str, timeout: float = 10) -> list[dict]:
        """Frames received up to and including the first one of `types`."""
        frames = []
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                frames.append(frame)
                if frame["type"] in types:
                    return frames

    async def close(self):
        await self.ws.disconnect()


async def open_client(kind: str, user=None, *, headers=None) -> Client:
    communicator = WebsocketCommunicator(
        application, PATHS[kind], headers=headers or [(b"origin", b"http://127.0.0.1")]
    )
    if user is not None:
        # The session path: AuthMiddlewareStack would put this user in the scope.
        communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    client = Client(communicator)
    if user is not None:
        frame = await client.recv()
        assert frame["type"] == "auth_success", frame
    return client


@pytest.fixture
def connect():
    clients = []

    async def make(kind: str = "course", user=None, **kwargs) -> Client:
        client = await open_client(kind, user, **kwargs)
        clients.append(client)
        return client

    yield make
