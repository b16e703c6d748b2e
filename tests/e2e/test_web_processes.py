"""The production web command with two processes behind one port (config/web.py): both serve
sockets, sharing Redis and the database: a generation started on one socket is resumed and
cancelled from sockets that may land on either process.

On PostgreSQL, as production: two processes writing one SQLite file at once fail each other's
read-then-write transactions ("database is locked"), which is why several processes are for
PostgreSQL (docs/deployment.md)."""

import asyncio
import json

import pytest

from tests.e2e.server import (
    POSTGRES,
    LiveServer,
    create_user,
    fresh_postgres_database,
    server_env,
    session_cookie,
)
from tests.e2e.test_multiprocess import _open, _until
from tests.redis_server import needs_redis

REDIS_URL = "redis://127.0.0.1:6379/6"

pytestmark = needs_redis(REDIS_URL)


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    import redis

    database_url = fresh_postgres_database("lectern_perf_web")
    if database_url is None:
        pytest.skip(f"needs PostgreSQL at {POSTGRES}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    db = tmp_path_factory.mktemp("web") / "unused.sqlite3"
    env = server_env(
        db,
        DATABASE_URL=database_url,
        DATABASE_POOL="true",
        REDIS_URL=REDIS_URL,
        WEB_CONCURRENCY="2",
        OFFLINE_CHUNK_DELAY_MS="20",
        OFFLINE_CHUNK_SIZE="16",
        MAX_CONNECTIONS_PER_USER="100",
        MAX_CONCURRENT_GENERATIONS="100",
        RATE_LIMIT_MESSAGES_PER_MINUTE="1000",
    )
    live = LiveServer(env=env, server="web")
    live.manage("migrate", "--no-input", "-v0")
    create_user(live, "ana", "pw-ana-123")
    live.start()
    cookie = session_cookie(live, "ana", "pw-ana-123")
    yield live, cookie
    live.stop()
    assert live.process is not None and live.process.returncode == 0, live.log()[-3000:]


def test_two_processes_serve_one_port(web):
    """30 sockets at once each complete a generation, and both processes ran some of them
    (every message names the process that ran it: `worker` is host:pid:id)."""
    live, cookie = web

    async def one(i: int) -> str:
        ws = await _open(live, cookie)
        await ws.send(json.dumps({"type": "message", "content": f"Course {i}"}))
        frames = await _until(ws, "complete", "error", timeout=60)
        await ws.close()
        return frames[-1]["type"] if frames[-1]["type"] == "complete" else str(frames[-1])

    async def all_of_them() -> list[str]:
        return await asyncio.gather(*(one(i) for i in range(30)))

    code = (
        "from ai_chat.models import AIMessage;"
        "print(sorted({w.split(':')[1] for w in AIMessage.objects.filter(role='assistant')"
        ".values_list('worker', flat=True)}))"
    )
    # The kernel hands each connection to whichever process accepts first; one still starting
    # (or busy) may get none of a round: up to three rounds for both to have served.
    for _ in range(3):
        assert asyncio.run(all_of_them()) == ["complete"] * 30
        pids = json.loads(live.shell(code).strip().splitlines()[-1].replace("'", '"'))
        if len(pids) == 2:
            break
    assert len(pids) == 2, pids


def test_resume_and_cancel_reach_a_generation_on_either_process(web):
    live, cookie = web

    async def scenario() -> None:
        starter = await _open(live, cookie)
        await starter.send(json.dumps({"type": "message", "content": "Resumable"}))
        frames = await _until(starter, "streaming")
        cid = next(f["conversation_id"] for f in frames if f["type"] == "started")
        await starter.close()  # the generation goes on where it runs
        for _ in range(4):  # new sockets land on either process
            ws = await _open(live, cookie)
            await ws.send(json.dumps({"type": "resume", "conversation_id": cid, "after_index": -1}))
            replayed = await _until(ws, "streaming")
            assert replayed[-1]["conversation_id"] == cid
            await ws.close()
        canceller = await _open(live, cookie)
        await canceller.send(json.dumps({"type": "cancel", "conversation_id": cid}))
        assert (await _until(canceller, "cancelled", "complete", "error"))[-1]["type"] in (
            "cancelled",
            "complete",  # it may finish first on a slow machine: then nothing is running
        )
        await canceller.close()

    asyncio.run(scenario())
