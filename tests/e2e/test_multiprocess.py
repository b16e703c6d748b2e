"""Two real daphne processes sharing Redis and one database: resume and cancel across them.

The database is PostgreSQL when it is up, as several processes are deployed
(docs/deployment.md): on one SQLite file, a generation's end recorded while the other process
wrote its heartbeat failed now and then with "database is locked" (SQLite refuses, without
waiting, a read transaction that turns into a write while another holds the write lock), and
the test saw that `error` instead of `cancelled`. Without PostgreSQL, one SQLite file."""

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect

from tests.e2e.server import (
    LiveServer,
    create_user,
    fresh_postgres_database,
    server_env,
    session_cookie,
)
from tests.redis_server import needs_redis

REDIS_URL = "redis://127.0.0.1:6379/15"


pytestmark = needs_redis(REDIS_URL)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Processes A and B on one database and one Redis database, with a slow provider."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    db = tmp_path_factory.mktemp("pair") / "shared.sqlite3"
    postgres = fresh_postgres_database("lectern_e2e_pair")
    env = server_env(
        db,
        REDIS_URL=REDIS_URL,
        OFFLINE_CHUNK_DELAY_MS="40",
        OFFLINE_CHUNK_SIZE="16",
        WORKER_HEARTBEAT_SECONDS="1",
        **({"DATABASE_URL": postgres, "DATABASE_POOL": "true"} if postgres else {}),
    )
    a = LiveServer(env=env)
    a.manage("migrate", "--no-input", "-v0")
    create_user(a, "ana", "pw-ana-123")
    a.start()
    b = LiveServer(env=env).start()
    cookie = session_cookie(a, "ana", "pw-ana-123")
    yield a, b, cookie
    a.stop()
    b.stop()


async def _open(server: LiveServer, cookie: str):
    ws = await connect(
        f"{server.ws_url}/ws/ai/course-generation/",
        additional_headers={"Cookie": cookie, "Origin": server.url},
    )
    assert json.loads(await ws.recv())["type"] == "auth_success"
    return ws


async def _until(ws, *types, timeout=30):
    frames = []
    async with asyncio.timeout(timeout):
        while not frames or frames[-1]["type"] not in types:
            frames.append(json.loads(await ws.recv()))
    return frames


async def test_resume_on_another_process_replays_then_follows_live(pair):
    """A client that drops off A and resumes on B gets every frame after its last index."""
    a, b, cookie = pair
    ws_a = await _open(a, cookie)
    await ws_a.send(json.dumps({"type": "message", "content": "Java for kids"}))
    frames = await _until(ws_a, "streaming")
    frames += [json.loads(await ws_a.recv()) for _ in range(4)]
    seen = [f for f in frames if f["type"] == "streaming"]
    started = next(f for f in frames if f["type"] == "started")
    await ws_a.close()

    ws_b = await _open(b, cookie)
    await ws_b.send(
        json.dumps(
            {
                "type": "resume",
                "conversation_id": started["conversation_id"],
                "message_id": started["message_id"],
                "after_index": seen[-1]["index"],
                "request_id": "again",
            }
        )
    )
    rest = await _until(ws_b, "complete", "error")
    await ws_b.close()
    indexes = [f["index"] for f in rest if f["type"] == "streaming"]
    assert indexes == list(range(seen[-1]["index"] + 1, seen[-1]["index"] + 1 + len(indexes)))
    assert rest[-1]["type"] == "complete" and all(f["request_id"] == "again" for f in rest)
    text = "".join(f["chunk"] for f in seen) + "".join(
        f["chunk"] for f in rest if f["type"] == "streaming"
    )
    assert json.loads(text) == rest[-1]["data"]


async def test_cancel_sent_to_another_process_stops_the_generation(pair):
    """`cancel` on B stops a generation running on A, and B's client is told `cancelled`."""
    a, b, cookie = pair
    ws_a = await _open(a, cookie)
    await ws_a.send(json.dumps({"type": "message", "content": "Cancel me"}))
    started = next(f for f in await _until(ws_a, "started") if f["type"] == "started")
    ws_b = await _open(b, cookie)
    await ws_b.send(
        json.dumps(
            {"type": "cancel", "conversation_id": started["conversation_id"], "request_id": "c"}
        )
    )
    assert (await _until(ws_b, "cancelled", "error"))[-1]["type"] == "cancelled"
    assert (await _until(ws_a, "cancelled", "complete", "error"))[-1]["type"] == "cancelled"
    await ws_a.close()
    await ws_b.close()


async def test_a_killed_process_leaves_its_message_interrupted(pair, tmp_path):
    """When the process running a generation dies, the survivors mark its message interrupted."""
    a, b, cookie = pair
    c = LiveServer(env=a.env).start()
    ws_c = await _open(c, cookie)
    await ws_c.send(json.dumps({"type": "message", "content": "Doomed"}))
    started = next(f for f in await _until(ws_c, "started") if f["type"] == "started")
    c.stop(kill=True)
    ws_b = await _open(b, cookie)
    deadline = time.monotonic() + 90
    status = None
    while time.monotonic() < deadline:
        await ws_b.send(
            json.dumps({"type": "history", "conversation_id": started["conversation_id"]})
        )
        history = (await _until(ws_b, "history"))[-1]
        status = next(m["status"] for m in history["messages"] if m["id"] == started["message_id"])
        if status == "interrupted":
            break
        await asyncio.sleep(1)
    assert status == "interrupted"
    await ws_b.send(json.dumps({"type": "resume", "conversation_id": started["conversation_id"]}))
    final = (await _until(ws_b, "error", "complete"))[-1]
    assert final["type"] == "error" and final["retryable"] is True
    await ws_b.close()
