"""`make run`'s defaults (no Redis): a worker's events reach the sockets of the web process.

The worker's in-memory channel layer reaches no socket, so the worker stores what it publishes
and the server sends it to its rooms (realtime/relay.py). A socket on a course room hears the
worker's `completed`, as it would with Redis.
"""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from tests.e2e.server import LiveServer, server_env, session_cookie
from tests.worker.process import WorkerProcess

SETUP = """
from courses.models import Course, Module
from django.contrib.auth import get_user_model
from lessons.models import Lesson
ida = get_user_model().objects.create_user("ida", "ida@example.com", "pw-ida-123")
course = Course.objects.create(owner=ida, title="Tides")
module = Module.objects.create(course=course, position=1, title="Basics")
lesson = Lesson.objects.create(course=course, module=module, position=1, title="What a tide is")
print(course.pk, lesson.pk, ida.pk)
"""

REQUEST = """
from django.contrib.auth import get_user_model
from jobs.services.requests import lesson_generate_request
user = get_user_model().objects.get(username="ida")
print(lesson_generate_request(user=user, lesson_id={lesson_id}, force=False).job.pk)
"""


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("relay-embedded")
    env = server_env(folder / "db.sqlite3", NOTIFICATIONS_POLL_SECONDS="0.5")
    live = LiveServer(env=env)
    live.manage("migrate", "--no-input", "-v0")
    live.ids = [int(n) for n in live.shell(SETUP).split()[-3:]]
    worker = WorkerProcess(env=env)
    worker.purge()
    worker.start()
    live.start()
    yield live
    live.stop()
    worker.stop()


async def test_a_workers_generation_events_reach_a_socket_without_redis(embedded):
    course_id, lesson_id, _ = embedded.ids
    cookie = await asyncio.to_thread(session_cookie, embedded, "ida", "pw-ida-123")
    async with connect(
        f"{embedded.ws_url}/ws/events/",
        additional_headers={"Cookie": cookie, "Origin": embedded.url},
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "auth_success"
        await ws.send(json.dumps({"type": "subscribe", "room": f"course:{course_id}"}))
        while json.loads(await ws.recv())["type"] != "subscribed":
            pass
        await asyncio.to_thread(embedded.shell, REQUEST.format(lesson_id=lesson_id))
        seen: list[str] = []
        async with asyncio.timeout(60):
            while "completed" not in seen:
                frame = json.loads(await ws.recv())
                if frame.get("type") == "event" and frame["event"] == "generation":
                    assert frame["payload"]["lesson_id"] == lesson_id
                    seen.append(frame["payload"]["generation_status"])
    # `generating` was published by the requesting process (here a shell; in service the web
    # process's API request, which sends it on its own layer); `completed` came from the worker.
    assert seen[-1] == "completed", seen
