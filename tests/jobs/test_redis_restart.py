"""Redis restarted while lesson jobs wait in it: a real Celery worker on a private redis-server
reconnects, and every job ends `succeeded`. None is lost.

With persistence (an append-only file, as production runs Redis) the queued messages come back
with Redis itself. Without it they are gone; the job sweep re-sends every job still `queued`
after `JOB_QUEUED_RESEND_SECONDS` (the job row, not the broker, is what a job is), so they all
run anyway, that much later.
"""

import re
import shutil
import time

import pytest

from tests.e2e.test_redis_restart import PrivateRedis
from tests.jobs.test_worker import REQUEST, SETUP, _jobs, migrated  # noqa: F401
from tests.worker.process import WorkerProcess, worker_env

pytestmark = [
    pytest.mark.redis,
    pytest.mark.timeout(400),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

LESSONS = 8


def _queued_in_redis(redis_url: str) -> int:
    import redis

    return int(redis.Redis.from_url(redis_url).llen("ai_processing"))


@pytest.mark.parametrize("persistent", [True, False], ids=["appendonly", "no-persistence"])
def test_jobs_queued_when_redis_restarts_all_succeed(tmp_path, migrated, persistent):  # noqa: F811
    private = PrivateRedis(persist_in=tmp_path if persistent else None)
    private.start()
    shutil.copy(migrated, tmp_path / "db.sqlite3")
    env = worker_env(
        tmp_path / "db.sqlite3",
        REDIS_URL=private.url,
        OFFLINE_CHUNK_DELAY_MS="60",  # about two seconds a lesson
        CELERY_WORKER_CONCURRENCY="2",  # most jobs wait in Redis, not in the worker
        MAX_CONCURRENT_GENERATIONS="10",
        JOB_SWEEP_SECONDS="1",
        # With persistence, nothing is re-sent while the test runs: Redis kept the messages.
        JOB_QUEUED_RESEND_SECONDS="3600" if persistent else "8",
    )
    worker = WorkerProcess(env=env)
    try:
        module_id = int(worker.manage("shell", "-c", SETUP.format(lessons=LESSONS)).split()[-1])
        worker.start()
        worker.manage("shell", "-c", REQUEST.format(module_id=module_id))
        deadline = time.monotonic() + 60
        while not any(j["status"] == "running" for j in _jobs(worker)):
            assert time.monotonic() < deadline, worker.log()[-3000:]
            time.sleep(0.2)
        waiting = _queued_in_redis(private.url)
        assert waiting >= 3, waiting  # jobs wait in Redis when it goes down

        private.stop()  # SIGKILL: a crash, not a clean shutdown
        time.sleep(2)
        private.start()
        after = _queued_in_redis(private.url)
        # Back from the append-only file; or gone with Redis (the worker kept what it held).
        assert after >= 1 if persistent else after == 0, after

        deadline = time.monotonic() + 240
        while True:
            jobs = _jobs(worker)
            if all(j["status"] == "succeeded" for j in jobs):
                break
            assert time.monotonic() < deadline, f"{jobs}\n{worker.log()[-4000:]}"
            time.sleep(0.5)
    finally:
        worker.stop()
        private.stop()
    assert len(jobs) == LESSONS
    assert [j["lesson"] for j in jobs] == ["completed"] * LESSONS
    resent = re.search(r"job sweep: .*'resent': [1-9]", worker.log())
    assert (resent is None) if persistent else (resent is not None)
