"""Redis restarting under a live server: generations go on and the service recovers."""

import asyncio
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.e2e.server import LiveServer, create_user, free_port, server_env, session_cookie

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


class PrivateRedis:
    """A redis-server of this test's own, on a free port, that the test may stop and start.

    With `persist_in` a folder, it keeps an append-only file there, fsynced on every write (as
    a production broker should: docs/deployment.md), and a restart reloads it; without, a
    restart starts empty.
    """

    def __init__(self, persist_in: Path | None = None) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.persist_in = persist_in

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = ["--appendonly", "no"]
        if self.persist_in is not None:
            persistence = ["--appendonly", "yes", "--appendfsync", "always",
                           "--dir", str(self.persist_in)]  # fmt: skip
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             *persistence],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


async def _generate(server: LiveServer, cookie: str) -> list[dict]:
    async with connect(
        f"{server.ws_url}/ws/ai/course-generation/",
        additional_headers={"Cookie": cookie, "Origin": server.url},
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "auth_success"
        await ws.send(json.dumps({"type": "message", "content": "Java"}))
        frames = []
        async with asyncio.timeout(60):
            while not frames or frames[-1]["type"] not in ("complete", "error"):
                frames.append(json.loads(await ws.recv()))
        return frames


async def test_service_recovers_after_redis_restarts(tmp_path):
    """A stream under way when Redis goes down still completes, and new ones work after."""
    private = PrivateRedis()
    private.start()
    env = server_env(tmp_path / "db.sqlite3", REDIS_URL=private.url, OFFLINE_CHUNK_DELAY_MS="30")
    server = LiveServer(env=env)
    server.manage("migrate", "--no-input", "-v0")
    create_user(server, "ana", "pw-ana-123")
    server.start()
    try:
        cookie = session_cookie(server, "ana", "pw-ana-123")
        assert (await _generate(server, cookie))[-1]["type"] == "complete"

        during = asyncio.ensure_future(_generate(server, cookie))
        await asyncio.sleep(0.5)
        private.stop()  # Redis gone mid-stream
        await asyncio.sleep(1.0)
        private.start()
        frames = await during
        assert frames[-1]["type"] == "complete", frames[-1]

        after = await _generate(server, cookie)
        assert after[-1]["type"] == "complete", after[-1]
    finally:
        server.stop()
        private.stop()
