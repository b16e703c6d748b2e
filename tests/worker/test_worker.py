"""A real worker process runs real tasks: on the run's broker, and on the filesystem broker."""

import os
import re
import shutil

import pytest

from tests.worker.process import QUEUES, WorkerProcess, worker_env

pytestmark = pytest.mark.timeout(180)


def _send_ping(worker: WorkerProcess, queue: str) -> str:
    code = f"from ops.services import worker_ping_send; print(worker_ping_send(queue={queue!r}))"
    return worker.manage("shell", "-c", code).strip().splitlines()[-1]


def _answered_by(worker: WorkerProcess, token: str) -> str:
    code = (
        "from ops.services import worker_ping_wait;"
        f"a = worker_ping_wait(token={token!r}, timeout=60); print(a.hostname if a else '-')"
    )
    return worker.manage("shell", "-c", code, timeout=90).strip().splitlines()[-1]


def test_a_worker_answers_a_ping_on_each_queue(celery_worker):
    """The task crosses the broker to the worker process, which writes its row."""
    node = celery_worker.node.split("@")[0]
    for queue in QUEUES.split(","):
        out = celery_worker.manage("ping_worker", "--queue", queue, "--timeout", "60", timeout=90)
        assert re.match(rf"{node}@\S+ answered on {queue} in ", out), out
    transport = "redis://" if os.environ.get("REDIS_URL") else "filesystem://"
    assert f"transport:   {transport}" in celery_worker.log()


def test_the_filesystem_broker_keeps_a_message_until_a_worker_starts(tmp_path, migrated_sqlite):
    """Embedded mode: a job queued while no worker runs is done when one starts."""
    shutil.copy(migrated_sqlite, tmp_path / "db.sqlite3")
    worker = WorkerProcess(env=worker_env(tmp_path / "db.sqlite3", REDIS_URL=""))
    token = _send_ping(worker, "repo_analysis")
    assert list((tmp_path / "var" / "celery" / "queue").glob("*.repo_analysis.msg"))
    worker.start()
    try:
        assert _answered_by(worker, token).startswith(worker.node.split("@")[0])
    finally:
        assert worker.stop() == 0  # a warm shutdown exits cleanly


def test_two_workers_on_one_filesystem_broker_never_take_one_message_twice(
    tmp_path, migrated_sqlite
):
    """Each message is taken by renaming its file: two consumers cannot both win it."""
    shutil.copy(migrated_sqlite, tmp_path / "db.sqlite3")
    env = worker_env(tmp_path / "db.sqlite3", REDIS_URL="")
    first = WorkerProcess(env=env)
    second = WorkerProcess(env=env)
    first.start()
    second.start()
    code = (
        "import time; from ops.models import WorkerPing as P;"
        "from ops.services import worker_ping_send as s;"
        "[s(queue='ai_processing') for _ in range(40)]; end = time.monotonic() + 60\n"
        "while P.objects.count() < 40 and time.monotonic() < end: time.sleep(0.2)\n"
        "print(P.objects.count())"
    )
    try:
        assert first.manage("shell", "-c", code, timeout=120).split()[-1] == "40"
    finally:
        first.stop()
        second.stop()
    received = re.findall(r"Task ops\.tasks\.ping\[([0-9a-f-]+)\] received", first.log())
    received += re.findall(r"Task ops\.tasks\.ping\[([0-9a-f-]+)\] received", second.log())
    assert len(received) == 40 and len(set(received)) == 40
