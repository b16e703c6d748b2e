"""A worker runs the web process's production start-up checks: a real `celery worker` started
with an unsafe production configuration refuses to start, with the same sentence."""

import subprocess
import sys

import pytest

from tests.e2e.server import ROOT, server_env
from tests.worker.process import WorkerProcess

pytestmark = pytest.mark.timeout(180)

UNSAFE = {"DEBUG": "false", "ALLOWED_HOSTS": "*", "SECRET_KEY": "change-me"}


def _web_refusal(env: dict[str, str]) -> str:
    """The sentence the web process (the ASGI application) refuses to start with."""
    result = subprocess.run(
        [sys.executable, "-c", "import config.asgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    return next(line for line in result.stderr.splitlines() if "Refusing to start" in line)


def test_a_worker_with_an_unsafe_production_configuration_refuses_to_start(tmp_path):
    env = server_env(tmp_path / "db.sqlite3", **UNSAFE)
    worker = WorkerProcess(env=env)
    with pytest.raises(RuntimeError, match="worker exited"):
        worker.start(timeout=120)
    assert worker.process is not None and worker.process.returncode == 1
    log = worker.log()
    assert " ready." not in log  # it never took a task
    sentence = _web_refusal(env).split("ImproperlyConfigured: ", 1)[-1]
    assert sentence.startswith("Refusing to start: ")
    assert "lectern.E001" in sentence and "lectern.E002" in sentence
    assert sentence in log


def test_the_same_worker_with_a_safe_configuration_starts(tmp_path):
    env = server_env(
        tmp_path / "db.sqlite3",
        DEBUG="false",
        ALLOWED_HOSTS="lectern.example",
        SECRET_KEY="a-real-secret-" + "x" * 40,
    )
    worker = WorkerProcess(env=env)
    WorkerProcess(env=env).manage("migrate", "--no-input", "-v0")
    worker.start(timeout=120)
    try:
        assert worker.process is not None and worker.process.poll() is None
    finally:
        assert worker.stop() == 0
