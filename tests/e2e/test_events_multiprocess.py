"""`/ws/events/` across two real daphne processes sharing Redis and one SQLite file.

An event caused on one process reaches subscribers on the other; a management command (a third
process) reaches them too; sequence numbers are shared; and a viewer held by a process that is
killed leaves the room within a few heartbeats.
"""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from tests.e2e.server import LiveServer, create_user, server_env, session_cookie
from tests.redis_server import needs_redis

REDIS_URL = "redis://127.0.0.1:6379/14"
HEARTBEAT = 1  # PRESENCE_HEARTBEAT_SECONDS: a killed viewer leaves within about 4 s


pytestmark = needs_redis(REDIS_URL)

SETUP = """
from courses.models import Course
from learning.models import Enrollment
from lessons.models import Lesson
from django.contrib.auth import get_user_model
User = get_user_model()
ana, lea = User.objects.get(username="ana"), User.objects.get(username="lea")
lea.first_name = "Lea"; lea.save()
course = Course.objects.create(owner=ana, title="Java")
lesson = Lesson.objects.create(course=course, position=0, title="Loops")
Enrollment.objects.create(learner=lea, course=course)
print(course.pk, lesson.pk)
"""


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Processes A and B on one SQLite file and Redis db 14 (flushed), with a 1 s heartbeat."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    db = tmp_path_factory.mktemp("events") / "shared.sqlite3"
    env = server_env(db, REDIS_URL=REDIS_URL, PRESENCE_HEARTBEAT_SECONDS=str(HEARTBEAT))
    a = LiveServer(env=env)
    a.manage("migrate", "--no-input", "-v0")
    ids = {name: create_user(a, name, f"pw-{name}-123") for name in ("ana", "lea")}
    course_id, lesson_id = map(int, a.shell(SETUP).strip().splitlines()[-1].split())
    a.start()
    b = LiveServer(env=env).start()
    cookies = {name: session_cookie(a, name, f"pw-{name}-123") for name in ids}
    yield {"a": a, "b": b, "ids": ids, "cookies": cookies, "course": course_id, "lesson": lesson_id}
    a.stop()
    b.stop()


class Socket:
    """A client socket; frames skipped while waiting for one are kept for later waits."""

    def __init__(self, ws):
        self.ws = ws
        self.backlog: list[dict] = []

    async def send(self, **frame):
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = 10) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def until(self, predicate, timeout: float = 10) -> dict:
        for index, frame in enumerate(self.backlog):
            if predicate(frame):
                return self.backlog.pop(index)
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                if predicate(frame):
                    return frame
                self.backlog.append(frame)

    async def subscribe(self, room: str) -> dict:
        await self.send(type="subscribe", room=room)
        return await self.until(lambda f: f["type"] in ("subscribed", "error"))

    async def close(self):
        await self.ws.close()


async def _open(server: LiveServer, cookie: str) -> Socket:
    ws = await connect(
        f"{server.ws_url}/ws/events/", additional_headers={"Cookie": cookie, "Origin": server.url}
    )
    socket = Socket(ws)
    assert (await socket.recv())["type"] == "auth_success"
    return socket


def _is(event: str, action: str):
    return lambda f: f["type"] == "event" and (f["event"], f["action"]) == (event, action)


async def test_progress_sent_to_a_reaches_the_instructor_and_devices_on_b(pair):
    """A learner's `progress` on A arrives on B, for the instructor and the learner's phone."""
    ana_b = await _open(pair["b"], pair["cookies"]["ana"])
    lea_b = await _open(pair["b"], pair["cookies"]["lea"])
    lea_a = await _open(pair["a"], pair["cookies"]["lea"])
    assert (await ana_b.subscribe(f"instructor:{pair['ids']['ana']}"))["type"] == "subscribed"
    assert (await lea_b.subscribe(f"user:{pair['ids']['lea']}"))["type"] == "subscribed"
    await lea_a.send(type="progress", lesson_id=pair["lesson"], percent=55, position="p4")
    ack = await lea_a.until(lambda f: f["type"] in ("ack", "error"))
    assert ack["type"] == "ack", ack
    seen = await ana_b.until(_is("progress", "update"))
    assert (seen["payload"]["percent"], seen["payload"]["learner_name"]) == (55, "Lea")
    synced = await lea_b.until(_is("progress", "update"))
    assert synced["payload"]["position"] == "p4"
    for socket in (ana_b, lea_b, lea_a):
        await socket.close()


async def test_a_management_command_reaches_a_socket_on_a_server_process(pair):
    """`manage.py notify` in its own process is heard by the user's socket on B."""
    lea_b = await _open(pair["b"], pair["cookies"]["lea"])
    await lea_b.subscribe(f"user:{pair['ids']['lea']}")
    await asyncio.to_thread(
        pair["a"].manage, "notify", str(pair["ids"]["lea"]), "--title", "From cron"
    )
    frame = await lea_b.until(_is("notification", "create"))
    assert frame["payload"]["title"] == "From cron"
    await lea_b.close()


async def test_sequence_numbers_are_shared_by_both_processes(pair):
    """Events of one room caused on A and on B carry consecutive seqs, seen alike on both."""
    room = f"user:{pair['ids']['lea']}"
    lea_a = await _open(pair["a"], pair["cookies"]["lea"])
    lea_b = await _open(pair["b"], pair["cookies"]["lea"])
    start = (await lea_a.subscribe(room))["seq"]
    assert (await lea_b.subscribe(room))["seq"] == start
    for socket, percent in ((lea_a, 10), (lea_b, 20), (lea_a, 30)):
        await socket.send(type="progress", lesson_id=pair["lesson"], percent=percent)
        await socket.until(lambda f: f["type"] == "ack")
    for socket in (lea_a, lea_b):
        frames = [await socket.until(_is("progress", "update")) for _ in range(3)]
        assert [f["seq"] for f in frames] == [start + 1, start + 2, start + 3]
        await socket.close()


async def test_a_viewer_on_a_killed_process_leaves_the_room(pair):
    """Kill the process holding a viewer: `presence` `delete` reaches B within a few beats."""
    room = f"course:{pair['course']}"
    lea_id = pair["ids"]["lea"]
    c = LiveServer(env=pair["a"].env).start()
    try:
        ana_b = await _open(pair["b"], pair["cookies"]["ana"])
        await ana_b.subscribe(room)
        lea_c = await _open(c, pair["cookies"]["lea"])
        assert (await lea_c.subscribe(room))["type"] == "subscribed"
        await ana_b.until(
            lambda f: _is("presence", "create")(f) and f["payload"]["user_id"] == lea_id
        )
    finally:
        c.stop(kill=True)
    # Entries live three beats and a sweep runs every beat; the wait allows far more.
    left = await ana_b.until(_is("presence", "delete"), timeout=60)
    assert left["payload"] == {"user_id": lea_id, "display_name": "Lea"}
    snapshot = (await ana_b.subscribe(room))["snapshot"]
    assert [p["user_id"] for p in snapshot["presence"]] == [pair["ids"]["ana"]]
    await ana_b.close()
